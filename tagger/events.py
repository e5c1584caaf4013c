"""Events for the study: one row per (company, news time), read from a CSV or tagged articles.

Builds the canonical events frame (`EVENT_SCHEMA`) and nothing else: venues and day 0 are
`tagger.study` (with `tagger.markets` and `tagger.sessions`), the study itself is `tagger.study`.
Tickers are spelled one way everywhere (`tagger.prices.normalise_ticker`: BRK.B -> BRK-B, RIO.L
stays RIO.L), so an event finds the prices stored under the same symbol.
"""

from datetime import UTC, datetime
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
    "market": pl.String,  # market proxy for this event; null: the listing's local index
    "article_id": pl.String,  # the article of an event from tagged articles, else null
    "entity_idx": pl.Int32,
    "entity_id": pl.String,  # the tagger's stable company id, when the store has it
}
_TICKER_COLUMNS = ("ticker", "benchmark", "market")
_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_OFFSET_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%:z"
_NAIVE_FORMAT = "%Y-%m-%dT%H:%M:%S%.f"


def events_from_csv(path: str | Path) -> pl.DataFrame:
    """Events from a CSV with `ticker` and `date` (YYYY-MM-DD) or `published_at` (ISO 8601).

    Optional columns: `event_id` (default TICKER@TIME), `benchmark`, `market`, `company`. A time
    without a UTC offset is taken as UTC. A bad value raises InputError naming file, line and
    field:

        ticker,published_at,market
        005930.KS,2024-05-02T10:00:00Z,^KS11
        BRK.B,2024-05-02,          <- stored as BRK-B
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
    text = raw.select(
        pl.col(c).str.strip_chars().replace("", None)
        if c in raw.columns
        else pl.lit(None, pl.String).alias(c)
        for c in ("event_id", "ticker", "company", "benchmark", "market", "published_at", "date")
    )
    _check_required(text, path)
    published_at = _instants(text["published_at"], path)
    dated = published_at.is_null() & text["date"].is_not_null()
    published_date = _dates(text.select(pl.when(dated).then("date")).to_series(), path)
    events = pl.DataFrame(
        {
            "event_id": text["event_id"],
            "ticker": _normalised(text["ticker"], path, "ticker"),
            "company": text["company"],
            "status": pl.repeat("listed", text.height, eager=True),
            "published_at": published_at,
            "published_date": published_date,
            "benchmark": _normalised(text["benchmark"], path, "benchmark"),
            "market": _normalised(text["market"], path, "market"),
        }
    )
    return _with_event_ids(events.with_columns(_no_article()), path)


def events_from_articles(con: duckdb.DuckDBPyConnection, min_relevance: int = 50) -> pl.DataFrame:
    """Events from tagged articles (`queries/article_events.sql`): one per relevant entity on
    its primary line (or its listed parent), and one on a non-US company's US line."""
    found = sql.frame(con, "article_events", min_relevance=min_relevance)
    return found.select(
        (pl.col(c) if c in found.columns else pl.lit(None)).cast(dtype).alias(c)
        for c, dtype in EVENT_SCHEMA.items()
    )


def normalised_tickers(tickers: pl.Series) -> pl.Series:
    """`tagger.prices.normalise_ticker` of each (nulls stay null), once per distinct spelling.

    Raises InputError for a value that cannot be a ticker.
    """
    from tagger.prices import normalise_ticker

    distinct = tickers.drop_nulls().unique()
    spelled = [normalise_ticker(t) for t in distinct]
    if spelled == distinct.to_list():  # already spelled so: nothing to replace
        return tickers.cast(pl.String)
    return tickers.replace_strict(distinct, spelled, default=None, return_dtype=pl.String)


def _check_required(text: pl.DataFrame, path: Path) -> None:
    no_ticker = text["ticker"].is_null()
    no_time = text["published_at"].is_null() & text["date"].is_null()
    for problem, message in ((no_ticker, "empty ticker"), (no_time, "no date or published_at")):
        if problem.any():
            raise InputError(f"{path}, line {_line(problem)}: {message}")


