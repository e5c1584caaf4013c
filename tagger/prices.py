"""Daily prices in the store: from the bundled snapshot, from Yahoo Finance, or from a user's file.

Every write is one transaction that also records, in `price_coverage`, the date ranges a source
answered for, so a re-run asks only for what is missing. This module computes no returns.
Dates are inclusive at both ends; the Yahoo request's exclusive end is made here.
"""

import ast
import logging
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from time import sleep
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import polars as pl
import yfinance as yf
from yfinance.exceptions import YFRateLimitError

from tagger import sql
from tagger.errors import InputError, NetworkError
from tagger.paths import DATA
from tagger.store import transaction

SOURCE_YFINANCE = "yfinance"
SOURCE_BUNDLED = "bundled"
BUNDLED_PATH = DATA / "prices" / "prices.parquet"
BATCH_SIZE = 50
RATE_LIMIT_RETRIES = 3
BACKOFF_SECONDS = 5.0
MARKET_TZ = ZoneInfo("America/New_York")

PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")
PRICE_SCHEMA = {
    "ticker": pl.String,
    "date": pl.Date,
    **dict.fromkeys(PRICE_COLUMNS, pl.Float64),
    "volume": pl.Int64,
}
COVERAGE_SCHEMA = {
    "ticker": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "rows": pl.Int32,
    "reason": pl.String,
}
_YAHOO_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}
_SYMBOL = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=^]*$")
_SHARE_CLASS = re.compile(r"^([A-Z]+)[./]([A-Z])$")
# yf.download logs one line per failure reason: "['AAPL', 'MSFT']: DNSError('...')".
_FAILED_DOWNLOAD = re.compile(r"^(\[[^\]]*\]): (.+)$", re.DOTALL)
_EXCEPTION_REPR = re.compile(r"^(\w+)\((['\"])(.*)\2\)$", re.DOTALL)
_NETWORK_ERRORS = re.compile(
    r"curl: \(\d+\)|^(DNSError|ConnectionError|ConnectTimeout|ReadTimeout|Timeout|ProxyError"
    r"|SSLError|TimeoutError|OSError)\("
)

Download = Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class PriceGap:
    """Part of a request that has no prices, and why. `retry`: a later run will ask again."""

    ticker: str
    start: date
    end: date
    reason: str
    retry: bool


@dataclass(frozen=True)
class PriceReport:
    """What a load, fetch or import wrote, and which requested prices are still missing."""

    rows_written: int = 0
    tickers_written: tuple[str, ...] = ()
    gaps: tuple[PriceGap, ...] = ()
    notes: tuple[str, ...] = ()

    def gaps_frame(self) -> pl.DataFrame:
        """The gaps as a table (ticker, start, end, reason, retry), for printing."""
        return pl.DataFrame(
            [vars(gap) for gap in self.gaps],
            schema={
                "ticker": pl.String,
                "start": pl.Date,
                "end": pl.Date,
                "reason": pl.String,
                "retry": pl.Boolean,
            },
            orient="row",
        )


@dataclass(frozen=True)
class _YahooAnswer:
    prices: pl.DataFrame
    no_data: dict[str, str]  # ticker -> what Yahoo said; recorded, not asked again
    unreachable: dict[str, str]  # ticker -> network or rate-limit reason; asked again next run


def normalise_ticker(raw: str) -> str:
    """The Yahoo-style symbol: trimmed, upper case, share class after a dash (brk.b -> BRK-B).

    Raises InputError for text that cannot be a symbol.
    """
    symbol = _yahoo_symbol(raw)
    if symbol is None:
        raise InputError(f"{raw!r} is not a ticker; expected a symbol such as AAPL or BRK-B")
    return symbol


def normalise_tickers(raw: Iterable[str]) -> list[str]:
    """`normalise_ticker` of each, without duplicates, in the order given."""
    return list(dict.fromkeys(normalise_ticker(t) for t in raw))


def last_complete_day() -> date:
    """Yesterday in New York: the latest date whose daily prices are final."""
    return datetime.now(MARKET_TZ).date() - timedelta(days=1)


