-- One row per company each story names and listing the study measured it on (a non-US company
-- may have two: its home line and its US line; one row for a story that names none): who it is,
-- how relevant, the stored study's numbers for its event (day 0, model, day-0 reaction, flags) and a
-- note saying in words why it has no numbers. The CAR per window comes from report/cars.sql.
-- measured: the event has prices and is not the market proxy measured against itself (its
-- numbers and CAR path are shown); measured_ticker: the ticker whose prices were used (a private
-- company's listed parent). An event whose ticker is the market proxy keeps its day 0 and gets a
-- note instead of numbers; one whose ticker is its own second benchmark gets no benchmark.
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
                || CASE WHEN len(body_words) > 12 OR length(trim(body)) > 400 THEN ' …' ELSE '' END,
            article_id
        ) AS headline,
        coalesce(
            strftime(timezone('UTC', published_at), '%Y-%m-%dT%H:%M:%SZ'),
            strftime(published_date, '%Y-%m-%d')
        ) AS published_at,
        published_at IS NULL AND published_date IS NULL AS untimed
    FROM (
        SELECT a.*, string_split_regex(trim(left(a.body, 400)), '\s+') AS body_words
        FROM articles AS a
        JOIN selected USING (article_id)
    )
),
settings AS (
    SELECT count(*) > 0 AS study_run, max(min_estimation_days) AS min_estimation_days
    FROM study_settings
),
named AS (
    SELECT s.*, n.* EXCLUDE (article_id)
    FROM stories AS s
    LEFT JOIN entities AS n USING (article_id)
),
results AS (
    SELECT r.*, coalesce(r.ticker = r.market, false) AS against_itself
    FROM study_results AS r
    SEMI JOIN named AS n ON r.article_id = n.article_id AND r.entity_idx = n.entity_idx
),
rows AS (
    SELECT
        s.article_id AS story_id, s.headline, s.published_at, s.untimed,
        s.entity_idx, s.ticker, s.name, s.status, s.role, s.relevance, s.parent_ticker, s.reason,
        r.event_id, r.ticker AS measured_ticker, r.currency, r.event_date, r.rule, r.market,
        CASE WHEN r.ticker IS DISTINCT FROM r.benchmark THEN r.benchmark END AS benchmark,
        r.ticker = r.benchmark AS own_benchmark,
        r.against_itself,
        CASE WHEN NOT r.against_itself THEN r.alpha END AS alpha,
        CASE WHEN NOT r.against_itself THEN r.beta END AS beta,
        CASE WHEN NOT r.against_itself THEN r.estimation_days END AS estimation_days,
        CASE WHEN NOT r.against_itself THEN r.ar_0 END AS ar_0,
        CASE WHEN NOT r.against_itself THEN r.abnormal_volume_0 END AS abnormal_volume_0,
        CASE WHEN NOT r.against_itself THEN r.return_0 END AS return_0,
        CASE WHEN NOT r.against_itself THEN r.market_return_0 END AS market_return_0,
        CASE WHEN NOT r.against_itself AND r.ticker IS DISTINCT FROM r.benchmark
            THEN r.benchmark_return_0 END AS benchmark_return_0,
        nullif(r.flags, '') AS flags,
        concat_ws('; ',
            CASE WHEN s.untimed THEN 'no publication time' END,
            CASE WHEN s.status = 'unresolved' THEN 'not resolved to a listed company' END,
            CASE WHEN s.status = 'private' AND s.parent_ticker IS NULL
                THEN 'private, no listed parent' END,
            CASE WHEN s.relevance < $min_relevance
                THEN 'relevance ' || s.relevance || ' below ' || $min_relevance
                    || CASE WHEN s.role = 'boilerplate' THEN ' (boilerplate mention)' ELSE '' END
            END
        ) AS skipped_because
    FROM named AS s
    LEFT JOIN results AS r ON r.article_id = s.article_id AND r.entity_idx = s.entity_idx
)
SELECT
    story_id, headline, published_at,
    ticker, name, status, role, relevance, parent_ticker, reason,
    event_id, measured_ticker, currency, event_date, rule, market, benchmark,
    alpha, beta, estimation_days,
    ar_0, abnormal_volume_0, return_0, market_return_0, benchmark_return_0, flags,
    CASE
        WHEN entity_idx IS NULL THEN 'no companies found in the story'
        WHEN skipped_because <> '' THEN 'not studied: ' || skipped_because
        WHEN event_id IS NULL AND NOT study_run THEN 'not studied: no study run yet'
        WHEN event_id IS NULL
            THEN 'not studied: not in the stored study (it was run on other events)'
        WHEN event_date IS NULL
            THEN 'not studied: ' || published_at || ' is outside the trading calendar'
        WHEN against_itself
            THEN 'not studied: ' || measured_ticker
                || ' is the market proxy; a study against itself measures nothing'
        WHEN contains(flags, 'no_prices') THEN 'not studied: no prices for ' || measured_ticker
        ELSE nullif(concat_ws('; ',
            CASE WHEN status = 'private'
                THEN 'measured through its listed parent ' || measured_ticker END,
            CASE WHEN own_benchmark
                THEN 'no second benchmark: ' || measured_ticker || ' is its own sector ETF' END,
            CASE WHEN contains(flags, 'short_estimation')
                THEN 'short estimation: ' || estimation_days || ' days, fewer than '
                    || min_estimation_days || '; left out of the cross-sectional tests' END
        ), '')
    END AS note,
    entity_idx,
    event_id IS NOT NULL AND event_date IS NOT NULL AND NOT against_itself
        AND NOT coalesce(contains(flags, 'no_prices'), false) AS measured
FROM rows
CROSS JOIN settings
ORDER BY story_id, entity_idx, event_id
