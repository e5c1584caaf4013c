-- The recorded ranges of $tickers that overlap $start..$end (inclusive dates).
SELECT ticker, start_date, end_date
FROM price_coverage
WHERE ticker IN (SELECT unnest($tickers)) AND start_date <= $end AND end_date >= $start
ORDER BY ticker, start_date;
