"""The universe: rebuilt from the bundled raw lists it equals the shipped tables; companies with
their listings over time (renames, ticker changes, companies that left the lists and their fates),
non-US issuers with their US lines, aliases; bad build input is one line and changes nothing;
refreshing offline changes nothing."""

import gzip
import shutil
import urllib.error
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tagger import universe
from tagger.errors import NetworkError, TaggerError
from tagger.universe.build import _mark_media
from tagger.universe.names import security_type

TABLES = ("companies", "listings", "aliases", "names")


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("universe")
    universe.build(out=out)
    return out


def test_rebuild_equals_shipped_tables(rebuilt):
    for name in TABLES:
        shipped = pl.read_parquet(universe.UNIVERSE_DIR / f"{name}.parquet")
        assert_frame_equal(pl.read_parquet(rebuilt / f"{name}.parquet"), shipped)


def lines_on(ticker: str, day: date | None) -> dict:
    """The company whose line had `ticker` on `day`, and its line that day."""
    u = universe.load()
    wanted = pl.DataFrame({"ticker": [ticker], "as_of": [day]}, schema_overrides={"as_of": pl.Date})
    company_id = universe.companies_of_tickers(u, wanted)["company_id"].item()
    line = universe.lines_as_of(u, pl.DataFrame({"company_id": [company_id], "as_of": [day]}))
    company = u.companies.filter(pl.col("company_id") == company_id).row(0, named=True)
    return company | {f"line_{k}": v for k, v in line.row(0, named=True).items()}


def listings_of(ticker: str) -> pl.DataFrame:
    u = universe.load()
    company_id = lines_on(ticker, None)["company_id"]
    return u.listings.filter(pl.col("company_id") == company_id).sort(
        "valid_from", nulls_last=False
    )


def test_share_classes_are_one_company_with_a_primary_ticker():
    today = date(2026, 8, 1)
    assert lines_on("GOOG", today)["company_id"] == lines_on("GOOGL", today)["company_id"]
    assert lines_on("GOOG", today)["line_ticker"] == "GOOGL"
    assert lines_on("BRK-A", today)["line_ticker"] == lines_on("BRK-B", today)["line_ticker"]


def test_listed_company_fields():
    apple = lines_on("AAPL", date(2025, 1, 2))
    assert (apple["entity_id"], apple["line_exchange"], apple["line_currency"]) == (
        "CIK:320193",
        "NASDAQ",
        "USD",
    )
    assert apple["sector"] == "Information Technology" and apple["sector_etf"] == "XLK"


def test_a_ticker_change_keeps_the_company():
    meta = listings_of("META").filter(pl.col("security_type") == "common")
    assert meta.select("ticker", "valid_to").rows()[:2] == [
        ("FB", date(2022, 6, 9)),
        ("META", None),
    ]
    assert lines_on("FB", date(2021, 5, 3))["entity_id"] == "CIK:1326801"
    assert lines_on("FB", date(2021, 5, 3))["line_ticker"] == "FB"
    assert lines_on("META", date(2022, 6, 9))["line_ticker"] == "META"
    # the ticker was reused by an ETF in 2025
    assert lines_on("FB", date(2025, 9, 1))["entity_id"] != "CIK:1326801"


def test_companies_that_left_the_lists_keep_their_fate():
    twitter = lines_on("TWTR", date(2021, 1, 4))
    assert (twitter["line_ticker"], twitter["fate"], twitter["fate_date"]) == (
        "TWTR",
        "taken_private",
        date(2022, 10, 28),
    )
    activision = lines_on("ATVI", date(2020, 1, 2))
    microsoft = lines_on("MSFT", date(2020, 1, 2))
    assert (activision["fate"], activision["acquirer_id"]) == ("acquired", microsoft["company_id"])
    gone = lines_on("ATVI", date(2024, 1, 2))
    assert gone["line_ticker"] is None and gone["line_last_ticker"] == "ATVI"


def test_a_bankruptcy_is_read_from_the_lists():
    # Conn's went from NASDAQ: CONN to OTC: CONNQ in 2024
    conns = lines_on("CONN", date(2023, 1, 3))
    assert conns["fate"] == "bankrupt"


def test_a_non_us_company_has_its_home_line_and_us_lines():
    toyota = listings_of("7203.T")
    roles = dict(toyota.select("ticker", "role").rows())
    assert roles["7203.T"] == "primary" and roles["TM"] == "ADR"
    assert toyota.filter(pl.col("ticker") == "7203.T")["currency"].item() == "JPY"
    samsung = lines_on("005930.KS", date(2024, 3, 1))
    assert (samsung["line_exchange"], samsung["line_currency"], samsung["line_us_ticker"]) == (
        "KSC",
        "KRW",
        "SSNLF",
    )
    # a US company a name match links to a Chilean line is not that line (Walmart)
    assert lines_on("WMT", date(2024, 3, 1))["line_ticker"] == "WMT"


