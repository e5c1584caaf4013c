-- Events from tagged articles: each listed company named with relevance >= $min_relevance, and
-- each private company named as relevant (measured through its listed parent where known).
-- Day 0 comes from published_at (an instant) or, failing that, published_date.
-- benchmark: the SPDR sector ETF of the entity's sector (data/universe/curated/sector_etfs.csv).
-- param: min_relevance INTEGER
-- Example: tagger query article_events --param min_relevance=50
SELECT
    a.article_id || ':' || e.entity_idx AS event_id,
    CASE WHEN e.status = 'listed' THEN e.ticker ELSE e.parent_ticker END AS ticker,
    e.name AS company,
    e.status,
    a.published_at,
    a.published_date,
    e.sector_etf AS benchmark
FROM entities AS e
JOIN articles AS a USING (article_id)
WHERE e.status IN ('listed', 'private') AND e.relevance >= $min_relevance
ORDER BY a.article_id, e.entity_idx;
