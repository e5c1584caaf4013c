-- The stored studies, the latest first: id, name, when, settings and how many events.
-- Any query that takes --param study=... accepts a name or an id from here.
-- Example: tagger query studies
SELECT
    study_id, name, run_at, model, returns,
    estimation_start || ':' || estimation_end AS estimation, min_estimation_days, windows,
    coalesce(market, 'local index') AS market, benchmark, events,
    (SELECT count(*) FROM study_estimates_all AS x
     WHERE x.study_id = s.study_id AND x.in_sample) AS in_sample
FROM study_settings_all AS s
ORDER BY study_id DESC;
