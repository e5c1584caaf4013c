-- The stored CAAR per event window over all in-sample events (relevance bucket "all").
SELECT 'all' AS relevance, * FROM study_caar ORDER BY window_start, window_end
