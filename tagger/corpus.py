"""Tagging a corpus of any size: articles are read, tagged and stored chunk by chunk.

Memory is bounded by the chunk (`CHUNK_ARTICLES` articles, `CHUNK_BYTES` bytes of text), not by
the corpus: only the running totals and the article ids outlive a chunk. `tagger tag` and
`tagger run` go through here; what is done with each chunk's tags is the caller's.

Chunks are tagged on `TAGGING_THREADS` threads, one chunk each, while this thread reads the next
chunk and stores and hands out finished ones in their order: most of the tagging runs inside
polars, which leaves Python's lock free, so two chunks in flight keep two cores busier than one
(measured in bench/bench_tagging.py). At most `TAGGING_THREADS` chunks are in flight.
"""

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from tagger import articles, resolve
from tagger.universe import Universe
from tagger.warm import Tagger

CHUNK_ARTICLES = 20_000
CHUNK_BYTES = 20_000_000
TAGGING_THREADS = 2


@dataclass
class Tally:
    """Running totals of a chunked tagging: what `read_articles` would have said, and counts."""

    ids: list[pl.Series] = field(default_factory=list)
    problems: list[articles.Problem] = field(default_factory=list)
    files: dict[str, None] = field(default_factory=dict)
    entities: int = 0
    mentions: int = 0
    reading_seconds: float = 0.0
    tagging_seconds: float = 0.0

    @property
    def articles(self) -> int:
        return sum(map(len, self.ids))

    def article_ids(self) -> pl.Series:
        return pl.concat(self.ids) if self.ids else pl.Series("article_id", [], pl.String)

    def summary(self) -> str:
        """`ArticleBatch.summary()` of all the chunks read."""
        frame = pl.DataFrame({"article_id": self.article_ids()})
        return articles.ArticleBatch(frame, self.problems, list(self.files)).summary()


def tag_chunks(
    paths: str | Path | Iterable[str | Path],
    universe: Universe | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    tally: Tally | None = None,
    chunk_articles: int = CHUNK_ARTICLES,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(articles, entities, mentions) of each chunk of the articles at `paths` with any (see
    `tagger.articles.iter_articles`), stored in `con` when given; `prepare` changes each chunk's
    articles before tagging (e.g. a publication time for all). `tally` counts as it goes."""
    tagger = Tagger(universe)
    tally = tally if tally is not None else Tally()
    in_flight: deque[tuple[pl.DataFrame, Future]] = deque()
    with ThreadPoolExecutor(TAGGING_THREADS, thread_name_prefix="tagging") as pool:
        for frame in _read(paths, tally, chunk_articles, chunk_bytes):
            frame = prepare(frame) if prepare else frame
            in_flight.append((frame, pool.submit(tagger.tag_articles, frame)))
            if len(in_flight) == TAGGING_THREADS:
                yield _finished(*in_flight.popleft(), con, tally)
        while in_flight:
            yield _finished(*in_flight.popleft(), con, tally)


def _read(paths, tally: Tally, chunk_articles: int, chunk_bytes: int) -> Iterator[pl.DataFrame]:
    """The non-empty article frames of the chunks read, with their problems and files tallied."""
    chunks = articles.iter_articles(paths, chunk_articles=chunk_articles, chunk_bytes=chunk_bytes)
    started = time.perf_counter()
    for batch in chunks:
        tally.reading_seconds += time.perf_counter() - started
        tally.problems.extend(batch.problems)
        tally.files.update(dict.fromkeys(batch.files))
        if not batch.articles.is_empty():
            yield batch.articles
        started = time.perf_counter()


def _finished(
    frame: pl.DataFrame, tagged: Future, con: duckdb.DuckDBPyConnection | None, tally: Tally
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A chunk's (articles, entities, mentions) once tagged, stored in `con` when given;
    `tally.tagging_seconds` counts the wait for it and the storing."""
    started = time.perf_counter()
    entities, mentions = tagged.result()
    if con is not None:
        articles.store_articles(con, frame)
        resolve.store_tags(con, entities, mentions)
    tally.tagging_seconds += time.perf_counter() - started
    tally.ids.append(frame["article_id"])
    tally.entities += entities.height
    tally.mentions += mentions.height
    return frame, entities, mentions
