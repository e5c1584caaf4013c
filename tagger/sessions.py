"""From a news timestamp to the trading session it can move (day 0), on the NYSE calendar.

Holds the calendar rules only: no prices, no SQL. Instants are compared with each session's real
open and close (exchange_calendars XNYS: holidays, 13:00 early closes), so the rules are:

- `pre_open`: before the open of a session day -> that session
- `in_session`: from the open to before the close -> that session
- `after_close`: at or after the close (16:00, or 13:00 on early-close days) -> next session
- `closed_day`: on a weekend or holiday -> next session
- `date_only`: a date without a time that is a session -> that session
- `date_only_closed_day`: a date without a time that is not a session -> next session
- `outside_calendar`: no session known to the calendar -> no day 0
"""

from datetime import date, datetime
from functools import cache

import exchange_calendars as xc
import numpy as np
import polars as pl

CALENDAR = "XNYS"
CALENDAR_START = "1990-01-02"
NEW_YORK = "America/New_York"


class SessionCalendar:
    """The XNYS sessions as arrays: `sessions` (datetime64[D]), `opens`/`closes` (UTC ns)."""

    def __init__(self, calendar: xc.ExchangeCalendar):
        self.sessions = calendar.sessions.to_numpy().astype("datetime64[D]")
        self.opens = _utc_ns(calendar.opens)
        self.closes = _utc_ns(calendar.closes)

    def index_of(self, days: np.ndarray) -> np.ndarray:
        """Position of each session date in `sessions` (days must be sessions)."""
        return np.searchsorted(self.sessions, days.astype("datetime64[D]"))


def _utc_ns(times) -> np.ndarray:
    return times.dt.tz_convert(None).to_numpy().astype("datetime64[ns]").astype(np.int64)


@cache
def nyse() -> SessionCalendar:
    """The NYSE calendar from 1990 to about a year from now."""
    return SessionCalendar(xc.get_calendar(CALENDAR, start=CALENDAR_START))


def align_to_session(when: datetime | date) -> tuple[date | None, str]:
    """Day 0 and the rule applied for one publication time or date.

    A naive datetime is taken as UTC; give an aware datetime for New York or any other zone.
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
    aligned = align_events(instant, day)
    return aligned["event_date"][0], aligned["rule"][0]


def align_events(published_at: pl.Series, published_date: pl.Series) -> pl.DataFrame:
    """Day 0 (`event_date`) and `rule` for each event; the instant wins when both are given.

    `published_at` is a UTC Datetime, `published_date` a Date; either may hold nulls.
    """
    cal = nyse()
    last = len(cal.sessions) - 1
    has_instant = published_at.is_not_null().to_numpy()
    has_day = published_date.is_not_null().to_numpy() & ~has_instant
    instant = published_at.dt.cast_time_unit("ns").to_physical().fill_null(0).to_numpy()
    local_day = _days(published_at.dt.convert_time_zone(NEW_YORK).dt.date())
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
        ["outside_calendar", "pre_open", "in_session", "after_close", "closed_day", "date_only"],
        "date_only_closed_day",
    )
    return pl.DataFrame(
        {
            "event_date": pl.Series(np.where(known, session, np.datetime64("NaT"))).cast(pl.Date),
            "rule": pl.Series(rule, dtype=pl.String),
        }
    )


def _days(dates: pl.Series) -> np.ndarray:
    return dates.to_physical().fill_null(0).to_numpy().astype("datetime64[D]")
