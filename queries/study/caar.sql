-- Cumulative average abnormal return (CAAR) per event window over the in-sample events of study
-- $study_id, with the tests of docs/conventions.md; each event's CAR is standardised by its own
-- forecast-error variance (scar). The rank test sums the day ranks over the window (Cowan 1992).
-- Events of every calendar are pooled by relative day. Reads the stored study tables;
-- tagger.study adds the p-values.
WITH sample AS (
    SELECT c.window_start || ':' || c.window_end AS event_window, c.window_start, c.window_end, c.car,
           c.car / sqrt(c.car_var) AS scar, x.df, x.positive_share
    FROM study_cars_all AS c
    JOIN study_estimates_all AS x USING (event_key)
    WHERE c.study_id = $study_id AND x.in_sample AND c.car IS NOT NULL AND c.car_var > 0
),
by_window AS (
    SELECT
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
    GROUP BY event_window, window_start, window_end
),
rank_days AS (
    SELECT * FROM study_rank_days_all WHERE study_id = $study_id
),
rank_scale AS (
    SELECT sqrt(avg(mean_centred_rank ^ 2)) AS s_u FROM rank_days
),
rank_window AS (
    SELECT w.event_window,
           sum(r.mean_centred_rank) / sqrt(count(r.mean_centred_rank)) AS rank_sum
    FROM by_window AS w
    JOIN rank_days AS r ON r.day BETWEEN w.window_start AND w.window_end
    GROUP BY w.event_window
),
bmp AS (
    SELECT w.*, w.mean_scar / (w.sd_scar / sqrt(w.n)) AS bmp_t,
           (1 - k.kp_mean_correlation) / (1 + (w.n - 1) * k.kp_mean_correlation) AS kp_factor
    FROM by_window AS w, study_settings_all AS k
    WHERE k.study_id = $study_id
)
SELECT
    b.event_window,
    b.window_start,
    b.window_end,
    b.n,
    b.caar,
    b.caar / (b.sd_car / sqrt(b.n)) AS t_csect,
    b.sum_scar / sqrt(b.patell_var) AS patell_z,
    b.bmp_t,
    CASE WHEN b.kp_factor > 0 THEN b.bmp_t * sqrt(b.kp_factor) END AS kp_t,
    (b.positive - 0.5 * b.n) / sqrt(0.25 * b.n) AS sign_z,
    (b.positive - b.n * b.p_hat) / sqrt(b.n * b.p_hat * (1 - b.p_hat)) AS gsign_z,
    r.rank_sum / s.s_u AS rank_z
FROM bmp AS b
CROSS JOIN rank_scale AS s
LEFT JOIN rank_window AS r USING (event_window)
ORDER BY b.window_start, b.window_end;
