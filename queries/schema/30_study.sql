-- Event-study results of every stored `tagger study` run (tagger/study.py), one study per
-- study_id (every *_all table carries it). A run under a name the store already holds replaces
-- that study in one transaction: re-running never duplicates rows, and a failed run leaves the
-- previous studies in place. event_key is unique across studies. The views without _all
-- (study_events, study_cars ...) and study_results, study_event_cars show the latest study;
-- study_results_of(study) and study_event_cars_of(study) any one (a name or an id; NULL: the
-- latest). Conventions: docs/conventions.md. The per-event and per-day numbers and the event ids
-- are stored uncompressed: such values hardly compress, and trying costs a million-event study
-- about a second (bench/bench_study.py). The keys of the per-day and per-window tables are run
-- lengths (study_id, event_key) or small integers (day, window): their compression is named, so
-- DuckDB does not try every method on some 13M values.

-- One row per stored study: its id, name, time and settings.
CREATE TABLE study_settings_all (
    study_id            INTEGER NOT NULL,  -- a new id for each run, the latest the highest
    name                VARCHAR NOT NULL,  -- `tagger study --name` (default: default)
    model               VARCHAR NOT NULL,  -- market | market_adjusted | mean_adjusted
    returns             VARCHAR NOT NULL,  -- simple | log
    estimation_start    INTEGER NOT NULL,  -- trading days relative to day 0
    estimation_end      INTEGER NOT NULL,
    min_estimation_days INTEGER NOT NULL,
    windows             VARCHAR NOT NULL,  -- e.g. 0:0,0:1,-1:1,-5:5,0:5
    market              VARCHAR,           -- the proxy for every event; NULL: each event's own
    benchmark           VARCHAR,           -- default second benchmark (events may set their own)
    events              INTEGER NOT NULL,
    kp_mean_correlation DOUBLE,            -- mean cross-correlation of estimation ARs (Kolari-Pynnonen)
    run_at              TIMESTAMPTZ DEFAULT current_timestamp
);

