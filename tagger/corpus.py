"""Tagging a corpus of any size: articles are read, tagged and stored chunk by chunk.

Memory is bounded by the chunk (`CHUNK_ARTICLES` articles, `CHUNK_BYTES` bytes of text), not by
the corpus: only the running totals and the article ids outlive a chunk. `tagger tag` and
`tagger run` go through here; what is done with each chunk's tags is the caller's.
"""

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from tagger import articles, resolve
from tagger.universe import Universe
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

    `workers` processes tag chunks side by side (default 1: this process alone; 0: one per
    core). Tagging holds Python's lock most of the time, so processes, not threads, are what
    use more cores: this process tags one chunk of every `workers`, worker processes (started
    at the second chunk, each sent the universe once) the others. The output does not depend
    on how many there are. Worker processes are spawned: a script that calls this with
    `workers` other than 1 must guard its top level with `if __name__ == "__main__":`.
    """
    tagger = Tagger(universe)
    tally = tally if tally is not None else Tally()
    workers = workers or len(os.sched_getaffinity(0))
    today = date.today()  # the day status is judged at for undated articles, in every process
    chunks = articles.iter_articles(paths, chunk_articles=chunk_articles, chunk_bytes=chunk_bytes)
    with _Pool(tagger.universe, workers - 1) as pool:
        while group := _read_group(chunks, workers, prepare, tally):
            started = time.perf_counter()
            tags = pool.tag(group[1:], today)
            tagged = [(group[0], *tagger.tag_articles(group[0], today=today))]
            remote = zip(group[1:], tags, strict=True)
            tagged += [(frame, *future.result()) for frame, future in remote]
            tally.tagging_seconds += time.perf_counter() - started
            for frame, entities, mentions in tagged:
                if con is not None:
                    articles.store_articles(con, frame)
                    resolve.store_tags(con, entities, mentions)
                tally.ids.append(frame["article_id"])
                tally.entities += entities.height
                tally.mentions += mentions.height
                yield frame, entities, mentions


def _read_group(
    chunks: Iterator[articles.ArticleBatch],
    size: int,
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None,
    tally: Tally,
) -> list[pl.DataFrame]:
    """The next `size` non-empty chunks' articles (fewer at the end), prepared and tallied."""
    group = []
    started = time.perf_counter()
    for batch in chunks:
        tally.problems.extend(batch.problems)
        tally.files.update(dict.fromkeys(batch.files))
        if not batch.articles.is_empty():
            group.append(prepare(batch.articles) if prepare else batch.articles)
            if len(group) == size:
                break
    tally.reading_seconds += time.perf_counter() - started
    return group


class _Pool:
    """Worker processes with a warm Tagger each, started when first given work."""

    def __init__(self, universe: Universe, size: int):
        self._universe = universe
        self._size = size
        self._executor: ProcessPoolExecutor | None = None

    def tag(self, frames: list[pl.DataFrame], today: date) -> list[Future]:
        if frames and self._executor is None:
            self._executor = ProcessPoolExecutor(
                self._size,
                mp_context=multiprocessing.get_context("spawn"),  # no fork under polars' threads
                initializer=_start_worker,
                initargs=(self._universe,),
            )
        return [self._executor.submit(_tag_in_worker, frame, today) for frame in frames]

    def __enter__(self) -> "_Pool":
        return self

    def __exit__(self, *exc) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)


_worker_tagger: Tagger | None = None


def _start_worker(universe: Universe) -> None:
    global _worker_tagger
    _worker_tagger = Tagger(universe)


def _tag_in_worker(frame: pl.DataFrame, today: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    return _worker_tagger.tag_articles(frame, today=today)
