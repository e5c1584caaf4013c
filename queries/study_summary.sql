-- The stored study at a glance: its settings, how many events were measured and flagged, and the
-- CAAR of each window with its main tests (p-values as computed by `tagger study`).
-- Example: tagger query study_summary
SELECT
    s.model, s.returns, s.estimation_start || ':' || s.estimation_end AS estimation,
    s.market, s.events,
    (SELECT count(*) FROM study_estimates WHERE in_sample) AS in_sample,
    (SELECT count_if(no_prices) FROM study_events) AS no_prices,
    (SELECT count_if(short_estimation) FROM study_events) AS short_estimation,
    (SELECT count_if(confounded) FROM study_events) AS confounded,
    c.event_window, c.n, c.caar, c.t_csect, c.p_csect, c.bmp_t, c.p_bmp, c.kp_t, c.p_kp,
    c.rank_z, c.p_rank
FROM study_settings AS s
CROSS JOIN study_caar AS c
ORDER BY c.window_start, c.window_end;
