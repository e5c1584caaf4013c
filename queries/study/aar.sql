-- Average abnormal return (AAR) per relative day over the in-sample events of study
-- $study_id, with the tests of docs/conventions.md: cross-sectional t, Patell Z, BMP t,
-- Kolari-Pynnonen adjusted BMP t, sign Z, generalized sign Z (Cowan) and rank Z (Corrado).
-- Events of every calendar are pooled by relative day. Reads the stored study tables, so it runs
-- as is in the DuckDB shell; tagger.study adds the p-values (DuckDB has no t or normal CDF).
-- The variance of an AR: sigma^2 (1 + c / L1 + s (m_t - mean m)^2 / S_mm), c = 0 for
-- market_adjusted, s = 1 only for market (the forecast-error correction, MacKinlay 1997).
-- (Squares are written as products: DuckDB's ^ is pow(), several times slower.)
WITH model AS (
    SELECT CASE WHEN model = 'market_adjusted' THEN 0 ELSE 1 END AS fec_const,
           CASE WHEN model = 'market' THEN 1 ELSE 0 END AS fec_slope
    FROM study_settings_all
    WHERE study_id = $study_id
),
sample AS (
    SELECT a.day, a.ar, x.df, x.positive_share,
           a.ar / sqrt(x.sigma * x.sigma * (1 + m.fec_const / x.estimation_days
               + m.fec_slope * (a.market_return - x.market_mean)
                   * (a.market_return - x.market_mean) / x.market_ssd)) AS sar
    FROM study_abnormal_returns_all AS a
    JOIN study_estimates_all AS x USING (event_key)
    CROSS JOIN model AS m
    WHERE a.study_id = $study_id AND x.in_sample AND a.ar IS NOT NULL
),
by_day AS (
    SELECT
        day,
        count(*) AS n,
        avg(ar) AS aar,
        stddev_samp(ar) AS sd_ar,
        sum(sar) AS sum_sar,
        avg(sar) AS mean_sar,
        stddev_samp(sar) AS sd_sar,
        sum(df / (df - 2)) AS patell_var,
        count_if(ar > 0) AS positive,
        avg(positive_share) AS p_hat
    FROM sample
    GROUP BY day
),
rank_days AS (
    SELECT * FROM study_rank_days_all WHERE study_id = $study_id
),
rank_scale AS (
    SELECT sqrt(avg(mean_centred_rank ^ 2)) AS s_u FROM rank_days
),
bmp AS (
    SELECT d.*, d.mean_sar / (d.sd_sar / sqrt(d.n)) AS bmp_t,
           (1 - k.kp_mean_correlation) / (1 + (d.n - 1) * k.kp_mean_correlation) AS kp_factor
    FROM by_day AS d, study_settings_all AS k
    WHERE k.study_id = $study_id
)
SELECT
    b.day,
    b.n,
    b.aar,
    b.aar / (b.sd_ar / sqrt(b.n)) AS t_csect,
    b.sum_sar / sqrt(b.patell_var) AS patell_z,
    b.bmp_t,
    CASE WHEN b.kp_factor > 0 THEN b.bmp_t * sqrt(b.kp_factor) END AS kp_t,
    (b.positive - 0.5 * b.n) / sqrt(0.25 * b.n) AS sign_z,
    (b.positive - b.n * b.p_hat) / sqrt(b.n * b.p_hat * (1 - b.p_hat)) AS gsign_z,
    r.mean_centred_rank / s.s_u AS rank_z
FROM bmp AS b
CROSS JOIN rank_scale AS s
LEFT JOIN rank_days AS r USING (day)
ORDER BY b.day;
