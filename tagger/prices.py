"""Daily prices in the store: from the bundled snapshot, from Yahoo Finance, or from a user's file.

Every write is one transaction that also records, in `price_coverage`, the date ranges a source
answered for, so a re-run asks only for what is missing. An empty or failed Yahoo answer is
recorded too (ticker, range, when, why) and not asked again for a day (`REMEMBER_NO_PRICES`)
unless `refresh`. Writes merge and never erase: a value a source leaves out keeps the stored one.
This module computes no returns, and imports yfinance and pandas only when it asks Yahoo.
Dates are inclusive at both ends; the Yahoo request's exclusive end is made here.
"""

from __future__ import annotations

import ast
import dataclasses
import logging
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from time import sleep
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from tagger import markets, sql
from tagger.errors import InputError, NetworkError
from tagger.paths import DATA
from tagger.store import transaction

if TYPE_CHECKING:
    import pandas as pd

SOURCE_YFINANCE = "yfinance"
SOURCE_BUNDLED = "bundled"
BUNDLED_FILES = tuple(sorted((DATA / "prices").glob("prices*.parquet")))
"""The bundled snapshot: one file per exchange calendar (see data/prices/PROVENANCE.md)."""
BATCH_SIZE = 50
RATE_LIMIT_RETRIES = 3
BACKOFF_SECONDS = 5.0
REMEMBER_NO_PRICES = timedelta(days=1)
"""How long an empty or failed Yahoo answer stands before the range is asked again."""
MARKET_TZ = ZoneInfo("America/New_York")
MAX_PRICE = 1e9
"""Imported prices must be below this, per share, in the listing's currency. The dearest shares
on record are about 1e8 in their own currency (Yahoo Japan traded above 100 million yen in
2000; BRK-A is about 7e5 dollars), so one bound holds for USD, KRW and JPY lines alike, and
a value above it is a unit or parsing error, not a price (a close of 1e300 gave CARs of 1e305)."""
MAX_VOLUME = 1e15
"""Imported volumes must be whole numbers from 0 to this (shares traded in a day)."""

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
_SYMBOL = re.compile(r"[A-Z0-9^][A-Z0-9.\-=^&]{0,31}")
_SHARE_CLASS = re.compile(r"([A-Z]+)[./]([A-Z])")
# yf.download logs one line per failure reason: "['AAPL', 'MSFT']: DNSError('...')".
_FAILED_DOWNLOAD = re.compile(r"^(\[[^\]]*\]): (.+)$", re.DOTALL)
_EXCEPTION_REPR = re.compile(r"^(\w+)\((['\"])(.*)\2\)$", re.DOTALL)
_NETWORK_ERRORS = re.compile(
    r"curl: \(\d+\)|^(DNSError|ConnectionError|ConnectTimeout|ReadTimeout|Timeout|ProxyError"
    r"|SSLError|TimeoutError|OSError)\("
)

Download = Callable[..., "pd.DataFrame"]


@dataclass(frozen=True)
class PriceGap:
    """Part of a request that has no prices, and why. `asked_at`: when the source last answered
    for this range without prices (it is asked again `REMEMBER_NO_PRICES` later, or at once with
    `refresh`); None when it was not asked (offline, not in the bundled snapshot)."""

    ticker: str
    start: date
    end: date
    reason: str
    asked_at: datetime | None = None


@dataclass(frozen=True)
class TickerWrite:
    """What one load, fetch or import did to one ticker: rows added, rows changed, and rows
    given that left the store as it was."""

    ticker: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class PriceReport:
    """What a load, fetch or import wrote (per ticker given), and which requested prices are
    still missing."""

    written: tuple[TickerWrite, ...] = ()
    gaps: tuple[PriceGap, ...] = ()
    notes: tuple[str, ...] = ()
    stopped: bool = False  # Yahoo did not answer, so the call stopped asking it

    @property
    def rows_written(self) -> int:
        """Rows added or changed."""
        return sum(w.inserted + w.updated for w in self.written)

    @property
    def tickers_written(self) -> tuple[str, ...]:
        """Tickers with rows added or changed, sorted."""
        return tuple(w.ticker for w in self.written if w.inserted or w.updated)

    def written_frame(self) -> pl.DataFrame:
        """Per ticker given: its currency (by venue), rows inserted, updated and unchanged."""
        return pl.DataFrame(
            [
                (
                    w.ticker,
                    markets.venue_of_symbol(w.ticker).currency,
                    w.inserted,
                    w.updated,
                    w.unchanged,
                )
                for w in self.written
            ],
            schema={
                "ticker": pl.String,
                "currency": pl.String,
                "inserted": pl.Int64,
                "updated": pl.Int64,
                "unchanged": pl.Int64,
            },
            orient="row",
        )

    def gaps_frame(self) -> pl.DataFrame:
        """The gaps as a table (ticker, start, end, reason, asked_at), for printing."""
        return pl.DataFrame(
            [vars(gap) for gap in self.gaps],
            schema={
                "ticker": pl.String,
                "start": pl.Date,
                "end": pl.Date,
                "reason": pl.String,
                "asked_at": pl.Datetime("us", "UTC"),
            },
            orient="row",
        )


