"""Events for the study: one row per (company, news time), read from a CSV or tagged articles.

Builds the canonical events frame (`EVENT_SCHEMA`) and nothing else: alignment to day 0 is
`tagger.sessions`, the study itself is `tagger.study`.
"""

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from tagger import sql
from tagger.errors import InputError

EVENT_SCHEMA = {
    "event_id": pl.String,
    "ticker": pl.String,
    "company": pl.String,
    "status": pl.String,  # listed | private (measured through its listed parent)
    "published_at": pl.Datetime("us", "UTC"),
    "published_date": pl.Date,
    "benchmark": pl.String,  # second benchmark for this event (e.g. its sector ETF)
}


def events_from_csv(path: str | Path) -> pl.DataFrame:
    """Events from a CSV with `ticker` and `date` (YYYY-MM-DD) or `published_at` (ISO 8601).

    Optional columns: `event_id` (default TICKER@TIME), `benchmark`, `company`. A time without a
    UTC offset is taken as UTC.
    """
    path = Path(path)
    try:
        raw = pl.read_csv(path, infer_schema=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except pl.exceptions.PolarsError as e:
        raise InputError(f"{path}: not a readable CSV ({str(e).splitlines()[0]})") from None
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    if "ticker" not in raw.columns:
        raise InputError(f"{path}: no 'ticker' column; the header needs ticker and date")
    if "date" not in raw.columns and "published_at" not in raw.columns:
        raise InputError(f"{path}: no 'date' or 'published_at' column; add one of them")

    rows = []
    for line, row in enumerate(raw.iter_rows(named=True), start=2):
        ticker = (row["ticker"] or "").strip().upper()
        if not ticker:
            raise InputError(f"{path}, line {line}: empty ticker")
        published_at = _parse_instant(row.get("published_at"), path, line)
        published_date = None if published_at else _parse_date(row.get("date"), path, line)
        if published_at is None and published_date is None:
            raise InputError(f"{path}, line {line}: no date or published_at")
        rows.append(
            {
                "event_id": _blank_to_none(row.get("event_id")),
                "ticker": ticker,
                "company": _blank_to_none(row.get("company")),
                "status": "listed",
                "published_at": published_at,
                "published_date": published_date,
                "benchmark": (_blank_to_none(row.get("benchmark")) or "").upper() or None,
            }
        )
    events = pl.DataFrame(rows, schema=EVENT_SCHEMA)
    return _with_event_ids(events, path)


def events_from_articles(con: duckdb.DuckDBPyConnection, min_relevance: int = 50) -> pl.DataFrame:
    """Events from tagged articles (`queries/article_events.sql`), one per relevant entity."""
    columns = sql.run(con, "article_events", min_relevance=min_relevance).fetchnumpy()
    return pl.DataFrame(
        {name: columns[name] for name in EVENT_SCHEMA}, schema_overrides=EVENT_SCHEMA
    )


def _with_event_ids(events: pl.DataFrame, path: Path) -> pl.DataFrame:
    time = pl.coalesce(
        pl.col("published_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.col("published_date").cast(pl.String),
    )
    default = pl.col("ticker") + "@" + time
    repeat = pl.int_range(pl.len()).over(default)
    events = events.with_columns(
        pl.coalesce(
            pl.col("event_id"),
            pl.when(repeat == 0).then(default).otherwise(default + "#" + (repeat + 1).cast(str)),
        ).alias("event_id")
    )
    duplicated = events.filter(pl.col("event_id").is_duplicated())["event_id"]
    if len(duplicated):
        raise InputError(f"{path}: event_id {duplicated[0]!r} appears more than once")
    return events


def _parse_instant(text: str | None, path: Path, line: int) -> datetime | None:
    text = _blank_to_none(text)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{path}, line {line}: published_at {text!r} is not an ISO 8601 time "
            "(e.g. 2024-05-02T16:05:00-04:00)"
        ) from None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _parse_date(text: str | None, path: Path, line: int) -> date | None:
    text = _blank_to_none(text)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{path}, line {line}: date {text!r} is not YYYY-MM-DD "
            "(put times in a published_at column)"
        ) from None


def _blank_to_none(text: str | None) -> str | None:
    return text.strip() if text and text.strip() else None
