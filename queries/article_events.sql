-- Events from tagged articles: each listed company named with relevance >= $min_relevance on its
-- primary listing of the story's date, and again on its US line (ADR, ordinary or OTC) when it is
-- a non-US company that has one; each private company named as relevant, measured through its
-- listed parent where known.
-- Day 0 comes from published_at (an instant) or, failing that, published_date.
-- event_id: article_id:entity_idx (the primary or the parent), article_id:entity_idx:us (the US line).
-- benchmark: the SPDR sector ETF of the entity's sector (data/universe/curated/sector_etfs.csv),
-- for US lines only (a US ETF trades in other hours than a non-US listing).
-- param: min_relevance INTEGER
-- Example: tagger query article_events --param min_relevance=50
WITH relevant AS (
    SELECT e.*, a.published_at, a.published_date
    FROM entities AS e
    JOIN articles AS a USING (article_id)
    WHERE e.status IN ('listed', 'private') AND e.relevance >= $min_relevance
),
lines AS (
    SELECT
        article_id || ':' || entity_idx AS event_id,
        CASE WHEN status = 'listed' THEN ticker ELSE parent_ticker END AS ticker,
        name, status, published_at, published_date, sector_etf, article_id, entity_idx,
        entity_id, 0 AS line
    FROM relevant
    UNION ALL
    SELECT
        article_id || ':' || entity_idx || ':us', us_ticker, name, status, published_at,
        published_date, sector_etf, article_id, entity_idx, entity_id, 1
    FROM relevant
    WHERE status = 'listed' AND us_ticker IS NOT NULL
)
SELECT
    event_id,
    ticker,
    name AS company,
    status,
    published_at,
    published_date,
    CASE WHEN ticker LIKE '%.%' THEN NULL ELSE sector_etf END AS benchmark,
    article_id,
    entity_idx,
    entity_id
FROM lines
ORDER BY article_id, entity_idx, line;
