-- The stories to report in the order of the index: newest first (by publication time, a date-only
-- story at midnight UTC of its date), undated stories last, then by id.
-- $article_ids: a list of article ids, or NULL for every article in the store.
SELECT article_id AS story_id
FROM articles
WHERE $article_ids IS NULL OR article_id IN (SELECT unnest($article_ids))
ORDER BY
    coalesce(published_at, timezone('UTC', published_date::TIMESTAMP)) DESC NULLS LAST,
    article_id