@dataclass(frozen=True)
class _YahooAnswer:
    prices: pl.DataFrame
    no_prices: dict[str, str]  # ticker -> why Yahoo gave none (no data, offline, rate limited)
    unreachable: set[str]  # the tickers of no_prices that Yahoo did not answer for


def normalise_ticker(raw: object) -> str:
    """The Yahoo symbol for `raw`, the one spelling the store, events and imports share:
    trimmed and upper case; an exchange suffix kept (rio.l -> RIO.L, 7203.T, 005930.KS); a US
    share class after a dash (BRK.B, brk/b -> BRK-B); an index kept (^GSPC, ^KS11).

        >>> [normalise_ticker(t) for t in ("brk.b", "BRK/B", " rio.l", "005930.KS", "^n225")]
        ['BRK-B', 'BRK-B', 'RIO.L', '005930.KS', '^N225']

    As on Yahoo, a dot before a known exchange suffix names the exchange: MKC.V is a TSX
    Venture symbol, so McCormick's class V is MKC-V or MKC/V. Idempotent. Raises InputError
    (and nothing else) for anything that cannot be a symbol.
    """
    symbol = _yahoo_symbol(raw)
    if symbol is None:
        raise InputError(
            f"{raw!r} is not a ticker; expected a Yahoo symbol such as AAPL, BRK-B or 005930.KS"
        )
    return symbol


def normalise_tickers(raw: Iterable[object]) -> list[str]:
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
    gaps = tuple(PriceGap(t, first, last, "not in the bundled price snapshot") for t in absent)
    if not todo:
        return PriceReport(gaps=gaps)
    rows = pl.read_parquet(list(BUNDLED_FILES)).filter(pl.col("ticker").is_in(todo))
    written = _write(con, SOURCE_BUNDLED, rows, _coverage_rows(rows, first, last))
    return PriceReport(written, gaps)


def fetch_prices(
    con: duckdb.DuckDBPyConnection,
    tickers: Iterable[str],
    start: date,
    end: date | None = None,
    *,
    refresh: bool = False,
    download: Download | None = None,
) -> PriceReport:
    """Fetch from Yahoo Finance the parts of start..end not yet in the store, in batches
    (`download`: yf.download or a stand-in with its signature).

    `end` defaults to, and is capped at, `last_complete_day()`. Each batch is saved in its own
    transaction. A range Yahoo had no prices for, or did not answer for, is reported as a gap
    and not asked again for a day unless `refresh`. When a whole batch gets no answer, no more
    batches are asked and NetworkError says so in one line (batches already fetched are kept).
    """
    tickers = normalise_tickers(tickers)
    latest = last_complete_day()
    end = min(end or latest, latest)
    asked = datetime.now(UTC)
    written, stopped = _fetch_missing(con, tickers, start, end, download, refresh=refresh)
    if stopped:
        saved = sum(w.inserted for w in written)
        kept = f"{saved} rows fetched before were saved" if saved else "nothing saved"
        raise NetworkError(f"{stopped}; {kept}; {_asked_again(asked)}")
    return _report(con, written, tickers, start, end, not_asked="not fetched", asked=asked)


