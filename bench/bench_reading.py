"""Reading speed and memory: `iter_articles` over a large JSON Lines file, in bounded batches.

Usage: python bench/bench_reading.py [NEWS_DIR] [--articles N] [--chunk-articles C]
The corpus is the labelled dev set's records (NEWS_DIR, default ../shared/data/news; or, without
it, the repo's test fixtures) repeated to N articles (default 1,000,000), each with its own id,
written to a temporary .jsonl file. It reports the streaming read's time and peak memory (RSS),
then, in the same process, the time polars' `read_ndjson` takes to load the same file's six
article columns (the baseline: a whole-file read with no per-record checks).
"""

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT.parent / "shared" / "data" / "news"
FIXTURES = ROOT / "tests" / "fixtures" / "articles"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("news", nargs="?", type=Path, default=NEWS)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--chunk-articles", type=int, default=None)
    args = parser.parse_args()

    import polars as pl

    from tagger.articles import CHUNK_ARTICLES, iter_articles

    source = args.news if args.news.is_dir() else FIXTURES
    seed = [
        json.loads(line)
        for path in sorted(source.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "corpus.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for i in range(args.articles):
                out.write(json.dumps(seed[i % len(seed)] | {"id": str(i)}) + "\n")
        megabytes = path.stat().st_size / 1e6
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        started = time.perf_counter()
        articles = batches = problems = 0
        for batch in iter_articles([path], chunk_articles=args.chunk_articles or CHUNK_ARTICLES):
            articles += batch.articles.height
            problems += len(batch.problems)
            batches += 1
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        started = time.perf_counter()
        names = ("id", "title", "body", "published_at", "publisher", "url")
        pl.read_ndjson(path, schema={name: pl.String for name in names})
        baseline = time.perf_counter() - started

    print(f"corpus        {args.articles:,} articles, {megabytes:,.0f} MB of JSON Lines ({source})")
    print(f"read          {articles:,} articles in {batches:,} batches, {problems:,} problems")
    rate = f"{articles / seconds:,.0f} articles/s, {megabytes / seconds:.1f} MB/s"
    print(f"time          {seconds:.1f} s: {rate}")
    print(f"peak memory   {peak:,.0f} MB (before reading: {before:,.0f} MB)")
    ratio = f"{baseline:.1f} s (streaming read: {seconds / baseline:.1f}x)"
    print(f"baseline      polars read_ndjson of the whole file: {ratio}")


if __name__ == "__main__":
    sys.exit(main())