def _normalised(tickers: pl.Series, path: Path, field: str) -> pl.Series:
    try:
        return normalised_tickers(tickers)
    except InputError:
        from tagger.prices import normalise_ticker

        for line, raw in enumerate(tickers, start=2):
            try:
                raw is None or normalise_ticker(raw)
            except InputError as e:
                raise InputError(f"{path}, line {line}, {field}: {e}") from None
        raise


def _instants(text: pl.Series, path: Path) -> pl.Series:
    """ISO 8601 times as UTC instants; a time without an offset is UTC. The common spelling
    (2024-05-02T20:05:00Z) is parsed first, then the other ISO 8601 spellings of what is left."""
    parsed = text.str.to_datetime(_UTC_FORMAT, time_unit="us", time_zone="UTC", strict=False)
    left = (parsed.is_null() & text.is_not_null()).arg_true()
    if len(left):
        rows = text.gather(left)
        spelled = rows.str.replace(r"^(\d{4}-\d\d-\d\d) ", "${1}T").str.replace(r"Z$", "+00:00")
        again = pl.select(
            pl.coalesce(
                pl.lit(spelled)
                .str.to_datetime(_OFFSET_FORMAT, time_unit="us", strict=False)
                .dt.convert_time_zone("UTC"),
                pl.lit(spelled)
                .str.to_datetime(_NAIVE_FORMAT, time_unit="us", strict=False)
                .dt.replace_time_zone("UTC"),
            )
        ).to_series()
        again = pl.Series(  # rarer ones (a comma fraction, a compact offset ...) or an error
            [
                v if v is not None else _parse_instant(t, path, int(i) + 2)
                for v, t, i in zip(again, rows, left, strict=True)
            ],
            dtype=pl.Datetime("us", "UTC"),
        )
        parsed = parsed.scatter(left, again)
    return parsed.alias("published_at")


def _parse_instant(text: str, path: Path, line: int) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{path}, line {line}: published_at {text!r} is not an ISO 8601 time "
            "(e.g. 2024-05-02T16:05:00-04:00)"
        ) from None
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _dates(text: pl.Series, path: Path) -> pl.Series:
    parsed = text.str.to_date("%Y-%m-%d", strict=False)
    bad = parsed.is_null() & text.is_not_null()
    if bad.any():
        line = _line(bad)
        raise InputError(
            f"{path}, line {line}: date {text[line - 2]!r} is not YYYY-MM-DD "
            "(put times in a published_at column)"
        )
    return parsed.alias("published_date")


def _line(problem: pl.Series) -> int:
    """The CSV line of the first True row (line 1 is the header)."""
    return int(problem.arg_true()[0]) + 2


def _no_article() -> list[pl.Expr]:
    return [
        pl.lit(None, EVENT_SCHEMA[c]).alias(c) for c in ("article_id", "entity_idx", "entity_id")
    ]


def _with_event_ids(events: pl.DataFrame, path: Path) -> pl.DataFrame:
    """Fill missing event ids with TICKER@TIME, with #2, #3 ... for the same ticker and time."""
    if events["event_id"].is_null().any():
        time = pl.coalesce(
            pl.col("published_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            pl.col("published_date").cast(pl.String),
        )
        default = events.select(pl.col("ticker") + "@" + time).to_series()
        if default.n_unique() < len(default):
            repeat = default.to_frame().select(pl.int_range(pl.len()).over("ticker")).to_series()
            default = default.zip_with(repeat == 0, default + "#" + (repeat + 1).cast(pl.String))
        events = events.with_columns(pl.coalesce("event_id", default).alias("event_id"))
    if events["event_id"].n_unique() < len(events):
        duplicated = events.filter(pl.col("event_id").is_duplicated())["event_id"]
        raise InputError(f"{path}: event_id {duplicated[0]!r} appears more than once")
    return events.select(list(EVENT_SCHEMA))
