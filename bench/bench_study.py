"""Time the event study: the whole `tagger study` process next to a bare numpy reference, and the
library call (tagger.study.run_study) alone, with peak memory.

Whole process (`--part process`): for each size, the bench prepares a prices database (store
schema, prices loaded) and an events CSV of random (ticker, time) events, then times in fresh
processes, each with its own peak RSS:
- `python -m tagger.cli study --events events.csv --offline --estimation -260:-11
  --windows -1:1,-5:5` (imports, reading the CSV, day 0, the study with every test, storing, CSVs);
- a bare reference script: polars reads the same prices (parquet) and events, numpy computes only
  the market-model CARs of the same windows on the SPY calendar (16:00 New York closes).
It prints both wall and CPU times (user + system, all threads), their ratios, peak RSS and the
largest CAR difference between the two (events on 13:00 early-close afternoons differ in day 0
and are left out of that comparison). With `--repeat N` the two commands run in turn N times
(study, reference, study ...; each study on a fresh copy of the prices database) and the table
gives the median of each figure and the median of the pairwise ratios, so that a machine busy
with other work moves both sides alike; the load average is printed first.

Library (`--part library`): run_study on an in-memory-loaded store for 10k/100k/1M events over
the real panel and a synthetic one (5,000 tickers x 10 years resampled from the real returns).

Prices: the raw 692-ticker panel, 2015-01..2026-05 (prices_daily.parquet of the project's shared
data; give its path as the first argument), else the bundled data/prices/prices.parquet.

Usage: python bench/bench_study.py [PRICES] [--part process|library|both] [--sizes 100000,1000000]
                                   [--repeat N]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parent.parent
SHARED_PRICES = REPO.parent / "shared" / "data" / "prices" / "prices_daily.parquet"
BUNDLED_PRICES = REPO / "data" / "prices" / "prices.parquet"
SYNTHETIC_TICKERS = 5_000
SYNTHETIC_SESSIONS = 2_520
ESTIMATION = (-260, -11)
WINDOWS = ((-1, 1), (-5, 5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prices", nargs="?", default=None)
    parser.add_argument("--part", choices=("process", "library", "both"), default="process")
    parser.add_argument("--sizes", default=None, help="default 100000,1000000 (library: +10000)")
    parser.add_argument("--repeat", type=int, default=1, help="whole process: runs per command")
    parser.add_argument("--one", nargs=2, metavar=("UNIVERSE", "EVENTS"), help=argparse.SUPPRESS)
    parser.add_argument("--reference", nargs=3, metavar=("P", "E", "O"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference:
        reference_cars(*(Path(p) for p in args.reference))
        return
    prices = Path(args.prices) if args.prices else _default_prices()
    if not prices.is_file():
        sys.exit(f"bench_study: no price file at {prices}; pass a prices parquet path")
    if args.one:
        print(json.dumps(run_one(prices, args.one[0], int(args.one[1]))))
        return
    print(f"prices: {prices}")
    if args.part in ("process", "both"):
        sizes = args.sizes or "100000,1000000"
        _whole_process(prices, [int(s) for s in sizes.split(",")], max(1, args.repeat))
    if args.part in ("library", "both"):
        sizes = args.sizes or "10000,100000,1000000"
        _library(prices, [int(s) for s in sizes.split(",")])


def _default_prices() -> Path:
    return SHARED_PRICES if SHARED_PRICES.is_file() else BUNDLED_PRICES


# -- whole process: tagger study vs a bare numpy reference -------------------------------------


def _whole_process(prices: Path, sizes: list[int], repeat: int = 1) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load}; median of {repeat} run(s) each")
    print(
        f"{'events':>9} {'tagger study':>13} {'reference':>10} {'ratio':>6} {'CPU study':>10} "
        f"{'reference':>10} {'ratio':>6} {'peak RSS study':>15} {'reference':>10} "
        f"{'max |dCAR|':>11} {'compared':>9}"
    )
    panel = pl.read_parquet(prices, columns=["ticker", "date"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        prepared, database = tmp / "prices.duckdb", tmp / "study.duckdb"
        _prices_database(prices, prepared)
        for size in sizes:
            events = tmp / f"events_{size}.csv"
            _random_events(panel, size, np.random.default_rng(size)).write_csv(events)
            study_out, reference_out = tmp / f"study_{size}", tmp / f"reference_{size}.parquet"
            windows = ",".join(f"{s}:{e}" for s, e in WINDOWS)
            study_command = [
                *(sys.executable, "-m", "tagger.cli", "study", "--events", str(events)),
                *("--out", str(study_out), "--db", str(database), "--offline"),
                *(f"--estimation={ESTIMATION[0]}:{ESTIMATION[1]}", "--windows", windows),
            ]
            reference_command = [
                *(sys.executable, __file__, "--reference"),
                *(str(prices), str(events), str(reference_out)),
            ]
            runs = []
            for _ in range(repeat):
                shutil.copyfile(prepared, database)  # every run starts from the same store
                runs.append((_timed(study_command), _timed(reference_command)))
            study = _medians([s for s, _ in runs])
            reference = _medians([r for _, r in runs])
            wall_ratio = _median([s[0] / r[0] for s, r in runs])
            cpu_ratio = _median([s[1] / r[1] for s, r in runs])
            gap, compared = _car_difference(study_out / "events.csv", reference_out)
            print(
                f"{size:>9,} {study[0]:>12.2f}s {reference[0]:>9.2f}s "
                f"{wall_ratio:>6.2f} {study[1]:>9.2f}s {reference[1]:>9.2f}s "
                f"{cpu_ratio:>6.2f} {study[2]:>13.2f}GB {reference[2]:>8.2f}GB "
                f"{gap:>11.1e} {compared:>9,}",
                flush=True,
            )


def _prices_database(prices: Path, database: Path) -> None:
    from tagger import store

    con = store.connect(database)
    con.execute(
        "INSERT INTO prices (ticker, date, open, high, low, close, adj_close, volume, source, "
        "fetched_at) SELECT ticker, date, open, high, low, close, adj_close, volume, 'bench', "
        "now() FROM read_parquet($path)",
        {"path": str(prices)},
    )
    con.close()


def _timed(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, all threads) and peak RSS (GB) of a command
    run in its own process. CPU time is what a busy machine changes least."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: warnings never block it
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status):
            errors.seek(0)
            sys.exit(f"bench_study: {command[2:4]} failed:\n{errors.read().decode()}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024**2


def _median(values) -> float:
    return float(np.median(values))


def _medians(runs: list[tuple[float, ...]]) -> tuple[float, ...]:
    """The median of each figure over runs of (wall, CPU, peak RSS)."""
    return tuple(_median(figure) for figure in zip(*runs, strict=True))


def _car_difference(study_csv: Path, reference: Path) -> tuple[float, int]:
    names = [f"car_{'_'.join(f'm{-d}' if d < 0 else str(d) for d in w)}" for w in WINDOWS]
    ours = pl.read_csv(study_csv, columns=["event_id", *names])
    theirs = pl.read_parquet(reference).filter(~pl.col("early_close_afternoon"))
    both = ours.join(theirs, on="event_id", suffix="_ref").drop_nulls()
    gap = both.select(
        pl.max_horizontal((pl.col(n) - pl.col(f"{n}_ref")).abs().max() for n in names)
    ).item()
    return gap or 0.0, both.height


def reference_cars(prices: Path, events_csv: Path, out: Path) -> None:
    """The bare reference: market-model CARs of WINDOWS for each event, numpy only."""
    frame = pl.read_parquet(prices, columns=["ticker", "date", "adj_close"])
    dates = frame["date"].unique().sort()
    tickers = frame["ticker"].unique().sort()
    level = np.full((len(tickers), len(dates)), np.nan)
    level[_positions(frame["ticker"], tickers), _positions(frame["date"], dates)] = frame[
        "adj_close"
    ].to_numpy()
    ret = np.full_like(level, np.nan)
    ret[:, 1:] = level[:, 1:] / level[:, :-1] - 1
    market = ret[tickers.to_list().index("SPY")]

    events = pl.read_csv(events_csv, schema_overrides={"date": pl.Date})
    instant = events["published_at"].str.to_datetime(time_zone="UTC")
    closes = (
        dates.cast(pl.Datetime("us"))
        .dt.offset_by("16h")
        .dt.replace_time_zone("America/New_York")
        .dt.convert_time_zone("UTC")
    )
    day_ns = dates.cast(pl.Datetime("us")).to_physical().to_numpy()
    timed = instant.is_not_null().to_numpy()
    col0 = np.where(
        timed,
        np.searchsorted(
            closes.to_physical().to_numpy(), instant.to_physical().fill_null(0), "right"
        ),
        np.searchsorted(day_ns, events["date"].cast(pl.Datetime("us")).to_physical().fill_null(0)),
    )
    rows = _positions(events["ticker"], tickers)
    local = instant.dt.convert_time_zone("America/New_York")
    early = (local.dt.hour() >= 13).fill_null(False).to_numpy()  # afternoons of short days differ

    ok = ~np.isnan(ret) & ~np.isnan(market)
    r, m = np.where(ok, ret, 0.0), np.where(ok, market, 0.0)

    def window_sum(values, first, last):
        prefix = np.zeros((values.shape[0], values.shape[1] + 1))
        np.cumsum(values, axis=1, out=prefix[:, 1:])
        return prefix[rows, col0 + last + 1] - prefix[rows, col0 + first]

    n, sr, sm, srm, smm = (window_sum(v, *ESTIMATION) for v in (ok * 1.0, r, m, r * m, m * m))
    beta = (srm - sr * sm / n) / (smm - sm * sm / n)
    alpha = (sr - beta * sm) / n
    cars = {}
    for first, last in WINDOWS:
        valid = window_sum(ok * 1.0, first, last)
        car = window_sum(r, first, last) - alpha * valid - beta * window_sum(m, first, last)
        name = "_".join(f"m{-d}" if d < 0 else str(d) for d in (first, last))
        cars[f"car_{name}"] = np.where(valid > 0, car, np.nan)
    pl.DataFrame(
        {"event_id": events["event_id"], **cars, "early_close_afternoon": early & timed}
    ).write_parquet(out)


def _positions(values: pl.Series, sorted_unique: pl.Series) -> np.ndarray:
    return np.searchsorted(sorted_unique.to_numpy(), values.to_numpy())


# -- library: run_study alone ------------------------------------------------------------------


def _library(prices: Path, sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic.parquet"
        _synthetic_prices(prices).write_parquet(synthetic)
        print(f"{'universe':<10} {'events':>9} {'seconds':>8} {'events/s':>10} {'peak RSS':>9}")
        for universe, path in (("real", prices), ("synthetic", synthetic)):
            for size in sizes:
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
    panel = pl.read_parquet(prices, columns=["ticker", "date"])
    events = _random_events(panel, size, np.random.default_rng(size)).with_columns(
        pl.col("published_at").str.to_datetime(time_zone="UTC")
    )
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

    sessions = min(SYNTHETIC_SESSIONS, returns.shape[1])
    shared = np.sort(rng.choice(returns.shape[1], sessions, replace=False))
    source = others[np.arange(SYNTHETIC_TICKERS - 1) % len(others)]
    own = rng.integers(0, returns.shape[1], (SYNTHETIC_TICKERS - 1, sessions))
    when = np.where(rng.random(own.shape) < 0.7, shared, own)
    r = np.vstack([returns[spy, shared], returns[source[:, None], when]])
    v = np.vstack([vols[spy, shared], vols[source[:, None], when]])
    adj_close = 100 * np.cumprod(1 + np.nan_to_num(r), axis=1)
    session = wide["date"].to_numpy()[-sessions:]
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


def _random_events(prices: pl.DataFrame, size: int, rng: np.random.Generator) -> pl.DataFrame:
    """Random events with at least 270 sessions of history and 6 after; half timed (any minute
    of the day, UTC, ISO 8601), half date-only."""
    history = (
        prices.group_by("ticker")
        .agg(pl.col("date").sort())
        .filter(pl.col("date").list.len() > 300)
        .sort("ticker")
    )
    tickers = history["ticker"].to_numpy()
    pick = rng.integers(0, len(tickers), size)
    days = np.empty(size, dtype="datetime64[D]")
    for i, dates in enumerate(history["date"]):
        chosen = np.flatnonzero(pick == i)
        known = dates.to_numpy().astype("datetime64[D]")
        days[chosen] = known[rng.integers(270, len(known) - 6, len(chosen))]
    minutes = rng.integers(0, 24 * 60, size).astype("timedelta64[m]")
    timed = rng.random(size) < 0.5
    instant = pl.Series(np.where(timed, days + minutes, np.datetime64("NaT")).astype("M8[us]"))
    return pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(size)],
            "ticker": tickers[pick],
            "date": pl.Series(np.where(timed, np.datetime64("NaT"), days)).cast(pl.Date),
            "published_at": instant.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


if __name__ == "__main__":
    main()
