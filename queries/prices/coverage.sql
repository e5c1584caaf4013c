-- The recorded ranges of $tickers that overlap $start..$end (inclusive dates). rows = 0: the
-- source answered without prices, or did not answer (reason says why, recorded_at when).
SELECT ticker, start_date, end_date, rows, reason, recorded_at
FROM price_coverage
WHERE ticker IN (SELECT unnest($tickers)) AND start_date <= $end AND end_date >= $start
ORDER BY ticker, start_date, recorded_at;
