-- Connection-local inputs of queries/study/prices.sql, filled by tagger.study.
CREATE OR REPLACE TEMP TABLE study_sessions (session DATE NOT NULL, idx INTEGER NOT NULL);
CREATE OR REPLACE TEMP TABLE study_tickers (ticker VARCHAR NOT NULL, ticker_id INTEGER NOT NULL);
