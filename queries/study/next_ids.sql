-- The id of the study about to be stored (one above the highest) and its first event_key (event
-- keys are unique across studies, so a join on event_key alone never mixes studies).
SELECT
    (SELECT coalesce(max(study_id), 0) + 1 FROM study_settings_all) AS study_id,
    (SELECT coalesce(max(event_key), -1) + 1 FROM study_events_all) AS first_event_key;
