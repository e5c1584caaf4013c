"""Tagging speed and memory on a large corpus, streamed from a JSONL file, against a gazetteer.

Usage: python bench/bench_tagging.py [NEWS_DIR] [--articles N] [--threads T] [--no-gazetteer]
The corpus is the labelled dev set (NEWS_DIR, default ../shared/data/news; or, without it, the
repo's test fixtures) repeated to N articles (default 100,000), each with its own id, written
to a temporary JSONL file. It is tagged the way `tagger tag` does it (`tagger.corpus`: read,
tag, chunk by chunk, two chunks at once on two threads), then by the "hobbyist" peer on the same
file in the same process: a pyahocorasick automaton of every listed company's alias -> ticker,
over each line's lower-cased title and body, keeping whole-word hits. Peak memory is the
process's (the gazetteer's is small).
--threads sets POLARS_MAX_THREADS (default: all cores) to report per-core throughput.
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT.parent / "shared" / "data" / "news"
FIXTURES = ROOT / "tests" / "fixtures" / "articles"


def write_corpus(seeds: list[dict], count: int, path: Path) -> float:
    """`count` articles cycling through `seeds`, one JSON object a line; returns text MB."""
    text_bytes = 0
    with path.open("w", encoding="utf-8") as file:
        for i in range(count):
            seed = seeds[i % len(seeds)]
            file.write(json.dumps({**seed, "id": str(i)}) + "\n")
            text_bytes += len((seed["title"] or "").encode()) + len(seed["body"].encode())
    return text_bytes / 1e6


def gazetteer(universe):
    """The hobbyist's tagger: alias (lower case) -> ticker of every listed company."""
    import ahocorasick
    import polars as pl

    names = (
        universe.aliases.join(universe.companies.select("company_id", "ticker"), on="company_id")
        .filter(pl.col("ticker").is_not_null())
        .select(pl.col("alias").str.to_lowercase(), "ticker")
        .unique("alias")
    )
    automaton = ahocorasick.Automaton()
    for alias, ticker in names.iter_rows():
        automaton.add_word(alias, (len(alias), ticker))
    automaton.make_automaton()
    return automaton


def gazetteer_hits(automaton, path: Path) -> int:
    hits = 0
    with path.open(encoding="utf-8") as file:
        for line in file:
            article = json.loads(line)
            text = f"{article.get('title') or ''}\n{article.get('body') or ''}".lower()
            for end, (length, _ticker) in automaton.iter(text):
                start = end - length + 1
                before = text[start - 1] if start else " "
                after = text[end + 1] if end + 1 < len(text) else " "
                if not before.isalnum() and not after.isalnum():
                    hits += 1
    return hits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("news", nargs="?", type=Path, default=NEWS)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--no-gazetteer", action="store_true")
    args = parser.parse_args()
    if args.threads:
        os.environ["POLARS_MAX_THREADS"] = str(args.threads)

    import polars as pl

    from tagger import Tagger, read_articles
    from tagger.corpus import Tally, tag_chunks

    source = args.news if args.news.is_dir() else FIXTURES
    seeds = (
        read_articles(sorted(source.glob("*.jsonl")))
        .articles.select(
            "title",
            pl.col("body").fill_null(""),
            pl.coalesce("published_raw", pl.col("published_date").dt.to_string()).alias(
                "published_at"
            ),
        )
        .to_dicts()
    )
    folder = tempfile.TemporaryDirectory()
    corpus = Path(folder.name) / "corpus.jsonl"
    megabytes = write_corpus(seeds, args.articles, corpus)

    started = time.perf_counter()
    tagger = Tagger()
    setup_seconds = time.perf_counter() - started
    tagger.tag_articles(pl.DataFrame({"article_id": ["0"], "title": [""], "body": ["Apple"]}))

    tally = Tally()
    started = time.perf_counter()
    for _ in tag_chunks(corpus, tagger.universe, tally=tally):
        pass
    seconds = time.perf_counter() - started
    threads = pl.thread_pool_size()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"corpus        {tally.articles:,} articles, {megabytes:.1f} MB ({source})")
    print(f"set-up        universe, automata and lookups in {setup_seconds:.2f} s")
    print(
        f"tagging       {seconds:.2f} s on {threads} threads, {tally.entities:,} entities "
        f"(reading {tally.reading_seconds:.2f} s, tagging {tally.tagging_seconds:.2f} s)"
    )
    print(
        f"throughput    {tally.articles / seconds:,.0f} articles/s, {megabytes / seconds:.1f} MB/s"
    )
    print(
        f"per core      {tally.articles / seconds / threads:,.0f} articles/s, "
        f"{megabytes / seconds / threads:.1f} MB/s"
    )
    print(f"peak memory   {peak:,.0f} MB")
    if not args.no_gazetteer:
        automaton = gazetteer(tagger.universe)
        started = time.perf_counter()
        hits = gazetteer_hits(automaton, corpus)
        baseline = time.perf_counter() - started
        print(
            f"gazetteer     {baseline:.2f} s, {megabytes / baseline:.1f} MB/s, {hits:,} hits "
            f"(pyahocorasick, one thread)"
        )
        print(f"ratio         tagger {baseline / seconds:.2f}x the gazetteer's throughput")


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
