"""Time and peak memory of the reports (tagger.report.write_reports) for 100k and 1M small stories.

For each size a database is built first, in a process of its own: N synthetic two-company stories
("Nvidia Corp. (NASDAQ: NVDA) shares rose 3.1% ... Analysts at Morgan Stanley (NYSE: MS) ...")
over 40 companies with bundled prices, published at random times in 2022-2025, stored and tagged
through the library (one event per story: the subject), the bundled prices loaded and the study
run with its defaults. Then `write_reports` runs in a fresh process on that file: once into an
empty folder, and once more into the same folder with nothing changed (the re-run). Each prints
wall and CPU time (CPU time, user and system, is the steadier number on a shared machine) and
the process's peak RSS; the folder's size on disk is printed too.

The demo's reports (49 stories, every story with a chart) are timed the same way, as the small
case a person waits for.

Usage: python bench/bench_report.py [--sizes 100000,1000000] [--max-charts N]
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMPANIES = [
    ("Apple Inc.", "NASDAQ", "AAPL"),
    ("Microsoft Corp.", "NASDAQ", "MSFT"),
    ("Nvidia Corp.", "NASDAQ", "NVDA"),
    ("Amazon.com Inc.", "NASDAQ", "AMZN"),
    ("Alphabet Inc.", "NASDAQ", "GOOGL"),
    ("Meta Platforms Inc.", "NASDAQ", "META"),
    ("Tesla Inc.", "NASDAQ", "TSLA"),
    ("Intel Corp.", "NASDAQ", "INTC"),
    ("Micron Technology Inc.", "NASDAQ", "MU"),
    ("Advanced Micro Devices Inc.", "NASDAQ", "AMD"),
    ("Broadcom Inc.", "NASDAQ", "AVGO"),
    ("Qualcomm Inc.", "NASDAQ", "QCOM"),
    ("Cisco Systems Inc.", "NASDAQ", "CSCO"),
    ("Netflix Inc.", "NASDAQ", "NFLX"),
    ("PayPal Holdings Inc.", "NASDAQ", "PYPL"),
    ("Costco Wholesale Corp.", "NASDAQ", "COST"),
    ("Coca-Cola Co.", "NYSE", "KO"),
    ("Bank of America Corp.", "NYSE", "BAC"),
    ("JPMorgan Chase & Co.", "NYSE", "JPM"),
    ("Goldman Sachs Group Inc.", "NYSE", "GS"),
    ("Wells Fargo & Co.", "NYSE", "WFC"),
    ("Walmart Inc.", "NYSE", "WMT"),
    ("Home Depot Inc.", "NYSE", "HD"),
    ("Walt Disney Co.", "NYSE", "DIS"),
    ("Boeing Co.", "NYSE", "BA"),
    ("Lockheed Martin Corp.", "NYSE", "LMT"),
    ("Chevron Corp.", "NYSE", "CVX"),
    ("Eli Lilly and Co.", "NYSE", "LLY"),
    ("UnitedHealth Group Inc.", "NYSE", "UNH"),
    ("Oracle Corp.", "NYSE", "ORCL"),
    ("Salesforce Inc.", "NYSE", "CRM"),
    ("International Business Machines Corp.", "NYSE", "IBM"),
    ("Visa Inc.", "NYSE", "V"),
    ("Mastercard Inc.", "NYSE", "MA"),
    ("Target Corp.", "NYSE", "TGT"),
    ("Ford Motor Co.", "NYSE", "F"),
    ("General Motors Co.", "NYSE", "GM"),
    ("Uber Technologies Inc.", "NYSE", "UBER"),
    ("Palantir Technologies Inc.", "NYSE", "PLTR"),
    ("Dell Technologies Inc.", "NYSE", "DELL"),
]
ANALYST = ("Morgan Stanley", "NYSE", "MS")
START, END = datetime(2022, 3, 1, tzinfo=UTC), datetime(2025, 12, 31, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--max-charts", type=int, default=None)
    parser.add_argument("--build", nargs=2, metavar=("DB", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--write", nargs=2, metavar=("DB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build(Path(args.build[0]), args.build[1])))
        return
    if args.write:
        print(json.dumps(write(Path(args.write[0]), Path(args.write[1]), args.max_charts)))
        return
    print(
        f"{'stories':>9} {'run':<7} {'wall s':>8} {'CPU s':>7} {'CPU ms/story':>12} "
        f"{'peak RSS':>9} {'on disk':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo.duckdb"
        _run(["--build", str(demo), "demo"])
        _measure("demo (49)", demo, Path(tmp) / "demo", args.max_charts)
        for size in (int(s) for s in args.sizes.split(",")):
            database = Path(tmp) / f"bench-{size}.duckdb"
            built = _run(["--build", str(database), str(size)])
            _measure(f"{size:,}", database, Path(tmp) / f"reports-{size}", args.max_charts)
            print(f"{'':>9} (built in {built['seconds']:.0f} s: {built['events']:,} events)")
            database.unlink()


def _run(arguments: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *arguments], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure(label: str, database: Path, out: Path, max_charts: int | None) -> None:
    extra = [] if max_charts is None else ["--max-charts", str(max_charts)]
    for run in ("first", "re-run"):
        r = _run(["--write", str(database), str(out), *extra])
        print(
            f"{label:>9} {run:<7} {r['seconds']:>8.2f} {r['cpu']:>7.2f} "
            f"{1000 * r['cpu'] / r['stories']:>12.3f} "
            f"{r['peak_rss_gb']:>7.2f}GB {_size_gb(out):>7.2f}GB   "
            f"({r['files']:,} files, {r['changed']:,} written, {r['charts']:,} charts)",
            flush=True,
        )


def _size_gb(folder: Path) -> float:
    out = subprocess.run(["du", "-sk", str(folder)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0]) / 1024**2


def build(database: Path, size: int | str) -> dict:
    """A studied store: the demo stories (size "demo") or `size` synthetic stories."""
    import polars as pl

    import tagger
    from tagger import pipeline, prices, store, study
    from tagger.events import events_from_articles

    started = time.perf_counter()
    con = store.connect(database)
    if size == "demo":
        pipeline.run(
            con, [REPO / "data" / "articles" / "demo.jsonl"], database.parent / "run", online=False
        )
        return {"seconds": time.perf_counter() - started, "events": 0}
    rng = random.Random(12)
    span = (END - START).total_seconds()
    rows = []
    for i in range(int(size)):
        name, exchange, ticker = rng.choice(COMPANIES)
        when = START + timedelta(seconds=rng.random() * span)
        move = rng.choice(("rose", "fell", "jumped", "slid"))
        rows.append(
            {
                "id": f"bench:{i:07d}",
                "title": f"{name.split()[0]} shares {move} {rng.uniform(0.5, 9):.1f}% on {when:%A}",
                "body": f"{name} ({exchange}: {ticker}) shares {move} after the company updated "
                f"its guidance. Analysts at {ANALYST[0]} ({ANALYST[1]}: {ANALYST[2]}) kept their "
                "rating.",
                "published_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "url": f"https://news.example/{i}",
            }
        )
    news = database.with_suffix(".jsonl")
    news.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    del rows
    batch = tagger.read_articles([news])
    tagger.store_articles(con, batch.articles)
    tagger.store_tags(con, *tagger.tag_articles(batch.articles))
    events = events_from_articles(con, 50)
    tickers = pl.concat([events["ticker"], events["benchmark"], pl.Series(["SPY"])])
    prices.load_bundled(con, tickers.drop_nulls().unique().to_list())
    study.run_study(con, events)
    news.unlink()
    return {"seconds": time.perf_counter() - started, "events": events.height}


def write(database: Path, out: Path, max_charts: int | None) -> dict:
    from tagger import report, store

    con = store.connect(database, read_only=True)
    options = {} if max_charts is None else {"max_charts": max_charts}
    started, cpu = time.perf_counter(), time.process_time()
    written = report.write_reports(con, out, **options)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "stories": written.stories,
        "files": written.files,
        "changed": written.changed,
        "charts": written.charts,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
    }


if __name__ == "__main__":
    main()
