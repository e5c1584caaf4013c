"""Tagging on Spark against the local corpus path, in one process, on the same corpus.

Usage: python bench/bench_spark.py [NEWS_DIR] [--articles N] [--master local[2]]
The corpus is bench_tagging's: the labelled dev set (NEWS_DIR, default ../shared/data/news; or,
without it, the repo's test fixtures) repeated to N articles (default 1,000,000), written to a
temporary Parquet file. Measured:
- local: `tag_articles` on batches of 50,000 articles (as `iter_articles` reads them), 2 threads;
- spark: `tagger.spark.tag_table` (read Parquet, tag, write the entity rows and the problems,
  count them): the job of `tagger spark tag`, after a warm-up job on 1,000 articles; the input
  is read in about 8 partitions (spark.sql.files.minPartitionNum), so both cores have work;
- memory: this process's peak RSS, the Spark JVM's, and each Python worker's peak; and a
  fresh Python worker's RSS before and after loading the universe (what an executor needs).
Both runs must give the same number of entity rows, and the same rows for the first 50,000
articles.
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench_tagging import NEWS, repeated_corpus, text_megabytes

BATCH = 50_000
PARTITIONS = 8  # the Parquet input is read in about this many partitions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("news", nargs="?", type=Path, default=NEWS)
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()

    import polars as pl

    from tagger import spark, tag_articles
    from tagger.entity_rows import entity_rows
    from tagger.universe import load

    corpus, source = repeated_corpus(args.news, args.articles)
    megabytes = text_megabytes(corpus)
    print(f"corpus        {corpus.height:,} articles, {megabytes:.1f} MB ({source})")

    universe = load()
    tag_articles(corpus.head(100), universe)  # warm-up: imports, regex compilation
    started = time.perf_counter()
    local_rows = sum(
        tag_articles(corpus.slice(start, BATCH), universe)[0].height
        for start in range(0, corpus.height, BATCH)
    )
    local_seconds = time.perf_counter() - started
    local_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _report("local", corpus.height, megabytes, local_seconds, f"{pl.thread_pool_size()} threads")

    with tempfile.TemporaryDirectory() as folder:
        news = Path(folder) / "news.parquet"
        corpus.select(
            pl.col("article_id").alias("id"),
            "title",
            "body",
            pl.col("published_raw").alias("published_at"),
        ).write_parquet(news, row_group_size=10_000)
        corpus.head(1_000).select(pl.col("article_id").alias("id"), "title", "body").write_parquet(
            Path(folder) / "warm.parquet"
        )
        head = corpus.head(BATCH)
        expected = entity_rows(head, *tag_articles(head, universe)).sort("id", "entity_idx")
        del corpus, head
        settings = {
            "spark.ui.enabled": "false",
            "spark.sql.files.minPartitionNum": str(PARTITIONS),
            "spark.sql.files.openCostInBytes": "1",  # one file: split it by size alone
        }
        session = spark.session(args.master, settings)
        session.sparkContext.setLogLevel("ERROR")
        print(f"universe      Python worker RSS {_universe_memory(session)}")
        spark.tag_table(session, str(Path(folder) / "warm.parquet"), str(Path(folder) / "warm"))
        started = time.perf_counter()
        summary = spark.tag_table(session, str(news), str(Path(folder) / "tags"))
        seconds = time.perf_counter() - started
        partitions = session.read.parquet(str(news)).rdd.getNumPartitions()
        _report("spark", args.articles, megabytes, seconds, f"{args.master}, {partitions} tasks")
        print(f"ratio         spark takes {seconds / local_seconds:.2f}x the local path's time")
        peaks = _process_peaks()
        session.stop()
        written = pl.read_parquet(sorted((Path(folder) / "tags").glob("*.parquet")))
        first = written.filter(pl.col("id").is_in(expected["id"].implode()))
        same_rows = first.sort("id", "entity_idx").equals(expected)
    end_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory   this process: {_mb(local_peak)} after the local run, "
        f"{_mb(end_peak)} at the end"
    )
    for name, peak in peaks:
        print(f"              {name}: {_mb(peak)}")
    same = summary.entities == local_rows and same_rows
    verdict = "the same" if same_rows else "DIFFERENT"
    print(
        f"entity rows   local {local_rows:,}, spark {summary.entities:,}; the first "
        f"{min(BATCH, args.articles):,} articles' rows are {verdict}"
    )
    return 0 if same else 1


def _report(name: str, articles: int, megabytes: float, seconds: float, how: str) -> None:
    print(
        f"{name:<13} {seconds:.2f} s ({how}): {articles / seconds:,.0f} articles/s, "
        f"{megabytes / seconds:.1f} MB/s"
    )


def _universe_memory(session) -> str:
    """Each Python worker's RSS (MB) before and after it loads the universe, on fresh workers."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = pa.schema([("pid", pa.int64()), ("before", pa.float64()), ("after", pa.float64())])

    def measure(batches):
        from tagger.universe import load

        for _ in batches:
            pass
        before = _rss_mb(os.getpid())
        load()
        after = _rss_mb(os.getpid())
        yield pa.RecordBatch.from_pylist(
            [{"pid": os.getpid(), "before": before, "after": after}], schema=schema
        )

    parallelism = session.sparkContext.defaultParallelism
    rows = (
        session.range(parallelism, numPartitions=parallelism)
        .mapInArrow(measure, from_arrow_schema(schema))
        .collect()
    )
    return ", ".join(f"{r['before']:.0f} -> {r['after']:.0f} MB" for r in rows)


def _rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _process_peaks() -> list[tuple[str, float]]:
    """The peak RSS (MB) of this process's descendants: the JVM and the Python workers."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            peak = _rss_mb(pid, "VmHWM")
        except OSError:
            continue
        name = (
            "JVM" if "java" in command.split(" ")[0] else "worker" if "pyspark" in command else ""
        )
        if name:
            found.append((f"{name} {pid}", peak))
    return sorted(found)


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


if __name__ == "__main__":
    sys.exit(main())
