"""tagger.prices on real data: the bundled snapshot (US and KRX listings), and a stand-in for
yf.download that serves those prices in the exact shape yfinance 1.x returns (checked against
yfinance's own code)."""

import datetime as dt
import json
import logging
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import polars as pl
import pytest
import yfinance as yf
from curl_cffi.requests.exceptions import HTTPError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner
from yfinance.data import YfData
from yfinance.exceptions import YFRateLimitError

from tagger import markets, prices, sql, store
from tagger.cli import app
from tagger.errors import InputError, NetworkError
from tagger.paths import DATA

D = dt.date
BUNDLED = pl.read_parquet(list(prices.BUNDLED_FILES))

# Reasons exactly as yf.download logs them ("['AAPL']: <reason>") with hide_exceptions off.
OFFLINE = (
    "ConnectionError('Failed to perform, curl: (7) Failed to connect to query2.finance.yahoo.com "
    "port 443 after 0 ms: Could not connect to server. See "
    "https://curl.se/libcurl/c/libcurl-errors.html first for more details.')"
)
DNS_FAILED = (
    "DNSError('Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com. "
    "See https://curl.se/libcurl/c/libcurl-errors.html first for more details.')"
)
RATE_LIMITED = "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
NO_TIMEZONE = "YFTzMissingError('possibly delisted; no timezone found')"


def no_price_data(start: str, end: str) -> str:
    return f"YFPricesMissingError('possibly delisted; no price data found  (1d {start} -> {end})')"


class FakeYahoo:
    """Stands in for yf.download(tickers, start, end, auto_adjust=False, ...): serves the bundled
    prices, builds the frame the way yfinance.multi.download does, and logs failures as it does.

    offline: every ticker fails with a connection error. no_dns: every ticker fails to resolve
    Yahoo's host. rate_limited: the first N calls fail with Yahoo's 429 as logged by yfinance.
    raise_rate_limit: the first N calls raise it. tz_aware: keep the index in the exchange's
    time, as yf.download(ignore_tz=False) returns it for tickers of one exchange.
    """

    def __init__(
        self, *, offline=False, no_dns=False, rate_limited=0, raise_rate_limit=0, tz_aware=False
    ):
        self.offline = offline
        self.no_dns = no_dns
        self.rate_limited = rate_limited
        self.raise_rate_limit = raise_rate_limit
        self.tz_aware = tz_aware
        self.calls = []

    def __call__(self, tickers, start=None, end=None, **options):
        self.calls.append((sorted(tickers), start, end, options))
        if self.raise_rate_limit:
            self.raise_rate_limit -= 1
            raise YFRateLimitError()
        rate_limited, self.rate_limited = self.rate_limited > 0, max(self.rate_limited - 1, 0)
        frames, errors = {}, {}
        for ticker in {t.upper() for t in tickers}:
            rows = BUNDLED.filter(
                pl.col("ticker") == ticker,
                pl.col("date") >= D.fromisoformat(start),
                pl.col("date") < D.fromisoformat(end),
            )
            if self.offline:
                errors[ticker] = OFFLINE
            elif self.no_dns:
                errors[ticker] = DNS_FAILED
            elif rate_limited:
                errors[ticker] = RATE_LIMITED
            elif ticker not in set(BUNDLED["ticker"]):
                errors[ticker] = NO_TIMEZONE
            elif rows.is_empty():
                errors[ticker] = no_price_data(start, end)
            frames[ticker] = (
                yf.utils.empty_df() if ticker in errors else history_frame(ticker, rows)
            )
        log_failures(errors)
        return combine(frames, tz_aware=self.tz_aware)


def exchange_tz(ticker: str) -> str:
    return str(xcals.get_calendar(markets.venue_of_symbol(ticker).calendar).tz)


def history_frame(ticker: str, rows: pl.DataFrame) -> pd.DataFrame:
    """One ticker as Ticker.history(auto_adjust=False) returns it: midnight in the exchange's
    time zone."""
    index = pd.DatetimeIndex(rows["date"].to_numpy().astype("datetime64[s]"), name="Date")
    frame = pd.DataFrame(
        {
            name: rows[column].to_numpy().astype("float64")
            for name, column in [
                ("Open", "open"),
                ("High", "high"),
                ("Low", "low"),
                ("Close", "close"),
                ("Adj Close", "adj_close"),
            ]
        },
        index=index.tz_localize(exchange_tz(ticker)),
    )
    frame["Volume"] = rows["volume"].fill_null(0).to_numpy().astype("int64")
    return frame


def combine(frames: dict[str, pd.DataFrame], *, tz_aware: bool) -> pd.DataFrame:
    """What yf.download does with the per-ticker frames (daily data: tz dropped by default)."""
    if not tz_aware:
        frames = {t: f if f.empty else f.tz_localize(None) for t, f in frames.items()}
    index = None
    for frame in frames.values():
        if not frame.empty:
            index = frame.index if index is None else index.union(frame.index)
    if index is None:
        index = pd.DatetimeIndex([])
    frames = {t: f.reindex(index) for t, f in frames.items()}
    data = pd.concat(
        frames.values(), axis=1, sort=True, keys=frames.keys(), names=["Ticker", "Price"]
    )
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


def log_failures(errors: dict[str, str]) -> None:
    if not errors:
        return
    logger = logging.getLogger("yfinance")
    logger.error(f"\n{len(errors)} Failed download{'s' if len(errors) > 1 else ''}:")
    by_reason: dict[str, list[str]] = {}
    for ticker, reason in errors.items():
        by_reason.setdefault(reason, []).append(ticker)
    for reason, tickers in by_reason.items():
        logger.error(f"{tickers}: " + reason)


def bundled(ticker: str, start: dt.date, end: dt.date) -> pl.DataFrame:
    return BUNDLED.filter(pl.col("ticker") == ticker, pl.col("date").is_between(start, end))


def as_yahoo_serves(rows: pl.DataFrame) -> pl.DataFrame:
    """yfinance reports a missing volume as 0 (ARKX has no volume in the snapshot)."""
    return rows.with_columns(pl.col("volume").fill_null(0))


