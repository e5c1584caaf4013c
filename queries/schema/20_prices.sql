-- Daily prices, one row per (ticker, date). Returns are computed from adj_close only.
-- source: 'bundled' (data/prices), 'yfinance', or 'file:<name>' for `tagger prices import`: the
-- last source that added or changed the row (an import merges its values into stored rows).
CREATE TABLE prices (
    ticker     VARCHAR NOT NULL,   -- Yahoo style (tagger.prices.normalise_ticker): BRK-B, 005930.KS
    date       DATE NOT NULL,      -- the exchange's own date
    open       DOUBLE,             -- prices in the listing's currency (tagger.markets)
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
-- missing. rows = 0 means the source had no prices for the range, or did not answer (offline,
-- rate limited); reason says which, recorded_at when. Such a range is asked again a day later,
-- or at once with --refresh.
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
