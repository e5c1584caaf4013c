"""Time the event study (tagger.study.run_study) for 10k, 100k and 1M events, with peak memory.

Two price universes, each loaded into an in-memory store before the clock starts:
- real: the raw 692-ticker panel, 2015-01..2026-05 (prices_daily.parquet from the project's shared
  data; give its path as the first argument);
- synthetic: 5,000 tickers x 10 years made by resampling the real daily returns (each ticker takes
  a real ticker's returns on a shared draw of dates 70% of the time, so it co-moves with the
  market, and on its own random dates otherwise). It is written to a temporary parquet file.

Events are random (ticker, time) pairs with a full estimation window, half with a time and half
date-only. Each (universe, size) runs in a fresh process on a fresh database file (the results
are written to it, as `tagger study` does), so its peak RSS is its own.

Usage: python bench/bench_study.py [PATH/TO/prices_daily.parquet] [--sizes 10000,100000,1000000]
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PRICES = REPO.parent / "shared" / "data" / "prices" / "prices_daily.parquet"
SYNTHETIC_TICKERS = 5_000
SYNTHETIC_SESSIONS = 2_520


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prices", nargs="?", default=str(DEFAULT_PRICES))
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--one", nargs=2, metavar=("UNIVERSE", "EVENTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    prices = Path(args.prices)
    if not prices.is_file():
        sys.exit(
            f"bench_study: raw price panel not found at {prices}; pass the path to "
            "prices_daily.parquet (692 tickers, 2015-2026) as the first argument"
        )
    if args.one:
        print(json.dumps(run_one(prices, args.one[0], int(args.one[1]))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic.parquet"
        _synthetic_prices(prices).write_parquet(synthetic)
        print(f"{'universe':<10} {'events':>9} {'seconds':>8} {'events/s':>10} {'peak RSS':>9}")
        for universe, path in (("real", prices), ("synthetic", synthetic)):
            for size in (int(s) for s in args.sizes.split(",")):
                _report(universe, path, size)


def _report(universe: str, path: Path, size: int) -> None:
    out = subprocess.run(
        [sys.executable, __file__, str(path), "--one", universe, str(size)],
        capture_output=True,
        text=True,
        check=True,
    )
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{universe:<10} {size:>9,} {r['seconds']:>8.2f} {size / r['seconds']:>10,.0f} "
        f"{r['peak_rss_gb']:>7.2f}GB   (RSS with prices loaded {r['rss_before_gb']:.2f}GB; "
        f"{r['tickers']} tickers x {r['sessions']} sessions; in sample {r['in_sample']:,})",
        flush=True,
    )


def run_one(prices: Path, universe: str, size: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return _time_study(prices, universe, size, Path(tmp) / "bench.duckdb")


def _time_study(prices: Path, universe: str, size: int, database: Path) -> dict:
    from tagger import store, study

    con = store.connect(database)  # a file, as `tagger` uses
    con.execute(
        "INSERT INTO prices (ticker, date, adj_close, volume, source, fetched_at) "
        "SELECT ticker, date, adj_close, volume, $source, now() FROM read_parquet($path)",
        {"path": str(prices), "source": universe},
    )
    events = _random_events(con, size, np.random.default_rng(size))
    rss_before = _peak_rss_gb()
    start = time.perf_counter()
    result = study.run_study(con, events)
    seconds = time.perf_counter() - start
    tickers, sessions = con.execute(
        "SELECT count(DISTINCT ticker), count(DISTINCT date) FROM prices"
    ).fetchone()
    con.close()
    return {
        "seconds": seconds,
        "peak_rss_gb": _peak_rss_gb(),
        "rss_before_gb": rss_before,
        "tickers": tickers,
        "sessions": sessions,
        "in_sample": int(result.events["flags"].str.contains("short_estimation").not_().sum()),
    }


def _synthetic_prices(prices: Path) -> pl.DataFrame:
    rng = np.random.default_rng(7)
    real = pl.read_parquet(prices, columns=["ticker", "date", "adj_close", "volume"])
    wide = real.pivot(on="ticker", index="date", values="adj_close").sort("date")
    volume = real.pivot(on="ticker", index="date", values="volume").sort("date")
    names = [c for c in wide.columns if c != "date"]
    level = wide.select(names).to_numpy().T
    returns = level[:, 1:] / level[:, :-1] - 1
    vols = volume.select(names).to_numpy().T[:, 1:].astype(np.float64)
    spy = names.index("SPY")
    others = np.array([i for i in range(len(names)) if i != spy])

    shared = np.sort(rng.choice(returns.shape[1], SYNTHETIC_SESSIONS, replace=False))
    source = others[np.arange(SYNTHETIC_TICKERS - 1) % len(others)]
    own = rng.integers(0, returns.shape[1], (SYNTHETIC_TICKERS - 1, SYNTHETIC_SESSIONS))
    when = np.where(rng.random(own.shape) < 0.7, shared, own)
    r = np.vstack([returns[spy, shared], returns[source[:, None], when]])
    v = np.vstack([vols[spy, shared], vols[source[:, None], when]])
    adj_close = 100 * np.cumprod(1 + np.nan_to_num(r), axis=1)
    session = wide["date"].to_numpy()[-SYNTHETIC_SESSIONS:]
    keep = ~np.isnan(r)
    names = np.array(["SPY"] + [f"S{i:04d}" for i in range(1, SYNTHETIC_TICKERS)])
    return pl.DataFrame(
        {
            "ticker": names[np.nonzero(keep)[0]],
            "date": np.broadcast_to(session, r.shape)[keep],
            "adj_close": adj_close[keep],
            "volume": pl.Series(v[keep], nan_to_null=True).cast(pl.Int64),
        }
    )


def _random_events(con, size: int, rng: np.random.Generator) -> pl.DataFrame:
    """Random events with at least 260 sessions of history; half timed, half date-only."""
    cols = con.execute(
        "SELECT ticker, list(date ORDER BY date) AS dates FROM prices GROUP BY ticker "
        "HAVING count(*) > 300"
    ).fetchnumpy()
    tickers = cols["ticker"]
    pick = rng.integers(0, len(tickers), size)
    days = np.empty(size, dtype="datetime64[D]")
    for i, dates in enumerate(cols["dates"]):
        chosen = np.flatnonzero(pick == i)
        history = np.asarray(dates, dtype="datetime64[D]")
        days[chosen] = history[rng.integers(260, len(history) - 6, len(chosen))]
    minutes = rng.integers(0, 24 * 60, size).astype("timedelta64[m]")
    timed = rng.random(size) < 0.5
    return pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(size)],
            "ticker": tickers[pick],
            "published_at": pl.Series(
                np.where(timed, days + minutes, np.datetime64("NaT")).astype("datetime64[us]")
            ).dt.replace_time_zone("UTC"),
            "published_date": pl.Series(np.where(timed, np.datetime64("NaT"), days)).cast(pl.Date),
        }
    )


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


if __name__ == "__main__":
    main()
