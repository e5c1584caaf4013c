-- Merge the staged rows into the stored rows of the same (ticker, date): a value given replaces
-- the stored one, a null (a column the file lacks, an empty cell) keeps it. Without adj_close, a
-- changed close moves adj_close by the same factor, so the row keeps its dividend adjustment.
-- Rows whose values do not change are left alone. `staged_prices` is a view that
-- tagger/prices.py registers for the duration of one write. Returns the ticker of each row changed.
UPDATE prices SET
    open = merged.open, high = merged.high, low = merged.low, close = merged.close,
    adj_close = merged.adj_close, volume = merged.volume,
    source = $source, fetched_at = current_timestamp
FROM (
    SELECT
        p.ticker,
        p.date,
        coalesce(s.open, p.open) AS open,
        coalesce(s.high, p.high) AS high,
        coalesce(s.low, p.low) AS low,
        coalesce(s.close, p.close) AS close,
        coalesce(
            s.adj_close,
            CASE WHEN s.close IS DISTINCT FROM p.close THEN p.adj_close * s.close / p.close END,
            p.adj_close
        ) AS adj_close,
        coalesce(s.volume, p.volume) AS volume
    FROM staged_prices AS s
    JOIN prices AS p USING (ticker, date)
) AS merged
WHERE prices.ticker = merged.ticker AND prices.date = merged.date
  AND (prices.open, prices.high, prices.low, prices.close, prices.adj_close, prices.volume)
      IS DISTINCT FROM
      (merged.open, merged.high, merged.low, merged.close, merged.adj_close, merged.volume)
RETURNING prices.ticker;
