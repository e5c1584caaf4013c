"""The event study: from events and daily prices to per-event and cross-sectional results.

Each event is measured on its listing's own venue (`tagger.markets`): day 0 and relative days
follow that venue's exchange calendar, and the default market proxy is its local index (SPY for
US listings). Prices come from `queries/study/prices.sql`; the returns (`price_moves`) and the
per-event time series work (estimation-window sums, abnormal returns, ranks) are vectorised
numpy over one dense ticker x session panel per calendar; the cross-sectional tests are
`queries/study/aar.sql` and `caar.sql` over the stored tables, which pool events by relative day.
Every convention (df, ddof, variance correction, calendars) is in docs/conventions.md with its
source.

The store keeps every study (`study_settings`: id, name, settings, time); running a study under
a name it already holds replaces that study only, in one transaction.
"""

import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from importlib import import_module
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from tagger import csvfile, markets, sessions, sql, store
from tagger.errors import InputError
from tagger.events import EVENT_SCHEMA, normalised_tickers

MODELS = ("market", "market_adjusted", "mean_adjusted")
RETURNS = ("simple", "log")
DEFAULT_WINDOWS = ((0, 0), (0, 1), (-1, 1), (-5, 5), (0, 5))
DEFAULT_NAME = "default"
PATH_DAYS = (-5, 5)
THIN_TRADING_SHARE = 0.10
FLAGS = (
    "no_prices",
    "no_calendar",
    "outside_calendar",
    "short_estimation",
    "price_jump",
    "thin_trading",
    "confounded",
    "gap_in_window",
    "date_only",
)
OUT_OF_SAMPLE_FLAGS = (
    "no_prices",
    "no_calendar",
    "outside_calendar",
    "short_estimation",
    "price_jump",
)
PREPARED_COLUMNS = (*EVENT_SCHEMA, "calendar", "currency", "event_date", "rule")
_CHUNK = 1024  # events per step of the rank pass: its arrays (~2 MB) stay in the CPU cache
_THREADS = min(4, os.cpu_count() or 1)
CACHE_WHILE_WRITING = "256MB"  # DuckDB's memory limit while a study is stored (_bounded_cache)


@dataclass(frozen=True)
class StudySettings:
    """What `run_study` measures; validated on creation (InputError with one line).

    `market` None: each event's own market proxy (its `market` column, else its listing's local
    index); a ticker: that proxy for every event.
    """

    model: str = "market"
    returns: str = "simple"
    estimation: tuple[int, int] = (-250, -11)
    min_estimation_days: int = 120
    windows: tuple[tuple[int, int], ...] = DEFAULT_WINDOWS
    market: str | None = None
    benchmark: str | None = None

    def __post_init__(self):
        if self.model not in MODELS:
            raise InputError(f"unknown model {self.model!r}; use one of {', '.join(MODELS)}")
        if self.returns not in RETURNS:
            raise InputError(f"unknown returns {self.returns!r}; use simple or log")
        start, end = self.estimation
        if start >= end:
            raise InputError(f"estimation window {start}:{end} must run forwards (e.g. -250:-11)")
        if not 5 <= self.min_estimation_days <= end - start + 1:
            raise InputError(
                f"min estimation days {self.min_estimation_days} must be 5..{end - start + 1} "
                f"for estimation window {start}:{end}"
            )
        if not self.windows:
            raise InputError("no event windows; give at least one, e.g. 0:1")
        for w_start, w_end in self.windows:
            if w_start > w_end:
                raise InputError(f"event window {w_start}:{w_end} must run forwards (e.g. -1:1)")
            if w_start <= end:
                raise InputError(
                    f"event window {w_start}:{w_end} overlaps the estimation window "
                    f"{start}:{end}; start it after day {end}"
                )

    @property
    def span(self) -> tuple[int, int]:
        """Relative days with abnormal returns: the windows and days -5..+5 (for the CAR path)."""
        first = max(min(PATH_DAYS[0], *(s for s, _ in self.windows)), self.estimation[1] + 1)
        return first, max(PATH_DAYS[1], *(e for _, e in self.windows))


@dataclass(frozen=True)
class StudyResult:
    """Frames of one study: `events` (one row per event), `aar` (per day), `caar` (per window),
    and `path` (per event and day: returns, AR, CAR from the first span day and its variance)."""

    settings: StudySettings
    study_id: int
    name: str
    events: pl.DataFrame
    aar: pl.DataFrame
    caar: pl.DataFrame
    _measured: "Measured" = field(repr=False)

    @cached_property
    def path(self) -> pl.DataFrame:
        return _path_frame(self.events, self._measured, self.settings)

    def write_csvs(self, folder: str | Path) -> list[Path]:
        """Write events.csv, aar.csv and caar.csv into `folder` (formula-like text cells quoted
        for spreadsheets, tagger.csvfile); returns their paths."""
        return [_write_csv(getattr(self, name), Path(folder) / f"{name}.csv") for name in CSVS]


CSVS = ("events", "aar", "caar")


