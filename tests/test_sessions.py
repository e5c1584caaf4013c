from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import exchange_calendars as xc
import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagger.sessions import align_events, align_to_session, calendar

NY = ZoneInfo("America/New_York")
XNYS = xc.get_calendar("XNYS", start="2000-01-01")


@pytest.mark.parametrize(
    ("when", "day0", "rule"),
    [
        (datetime(2024, 5, 2, 15, 59, tzinfo=NY), date(2024, 5, 2), "in_session"),
        (datetime(2024, 5, 2, 16, 0, tzinfo=NY), date(2024, 5, 3), "after_close"),
        (datetime(2024, 5, 2, 16, 1, tzinfo=NY), date(2024, 5, 3), "after_close"),
        (datetime(2024, 5, 2, 8, 0, tzinfo=NY), date(2024, 5, 2), "pre_open"),
        (datetime(2024, 5, 2, 9, 30, tzinfo=NY), date(2024, 5, 2), "in_session"),
        (datetime(2024, 5, 4, 11, 0, tzinfo=NY), date(2024, 5, 6), "closed_day"),  # Saturday
        (
            datetime(2024, 11, 28, 10, 0, tzinfo=NY),
            date(2024, 11, 29),
            "closed_day",
        ),  # Thanksgiving
        # the day after Thanksgiving closes at 13:00
        (datetime(2024, 11, 29, 12, 59, tzinfo=NY), date(2024, 11, 29), "in_session"),
        (datetime(2024, 11, 29, 13, 0, tzinfo=NY), date(2024, 12, 2), "after_close"),
        (datetime(2024, 11, 29, 15, 0, tzinfo=NY), date(2024, 12, 2), "after_close"),
        # Friday after the close: Monday
        (datetime(2024, 5, 3, 17, 0, tzinfo=NY), date(2024, 5, 6), "after_close"),
        # winter time: 16:00 New York is 21:00 UTC
        (datetime(2024, 1, 10, 20, 59, tzinfo=UTC), date(2024, 1, 10), "in_session"),
        (datetime(2024, 1, 10, 21, 0, tzinfo=UTC), date(2024, 1, 11), "after_close"),
        (date(2024, 5, 3), date(2024, 5, 3), "date_only"),
        (date(2024, 5, 4), date(2024, 5, 6), "date_only_closed_day"),
        (date(2024, 11, 28), date(2024, 11, 29), "date_only_closed_day"),
        (date(1985, 1, 2), None, "outside_calendar"),
    ],
)
def test_alignment_rules(when, day0, rule):
    assert align_to_session(when) == (day0, rule)


def test_utc_and_new_york_are_the_same_instant():
    # 20:30 UTC is 16:30 in New York in May (EDT): after the close
    utc = datetime(2024, 5, 2, 20, 30, tzinfo=UTC)
    assert align_to_session(utc) == (date(2024, 5, 3), "after_close")
    assert align_to_session(utc.astimezone(NY)) == align_to_session(utc)
    # 20:30 New York time is a different instant, also after the close
    assert align_to_session(datetime(2024, 5, 2, 20, 30, tzinfo=NY))[0] == date(2024, 5, 3)
    # 15:30 UTC is 11:30 in New York: in the session
    assert align_to_session(datetime(2024, 5, 2, 15, 30, tzinfo=UTC))[1] == "in_session"


def test_naive_time_is_utc():
    assert align_to_session(datetime(2024, 5, 2, 19, 59)) == (date(2024, 5, 2), "in_session")
    assert align_to_session(datetime(2024, 5, 2, 20, 0)) == (date(2024, 5, 3), "after_close")


def test_instant_wins_over_date_and_nulls_are_outside():
    at = pl.Series([datetime(2024, 5, 2, 21, 0, tzinfo=UTC), None, None]).dt.replace_time_zone(
        "UTC"
    )
    day = pl.Series([date(2024, 5, 2), date(2024, 5, 2), None])
    out = align_events(at, day)
    assert out["event_date"].to_list() == [date(2024, 5, 3), date(2024, 5, 2), None]
    assert out["rule"].to_list() == ["after_close", "date_only", "outside_calendar"]


