-- Per ticker of $tickers: how many price rows fall in $start..$end, which sources answered for
-- that window, and the latest reason a source gave for having no prices in it.
SELECT
    t.ticker,
    (SELECT count(*) FROM prices p
      WHERE p.ticker = t.ticker AND p.date BETWEEN $start AND $end) AS rows,
    (SELECT string_agg(DISTINCT c.source, ', ') FROM price_coverage c
      WHERE c.ticker = t.ticker AND c.start_date <= $end AND c.end_date >= $start) AS sources,
    (SELECT c.reason FROM price_coverage c
      WHERE c.ticker = t.ticker AND c.rows = 0 AND c.start_date <= $end AND c.end_date >= $start
      ORDER BY c.recorded_at DESC LIMIT 1) AS reason
FROM (SELECT unnest($tickers) AS ticker) AS t;
