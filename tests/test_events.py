"""Events CSV reading: vectorised parsing, one ticker spelling, one clear line per bad value."""

from datetime import UTC, date, datetime

import polars as pl
import pytest

from tagger import prices
from tagger.errors import InputError
from tagger.events import EVENT_SCHEMA, events_from_csv


def write(tmp_path, text: str):
    path = tmp_path / "events.csv"
    path.write_text(text)
    return path


def test_every_iso_8601_spelling_is_the_same_instant(tmp_path):
    path = write(
        tmp_path,
        "ticker,published_at\n"
        "AAPL,2024-05-02T20:05:00Z\n"
        "AAPL,2024-05-02T16:05:00-04:00\n"
        "AAPL,2024-05-02 20:05:00\n"
        "AAPL,2024-05-02T20:05\n"
        "AAPL,2024-05-03T05:05:00.000+09:00\n"
        "AAPL,2024-05-02T20:05:00+0000\n",
    )
    events = events_from_csv(path)
    expected = datetime(2024, 5, 2, 20, 5, tzinfo=UTC)
    assert events["published_at"].to_list() == [expected] * 6
    assert events["event_id"].to_list() == [
        "AAPL@2024-05-02T20:05:00Z",
        *(f"AAPL@2024-05-02T20:05:00Z#{k}" for k in range(2, 7)),
    ]
    assert events.schema == pl.Schema(EVENT_SCHEMA)


def test_tickers_are_spelled_as_the_prices_store_them(tmp_path):
    raw = ["brk.b", "BRK/B", " aapl ", "005930.KS", "7203.T", "rio.l"]
    path = write(
        tmp_path,
        "ticker,date,benchmark,market\n" + "".join(f"{t},2024-05-03,xlf,^ks11\n" for t in raw),
    )
    events = events_from_csv(path)
    assert events["ticker"].to_list() == [prices.normalise_ticker(t) for t in raw]
    assert events["ticker"][:2].to_list() == ["BRK-B", "BRK-B"]
    assert set(events["benchmark"]) == {"XLF"} and set(events["market"]) == {"^KS11"}
    assert events["event_id"][0] == "BRK-B@2024-05-03"


def test_the_instant_wins_and_ids_given_are_kept(tmp_path):
    path = write(
        tmp_path,
        "event_id,ticker,date,published_at,company\n"
        "mine,AAPL,2024-05-03,2024-05-02T20:05:00Z,Apple\n"
        ",MSFT,2024-05-03,,\n"
        ",MSFT,0001-01-01,,\n",
    )
    events = events_from_csv(path)
    assert events["event_id"].to_list() == ["mine", "MSFT@2024-05-03", "MSFT@0001-01-01"]
    assert events["published_date"].to_list() == [None, date(2024, 5, 3), date(1, 1, 1)]
    assert events["company"].to_list() == ["Apple", None, None]
    assert events["article_id"].null_count() == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ticker,date\nAAPL,2024-05-03\nAAPL MSFT,2024-05-03\n", "line 3, ticker: 'AAPL MSFT'"),
        ("ticker,date,market\nAAPL,2024-05-03,\nAAPL,2024-05-04,S P Y\n", "line 3, market:"),
        ("ticker,date,benchmark\nAAPL,2024-05-03,XL;F\n", "line 2, benchmark: 'XL;F'"),
        ("ticker,date\nAAPL,2024-05-03\n , 2024-05-04\n", "line 3: empty ticker"),
        ("ticker,date\nAAPL,2024-05-03\nMSFT,03/05/2024\n", "line 3: date '03/05/2024'"),
        ("ticker,published_at\nAAPL,2024-05-03T10:00Z\nMSFT,yesterday\n", "line 3: published_at"),
        ("ticker,date,published_at\nAAPL,,\n", "line 2: no date or published_at"),
    ],
)
def test_a_bad_value_is_one_line_with_file_line_and_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=message) as error:
        events_from_csv(path)
    assert str(error.value).startswith(str(path))
    assert "\n" not in str(error.value)


def test_a_large_file_reads_in_columns(tmp_path):
    """100,000 rows in one pass (no per-row Python): ids, instants and dates all present."""
    n = 100_000
    days = pl.date_range(date(2020, 1, 1), date(2024, 12, 31), eager=True)
    frame = pl.DataFrame(
        {
            "ticker": pl.Series(["AAPL", "msft", "brk.b", "005930.KS"] * (n // 4)),
            "date": days.sample(n, with_replacement=True, seed=1).cast(pl.String),
        }
    ).with_columns(
        pl.when(pl.int_range(n) % 2 == 0).then(pl.col("date") + "T14:30:00Z").alias("published_at")
    )
    frame.write_csv(tmp_path / "events.csv")
    events = events_from_csv(tmp_path / "events.csv")
    assert events.height == n and events["event_id"].n_unique() == n
    assert set(events["ticker"]) == {"AAPL", "MSFT", "BRK-B", "005930.KS"}
    assert events["published_at"].null_count() == n // 2
    assert events["published_date"].null_count() == n // 2
