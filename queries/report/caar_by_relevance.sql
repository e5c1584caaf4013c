-- CAAR per event window by relevance bucket of the event's company ($buckets: a list of
-- {bucket, low, high}, relevance low..high; tagger.report.tables.RELEVANCE_BUCKETS), over the
-- in-sample events of the stored study that come from tagged articles
-- (study_events.article_id and entity_idx), with the tests of queries/study/caar.sql that need only
-- each event's own numbers: cross-sectional t, Patell Z, BMP t, sign Z and generalized sign Z.
-- kp_t and rank_z are NULL: the Kolari-Pynnonen correlation and the day ranks are stored for the
-- whole sample only (study_settings.kp_mean_correlation, study_rank_days), not per bucket.
-- tagger.report adds the p-values, as tagger.study does for study_caar.
WITH sample AS (
    SELECT
        b.bucket AS relevance,
        c.window_start || ':' || c.window_end AS event_window, c.window_start, c.window_end,
        c.car, c.car / sqrt(c.car_var) AS scar, x.df, x.positive_share
    FROM study_cars AS c
    JOIN study_estimates AS x USING (event_key)
    JOIN study_events AS e USING (event_key)
    JOIN entities AS n ON e.article_id = n.article_id AND e.entity_idx = n.entity_idx
    JOIN (SELECT unnest($buckets, recursive := true)) AS b ON n.relevance BETWEEN b.low AND b.high
    WHERE x.in_sample AND c.car IS NOT NULL AND c.car_var > 0
),
by_bucket AS (
    SELECT
        relevance,
        event_window,
        window_start,
        window_end,
        count(*) AS n,
        avg(car) AS caar,
        stddev_samp(car) AS sd_car,
        sum(scar) AS sum_scar,
        avg(scar) AS mean_scar,
        stddev_samp(scar) AS sd_scar,
        sum(df / (df - 2)) AS patell_var,
        count_if(car > 0) AS positive,
        avg(positive_share) AS p_hat
    FROM sample
    GROUP BY relevance, event_window, window_start, window_end
)
SELECT
    relevance,
    event_window,
    window_start,
    window_end,
    n::INTEGER AS n,
    caar,
    caar / (sd_car / sqrt(n)) AS t_csect,
    sum_scar / sqrt(patell_var) AS patell_z,
    mean_scar / (sd_scar / sqrt(n)) AS bmp_t,
    NULL::DOUBLE AS kp_t,
    (positive - 0.5 * n) / sqrt(0.25 * n) AS sign_z,
    (positive - n * p_hat) / sqrt(n * p_hat * (1 - p_hat)) AS gsign_z,
    NULL::DOUBLE AS rank_z
FROM by_bucket
ORDER BY relevance, window_start, window_end
