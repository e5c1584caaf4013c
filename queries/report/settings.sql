-- The settings of the stored study (no row when no study has been run).
SELECT * FROM study_settings
