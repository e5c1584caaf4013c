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
