"""tagger.prices on real data: the bundled snapshot, and a stand-in for yf.download that serves
those prices in the exact shape yfinance 1.x returns (checked against yfinance's own code)."""

import datetime as dt
import json
import logging
import socket
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
import yfinance as yf
from curl_cffi.requests.exceptions import HTTPError
from yfinance.data import YfData
from yfinance.exceptions import YFRateLimitError

from tagger import prices, sql, store
from tagger.errors import InputError, NetworkError

D = dt.date
BUNDLED = pl.read_parquet(prices.BUNDLED_PATH)

# Reasons exactly as yf.download logs them ("['AAPL']: <reason>") with hide_exceptions off.
OFFLINE = (
    "ConnectionError('Failed to perform, curl: (7) Failed to connect to query2.finance.yahoo.com "
    "port 443 after 0 ms: Could not connect to server. See "
    "https://curl.se/libcurl/c/libcurl-errors.html first for more details.')"
)
RATE_LIMITED = "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
NO_TIMEZONE = "YFTzMissingError('possibly delisted; no timezone found')"


def no_price_data(start: str, end: str) -> str:
    return f"YFPricesMissingError('possibly delisted; no price data found  (1d {start} -> {end})')"


class FakeYahoo:
    """Stands in for yf.download(tickers, start, end, auto_adjust=False, ...): serves the bundled
    prices, builds the frame the way yfinance.multi.download does, and logs failures as it does.

    offline: every ticker fails with a connection error. rate_limited: the first N calls fail
    with Yahoo's 429 as logged by yfinance. raise_rate_limit: the first N calls raise it.
    tz_aware: keep the index in New York time, as yf.download(ignore_tz=False) returns it.
    """

    def __init__(self, *, offline=False, rate_limited=0, raise_rate_limit=0, tz_aware=False):
        self.offline = offline
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
            elif rate_limited:
                errors[ticker] = RATE_LIMITED
            elif ticker not in set(BUNDLED["ticker"]):
                errors[ticker] = NO_TIMEZONE
            elif rows.is_empty():
                errors[ticker] = no_price_data(start, end)
            frames[ticker] = yf.utils.empty_df() if ticker in errors else history_frame(rows)
        log_failures(errors)
        return combine(frames, tz_aware=self.tz_aware)


def history_frame(rows: pl.DataFrame) -> pd.DataFrame:
    """One ticker as Ticker.history(auto_adjust=False) returns it: midnight in New York."""
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
        index=index.tz_localize("America/New_York"),
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
    with pytest.raises(InputError, match="'AAPL MSFT' is not a ticker"):
        prices.normalise_ticker("AAPL MSFT")


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
    if "period1" in params:
        first, last = (
            dt.datetime.fromtimestamp(params[p], dt.UTC).date() for p in ("period1", "period2")
        )
        rows = rows.filter(pl.col("date") >= first, pl.col("date") < last)
    else:
        rows = rows.tail(1)
    meta = {
        "currency": "USD",
        "symbol": ticker,
        "instrumentType": "EQUITY",
        "exchangeTimezoneName": "America/New_York",
        "priceHint": 2,
        "dataGranularity": "1d",
        "validRanges": ["1d", "5d", "1mo", "max"],
    }
    opening = [
        int(dt.datetime.combine(d, dt.time(14, 30), dt.UTC).timestamp()) for d in rows["date"]
    ]
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
    for tickers in (["AAPL", "ARKX", "ZZZZ"], ["BRK-B"], ["ZZZZ"]):  # ARKX listed 2021-03-30
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
    assert (gap.ticker, gap.retry) == ("ZZZZ", False)  # no data, not offline: not asked again


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


