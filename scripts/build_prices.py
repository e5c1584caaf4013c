"""Rebuild data/prices/prices.parquet from the project's raw price panel.

Usage: python scripts/build_prices.py [RAW_PARQUET]
(default RAW_PARQUET: ../shared/data/prices/prices_daily.parquet)

Keeps the tickers in data/prices/tickers.txt from 2021-01-01 on (enough history for a 250-day
estimation window before the demo stories), rows unchanged.
"""

import sys
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT.parent / "shared" / "data" / "prices" / "prices_daily.parquet"
START = pl.date(2021, 1, 1)


def main(raw: Path) -> None:
    wanted = (ROOT / "data" / "prices" / "tickers.txt").read_text().split()
    panel = pl.read_parquet(raw)
    missing = sorted(set(wanted) - set(panel["ticker"].unique()))
    if missing:
        sys.exit(f"tickers.txt names tickers the raw panel lacks: {' '.join(missing)}")
    kept = panel.filter(pl.col("ticker").is_in(wanted), pl.col("date") >= START).sort(
        "ticker", "date"
    )
    out = ROOT / "data" / "prices" / "prices.parquet"
    kept.write_parquet(out, compression="zstd", compression_level=19, statistics=True)
    print(
        f"{out}: {kept.height} rows, {kept['ticker'].n_unique()} tickers, "
        f"{kept['date'].min()} .. {kept['date'].max()}, {out.stat().st_size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else RAW)