def import_prices(con: duckdb.DuckDBPyConnection, path: str | Path) -> PriceReport:
    """Import a long-format CSV or Parquet file (ticker, date, close and/or adj_close, optional
    open, high, low, volume) with source 'file:<name>'.

    Merges: a value the file gives replaces the stored one for that ticker and date; a column
    it lacks, or an empty cell, keeps the stored value. A bad file writes nothing: InputError
    names the file, line (CSV) or row (Parquet), field and what to fix.
    """
    path = Path(path)
    rows, notes = _read_price_file(path)
    written = _write(con, f"file:{path.name}", rows, _coverage_rows(rows), merge=True)
    return PriceReport(written, notes=notes)


def ensure_prices(
    con: duckdb.DuckDBPyConnection,
    tickers: Iterable[str],
    start: date,
    end: date,
    *,
    online: bool = True,
    refresh: bool = False,
    download: Download | None = None,
) -> PriceReport:
    """Make start..end prices available for `tickers`: from the store, else the bundled snapshot,
    else Yahoo Finance (when `online`). Never raises for a missing ticker or an unreachable
    Yahoo: the report's gaps say which tickers lack prices, where, and why. Yahoo is not asked
    (nor yfinance imported) when the store and the snapshot cover the request.
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
    if not online:
        not_asked = "not in the store or the bundled snapshot (offline)"
        return _report(con, bundled.written, tickers, start, end, not_asked=not_asked)
    asked = datetime.now(UTC)
    written, stopped = _fetch_missing(con, tickers, start, end, download, refresh=refresh)
    notes = [f"{stopped}; stopped asking Yahoo; {_asked_again(asked)}"] if stopped else []
    report = _report(
        con,
        [*bundled.written, *written],
        tickers,
        start,
        end,
        not_asked="not fetched",
        asked=asked,
        notes=notes,
    )
    return dataclasses.replace(report, stopped=bool(stopped))


def _fetch_missing(
    con: duckdb.DuckDBPyConnection,
    tickers: list[str],
    start: date,
    end: date,
    download: Download | None,
    *,
    refresh: bool,
) -> tuple[list[TickerWrite], str | None]:
    """Ask Yahoo for every range not covered (nor answered without prices within a day, unless
    `refresh`), batch by batch, saving each batch with what Yahoo said.

    Returns what was written and, when a whole batch got no answer, why: then no later batch is
    asked, and their ranges are recorded as not answered for that reason.
    """
    remembered_since = None if refresh else datetime.now(UTC) - REMEMBER_NO_PRICES
    by_range: dict[tuple[date, date], list[str]] = {}
    for ticker, ranges in _uncovered(con, tickers, start, end, remembered_since).items():
        for span in ranges:
            by_range.setdefault(span, []).append(ticker)
    written: list[TickerWrite] = []
    stopped: str | None = None
    not_asked = []
    for (first, last), group in by_range.items():
        for i in range(0, len(group), BATCH_SIZE):
            batch = group[i : i + BATCH_SIZE]
            if stopped:
                not_asked.append(_no_price_rows(dict.fromkeys(batch, stopped), first, last))
                continue
            answer = _ask_yahoo(download, batch, first, last)
            if len(answer.unreachable) == len(batch):
                stopped = _common_reason(answer.no_prices)
            coverage = pl.concat(
                [
                    _coverage_rows(answer.prices, first, last),
                    _no_price_rows(answer.no_prices, first, last),
                ]
            )
            written += _write(con, SOURCE_YFINANCE, answer.prices, coverage)
    if not_asked:
        _write(con, SOURCE_YFINANCE, pl.DataFrame(schema=PRICE_SCHEMA), pl.concat(not_asked))
    return written, stopped


def _ask_yahoo(
    download: Download | None, tickers: list[str], first: date, last: date
) -> _YahooAnswer:
    """One batch from Yahoo, retrying rate-limited tickers with exponential backoff."""
    found = []
    no_prices: dict[str, str] = {}
    unreachable: set[str] = set()
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
                no_prices[ticker] = f"Yahoo Finance did not answer ({_plain_reason(reason)})"
                unreachable.add(ticker)
            else:
                no_prices[ticker] = _plain_reason(reason)
        if not rate_limited:
            break
        pending = rate_limited
    else:
        tries = RATE_LIMIT_RETRIES + 1
        no_prices.update(
            dict.fromkeys(pending, f"rate limited by Yahoo (too many requests) after {tries} tries")
        )
        unreachable.update(pending)
    return _YahooAnswer(pl.concat(found), no_prices, unreachable)


def _download(
    download: Download | None, tickers: list[str], first: date, last: date
) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """Call `download` (default yf.download); returns its frame and each failed ticker's reason.

    yf.download does not raise for a failed ticker: it logs the reason and leaves the ticker's
    columns empty. With `hide_exceptions` off, each logged reason names the exception
    (DNSError, YFRateLimitError, YFPricesMissingError...), which is how offline is told apart
    from a ticker Yahoo has no prices for.
    """
    import yfinance as yf
    from yfinance.exceptions import YFRateLimitError

    reasons: dict[str, str] = {}
    with _yahoo_failures(yf.config.debug, reasons), warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance\.")
        try:
            frame = (download or yf.download)(
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
def _yahoo_failures(debug, reasons: dict[str, str]) -> Iterator[None]:
    """Collect into `reasons` the per-ticker failures yfinance logs while the block runs
    (`debug`: yfinance's `config.debug`, whose `hide_exceptions` is turned off meanwhile)."""

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
    hide_exceptions = debug.hide_exceptions
    debug.hide_exceptions = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        debug.hide_exceptions = hide_exceptions


def _yahoo_rows(frame: pd.DataFrame | None) -> pl.DataFrame:
    """yf.download's wide frame (columns (Price, Ticker), one row per date) as one row per
    ticker and date; the all-NaN rows of tickers without data that day are dropped. The dates
    are each exchange's own (yf.download drops the time zone of daily rows)."""
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
    """The rows of a long-format price file, checked (a null value: not given); raises
    InputError at the first problem."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"{path}: expected a .csv or .parquet file")
    unit, first_line = ("line", 2) if suffix == ".csv" else ("row", 1)  # CSV line 1: header
    try:
        raw = pl.read_csv(path, infer_schema=False) if suffix == ".csv" else pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read as {suffix[1:]} ({_first_line(e)})") from None
    raw = _with_known_columns(path, raw)
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
            f"{path} {unit} {line}, fields ticker, date: {ticker} {day} repeats {unit} {first}; "
            "keep one row per ticker and date"
        )
    if "adj_close" in raw.columns:
        return rows.drop("line"), ()
    note = (
        f"{path.name}: no adj_close column, so new rows get adj_close = close (no dividend "
        "adjustment); stored rows keep their adjustment (adj_close moves with close)"
    )
    return rows.drop("line"), (note,)


def _with_known_columns(path: Path, raw: pl.DataFrame) -> pl.DataFrame:
    """The file's price columns under their canonical names ("Adj Close" -> adj_close), checked
    for presence and type; other columns are dropped."""
    names: dict[str, str] = {}
    for column in raw.columns:
        name = column.strip().lower().replace(" ", "_")
        if name in PRICE_SCHEMA:
            if name in names.values():
                other = next(c for c, n in names.items() if n == name)
                raise InputError(f"{path}: columns {other!r} and {column!r} are both {name}")
            names[column] = name
    raw = raw.select(pl.col(c).alias(n) for c, n in names.items())
    missing = [c for c in ("ticker", "date") if c not in raw.columns]
    if not {"close", "adj_close"} & set(raw.columns):
        missing.append("close or adj_close")
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; a price file needs ticker, date "
            "and close or adj_close"
        )
    for name, dtype in raw.schema.items():
        if dtype in (pl.String, pl.Null):
            continue
        if name == "ticker":
            readable, expected = isinstance(dtype, pl.Categorical | pl.Enum), "text such as AAPL"
        elif name == "date":
            readable = dtype == pl.Date or isinstance(dtype, pl.Datetime)
            expected = "dates, or text such as 2024-01-02"
        else:
            readable, expected = dtype.is_numeric(), "numbers, or text such as 101.25"
        if not readable:
            raise InputError(f"{path}: column {name} holds {dtype}; expected {expected}")
    return raw


def _parse_price_columns(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed price rows (with `line`; a column the file lacks is null), and the problems found,
    as (line, field, problem)."""
    numbers = [c for c in (*PRICE_COLUMNS, "volume") if c in raw.columns]
    given = raw.select(
        "line", *(pl.col(c).cast(pl.String).str.strip_chars() for c in ("ticker", "date", *numbers))
    )
    symbols = {t: _yahoo_symbol(t) for t in given["ticker"].drop_nulls().unique()}
    rows = pl.DataFrame(
        {
            "line": raw["line"],
            "ticker": given["ticker"].replace_strict(symbols, default=None, return_dtype=pl.String),
            "date": _as_date(raw["date"]),
            **{c: _as_float(raw[c]) for c in numbers},
        }
    )
    required = "adj_close" if "adj_close" in numbers else "close"
    checks = [
        ("ticker", rows["ticker"].is_null(), "{} is not a ticker (e.g. AAPL, BRK-B, 005930.KS)"),
        ("date", rows["date"].is_null(), "{} is not a date (expected YYYY-MM-DD)"),
        (required, given[required].is_null(), "missing value"),
    ]
    not_shares = f"{{}} is not a number of shares (a whole number from 0 to {_short(MAX_VOLUME)})"
    implausible = (
        f"price {{}} is not plausible (a price is below {_short(MAX_PRICE)} per share; "
        "check the value and its unit)"
    )
    for column in numbers:
        value = rows[column]
        valued = value.is_not_null()
        checks.append((column, given[column].is_not_null() & ~valued, "{} is not a number"))
        if column == "volume":
            whole = value.is_between(0, MAX_VOLUME) & (value == value.floor())
            checks.append((column, valued & ~whole, not_shares))
        else:
            checks.append((column, valued & (value <= 0), "price {} is not positive"))
            checks.append((column, valued & ~(value < MAX_PRICE), implausible))
    problems = pl.concat(
        given.filter(bad).select(
            "line",
            field=pl.lit(field),
            problem=pl.format(message, _shown(field)) if "{}" in message else pl.lit(message),
        )
        for field, bad, message in checks
    )
    return rows.select(
        "line",
        *(
            # not strict: rows with a value that does not fit are in `problems`
            pl.col(name).cast(dtype, strict=False)
            if name in rows.columns
            else pl.lit(None, dtype).alias(name)
            for name, dtype in PRICE_SCHEMA.items()
        ),
    ), problems


def _shown(column: str) -> pl.Expr:
    """A value as given, quoted, on one line (control characters as U+FFFD) and short."""
    text = pl.col(column).str.replace_all(r"\p{Cc}", "\ufffd").str.slice(0, 40)
    return pl.format("'{}'", text).fill_null("''")


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
    return column.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False).fill_nan(None)


