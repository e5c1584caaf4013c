-- Daily prices, one row per (ticker, date). Returns are computed from adj_close only.
-- source: 'bundled' (data/prices), 'yfinance', or 'file:<name>' for `tagger prices import`.
CREATE TABLE prices (
    ticker     VARCHAR NOT NULL,   -- Yahoo style: BRK-B
    date       DATE NOT NULL,
    open       DOUBLE,
    high       DOUBLE,
    low        DOUBLE,
    close      DOUBLE,
    adj_close  DOUBLE NOT NULL,
    volume     BIGINT,
    source     VARCHAR NOT NULL,
    fetched_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticker, date)
);

-- The date ranges each source has answered for, per ticker, so that a re-run asks only for what is
-- missing. rows = 0 means the source was asked and had no prices (reason says what it said).
-- Requests that failed to reach the source (offline, rate limited) are not recorded: they are
-- asked again next time.
CREATE TABLE price_coverage (
    ticker      VARCHAR NOT NULL,
    start_date  DATE NOT NULL,     -- inclusive
    end_date    DATE NOT NULL,     -- inclusive
    source      VARCHAR NOT NULL,  -- as in prices.source
    rows        INTEGER NOT NULL,  -- rows the source returned for the range
    reason      VARCHAR,           -- when rows = 0: why, as the source said
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (ticker, start_date, end_date, source)
);