def test_a_restricted_universe_answers_as_the_whole_for_its_companies():
    whole = universe.load()
    # Activision (acquired by Microsoft), Toyota (ADR), Meta (renamed), Twitter (taken private)
    tickers = pl.Series(["ATVI", "7203.T", "META", "TWTR"])
    ids = universe.companies_of_tickers(
        whole, pl.DataFrame({"ticker": tickers, "as_of": pl.Series([None] * 4, dtype=pl.Date)})
    )
    part = universe.restrict(whole, ids["company_id"])
    assert part.companies["company_id"].is_in(ids["company_id"].implode()).sum() == 4
    assert part.companies.height > 4  # Activision's acquirer Microsoft came with it
    wanted = pl.DataFrame({"company_id": part.companies["company_id"]}).join(
        pl.DataFrame({"as_of": [date(2016, 5, 2), date(2021, 6, 1), date(2025, 1, 2)]}), how="cross"
    )
    assert universe.lines_as_of(part, wanted).schema == universe.lookup.LINES_SCHEMA
    assert universe.lines_as_of(part, wanted.clear()).schema == universe.lookup.LINES_SCHEMA
    for lookup in (universe.lines_as_of, universe.names_as_of):
        assert_frame_equal(lookup(part, wanted), lookup(whole, wanted), check_row_order=False)
    assert_frame_equal(
        universe.listing_records(part),
        universe.listing_records(whole).filter(
            pl.col("company_id").is_in(part.companies["company_id"].implode())
        ),
    )
    assert_frame_equal(
        universe.listings_of_tickers(whole, tickers),
        whole.listings.filter(pl.col("ticker").is_in(tickers.implode())),
    )
    shuffled = universe.Universe(
        whole.companies.reverse(), whole.listings, whole.aliases, whole.names
    )
    with pytest.raises(ValueError, match="not sorted"):
        universe.restrict(shuffled, ids["company_id"])


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


@pytest.mark.parametrize(
    ("name", "company"),
    [
        (
            "Hon Hai Precision Industry Co., Ltd. Sponsored GDR RegS",
            "Hon Hai Precision Industry Co., Ltd.",
        ),
        ("Sany Heavy Industries Co., Ltd./ADR", "Sany Heavy Industries Co., Ltd."),
        ("Karoon Gas Australia Ltd /ADR/", "Karoon Gas Australia Ltd"),
        ("ADS-TEC ENERGY PLC - Ordinary Shares", "ADS-TEC ENERGY PLC"),  # ADS: part of its name
        # a security word inside a name is the name's ("Bright" is no right, "Tradr" no ADR)
        (
            "Bright Horizons Family Solutions Inc. Common Stock",
            "Bright Horizons Family Solutions Inc.",
        ),
        ("Right On Brands, Inc.", "Right On Brands, Inc."),
        ("Tradr 2X Long TSLA Daily ETF", "Tradr 2X Long TSLA Daily ETF"),
    ],
)
def test_a_depositary_receipt_s_name_is_its_company_s(name, company):
    assert universe.company_name(name) == company


def test_no_company_is_named_after_its_receipts_or_cut_short():
    companies = universe.load().companies
    assert not companies["name"].str.contains(r"(?i)sponsored [AG]DR").any()
    assert companies.filter(pl.col("name").str.len_chars() == 1).is_empty()
    names = dict(companies.select("ticker", "name").drop_nulls().unique("ticker").iter_rows())
    assert names["BFAM"].startswith("Bright Horizons")  # was "B"
    assert names["CW"].startswith("Curtiss-Wright")  # was "Curtiss-W"


@pytest.mark.parametrize(
    ("name", "etf", "kind"),
    [
        ("Preferred Bank - Common Stock", False, "common"),
        ("Bank Nova Scotia Halifax Pfd 3 Ordinary Shares", False, "common"),
        ("Bank of America Corporation Depositary Shares Series L Pfd", False, "preferred"),
        ("Barclays PLC Common Stock", False, "common"),
        ("Vodafone Group Plc - American Depositary Shares", False, "ADR"),
        ("SPDR S&P 500 ETF Trust", True, "ETF"),
    ],
)
def test_security_type(name, etf, kind):
    frame = pl.DataFrame({"name": [name], "etf": [etf]})
    assert frame.select(security_type(pl.col("name"), pl.col("etf")))[0, 0] == kind