-- One row per input event, with day 0 and the flags. event_key joins the other study tables.
CREATE TABLE study_events_all (
    study_id         INTEGER NOT NULL,
    event_key        INTEGER NOT NULL,
    event_id         VARCHAR NOT NULL USING COMPRESSION uncompressed,
    article_id       VARCHAR,      -- events from tagged articles: event_id is article_id:entity_idx
    entity_idx       INTEGER,
    entity_id        VARCHAR,      -- the tagger's company id, when the store's entities carry it
    ticker           VARCHAR,      -- Yahoo symbol (tagger.prices.normalise_ticker)
    company          VARCHAR,
    status           VARCHAR,      -- listed | private (measured through its listed parent)
    published_at     TIMESTAMPTZ,
    published_date   DATE,
    calendar         VARCHAR,      -- exchange calendar of the listing's venue (XNYS, XKRX ...)
    currency         VARCHAR,      -- the listing's trading currency (USD, KRW ...)
    event_date       DATE,         -- day 0: the session of `calendar` the news can first move
    rule             VARCHAR,      -- how day 0 was found (tagger/sessions.py)
    market           VARCHAR,      -- market proxy of this event (its venue's index by default)
    benchmark        VARCHAR,      -- second benchmark (sector ETF) for this event
    no_prices        BOOLEAN NOT NULL,  -- not measured: no prices (ticker, market) or no day 0
    no_calendar      BOOLEAN NOT NULL,  -- the venue has no exchange calendar: no day 0
    outside_calendar BOOLEAN NOT NULL,  -- the time is outside the calendar's sessions: no day 0
    short_estimation BOOLEAN NOT NULL,  -- fewer valid estimation days than the minimum
    price_jump       BOOLEAN NOT NULL,  -- an implausible price or daily move in the windows
    thin_trading     BOOLEAN NOT NULL,  -- >= 10% of estimation days with zero return or volume
    confounded       BOOLEAN NOT NULL,  -- another event of the ticker inside the windows
    gap_in_window    BOOLEAN NOT NULL,  -- a missing return inside an event window
    date_only        BOOLEAN NOT NULL,  -- the news had a date but no time
    note             VARCHAR            -- why the event has no numbers or is left out, in words
);

-- Model estimates from the estimation window (events with prices).
CREATE TABLE study_estimates_all (
    study_id        INTEGER NOT NULL,
    event_key       INTEGER NOT NULL,
    in_sample       BOOLEAN NOT NULL,  -- counted in the tests: enough days, no price_jump
    estimation_days INTEGER,           -- valid days L1 (stock and market returns both present)
    alpha           DOUBLE,
    beta            DOUBLE,
    sigma           DOUBLE,            -- sqrt(SSR / df)
    df              INTEGER,           -- L1 - 2 (market model) or L1 - 1
    market_mean     DOUBLE,            -- mean market return over the estimation window
    market_ssd      DOUBLE,            -- sum of squared deviations of the market return
    positive_share  DOUBLE,            -- share of estimation ARs > 0 (generalized sign test)
    zero_share      DOUBLE,            -- share of estimation days with zero return or volume
    abnormal_volume DOUBLE             -- day-0 ln(1 + volume) z-score vs the estimation window
);

-- Abnormal returns per event and relative day (the span of all windows and days -5..+5). The
-- variance of an AR and the CAR path follow from these and the estimates (study/aar.sql,
-- car_path.sql; docs/conventions.md).
CREATE TABLE study_abnormal_returns_all (
    study_id         INTEGER NOT NULL USING COMPRESSION rle,
    event_key        INTEGER NOT NULL USING COMPRESSION rle,
    day              INTEGER NOT NULL USING COMPRESSION bitpacking,
    ret              DOUBLE USING COMPRESSION uncompressed,   -- stock return
    market_return    DOUBLE USING COMPRESSION uncompressed,
    benchmark_return DOUBLE USING COMPRESSION uncompressed,   -- second benchmark's return
    ar               DOUBLE USING COMPRESSION uncompressed
);

-- Cumulative abnormal return per event and event window.
CREATE TABLE study_cars_all (
    study_id     INTEGER NOT NULL USING COMPRESSION rle,
    event_key    INTEGER NOT NULL USING COMPRESSION rle,
    -- the window is window_start:window_end, e.g. -1:1
    window_start INTEGER NOT NULL USING COMPRESSION bitpacking,
    window_end   INTEGER NOT NULL USING COMPRESSION bitpacking,
    days         INTEGER USING COMPRESSION bitpacking,  -- valid days in the window
    car          DOUBLE USING COMPRESSION uncompressed,
    car_var      DOUBLE USING COMPRESSION uncompressed,
    t            DOUBLE USING COMPRESSION uncompressed,
    p            DOUBLE USING COMPRESSION uncompressed  -- two-sided, Student t with df of the estimates
);

-- Mean centred rank per relative day (estimation and event days) for the rank test.
CREATE TABLE study_rank_days_all (
    study_id          INTEGER NOT NULL,
    day               INTEGER NOT NULL,
    n                 INTEGER NOT NULL,
    mean_centred_rank DOUBLE
);

-- Average abnormal return per relative day, with its tests.
CREATE TABLE study_aar_all (
    study_id INTEGER NOT NULL, day INTEGER NOT NULL, n INTEGER NOT NULL, aar DOUBLE,
    t_csect DOUBLE, p_csect DOUBLE, patell_z DOUBLE, p_patell DOUBLE, bmp_t DOUBLE, p_bmp DOUBLE,
    kp_t DOUBLE, p_kp DOUBLE, sign_z DOUBLE, p_sign DOUBLE, gsign_z DOUBLE, p_gsign DOUBLE,
    rank_z DOUBLE, p_rank DOUBLE
);

-- Cumulative average abnormal return per event window, with its tests.
CREATE TABLE study_caar_all (
    study_id INTEGER NOT NULL, event_window VARCHAR NOT NULL, window_start INTEGER NOT NULL, window_end INTEGER NOT NULL,
    n INTEGER NOT NULL, caar DOUBLE,
    t_csect DOUBLE, p_csect DOUBLE, patell_z DOUBLE, p_patell DOUBLE, bmp_t DOUBLE, p_bmp DOUBLE,
    kp_t DOUBLE, p_kp DOUBLE, sign_z DOUBLE, p_sign DOUBLE, gsign_z DOUBLE, p_gsign DOUBLE,
    rank_z DOUBLE, p_rank DOUBLE
);

-- The id of `study` (a name or an id), or of the latest study when it is NULL (NULL when none
-- is stored); an unknown study is an error that names it.
CREATE MACRO study_id_of(study) AS (
    SELECT CASE
        WHEN study IS NULL THEN max(study_id)
        WHEN count(*) FILTER (WHERE name = CAST(study AS VARCHAR)
                              OR CAST(study_id AS VARCHAR) = CAST(study AS VARCHAR)) > 0
            THEN max(study_id) FILTER (WHERE name = CAST(study AS VARCHAR)
                                       OR CAST(study_id AS VARCHAR) = CAST(study AS VARCHAR))
        ELSE error('no stored study ' || CAST(study AS VARCHAR)
                   || '; `tagger query studies` lists them')
    END
    FROM study_settings_all
);

-- One row per event of `study`: day 0, estimates, the day-0 reaction, the flags and the note.
CREATE MACRO study_results_of(study) AS TABLE
SELECT
    e.event_id, e.ticker, e.company, e.status, e.published_at, e.published_date,
    e.calendar, e.currency, e.event_date, e.rule, e.market, e.benchmark,
    x.alpha, x.beta, x.sigma, x.estimation_days, x.in_sample,
    a.ar AS ar_0, a.ret AS return_0, a.market_return AS market_return_0,
    a.benchmark_return AS benchmark_return_0, x.abnormal_volume AS abnormal_volume_0,
    concat_ws(';',
        CASE WHEN e.no_prices THEN 'no_prices' END,
        CASE WHEN e.no_calendar THEN 'no_calendar' END,
        CASE WHEN e.outside_calendar THEN 'outside_calendar' END,
        CASE WHEN e.short_estimation THEN 'short_estimation' END,
        CASE WHEN e.price_jump THEN 'price_jump' END,
        CASE WHEN e.thin_trading THEN 'thin_trading' END,
        CASE WHEN e.confounded THEN 'confounded' END,
        CASE WHEN e.gap_in_window THEN 'gap_in_window' END,
        CASE WHEN e.date_only THEN 'date_only' END) AS flags,
    e.note, e.article_id, e.entity_idx, e.entity_id, e.event_key, e.study_id
FROM study_events_all AS e
LEFT JOIN study_estimates_all AS x USING (event_key)
LEFT JOIN study_abnormal_returns_all AS a ON a.event_key = e.event_key AND a.day = 0
WHERE e.study_id = study_id_of(study);

-- One row per event of `study` and window: the CAR with its t and p, next to the event.
CREATE MACRO study_event_cars_of(study) AS TABLE
SELECT r.event_id, r.ticker, r.currency, r.event_date,
       c.window_start || ':' || c.window_end AS event_window, c.window_start, c.window_end,
       c.days, c.car, sqrt(c.car_var) AS car_sd, c.t, c.p, r.in_sample, r.flags, r.study_id
FROM study_cars_all AS c
JOIN study_results_of(study) AS r USING (event_key);

-- The latest study: its events and CARs, and each table above under its name without _all and
-- without study_id (a view), so that queries written for one stored study read the latest.
CREATE VIEW study_results AS SELECT * FROM study_results_of(NULL);
CREATE VIEW study_event_cars AS SELECT * FROM study_event_cars_of(NULL);
CREATE VIEW study_settings AS
    SELECT * FROM study_settings_all WHERE study_id = study_id_of(NULL);
CREATE VIEW study_events AS
    SELECT * EXCLUDE (study_id) FROM study_events_all WHERE study_id = study_id_of(NULL);
CREATE VIEW study_estimates AS
    SELECT * EXCLUDE (study_id) FROM study_estimates_all WHERE study_id = study_id_of(NULL);
CREATE VIEW study_abnormal_returns AS
    SELECT * EXCLUDE (study_id) FROM study_abnormal_returns_all WHERE study_id = study_id_of(NULL);
CREATE VIEW study_cars AS
    SELECT * EXCLUDE (study_id) FROM study_cars_all WHERE study_id = study_id_of(NULL);
CREATE VIEW study_rank_days AS
    SELECT * EXCLUDE (study_id) FROM study_rank_days_all WHERE study_id = study_id_of(NULL);
CREATE VIEW study_aar AS
    SELECT * EXCLUDE (study_id) FROM study_aar_all WHERE study_id = study_id_of(NULL);
CREATE VIEW study_caar AS
    SELECT * EXCLUDE (study_id) FROM study_caar_all WHERE study_id = study_id_of(NULL);

