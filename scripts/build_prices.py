"""Rebuild the bundled prices (data/prices/prices*.parquet) from the raw price panel and samples.

Usage: python scripts/build_prices.py [RAW_PARQUET]
(default RAW_PARQUET: ../shared/data/prices/prices_daily.parquet)

Keeps the tickers in data/prices/tickers.txt from 2021-01-01 on (enough history for a 250-day
estimation window before the demo stories). A ticker with a file in data/prices/samples/ (the
KRX listings 005930.KS, 000660.KS) comes from it, with adj_close computed by `adjust_for_dividends`;
every other ticker comes from the raw panel, rows unchanged. One file per exchange calendar
(`file_name`). The same inputs give the same bytes.
"""

import sys
from pathlib import Path

import polars as pl

from tagger.markets import venue_of_symbol

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT.parent / "shared" / "data" / "prices" / "prices_daily.parquet"
PRICES = ROOT / "data" / "prices"
SAMPLES = PRICES / "samples"
START = pl.date(2021, 1, 1)
COLUMNS = ("ticker", "date", "open", "high", "low", "close", "adj_close", "volume")


def adjust_for_dividends(prices: pl.DataFrame, dividends: pl.DataFrame) -> pl.DataFrame:
    """`prices` (date, close, ...; close split-adjusted, not dividend-adjusted) with adj_close:
    close times the product, over every ex-dividend day after the row, of 1 - D / C, where D is
    that day's dividend per share and C the close of the last trading day before it (the
    multiplicative adjustment Yahoo's and CRSP's adjusted closes use). A dividend with no
    trading day before it in `prices` adjusts no row.

    >>> from datetime import date
    >>> p = pl.DataFrame({"date": [date(2024, 1, d) for d in (2, 3, 4)], "close": [10.0] * 3})
    >>> d = pl.DataFrame({"date": [date(2024, 1, 3)], "dividend": [1.0]})
    >>> adjust_for_dividends(p, d)["adj_close"].round(6).to_list()
    [9.0, 10.0, 10.0]
    """
    prices = prices.sort("date")
    factors = (
        dividends.sort("date")
        .join_asof(
            prices.select("date", previous_close="close"),
            on="date",
            strategy="backward",
            allow_exact_matches=False,
        )
        .filter(pl.col("previous_close").is_not_null())
        .with_columns(factor=1 - pl.col("dividend") / pl.col("previous_close"))
        # the product of this dividend's factor and every later one's
        .with_columns(later=pl.col("factor").reverse().cum_prod().reverse())
        .select("date", "later")
    )
    return (
        prices.join_asof(factors, on="date", strategy="forward", allow_exact_matches=False)
        .with_columns(adj_close=pl.col("close") * pl.col("later").fill_null(1.0))
        .drop("later")
    )


def file_name(ticker: str) -> str:
    """The bundled file of a ticker: one per exchange calendar, so that each file's dates are one
    market's sessions (prices.parquet for US listings, prices_xkrx.parquet for Korea ...)."""
    calendar = venue_of_symbol(ticker).calendar
    return "prices.parquet" if calendar == "XNYS" else f"prices_{calendar.lower()}.parquet"


def sample_prices(ticker: str) -> pl.DataFrame:
    """A sample's rows (Date,Open,High,Low,Close,Volume and its _dividends file) as price rows."""
    raw = pl.read_csv(SAMPLES / f"{ticker}.csv.gz", try_parse_dates=True)
    dividends = pl.read_csv(SAMPLES / f"{ticker}_dividends.csv.gz", try_parse_dates=True)
    prices = raw.rename(str.lower).with_columns(ticker=pl.lit(ticker))
    return adjust_for_dividends(prices, dividends.rename(str.lower)).select(COLUMNS)


def main(raw: Path) -> None:
    wanted = (PRICES / "tickers.txt").read_text().split()
    sampled = [t for t in wanted if (SAMPLES / f"{t}.csv.gz").is_file()]
    from_panel = [t for t in wanted if t not in sampled]
    panel = pl.read_parquet(raw)
    missing = sorted(set(from_panel) - set(panel["ticker"].unique()))
    if missing:
        sys.exit(f"tickers.txt names tickers the raw panel lacks: {' '.join(missing)}")
    kept = pl.concat(
        [panel.filter(pl.col("ticker").is_in(from_panel)).select(COLUMNS)]
        + [sample_prices(t) for t in sampled]
    ).filter(pl.col("date") >= START)
    files = kept.with_columns(
        file=pl.col("ticker").map_elements(file_name, return_dtype=pl.String)
    ).partition_by("file", as_dict=True, include_key=False)
    for stale in set(PRICES.glob("prices*.parquet")) - {PRICES / f for (f,) in files}:
        stale.unlink()
    for (name,), rows in sorted(files.items()):
        out = PRICES / name
        rows = rows.sort("ticker", "date")
        rows.write_parquet(out, compression="zstd", compression_level=19, statistics=True)
        print(
            f"{out}: {rows.height} rows, {rows['ticker'].n_unique()} tickers, "
            f"{rows['date'].min()} .. {rows['date'].max()}, {out.stat().st_size / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else RAW)