def test_lasting_rate_limit_is_a_network_error_and_records_nothing(con, sleeps):
    yahoo = FakeYahoo(rate_limited=99)
    with pytest.raises(NetworkError, match="rate limited by Yahoo"):
        prices.fetch_prices(con, ["AAPL"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo)
    assert len(yahoo.calls) == prices.RATE_LIMIT_RETRIES + 1
    assert count(con) == count(con, "price_coverage") == 0


def test_unknown_ticker_is_reported_and_not_asked_again(con):
    yahoo = FakeYahoo()
    report = prices.fetch_prices(
        con, ["AAPL", "ZZZZ"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo
    )

    assert report.tickers_written == ("AAPL",)
    (gap,) = report.gaps
    assert (gap.ticker, gap.start, gap.end, gap.retry) == (
        "ZZZZ",
        D(2024, 1, 2),
        D(2024, 1, 31),
        False,
    )
    assert gap.reason == "possibly delisted; no timezone found"

    again = prices.fetch_prices(con, ["ZZZZ"], D(2024, 1, 2), D(2024, 1, 31), download=yahoo)
    assert len(yahoo.calls) == 1
    assert again.gaps == report.gaps  # still reported, from what was recorded


def test_range_without_prices_is_a_gap(con):
    # Yahoo has AAPL, but not in this range: an empty answer, reported, never a silent gap.
    report = prices.fetch_prices(con, ["AAPL"], D(2019, 1, 2), D(2019, 1, 31), download=FakeYahoo())
    (gap,) = report.gaps
    assert gap.ticker == "AAPL" and not gap.retry
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
    assert "rows fetched before were saved" in message
    assert stored(con, "AAPL").height == bundled("AAPL", D(2024, 1, 2), D(2024, 1, 31)).height
    assert stored(con, "MSFT").is_empty()

    back_online = FakeYahoo()
    prices.fetch_prices(con, ["AAPL", "MSFT"], D(2024, 1, 2), D(2024, 1, 31), download=back_online)
    assert [call[0] for call in back_online.calls] == [["MSFT"]]  # the offline failure is retried


def test_real_yfinance_unreachable_is_a_network_error(con, monkeypatch):
    # The real yf.download, with every connection refused (a proxy on a closed local port).
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(NetworkError, match=r"^Yahoo Finance did not answer \(.*; nothing saved"):
        prices.fetch_prices(con, ["MSFT", "JPM"], D(2022, 5, 2), D(2022, 5, 31))
    assert count(con) == count(con, "price_coverage") == 0


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
    monkeypatch.setattr(prices, "BUNDLED_PATH", path)
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
    assert [(gap.ticker, gap.retry) for gap in report.gaps] == [("ZZZZ", False)]

    again = prices.ensure_prices(con, ["AAPL", "MSFT", "ZZZZ"], *window, download=yahoo)
    assert len(yahoo.calls) == 1
    assert again.rows_written == 0
    assert again.gaps == report.gaps


@pytest.mark.usefixtures("aapl_only_snapshot")
def test_ensure_offline_reports_what_it_could_not_get(con):
    yahoo = FakeYahoo()
    report = prices.ensure_prices(
        con, ["AAPL", "MSFT"], D(2024, 1, 2), D(2024, 3, 28), online=False, download=yahoo
    )
    assert yahoo.calls == []
    assert report.tickers_written == ("AAPL",)
    (gap,) = report.gaps
    assert (gap.ticker, gap.retry) == ("MSFT", True)
    assert "offline" in gap.reason


@pytest.mark.usefixtures("aapl_only_snapshot")
def test_ensure_with_network_down_reports_instead_of_raising(con):
    report = prices.ensure_prices(
        con, ["AAPL", "MSFT"], D(2024, 1, 2), D(2024, 3, 28), download=FakeYahoo(offline=True)
    )
    assert report.tickers_written == ("AAPL",)
    (gap,) = report.gaps
    assert (gap.ticker, gap.retry) == ("MSFT", True)
    assert gap.reason.startswith("Yahoo Finance did not answer (Failed to connect")


# --- file import ----------------------------------------------------------------------------


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


def test_csv_import_is_real_and_idempotent(con, tmp_path):
    rows = bundled("NVDA", D(2024, 6, 3), D(2024, 6, 28))
    path = tmp_path / "my_prices.csv"
    rows.write_csv(path)

    report = prices.import_prices(con, path)
    assert (report.rows_written, report.tickers_written, report.notes) == (
        rows.height,
        ("NVDA",),
        (),
    )
    assert stored(con, "NVDA").drop("source").equals(rows)
    assert set(stored(con, "NVDA")["source"]) == {"file:my_prices.csv"}
    assert prices.import_prices(con, path).rows_written == 0


def test_import_replaces_changed_rows_only(con, tmp_path):
    rows = bundled("NVDA", D(2024, 6, 3), D(2024, 6, 28))
    path = tmp_path / "nvda.parquet"
    rows.write_parquet(path)
    prices.import_prices(con, path)
    rows.with_columns(
        adj_close=pl.when(pl.col("date") == D(2024, 6, 10)).then(1.0).otherwise("adj_close")
    ).write_parquet(path)
    assert prices.import_prices(con, path).rows_written == 1


def test_close_only_file_sets_adj_close_to_close(con, tmp_path):
    path = write_csv(
        tmp_path / "closes.csv",
        "Ticker,Date,Close\nbrk.b,2024-01-02,362.45\nBRK.B,2024-01-03,360.08",
    )
    report = prices.import_prices(con, path)
    assert report.notes == (
        "closes.csv: no adj_close column, so adj_close = close (no dividend adjustment)",
    )
    assert stored(con, "BRK-B")["adj_close"].to_list() == [362.45, 360.08]


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
            r"bad\.csv line 4, fields ticker, date: AAPL 2024-01-02 repeats line 2$",
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
