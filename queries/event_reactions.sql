-- One row per event of a stored study: day 0 and how it was found (on the listing's own
-- calendar), the model estimates, the day-0 reaction (stock, market and second-benchmark
-- returns, abnormal return and volume), the CAR, t and p for $window, the flags and the note.
-- $study (optional): a study name or id (`tagger query studies`); the latest when not given.
-- Example: tagger query event_reactions --param window=0:1 --csv reactions.csv
SELECT
    r.event_id, r.ticker, r.company, r.status, r.published_at, r.published_date,
    r.calendar, r.currency, r.event_date, r.rule, r.market, r.benchmark,
    r.alpha, r.beta, r.sigma, r.estimation_days,
    r.return_0, r.market_return_0, r.benchmark_return_0, r.ar_0, r.abnormal_volume_0,
    c.event_window, c.car, c.car_sd, c.t, c.p,
    r.in_sample, r.flags, r.note
FROM study_results_of($study) AS r
LEFT JOIN study_event_cars_of($study) AS c ON c.event_id = r.event_id AND c.event_window = $window
ORDER BY r.event_date, r.ticker, r.event_id;
