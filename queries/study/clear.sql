-- Empty the stored study before a new one is written (inside the same transaction).
DELETE FROM study_settings;
DELETE FROM study_events;
DELETE FROM study_estimates;
DELETE FROM study_abnormal_returns;
DELETE FROM study_cars;
DELETE FROM study_rank_days;
DELETE FROM study_aar;
DELETE FROM study_caar;