def missing_ranges(
    covered: Iterable[tuple[date, date]], start: date, end: date
) -> list[tuple[date, date]]:
    """The parts of start..end outside every covered range (all inclusive), except weekend-only
    parts, which have no trading to ask for."""
    gaps = []
    cursor = start
    for first, last in sorted(covered):
        if first > cursor:
            gaps.append((cursor, min(first - timedelta(days=1), end)))
        cursor = max(cursor, last + timedelta(days=1))
        if cursor > end:
            break
    if cursor <= end:
        gaps.append((cursor, end))
    return [(first, last) for first, last in gaps if first <= last and _has_weekday(first, last)]


def load_bundled(con: duckdb.DuckDBPyConnection, tickers: Iterable[str]) -> PriceReport:
    """Copy the bundled snapshot's prices for `tickers` into the store (source 'bundled').

    Tickers whose snapshot window is already covered are skipped, so repeated calls are cheap.
    Tickers the snapshot lacks are reported as gaps.
    """
    tickers = normalise_tickers(tickers)
    bundled_tickers, first, last = _snapshot()
    absent = [t for t in tickers if t not in bundled_tickers]
    wanted = [t for t in tickers if t in bundled_tickers]
    todo = [t for t, ranges in _uncovered(con, wanted, first, last).items() if ranges]
    gaps = tuple(
        PriceGap(t, first, last, "not in the bundled price snapshot", retry=True) for t in absent
    )
    if not todo:
        return PriceReport(gaps=gaps)
    rows = pl.read_parquet(BUNDLED_PATH).filter(pl.col("ticker").is_in(todo))
    written = _write(
        con, "prices/insert_new", SOURCE_BUNDLED, rows, _coverage_rows(rows, first, last)
    )
    return PriceReport(len(written), tuple(sorted(set(written))), gaps)


def fetch_prices(
    con: duckdb.DuckDBPyConnection,
    tickers: Iterable[str],
    start: date,
    end: date | None = None,
    *,
    download: Download = yf.download,
) -> PriceReport:
    """Fetch from Yahoo Finance the parts of start..end not yet in the store, in batches.

    `end` defaults to, and is capped at, `last_complete_day()`. Each batch is saved in its own
    transaction. Tickers for which Yahoo has no prices are reported as gaps and not asked again;
    raises NetworkError when Yahoo cannot be reached (batches already fetched are kept).
    """
    tickers = normalise_tickers(tickers)
    latest = last_complete_day()
    end = min(end or latest, latest)
    written, unreachable, offline = _fetch_missing(con, tickers, start, end, download)
    if offline:
        saved = f"{len(written)} rows fetched before were saved" if written else "nothing saved"
        raise NetworkError(f"Yahoo Finance did not answer ({offline}); {saved}; re-run to resume")
    return _report(con, tickers, start, end, written, unreachable)


def import_prices(con: duckdb.DuckDBPyConnection, path: str | Path) -> PriceReport:
    """Import a long-format CSV or Parquet file (ticker, date, close and/or adj_close, optional
    open, high, low, volume) with source 'file:<name>'.

    Rows replace stored rows for the same ticker and date. A bad file writes nothing: InputError
    names the file, line (CSV) or row (Parquet), and field.
    """
    path = Path(path)
    rows, notes = _read_price_file(path)
    written = _write(con, "prices/replace", f"file:{path.name}", rows, _coverage_rows(rows))
    return PriceReport(len(written), tuple(sorted(set(written))), notes=notes)