def stored(con, ticker: str) -> pl.DataFrame:
    rows = con.execute(
        "SELECT ticker, date, open, high, low, close, adj_close, volume, source FROM prices "
        "WHERE ticker = ? ORDER BY date",
        [ticker],
    ).fetchall()
    return pl.DataFrame(rows, schema={**prices.PRICE_SCHEMA, "source": pl.String}, orient="row")


def count(con, table: str = "prices") -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture(autouse=True, scope="module")
def yfinance_cache(tmp_path_factory):
    """Keep yfinance's timezone cache out of the user's cache folder."""
    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yf-cache")))


@pytest.fixture
def con(tmp_path):
    connection = store.connect(tmp_path / "t.duckdb")
    yield connection
    connection.close()


@pytest.fixture
def sleeps(monkeypatch):
    waited = []
    monkeypatch.setattr(prices, "sleep", waited.append)
    return waited


# --- tickers and ranges ---------------------------------------------------------------------


def test_tickers_are_normalised_to_yahoo_style():
    assert prices.normalise_tickers(["BRK.B", "brk/b", " aapl ", "BF.B", "^GSPC"]) == [
        "BRK-B",
        "AAPL",
        "BF-B",
        "^GSPC",
    ]
    foreign = ["005930.KS", "7203.t", "NESN.SW", "rio.l", "^KS11", "^n225", "000001.SS", "RIO/L"]
    assert prices.normalise_tickers(foreign) == [
        "005930.KS",
        "7203.T",
        "NESN.SW",
        "RIO.L",
        "^KS11",
        "^N225",
        "000001.SS",
        "RIO-L",  # a slash is always a share class
    ]
    assert prices.normalise_tickers(["MKC.V", "mkc/v"]) == ["MKC.V", "MKC-V"]  # TSXV, class V
    for bad in ("AAPL MSFT", "", ".L", "A" * 33, None, 5930):
        with pytest.raises(InputError, match="is not a ticker; expected a Yahoo symbol"):
            prices.normalise_ticker(bad)


SYMBOLISH = st.from_regex(r"[ a-zA-Z0-9^./=&-]{1,12}", fullmatch=True) | st.sampled_from(
    sorted({f"{root}{v.suffix}" for v in markets.venues().values() for root in ("rio", "7203")})
)


@given(st.one_of(SYMBOLISH, st.text(), st.none(), st.integers(), st.binary()))
@settings(max_examples=400, deadline=None)
def test_normalise_ticker_is_idempotent_and_only_raises_input_error(raw):
    try:
        symbol = prices.normalise_ticker(raw)
    except InputError:
        return
    assert prices.normalise_ticker(symbol) == symbol
    assert symbol.isascii() and symbol == symbol.strip().upper()
    assert markets.suffix_of(symbol) == markets.suffix_of(raw.strip().upper())


def test_missing_ranges_skip_covered_and_weekend_only_parts():
    covered = [(D(2024, 1, 8), D(2024, 1, 12)), (D(2024, 1, 10), D(2024, 1, 19))]
    assert prices.missing_ranges(covered, D(2024, 1, 2), D(2024, 1, 31)) == [
        (D(2024, 1, 2), D(2024, 1, 7)),
        (D(2024, 1, 20), D(2024, 1, 31)),
    ]
    saturday_sunday = [(D(2024, 1, 1), D(2024, 1, 5)), (D(2024, 1, 8), D(2024, 1, 12))]
    assert prices.missing_ranges(saturday_sunday, D(2024, 1, 1), D(2024, 1, 12)) == []


# --- the stand-in is yfinance's real output -------------------------------------------------


class ChartResponse:
    """A Yahoo v8 chart API response (meta, timestamp, indicators) built from bundled rows."""

    def __init__(self, payload, status_code=200):
        self.payload, self.status_code, self.text = payload, status_code, json.dumps(payload)

    def json(self):
        return self.payload

    def raise_for_status(self):
        if self.status_code >= 400:
            raise HTTPError(f"HTTP Error {self.status_code}: Not Found")


def chart_api(self, url, params=None, timeout=30):
    ticker = url.rsplit("/", 1)[1]
    rows = BUNDLED.filter(pl.col("ticker") == ticker)
    if rows.is_empty():
        error = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
        return ChartResponse({"chart": {"result": None, "error": error}}, 404)
    local = ZoneInfo(exchange_tz(ticker))
    if "period1" in params:  # midnights in the exchange's time zone
        first, last = (
            dt.datetime.fromtimestamp(params[p], local).date() for p in ("period1", "period2")
        )
        rows = rows.filter(pl.col("date") >= first, pl.col("date") < last)
    else:
        rows = rows.tail(1)
    meta = {
        "currency": markets.venue_of_symbol(ticker).currency,
        "symbol": ticker,
        "instrumentType": "EQUITY",
        "exchangeTimezoneName": exchange_tz(ticker),
        "priceHint": 2,
        "dataGranularity": "1d",
        "validRanges": ["1d", "5d", "1mo", "max"],
    }
    opening = [int(dt.datetime.combine(d, dt.time(9, 30), local).timestamp()) for d in rows["date"]]
    quote = {c: rows[c].to_list() for c in ("open", "high", "low", "close", "volume")}
    result = {
        "meta": meta,
        "timestamp": opening,
        "indicators": {"quote": [quote], "adjclose": [{"adjclose": rows["adj_close"].to_list()}]},
    }
    return ChartResponse({"chart": {"result": [result], "error": None}})


@pytest.fixture
def chart_api_from_bundled(monkeypatch):
    """The real yf.download, with Yahoo's chart API answered from the bundled prices."""
    monkeypatch.setattr(YfData, "get", chart_api)
    YfData.cache_get.cache_clear()
    yield
    YfData.cache_get.cache_clear()


@pytest.mark.usefixtures("chart_api_from_bundled")
def test_fake_download_matches_real_yfinance():
    cases = (["AAPL", "ARKX", "ZZZZ"], ["BRK-B"], ["ZZZZ"], ["005930.KS", "AAPL", "000660.KS"])
    for tickers in cases:  # ARKX listed 2021-03-30; KRX and NYSE holidays differ
        args = {"start": "2021-03-25", "end": "2021-04-06", "auto_adjust": False, "progress": False}
        real = yf.download(tickers, **args)
        pd.testing.assert_frame_equal(FakeYahoo()(tickers, **args), real)


