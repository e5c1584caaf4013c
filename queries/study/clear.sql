-- Remove the stored study named getvariable('study_name') (queries/study/name.sql) before it is
-- written again, inside the same transaction; other studies stay.
CREATE OR REPLACE TEMP TABLE study_replaced AS
    SELECT study_id FROM study_settings_all WHERE name = getvariable('study_name');
DELETE FROM study_events_all WHERE study_id IN (SELECT study_id FROM study_replaced);
DELETE FROM study_estimates_all WHERE study_id IN (SELECT study_id FROM study_replaced);
DELETE FROM study_abnormal_returns_all WHERE study_id IN (SELECT study_id FROM study_replaced);
DELETE FROM study_cars_all WHERE study_id IN (SELECT study_id FROM study_replaced);
DELETE FROM study_rank_days_all WHERE study_id IN (SELECT study_id FROM study_replaced);
DELETE FROM study_aar_all WHERE study_id IN (SELECT study_id FROM study_replaced);
DELETE FROM study_caar_all WHERE study_id IN (SELECT study_id FROM study_replaced);
DELETE FROM study_settings_all WHERE study_id IN (SELECT study_id FROM study_replaced);
