-- Cumulative abnormal returns of a stored study, by ticker, for one event window.
-- $window: an event window of the study, e.g. -1:1 (see study_settings.windows).
-- $study (optional): a study name or id (`tagger query studies`); the latest when not given.
-- Only events counted in the cross-sectional tests (in_sample) are averaged; CARs are in the
-- listing's currency's returns (fractions), so tickers of any venue compare.
-- Example: tagger query car_by_ticker --param window=-1:1 --param study=earnings --csv out.csv
SELECT
    ticker,
    any_value(currency) AS currency,
    count(*) AS events,
    avg(car) AS mean_car,
    median(car) AS median_car,
    avg((car > 0)::INTEGER) AS share_positive,
    avg(t) AS mean_t,
    count_if(p < 0.05) AS significant_5pct,
    min(event_date) AS first_event,
    max(event_date) AS last_event
FROM study_event_cars_of($study)
WHERE event_window = $window AND in_sample AND car IS NOT NULL
GROUP BY ticker
ORDER BY events DESC, ticker;