def ensure_prices(
    con: duckdb.DuckDBPyConnection,
    tickers: Iterable[str],
    start: date,
    end: date,
    *,
    online: bool = True,
    download: Download = yf.download,
) -> PriceReport:
    """Make start..end prices available for `tickers`: from the store, else the bundled snapshot,
    else Yahoo Finance (when `online`). Never raises for a missing ticker: the report's gaps say
    which tickers lack prices, where, and why.
    """
    tickers = normalise_tickers(tickers)
    end = min(end, last_complete_day())
    _, first, last = _snapshot()
    need_bundled = [
        t
        for t, ranges in _uncovered(con, tickers, start, end).items()
        if any(s <= last and e >= first for s, e in ranges)
    ]
    bundled = load_bundled(con, need_bundled)
    if online:
        written, unreachable, offline = _fetch_missing(con, tickers, start, end, download)
        if offline:
            unreachable = dict.fromkeys(tickers, f"Yahoo Finance did not answer ({offline})")
    else:
        written = []
        unreachable = dict.fromkeys(tickers, "not in the store or the bundled snapshot (offline)")
    report = _report(con, tickers, start, end, written, unreachable)
    return PriceReport(
        bundled.rows_written + report.rows_written,
        tuple(sorted(set(bundled.tickers_written) | set(report.tickers_written))),
        report.gaps,
    )


def _fetch_missing(
    con: duckdb.DuckDBPyConnection,
    tickers: list[str],
    start: date,
    end: date,
    download: Download,
) -> tuple[list[str], dict[str, str], str | None]:
    """Ask Yahoo for every uncovered range, batch by batch, saving each batch.

    Returns the ticker of each row written, the tickers Yahoo could not serve this time (with
    why), and, when a whole batch got no answer, the reason (the run stops there).
    """
    by_range: dict[tuple[date, date], list[str]] = {}
    for ticker, ranges in _uncovered(con, tickers, start, end).items():
        for span in ranges:
            by_range.setdefault(span, []).append(ticker)
    written: list[str] = []
    unreachable: dict[str, str] = {}
    for (first, last), group in by_range.items():
        for i in range(0, len(group), BATCH_SIZE):
            batch = group[i : i + BATCH_SIZE]
            answer = _ask_yahoo(download, batch, first, last)
            if len(answer.unreachable) == len(batch):
                return written, unreachable, _common_reason(answer.unreachable)
            coverage = pl.concat(
                [
                    _coverage_rows(answer.prices, first, last),
                    _no_data_rows(answer.no_data, first, last),
                ]
            )
            written += _write(con, "prices/insert_new", SOURCE_YFINANCE, answer.prices, coverage)
            unreachable.update(answer.unreachable)
    return written, unreachable, None


def _ask_yahoo(download: Download, tickers: list[str], first: date, last: date) -> _YahooAnswer:
    """One batch from Yahoo, retrying rate-limited tickers with exponential backoff."""
    found = []
    no_data: dict[str, str] = {}
    unreachable: dict[str, str] = {}
    pending = tickers
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        if attempt:
            sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        frame, reasons = _download(download, pending, first, last)
        prices = _yahoo_rows(frame).filter(pl.col("date").is_between(first, last))
        found.append(prices)
        answered = set(prices["ticker"])
        rate_limited = []
        for ticker in pending:
            if ticker in answered:
                continue
            reason = reasons.get(ticker, "Yahoo returned no rows")
            if "YFRateLimitError" in reason:
                rate_limited.append(ticker)
            elif _NETWORK_ERRORS.search(reason):
                unreachable[ticker] = _plain_reason(reason)
            else:
                no_data[ticker] = _plain_reason(reason)
        if not rate_limited:
            break
        pending = rate_limited
    else:
        tries = RATE_LIMIT_RETRIES + 1
        unreachable.update(
            dict.fromkeys(pending, f"rate limited by Yahoo (too many requests) after {tries} tries")
        )
    return _YahooAnswer(pl.concat(found), no_data, unreachable)


def _download(
    download: Download, tickers: list[str], first: date, last: date
) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """Call `download` as yf.download; returns its frame and each failed ticker's reason.

    yf.download does not raise for a failed ticker: it logs the reason and leaves the ticker's
    columns empty. With `hide_exceptions` off, each logged reason names the exception
    (DNSError, YFRateLimitError, YFPricesMissingError...), which is how offline is told apart
    from a ticker Yahoo has no prices for.
    """
    reasons: dict[str, str] = {}
    with _yahoo_failures(reasons), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance\.")
        try:
            frame = download(
                tickers,
                start=first.isoformat(),
                end=(last + timedelta(days=1)).isoformat(),
                auto_adjust=False,
                progress=False,
            )
        except YFRateLimitError as e:
            return None, dict.fromkeys(tickers, repr(e))
    return frame, reasons