@pytest.mark.usefixtures("chart_api_from_bundled")
def test_real_yfinance_output_is_stored_and_failures_classified(con):
    window = (D(2021, 3, 25), D(2021, 4, 5))
    report = prices.fetch_prices(con, ["AAPL", "ARKX", "ZZZZ"], *window)
    for ticker in ("AAPL", "ARKX"):
        assert stored(con, ticker).drop("source").equals(as_yahoo_serves(bundled(ticker, *window)))
    (gap,) = report.gaps
    assert (gap.ticker, gap.reason) == ("ZZZZ", "possibly delisted; no timezone found")


@pytest.mark.usefixtures("chart_api_from_bundled")
def test_real_yfinance_output_of_krx_listings_keeps_korean_dates(con):
    # 2021-04-02 is Good Friday: KRX traded, NYSE did not.
    window = (D(2021, 3, 25), D(2021, 4, 5))
    prices.fetch_prices(con, ["005930.KS", "AAPL"], *window)
    krx = stored(con, "005930.KS").drop("source")
    assert krx.equals(bundled("005930.KS", *window))
    assert D(2021, 4, 2) in krx["date"] and D(2021, 4, 2) not in stored(con, "AAPL")["date"]


# --- yfinance adapter -----------------------------------------------------------------------


def test_fetch_writes_real_prices_once(con):
    yahoo = FakeYahoo()
    report = prices.fetch_prices(
        con, ["aapl", "MSFT"], D(2024, 1, 2), D(2024, 3, 28), download=yahoo
    )

    assert yahoo.calls == [
        (
            ["AAPL", "MSFT"],
            "2024-01-02",
            "2024-03-29",
            {"auto_adjust": False, "progress": False},
        )
    ]
    expected = bundled("AAPL", D(2024, 1, 2), D(2024, 3, 28))
    assert report.rows_written == 2 * expected.height
    assert report.tickers_written == ("AAPL", "MSFT")
    assert report.gaps == ()
    aapl = stored(con, "AAPL")
    assert aapl.drop("source").equals(expected)
    assert set(aapl["source"]) == {"yfinance"}

    again = prices.fetch_prices(
        con, ["AAPL", "MSFT"], D(2024, 1, 2), D(2024, 3, 28), download=yahoo
    )
    assert again.rows_written == 0
    assert len(yahoo.calls) == 1


def test_fetch_asks_only_for_missing_ranges(con):
    yahoo = FakeYahoo()
    prices.fetch_prices(con, ["AAPL"], D(2024, 2, 1), D(2024, 2, 29), download=yahoo)
    yahoo.calls.clear()

    report = prices.fetch_prices(
        con, ["AAPL", "MSFT"], D(2024, 1, 2), D(2024, 3, 28), download=yahoo
    )

    asked = [(tickers, start, end) for tickers, start, end, _ in yahoo.calls]
    assert asked == [
        (["AAPL"], "2024-01-02", "2024-02-01"),
        (["AAPL"], "2024-03-01", "2024-03-29"),
        (["MSFT"], "2024-01-02", "2024-03-29"),
    ]
    assert stored(con, "AAPL").drop("source").equals(bundled("AAPL", D(2024, 1, 2), D(2024, 3, 28)))
    assert report.rows_written == count(con) - bundled("AAPL", D(2024, 2, 1), D(2024, 2, 29)).height


