-- Cumulative abnormal returns of the stored study, by ticker, for one event window.
-- $window: an event window of the study, e.g. -1:1 (see study_settings.windows).
-- Only events counted in the cross-sectional tests (in_sample) are averaged.
-- Example: tagger query car_by_ticker --param window=-1:1 --csv out.csv
SELECT
    ticker,
    count(*) AS events,
    avg(car) AS mean_car,
    median(car) AS median_car,
    avg((car > 0)::INTEGER) AS share_positive,
    avg(t) AS mean_t,
    count_if(p < 0.05) AS significant_5pct,
    min(event_date) AS first_event,
    max(event_date) AS last_event
FROM study_event_cars
WHERE event_window = $window AND in_sample AND car IS NOT NULL
GROUP BY ticker
ORDER BY events DESC, ticker;