def _write(
    con: duckdb.DuckDBPyConnection,
    source: str,
    rows: pl.DataFrame,
    coverage: pl.DataFrame,
    *,
    merge: bool = False,
) -> tuple[TickerWrite, ...]:
    """In one transaction, add the rows new to the store, merge the given values into stored
    rows when `merge` (else stored rows are kept as they are), and record `coverage`."""
    with (
        _staged(con, staged_prices=rows.select(*PRICE_SCHEMA)),
        _staged(con, staged_coverage=coverage.select(*COVERAGE_SCHEMA)),
        transaction(con),
    ):
        updated = (
            Counter(r[0] for r in sql.run(con, "prices/merge_given", source=source).fetchall())
            if merge
            else Counter()
        )
        inserted = Counter(
            r[0] for r in sql.run(con, "prices/insert_new", source=source).fetchall()
        )
        sql.run(con, "prices/record_coverage", source=source)
    return tuple(
        TickerWrite(t, inserted[t], updated[t], n - inserted[t] - updated[t])
        for t, n in rows.group_by("ticker").len().sort("ticker").iter_rows()
    )


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


def _no_price_rows(no_prices: dict[str, str], first: date, last: date) -> pl.DataFrame:
    """Coverage rows for tickers a source gave no prices for in first..last, with why."""
    return pl.DataFrame(
        {
            "ticker": list(no_prices),
            "start_date": [first] * len(no_prices),
            "end_date": [last] * len(no_prices),
            "rows": [0] * len(no_prices),
            "reason": list(no_prices.values()),
        },
        schema=COVERAGE_SCHEMA,
    )