def test_tickers_are_fetched_in_batches(con, monkeypatch):
    monkeypatch.setattr(prices, "BATCH_SIZE", 2)
    yahoo = FakeYahoo()
    prices.fetch_prices(
        con, ["AAPL", "MSFT", "NVDA"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo
    )
    assert [call[0] for call in yahoo.calls] == [["AAPL", "MSFT"], ["NVDA"]]


def test_prelisting_nan_rows_are_not_stored(con):
    # ARKX starts trading 2021-03-30; in a batch with AAPL its earlier rows are all NaN.
    prices.fetch_prices(con, ["AAPL", "ARKX"], D(2021, 3, 1), D(2021, 4, 30), download=FakeYahoo())
    expected = as_yahoo_serves(bundled("ARKX", D(2021, 3, 1), D(2021, 4, 30)))
    assert stored(con, "ARKX").drop("source").equals(expected)
    assert stored(con, "ARKX")["date"].min() == D(2021, 3, 30)


def test_timezone_aware_index_keeps_exchange_dates(con):
    prices.fetch_prices(
        con, ["AAPL"], D(2024, 3, 1), D(2024, 3, 28), download=FakeYahoo(tz_aware=True)
    )
    assert (
        stored(con, "AAPL")["date"].to_list()
        == bundled("AAPL", D(2024, 3, 1), D(2024, 3, 28))["date"].to_list()
    )


def test_raised_rate_limit_is_retried_with_backoff(con, sleeps):
    yahoo = FakeYahoo(raise_rate_limit=2)
    report = prices.fetch_prices(con, ["AAPL"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo)
    assert len(yahoo.calls) == 3
    assert sleeps == [prices.BACKOFF_SECONDS, 2 * prices.BACKOFF_SECONDS]
    assert report.rows_written == bundled("AAPL", D(2024, 1, 2), D(2024, 1, 31)).height


def test_logged_rate_limit_is_retried(con, sleeps):
    # yf.download itself does not raise on HTTP 429: it logs the ticker as failed.
    yahoo = FakeYahoo(rate_limited=1)
    report = prices.fetch_prices(
        con, ["AAPL", "MSFT"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo
    )
    assert len(yahoo.calls) == 2
    assert report.tickers_written == ("AAPL", "MSFT")
    assert report.gaps == ()


def no_price_records(con) -> list[tuple]:
    """The recorded answers without prices: (ticker, start, end, reason)."""
    return con.execute(
        "SELECT ticker, start_date, end_date, reason FROM price_coverage WHERE rows = 0 "
        "ORDER BY ticker, start_date"
    ).fetchall()


def test_lasting_rate_limit_is_a_network_error_and_is_remembered(con, sleeps):
    yahoo = FakeYahoo(rate_limited=99)
    with pytest.raises(NetworkError, match=r"^rate limited by Yahoo .* unless --refresh$"):
        prices.fetch_prices(con, ["AAPL"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo)
    assert len(yahoo.calls) == prices.RATE_LIMIT_RETRIES + 1
    assert count(con) == 0
    assert no_price_records(con) == [
        (
            "AAPL",
            D(2024, 1, 2),
            D(2024, 1, 31),
            "rate limited by Yahoo (too many requests) after 4 tries",
        )
    ]


def test_unknown_ticker_is_reported_and_not_asked_again(con):
    yahoo = FakeYahoo()
    report = prices.fetch_prices(
        con, ["AAPL", "ZZZZ"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo
    )

    assert report.tickers_written == ("AAPL",)
    (gap,) = report.gaps
    assert (gap.ticker, gap.start, gap.end, gap.reason) == (
        "ZZZZ",
        D(2024, 1, 2),
        D(2024, 1, 31),
        "possibly delisted; no timezone found",
    )
    assert gap.asked_at > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)

    again = prices.fetch_prices(con, ["ZZZZ"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo)
    assert len(yahoo.calls) == 1
    assert again.gaps == report.gaps  # still reported, from what was recorded

    a_day_later(con)
    prices.fetch_prices(con, ["ZZZZ"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo)
    assert [call[0] for call in yahoo.calls] == [["AAPL", "ZZZZ"], ["ZZZZ"]]


def a_day_later(con) -> None:
    """Age every recorded answer by a day and a minute, as if the next run were a day later."""
    con.execute(
        "UPDATE price_coverage SET recorded_at = recorded_at - INTERVAL 1 DAY - INTERVAL 1 MINUTE"
    )


def test_range_without_prices_is_a_gap(con):
    # Yahoo has AAPL, but not in this range: an empty answer, reported, never a silent gap.
    report = prices.fetch_prices(con, ["AAPL"], D(2019, 1, 2), D(2019, 1, 31), download=FakeYahoo())
    (gap,) = report.gaps
    assert gap.ticker == "AAPL" and gap.asked_at is not None
    assert gap.reason == "possibly delisted; no price data found (1d 2019-01-02 -> 2019-02-01)"


def test_offline_is_one_clear_line_and_keeps_earlier_batches(con, monkeypatch):
    monkeypatch.setattr(prices, "BATCH_SIZE", 1)
    yahoo = FakeYahoo()

    def goes_offline(tickers, **options):
        yahoo.offline = len(yahoo.calls) >= 1
        return yahoo(tickers, **options)

    with pytest.raises(NetworkError) as raised:
        prices.fetch_prices(
            con, ["AAPL", "MSFT"], D(2024, 1, 2), D(2024, 1, 31), download=goes_offline
        )
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("Yahoo Finance did not answer (Failed to connect to query2")
    assert "; 21 rows fetched before were saved; not asked again before " in message
    assert message.endswith(" UTC unless --refresh")
    assert stored(con, "AAPL").height == bundled("AAPL", D(2024, 1, 2), D(2024, 1, 31)).height
    assert stored(con, "MSFT").is_empty()

    back_online = FakeYahoo()
    window = (D(2024, 1, 2), D(2024, 1, 31))
    again = prices.fetch_prices(con, ["AAPL", "MSFT"], *window, download=back_online)
    assert back_online.calls == []  # the failure is remembered for a day
    assert [(g.ticker, g.reason[:28]) for g in again.gaps] == [
        ("MSFT", "Yahoo Finance did not answer")
    ]
    prices.fetch_prices(con, ["AAPL", "MSFT"], *window, refresh=True, download=back_online)
    assert [call[0] for call in back_online.calls] == [["MSFT"]]
    assert stored(con, "MSFT").drop("source").equals(bundled("MSFT", *window))


def test_real_yfinance_unreachable_is_a_network_error(con, monkeypatch):
    # The real yf.download, with every connection refused (a proxy on a closed local port).
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(NetworkError, match=r"^Yahoo Finance did not answer \(.*; nothing saved"):
        prices.fetch_prices(con, ["MSFT", "JPM"], D(2022, 5, 2), D(2022, 5, 31))
    assert count(con) == 0
    assert [record[0] for record in no_price_records(con)] == ["JPM", "MSFT"]


def yahoo_reachable() -> bool:
    try:
        socket.create_connection(("query2.finance.yahoo.com", 443), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.mark.network
def test_live_yahoo_close_matches_bundled(con):
    if not yahoo_reachable():
        pytest.skip("Yahoo Finance is not reachable")
    report = prices.fetch_prices(con, ["AAPL"], D(2024, 12, 23), D(2024, 12, 31))
    assert report.gaps == ()
    live = stored(con, "AAPL")
    assert live["close"][-1] == pytest.approx(250.42, abs=0.01)  # printed close, per PROVENANCE
    assert (live["adj_close"] <= live["close"]).all()


# --- bundled snapshot and the cascade -------------------------------------------------------


def test_bundled_load_is_real_idempotent_and_cheap(con, monkeypatch):
    report = prices.load_bundled(con, ["brk.b", "AAPL", "ZZZZ"])
    assert report.tickers_written == ("AAPL", "BRK-B")
    assert report.rows_written == BUNDLED.filter(pl.col("ticker").is_in(["AAPL", "BRK-B"])).height
    assert stored(con, "BRK-B").drop("source").equals(BUNDLED.filter(pl.col("ticker") == "BRK-B"))
    assert [gap.ticker for gap in report.gaps] == ["ZZZZ"]

    def no_reading(*args, **kwargs):
        raise AssertionError("the snapshot was read again")

    monkeypatch.setattr(prices.pl, "read_parquet", no_reading)
    assert prices.load_bundled(con, ["AAPL", "BRK-B"]).rows_written == 0


@pytest.fixture
def aapl_only_snapshot(tmp_path, monkeypatch):
    """A bundled snapshot holding AAPL only, so other tickers must come from Yahoo."""
    path = tmp_path / "prices.parquet"
    BUNDLED.filter(pl.col("ticker") == "AAPL").write_parquet(path)
    monkeypatch.setattr(prices, "BUNDLED_FILES", (path,))
    prices._snapshot.cache_clear()
    yield
    prices._snapshot.cache_clear()


@pytest.mark.usefixtures("aapl_only_snapshot")
def test_ensure_uses_cache_then_bundled_then_yahoo(con):
    yahoo = FakeYahoo()
    window = (D(2024, 1, 2), D(2024, 3, 28))
    report = prices.ensure_prices(con, ["AAPL", "MSFT", "ZZZZ"], *window, download=yahoo)

    assert [call[0] for call in yahoo.calls] == [["MSFT", "ZZZZ"]]
    assert stored(con, "AAPL")["source"].unique().to_list() == ["bundled"]
    assert stored(con, "MSFT").drop("source").equals(bundled("MSFT", *window))
    assert report.tickers_written == ("AAPL", "MSFT")
    assert [(gap.ticker, gap.reason) for gap in report.gaps] == [
        ("ZZZZ", "possibly delisted; no timezone found")
    ]
    assert report.notes == ()

    again = prices.ensure_prices(con, ["AAPL", "MSFT", "ZZZZ"], *window, download=yahoo)
    assert len(yahoo.calls) == 1
    assert again.rows_written == 0
    assert again.gaps == report.gaps
    (note,) = again.notes
    assert note.startswith("1 range(s) without prices when Yahoo Finance was last asked: not")
    assert note.endswith("UTC unless --refresh")


@pytest.mark.usefixtures("aapl_only_snapshot")
def test_ensure_offline_reports_what_it_could_not_get(con):
    yahoo = FakeYahoo()
    report = prices.ensure_prices(
        con, ["AAPL", "MSFT"], D(2024, 1, 2), D(2024, 3, 28), online=False, download=yahoo
    )
    assert yahoo.calls == []
    assert report.tickers_written == ("AAPL",)
    (gap,) = report.gaps
    assert (gap.ticker, gap.asked_at) == ("MSFT", None)
    assert gap.reason == "not in the store or the bundled snapshot (offline)"


@pytest.mark.usefixtures("aapl_only_snapshot")
def test_ensure_with_network_down_reports_instead_of_raising(con):
    report = prices.ensure_prices(
        con, ["AAPL", "MSFT"], D(2024, 1, 2), D(2024, 3, 28), download=FakeYahoo(offline=True)
    )
    assert report.tickers_written == ("AAPL",)
    (gap,) = report.gaps
    assert gap.ticker == "MSFT" and gap.asked_at is not None
    assert gap.reason.startswith("Yahoo Finance did not answer (Failed to connect")
    (note,) = report.notes
    assert note.startswith(f"{gap.reason}; stopped asking Yahoo; not asked again before ")


NO_DNS = "Yahoo Finance did not answer (Could not resolve host: query2.finance.yahoo.com)"


@pytest.mark.usefixtures("aapl_only_snapshot")
def test_failed_yahoo_is_not_asked_again_for_a_day_unless_refresh(con, monkeypatch):
    monkeypatch.setattr(prices, "BATCH_SIZE", 1)
    yahoo = FakeYahoo(no_dns=True)
    tickers, window = ["AAPL", "MSFT", "NVDA", "005930.KS"], (D(2024, 1, 2), D(2024, 3, 28))

    first = prices.ensure_prices(con, tickers, *window, download=yahoo)
    assert [call[0] for call in yahoo.calls] == [["MSFT"]]  # the first failure stops the run
    assert [(gap.ticker, gap.reason) for gap in first.gaps] == [
        ("MSFT", NO_DNS),
        ("NVDA", NO_DNS),
        ("005930.KS", NO_DNS),
    ]
    assert [(r[0], r[3]) for r in no_price_records(con)] == [
        ("005930.KS", NO_DNS),
        ("MSFT", NO_DNS),
        ("NVDA", NO_DNS),
    ]

    second = prices.ensure_prices(con, tickers, *window, download=yahoo)
    assert len(yahoo.calls) == 1  # remembered: no waiting on the network again
    assert second.gaps == first.gaps
    assert second.notes[0].startswith("3 range(s) without prices when Yahoo Finance was last")

    refreshed = prices.ensure_prices(con, tickers, *window, refresh=True, download=yahoo)
    assert [call[0] for call in yahoo.calls[1:]] == [["MSFT"]]  # asked again, failed again

    yahoo.no_dns = False
    a_day_later(con)
    later = prices.ensure_prices(con, tickers, *window, download=yahoo)
    assert [call[0] for call in yahoo.calls[2:]] == [["MSFT"], ["NVDA"], ["005930.KS"]]
    assert (refreshed.gaps[0].reason, later.gaps) == (NO_DNS, ())
    assert stored(con, "005930.KS").drop("source").equals(bundled("005930.KS", *window))


@pytest.mark.usefixtures("aapl_only_snapshot")
def test_prices_in_the_store_need_neither_yahoo_nor_yfinance(con, tmp_path, monkeypatch):
    window = (D(2024, 6, 3), D(2024, 6, 28))
    bundled("NVDA", *window).write_csv(tmp_path / "nvda.csv")
    prices.import_prices(con, tmp_path / "nvda.csv")
    monkeypatch.setitem(sys.modules, "yfinance", None)  # importing yfinance now fails
    assert prices.ensure_prices(con, ["NVDA", "AAPL"], *window).gaps == ()


def test_importing_prices_loads_neither_yfinance_nor_pandas():
    code = "import sys, tagger.prices; print(sorted({'yfinance', 'pandas'} & set(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# --- foreign listings -----------------------------------------------------------------------


def test_foreign_listings_are_fetched_in_batches_with_us_ones(con, monkeypatch):
    monkeypatch.setattr(prices, "BATCH_SIZE", 2)
    yahoo = FakeYahoo()
    window = (D(2024, 7, 1), D(2024, 9, 30))
    report = prices.fetch_prices(con, ["005930.ks", "AAPL", "000660.KS"], *window, download=yahoo)

    assert [call[0] for call in yahoo.calls] == [["005930.KS", "AAPL"], ["000660.KS"]]
    for ticker in ("005930.KS", "000660.KS", "AAPL"):
        assert stored(con, ticker).drop("source").equals(bundled(ticker, *window))
    # Korean dates: KRX traded on July 4 and Labor Day, not on Liberation Day or at Chuseok
    krx = set(stored(con, "005930.KS")["date"])
    assert {D(2024, 7, 4), D(2024, 9, 2)} <= krx
    assert not {D(2024, 8, 15), D(2024, 9, 16), D(2024, 9, 17), D(2024, 9, 18)} & krx
    assert report.written_frame().select("ticker", "currency").rows() == [
        ("000660.KS", "KRW"),
        ("005930.KS", "KRW"),
        ("AAPL", "USD"),
    ]


def test_krx_listings_run_offline_from_the_bundled_snapshot(con):
    window = (D(2021, 1, 4), D(2026, 5, 29))
    report = prices.ensure_prices(con, ["005930.KS", "000660.ks", "^KS11"], *window, online=False)
    assert [(gap.ticker, gap.reason) for gap in report.gaps] == [
        ("^KS11", "not in the store or the bundled snapshot (offline)")
    ]
    for ticker in ("005930.KS", "000660.KS"):
        assert stored(con, ticker).drop("source").equals(bundled(ticker, *window))


def test_bundled_krx_prices_are_the_samples_with_their_dividends_adjusted():
    """adj_close = close x the product, over later ex-dividend days d, of 1 - D_d / (close the
    trading day before d): computed here with numpy from the raw sample files."""
    samples = DATA / "prices" / "samples"
    for ticker in ("005930.KS", "000660.KS"):
        raw = pl.read_csv(samples / f"{ticker}.csv.gz", try_parse_dates=True)
        dividends = pl.read_csv(samples / f"{ticker}_dividends.csv.gz", try_parse_dates=True)
        days, close = raw["Date"].to_numpy(), raw["Close"].to_numpy()
        factor = np.ones(len(days))
        for day, amount in dividends.iter_rows():
            ex = np.searchsorted(days, np.datetime64(day))  # first trading day on or after
            if ex > 0:
                factor[:ex] *= 1 - amount / close[ex - 1]
        kept = days >= np.datetime64("2021-01-01")
        got = BUNDLED.filter(pl.col("ticker") == ticker)
        assert (got["date"].to_numpy() == days[kept]).all()
        for column in ("open", "high", "low", "close", "volume"):
            assert (got[column].to_numpy() == raw[column.title()].to_numpy()[kept]).all()
        np.testing.assert_allclose(got["adj_close"], (close * factor)[kept], rtol=1e-9)
        assert factor[kept].min() < 0.95  # the adjustment is real: years of dividends


# --- file import ----------------------------------------------------------------------------


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


def test_csv_import_is_real_and_idempotent(con, tmp_path):
    rows = bundled("NVDA", D(2024, 6, 3), D(2024, 6, 28))
    path = tmp_path / "my_prices.csv"
    rows.write_csv(path)

    report = prices.import_prices(con, path)
    assert (report.written, report.rows_written, report.tickers_written, report.notes) == (
        (prices.TickerWrite("NVDA", inserted=rows.height),),
        rows.height,
        ("NVDA",),
        (),
    )
    assert stored(con, "NVDA").drop("source").equals(rows)
    assert set(stored(con, "NVDA")["source"]) == {"file:my_prices.csv"}
    again = prices.import_prices(con, path)
    assert again.written == (prices.TickerWrite("NVDA", unchanged=rows.height),)
    assert again.rows_written == 0


def test_import_replaces_changed_rows_only(con, tmp_path):
    rows = bundled("NVDA", D(2024, 6, 3), D(2024, 6, 28))
    path = tmp_path / "nvda.parquet"
    rows.write_parquet(path)
    prices.import_prices(con, path)
    rows.with_columns(
        adj_close=pl.when(pl.col("date") == D(2024, 6, 10)).then(1.0).otherwise("adj_close")
    ).write_parquet(path)
    report = prices.import_prices(con, path)
    assert report.written == (prices.TickerWrite("NVDA", updated=1, unchanged=rows.height - 1),)


def test_close_only_file_sets_adj_close_to_close(con, tmp_path):
    path = write_csv(
        tmp_path / "closes.csv",
        "Ticker,Date,Close\nbrk.b,2024-01-02,362.45\nBRK.B,2024-01-03,360.08",
    )
    report = prices.import_prices(con, path)
    assert report.notes == (
        "closes.csv: no adj_close column, so new rows get adj_close = close (no dividend "
        "adjustment); stored rows keep their adjustment (adj_close moves with close)",
    )
    assert stored(con, "BRK-B")["adj_close"].to_list() == [362.45, 360.08]


def test_import_of_some_columns_merges_and_never_erases(con, tmp_path):
    window = (D(2024, 6, 3), D(2024, 6, 28))
    prices.load_bundled(con, ["NVDA", "AAPL"])
    before, aapl = stored(con, "NVDA"), stored(con, "AAPL")
    changed = bundled("NVDA", *window).select("ticker", "date", adj_close=pl.col("adj_close") * 1.5)
    changed.write_csv(tmp_path / "adj.csv")

    report = prices.import_prices(con, tmp_path / "adj.csv")
    assert report.written == (prices.TickerWrite("NVDA", updated=changed.height),)
    after = stored(con, "NVDA")
    in_window = pl.col("date").is_between(*window)
    # open, high, low, close and volume are kept; adj_close is the file's in its dates only
    assert after.drop("adj_close", "source").equals(before.drop("adj_close", "source"))
    assert after.filter(in_window)["adj_close"].equals(changed["adj_close"])
    assert after.filter(~in_window).equals(before.filter(~in_window))
    assert set(after.filter(in_window)["source"]) == {"file:adj.csv"}
    assert stored(con, "AAPL").equals(aapl)


def test_close_only_import_keeps_each_rows_dividend_adjustment(con, tmp_path):
    prices.load_bundled(con, ["KO"])
    before = stored(con, "KO").filter(pl.col("date").is_between(D(2024, 6, 3), D(2024, 6, 7)))
    corrected = before.select("ticker", "date", close=pl.col("close") + 0.25)
    write_csv(
        tmp_path / "ko.csv",
        corrected.write_csv() + "KO,2030-01-02,70.0",  # and one row the store lacks
    )
    report = prices.import_prices(con, tmp_path / "ko.csv")
    assert report.written == (prices.TickerWrite("KO", inserted=1, updated=before.height),)
    after = stored(con, "KO").filter(pl.col("date").is_in(before["date"].implode()))
    expected = before["adj_close"].to_numpy() / before["close"].to_numpy()
    np.testing.assert_allclose(
        after["adj_close"].to_numpy() / after["close"].to_numpy(), expected, rtol=1e-12
    )
    np.testing.assert_array_equal(after["close"], corrected["close"])
    assert stored(con, "KO").filter(pl.col("date") == D(2030, 1, 2))["adj_close"].item() == 70.0


def test_slice_already_stored_is_reported_per_ticker(con, tmp_path):
    prices.load_bundled(con, ["MSFT", "005930.KS"])
    slice_ = BUNDLED.filter(
        pl.col("ticker").is_in(["MSFT", "005930.KS"]),
        pl.col("date").is_between(D(2024, 3, 1), D(2024, 3, 8)),
    )
    slice_.write_parquet(tmp_path / "slice.parquet")
    report = prices.import_prices(con, tmp_path / "slice.parquet")
    krx = slice_.filter(pl.col("ticker") == "005930.KS").height  # Korea was closed on March 1
    assert report.rows_written == 0
    assert report.written_frame().rows() == [
        ("005930.KS", "KRW", 0, 0, krx),
        ("MSFT", "USD", 0, 0, slice_.height - krx),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ticker,close\nAAPL,1", r"bad\.csv: missing column\(s\) date;"),
        ("ticker,date\nAAPL,2024-01-02", r"missing column\(s\) close or adj_close;"),
        (
            "ticker,date,close\nAAPL,2024-01-02,1\nAAPL,2024-13-01,2",
            r"bad\.csv line 3, field date: '2024-13-01' is not a date \(expected YYYY-MM-DD\)$",
        ),
        (
            "ticker,date,adj_close,close\nAAPL,2024-01-02,1,1\nAAPL,2024-01-03,1,0",
            r"bad\.csv line 3, field close: price '0' is not positive$",
        ),
        (
            "ticker,date,adj_close\nAAPL,2024-01-02,1\nMSFT,2024-01-02,1\naapl,2024-01-02,2",
            r"bad\.csv line 4, fields ticker, date: AAPL 2024-01-02 repeats line 2; keep one row",
        ),
        (
            "ticker,date,adj_close\nAAPL,2024-01-02,1\nAAPL,2024-01-03,abc",
            r"bad\.csv line 3, field adj_close: 'abc' is not a number$",
        ),
        (
            "ticker,date,adj_close\nAAPL,2024-01-02,\n",
            r"bad\.csv line 2, field adj_close: missing value$",
        ),
    ],
    ids=["no-date", "no-price", "bad-date", "non-positive", "duplicate", "not-a-number", "empty"],
)
def test_bad_csv_names_line_and_field_and_writes_nothing(con, tmp_path, text, message):
    prices.load_bundled(con, ["SPY"])
    before = count(con), count(con, "price_coverage")
    with pytest.raises(InputError, match=message):
        prices.import_prices(con, write_csv(tmp_path / "bad.csv", text))
    assert (count(con), count(con, "price_coverage")) == before


def test_bad_parquet_names_row_and_field(con, tmp_path):
    rows = bundled("NVDA", D(2024, 6, 3), D(2024, 6, 7)).with_columns(
        low=pl.when(pl.col("date") == D(2024, 6, 5)).then(-1.0).otherwise("low")
    )
    rows.write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(
        InputError, match=r"bad\.parquet row 3, field low: price '-1\.0' is not positive"
    ):
        prices.import_prices(con, tmp_path / "bad.parquet")
    assert count(con) == 0


NOT_SHARES = r"is not a number of shares \(a whole number from 0 to 1e15\)$"
NOT_PLAUSIBLE = (
    r"is not plausible \(a price is below 1e9 per share; check the value and its unit\)$"
)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("volume", "inf", f"'inf' {NOT_SHARES}"),
        ("volume", "1e30", f"'1e30' {NOT_SHARES}"),
        ("volume", "-5", f"'-5' {NOT_SHARES}"),
        ("volume", "10.5", f"'10.5' {NOT_SHARES}"),
        ("close", "1e300", f"price '1e300' {NOT_PLAUSIBLE}"),
        ("close", "inf", f"price 'inf' {NOT_PLAUSIBLE}"),
        ("adj_close", "1000000000", f"price '1000000000' {NOT_PLAUSIBLE}"),
        ("close", "-inf", r"price '-inf' is not positive$"),
        ("open", "0", r"price '0' is not positive$"),
        ("low", "-3", r"price '-3' is not positive$"),
    ],
)
def test_implausible_values_are_rejected_in_one_line(con, tmp_path, column, value, problem):
    # real KRW prices (about 75,000 a share) pass; the third row (line 4) gets the bad value
    rows = bundled("005930.KS", D(2024, 6, 3), D(2024, 6, 7)).with_columns(
        pl.col(*prices.PRICE_COLUMNS, "volume").cast(pl.String)
    )
    rows = rows.with_columns(
        pl.when(pl.col("date") == D(2024, 6, 5))
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
    )
    path = tmp_path / "bad.csv"
    rows.write_csv(path)
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))} line 4, field {column}: "):
        prices.import_prices(con, path)
    with pytest.raises(InputError, match=problem):
        prices.import_prices(con, path)
    assert count(con) == 0


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("volume", pl.Series([True] * 5)),
        ("close", pl.Series([b"101.5"] * 5)),
        ("open", pl.Series([[1.0, 2.0]] * 5)),
        ("high", pl.Series([{"value": 1.0}] * 5)),
        ("date", pl.Series([dt.timedelta(days=1)] * 5)),
        ("adj_close", pl.Series([dt.timedelta(days=1)] * 5)),
        ("ticker", pl.Series([5930] * 5)),
    ],
)
def test_parquet_column_of_another_type_is_one_line(con, tmp_path, column, values):
    rows = bundled("NVDA", D(2024, 6, 3), D(2024, 6, 7)).with_columns(values.alias(column))
    rows.write_parquet(tmp_path / "typed.parquet")
    with pytest.raises(InputError) as raised:
        prices.import_prices(con, tmp_path / "typed.parquet")
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'typed.parquet'}: column {column} holds {values.dtype}")
    assert "; expected " in message and "\n" not in message
    assert count(con) == 0


