-- Daily returns of the study's tickers on one calendar's session index, from adj_close only.
-- A return needs positive prices on two consecutive sessions: after a missing session it is
-- NULL (never compounded over the gap). Prices on dates that are not sessions are ignored.
-- $log_returns: ln(P_t / P_t-1) when true, P_t / P_t-1 - 1 when false.
-- log_volume: ln(1 + volume), NULL when the source has no volume (or a negative one).
-- implausible: a price that is not a positive number, or a daily move above +300% or below
-- -90% (P_t / P_t-1 above 4 or below 0.1); the study flags events near one (price_jump).
-- Inputs: prices; study_sessions(session, idx); study_tickers(ticker, ticker_id).
WITH priced AS (
    SELECT
        t.ticker_id,
        s.idx,
        p.adj_close AS price,
        p.adj_close > 0 AND isfinite(p.adj_close) AS positive,
        lag(s.idx) OVER w = s.idx - 1 AS consecutive,
        lag(p.adj_close) OVER w AS previous,
        p.volume
    FROM prices AS p
    JOIN study_tickers AS t USING (ticker)
    JOIN study_sessions AS s ON s.session = p.date
    WINDOW w AS (PARTITION BY t.ticker_id ORDER BY s.idx)
),
moves AS (
    SELECT *,
        CASE WHEN consecutive AND positive AND previous > 0 AND isfinite(previous)
            THEN price / previous END AS ratio
    FROM priced
)
SELECT
    ticker_id,
    idx,
    CASE WHEN $log_returns THEN ln(ratio) ELSE ratio - 1 END AS ret,
    CASE WHEN volume >= 0 THEN ln(1 + volume) END AS log_volume,
    NOT positive OR coalesce(ratio > 4 OR ratio < 0.1, false) AS implausible
FROM moves;
