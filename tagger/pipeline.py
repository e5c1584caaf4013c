"""The main job end to end: articles -> tags -> prices -> event study -> reports.

Each step is a library call of its own module (and a CLI command); this module only chains them
over one store, so that a re-run reuses what the store already holds: articles are upserted,
tags replaced, prices fetched only where missing, the study replaced in one transaction, and the
reports rewritten.
"""

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from tagger import prices, sessions, study

if TYPE_CHECKING:  # `tagger study` needs only the prices and the study: the tagging stays unloaded
    from tagger.universe import Universe

Progress = Callable[[str], None]
PRICE_MARGIN = 5  # extra trading days of prices on each side of what the study reads


@dataclass(frozen=True)
class RunSummary:
    """What a run did: counts and what is missing (shown by `tagger run`)."""

    articles: int
    problems: list = field(default_factory=list)
    entities: int = 0
    events: int = 0
    studied: int = 0
    price_gaps: tuple = ()
    reports: object = None


def run(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | Path],
    out: str | Path,
    *,
    min_relevance: int = 50,
    online: bool = True,
    refresh: bool = False,
    settings: study.StudySettings | None = None,
    universe: "Universe | None" = None,
    tags: str | Path | None = None,
    progress: Progress | None = None,
) -> RunSummary:
    """Read, tag and store the articles at `paths`, get the prices their events need, run the
    event study and write the reports to `out`. With `tags` (entity rows, as `tagger spark tag`
    writes them), the articles' tags are read from there instead of tagging them."""
    from tagger import articles, corpus, entity_rows, events, report, resolve

    settings = settings or study.StudySettings()
    step = progress or (lambda _: None)

    step("reading articles")
    tally = corpus.Tally()
    if tags is None:  # read, tagged and stored chunk by chunk: memory bounded by a chunk
        for _ in corpus.tag_chunks(paths, universe, con=con, tally=tally):
            step(f"tagging: {tally.articles:,} articles, {tally.entities:,} companies named")
    else:  # the tags are checked against the articles before anything is stored
        batch = articles.read_articles(paths)
        frame = batch.articles
        step("reading tags")
        entities, mentions = entity_rows.read_tags(tags, frame["article_id"])
        articles.store_articles(con, frame)
        resolve.store_tags(con, entities, mentions)
        tally.ids.append(frame["article_id"])
        tally.problems.extend(batch.problems)
        tally.entities = entities.height

    step("finding events")
    ids = tally.article_ids()
    found = events.events_from_articles(con, min_relevance).filter(
        pl.col("article_id").is_in(ids.implode())
    )

    gaps: tuple = ()
    studied = 0
    if not found.is_empty():
        step("getting prices")
        found = study.prepared_events(found, settings)  # once, for the prices and the study
        gaps = ensure_event_prices(con, found, settings, online=online, refresh=refresh).gaps
        step("running the event study")
        result = study.run_study(con, found, **asdict(settings))
        studied = int(
            result.events["flags"].str.contains("|".join(study.OUT_OF_SAMPLE_FLAGS)).not_().sum()
        )

    step("writing reports")
    written = report.write_reports(con, out, article_ids=ids.to_list(), min_relevance=min_relevance)
    return RunSummary(
        articles=tally.articles,
        problems=tally.problems,
        entities=tally.entities,
        events=found.height,
        studied=studied,
        price_gaps=gaps,
        reports=written,
    )


def ensure_event_prices(
    con: duckdb.DuckDBPyConnection,
    found: pl.DataFrame,
    settings: study.StudySettings,
    *,
    online: bool = True,
    refresh: bool = False,
) -> prices.PriceReport:
    """Make available the prices a study of `found` reads: each event's ticker, benchmark and
    market proxy (its own, or its listing's local index, or `settings.market`), from the
    estimation window's first day to the last event day on each listing's calendar."""
    events = study.prepared_events(found, settings).filter(pl.col("event_date").is_not_null())
    reports = []
    for (calendar,), group in events.group_by("calendar", maintain_order=True):
        tickers = pl.concat([group["ticker"], group["benchmark"], group["market"]]).drop_nulls()
        if tickers.is_empty():
            continue
        start, end = _price_range(sessions.calendar(calendar), group["event_date"], settings)
        wanted = tickers.unique().sort().to_list()
        report = prices.ensure_prices(con, wanted, start, end, online=online, refresh=refresh)
        reports.append(report)
        # Yahoo unreachable once: the other calendars' prices are not asked for this run
        online = online and not report.stopped
    return prices.PriceReport(
        tuple(w for r in reports for w in r.written),
        tuple(gap for r in reports for gap in r.gaps),
        tuple(dict.fromkeys(note for r in reports for note in r.notes)),
    )


def _price_range(
    calendar: sessions.SessionCalendar, days: pl.Series, settings: study.StudySettings
) -> tuple[date, date]:
    """First and last calendar day of prices a study of events on `days` (sessions of
    `calendar`) reads."""
    index = calendar.index_of(days.to_numpy())
    first = int(index.min()) + settings.estimation[0] - 1 - PRICE_MARGIN
    last = int(index.max()) + settings.span[1] + PRICE_MARGIN
    dates = calendar.session_dates(first, last)
    return dates[0], dates[-1]
