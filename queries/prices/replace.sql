-- Write the staged rows, replacing stored rows for the same (ticker, date) when any value differs
-- (an imported file is the user's explicit choice). `staged_prices` is a view that
-- tagger/prices.py registers for the duration of one write. Returns the ticker of each row
-- added or changed.
INSERT INTO prices BY NAME
SELECT ticker, date, open, high, low, close, adj_close, volume,
       $source AS source, current_timestamp AS fetched_at
FROM staged_prices
ON CONFLICT (ticker, date) DO UPDATE SET
    open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
    adj_close = excluded.adj_close, volume = excluded.volume,
    source = excluded.source, fetched_at = excluded.fetched_at
WHERE (prices.open, prices.high, prices.low, prices.close, prices.adj_close, prices.volume)
      IS DISTINCT FROM
      (excluded.open, excluded.high, excluded.low, excluded.close, excluded.adj_close,
       excluded.volume)
RETURNING ticker;
