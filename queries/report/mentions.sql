-- Where each company was mentioned in each of $article_ids (a list): field (title | body) and
-- [start, end) offsets into that field's text as stored (Python string indices), in text order.
SELECT article_id AS story_id, entity_idx, field, "start", "end"
FROM mentions
WHERE article_id IN (SELECT unnest($article_ids))
ORDER BY article_id, field, "start", "end" DESC