def test_columns_that_mean_the_same_are_one_line(con, tmp_path):
    path = write_csv(tmp_path / "twice.csv", "ticker,date,Close,close \nAAPL,2024-01-02,1,2")
    with pytest.raises(
        InputError, match=r"twice\.csv: columns 'Close' and 'close ' are both close$"
    ):
        prices.import_prices(con, path)


ODD_CELLS = st.sampled_from(
    [
        *("2024-02-30", "0", "-1", "1e300", "inf", "nan", "1e16", "12.5", "", " ", "abc"),
        *('"', ",", "\n", "\x00", '"a\nb"', "AAPL MSFT"),
    ]
) | st.text(max_size=6)
GOOD_CELLS = {
    "ticker": st.sampled_from(["AAPL", "brk.b", "005930.KS", "^KS11", "rio.l"]),
    "date": st.dates(dt.date(2020, 1, 1), dt.date(2024, 12, 31)).map(str),
    "volume": st.integers(0, 10**12).map(str),
    "price": st.floats(0.01, 5e6).map(repr),
}


@st.composite
def csv_texts(draw) -> str:
    """Price files: mostly the right columns and well-formed values, with odd ones mixed in (a
    column missing or unknown, a value or a row's width wrong)."""
    extra = ["open", "high", "low", "volume", "close", "x", ""]
    columns = ["ticker", "date", draw(st.sampled_from(["close", "Adj Close"]))]
    columns += draw(st.lists(st.sampled_from(extra), max_size=4, unique=True))
    header = draw(st.permutations(list(dict.fromkeys(columns))))
    if draw(st.integers(0, 9)) == 0:
        header.pop(draw(st.integers(0, len(header) - 1)))
    lines = [header]
    for _ in range(draw(st.integers(0, 6))):
        good = [GOOD_CELLS.get(c, GOOD_CELLS["price"]) for c in header]
        cells = [draw(ODD_CELLS if draw(st.integers(0, 19)) == 0 else g) for g in good]
        if draw(st.integers(0, 19)) == 0:
            cells = cells[:-1] if draw(st.booleans()) else [*cells, "1"]
        lines.append(cells)
    return "\n".join(",".join(cells) for cells in lines)


