-- Add the staged rows whose (ticker, date) is not in the store yet; rows already there are kept
-- (the cache comes first). A row without adj_close gets adj_close = close (an imported file of
-- closes only). `staged_prices` is a view that tagger/prices.py registers for the duration of
-- one write. Returns the ticker of each row added.
INSERT INTO prices BY NAME
SELECT ticker, date, open, high, low, close, coalesce(adj_close, close) AS adj_close, volume,
       $source AS source, current_timestamp AS fetched_at
FROM staged_prices
ON CONFLICT DO NOTHING
RETURNING ticker;
