"""Tagging speed: articles and MB per second on a large corpus, universe load time, peak memory.

Usage: python bench/bench_tagging.py [NEWS_DIR] [--articles N] [--threads T]
The corpus is the labelled dev set (NEWS_DIR, default ../shared/data/news; or, without it, the
repo's test fixtures) repeated to N articles (default 100,000), each with its own id.
--threads sets POLARS_MAX_THREADS (default: all cores) to report per-core throughput.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT.parent / "shared" / "data" / "news"
FIXTURES = ROOT / "tests" / "fixtures" / "articles"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("news", nargs="?", type=Path, default=NEWS)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        os.environ["POLARS_MAX_THREADS"] = str(args.threads)

    import polars as pl

    from tagger import tag_articles
    from tagger.universe import load

    corpus, source = repeated_corpus(args.news, args.articles)
    megabytes = text_megabytes(corpus)

    started = time.perf_counter()
    universe = load()
    load_seconds = time.perf_counter() - started
    tag_articles(corpus.head(100), universe)  # warm-up: imports, regex compilation

    started = time.perf_counter()
    entities, _ = tag_articles(corpus, universe)
    seconds = time.perf_counter() - started
    threads = pl.thread_pool_size()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus        {corpus.height:,} articles, {megabytes:.1f} MB ({source})")
    print(f"universe      {universe.aliases.height:,} aliases, loaded in {load_seconds:.3f} s")
    print(f"tagging       {seconds:.2f} s on {threads} threads, {entities.height:,} entities")
    print(
        f"throughput    {corpus.height / seconds:,.0f} articles/s, {megabytes / seconds:.1f} MB/s"
    )
    print(
        f"per core      {corpus.height / seconds / threads:,.0f} articles/s, "
        f"{megabytes / seconds / threads:.1f} MB/s"
    )
    print(f"peak memory   {peak:,.0f} MB")


def repeated_corpus(news: Path, articles: int):
    """The .jsonl articles in `news` (else the test fixtures) repeated to `articles` articles,
    each with its own id (columns article_id, title, body, published_raw, published_at,
    published_date); and the folder they came from."""
    import polars as pl

    from tagger import read_articles

    source = news if news.is_dir() else FIXTURES
    batch = read_articles(sorted(source.glob("*.jsonl")))
    seed = batch.articles.select(
        "article_id", "title", "body", "published_raw", "published_at", "published_date"
    )
    corpus = (
        pl.concat([seed] * (articles // seed.height + 1))
        .head(articles)
        .with_columns(pl.int_range(pl.len()).cast(pl.String).alias("article_id"))
    )
    return corpus, source


def text_megabytes(corpus) -> float:
    """MB (10^6 bytes) of UTF-8 text in the corpus' titles and bodies."""
    return (corpus["title"].str.len_bytes().sum() + corpus["body"].str.len_bytes().sum()) / 1e6


if __name__ == "__main__":
    sys.exit(main())
