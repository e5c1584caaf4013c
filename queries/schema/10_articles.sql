-- Articles and the entities the tagger found in them.
-- One row per article; re-ingesting an article replaces its rows (see tagger/articles.py).
CREATE TABLE articles (
    article_id     VARCHAR PRIMARY KEY,
    title          VARCHAR,
    body           VARCHAR NOT NULL,
    published_raw  VARCHAR,      -- the publication time as given in the input
    published_at   TIMESTAMPTZ,  -- the instant, when the input gave a time
    published_date DATE,         -- the date, when the input gave only a date
    publisher      VARCHAR,
    url            VARCHAR,
    source_file    VARCHAR,
    ingested_at    TIMESTAMPTZ DEFAULT current_timestamp
);

-- One row per (article, entity): a company the article names, listed, private or unresolved.
CREATE TABLE entities (
    article_id    VARCHAR NOT NULL,
    entity_idx    INTEGER NOT NULL,   -- order in the article's entity list (by relevance)
    entity_id     VARCHAR,            -- the company's stable id (CIK:..., FIGI:..., ISIN:...)
    name          VARCHAR NOT NULL,   -- the company's name on the article's date
    status        VARCHAR NOT NULL,   -- listed | private | unresolved, on the article's date
    ticker        VARCHAR,            -- primary listing's ticker on that date, when listed
    exchange      VARCHAR,            -- its venue (NASDAQ, NYSE, KSC, JPX ...)
    currency      VARCHAR,            -- its trading currency
    us_ticker     VARCHAR,            -- a non-US company's US line (ADR, ordinary or OTC)
    cik           VARCHAR,
    sector        VARCHAR,
    sector_etf    VARCHAR,            -- SPDR sector ETF of the sector (second benchmark)
    parent_ticker VARCHAR,            -- listed parent of a subsidiary or brand
    relevance     INTEGER NOT NULL,   -- 0..100
    role          VARCHAR NOT NULL,   -- subject | mentioned | source | boilerplate
    reason        VARCHAR,
    as_of         DATE,               -- the date status and ticker were judged at
    PRIMARY KEY (article_id, entity_idx)
);

-- Where each entity was mentioned. Offsets index the field's text as given.
CREATE TABLE mentions (
    article_id VARCHAR NOT NULL,
    entity_idx INTEGER NOT NULL,
    field      VARCHAR NOT NULL,      -- title | body
    "start"    INTEGER NOT NULL,
    "end"      INTEGER NOT NULL,
    text       VARCHAR NOT NULL,
    zone       VARCHAR NOT NULL       -- title | lead | body | boilerplate
);
