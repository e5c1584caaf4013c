-- The name of the study being stored, for queries/study/clear.sql (a connection variable).
SET VARIABLE study_name = $study_name;
