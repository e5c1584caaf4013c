"""Tagging a corpus of any size: articles are read, tagged and stored chunk by chunk.

Memory is bounded by the chunk (`CHUNK_ARTICLES` articles, `CHUNK_BYTES` bytes of text), not by
the corpus: only the running totals and the article ids outlive a chunk. `tagger tag` and
`tagger run` go through here; what is done with each chunk's tags is the caller's.
"""

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
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
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """(articles, entities, mentions) of each chunk of the articles at `paths` with any (see
    `tagger.articles.iter_articles`), stored in `con` when given; `prepare` changes each chunk's
    articles before tagging (e.g. a publication time for all). `tally` counts as it goes."""
    tagger = Tagger(universe)
    tally = tally if tally is not None else Tally()
    started = time.perf_counter()
    chunks = articles.iter_articles(paths, chunk_articles=chunk_articles, chunk_bytes=chunk_bytes)
    for batch in chunks:
        tally.reading_seconds += time.perf_counter() - started
        tally.problems.extend(batch.problems)
        tally.files.update(dict.fromkeys(batch.files))
        frame = batch.articles
        if not frame.is_empty():
            started = time.perf_counter()
            frame = prepare(frame) if prepare else frame
            entities, mentions = tagger.tag_articles(frame)
            if con is not None:
                articles.store_articles(con, frame)
                resolve.store_tags(con, entities, mentions)
            tally.tagging_seconds += time.perf_counter() - started
            tally.ids.append(frame["article_id"])
            tally.entities += entities.height
            tally.mentions += mentions.height
            yield frame, entities, mentions
        started = time.perf_counter()