@given(csv_texts() | st.binary(max_size=200))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_csv_is_imported_or_refused_in_one_line(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "any.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        con = store.connect(":memory:")
        try:
            prices.import_prices(con, path)
        except InputError as e:
            assert str(e).startswith(str(path)) and "\n" not in str(e)
        else:
            low, high, volume = con.execute(
                "SELECT min(least(open, high, low, close, adj_close)), "
                "max(greatest(open, high, low, close, adj_close)), max(volume) FROM prices"
            ).fetchone()
            assert low > 0 and high < prices.MAX_PRICE and (volume or 0) <= prices.MAX_VOLUME
        finally:
            con.close()


# --- transactions ---------------------------------------------------------------------------


def fail_on_coverage(monkeypatch):
    run = sql.run

    def failing(con, name, **params):
        if name == "prices/record_coverage":
            raise RuntimeError("disk full")
        return run(con, name, **params)

    monkeypatch.setattr(prices.sql, "run", failing)


def test_failed_import_mid_write_leaves_store_as_before(con, tmp_path, monkeypatch):
    prices.load_bundled(con, ["SPY"])
    before = stored(con, "SPY")
    changed = before.drop("source").with_columns(adj_close=pl.col("adj_close") * 2)
    changed.write_parquet(tmp_path / "spy.parquet")
    fail_on_coverage(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        prices.import_prices(con, tmp_path / "spy.parquet")
    assert stored(con, "SPY").equals(before)


def test_failed_fetch_mid_write_leaves_store_as_before(con, monkeypatch):
    fail_on_coverage(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        prices.fetch_prices(con, ["AAPL"], D(2024, 1, 2), D(2024, 1, 31), download=FakeYahoo())
    assert count(con) == count(con, "price_coverage") == 0


# --- command line ---------------------------------------------------------------------------


def test_cli_import_prints_rows_per_ticker_with_currency(tmp_path):
    window = (D(2024, 3, 4), D(2024, 3, 8))
    BUNDLED.filter(
        pl.col("ticker").is_in(["MSFT", "005930.KS"]), pl.col("date").is_between(*window)
    ).write_csv(tmp_path / "slice.csv")
    args = ["prices", "import", str(tmp_path / "slice.csv"), "--db", str(tmp_path / "t.duckdb")]
    first = CliRunner().invoke(app, args)
    again = CliRunner().invoke(app, args)
    assert first.exit_code == again.exit_code == 0, first.output
    assert first.stdout.startswith("2 ticker(s): 10 inserted, 0 updated, 0 unchanged rows\n")
    assert "005930.KS" in first.stdout and "KRW" in first.stdout and "USD" in first.stdout
    assert again.stdout.startswith("2 ticker(s): 0 inserted, 0 updated, 10 unchanged rows\n")


def test_cli_fetch_refresh_asks_again(tmp_path, monkeypatch):
    yahoo = FakeYahoo(no_dns=True)
    monkeypatch.setattr(yf, "download", yahoo)
    args = ["prices", "fetch", "MSFT", "--start", "2024-01-02", "--end", "2024-01-31"]
    args += ["--db", str(tmp_path / "t.duckdb")]
    failed = CliRunner().invoke(app, args)
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert failed.stderr.startswith(f"error: {NO_DNS}; nothing saved; not asked again before")
    remembered = CliRunner().invoke(app, args)
    assert remembered.exit_code == 0 and len(yahoo.calls) == 1
    assert f"no prices: MSFT 2024-01-02..2024-01-31: {NO_DNS} (asked " in remembered.stderr
    assert "Yahoo Finance was last asked: not asked again before " in remembered.stderr
    yahoo.no_dns = False
    refreshed = CliRunner().invoke(app, [*args, "--refresh"])
    assert refreshed.exit_code == 0 and len(yahoo.calls) == 2
    assert refreshed.stdout.startswith("1 ticker(s): 21 inserted, 0 updated, 0 unchanged rows\n")
