-- One row per company each story names (one row for a story that names none): who it is, how
-- relevant, the stored study's numbers for its event (day 0, model, day-0 reaction, flags) and a
-- note saying in words why it has no numbers. The CAR per window comes from report/cars.sql.
-- measured: the event has prices (its numbers and CAR path are stored); measured_ticker: the
-- ticker whose prices were used (a private company's listed parent).
-- $article_ids: a list of article ids, or NULL for every article in the store.
-- $min_relevance: the relevance the study's events needed (tagger.events.events_from_articles).
-- headline: the title, else the first 12 words of the body ("…" when it goes on), else the id.
-- published_at: the instant in UTC (ISO 8601, ending in Z), else the date; NULL when unknown.
WITH selected AS (
    SELECT article_id FROM articles WHERE $article_ids IS NULL
    UNION
    SELECT unnest($article_ids)
),
stories AS (
    SELECT
        article_id,
        coalesce(
            nullif(trim(regexp_replace(title, '\s+', ' ', 'g')), ''),
            nullif(array_to_string(body_words[1:12], ' '), '')
                || CASE WHEN len(body_words) > 12 THEN ' …' ELSE '' END,
            article_id
        ) AS headline,
        coalesce(
            strftime(timezone('UTC', published_at), '%Y-%m-%dT%H:%M:%SZ'),
            strftime(published_date, '%Y-%m-%d')
        ) AS published_at,
        published_at IS NULL AND published_date IS NULL AS untimed
    FROM (
        SELECT a.*, string_split_regex(trim(a.body), '\s+') AS body_words
        FROM articles AS a
        JOIN selected USING (article_id)
    )
),
settings AS (
    SELECT count(*) > 0 AS study_run, max(min_estimation_days) AS min_estimation_days
    FROM study_settings
),
rows AS (
    SELECT
        s.article_id AS story_id, s.headline, s.published_at, s.untimed,
        n.entity_idx, n.ticker, n.name, n.status, n.role, n.relevance, n.parent_ticker, n.reason,
        r.event_id, r.event_date, r.rule, r.market, r.benchmark, r.alpha, r.beta,
        r.estimation_days, r.ar_0, r.abnormal_volume_0, r.return_0, r.market_return_0,
        r.benchmark_return_0, nullif(r.flags, '') AS flags,
        r.ticker AS measured_ticker,
        concat_ws('; ',
            CASE WHEN s.untimed THEN 'no publication time' END,
            CASE WHEN n.status = 'unresolved' THEN 'not resolved to a listed company' END,
            CASE WHEN n.status = 'private' AND n.parent_ticker IS NULL
                THEN 'private, no listed parent' END,
            CASE WHEN n.relevance < $min_relevance
                THEN 'relevance ' || n.relevance || ' below ' || $min_relevance
                    || CASE WHEN n.role = 'boilerplate' THEN ' (boilerplate mention)' ELSE '' END
            END
        ) AS skipped_because
    FROM stories AS s
    LEFT JOIN entities AS n USING (article_id)
    LEFT JOIN study_results AS r ON r.event_id = s.article_id || ':' || n.entity_idx
)
SELECT
    story_id, headline, published_at,
    ticker, name, status, role, relevance, parent_ticker, reason,
    event_id, event_date, rule, market, benchmark, alpha, beta, estimation_days,
    ar_0, abnormal_volume_0, return_0, market_return_0, benchmark_return_0, flags,
    CASE
        WHEN entity_idx IS NULL THEN 'no companies found in the story'
        WHEN skipped_because <> '' THEN 'not studied: ' || skipped_because
        WHEN event_id IS NULL AND NOT study_run THEN 'not studied: no study run yet'
        WHEN event_id IS NULL
            THEN 'not studied: not in the stored study (it was run on other events)'
        WHEN event_date IS NULL
            THEN 'not studied: ' || published_at || ' is outside the trading calendar'
        WHEN contains(flags, 'no_prices') THEN 'not studied: no prices for ' || measured_ticker
        ELSE nullif(concat_ws('; ',
            CASE WHEN status = 'private'
                THEN 'measured through its listed parent ' || measured_ticker END,
            CASE WHEN contains(flags, 'short_estimation')
                THEN 'short estimation: ' || estimation_days || ' days, fewer than '
                    || min_estimation_days || '; left out of the cross-sectional tests' END
        ), '')
    END AS note,
    entity_idx, measured_ticker,
    event_id IS NOT NULL AND NOT coalesce(contains(flags, 'no_prices'), false) AS measured
FROM rows
CROSS JOIN settings
ORDER BY story_id, entity_idx