@contextmanager
def _yahoo_failures(reasons: dict[str, str]) -> Iterator[None]:
    """Collect into `reasons` the per-ticker failures yfinance logs while the block runs."""

    class FailedDownloads(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            match = _FAILED_DOWNLOAD.match(record.getMessage())
            if match:
                try:
                    failed = ast.literal_eval(match.group(1))
                except (ValueError, SyntaxError):
                    return
                reasons.update(dict.fromkeys((str(t).strip().upper() for t in failed), match[2]))

    logger = logging.getLogger("yfinance")
    handler = FailedDownloads(logging.ERROR)
    hide_exceptions = yf.config.debug.hide_exceptions
    yf.config.debug.hide_exceptions = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        yf.config.debug.hide_exceptions = hide_exceptions


def _yahoo_rows(frame: pd.DataFrame | None) -> pl.DataFrame:
    """yf.download's wide frame (columns (Price, Ticker), one row per date) as one row per
    ticker and date; the all-NaN rows of tickers without data that day are dropped."""
    if frame is None or frame.empty:
        return pl.DataFrame(schema=PRICE_SCHEMA)
    index = frame.index if frame.index.tz is None else frame.index.tz_localize(None)
    dates = index.to_numpy().astype("datetime64[D]")
    parts = [
        pl.DataFrame(
            {
                "date": dates,
                **{
                    name: frame[(column, ticker)].to_numpy(dtype="float64")
                    for column, name in _YAHOO_COLUMNS.items()
                },
            }
        ).with_columns(ticker=pl.lit(str(ticker)))
        for ticker in frame.columns.unique(level="Ticker")
    ]
    return (
        pl.concat(parts)
        .with_columns(pl.col(*PRICE_COLUMNS, "volume").fill_nan(None))
        .filter(pl.col("adj_close").is_not_null())
        .select(pl.col(name).cast(dtype) for name, dtype in PRICE_SCHEMA.items())
    )


def _read_price_file(path: Path) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """The rows of a long-format price file, checked; raises InputError at the first problem."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"{path}: expected a .csv or .parquet file")
    unit, first_line = ("line", 2) if suffix == ".csv" else ("row", 1)  # CSV line 1: header
    try:
        raw = pl.read_csv(path, infer_schema=False) if suffix == ".csv" else pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as e:
        raise InputError(f"{path}: cannot read as {suffix[1:]} ({_first_line(e)})") from None
    raw = raw.rename(lambda c: c.strip().lower().replace(" ", "_"))
    missing = [c for c in ("ticker", "date") if c not in raw.columns]
    if not {"close", "adj_close"} & set(raw.columns):
        missing.append("close or adj_close")
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; a price file needs ticker, date "
            "and close or adj_close"
        )
    if raw.is_empty():
        raise InputError(f"{path}: no rows")
    rows, problems = _parse_price_columns(raw.with_row_index("line", offset=first_line))
    if problems.height:
        line, field, problem = problems.sort("line", maintain_order=True).row(0)
        raise InputError(f"{path} {unit} {line}, field {field}: {problem}")
    repeats = (
        rows.with_columns(first=pl.col("line").min().over("ticker", "date"))
        .filter(pl.col("line") != pl.col("first"))
        .sort("line")
    )
    if repeats.height:
        line, first, ticker, day = repeats.select("line", "first", "ticker", "date").row(0)
        raise InputError(
            f"{path} {unit} {line}, fields ticker, date: {ticker} {day} repeats {unit} {first}"
        )
    if "adj_close" in raw.columns:
        return rows.drop("line"), ()
    note = f"{path.name}: no adj_close column, so adj_close = close (no dividend adjustment)"
    return rows.drop("line").with_columns(adj_close=pl.col("close")), (note,)


def _parse_price_columns(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed price rows (with `line`; adj_close null when the file has none), and the problems
    found, as (line, field, problem)."""
    numbers = [c for c in (*PRICE_COLUMNS, "volume") if c in raw.columns]
    given = raw.select(
        "line", *(pl.col(c).cast(pl.String).str.strip_chars() for c in ("ticker", "date", *numbers))
    )
    rows = pl.DataFrame(
        {
            "line": raw["line"],
            "ticker": given["ticker"].map_elements(_yahoo_symbol, return_dtype=pl.String),
            "date": _as_date(raw["date"]),
            **{c: _as_float(raw[c]) for c in numbers},
        }
    )
    required = "adj_close" if "adj_close" in numbers else "close"
    checks = [
        ("ticker", rows["ticker"].is_null(), "{} is not a ticker"),
        ("date", rows["date"].is_null(), "{} is not a date (expected YYYY-MM-DD)"),
        (required, given[required].is_null(), "missing value"),
    ]
    for column in numbers:
        value = rows[column]
        checks.append((column, given[column].is_not_null() & value.is_null(), "{} is not a number"))
        if column == "volume":
            whole = (value >= 0) & (value == value.floor())
            checks.append((column, value.is_not_null() & ~whole, "{} is not a number of shares"))
        else:
            positive = (value > 0) & value.is_finite()
            checks.append((column, value.is_not_null() & ~positive, "price {} is not positive"))
    problems = pl.concat(
        given.filter(bad).select(
            "line",
            field=pl.lit(field),
            problem=pl.format(message, pl.format("'{}'", field).fill_null("''"))
            if "{}" in message
            else pl.lit(message),
        )
        for field, bad, message in checks
    )
    return rows.select(
        "line",
        *(
            pl.col(name).cast(dtype) if name in rows.columns else pl.lit(None, dtype).alias(name)
            for name, dtype in PRICE_SCHEMA.items()
        ),
    ), problems


def _as_date(column: pl.Series) -> pl.Series:
    """Dates from a Date, Datetime or YYYY-MM-DD text column; null where unreadable."""
    if column.dtype == pl.Date:
        return column
    if isinstance(column.dtype, pl.Datetime):
        return column.dt.date()
    return column.cast(pl.String).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)