def _write_csv(frame: pl.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return csvfile.write_csv(frame, path, float_precision=10, datetime_format=None)


def parse_range(text: str) -> tuple[int, int]:
    """'-1:1' -> (-1, 1)."""
    try:
        start, end = (int(part) for part in text.split(":"))
    except ValueError:
        raise InputError(f"window {text!r} is not START:END in trading days, e.g. -1:1") from None
    return start, end


def parse_windows(text: str) -> tuple[tuple[int, int], ...]:
    """'0:0,-1:1' -> ((0, 0), (-1, 1))."""
    return tuple(parse_range(part.strip()) for part in text.split(",") if part.strip())


def window_label(window: tuple[int, int]) -> str:
    """(-1, 1) -> '-1:1', as stored in the database."""
    return f"{window[0]}:{window[1]}"


def window_suffix(window: tuple[int, int]) -> str:
    """(-1, 1) -> 'm1_1', for column names such as car_m1_1."""
    return "_".join(f"m{-d}" if d < 0 else str(d) for d in window)


def run_study(
    con: duckdb.DuckDBPyConnection,
    events: pl.DataFrame,
    *,
    model: str = "market",
    returns: str = "simple",
    estimation: tuple[int, int] = (-250, -11),
    min_estimation_days: int = 120,
    windows: tuple[tuple[int, int], ...] | list[tuple[int, int]] = DEFAULT_WINDOWS,
    market: str | None = None,
    benchmark: str | None = None,
    name: str | None = None,
    out: str | Path | None = None,
) -> StudyResult:
    """Run the event study on `events` (tagger.events.EVENT_SCHEMA, or as `prepared_events`
    returns them) over the `prices` table.

    Stores the results as study `name` (default "default"), replacing a stored study of that
    name in one transaction and keeping the others, and returns them. With `out`, also writes
    them into that folder as `StudyResult.write_csvs` does, events.csv while the study is stored;
    a file that cannot be written raises its OSError once the study is stored.
    """
    if events.is_empty():
        raise InputError(
            "no events to study; give an events CSV with rows, or tag articles that name "
            "listed companies"
        )
    name = _study_name(name)
    settings = StudySettings(
        model,
        returns,
        tuple(estimation),
        min_estimation_days,
        tuple(map(tuple, windows)),
        _ticker(market),
        _ticker(benchmark),
    )
    events = prepared_events(events, settings)
    with_prices = _tickers_with_prices(con, events, settings)
    with ThreadPoolExecutor(1) as background:
        background.submit(import_module, "scipy.special")  # ~0.3 s, while DuckDB reads prices
        measured = _measure(con, events, with_prices, settings, background)
        frame = _events_frame(events, measured, settings)
        if out is not None:  # after the rank passes (in turn): beside DuckDB's one-thread sums
            partial = Path(out) / ".events.csv.partial"  # in place once the study is stored
            events_csv = background.submit(_write_csv, frame, partial)
        try:
            study_id, aar, caar = _stored(con, name, events, measured, settings)
        except BaseException:
            if out is not None:  # not stored: no events.csv of it
                wait([events_csv])
                partial.unlink(missing_ok=True)
            raise
    result = StudyResult(settings, study_id, name, frame, aar, caar, _path_inputs(measured))
    if out is not None:
        events_csv.result().replace(partial.with_name("events.csv"))
        _write_csv(aar, Path(out) / "aar.csv")
        _write_csv(caar, Path(out) / "caar.csv")
    return result


def _stored(con, name: str, events: pl.DataFrame, measured: "Measured", settings: StudySettings):
    """Store the study as `name` with its AAR and CAAR, in one transaction; returns its
    study_id, AAR and CAAR."""
    with _bounded_cache(con), store.transaction(con):
        study_id = _store(con, name, events, measured, settings)
        with _one_thread(con):  # sums in one fixed order: the same bytes on every run
            aar = with_p_values(sql.frame(con, "study/aar", study_id=study_id))
            caar = with_p_values(sql.frame(con, "study/caar", study_id=study_id))
        _insert(con, "study_aar_all", aar.with_columns(pl.lit(study_id).alias("study_id")))
        _insert(con, "study_caar_all", caar.with_columns(pl.lit(study_id).alias("study_id")))
    return study_id, aar, caar


def _path_inputs(measured: "Measured") -> "Measured":
    """The measurement as `StudyResult.path` reads it: without the windows, flags and the
    estimates the CAR path does not use (at a million events, ~100 MB less held)."""
    est = measured.per_event
    return replace(
        measured,
        flags={},
        per_event={k: est[k] for k in _PATH_ESTIMATES},
        per_window={},
        ranks=[],
    )


def _study_name(name: str | None) -> str:
    name = (name or DEFAULT_NAME).strip()
    if not name or name.isdigit():
        raise InputError(f"study name {name!r}: give a name with a letter (numbers are study ids)")
    return name


def _ticker(raw: str | None) -> str | None:
    from tagger.prices import normalise_ticker

    return normalise_ticker(raw) if raw else None


@contextmanager
def _bounded_cache(con: duckdb.DuckDBPyConnection):
    """Keep few of the table blocks DuckDB caches while a study is written, and hand back those
    left after: a file database has them on disk once written, yet under DuckDB's default limit
    (80% of RAM) a million events keep ~460 MB of them in memory. Inside the block the limit is
    CACHE_WHILE_WRITING; at its end a moment's 64 MB limit evicts the rest. Only under the default
    limit (one the caller set stays as it is) and for a file (an in-memory database would spill
    its tables to disk). The limit is the database's: a query on another connection to it
    meanwhile has as little (the CLI has one connection)."""
    in_file = con.execute(
        "SELECT path IS NOT NULL FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchall()[0][0]
    with duckdb.connect() as fresh:
        default = _memory_limit(fresh) == _memory_limit(con)
    if not (in_file and default):
        yield
        return
    con.execute(f"SET memory_limit = '{CACHE_WHILE_WRITING}'")
    try:
        yield
    finally:
        try:
            con.execute("SET memory_limit = '64MB'")
        except duckdb.Error:  # more than that pinned: the cache stays
            pass
        finally:
            con.execute("RESET memory_limit")


def _memory_limit(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]


@contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection):
    """DuckDB on one thread inside the block: its parallel sums combine in arrival order."""
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}")


# -- events and prices ---------------------------------------------------------------------


def prepared_events(events: pl.DataFrame, settings: StudySettings) -> pl.DataFrame:
    """The events as the study reads them: tickers normalised (tagger.prices.normalise_ticker),
    each with its venue's `calendar` and `currency`, its `market` proxy (`settings.market`, else
    the event's own, else its listing's local index), its benchmark, day 0 (`event_date`) on its
    calendar and the `rule` that set it (tagger.sessions). A frame it returned is returned as it
    is (prepare once for `pipeline.ensure_event_prices` and `run_study`, under the same settings).
    """
    if tuple(events.columns) == PREPARED_COLUMNS:
        return events
    missing = [c for c in ("event_id", "ticker") if c not in events.columns]
    if missing:
        raise InputError(f"events have no {', '.join(missing)} column")
    events = events.select(
        (pl.col(c) if c in events.columns else pl.lit(None)).cast(dtype).alias(c)
        for c, dtype in EVENT_SCHEMA.items()
    )
    if events["event_id"].n_unique() < len(events):
        dup = events.filter(pl.col("event_id").is_duplicated())["event_id"][0]
        raise InputError(f"event_id {dup!r} appears more than once in the events")
    venues = _venues(normalised_tickers(events["ticker"]))
    events = events.with_columns(
        venues["ticker"],
        pl.col("status").fill_null("listed"),
        pl.lit(_ticker(settings.benchmark), pl.String)
        .fill_null(pl.Series(normalised_tickers(events["benchmark"])))
        .alias("benchmark"),
        pl.lit(_ticker(settings.market), pl.String)
        .fill_null(pl.Series(normalised_tickers(events["market"])))
        .fill_null(venues["index"])
        .alias("market"),
        venues["calendar"],
        venues["currency"],
    )
    day0 = sessions.align_events(
        events["published_at"], events["published_date"], events["calendar"]
    )
    return events.with_columns(day0)


def _venues(tickers: pl.Series) -> pl.DataFrame:
    """Per ticker: its venue's calendar (None where exchange_calendars has none), currency and
    local index; a null ticker (a private company without a listed parent) is taken as US."""
    distinct = tickers.drop_nulls().unique().sort()
    found = [markets.venue_of_symbol(t) for t in distinct]
    venues = pl.DataFrame(
        {
            "ticker": distinct,
            "calendar": [v.calendar for v in found],
            "currency": [v.currency for v in found],
            "index": [v.index for v in found],
        },
        schema_overrides={c: pl.String for c in ("calendar", "currency", "index")},
    )
    us = markets.venue_of_symbol("SPY")
    joined = tickers.to_frame("ticker").join(venues, on="ticker", how="left", maintain_order="left")
    return joined.with_columns(
        pl.when(pl.col("ticker").is_null())
        .then(pl.lit(us.calendar))
        .otherwise("calendar")
        .alias("calendar")
    )


