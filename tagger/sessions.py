"""From a news timestamp to the trading session it can move (day 0), on a listing's own calendar.

Holds the calendar rules only: no prices, no SQL. Each exchange_calendars calendar (XNYS, XKRX,
XTKS, XLON ...) gives its sessions with their real opens and closes (holidays, early closes,
lunch breaks are inside a session), so the rules are, in the calendar's own time zone:

- `pre_open`: before the open of a session day -> that session
- `in_session`: from the open to before the close -> that session
- `after_close`: at or after the close (16:00 New York, 15:30 Seoul ...) -> next session
- `closed_day`: on a weekend or holiday -> next session
- `date_only`: a date without a time that is a session -> that session
- `date_only_closed_day`: a date without a time that is not a session -> next session
- `outside_calendar`: no session known to the calendar -> no day 0

    >>> from datetime import datetime, timezone
    >>> ten_utc = datetime(2024, 5, 2, 10, 0, tzinfo=timezone.utc)
    >>> align_to_session(ten_utc, "XKRX")  # 19:00 in Seoul, after the 15:30 close
    (datetime.date(2024, 5, 3), 'after_close')
    >>> align_to_session(ten_utc, "XNYS")  # 06:00 in New York
    (datetime.date(2024, 5, 2), 'pre_open')

Building a calendar with exchange_calendars takes from half a second (XNYS) to several seconds
(XKRX), so each calendar's session arrays are kept in a cache file (`cache_folder()`) until the
library version changes or the calendar no longer reaches today.
"""

import os
from datetime import date, datetime
from functools import cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
import polars as pl

US_CALENDAR = "XNYS"
RULES = (  # in the order _align tests them
    "outside_calendar",
    "pre_open",
    "in_session",
    "after_close",
    "closed_day",
    "date_only",
    "date_only_closed_day",
    "no_calendar",
)
CALENDAR_START = "1990-01-02"


class SessionCalendar:
    """A calendar's sessions as arrays: `sessions` (datetime64[D]), `opens`/`closes` (UTC
    microseconds, as polars stores instants), and its time zone `tz` (an IANA name)."""

    def __init__(self, name: str, tz: str, sessions, opens, closes):
        self.name, self.tz = name, tz
        self.sessions = np.asarray(sessions).astype("datetime64[D]")
        self.opens = np.asarray(opens, dtype=np.int64)
        self.closes = np.asarray(closes, dtype=np.int64)

    def index_of(self, days: np.ndarray) -> np.ndarray:
        """Position of each session date in `sessions` (days must be sessions)."""
        return np.searchsorted(self.sessions, days.astype("datetime64[D]"))

    def session_dates(self, first: int, last: int) -> list[date]:
        """The session dates at positions first..last (clipped to the calendar), as dates."""
        first, last = max(first, 0), min(last, len(self.sessions) - 1)
        return self.sessions[first : last + 1].astype(object).tolist()