minutes = st.integers(
    min_value=int(datetime(2000, 1, 5, tzinfo=UTC).timestamp() // 60),
    max_value=int(datetime(2026, 12, 31, tzinfo=UTC).timestamp() // 60),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(minutes, min_size=1, max_size=40))
def test_instants_move_the_first_session_still_open(values):
    instants = [datetime.fromtimestamp(m * 60, tz=UTC) for m in values]
    out = align_events(
        pl.Series(instants, dtype=pl.Datetime("us", "UTC")),
        pl.Series([None] * len(instants), dtype=pl.Date),
    )
    for instant, day0, rule in zip(instants, out["event_date"], out["rule"], strict=True):
        expected = XNYS.minute_to_session(pd.Timestamp(instant), direction="next").date()
        assert day0 == expected
        close = XNYS.session_close(pd.Timestamp(day0))
        assert instant < close  # still open (or not yet open) on day 0
        previous = XNYS.previous_session(pd.Timestamp(day0))
        assert instant >= XNYS.session_close(previous)  # the session before had closed
        local = instant.astimezone(NY).date()
        if rule in ("pre_open", "in_session"):
            assert local == day0
            assert (instant < XNYS.session_open(pd.Timestamp(day0))) == (rule == "pre_open")
        else:
            assert rule in ("after_close", "closed_day")
            assert local < day0
            assert XNYS.is_session(pd.Timestamp(local)) == (rule == "after_close")


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(2000, 1, 3), max_value=date(2026, 12, 31)))
def test_dates_move_their_own_or_the_next_session(day):
    day0, rule = align_to_session(day)
    assert day0 == XNYS.date_to_session(pd.Timestamp(day), direction="next").date()
    assert day0 - day <= timedelta(days=6)  # the longest closure: after 9/11, Sep 11-14, 2001
    assert (rule == "date_only") == XNYS.is_session(pd.Timestamp(day))
    assert rule.startswith("date_only")


# -- other calendars -------------------------------------------------------------------------

SEOUL = ZoneInfo("Asia/Seoul")
TOKYO = ZoneInfo("Asia/Tokyo")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("when", "name", "day0", "rule"),
    [
        # 10:00 UTC is 19:00 in Seoul (after the 15:30 close) and 06:00 in New York
        (datetime(2024, 5, 2, 10, 0, tzinfo=UTC), "XKRX", date(2024, 5, 3), "after_close"),
        (datetime(2024, 5, 2, 10, 0, tzinfo=UTC), "XNYS", date(2024, 5, 2), "pre_open"),
        (datetime(2024, 5, 2, 15, 29, tzinfo=SEOUL), "XKRX", date(2024, 5, 2), "in_session"),
        (datetime(2024, 5, 2, 15, 30, tzinfo=SEOUL), "XKRX", date(2024, 5, 3), "after_close"),
        (datetime(2024, 5, 2, 8, 59, tzinfo=SEOUL), "XKRX", date(2024, 5, 2), "pre_open"),
        # Children's Day (Sunday) and its substitute holiday, Monday 6 May 2024
        (datetime(2024, 5, 6, 12, 0, tzinfo=SEOUL), "XKRX", date(2024, 5, 7), "closed_day"),
        (date(2024, 5, 6), "XKRX", date(2024, 5, 7), "date_only_closed_day"),
        (date(2024, 5, 6), "XNYS", date(2024, 5, 6), "date_only"),
        # Tokyo's lunch break is inside the session; the close is 15:00 (15:30 from Nov 2024)
        (datetime(2024, 5, 2, 12, 0, tzinfo=TOKYO), "XTKS", date(2024, 5, 2), "in_session"),
        (datetime(2024, 5, 2, 15, 0, tzinfo=TOKYO), "XTKS", date(2024, 5, 7), "after_close"),
        (datetime(2024, 12, 2, 15, 10, tzinfo=TOKYO), "XTKS", date(2024, 12, 2), "in_session"),
        (datetime(2024, 5, 2, 16, 35, tzinfo=LONDON), "XLON", date(2024, 5, 3), "after_close"),
        (date(1996, 6, 3), "XTKS", None, "outside_calendar"),  # XTKS is known from 1997
    ],
)
def test_alignment_on_the_listing_calendar(when, name, day0, rule):
    assert align_to_session(when, name) == (day0, rule)


def test_events_align_on_their_own_calendars_in_one_call():
    at = pl.Series([datetime(2024, 5, 2, 10, 0, tzinfo=UTC)] * 3 + [None])
    day = pl.Series([None, None, None, date(2030, 1, 2)], dtype=pl.Date)
    out = align_events(at, day, pl.Series(["XKRX", "XNYS", None, "XKRX"]))
    assert out["event_date"].to_list() == [date(2024, 5, 3), date(2024, 5, 2), None, None]
    assert out["rule"].to_list() == ["after_close", "pre_open", "no_calendar", "outside_calendar"]


XKRX = xc.get_calendar("XKRX", start="2010-01-04")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.integers(
            min_value=int(datetime(2010, 1, 5, tzinfo=UTC).timestamp() // 60),
            max_value=int(datetime(2026, 12, 31, tzinfo=UTC).timestamp() // 60),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_krx_instants_move_the_first_krx_session_still_open(values):
    instants = [datetime.fromtimestamp(m * 60, tz=UTC) for m in values]
    out = align_events(
        pl.Series(instants, dtype=pl.Datetime("us", "UTC")),
        pl.Series([None] * len(instants), dtype=pl.Date),
        pl.Series(["XKRX"] * len(instants)),
    )
    for instant, day0 in zip(instants, out["event_date"], strict=True):
        expected = XKRX.minute_to_session(pd.Timestamp(instant), direction="next").date()
        assert day0 == expected
        assert instant < XKRX.session_close(pd.Timestamp(day0))


def test_calendars_are_cached_and_a_broken_cache_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("TAGGER_CACHE", str(tmp_path))
    calendar.cache_clear()
    try:
        built = calendar("XNYS")
        (saved,) = (tmp_path / "calendars").glob("XNYS-*.npz")
        calendar.cache_clear()
        again = calendar("XNYS")
        assert (again.sessions == built.sessions).all() and (again.closes == built.closes).all()
        assert again.tz == "America/New_York"
        saved.write_bytes(b"not an npz file")
        calendar.cache_clear()
        rebuilt = calendar("XNYS")
        assert (rebuilt.opens == built.opens).all()
        assert rebuilt.sessions[0] == np.datetime64("1990-01-02")
    finally:
        calendar.cache_clear()