def aliases_of(name: str) -> pl.DataFrame:
    """Alias rows whose key is `name` (ambiguous aliases keep their case, the others are lower)."""
    u = universe.load()
    matching = (pl.col("key") == name) | (pl.col("key") == name.lower())
    return u.aliases.filter(matching).join(u.companies, on="company_id").sort("rank")


def test_private_companies_and_their_reasons():
    for key in ("OpenAI", "Blue Origin", "Stripe", "Cargill"):
        row = aliases_of(key).row(0, named=True)
        assert row["kind_right"] == "private", key
        assert row["reason"].startswith("private"), key


def test_spacex_lists_in_2026():
    spacex = listings_of("SPCX").filter(pl.col("exchange") == "NASDAQ")
    assert spacex["valid_from"].to_list() == [date(2026, 6, 12)]


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


def test_a_name_two_companies_bore_is_dated():
    """A name held by another company before picks the one that bore it on the date."""
    u = universe.load()
    windowed = u.aliases.filter(pl.col("rank") > 0)
    assert windowed.height > 100
    assert windowed.select(
        (pl.col("valid_from").is_not_null() | pl.col("valid_to").is_not_null()).all()
    ).item()


def copy_universe_inputs(tmp_path: Path) -> tuple[Path, Path]:
    raw, curated = tmp_path / "raw", tmp_path / "curated"
    shutil.copytree(universe.RAW_DIR, raw)
    shutil.copytree(universe.CURATED_DIR, curated)
    return raw, curated


def shipped_copy(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    for name in TABLES:
        shutil.copy(universe.UNIVERSE_DIR / f"{name}.parquet", out)
    return out


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_bad_build_input_is_one_line_and_keeps_the_previous_universe(tmp_path):
    raw, curated = copy_universe_inputs(tmp_path)
    out = shipped_copy(tmp_path)
    before = files_of(out)

    spells = raw / "history" / "listings_history.parquet"
    frame = pl.read_parquet(spells)
    frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 41).then(pl.lit("MOON")).otherwise("exchange")
        .alias("exchange")
    ).write_parquet(spells)  # fmt: skip
    with pytest.raises(TaggerError, match=r"listings_history.parquet: row 42: unknown exchange"):
        universe.build(raw, curated, out=out)
    assert files_of(out) == before

    frame.write_parquet(spells)
    (raw / "global" / "adr_links.csv.gz").unlink()
    with pytest.raises(TaggerError, match=r"adr_links.csv.gz: missing raw file"):
        universe.build(raw, curated, out=out)
    assert files_of(out) == before


def test_an_unknown_fate_in_the_curated_file_is_one_line(tmp_path):
    raw, curated = copy_universe_inputs(tmp_path)
    fates = curated / "fates.csv"
    fates.write_text(fates.read_text() + "ZZZZ,2020-01-02,vanished,,,\n")
    with pytest.raises(TaggerError, match=r"fates.csv: fate 'vanished' for ZZZZ"):
        universe.build(raw, curated, out=tmp_path / "out")


def test_news_outlets_are_flagged_and_their_listed_owners_are_not():
    companies = universe.load().companies
    media = dict(companies.select("name", "media").iter_rows())
    outlets = pl.read_csv(universe.CURATED_DIR / "media.csv")["company"]
    assert all(media[name] for name in outlets) and len(outlets) >= 40
    assert companies["media"].sum() == len(outlets)  # one company per row, no other
    for owner in ("News Corp", "Thomson Reuters Corp", "Comcast", "The New York Times Company"):
        assert media.get(owner) is False, owner


def test_a_media_row_naming_no_company_is_one_line():
    companies = pl.DataFrame({"name": ["Benzinga", "Apple Inc."]})
    rows = pl.DataFrame({"company": ["Benzinga", "Benzinga Daily"], "note": ["site", "typo"]})
    with pytest.raises(TaggerError, match=r"curated/media.csv: 'Benzinga Daily' names no company"):
        _mark_media(companies, rows)
    flagged = _mark_media(companies, rows.head(1))
    assert flagged["media"].to_list() == [True, False]


def test_update_offline_changes_nothing(tmp_path):
    raw, out = copy_universe_inputs(tmp_path)[0], tmp_path / "out"
    before = sorted(p.name for p in raw.rglob("*"))

    def offline(url):
        raise urllib.error.URLError("Temporary failure in name resolution")

    with pytest.raises(NetworkError, match="the universe was not changed"):
        universe.update(raw, out, fetch=offline)
    assert sorted(p.name for p in raw.rglob("*")) == before
    assert not out.exists()


def test_update_writes_the_day_s_lists_and_rebuilds(tmp_path):
    raw, out = copy_universe_inputs(tmp_path)[0], tmp_path / "out"
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
