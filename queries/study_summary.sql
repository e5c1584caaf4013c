-- A stored study at a glance: its settings, how many events were measured and flagged, and the
-- CAAR of each window with its main tests (p-values as computed by `tagger study`).
-- $study (optional): a study name or id (`tagger query studies`); the latest when not given.
-- Example: tagger query study_summary --param study=earnings
WITH chosen AS (
    SELECT * FROM study_settings_all WHERE study_id = study_id_of($study)
),
counts AS (
    SELECT
        count_if(no_prices)::INTEGER AS no_prices,
        count_if(no_calendar OR outside_calendar)::INTEGER AS no_day_0,
        count_if(short_estimation)::INTEGER AS short_estimation,
        count_if(price_jump)::INTEGER AS price_jump,
        count_if(confounded)::INTEGER AS confounded
    FROM study_events_all
    WHERE study_id = (SELECT study_id FROM chosen)
)
SELECT
    s.study_id, s.name, s.run_at, s.model, s.returns,
    s.estimation_start || ':' || s.estimation_end AS estimation,
    coalesce(s.market, 'local index') AS market, s.events,
    (SELECT count(*) FROM study_estimates_all AS x
     WHERE x.study_id = s.study_id AND x.in_sample) AS in_sample,
    n.*,
    c.event_window, c.n, c.caar, c.t_csect, c.p_csect, c.bmp_t, c.p_bmp, c.kp_t, c.p_kp,
    c.rank_z, c.p_rank
FROM chosen AS s
CROSS JOIN counts AS n
JOIN study_caar_all AS c USING (study_id)
ORDER BY c.window_start, c.window_end;