def _as_float(column: pl.Series) -> pl.Series:
    """Numbers from a numeric or text column; null where empty, NaN or unreadable."""
    if column.dtype.is_numeric():
        return column.cast(pl.Float64).fill_nan(None)
    return column.str.strip_chars().cast(pl.Float64, strict=False).fill_nan(None)


def _write(
    con: duckdb.DuckDBPyConnection,
    query: str,
    source: str,
    rows: pl.DataFrame,
    coverage: pl.DataFrame,
) -> list[str]:
    """In one transaction, run `query` over `rows` and record `coverage`; returns the ticker of
    each row written."""
    with (
        _staged(con, staged_prices=rows.select(*PRICE_SCHEMA)),
        _staged(con, staged_coverage=coverage.select(*COVERAGE_SCHEMA)),
        transaction(con),
    ):
        written = [r[0] for r in sql.run(con, query, source=source).fetchall()]
        sql.run(con, "prices/record_coverage", source=source)
    return written


@contextmanager
def _staged(con: duckdb.DuckDBPyConnection, **frames: pl.DataFrame) -> Iterator[None]:
    """Each frame visible to SQL as a view of its keyword's name while the block runs.
    Registered outside the block's transaction, so a failed write still unregisters cleanly."""
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        yield
    finally:
        for name in frames:
            con.unregister(name)


