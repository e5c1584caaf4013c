-- The abnormal-return path of one event (days -5..+5 and any wider window of the study), with
-- the CAR from the first day and its standard deviation, for a chart with a confidence band.
-- $event_id: the event; $study (optional): a study name or id, the latest when not given.
-- car_sd: sqrt of sigma^2 (L2 + c L2^2 / L1 + s dm^2 / S_mm) over the L2 days summed so far, dm
-- their market returns' deviations from the estimation mean (docs/conventions.md; c = 0 for
-- market_adjusted, s = 1 only for market). car_low/car_high: CAR -/+ 1.96 standard deviations.
-- Example: tagger query car_path --param event_id=AAPL@2024-05-03
WITH event AS (
    SELECT e.event_key, e.event_id, e.ticker, e.currency, e.event_date,
           x.sigma, x.estimation_days, x.market_mean, x.market_ssd,
           CASE WHEN s.model = 'market_adjusted' THEN 0 ELSE 1 END AS fec_const,
           CASE WHEN s.model = 'market' THEN 1 ELSE 0 END AS fec_slope
    FROM study_events_all AS e
    JOIN study_estimates_all AS x USING (event_key)
    JOIN study_settings_all AS s ON s.study_id = e.study_id
    WHERE e.event_id = $event_id AND e.study_id = study_id_of($study)
),
cumulated AS (
    SELECT e.*, a.day, a.ret, a.market_return, a.benchmark_return, a.ar,
        count(a.ar) OVER path AS days,
        sum(a.ar) OVER path AS car,
        sum(CASE WHEN a.ar IS NOT NULL THEN a.market_return - e.market_mean END) OVER path AS dm
    FROM study_abnormal_returns_all AS a
    JOIN event AS e USING (event_key)
    WINDOW path AS (ORDER BY a.day ROWS UNBOUNDED PRECEDING)
),
with_sd AS (
    SELECT *, CASE WHEN days > 0 THEN sqrt(sigma ^ 2 * (
        days + fec_const * days ^ 2 / estimation_days + fec_slope * dm ^ 2 / market_ssd)) END
        AS car_sd
    FROM cumulated
)
SELECT
    event_id, ticker, currency, event_date, day,
    ret, market_return, benchmark_return, ar,
    CASE WHEN days > 0 THEN car END AS car, car_sd,
    car - 1.96 * car_sd AS car_low,
    car + 1.96 * car_sd AS car_high
FROM with_sd
ORDER BY day;
