"""Tagging a corpus of any size: articles are read, tagged and stored chunk by chunk.

Memory is bounded by the chunk (`CHUNK_ARTICLES` articles, `CHUNK_BYTES` bytes of text), not by
the corpus: only the running totals and the article ids outlive a chunk. `tagger tag` and
`tagger run` go through here; what is done with each chunk's tags is the caller's.
"""

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from itertools import chain, islice
from pathlib import Path

import duckdb
import polars as pl

from tagger import articles, resolve
from tagger.universe import Universe, load
from tagger.warm import Tagger

CHUNK_ARTICLES = 20_000
CHUNK_BYTES = 20_000_000


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
    workers: int = 1,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(articles, entities, mentions) of each chunk of the articles at `paths` with any (see
    `tagger.articles.iter_articles`), in input order, stored in `con` when given; `prepare`
    changes each chunk's articles before tagging (e.g. a publication time for all). `tally`
    counts as it goes.

    `workers` processes tag the chunks side by side (default 1: this process; 0: one per
    core). Tagging holds Python's lock most of the time, so processes, not threads, are what
    use more cores: with more than one chunk, worker processes (each sent the universe once)
    tag while this one reads the next chunks and stores the tags, at most `workers` + 1 chunks
    in flight. The output does not depend on how many there are. Workers are spawned: a script
    that calls this with `workers` other than 1 must guard its top level with
    `if __name__ == "__main__":`.
    """
    tally = tally if tally is not None else Tally()
    workers = workers or len(os.sched_getaffinity(0))
    today = date.today()  # the day status is judged at for undated articles, in every process
    chunks = articles.iter_articles(paths, chunk_articles=chunk_articles, chunk_bytes=chunk_bytes)
    frames = _prepared(chunks, prepare, tally)
    ahead = list(islice(frames, 2))
    if workers == 1 or len(ahead) < 2:  # one chunk is not worth starting a process
        tagger = Tagger(universe)
        for frame in chain(ahead, frames):
            started = time.perf_counter()
            entities, mentions = tagger.tag_articles(frame, today=today)
            tally.tagging_seconds += time.perf_counter() - started
            yield _kept(frame, entities, mentions, con, tally)
        return
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),  # no fork under polars' threads
        initializer=_start_worker,
        initargs=(universe or load(),),
    )
    try:
        in_flight: deque[tuple[pl.DataFrame, Future]] = deque()
        for frame in chain(ahead, frames):
            in_flight.append((frame, pool.submit(_tag_in_worker, frame, today)))
            while len(in_flight) > workers or (in_flight and in_flight[0][1].done()):
                yield _kept_when_tagged(*in_flight.popleft(), con, tally)
        while in_flight:
            yield _kept_when_tagged(*in_flight.popleft(), con, tally)
    finally:
        pool.shutdown(cancel_futures=True)


def _prepared(
    chunks: Iterator[articles.ArticleBatch],
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None,
    tally: Tally,
) -> Iterator[pl.DataFrame]:
    """The non-empty chunks' articles, prepared; their problems and files tallied."""
    started = time.perf_counter()
    for batch in chunks:
        tally.problems.extend(batch.problems)
        tally.files.update(dict.fromkeys(batch.files))
        tally.reading_seconds += time.perf_counter() - started
        if not batch.articles.is_empty():
            yield prepare(batch.articles) if prepare else batch.articles
        started = time.perf_counter()


def _kept_when_tagged(
    frame: pl.DataFrame, tags: Future, con: duckdb.DuckDBPyConnection | None, tally: Tally
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    started = time.perf_counter()
    entities, mentions = tags.result()
    tally.tagging_seconds += time.perf_counter() - started
    return _kept(frame, entities, mentions, con, tally)


def _kept(
    frame: pl.DataFrame,
    entities: pl.DataFrame,
    mentions: pl.DataFrame,
    con: duckdb.DuckDBPyConnection | None,
    tally: Tally,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """A chunk's tags, stored in `con` when given and counted."""
    if con is not None:
        articles.store_articles(con, frame)
        resolve.store_tags(con, entities, mentions)
    tally.ids.append(frame["article_id"])
    tally.entities += entities.height
    tally.mentions += mentions.height
    return frame, entities, mentions


_worker_tagger: Tagger | None = None


def _start_worker(universe: Universe) -> None:
    global _worker_tagger
    _worker_tagger = Tagger(universe)


def _tag_in_worker(frame: pl.DataFrame, today: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    return _worker_tagger.tag_articles(frame, today=today)
