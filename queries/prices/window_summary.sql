-- Per ticker of $tickers: how many price rows fall in $start..$end, and which sources gave prices
-- for ranges overlapping it.
SELECT
    t.ticker,
    (SELECT count(*) FROM prices p
      WHERE p.ticker = t.ticker AND p.date BETWEEN $start AND $end) AS rows,
    (SELECT string_agg(DISTINCT c.source, ', ' ORDER BY c.source) FROM price_coverage c
      WHERE c.ticker = t.ticker AND c.rows > 0 AND c.start_date <= $end AND c.end_date >= $start)
      AS sources
FROM (SELECT unnest($tickers) AS ticker) AS t;
