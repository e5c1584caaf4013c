-- Daily prices of the study's tickers on one calendar's session index, which tagger.study turns
-- into returns (docs/conventions.md): adj_close, and log_volume = ln(1 + volume), NULL when the
-- source has no volume (or a negative one). Prices on dates that are not sessions are left out.
-- Inputs: prices; study_sessions(session, idx); study_tickers(ticker, ticker_id).
SELECT
    t.ticker_id,
    s.idx,
    p.adj_close AS price,
    CASE WHEN p.volume >= 0 THEN ln(1 + p.volume) END AS log_volume
FROM prices AS p
JOIN study_tickers AS t USING (ticker)
JOIN study_sessions AS s ON s.session = p.date;