def _tickers_with_prices(
    con: duckdb.DuckDBPyConnection, events: pl.DataFrame, settings: StudySettings
) -> set[str]:
    wanted = pl.concat([events["ticker"], events["benchmark"], events["market"]])
    wanted = wanted.drop_nulls().unique().sort().to_list()
    found = {row[0] for row in sql.run(con, "study/tickers_with_prices", wanted=wanted).fetchall()}
    if settings.market and settings.market not in found:
        raise InputError(
            f"market proxy {settings.market} has no prices; load its prices or pick --market"
        )
    return found


@dataclass(frozen=True)
class Panel:
    """Daily returns on a dense ticker x session grid of one calendar; column j is calendar
    session `first + j`."""

    first: int
    ret: np.ndarray  # (tickers, sessions), NaN when missing
    log_volume: np.ndarray  # ln(1 + volume), NaN when missing
    implausible: np.ndarray  # a non-positive price or a daily move above +300% / below -90%


def _load_panel(
    con: duckdb.DuckDBPyConnection,
    cal: sessions.SessionCalendar,
    day0: np.ndarray,
    tickers: list[str],
    settings: StudySettings,
) -> Panel:
    """The panel of `tickers` on `cal` from the earliest estimation day of events on `day0`
    (session positions) to the last span day."""
    first = int(day0.min()) + settings.estimation[0]
    last = int(day0.max()) + settings.span[1]
    lo, hi = max(first - 1, 0), min(last, len(cal.sessions) - 1)
    study_sessions = {"session": cal.sessions[lo : hi + 1], "idx": np.arange(lo, hi + 1)}
    study_tickers = {"ticker": tickers, "ticker_id": np.arange(len(tickers))}
    sql.run(con, "study/inputs")
    _insert(con, "study_sessions", study_sessions)
    _insert(con, "study_tickers", study_tickers)
    rows = sql.frame(con, "study/prices")
    shape = (len(tickers), last - first + 2)  # sessions first - 1 .. last: each return's previous
    cell = rows["ticker_id"].cast(pl.Int64).to_numpy() * shape[1] + rows["idx"].to_numpy()
    cell -= first - 1
    present = np.zeros(shape, dtype=bool)
    price, log_volume = np.full(shape, np.nan), np.full(shape, np.nan)
    present.flat[cell] = True
    price.flat[cell] = rows["price"].to_numpy()
    log_volume.flat[cell] = rows["log_volume"].to_numpy()
    ratio, implausible = price_moves(price, present)
    ret = _log(con, ratio) if settings.returns == "log" else ratio - 1
    return Panel(first, ret[:, 1:], log_volume[:, 1:], implausible[:, 1:])


