-- The text of each of $article_ids (a list) for the story pages, with where it came from.
SELECT article_id AS story_id, title, body, url, publisher
FROM articles
WHERE article_id IN (SELECT unnest($article_ids))