def _coverage(
    con: duckdb.DuckDBPyConnection, tickers: list[str], start: date, end: date
) -> dict[str, list[tuple[date, date, int, str | None, datetime]]]:
    """Per ticker, the recorded ranges overlapping start..end: (first, last, rows, reason,
    recorded_at)."""
    found: dict[str, list] = {t: [] for t in tickers}
    if start <= end:
        for ticker, *entry in sql.run(
            con, "prices/coverage", tickers=tickers, start=start, end=end
        ).fetchall():
            found[ticker].append(tuple(entry))
    return found


def _uncovered(
    con: duckdb.DuckDBPyConnection,
    tickers: list[str],
    start: date,
    end: date,
    remembered_since: datetime | None = None,
) -> dict[str, list[tuple[date, date]]]:
    """Per ticker, the parts of start..end no source has given prices for, nor (when
    `remembered_since` is given) answered without prices since then."""
    return {
        ticker: missing_ranges(
            [
                (first, last)
                for first, last, rows, _, recorded_at in entries
                if rows or (remembered_since and recorded_at >= remembered_since)
            ],
            start,
            end,
        )
        for ticker, entries in _coverage(con, tickers, start, end).items()
    }


def _report(
    con: duckdb.DuckDBPyConnection,
    written: Iterable[TickerWrite],
    tickers: list[str],
    start: date,
    end: date,
    *,
    not_asked: str,
    asked: datetime | None = None,
    notes: Iterable[str] = (),
) -> PriceReport:
    """The rows written per ticker, and the gaps left in start..end: each part no source gave
    prices for, with the last answer without prices there (else `not_asked`), and tickers
    with no prices at all in start..end from the sources that cover it. `asked`: when this
    call began asking Yahoo; gaps it answered before then were not asked again, and a note
    says until when."""
    gaps = []
    for ticker, entries in _coverage(con, tickers, start, end).items():
        answered = [(first, last) for first, last, rows, *_ in entries if rows]
        no_prices = sorted((e for e in entries if not e[2]), key=lambda e: e[4], reverse=True)
        for first, last in missing_ranges(answered, start, end):
            said = next((e for e in no_prices if e[0] <= last and e[1] >= first), None)
            gaps.append(
                PriceGap(ticker, first, last, said[3], said[4])
                if said
                else PriceGap(ticker, first, last, not_asked)
            )
    with_gaps = {gap.ticker for gap in gaps}
    if start <= end:
        for ticker, rows, sources in sql.run(
            con, "prices/window_summary", tickers=tickers, start=start, end=end
        ).fetchall():
            if rows == 0 and ticker not in with_gaps:
                gaps.append(PriceGap(ticker, start, end, f"no prices in this range from {sources}"))
    remembered = [g.asked_at for g in gaps if asked and g.asked_at and g.asked_at < asked]
    if remembered:
        notes = [
            *notes,
            f"{len(remembered)} range(s) without prices when Yahoo Finance was last asked: "
            + _asked_again(min(remembered)),
        ]
    return PriceReport(_combined(written), tuple(gaps), tuple(notes))