def price_moves(price: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From prices per ticker (rows) and consecutive sessions (columns; `present` where a price
    is stored): P_t / P_t-1 where both are positive numbers (NaN otherwise, and on the first
    session), and `implausible`: a stored price that is not a positive number, or a ratio above
    4 or below 0.1."""
    positive = present & (price > 0) & np.isfinite(price)
    ratio = np.full(price.shape, np.nan)
    both = positive[:, 1:] & positive[:, :-1]
    np.divide(price[:, 1:], price[:, :-1], out=ratio[:, 1:], where=both)
    with np.errstate(invalid="ignore"):
        implausible = present & (~positive | (ratio > 4) | (ratio < 0.1))
    return ratio, implausible


def _log(con: duckdb.DuckDBPyConnection, ratio: np.ndarray) -> np.ndarray:
    """ln(ratio) by DuckDB (queries/study/log_returns.sql), NaN where ratio is NaN."""
    ratios = pl.DataFrame({"ratio": ratio.ravel()}, nan_to_null=True)
    ln = con.from_arrow(ratios).query("study_ratios", sql.load("study/log_returns")).pl()
    return ln["ret"].to_numpy().reshape(ratio.shape)


# -- per-event measurement (numpy) -----------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """Per-event results. `keys` are the positions (in the events) of the events measured, in
    order; every array in `per_event` (one row per measured event), `per_day` (measured events x
    span days) and `per_window` (measured events x windows) follows that order. `flags` and
    `note` have one value per input event."""

    keys: np.ndarray
    flags: dict[str, np.ndarray]
    note: pl.Series
    per_event: dict[str, np.ndarray]
    per_day: dict[str, np.ndarray]
    per_window: dict[str, np.ndarray]
    ranks: list[Future]  # of rank_and_sign_pass(...) per group, computed in the background
    order: np.ndarray | None  # groups' events -> measured order (None: already in order)

    @cached_property
    def rank_days(self) -> dict:
        """The rank and sign pass of every group, pooled by relative day."""
        return pooled_ranks([r.result() for r in self.ranks], self.order)


@dataclass(frozen=True)
class _Group:
    """Measured events of one calendar and market proxy (positions in the events)."""

    keys: np.ndarray
    flags: dict[str, np.ndarray]  # one per measured event
    per_event: dict[str, np.ndarray]
    per_day: dict[str, np.ndarray]
    per_window: dict[str, np.ndarray]
    ranks: Future


def _measure(
    con: duckdb.DuckDBPyConnection,
    events: pl.DataFrame,
    with_prices: set[str],
    settings: StudySettings,
    background: ThreadPoolExecutor,
) -> Measured:
    """Measure every event that has a calendar, a day 0 and prices, one calendar at a time."""
    size = len(events)
    flags = {f: np.zeros(size, dtype=bool) for f in FLAGS}
    flags["no_calendar"] = events["calendar"].is_null().to_numpy()
    flags["outside_calendar"] = events["event_date"].is_null().to_numpy() & ~flags["no_calendar"]
    flags["date_only"] = (
        events["published_at"].is_null() & events["published_date"].is_not_null()
    ).to_numpy()
    priced = pl.col("ticker").is_in(list(with_prices)) & pl.col("market").is_in(list(with_prices))
    dated = events.with_row_index("key").filter(pl.col("event_date").is_not_null())
    flags["no_prices"][dated.filter(~priced.fill_null(False))["key"].to_numpy()] = True
    flags["no_prices"] |= events["event_date"].is_null().to_numpy()  # not measured: no day 0
    groups = []
    for (calendar,), in_calendar in dated.filter(priced).group_by("calendar", maintain_order=True):
        groups.extend(_measure_calendar(con, calendar, in_calendar, settings, background))
    groups.sort(key=lambda g: g.keys[0])
    if not groups:  # nothing to measure: the same arrays, with no rows
        none = np.zeros(0, dtype=np.int64)
        groups = [_measure_group(_empty_panel(settings), 0, *[none] * 5, settings, background)]
    keys = np.concatenate([g.keys for g in groups])
    order = np.argsort(keys, kind="stable")
    in_order = bool(np.all(order == np.arange(len(keys))))

    def joined(part: str) -> dict[str, np.ndarray]:
        """The groups' arrays of `part` as one, in the events' order (model constants once)."""
        first = getattr(groups[0], part)
        if len(groups) == 1:
            return first
        return {
            k: first[k]
            if np.ndim(first[k]) == 0
            else (lambda v: v if in_order else v[order])(
                np.concatenate([getattr(g, part)[k] for g in groups])
            )
            for k in first
        }

    group_flags = joined("flags")
    for name, values in group_flags.items():
        flags[name][keys[order]] = values
    measured_keys = keys[order]
    note = _notes(events, flags)
    return Measured(
        measured_keys,
        flags,
        note,
        joined("per_event"),
        joined("per_day"),
        joined("per_window"),
        [g.ranks for g in groups],
        None if in_order else order,
    )


def _empty_panel(settings: StudySettings) -> Panel:
    """A panel of one ticker without prices, wide enough for an event's every day."""
    width = settings.span[1] - settings.estimation[0] + 1
    return Panel(
        0,
        np.full((1, width), np.nan),
        np.full((1, width), np.nan),
        np.zeros((1, width), dtype=bool),
    )


def _measure_calendar(
    con: duckdb.DuckDBPyConnection,
    calendar: str,
    events: pl.DataFrame,
    settings: StudySettings,
    background: ThreadPoolExecutor,
) -> list[_Group]:
    """Measure the events of one calendar (all with a day 0 and prices) on one panel, one group
    per market proxy."""
    cal = sessions.calendar(calendar)
    tickers = (
        pl.concat([events["ticker"], events["benchmark"], events["market"]])
        .drop_nulls()
        .unique()
        .sort()
        .to_list()
    )
    col0 = cal.index_of(events["event_date"].to_numpy())
    panel = _load_panel(con, cal, col0, tickers, settings)
    col0 = col0 - panel.first
    rows = _rows(events["ticker"], tickers)
    lo = min(start for start, _ in settings.windows)
    hi = max(end for _, end in settings.windows)
    confounded = _confounded(rows, col0, lo, hi)
    groups = []
    by_market = events.with_row_index("at").group_by("market").agg("at").sort("market")
    for market, positions in by_market.iter_rows():
        at = np.asarray(positions)
        groups.append(
            _measure_group(
                panel,
                tickers.index(market),
                events["key"].to_numpy()[at],
                rows[at],
                _rows(events["benchmark"].gather(at), tickers),
                col0[at],
                confounded[at],
                settings,
                background,
            )
        )
    return groups


def _measure_group(
    panel: Panel,
    market_row: int,
    keys: np.ndarray,
    rows: np.ndarray,
    bench_row: np.ndarray,
    col0: np.ndarray,
    confounded: np.ndarray,
    settings: StudySettings,
    background: ThreadPoolExecutor,
) -> _Group:
    """Measure events against one market proxy (row `market_row` of the panel)."""
    market = panel.ret[market_row]
    sums = estimation_sums(panel, market, rows, col0, settings.estimation)
    est = {"n": sums["n"], **fit_model(sums, settings.model)}
    del sums  # the raw sums: a million events hold 80 MB of them
    short = est["n"] < settings.min_estimation_days
    jump = _implausible_moves(panel, market_row, rows, col0, settings)
    est["in_sample"] = ~short & ~jump & (np.nan_to_num(est["sigma"]) > 0)
    ranks = background.submit(rank_and_sign_pass, panel, market, rows, col0, est, settings)
    per_day = abnormal_returns(panel, market, rows, bench_row, col0, est, settings)
    per_window = window_cars(per_day, est, settings)
    flags = {
        "short_estimation": short,
        "price_jump": jump,
        "thin_trading": np.nan_to_num(est["zero_share"]) >= THIN_TRADING_SHARE,
        "confounded": confounded,
        "gap_in_window": per_window.pop("gap"),
    }
    return _Group(keys, flags, est, per_day, per_window, ranks)


def _implausible_moves(
    panel: Panel, market_row: int, rows: np.ndarray, col0: np.ndarray, settings: StudySettings
) -> np.ndarray:
    """True where the stock or the market proxy has an implausible price or move between the
    first estimation day and the last span day."""
    start, stop = col0 + settings.estimation[0], col0 + settings.span[1] + 1
    stock = _window_sums(panel.implausible, rows, start, stop) > 0
    market = _window_sums(panel.implausible[market_row : market_row + 1], 0, start, stop) > 0
    return stock | market


def _notes(events: pl.DataFrame, flags: dict[str, np.ndarray]) -> pl.Series:
    """Why an event has no numbers, or is left out of the tests, in words (null otherwise)."""
    size = len(events)
    noted = np.flatnonzero(
        flags["no_prices"] | flags["price_jump"] | events["ticker"].is_null().to_numpy()
    )
    events = events.gather(noted)
    flags = {name: values[noted] for name, values in flags.items()}
    first, last = _calendar_bounds(events["calendar"])
    when = pl.coalesce(
        pl.col("published_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.col("published_date").cast(pl.String),
    )
    flag = {name: pl.lit(pl.Series(values)) for name, values in flags.items()}
    notes = events.select(
        pl.when(flag["no_calendar"])
        .then(pl.lit("no trading calendar for the venue of ") + pl.col("ticker") + "; not studied")
        .when(flag["outside_calendar"] & when.is_null())
        .then(pl.lit("no publication time; not studied"))
        .when(flag["outside_calendar"])
        .then(
            when
            + " is outside the "
            + pl.col("calendar")
            + " calendar ("
            + pl.lit(first)
            + ".."
            + pl.lit(last)
            + "); not studied"
        )
        .when(pl.col("ticker").is_null())
        .then(pl.lit("no listed ticker; not studied"))
        .when(flag["no_prices"] & pl.col("market").is_null())
        .then(
            pl.lit("no market proxy for the venue of ")
            + pl.col("ticker")
            + "; give --market or a market column"
        )
        .when(flag["no_prices"])
        .then(
            pl.lit("no prices for ") + pl.col("ticker") + " or its market proxy " + pl.col("market")
        )
        .when(flag["price_jump"])
        .then(
            pl.lit(
                "implausible price (a daily move above +300% or below -90%, or a non-positive "
                "price) in the estimation or event window; left out of the tests"
            )
        )
        .alias("note")
    ).to_series()
    return pl.repeat(None, size, dtype=pl.String, eager=True).alias("note").scatter(noted, notes)


def _calendar_bounds(calendars: pl.Series) -> tuple[pl.Series, pl.Series]:
    """First and last session (as text) of each event's calendar."""
    names = calendars.drop_nulls().unique().sort().to_list()
    bounds = {n: sessions.calendar(n).sessions[[0, -1]].astype(str) for n in names}
    first = calendars.replace_strict(names, [bounds[n][0] for n in names], default=None)
    last = calendars.replace_strict(names, [bounds[n][1] for n in names], default=None)
    return first, last


def _rows(tickers: pl.Series, known: list[str]) -> np.ndarray:
    """Row of each ticker in `known`, -1 when absent or null."""
    return (
        tickers.replace_strict(known, range(len(known)), default=-1, return_dtype=pl.Int64)
        .fill_null(-1)
        .to_numpy()
    )


def _window_sums(values: np.ndarray, rows: np.ndarray, start: np.ndarray, stop: np.ndarray):
    """Sum of values[row, start:stop] for each event, from row-wise prefix sums."""
    prefix = np.zeros((values.shape[0], values.shape[1] + 1))
    np.cumsum(values, axis=1, out=prefix[:, 1:])
    return prefix[rows, stop] - prefix[rows, start]


def estimation_sums(
    panel: Panel, market: np.ndarray, rows: np.ndarray, col0: np.ndarray, estimation
) -> dict[str, np.ndarray]:
    """Sums over each event's estimation window, on days where stock and market returns exist.

    n, sr, sm, srm, srr, smm (returns); zeros (days with a zero return or zero volume);
    nv, sv, svv (ln(1 + volume), centred per ticker); and lv0 (centred ln volume on day 0).
    """
    start, stop = col0 + estimation[0], col0 + estimation[1] + 1
    ok = ~np.isnan(panel.ret) & ~np.isnan(market)
    r = np.where(ok, panel.ret, 0.0)
    m = np.where(ok, market, 0.0)
    has_volume = ~np.isnan(panel.log_volume)
    centre = np.nansum(panel.log_volume, axis=1, keepdims=True) / np.maximum(
        has_volume.sum(axis=1, keepdims=True), 1
    )
    v = np.where(has_volume, panel.log_volume - centre, 0.0)
    terms = {
        "n": lambda: ok,
        "sr": lambda: r,
        "sm": lambda: m,
        "srm": lambda: r * m,
        "srr": lambda: r * r,
        "smm": lambda: m * m,
        "zeros": lambda: ok & ((r == 0) | (panel.log_volume == 0)),
        "nv": lambda: has_volume,
        "sv": lambda: v,
        "svv": lambda: v * v,
    }
    with ThreadPoolExecutor(_THREADS) as pool:  # cumsum releases the GIL
        sums = dict(
            zip(
                terms,
                pool.map(lambda term: _window_sums(term(), rows, start, stop), terms.values()),
                strict=True,
            )
        )
    sums["lv0"] = np.where(has_volume[rows, col0], v[rows, col0], np.nan)
    return sums


def fit_model(sums: dict[str, np.ndarray], model: str) -> dict[str, np.ndarray]:
    """alpha, beta, sigma, df and the pieces of the forecast-error variance, per event.

    sigma^2 = SSR / df with df = n - 2 (market model) or n - 1 (the other two models).
    The variance of an abnormal return on a day with market return m is
    sigma^2 * (1 + fec_const / n + fec_slope * (m - market_mean)^2 / market_ssd).
    """
    n, sr, sm, srm, srr, smm = (sums[k] for k in ("n", "sr", "sm", "srm", "srr", "smm"))
    with np.errstate(divide="ignore", invalid="ignore"):
        market_mean = sm / n
        market_ssd = smm - sm * sm / n
        if model == "market":
            sxy = srm - sr * sm / n
            beta = sxy / market_ssd
            alpha = sr / n - beta * market_mean
            ssr = srr - sr * sr / n - beta * sxy
            df, fec_const, fec_slope = n - 2, 1.0, 1.0
        elif model == "market_adjusted":
            alpha, beta = np.zeros_like(n), np.ones_like(n)
            se = sr - sm
            ssr = srr - 2 * srm + smm - se * se / n
            df, fec_const, fec_slope = n - 1, 0.0, 0.0
        else:
            alpha, beta = sr / n, np.zeros_like(n)
            ssr = srr - sr * sr / n
            df, fec_const, fec_slope = n - 1, 1.0, 0.0
        sigma = np.where(df > 0, np.sqrt(np.maximum(ssr, 0) / df), np.nan)
        mean_v = sums["sv"] / sums["nv"]
        sd_v = np.sqrt((sums["svv"] - sums["sv"] * mean_v) / (sums["nv"] - 1))
        abnormal_volume = np.where(sd_v > 0, (sums["lv0"] - mean_v) / sd_v, np.nan)
        zero_share = sums["zeros"] / n
    return {
        "alpha": alpha,
        "beta": beta,
        "sigma": sigma,
        "df": np.where(df > 0, df, np.nan),
        "market_mean": market_mean,
        "market_ssd": market_ssd,
        "fec_const": fec_const,
        "fec_slope": fec_slope,
        "abnormal_volume": abnormal_volume,
        "zero_share": zero_share,
    }


def abnormal_returns(
    panel: Panel,
    market: np.ndarray,
    rows: np.ndarray,
    bench_row: np.ndarray,
    col0: np.ndarray,
    est: dict[str, np.ndarray],
    settings: StudySettings,
) -> dict[str, np.ndarray]:
    """Per event and span day (events x days): the stock, market and benchmark returns and the
    abnormal return (MacKinlay 1997, "Measuring and Analyzing Abnormal Returns")."""
    first, last = settings.span
    start = col0 + first
    stock_windows = np.lib.stride_tricks.sliding_window_view(panel.ret, last - first + 1, axis=1)
    ret = stock_windows[rows, start]
    mkt = np.lib.stride_tricks.sliding_window_view(market, last - first + 1)[start]
    with_bench = bench_row >= 0
    if with_bench.any():
        bench = np.full_like(ret, np.nan)
        bench[with_bench] = stock_windows[bench_row[with_bench], start[with_bench]]
    else:  # no event has a second benchmark: NaN without the memory
        bench = np.broadcast_to(np.nan, ret.shape)
    ar = mkt * -est["beta"][:, None]
    ar -= est["alpha"][:, None]
    ar += ret
    return {"ret": ret, "market_return": mkt, "benchmark_return": bench, "ar": ar}


def cumulated(per_day: dict[str, np.ndarray], est: dict[str, np.ndarray]):
    """Along the span days: valid days (an AR exists), the CAR over them and the sum of their
    market returns' deviations from the estimation mean."""
    valid = ~np.isnan(per_day["ar"])
    days = np.cumsum(valid, axis=1, dtype=np.int32)
    car = np.where(valid, per_day["ar"], 0.0)
    np.cumsum(car, axis=1, out=car)
    deviation = per_day["market_return"] - est["market_mean"][:, None]
    deviation[~valid] = 0.0
    return days, car, np.cumsum(deviation, axis=1, out=deviation)


def _car_variance(est: dict[str, np.ndarray], days, dm: np.ndarray) -> np.ndarray:
    """Variance of a sum of `days` ARs whose market returns sum to `dm` above the estimation
    mean: sigma^2 (L2 + fec_const L2^2 / L1 + fec_slope dm^2 / market_ssd) (MacKinlay 1997)."""
    s2 = est["sigma"] ** 2
    per_day = s2[:, None]
    per_day_squared = (s2 * est["fec_const"] / est["n"])[:, None]
    per_dm_squared = (s2 * est["fec_slope"] / est["market_ssd"])[:, None]
    return days * (per_day + per_day_squared * days) + per_dm_squared * dm * dm


def window_cars(
    per_day: dict[str, np.ndarray], est: dict[str, np.ndarray], settings: StudySettings
) -> dict[str, np.ndarray]:
    """CAR, its variance, valid days, t and p per event and window (events x windows), and
    `gap`: a missing stock or market return inside any window; in batches of events, so that
    the running sums along the days take bounded memory."""
    size = len(per_day["ar"])
    cars = {}
    for part in _batches(size):
        batch = _batch_window_cars(
            {k: v[part] for k, v in per_day.items()},
            {k: v if np.ndim(v) == 0 else v[part] for k, v in est.items()},
            settings,
        )
        for k, v in batch.items():
            cars.setdefault(k, np.empty((size, *v.shape[1:]), dtype=v.dtype))[part] = v
    cars["p"] = two_sided_t_p(est["df"][:, None], cars["t"])
    return cars


def two_sided_t_p(df: np.ndarray, t: np.ndarray) -> np.ndarray:
    """2 P(T_df < -|t|), Student t, elementwise (df broadcast along t's rows); rows split over
    threads (scipy's loop releases the GIL): the same bits in any split."""
    from scipy import special

    parts = _batches(len(t), max(1, -(-len(t) // _THREADS)))
    with ThreadPoolExecutor(_THREADS) as pool:
        p = pool.map(lambda rows: 2 * special.stdtr(df[rows], -np.abs(t[rows])), parts)
        return np.concatenate(list(p))


def _batch_window_cars(
    per_day: dict[str, np.ndarray], est: dict[str, np.ndarray], settings: StudySettings
) -> dict[str, np.ndarray]:
    """`window_cars` of one batch of events, but p."""
    first = settings.span[0]
    missing = np.isnan(per_day["ret"]) | np.isnan(per_day["market_return"])
    missing = np.cumsum(missing, axis=1, dtype=np.int32)
    car_days, car_through, dm_through = cumulated(per_day, est)
    shape = (len(car_through), len(settings.windows))
    car, days, dm, gaps = np.empty(shape), np.empty(shape), np.empty(shape), np.empty(shape)
    for j, (start, end) in enumerate(settings.windows):
        for out, cumulative in (
            (car, car_through),
            (days, car_days),
            (dm, dm_through),
            (gaps, missing),
        ):
            out[:, j] = cumulative[:, end - first]
            if start > first:
                out[:, j] -= cumulative[:, start - 1 - first]
    del car_days, car_through, dm_through, missing
    with np.errstate(divide="ignore", invalid="ignore"):
        car_var = _car_variance(est, days, dm)
        car[days == 0] = np.nan
        car_var[days == 0] = np.nan
        t = car / np.sqrt(car_var)
    return {
        "car": car,
        "car_var": car_var,
        "days": days.astype(np.int32),
        "t": t,
        "gap": (gaps > 0).any(axis=1),
    }


def rank_and_sign_pass(
    panel: Panel,
    market: np.ndarray,
    rows: np.ndarray,
    col0: np.ndarray,
    est: dict[str, np.ndarray],
    settings: StudySettings,
) -> dict:
    """One pass over every in-sample event's estimation and span days, in cache-sized chunks.

    Gives each event's share of positive estimation-window ARs (generalized sign test, Cowan 1992)
    and, summed over the events, what `pooled_ranks` turns into the mean centred rank per relative
    day (rank test, Corrado 1989, ranks scaled by 1 / (valid days + 1) as in Corrado & Zivney
    1992) and the mean cross-correlation of the estimation-window ARs (Kolari & Pynnonen 2010):
    `rank_sum`, `rank_n` per day and `corr_sum` (the standardised rows' sum), `corr_events`.
    Events of one ticker on one day 0 have the same ARs: each is ranked once and counted as often
    as it occurs.
    """
    (est_start, est_end), (first, last) = settings.estimation, settings.span
    days = np.arange(est_start, last + 1)
    n_est = est_end - est_start + 1
    gap = (days > est_end) & (days < first)
    stock_windows = np.lib.stride_tricks.sliding_window_view(panel.ret, len(days), axis=1)
    market_windows = np.lib.stride_tricks.sliding_window_view(market, len(days))

    positive_share = np.full(len(col0), np.nan)

    def one_chunk(at: np.ndarray) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        chunk, copies = distinct[at], occurs[at]
        start = col0[chunk] + est_start
        ar = market_windows[start]
        ar *= -est["beta"][chunk, None]
        ar -= est["alpha"][chunk, None]
        ar += stock_windows[rows[chunk], start]
        ar[:, gap] = np.nan
        missing = np.isnan(ar)
        estimation_ar, valid = ar[:, :n_est], ~missing[:, :n_est]
        valid_days = est["n"][chunk]  # the days with both returns: those with an AR
        share[at] = np.count_nonzero(estimation_ar > 0, axis=1) / valid_days
        return (
            *_standardized_sum(np.where(valid, estimation_ar, 0.0), valid, valid_days, copies),
            *centred_rank_sums(ar, missing, copies),
        )

    sample = np.flatnonzero(est["in_sample"])
    key = rows[sample].astype(np.int64) << 32 | col0[sample]
    _, first_at, same, occurs = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    distinct, occurs, share = sample[first_at], occurs.astype(np.float64), np.empty(len(first_at))
    chunks = np.array_split(np.arange(len(distinct)), max(1, -(-len(distinct) // _CHUNK)))
    # one thread fewer than the study's: the main thread measures and stores meanwhile (more
    # threads than cores only trade the GIL back and forth between numpy's calls)
    with ThreadPoolExecutor(max(1, _THREADS - 1)) as pool:
        parts = list(pool.map(one_chunk, chunks))
    positive_share[sample] = share[same]
    # summed in chunk order whatever the threads: the same bits on every run
    sums = [sum(p[k] for p in parts) for k in range(4)]
    return {
        "positive_share": positive_share,
        "days": days,
        "ranked": ~gap,
        **dict(zip(("corr_sum", "corr_events", "rank_sum", "rank_n"), sums, strict=True)),
    }


def pooled_ranks(parts: list[dict], order: np.ndarray | None) -> dict:
    """The rank and sign passes of the groups (calendars, market proxies) pooled by relative
    day: mean centred rank per day, mean estimation-AR cross-correlation (Kolari-Pynnonen) over
    every pair of events, and each measured event's share of positive estimation ARs (in the
    measured order: `order` maps the groups' concatenated events to it)."""
    if not parts:
        return {
            "positive_share": np.zeros(0),
            "day": np.zeros(0, dtype=np.int64),
            "n": np.zeros(0),
            "mean_centred_rank": np.zeros(0),
            "mean_correlation": np.nan,
        }
    corr_sum, corr_events, rank_sum, rank_n = (
        sum(p[k] for p in parts) for k in ("corr_sum", "corr_events", "rank_sum", "rank_n")
    )
    positive_share = np.concatenate([p["positive_share"] for p in parts])
    ranked = parts[0]["ranked"]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_correlation = (corr_sum @ corr_sum - corr_events) / (corr_events * (corr_events - 1))
        mean_rank = rank_sum / rank_n
    return {
        "positive_share": positive_share if order is None else positive_share[order],
        "day": parts[0]["days"][ranked],
        "n": rank_n[ranked],
        "mean_centred_rank": mean_rank[ranked],
        "mean_correlation": float(mean_correlation) if corr_events > 1 else float("nan"),
    }


def _standardized_sum(
    values: np.ndarray, valid: np.ndarray, valid_days: np.ndarray, copies: np.ndarray
) -> tuple[np.ndarray, int]:
    """Sum over rows, each counted `copies` times, of each row's deviations from its mean
    (valid days; others are 0) scaled to unit length, and the number of rows with a non-zero
    length. Overwrites `values`."""
    mean = values.sum(axis=1) / valid_days
    centred = values
    np.subtract(centred, mean[:, None], out=centred, where=valid)
    length = np.sqrt(np.einsum("ij,ij->i", centred, centred))
    weight = np.divide(copies, length, out=np.zeros_like(length), where=length > 0)
    return np.einsum("i,ij->j", weight, centred), int(copies[length > 0].sum())


def centred_rank_sums(
    values: np.ndarray, missing: np.ndarray | None = None, copies: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the sum over rows (each counted `copies` times, default once) of
    (rank / (valid values in the row + 1) - 1/2), and how many rows have a value there. Ranks
    are 1-based within each row, ties get their mean rank, NaNs are missing; the other values
    are finite and below 8e307 in size. Values equal to 13 significant digits count as ties.

    One float sort per row: each value with the column number in its lowest mantissa bits, so
    the sorted keys give both the order and the column of every rank.
    """
    rows, cols = values.shape
    missing = np.isnan(values) if missing is None else missing
    bits = max(1, (cols - 1).bit_length())
    low = (1 << bits) - 1
    column = np.arange(cols, dtype=np.int64)
    keys = values + 0.0  # + 0.0 turns -0.0 into 0.0
    code = keys.view(np.int64)
    code &= ~low
    code |= column
    np.copyto(code, _missing_codes(cols, bits), where=missing)
    keys.sort(axis=1)
    valid_count = cols - np.count_nonzero(missing, axis=1)
    scaled = _scaled_ranks(cols)[valid_count]  # rank / (valid + 1); 0 at missing values
    tied = (code[:, 1:] ^ code[:, :-1]).view(np.uint64) <= low  # the same value bits: a tie
    tie_rows = np.flatnonzero(tied.any(axis=1))
    if len(tie_rows):
        valid = valid_count[tie_rows, None]
        ranks = np.where(column < valid, _mean_tied_ranks(tied[tie_rows]), 0.0)
        scaled[tie_rows] = ranks / (valid + 1.0)
    counts = rows - missing.view(np.uint8).sum(axis=0, dtype=np.int64).astype(np.float64)
    if copies is not None:  # whole numbers: exact in any order
        repeated = np.flatnonzero(copies != 1)
        scaled[repeated] *= copies[repeated, None]
        counts += copies.sum() - rows - (copies[repeated] - 1) @ missing[repeated].view(np.uint8)
    sums = np.bincount((code & low).ravel(), weights=scaled.ravel(), minlength=cols)
    return sums - 0.5 * counts, counts


@cache
def _missing_codes(cols: int, bits: int) -> np.ndarray:
    """Bits of distinct finite floats above 8e307 with the column number in the lowest `bits`:
    missing values sort last and are never tied."""
    column = np.arange(cols, dtype=np.int64)
    return np.int64(0x7FE0_0000_0000_0000) | column << bits | column


@cache
def _scaled_ranks(cols: int) -> np.ndarray:
    """Row v: the ranks 1..v of a row with v valid values scaled by 1 / (v + 1), then zeros."""
    position = np.arange(cols)
    valid = np.arange(cols + 1)[:, None]
    return np.where(position < valid, (position + 1.0) / (valid + 1.0), 0.0)


def _mean_tied_ranks(tied: np.ndarray) -> np.ndarray:
    """1-based ranks of sorted positions, averaged over runs where tied[:, k] joins k and k+1."""
    rows, cols = tied.shape[0], tied.shape[1] + 1
    position = np.arange(cols)
    starts = np.ones((rows, cols), dtype=bool)
    starts[:, 1:] = ~tied
    ends = np.ones((rows, cols), dtype=bool)
    ends[:, :-1] = ~tied
    run_start = np.maximum.accumulate(np.where(starts, position, 0), axis=1)
    run_start_reversed = np.maximum.accumulate(np.where(ends[:, ::-1], position, 0), axis=1)
    run_end = (cols - 1 - run_start_reversed)[:, ::-1]
    return (run_start + run_end) / 2 + 1


def _confounded(rows: np.ndarray, col0: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """True where another event of the same ticker has day 0 within days lo..hi of this one."""
    key = rows.astype(np.int64) << 32 | col0
    order = np.argsort(key, kind="stable")
    ordered = key[order]  # sorted queries: each search starts near the last
    inside = np.searchsorted(ordered, ordered + hi, "right") - np.searchsorted(
        ordered, ordered + lo, "left"
    )
    confounded = np.empty(len(key), dtype=bool)
    confounded[order] = inside - (lo <= 0 <= hi) > 0
    return confounded


# -- storing and shaping results -------------------------------------------------------------


def _store(
    con, name: str, events: pl.DataFrame, measured: Measured, settings: StudySettings
) -> int:
    """Store this study as `name`, replacing a stored study of that name (the caller holds the
    transaction); returns its new study_id. Event keys are unique across studies."""
    sql.run(con, "study/name", study_name=name)
    sql.run(con, "study/clear")
    study_id, first_key = sql.run(con, "study/next_ids").fetchall()[0]
    est, per_day, per_window = measured.per_event, measured.per_day, measured.per_window
    keys = (measured.keys + first_key).astype(np.int32)
    first, last = settings.span
    _insert(
        con,
        "study_events_all",
        events.select(_EVENT_COLUMNS).with_columns(
            pl.lit(study_id).alias("study_id"),
            pl.int_range(first_key, first_key + len(events), dtype=pl.Int32).alias("event_key"),
            *(pl.Series(flag, values) for flag, values in measured.flags.items()),
            measured.note,
        ),
    )
    days = np.arange(first, last + 1, dtype=np.int32)
    windows = np.int32(settings.windows)
    for part in _batches(len(keys)):  # bounded memory: the copies are per batch
        _insert(
            con,
            "study_abnormal_returns_all",
            {
                "study_id": np.full(len(days) * len(keys[part]), study_id, dtype=np.int32),
                "event_key": np.repeat(keys[part], len(days)),
                "day": np.tile(days, len(keys[part])),
                **{k: per_day[k][part].ravel() for k in _PER_DAY},
            },
        )
        _insert(
            con,
            "study_cars_all",
            {
                "study_id": np.full(len(windows) * len(keys[part]), study_id, dtype=np.int32),
                "event_key": np.repeat(keys[part], len(windows)),
                "window_start": np.tile(windows[:, 0], len(keys[part])),
                "window_end": np.tile(windows[:, 1], len(keys[part])),
                **{k: per_window[k][part].ravel() for k in ("days", "car", "car_var", "t", "p")},
            },
        )
    ranks = measured.rank_days
    est = {**est, "positive_share": ranks["positive_share"]}
    _insert(
        con,
        "study_estimates_all",
        {
            "study_id": np.full(len(keys), study_id, dtype=np.int32),
            "event_key": keys,
            "estimation_days": est["n"],
            **{k: est[k] for k in _ESTIMATES},
        },
    )
    _insert(
        con,
        "study_rank_days_all",
        {
            "study_id": np.full(len(ranks["day"]), study_id, dtype=np.int32),
            **{k: ranks[k] for k in ("day", "n", "mean_centred_rank")},
        },
    )
    _insert(
        con,
        "study_settings_all",
        {
            "study_id": [study_id],
            "name": [name],
            "model": [settings.model],
            "returns": [settings.returns],
            "estimation_start": [settings.estimation[0]],
            "estimation_end": [settings.estimation[1]],
            "min_estimation_days": [settings.min_estimation_days],
            "windows": [",".join(map(window_label, settings.windows))],
            "market": pl.Series([settings.market], dtype=pl.String),
            "benchmark": pl.Series([settings.benchmark], dtype=pl.String),
            "events": [len(events)],
            "kp_mean_correlation": [ranks["mean_correlation"]],
        },
    )
    return study_id


_EVENT_COLUMNS = (
    "event_id",
    "ticker",
    "company",
    "status",
    "published_at",
    "published_date",
    "calendar",
    "currency",
    "event_date",
    "rule",
    "market",
    "benchmark",
    "article_id",
    "entity_idx",
    "entity_id",
)
_ESTIMATES = (
    "in_sample",
    "alpha",
    "beta",
    "sigma",
    "df",
    "market_mean",
    "market_ssd",
    "positive_share",
    "zero_share",
    "abnormal_volume",
)
_PER_DAY = ("ret", "market_return", "benchmark_return", "ar")
_PATH_ESTIMATES = ("n", "sigma", "market_mean", "market_ssd", "fec_const", "fec_slope")
_STUDY_TABLES = (
    "study_settings_all",
    "study_events_all",
    "study_estimates_all",
    "study_abnormal_returns_all",
    "study_cars_all",
    "study_rank_days_all",
    "study_aar_all",
    "study_caar_all",
)
_INPUT_TABLES = ("study_sessions", "study_tickers")


def _batches(size: int, batch: int = 131_072) -> list[slice]:
    """Consecutive slices of at most `batch` events covering 0..size (at least one)."""
    return [slice(start, start + batch) for start in range(0, max(size, 1), batch)]


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: dict | pl.DataFrame) -> None:
    """Append columns (arrays or a frame) to a study table, matched by name."""
    if table not in _STUDY_TABLES + _INPUT_TABLES:
        raise ValueError(f"not a study table: {table}")
    frame = (
        columns if isinstance(columns, pl.DataFrame) else pl.DataFrame(columns, nan_to_null=True)
    )
    # Arrow C stream: no copy, no pyarrow. A relation, not a registered view: a view keeps its
    # frame (and the arrays under it) alive until the connection closes.
    con.from_arrow(frame).query(
        "study_input", f"INSERT INTO {table} BY NAME SELECT * FROM study_input"
    )


_P_VALUES = {  # statistic: (its p-value column, distribution)
    "t_csect": ("p_csect", "t"),
    "patell_z": ("p_patell", "normal"),
    "bmp_t": ("p_bmp", "t"),
    "kp_t": ("p_kp", "t"),
    "sign_z": ("p_sign", "normal"),
    "gsign_z": ("p_gsign", "normal"),
    "rank_z": ("p_rank", "normal"),
}


def with_p_values(frame: pl.DataFrame) -> pl.DataFrame:
    """Add a two-sided p_<test> after each statistic: Student t(n - 1) or standard normal."""
    from scipy import special

    columns = []
    for name in frame.columns:
        columns.append(frame[name])
        if name in _P_VALUES:
            p_name, distribution = _P_VALUES[name]
            stat = frame[name].cast(pl.Float64).fill_null(np.nan).to_numpy()
            if distribution == "t":
                p = 2 * special.stdtr(frame["n"].to_numpy() - 1.0, -np.abs(stat))
            else:
                p = 2 * special.ndtr(-np.abs(stat))
            columns.append(pl.Series(p_name, p).fill_nan(None))
    return pl.DataFrame(columns)


def _events_frame(events: pl.DataFrame, measured: Measured, settings: StudySettings):
    est, keys = measured.per_event, measured.keys
    day0 = -settings.span[0]
    per_event = {
        "alpha": est["alpha"],
        "beta": est["beta"],
        "sigma": est["sigma"],
        "estimation_days": est["n"],
        "ar_0": measured.per_day["ar"][:, day0],
        "return_0": measured.per_day["ret"][:, day0],
        "market_return_0": measured.per_day["market_return"][:, day0],
        "benchmark_return_0": measured.per_day["benchmark_return"][:, day0],
        "abnormal_volume_0": est["abnormal_volume"],
    }
    for j, window in enumerate(settings.windows):
        for stat in ("car", "t", "p"):
            per_event[f"{stat}_{window_suffix(window)}"] = measured.per_window[stat][:, j]
    in_sample = np.zeros(len(events), dtype=bool)
    in_sample[keys] = est["in_sample"]
    return (
        events.select(_EVENT_COLUMNS)
        .with_columns(
            *(
                pl.Series(name, _spread(values, keys, len(events)), nan_to_null=True)
                for name, values in per_event.items()
            ),
            pl.Series("in_sample", in_sample),
            flag_texts(measured.flags),
            measured.note,
        )
        .with_columns(pl.col("estimation_days").cast(pl.Int32))
    )


def flag_texts(flags: dict[str, np.ndarray]) -> pl.Series:
    """Each event's flags as text, in FLAGS order, joined by ';' ('' for none)."""
    code = np.zeros(len(flags[FLAGS[0]]), dtype=np.int64)
    for bit, name in enumerate(FLAGS):
        code |= flags[name].astype(np.int64) << bit
    return _texts_of_flag_codes().gather(code)


@cache
def _texts_of_flag_codes() -> pl.Series:
    """The text of every set of flags, at its code (bit i: FLAGS[i])."""
    texts = [
        ";".join(f for bit, f in enumerate(FLAGS) if code >> bit & 1)
        for code in range(1 << len(FLAGS))
    ]
    return pl.Series("flags", texts, dtype=pl.String)


def _spread(values: np.ndarray, keys: np.ndarray, size: int) -> np.ndarray:
    """values (one per measured event, at `keys`) in a full-length array, NaN elsewhere."""
    full = np.full(size, np.nan)
    full[keys] = values
    return full


def _path_frame(events: pl.DataFrame, measured: Measured, settings: StudySettings):
    first, last = settings.span
    keys, per_day, est = measured.keys, measured.per_day, measured.per_event
    days, car, dm = cumulated(per_day, est)
    with np.errstate(divide="ignore", invalid="ignore"):
        car_var = _car_variance(est, days, dm)
    car[days == 0] = np.nan
    car_var[days == 0] = np.nan
    return pl.DataFrame(
        {
            "event_id": events["event_id"].gather(np.repeat(keys, last - first + 1)),
            "day": np.tile(np.arange(first, last + 1, dtype=np.int32), len(keys)),
            **{k: per_day[k].ravel() for k in ("ret", "market_return", "benchmark_return", "ar")},
            "car": car.ravel(),
            "car_var": car_var.ravel(),
        }
    ).fill_nan(None)
