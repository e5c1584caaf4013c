-- The stored CAR, t and p of each of $event_ids (a list) in each event window of the study.
SELECT e.event_id, c.window_start, c.window_end, c.car, c.t, c.p
FROM study_cars AS c
JOIN study_events AS e USING (event_key)
WHERE e.event_id IN (SELECT unnest($event_ids))
ORDER BY e.event_id, c.window_start, c.window_end