def cache_folder() -> Path:
    """`$TAGGER_CACHE`, else `$XDG_CACHE_HOME/market-tagger`, else `~/.cache/market-tagger`."""
    if os.environ.get("TAGGER_CACHE"):
        return Path(os.environ["TAGGER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "market-tagger"


@cache
def calendar(name: str = US_CALENDAR) -> SessionCalendar:
    """The sessions of exchange_calendars calendar `name` from 1990 (or the first year the
    library knows) to about a year from now."""
    path = cache_folder() / "calendars" / f"{name}-{version('exchange_calendars')}.npz"
    try:
        with np.load(path) as saved:
            cached = SessionCalendar(name, str(saved["tz"]), *(saved[k] for k in _ARRAYS))
        if cached.sessions[-1] >= np.datetime64(date.today()):
            return cached
    except (OSError, ValueError, KeyError):
        pass
    built = _build(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.npz")
        np.savez(partial, tz=built.tz, **{k: getattr(built, k) for k in _ARRAYS})
        os.replace(partial, path)
    except OSError:
        pass  # a read-only home: build again next time
    return built


_ARRAYS = ("sessions", "opens", "closes")


def _build(name: str) -> SessionCalendar:
    import exchange_calendars as xc

    try:
        found = xc.get_calendar(name, start=CALENDAR_START)
    except ValueError:  # holidays recorded from a later year (XTKS 1997, XSHG 1990-12)
        found = xc.get_calendar(name, start=xc.get_calendar(name).bound_min())
    return SessionCalendar(
        name,
        str(found.tz),
        found.sessions.to_numpy(),
        _utc_us(found.opens),
        _utc_us(found.closes),
    )


def _utc_us(times) -> np.ndarray:
    return times.dt.tz_convert(None).to_numpy().astype("datetime64[us]").astype(np.int64)


def align_to_session(when: datetime | date, calendar_name: str = US_CALENDAR):
    """Day 0 and the rule applied for one publication time or date on a calendar.

    A naive datetime is taken as UTC; give an aware datetime for any other zone.
    """
    if isinstance(when, datetime):
        instant = pl.Series([when])
        instant = (
            instant.dt.convert_time_zone("UTC")
            if when.tzinfo
            else instant.dt.replace_time_zone("UTC")
        )
        day = pl.Series([None], dtype=pl.Date)
    else:
        instant = pl.Series([None], dtype=pl.Datetime("us", "UTC"))
        day = pl.Series([when], dtype=pl.Date)
    aligned = align_events(instant, day, pl.Series([calendar_name]))
    return aligned["event_date"][0], aligned["rule"][0]


def align_events(
    published_at: pl.Series, published_date: pl.Series, calendars: pl.Series | None = None
) -> pl.DataFrame:
    """Day 0 (`event_date`) and `rule` for each event on its calendar (`calendars`: one
    exchange_calendars name per event, default XNYS for all; null: no day 0, rule
    `no_calendar`). The instant wins when both are given.

    `published_at` is a UTC Datetime, `published_date` a Date; either may hold nulls.
    """
    if calendars is None:
        calendars = pl.select(pl.repeat(US_CALENDAR, len(published_at))).to_series()
    names = calendars.drop_nulls().unique()
    if len(names) == 1 and not calendars.has_nulls():  # one calendar: no regrouping
        event_date, rule = _align(calendar(names[0]), published_at, published_date)
    else:
        event_date = np.full(len(published_at), np.datetime64("NaT"), dtype="datetime64[D]")
        rule = np.full(len(published_at), RULES.index("no_calendar"), dtype=np.int8)
        groups = pl.DataFrame({"calendar": calendars}).with_row_index().group_by("calendar")
        for (name,), group in groups:
            if name is None:
                continue
            rows = group["index"].to_numpy()
            found = _align(calendar(name), published_at.gather(rows), published_date.gather(rows))
            event_date[rows], rule[rows] = found
    return pl.DataFrame(
        {
            "event_date": pl.Series(event_date).cast(pl.Date),
            "rule": pl.Series(RULES, dtype=pl.String).gather(rule),
        }
    )


def _align(cal: SessionCalendar, published_at: pl.Series, published_date: pl.Series):
    """Day 0 (datetime64[D], NaT outside the calendar) and rule of events on one calendar."""
    last = len(cal.sessions) - 1
    has_instant = published_at.is_not_null().to_numpy()
    has_day = published_date.is_not_null().to_numpy() & ~has_instant
    instant = published_at.dt.cast_time_unit("us").to_physical().fill_null(0).to_numpy()
    local_day = _days(published_at.dt.convert_time_zone(cal.tz).dt.date())
    day = _days(published_date)

    pos = np.where(
        has_instant,
        np.searchsorted(cal.closes, instant, side="right"),
        np.searchsorted(cal.sessions, day, side="left"),
    )
    first_day = np.where(has_instant, local_day, day)
    known = (has_instant | has_day) & (pos <= last) & (first_day >= cal.sessions[0])
    pos = np.minimum(pos, last)
    session = cal.sessions[pos]
    local_is_session = cal.sessions[np.minimum(np.searchsorted(cal.sessions, local_day), last)] == (
        local_day
    )

    on_day = has_instant & (local_day == session)
    rule = np.select(
        [
            ~known,
            on_day & (instant < cal.opens[pos]),
            on_day,
            has_instant & local_is_session,
            has_instant,
            session == day,
        ],
        range(6),
        6,
    ).astype(np.int8)
    return np.where(known, session, np.datetime64("NaT")), rule


def _days(dates: pl.Series) -> np.ndarray:
    """Dates as datetime64[D]; nulls become the epoch (masked by the caller)."""
    return dates.to_physical().fill_null(0).to_numpy().astype("datetime64[D]")
