-- Event-study results of the latest `tagger study` run (tagger/study.py).
-- A run replaces every row of these tables in one transaction: re-running never duplicates
-- rows, and a failed run leaves the previous study in place. Conventions: docs/conventions.md.

-- The settings of the stored study (one row).
CREATE TABLE study_settings (
    model               VARCHAR NOT NULL,  -- market | market_adjusted | mean_adjusted
    returns             VARCHAR NOT NULL,  -- simple | log
    estimation_start    INTEGER NOT NULL,  -- trading days relative to day 0
    estimation_end      INTEGER NOT NULL,
    min_estimation_days INTEGER NOT NULL,
    windows             VARCHAR NOT NULL,  -- e.g. 0:0,0:1,-1:1,-5:5,0:5
    market              VARCHAR NOT NULL,  -- market proxy ticker
    benchmark           VARCHAR,           -- default second benchmark (events may set their own)
    events              INTEGER NOT NULL,
    kp_mean_correlation DOUBLE,            -- mean cross-correlation of estimation ARs (Kolari-Pynnonen)
    run_at              TIMESTAMPTZ DEFAULT current_timestamp
);

-- One row per input event, with day 0 and the flags. event_key joins the other study tables.
CREATE TABLE study_events (
    event_key        INTEGER NOT NULL,
    event_id         VARCHAR NOT NULL,
    ticker           VARCHAR,
    company          VARCHAR,
    status           VARCHAR,      -- listed | private (measured through its listed parent)
    published_at     TIMESTAMPTZ,
    published_date   DATE,
    event_date       DATE,         -- day 0: the trading session the news can first move
    rule             VARCHAR,      -- how day 0 was found (tagger/sessions.py)
    market           VARCHAR,
    benchmark        VARCHAR,      -- second benchmark (sector ETF) for this event
    no_prices        BOOLEAN NOT NULL,  -- no prices for the ticker, or no day 0
    short_estimation BOOLEAN NOT NULL,  -- fewer valid estimation days than the minimum
    thin_trading     BOOLEAN NOT NULL,  -- >= 10% of estimation days with zero return or volume
    confounded       BOOLEAN NOT NULL,  -- another event of the ticker inside the windows
    gap_in_window    BOOLEAN NOT NULL,  -- a missing return inside an event window
    date_only        BOOLEAN NOT NULL   -- the news had a date but no time
);

-- Model estimates from the estimation window (events with prices).
CREATE TABLE study_estimates (
    event_key       INTEGER NOT NULL,
    in_sample       BOOLEAN NOT NULL,  -- counted in the cross-sectional tests
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

-- Abnormal returns per event and relative day (the span of all windows and days -5..+5).
CREATE TABLE study_abnormal_returns (
    event_key        INTEGER NOT NULL,
    day              INTEGER NOT NULL,
    ret              DOUBLE,   -- stock return
    market_return    DOUBLE,
    benchmark_return DOUBLE,   -- second benchmark's return
    ar               DOUBLE,
    ar_var           DOUBLE,   -- with the forecast-error correction
    car              DOUBLE,   -- cumulated from the first day of the span
    car_var          DOUBLE
);

-- Cumulative abnormal return per event and event window.
CREATE TABLE study_cars (
    event_key    INTEGER NOT NULL,
    window_start INTEGER NOT NULL,  -- the window is window_start:window_end, e.g. -1:1
    window_end   INTEGER NOT NULL,
    days         INTEGER,           -- valid days in the window
    car          DOUBLE,
    car_var      DOUBLE,
    t            DOUBLE,
    p            DOUBLE             -- two-sided, Student t with df of the estimates
);

-- Mean centred rank per relative day (estimation and event days) for the rank test.
CREATE TABLE study_rank_days (
    day               INTEGER NOT NULL,
    n                 INTEGER NOT NULL,
    mean_centred_rank DOUBLE
);

-- Average abnormal return per relative day, with its tests.
CREATE TABLE study_aar (
    day INTEGER NOT NULL, n INTEGER NOT NULL, aar DOUBLE,
    t_csect DOUBLE, p_csect DOUBLE, patell_z DOUBLE, p_patell DOUBLE, bmp_t DOUBLE, p_bmp DOUBLE,
    kp_t DOUBLE, p_kp DOUBLE, sign_z DOUBLE, p_sign DOUBLE, gsign_z DOUBLE, p_gsign DOUBLE,
    rank_z DOUBLE, p_rank DOUBLE
);

-- Cumulative average abnormal return per event window, with its tests.
CREATE TABLE study_caar (
    event_window VARCHAR NOT NULL, window_start INTEGER NOT NULL, window_end INTEGER NOT NULL,
    n INTEGER NOT NULL, caar DOUBLE,
    t_csect DOUBLE, p_csect DOUBLE, patell_z DOUBLE, p_patell DOUBLE, bmp_t DOUBLE, p_bmp DOUBLE,
    kp_t DOUBLE, p_kp DOUBLE, sign_z DOUBLE, p_sign DOUBLE, gsign_z DOUBLE, p_gsign DOUBLE,
    rank_z DOUBLE, p_rank DOUBLE
);

-- One row per event: day 0, estimates, the day-0 reaction and the flags.
CREATE VIEW study_results AS
SELECT
    e.event_id, e.ticker, e.company, e.status, e.published_at, e.published_date,
    e.event_date, e.rule, e.market, e.benchmark,
    x.alpha, x.beta, x.sigma, x.estimation_days, x.in_sample,
    a.ar AS ar_0, a.ret AS return_0, a.market_return AS market_return_0,
    a.benchmark_return AS benchmark_return_0, x.abnormal_volume AS abnormal_volume_0,
    concat_ws(';',
        CASE WHEN e.no_prices THEN 'no_prices' END,
        CASE WHEN e.short_estimation THEN 'short_estimation' END,
        CASE WHEN e.thin_trading THEN 'thin_trading' END,
        CASE WHEN e.confounded THEN 'confounded' END,
        CASE WHEN e.gap_in_window THEN 'gap_in_window' END,
        CASE WHEN e.date_only THEN 'date_only' END) AS flags,
    e.event_key
FROM study_events AS e
LEFT JOIN study_estimates AS x USING (event_key)
LEFT JOIN study_abnormal_returns AS a ON a.event_key = e.event_key AND a.day = 0;

-- One row per event and window: the CAR with its t and p, next to the event.
CREATE VIEW study_event_cars AS
SELECT r.event_id, r.ticker, r.event_date, c.window_start || ':' || c.window_end AS event_window,
       c.window_start, c.window_end,
       c.days, c.car, sqrt(c.car_var) AS car_sd, c.t, c.p, r.in_sample, r.flags
FROM study_cars AS c
JOIN study_results AS r USING (event_key);
