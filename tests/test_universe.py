"""The universe: rebuilt from the bundled raw lists it equals the shipped tables; share classes,
aliases, private companies, non-companies and listing dates; refreshing offline changes nothing."""

import gzip
import shutil
import urllib.error
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tagger import universe
from tagger.errors import NetworkError


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("universe")
    universe.build(out=out)
    return out


def test_rebuild_equals_shipped_tables(rebuilt):
    for name in ("companies", "aliases", "tickers"):
        shipped = pl.read_parquet(universe.UNIVERSE_DIR / f"{name}.parquet")
        assert_frame_equal(pl.read_parquet(rebuilt / f"{name}.parquet"), shipped)


def company_of(ticker: str) -> dict:
    u = universe.load()
    company_id = u.tickers.filter(pl.col("ticker") == ticker)["company_id"].item()
    return u.companies.filter(pl.col("company_id") == company_id).row(0, named=True)


def test_share_classes_are_one_company_with_a_primary_ticker():
    assert company_of("GOOG")["company_id"] == company_of("GOOGL")["company_id"]
    assert company_of("GOOG")["ticker"] == "GOOGL"
    assert company_of("BRK-A")["ticker"] == company_of("BRK-B")["ticker"] == "BRK-B"


def test_listed_company_fields():
    apple = company_of("AAPL")
    assert (apple["exchange"], apple["cik"], apple["security_type"]) == (
        "NASDAQ",
        "320193",
        "common",
    )
    assert apple["sector"] == "Information Technology" and apple["sector_etf"] == "XLK"
    assert company_of("BABA")["security_type"] == "ADR"
    assert company_of("SPY")["security_type"] == "ETF"


@pytest.mark.parametrize(
    ("name", "cores"),
    [
        ("Apple Inc.", ["Apple"]),
        ("Alphabet Inc. Class A", ["Alphabet"]),
        ("The Goldman Sachs Group, Inc.", ["Goldman Sachs Group", "Goldman Sachs"]),
        ("Coca-Cola Company (The)", ["Coca-Cola"]),
        ("ASML Holding N.V. - New York Registry Shares", ["ASML Holding", "ASML", "ASML Holdings"]),
    ],
)
def test_name_cores(name, cores):
    assert universe.name_cores(universe.company_name(name)) == cores


def aliases_of(name: str) -> pl.DataFrame:
    """Alias rows whose key is `name` (ambiguous aliases keep their case, the others are lower)."""
    u = universe.load()
    matching = (pl.col("key") == name) | (pl.col("key") == name.lower())
    return u.aliases.filter(matching).join(u.companies, on="company_id")


def test_private_companies_and_their_reasons():
    for key in ("OpenAI", "Blue Origin", "Stripe", "Cargill"):
        row = aliases_of(key).row(0, named=True)
        assert row["kind_right"] == "private", key
        assert row["reason"].startswith("private"), key


def test_spacex_is_listed_from_2026():
    row = aliases_of("SpaceX").row(0, named=True)
    assert (row["ticker"], row["listed_from"].year, row["listed_from_precision"]) == (
        "SPCX",
        2026,
        "year",
    )


def test_non_companies_are_known_and_never_listed():
    for key in (
        "Federal Reserve",
        "Securities and Exchange Commission",
        "Dow Jones Industrial Average",
    ):
        assert aliases_of(key)["kind_right"].to_list() == ["not_company"], key


def test_ordinary_word_names_are_ambiguous():
    assert aliases_of("Target")["ambiguous"].to_list() == [True]
    assert aliases_of("Nvidia")["ambiguous"].to_list() == [False]


def copy_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    shutil.copytree(universe.RAW_DIR, raw)
    return raw


def test_update_offline_changes_nothing(tmp_path):
    raw, out = copy_raw(tmp_path), tmp_path / "out"
    before = sorted(p.name for p in raw.rglob("*"))

    def offline(url):
        raise urllib.error.URLError("Temporary failure in name resolution")

    with pytest.raises(NetworkError, match="the universe was not changed"):
        universe.update(raw, out, fetch=offline)
    assert sorted(p.name for p in raw.rglob("*")) == before
    assert not out.exists()


def test_update_writes_the_day_s_lists_and_rebuilds(tmp_path):
    raw, out = copy_raw(tmp_path), tmp_path / "out"
    sec = gzip.decompress((raw / "sec" / "company_tickers_exchange.json.gz").read_bytes())
    nasdaq = gzip.decompress((raw / "nasdaqtrader" / "nasdaqlisted_2025-07-21.txt.gz").read_bytes())
    other = gzip.decompress((raw / "nasdaqtrader" / "otherlisted_2025-07-21.txt.gz").read_bytes())
    answers = {
        "company_tickers_exchange.json": sec,
        "nasdaqlisted.txt": nasdaq,
        "otherlisted.txt": other,
    }

    counts = universe.update(raw, out, fetch=lambda url: answers[url.rsplit("/", 1)[1]])
    assert counts["listed"] > 10_000
    assert len(list((raw / "nasdaqtrader").glob("nasdaqlisted_*.txt.gz"))) == 2
    assert (out / "companies.parquet").exists()
