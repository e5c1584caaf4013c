-- The CAAR path over days -5..+5 across the in-sample events of the stored study, for all events
-- (bucket 'all') and by relevance bucket of the event's company ($buckets: a list of
-- {bucket, low, high}, as in report/caar_by_relevance.sql), with a cross-sectional 95% band.
-- Each event's CAR is cumulated from day -5 (as in report/car_paths.sql); per day:
-- n events with a CAR, caar = their mean, sd = their sample standard deviation, and
-- caar_low/caar_high = caar -/+ 1.96 sd / sqrt(n) (NULL for fewer than 2 events).
WITH sample AS (
    SELECT e.event_key, b.bucket
    FROM study_events AS e
    JOIN study_estimates AS x USING (event_key)
    LEFT JOIN entities AS n ON e.article_id = n.article_id AND e.entity_idx = n.entity_idx
    LEFT JOIN (SELECT unnest($buckets, recursive := true)) AS b
        ON n.relevance BETWEEN b.low AND b.high
    WHERE x.in_sample
),
paths AS (
    SELECT
        s.bucket, a.day,
        CASE WHEN count(a.ar) OVER path > 0 THEN sum(a.ar) OVER path END AS car
    FROM study_abnormal_returns AS a
    JOIN sample AS s USING (event_key)
    WHERE a.day BETWEEN -5 AND 5
    WINDOW path AS (PARTITION BY a.event_key ORDER BY a.day ROWS UNBOUNDED PRECEDING)
),
by_day AS (
    SELECT coalesce(bucket, 'all') AS bucket, day, count(car) AS n, avg(car) AS caar,
           stddev_samp(car) AS sd
    FROM paths
    GROUP BY GROUPING SETS ((day), (bucket, day))
    HAVING grouping(bucket) = 1 OR bucket IS NOT NULL
)
SELECT
    bucket, day, n::INTEGER AS n, caar, sd,
    caar - 1.96 * sd / sqrt(n) AS caar_low,
    caar + 1.96 * sd / sqrt(n) AS caar_high
FROM by_day
ORDER BY bucket = 'all' DESC, bucket DESC, day
