-- Events from tagged articles: each listed company named with relevance >= $min_relevance, and
-- each private company named as relevant (measured through its listed parent where known).
-- Day 0 comes from published_at (an instant) or, failing that, published_date.
-- benchmark: the SPDR sector ETF of the entity's sector (GICS or Nasdaq sector names), if known.
-- Example: tagger query article_events --param min_relevance=50
WITH sector_etf (sector, etf) AS (
    VALUES ('information technology', 'XLK'), ('technology', 'XLK'),
           ('financials', 'XLF'), ('finance', 'XLF'),
           ('energy', 'XLE'),
           ('health care', 'XLV'),
           ('consumer discretionary', 'XLY'),
           ('consumer staples', 'XLP'),
           ('utilities', 'XLU'),
           ('materials', 'XLB'), ('basic materials', 'XLB'),
           ('real estate', 'XLRE'),
           ('communication services', 'XLC'), ('telecommunications', 'XLC'),
           ('industrials', 'XLI')
)
SELECT
    a.article_id || ':' || e.entity_idx AS event_id,
    CASE WHEN e.status = 'listed' THEN e.ticker ELSE e.parent_ticker END AS ticker,
    e.name AS company,
    e.status,
    a.published_at,
    a.published_date,
    s.etf AS benchmark
FROM entities AS e
JOIN articles AS a USING (article_id)
LEFT JOIN sector_etf AS s ON s.sector = lower(trim(e.sector))
WHERE e.status IN ('listed', 'private') AND e.relevance >= $min_relevance
ORDER BY a.article_id, e.entity_idx;
