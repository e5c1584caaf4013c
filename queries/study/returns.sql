-- Daily returns of the study's tickers on the trading-session index, from adj_close only.
-- A return needs prices on two consecutive sessions: after a missing session it is NULL
-- (never compounded over the gap). Prices on dates that are not sessions are ignored.
-- $log_returns: ln(P_t / P_t-1) when true, P_t / P_t-1 - 1 when false.
-- log_volume: ln(1 + volume), NULL when the source has no volume.
-- Inputs: prices; study_sessions(session, idx); study_tickers(ticker, ticker_id).
SELECT
    t.ticker_id,
    s.idx,
    CASE
        WHEN lag(s.idx) OVER w = s.idx - 1 THEN
            CASE
                WHEN $log_returns THEN ln(p.adj_close / lag(p.adj_close) OVER w)
                ELSE p.adj_close / lag(p.adj_close) OVER w - 1
            END
    END AS ret,
    ln(1 + p.volume) AS log_volume
FROM prices AS p
JOIN study_tickers AS t USING (ticker)
JOIN study_sessions AS s ON s.session = p.date
WINDOW w AS (PARTITION BY t.ticker_id ORDER BY s.idx);
