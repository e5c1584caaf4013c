"""A warm tagger: the universe, its alias automata and its lookups loaded once, then many calls.

`Tagger(universe).tag(text)` tags one article through the same code as the corpus path
(`tagger.resolve.tag_articles`), so both give the same entities; what it saves is the set-up a
cold call pays (reading the universe, building the Aho-Corasick automaton of ~70k alias keys,
deriving the listing tables). A Tagger is safe to share between threads: after construction
nothing in it changes. `tagger.tag()` uses one shared default Tagger.
"""

import threading
from datetime import date, datetime

import polars as pl

from tagger.articles import content_id
from tagger.matcher import alias_automata
from tagger.resolve import _published, records, tag_articles
from tagger.universe import Universe, listing_records, load


class Tagger:
    """Tags articles against one universe (default: the bundled one), set up once."""

    def __init__(self, universe: Universe | None = None):
        self.universe = universe or load()
        alias_automata(self.universe)  # build now, not on the first article
        listing_records(self.universe)

    def tag(
        self,
        text: str,
        title: str | None = None,
        published: str | date | datetime | None = None,
        *,
        article_id: str | None = None,
    ) -> dict:
        """Tag one article; returns its record (see `tagger.resolve.records`).

        `published`: an ISO 8601 string, a date, or a timezone-aware datetime; without it
        listing status is judged as of today."""
        title = title or ""
        instant, day = _published(published)
        frame = pl.DataFrame(
            {
                "article_id": [article_id or content_id(title, text)],
                "title": [title],
                "body": [text],
                "published_raw": [published if isinstance(published, str) else None],
                "published_at": [instant],
                "published_date": [day],
            },
            schema_overrides={
                "published_raw": pl.String,
                "published_at": pl.Datetime("us", "UTC"),
                "published_date": pl.Date,
            },
        )
        entities, mentions = self.tag_articles(frame)
        return next(records(frame, entities, mentions))

    def tag_articles(
        self, articles: pl.DataFrame, *, today: date | None = None
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """`tagger.resolve.tag_articles` over this Tagger's universe."""
        return tag_articles(articles, self.universe, today=today)


_default: Tagger | None = None
_default_lock = threading.Lock()


def default_tagger() -> Tagger:
    """The shared Tagger of the bundled universe, made on first use."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Tagger()
    return _default
