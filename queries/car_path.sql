-- The abnormal-return path of one event (days -5..+5 and any wider window of the study), with
-- the CAR from the first day and its standard deviation, for a chart with a confidence band.
-- car_low/car_high: CAR -/+ 1.96 standard deviations (a 95% band under normality).
-- Example: tagger query car_path --param event_id=AAPL@2024-05-03
SELECT
    e.event_id, e.ticker, e.event_date, a.day,
    a.ret, a.market_return, a.benchmark_return, a.ar,
    a.car, sqrt(a.car_var) AS car_sd,
    a.car - 1.96 * sqrt(a.car_var) AS car_low,
    a.car + 1.96 * sqrt(a.car_var) AS car_high
FROM study_abnormal_returns AS a
JOIN study_events AS e USING (event_key)
WHERE e.event_id = $event_id
ORDER BY a.day;
