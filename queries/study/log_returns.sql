-- Log returns ln(P_t / P_t-1) of the price ratios in study_ratios(ratio), in their order:
-- DuckDB's ln, so that they are the same bits on every machine whatever numpy's build.
SELECT ln(ratio) AS ret FROM study_ratios;