def _combined(written: Iterable[TickerWrite]) -> tuple[TickerWrite, ...]:
    """Per ticker, the sums of the counts, sorted by ticker."""
    totals: dict[str, Counter] = {}
    for w in written:
        totals.setdefault(w.ticker, Counter()).update(
            inserted=w.inserted, updated=w.updated, unchanged=w.unchanged
        )
    return tuple(TickerWrite(t, **counts) for t, counts in sorted(totals.items()))


@cache
def _snapshot() -> tuple[frozenset[str], date, date]:
    """The bundled snapshot's tickers and first and last dates."""
    summary = (
        pl.scan_parquet(list(BUNDLED_FILES))
        .select(
            pl.col("ticker").unique().implode(),
            pl.col("date").min().alias("first"),
            pl.col("date").max().alias("last"),
        )
        .collect()
    )
    tickers, first, last = summary.row(0)
    return frozenset(tickers), first, last


def _yahoo_symbol(raw: object) -> str | None:
    """`normalise_ticker`'s symbol, or None."""
    if not isinstance(raw, str):
        return None
    symbol = raw.strip().upper()
    if not markets.suffix_of(symbol):
        symbol = _SHARE_CLASS.sub(r"\1-\2", symbol) if _SHARE_CLASS.fullmatch(symbol) else symbol
    return symbol if _SYMBOL.fullmatch(symbol) else None


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


def _asked_again(asked: datetime) -> str:
    until = asked + REMEMBER_NO_PRICES
    return f"not asked again before {until:%Y-%m-%d %H:%M} UTC unless --refresh"


def _short(number: float) -> str:
    """1e15, not 1e+15."""
    mantissa, exponent = f"{number:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _common_reason(reasons: dict[str, str]) -> str:
    return max(set(reasons.values()), key=list(reasons.values()).count)