def _coverage_rows(
    rows: pl.DataFrame, first: date | None = None, last: date | None = None
) -> pl.DataFrame:
    """One coverage row per ticker in `rows`: the range first..last when given, else the
    ticker's own first..last date, and its row count."""
    return (
        rows.group_by("ticker", maintain_order=True)
        .agg(
            start_date=pl.lit(first, pl.Date) if first else pl.col("date").min(),
            end_date=pl.lit(last, pl.Date) if last else pl.col("date").max(),
            rows=pl.len(),
            reason=pl.lit(None, pl.String),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in COVERAGE_SCHEMA.items())
    )


def _no_data_rows(no_data: dict[str, str], first: date, last: date) -> pl.DataFrame:
    """Coverage rows for tickers a source had no prices for in first..last, with its reason."""
    return pl.DataFrame(
        {
            "ticker": list(no_data),
            "start_date": [first] * len(no_data),
            "end_date": [last] * len(no_data),
            "rows": [0] * len(no_data),
            "reason": list(no_data.values()),
        },
        schema=COVERAGE_SCHEMA,
    )


def _uncovered(
    con: duckdb.DuckDBPyConnection, tickers: list[str], start: date, end: date
) -> dict[str, list[tuple[date, date]]]:
    """Per ticker, the parts of start..end no source has answered for yet."""
    if start > end:
        return {t: [] for t in tickers}
    covered: dict[str, list[tuple[date, date]]] = {t: [] for t in tickers}
    for ticker, first, last in sql.run(
        con, "prices/coverage", tickers=tickers, start=start, end=end
    ).fetchall():
        covered[ticker].append((first, last))
    return {t: missing_ranges(ranges, start, end) for t, ranges in covered.items()}


def _report(
    con: duckdb.DuckDBPyConnection,
    tickers: list[str],
    start: date,
    end: date,
    written: list[str],
    unreachable: dict[str, str],
) -> PriceReport:
    """The rows written, and the gaps left: uncovered ranges (with why they were not filled)
    and tickers with no prices at all in start..end (with what the source said)."""
    gaps = [
        PriceGap(ticker, first, last, unreachable.get(ticker, "not fetched"), retry=True)
        for ticker, ranges in _uncovered(con, tickers, start, end).items()
        for first, last in ranges
    ]
    with_gaps = {gap.ticker for gap in gaps}
    if start <= end:
        for ticker, rows, sources, reason in sql.run(
            con, "prices/window_summary", tickers=tickers, start=start, end=end
        ).fetchall():
            if rows == 0 and ticker not in with_gaps:
                said = reason or f"no prices in this range from {sources}"
                gaps.append(PriceGap(ticker, start, end, said, retry=False))
    return PriceReport(len(written), tuple(sorted(set(written))), tuple(gaps))


@cache
def _snapshot() -> tuple[frozenset[str], date, date]:
    """The bundled snapshot's tickers and first and last dates."""
    summary = (
        pl.scan_parquet(BUNDLED_PATH)
        .select(
            pl.col("ticker").unique().implode(),
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
        )
        .collect()
    )
    tickers, first, last = summary.row(0)
    return frozenset(tickers), first, last


def _yahoo_symbol(raw: str | None) -> str | None:
    if raw is None:
        return None
    symbol = _SHARE_CLASS.sub(r"\1-\2", raw.strip().upper())
    return symbol if _SYMBOL.match(symbol) else None


def _has_weekday(first: date, last: date) -> bool:
    return (last - first).days >= 2 or first.weekday() < 5 or last.weekday() < 5


def _plain_reason(reason: str) -> str:
    """A logged yfinance reason as one short line: DNSError('Failed to perform, curl: (6) Could
    not resolve host: x. See https://...') -> 'Could not resolve host: x'."""
    match = _EXCEPTION_REPR.match(reason.strip())
    text = match.group(3) if match else reason
    text = re.sub(r"^Failed to perform, curl: \(\d+\) ", "", text)
    text = re.sub(r"\s*See https://curl\.se\S*.*$", "", text, flags=re.DOTALL)
    return " ".join(text.split()).rstrip(".")


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _common_reason(reasons: dict[str, str]) -> str:
    return max(set(reasons.values()), key=list(reasons.values()).count)
