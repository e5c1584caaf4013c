"""Single-article tagging latency: a warm Tagger's median and p99 per article, against a cold
call (a universe object seen for the first time: automata and lookups built in the call).

Usage: python bench/bench_single.py [NEWS_DIR] [--rounds R] [--cold N]
Articles: the labelled dev set (NEWS_DIR, default ../shared/data/news) and the demo stories;
without NEWS_DIR, the repo's test fixtures and the demo stories. Each article is tagged R times
(default 3); the cold call is timed on N articles (default 3).
"""

import argparse
import statistics
import sys
import time
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT.parent / "shared" / "data" / "news"
FIXTURES = ROOT / "tests" / "fixtures" / "articles"
DEMO = ROOT / "data" / "articles" / "demo.jsonl"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("news", nargs="?", type=Path, default=NEWS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args()

    from tagger import Tagger, read_articles
    from tagger.universe import Universe, load

    files = sorted(args.news.glob("*.jsonl")) if args.news.is_dir() else sorted(FIXTURES.iterdir())
    rows = list(read_articles([*files, DEMO]).articles.iter_rows(named=True))

    def call(tagger, row):
        published = row["published_raw"] or row["published_at"] or row["published_date"]
        started = time.perf_counter()
        tagger.tag(row["body"] or "", row["title"], published, article_id=row["article_id"])
        return time.perf_counter() - started

    started = time.perf_counter()
    tagger = Tagger()
    setup = time.perf_counter() - started
    call(tagger, rows[0])  # warm-up: imports, regex compilation
    times, sizes = [], []
    for _ in range(args.rounds):
        for row in rows:
            times.append(call(tagger, row))
            sizes.append(len((row["title"] or "").encode()) + len((row["body"] or "").encode()))
    large = [t for t, size in zip(times, sizes, strict=True) if size >= 1000]

    def cold_call(row):  # a universe object never seen: what every call paid before Tagger
        universe = load()
        started = time.perf_counter()
        fresh = Tagger(Universe(**{f.name: getattr(universe, f.name) for f in fields(universe)}))
        return time.perf_counter() - started + call(fresh, row)

    cold = [cold_call(row) for row in rows[: args.cold]]

    ms = 1000
    print(f"articles      {len(rows)} ({', '.join(f.name for f in files)} + {DEMO.name})")
    print(f"warm set-up   {setup:.2f} s (universe, alias automata, listing tables)")
    print(
        f"warm          median {statistics.median(times) * ms:.1f} ms, "
        f"p99 {percentile(times, 0.99) * ms:.1f} ms per article ({len(times)} calls)"
    )
    if large:
        print(
            f"warm >= 1 KB  median {statistics.median(large) * ms:.1f} ms, "
            f"p99 {percentile(large, 0.99) * ms:.1f} ms ({len(large)} calls)"
        )
    warm, cold_median = statistics.median(times), statistics.median(cold)
    print(f"cold          median {cold_median * ms:.0f} ms per call ({len(cold)} calls)")
    print(f"ratio         cold / warm median {cold_median / warm:.0f}x")


if __name__ == "__main__":
    sys.exit(main())
