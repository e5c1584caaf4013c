-- The CAR path of each of $event_ids (a list) over days -5..+5 for the story charts: cumulated
-- from day -5 (0 before it) whatever the first day of the stored span, with its standard deviation
-- by the variance formula of docs/conventions.md (MacKinlay 1997) over the days summed so far:
-- sigma^2 (L2 + c L2^2 / L1 + s dm^2 / S_mm), c = 0 for market_adjusted, s = 1 only for market.
-- car_low/car_high: CAR -/+ 1.96 standard deviations (a 95% band under normality).
WITH events AS (
    SELECT e.event_key, e.event_id, e.ticker, e.company, e.status, e.event_date,
           x.sigma, x.estimation_days, x.market_mean, x.market_ssd,
           CASE WHEN s.model = 'market_adjusted' THEN 0 ELSE 1 END AS fec_const,
           CASE WHEN s.model = 'market' THEN 1 ELSE 0 END AS fec_slope
    FROM study_events AS e
    JOIN study_estimates AS x USING (event_key)
    CROSS JOIN study_settings AS s
    WHERE e.event_id IN (SELECT unnest($event_ids))
),
cumulated AS (
    SELECT
        e.*, a.day, a.ar,
        count(a.ar) OVER path AS days,
        sum(a.ar) OVER path AS car,
        sum(CASE WHEN a.ar IS NOT NULL THEN a.market_return - e.market_mean END) OVER path AS dm
    FROM study_abnormal_returns AS a
    JOIN events AS e USING (event_key)
    WHERE a.day BETWEEN -5 AND 5
    WINDOW path AS (PARTITION BY a.event_key ORDER BY a.day ROWS UNBOUNDED PRECEDING)
),
with_variance AS (
    SELECT *,
        CASE WHEN days > 0 THEN sigma ^ 2 * (
            days + fec_const * days ^ 2 / estimation_days + fec_slope * dm ^ 2 / market_ssd
        ) END AS car_var
    FROM cumulated
)
SELECT
    event_id, ticker, company, status, event_date, day, ar,
    CASE WHEN days > 0 THEN car END AS car,
    car_var,
    sqrt(car_var) AS car_sd,
    car - 1.96 * sqrt(car_var) AS car_low,
    car + 1.96 * sqrt(car_var) AS car_high
FROM with_variance
ORDER BY event_id, day
