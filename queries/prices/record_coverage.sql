-- Record the date ranges a source answered for. `staged_coverage` (ticker, start_date, end_date,
-- rows, reason) is a view that tagger/prices.py registers for the duration of one write.
INSERT INTO price_coverage BY NAME
SELECT ticker, start_date, end_date, $source AS source, rows, reason,
       current_timestamp AS recorded_at
FROM staged_coverage
ON CONFLICT (ticker, start_date, end_date, source) DO UPDATE SET
    rows = excluded.rows, reason = excluded.reason, recorded_at = excluded.recorded_at;
