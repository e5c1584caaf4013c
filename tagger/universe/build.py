"""Building the universe from the raw lists: companies, their listings over time, and aliases.

`build()` reads `data/universe/raw/` (current US lists, the US listing history, non-US listings,
private-company lists, Wikidata aliases) and the hand-curated files in `data/universe/curated/`,
and writes three tables (schema: data/universe/SCHEMA.md):

- companies.parquet: one row per company (`entity_id` stable across builds), listed at some time,
  private, or not a company; with country, sector, prominence, parent and, for a company that left
  the lists, its fate (acquired, taken private, bankrupt, delisted) and the acquirer;
- listings.parquet: every line a company traded on, with [valid_from, valid_to): ticker, venue,
  MIC, currency, role (primary, secondary, ADR, OTC) and security type;
- aliases.parquet: the names a text may use for each company, flagged ambiguous/exact, with the
  period a name was used where history gives one.

The build is deterministic, writes all tables or none, and fails with one line (file and row)
on bad input, leaving the previous universe in place.
"""

import json
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl

from tagger.errors import TaggerError
from tagger.markets import venues
from tagger.paths import DATA
from tagger.text import fold
from tagger.universe import history, world
from tagger.universe.names import company_name, name_cores, name_key, security_type, title_case
from tagger.universe.sources import (
    _file_date,
    read_curated,
    read_former_unicorns,
    read_name_history,
    read_private_lists,
    read_screener,
    read_sec,
    read_sp500,
    read_spells,
    read_ticker_changes,
    read_trader,
    read_wikidata,
    read_words,
)

UNIVERSE_DIR = DATA / "universe"
RAW_DIR = UNIVERSE_DIR / "raw"
CURATED_DIR = UNIVERSE_DIR / "curated"
TABLES = ("companies", "listings", "aliases", "names")

# Prominence: 2 = a household name (market cap or valuation >= $100B/$50B), 1 = well known
# (S&P 500, >= $10B, or a curated private company), 0 = other. Ambiguous names of prominent
# companies need less corroboration (see tagger.resolve).
MEGA_CAP, LARGE_CAP = 100e9, 10e9
MEGA_PRIVATE_BN, LARGE_PRIVATE_BN = 50.0, 10.0
# The most frequent English words (Indian, Saudi, Taiwan...) never stand for a company alone
# when they are the first word of a non-US company's name (Indian Oil, Taiwan Semiconductor)
EVERYDAY_WORDS = 11_000

ROLE_ORDER = {"primary": 0, "secondary": 1, "ADR": 2, "OTC": 3}
COMPANY_SCHEMA = {
    "company_id": pl.Int32,
    "entity_id": pl.String,
    "name": pl.String,
    "kind": pl.String,
    "ticker": pl.String,
    "exchange": pl.String,
    "cik": pl.String,
    "country": pl.String,
    "sector": pl.String,
    "sector_scheme": pl.String,
    "industry": pl.String,
    "sector_etf": pl.String,
    "market_cap": pl.Float64,
    "sp500": pl.Boolean,
    "prominence": pl.Int8,
    "parent_id": pl.Int32,
    "reason": pl.String,
    "fate": pl.String,
    "fate_date": pl.Date,
    "acquirer_id": pl.Int32,
    "fate_note": pl.String,
    "media": pl.Boolean,
}
LISTING_SCHEMA = {
    "company_id": pl.Int32,
    "ticker": pl.String,
    "exchange": pl.String,
    "mic": pl.String,
    "currency": pl.String,
    "role": pl.String,
    "security_type": pl.String,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "rank": pl.Int32,
}
ALIAS_SCHEMA = {
    "alias": pl.String,
    "key": pl.String,
    "company_id": pl.Int32,
    "kind": pl.String,
    "source": pl.String,
    "note": pl.String,
    "ambiguous": pl.Boolean,
    "exact": pl.Boolean,
    "valid_from": pl.Date,
    "valid_to": pl.Date,
    "rank": pl.Int32,
}


def build(
    raw: Path = RAW_DIR,
    curated: Path = CURATED_DIR,
    out: Path = UNIVERSE_DIR,
    words: Path = UNIVERSE_DIR,
) -> dict[str, int]:
    """Build companies/listings/aliases parquet files in `out` from the raw and curated files
    and the word lists in `words` (dictionary_words.txt, common_words.txt).

    Returns row counts. The same inputs give the same files; on any error nothing in `out` is
    replaced (TaggerError with one line naming the file and row).
    """
    from tagger.universe.lookup import load

    tables = build_tables(raw, curated, words)
    counts = _write(tables, out, raw)
    load.cache_clear()
    return counts


def build_tables(raw: Path, curated: Path, words: Path) -> dict[str, pl.DataFrame]:
    """The three universe tables, built in memory (see the module doc)."""
    cur = read_curated(curated)
    dictionary = read_words(words / "dictionary_words.txt")
    frequent = read_words(words / "common_words.txt")
    everyday = read_words(words / "common_words.txt", limit=EVERYDAY_WORDS)

    securities = _securities(raw)
    companies = _listed_companies(securities, raw, cur["sector_etfs"])
    aliases = _listed_aliases(securities, companies, frequent)
    listings = _current_listings(securities, companies)

    companies, listings, aliases, names = _add_history(
        companies, listings, aliases, securities, raw, frequent
    )
    companies, listings, aliases = world.add_world(
        companies,
        listings,
        aliases,
        raw,
        cur["sector_etfs"],
        cur["world_issuers"],
        dictionary | everyday,
        frequent,
    )
    companies, aliases = _add_not_companies(companies, aliases, cur["not_companies"])
    companies, aliases = _add_private(companies, aliases, raw, cur["private"])
    companies, aliases = _add_brands(companies, aliases, cur["brands"])
    companies, listings = _add_fates(companies, listings, cur["fates"])
    companies = _mark_media(companies, cur["media"])
    aliases = pl.concat(
        [aliases, _wikidata_aliases(raw, companies, listings, aliases)], how="diagonal"
    )
    aliases = _finish_aliases(aliases, companies, dictionary, frequent, cur["ambiguous"])
    listings = _finish_listings(listings)
    companies = _finish_companies(companies, listings)
    names = names.join(companies.select("company_id"), on="company_id").sort(
        "company_id", "valid_from", "name", nulls_last=False
    )
    _check(companies, listings, aliases)
    return {"companies": companies, "listings": listings, "aliases": aliases, "names": names}


def _write(tables: dict[str, pl.DataFrame], out: Path, raw: Path) -> dict[str, int]:
    """Write the tables into a temporary folder beside `out`, then move each into place."""
    companies, listings, aliases, _ = (tables[name] for name in TABLES)
    counts = {
        "companies": companies.height,
        "listed": companies.filter(pl.col("kind") == "listed").height,
        "no_longer_listed": companies.filter(pl.col("fate").is_not_null()).height,
        "non_us": companies.filter(
            ~pl.col("exchange").is_in([c for c, v in venues().items() if v.is_us])
        ).height,
        "private": companies.filter(pl.col("kind") == "private").height,
        "not_companies": companies.filter(pl.col("kind") == "not_company").height,
        "listings": listings.height,
        "aliases": aliases.height,
        "ambiguous_aliases": int(aliases["ambiguous"].sum()),
    }
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=out))
    try:
        for name in TABLES:
            tables[name].write_parquet(
                staging / f"{name}.parquet", compression="zstd", compression_level=19
            )
        info = {"counts": counts, "sources": _sources(raw)}
        (staging / "build_info.json").write_text(json.dumps(info, indent=2) + "\n")
        for name in (*(f"{t}.parquet" for t in TABLES), "build_info.json"):
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def _sources(raw: Path) -> dict[str, str]:
    return {
        str(p.relative_to(raw)): _file_date(p)
        for p in sorted(raw.rglob("*"))
        if p.is_file() and p.name != "PROVENANCE.md"
    }


def _check(companies: pl.DataFrame, listings: pl.DataFrame, aliases: pl.DataFrame) -> None:
    for name, frame, key in (
        ("company_id", companies, ["company_id"]),
        ("entity_id", companies, ["entity_id"]),
        ("listing", listings, ["company_id", "ticker", "valid_from"]),
    ):
        repeated = frame.filter(pl.struct(key).is_duplicated())
        if repeated.height:
            raise TaggerError(
                f"universe build produced a repeated {name} ({repeated.row(0)}); check curated/"
            )
    unknown = aliases.join(companies, on="company_id", how="anti")
    if unknown.height:
        raise TaggerError(f"alias {unknown['alias'][0]!r} names no company; check curated/")


# ---------------------------------------------------------------- today's US listings


def _securities(raw: Path) -> pl.DataFrame:
    """Every listed security: ticker, cik_key (company key), names, exchange, type, ranks."""
    sec = read_sec(raw)
    trader = read_trader(raw)
    screener = read_screener(raw)
    frame = (
        sec.join(trader, on="ticker", how="full", coalesce=True)
        .join(screener, on="ticker", how="left")
        .with_columns(
            pl.coalesce(
                "exchange", pl.col("sec_exchange").replace({"Nasdaq": "NASDAQ", "CBOE": "Cboe BZX"})
            ).alias("exchange"),
            pl.col("etf").fill_null(False),
        )
        .with_columns(
            security_type(
                pl.coalesce("security_name", "screener_name", pl.lit("")), pl.col("etf")
            ).alias("security_type"),
            # Securities SEC does not know are keyed by their root symbol (BRK-A -> BRK).
            pl.coalesce(
                pl.col("cik"), pl.lit("T:") + pl.col("ticker").str.replace(r"-.*$", "")
            ).alias("cik_key"),
        )
    )
    # A preferred, warrant or unit of a company SEC lists under another ticker joins that company.
    roots = frame.filter(pl.col("cik").is_not_null()).select(
        pl.col("ticker").alias("root"), pl.col("cik").alias("root_cik")
    )
    frame = (
        frame.with_columns(pl.col("ticker").str.replace(r"-.*$", "").alias("root"))
        .join(roots, on="root", how="left")
        .with_columns(
            pl.when(pl.col("cik").is_null() & pl.col("root_cik").is_not_null() & ~pl.col("etf"))
            .then(pl.col("root_cik"))
            .otherwise(pl.col("cik_key"))
            .alias("cik_key")
        )
        .drop("root", "root_cik")
    )
    return frame.with_columns(
        pl.col("sec_rank").fill_null(10**6),
        pl.col("security_type").is_in(["common", "ADR"]).alias("equity"),
        (pl.col("exchange") != "OTC").fill_null(False).alias("exchange_listed"),
    )


def _sector_etf(sector_etfs: pl.DataFrame, scheme: str, column: str) -> pl.DataFrame:
    return (
        sector_etfs.filter(pl.col("sector_scheme").str.to_lowercase() == scheme)
        .select(pl.col("sector").alias(column), pl.col("etf").alias(f"etf_{scheme}"))
        .unique(column, keep="first", maintain_order=True)
    )


def _listed_companies(
    securities: pl.DataFrame, raw: Path, sector_etfs: pl.DataFrame
) -> pl.DataFrame:
    """One row per company key: the primary security and the company's attributes."""
    sp = read_sp500(raw)
    ranked = securities.join(sp, on="ticker", how="left").sort(
        pl.col("equity").not_(),
        pl.col("exchange_listed").not_(),
        pl.col("sp_name").is_null(),
        "sec_rank",
        pl.col("ticker").str.len_chars(),
        "ticker",
    )
    primary = ranked.group_by("cik_key", maintain_order=True).first()
    names = primary.select(
        "cik_key",
        pl.coalesce(
            pl.col("sp_name").map_elements(company_name, return_dtype=pl.String),
            pl.col("security_name").map_elements(company_name, return_dtype=pl.String),
            pl.col("screener_name").map_elements(company_name, return_dtype=pl.String),
            pl.col("sec_name").map_elements(title_case, return_dtype=pl.String),
        ).alias("name"),
    )
    return (
        primary.join(names, on="cik_key")
        .join(_sector_etf(sector_etfs, "gics", "gics_sector"), on="gics_sector", how="left")
        .join(_sector_etf(sector_etfs, "nasdaq", "sector"), on="sector", how="left")
        .with_row_index("company_id")
        .select(
            pl.col("company_id").cast(pl.Int32),
            "cik_key",
            pl.when(pl.col("cik").is_not_null())
            .then(pl.lit("CIK:") + pl.col("cik"))
            .otherwise(pl.lit("US:") + pl.col("ticker"))
            .alias("entity_id"),
            "name",
            pl.lit("listed").alias("kind"),
            "ticker",
            "exchange",
            "cik",
            "country",
            pl.coalesce("gics_sector", "sector").alias("sector"),
            pl.when(pl.col("gics_sector").is_not_null())
            .then(pl.lit("GICS"))
            .when(pl.col("sector").is_not_null())
            .then(pl.lit("Nasdaq"))
            .alias("sector_scheme"),
            pl.coalesce("gics_industry", "industry").alias("industry"),
            pl.when(pl.col("gics_sector").is_not_null())
            .then(pl.col("etf_gics"))
            .otherwise(pl.col("etf_nasdaq"))
            .alias("sector_etf"),
            "ipo_year",
            "market_cap",
            pl.col("sp_name").is_not_null().alias("sp500"),
            pl.when(pl.col("market_cap") >= MEGA_CAP)
            .then(2)
            .when(pl.col("sp_name").is_not_null() | (pl.col("market_cap") >= LARGE_CAP))
            .then(1)
            .otherwise(0)
            .cast(pl.Int8)
            .alias("prominence"),
        )
    )


def _current_listings(securities: pl.DataFrame, companies: pl.DataFrame) -> pl.DataFrame:
    """Today's US securities as open listings; the company's primary security ranks first."""
    return securities.join(
        companies.select("company_id", "cik_key", pl.col("ticker").alias("primary")),
        on="cik_key",
    ).select(
        "company_id",
        "ticker",
        "exchange",
        pl.when(pl.col("security_type").is_in(["common", "ADR", "ETF"]))
        .then(pl.lit("primary"))
        .otherwise(pl.lit("secondary"))
        .alias("role"),
        "security_type",
        pl.lit(None, pl.Date).alias("valid_from"),
        pl.lit(None, pl.Date).alias("valid_to"),
        (pl.col("ticker") != pl.col("primary")).cast(pl.Int32).alias("rank"),
    )


def _listed_aliases(
    securities: pl.DataFrame, companies: pl.DataFrame, frequent: set[str]
) -> pl.DataFrame:
    """Name cores of each company's names (its display name, and its primary security's names
    in the Nasdaq directory, the screener and, when no other source has it, EDGAR); the first
    word of a multi-word name when it is distinctive (Agilent Technologies -> Agilent); and the
    fund name of an ETF (Invesco QQQ Trust, Series 1 -> Invesco QQQ)."""
    primary = companies.select("company_id", "name", "ticker").join(
        securities.select("ticker", "security_type", "security_name", "screener_name", "sec_name"),
        on="ticker",
    )
    equities = primary.filter(pl.col("security_type").is_in(["common", "ADR"]))
    frame = _name_aliases(
        equities.select(
            "company_id",
            pl.concat_list(
                "name",
                "security_name",
                "screener_name",
                pl.when(pl.col("security_name").is_null() & pl.col("screener_name").is_null()).then(
                    pl.col("sec_name").map_elements(title_case, return_dtype=pl.String)
                ),
            ).alias("raw_name"),
        ).explode("raw_name"),
        source="listing",
    )
    first = first_words(frame, frequent, kind="first_word", source="listing")
    funds = (
        primary.filter(pl.col("security_type") == "ETF")
        .select(
            pl.col("security_name")
            .str.replace(r"(?i)[,\s]+(?:series \d+|trust|etf|fund|shares|index fund)\b.*$", "")
            .str.strip_chars()
            .alias("alias"),
            "company_id",
            pl.lit("fund_name").alias("kind"),
            pl.lit("listing").alias("source"),
        )
        .filter(pl.col("alias").str.contains(r"\S+\s+\S+"))
    )
    return pl.concat([frame, first, funds], how="diagonal")


def _name_aliases(names: pl.DataFrame, *, source: str, kind: str = "name") -> pl.DataFrame:
    """Name cores of (company_id, raw_name[, valid_from, valid_to]) rows as alias rows."""
    windows = [c for c in ("valid_from", "valid_to") if c in names.columns]
    return (
        names.drop_nulls("raw_name")
        .unique(maintain_order=True)
        .with_columns(
            pl.col("raw_name")
            .map_elements(name_cores, return_dtype=pl.List(pl.String))
            .alias("alias")
        )
        .explode("alias")
        .drop_nulls("alias")
        .select(
            "alias",
            "company_id",
            pl.lit(kind).alias("kind"),
            pl.lit(source).alias("source"),
            *windows,
        )
    )


def first_words(
    names: pl.DataFrame, frequent: set[str], *, kind: str, source: str, taken: pl.Series = None
) -> pl.DataFrame:
    """The first word of multi-word names (Agilent Technologies -> Agilent) where it names one
    company only, is no frequent word, and is not in `taken` (words other companies use)."""
    first = (
        names.with_columns(pl.col("alias").str.extract(r"^([A-Z][A-Za-z]{3,})\s+\S").alias("word"))
        .drop_nulls("word")
        .filter(~pl.col("word").str.to_lowercase().is_in(list(frequent)))
        .unique(["word", "company_id"], maintain_order=True)
    )
    if taken is not None:
        first = first.filter(~pl.col("word").is_in(taken.implode()))
    # a first word shared by several companies (Texas, China, Charles) is not distinctive
    single = first.group_by("word").len().filter(pl.col("len") == 1)["word"]
    return first.filter(pl.col("word").is_in(single.implode())).select(
        pl.col("word").alias("alias"),
        "company_id",
        pl.lit(kind).alias("kind"),
        pl.lit(source).alias("source"),
        *[c for c in ("valid_from", "valid_to") if c in names.columns],
    )


# ---------------------------------------------------------------- the US listing history


def _add_history(
    companies: pl.DataFrame,
    listings: pl.DataFrame,
    aliases: pl.DataFrame,
    securities: pl.DataFrame,
    raw: Path,
    frequent: set[str],
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Attach the listing history: today's companies get their past listings (FB for Meta), the
    dates their current lines started and their former names; companies that have left the lists
    become companies of their own with listings that ended. Also returns the names companies
    bore before their last one, with their periods (company_id, name, valid_from, valid_to)."""
    spells = history.with_line_types(read_spells(raw))
    groups = history.group_spells(spells, read_ticker_changes(raw))
    spell_rows = history.spell_listings(spells).join(groups, on="spell_id")

    # a group is today's company when one of its spells' CIKs, or a still-listed ticker, says so
    by_cik = (
        spells.join(groups, on="spell_id")
        .join(companies.select("company_id", "cik"), on="cik")
        .select("group", "company_id")
    )
    by_ticker = (
        spell_rows.filter(pl.col("valid_to").is_null())
        .join(listings.select("ticker", "company_id"), on="ticker")
        .select("group", "company_id")
    )
    owner = (
        pl.concat([by_cik.with_columns(pl.lit(0).alias("how")), by_ticker.with_columns(how=1)])
        .sort("group", "how", "company_id")
        .unique("group", keep="first", maintain_order=True)
        .select("group", "company_id")
    )

    # today's lines: when they started (open when the lists may have missed the start)
    started = (
        spell_rows.filter(pl.col("valid_to").is_null())
        .join(owner, on="group")
        .select("company_id", "ticker", pl.col("valid_from").alias("started"))
        .unique(["company_id", "ticker"], keep="first", maintain_order=True)
    )
    listings = (
        listings.join(started, on=["company_id", "ticker"], how="left")
        .with_columns(pl.col("started").alias("valid_from"))
        .drop("started")
    )

    # ended spells of today's companies: past listings
    ended = spell_rows.filter(pl.col("valid_to").is_not_null())
    past = ended.join(owner, on="group").select(*_spell_listing_columns(1))

    # groups that are no company of today: companies of their own
    gone = spell_rows.join(owner, on="group", how="anti").filter(
        pl.col("security_type").is_in(["common", "ETF"]).any().over("group")
    )
    latest = (
        gone.join(spells.select("spell_id", "name", "cik", "sources"), on="spell_id")
        .sort(
            "group",
            pl.col("security_type") != "common",
            pl.col("valid_to"),
            descending=[False, False, True],
        )
        .group_by("group", maintain_order=True)
        .agg(
            pl.col("ticker").first(),
            pl.col("exchange").first(),
            pl.col("name").first(),
            pl.col("cik").drop_nulls().first(),
            pl.col("valid_to").first(),
            pl.col("last_trade").first(),
            pl.col("sources").str.contains("sp500").any().alias("sp500"),
            pl.col("valid_from").first(),
        )
        .sort("group")
    )
    first_id = int(companies["company_id"].max()) + 1
    new = latest.with_row_index("offset").select(
        (pl.col("offset").cast(pl.Int32) + first_id).alias("company_id"),
        "group",
        pl.lit(None, pl.String).alias("cik_key"),
        pl.when(pl.col("cik").is_not_null())
        .then(pl.lit("CIK:") + pl.col("cik"))
        .otherwise(
            # no CIK (left before 2021-12): its last ticker and last trading day
            pl.format("US:{}:{}", "ticker", pl.coalesce("last_trade", "valid_from", "valid_to"))
        )
        .alias("entity_id"),
        pl.col("name").map_elements(company_name, return_dtype=pl.String).alias("name"),
        pl.lit("listed").alias("kind"),
        "ticker",
        "exchange",
        "cik",
        "sp500",
        pl.col("sp500").cast(pl.Int8).alias("prominence"),
        pl.when(pl.col("valid_to").is_not_null()).then(pl.lit("delisted")).alias("fate"),
        "last_trade",
    )
    bankrupt = history.bankrupt_groups(spell_rows, groups)
    new = (
        new.join(bankrupt.rename({"last_trade": "bankrupt_trade"}), on="group", how="left")
        .with_columns(
            pl.when(pl.col("bankrupt_trade").is_not_null())
            .then(pl.lit("bankrupt"))
            .otherwise(pl.col("fate"))
            .alias("fate"),
            pl.coalesce("bankrupt_trade", "last_trade").alias("fate_date"),
        )
        .drop("bankrupt_trade", "last_trade")
    )
    gone_listings = gone.join(new.select("group", "company_id"), on="group").select(
        *_spell_listing_columns(0)
    )
    group_company = pl.concat([owner, new.select("group", "company_id")])

    # names over time: former names of today's companies, the names of those that left
    names = history.spell_names(read_name_history(raw), spells, groups).join(
        group_company, on="group"
    )
    named = _name_aliases(
        names.select("company_id", pl.col("name").alias("raw_name"), "valid_from", "valid_to"),
        source="history",
    )
    is_new = pl.col("company_id") >= first_id
    taken = aliases.filter(pl.col("kind").is_in(["name", "first_word"]))["alias"]
    new_first = first_words(
        named.filter(is_new), frequent, kind="first_word", source="history", taken=taken
    )
    companies = pl.concat([companies, new.drop("group")], how="diagonal")
    listings = pl.concat([listings, past, gone_listings], how="diagonal")
    aliases = pl.concat([aliases, named, new_first], how="diagonal")
    former = names.filter(pl.col("valid_to").is_not_null()).select(
        "company_id", "name", "valid_from", "valid_to"
    )
    return companies, listings, aliases, former


# ---------------------------------------------------------------- not companies, private, brands


def _company_rows(frame: pl.DataFrame, first_id: int) -> pl.DataFrame:
    """New company rows (private or not_company) with ids from first_id, in the companies schema."""
    return frame.with_columns(
        (pl.int_range(pl.len()) + first_id).cast(pl.Int32).alias("company_id"),
        pl.lit(None, pl.String).alias("cik_key"),
    )


def _next_id(companies: pl.DataFrame) -> int:
    return int(companies["company_id"].max()) + 1


def _add_not_companies(
    companies: pl.DataFrame, aliases: pl.DataFrame, not_companies: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Government bodies, regulators, indices...: known so that they are never tagged."""
    rows = _company_rows(
        not_companies.select(
            "name",
            pl.lit("not_company").alias("kind"),
            pl.format("not a company ({})", pl.col("kind")).alias("reason"),
            pl.lit(0, pl.Int8).alias("prominence"),
        ),
        _next_id(companies),
    ).with_columns(pl.format("NC:{}", pl.col("name")).alias("entity_id"))
    names = rows.select("company_id", "name").join(
        not_companies.select(
            "name",
            pl.concat_list(pl.col("name"), pl.col("aliases").fill_null("").str.split("|")).alias(
                "alias"
            ),
        ),
        on="name",
    )
    new_aliases = (
        names.explode("alias")
        .filter(pl.col("alias").str.len_chars() > 0)
        .select(
            "alias",
            "company_id",
            pl.lit("not_company").alias("kind"),
            pl.lit("curated").alias("source"),
        )
    )
    return pl.concat([companies, rows], how="diagonal"), pl.concat(
        [aliases, new_aliases], how="diagonal"
    )


def _add_private(
    companies: pl.DataFrame, aliases: pl.DataFrame, raw: Path, curated_private: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Private companies from the lists, unless they are (or were) listed: then their name
    becomes an alias of the listed company (whose listings say since when it is listed)."""
    lists = pl.concat(
        [
            curated_private.select(
                pl.col("company").str.strip_chars().alias("name"),
                pl.col("aliases").fill_null("").str.split("|").alias("aliases"),
                pl.col("parent_ticker").replace("", None),
                pl.col("reason").str.replace(r";.*$", "").str.strip_chars().alias("basis"),
                pl.lit(2026).alias("list_year"),
            ),
            read_private_lists(raw),
            # former unicorns that listed: private until their IPO
            read_former_unicorns(raw).select(
                "name", pl.col("exit_date").dt.year().alias("list_year"), "exit_date"
            ),
        ],
        how="diagonal",
    ).with_columns(name_key(pl.col("name")).alias("key"))
    former = read_former_unicorns(raw).with_columns(name_key(pl.col("name")).alias("key"))

    listed_keys = (
        aliases.filter(pl.col("kind") == "name", pl.col("valid_to").is_null())
        .join(
            companies.select("company_id", pl.col("kind").alias("company_kind"), "ipo_year"),
            on="company_id",
        )
        .filter(pl.col("company_kind") == "listed")
        .select(name_key(pl.col("alias")).alias("key"), "company_id", "ipo_year")
        .filter(pl.col("key") != "")
        .sort("company_id")
        .unique("key", keep="first", maintain_order=True)
    )
    slug_keys = listed_keys.rename({"key": "slug_key"})
    matched = (
        lists.with_columns(
            pl.col("slug").str.replace_all("-", " ").pipe(name_key).alias("slug_key")
        )
        .join(listed_keys, on="key", how="left")
        .join(slug_keys, on="slug_key", how="left", suffix="_slug")
        .with_columns(
            pl.coalesce("company_id", "company_id_slug").alias("company_id"),
            pl.coalesce("ipo_year", "ipo_year_slug").alias("ipo_year"),
        )
        # A listed company is a listed unicorn only if it listed after the list was made (the
        # IPO year of a former unicorn): an old company of the same name is another company.
        .with_columns(
            pl.when(
                pl.col("ipo_year").is_null()
                | pl.when(pl.col("exit_date").is_not_null())
                .then((pl.col("ipo_year") - pl.col("list_year")).abs() <= 1)
                .otherwise(pl.col("ipo_year") >= pl.col("list_year") - 1)
            )
            .then(pl.col("company_id"))
            .alias("company_id")
        )
        # every list's row for a name links when one of them does (by name or Crunchbase slug)
        .with_columns(pl.col("company_id").drop_nulls().first().over("key").alias("company_id"))
    )
    now_listed = matched.filter(pl.col("company_id").is_not_null())
    listed_aliases = now_listed.select(
        pl.col("name").alias("alias"),
        "company_id",
        pl.lit("former_private").alias("kind"),
        pl.lit("private_list").alias("source"),
    ).unique(maintain_order=True)
    private = (
        matched.filter(pl.col("company_id").is_null())
        .join(former.select("key"), on="key", how="anti")  # listed elsewhere or under another name
        .group_by("key", maintain_order=True)
        .agg(
            pl.col("name").first(),
            pl.col("aliases")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .drop_nulls()
            .unique(maintain_order=True),
            pl.col("parent_ticker").drop_nulls().first(),
            pl.col("basis").first(),
            pl.col("valuation_bn").max(),
            pl.col("curated").fill_null(False).any(),
        )
    )
    parents = _ticker_owner(companies).rename({"company_id": "parent_id"})
    parent_names = companies.select(
        pl.col("company_id").alias("parent_id"), pl.col("name").alias("parent_name")
    )
    private_rows = _company_rows(
        private.join(parents, left_on="parent_ticker", right_on="ticker", how="left")
        .join(parent_names, on="parent_id", how="left")
        .select(
            "name",
            pl.format("PRIVATE:{}", pl.col("name")).alias("entity_id"),
            pl.lit("private").alias("kind"),
            "parent_id",
            pl.when(pl.col("parent_id").is_not_null())
            .then(pl.format("subsidiary of {}", pl.col("parent_name")))
            .otherwise(pl.format("private: {}", pl.col("basis")))
            .alias("reason"),
            pl.when(pl.col("valuation_bn") >= MEGA_PRIVATE_BN)
            .then(2)
            .when(pl.col("curated") | (pl.col("valuation_bn") >= LARGE_PRIVATE_BN))
            .then(1)
            .otherwise(0)
            .cast(pl.Int8)
            .alias("prominence"),
        ),
        _next_id(companies),
    )
    companies = pl.concat([companies, private_rows], how="diagonal")
    private_aliases = (
        private_rows.select("company_id", "name")
        .join(private.select("name", "aliases"), on="name")
        .with_columns(pl.concat_list(pl.col("name"), pl.col("aliases")).alias("alias"))
        .explode("alias")
        .filter(pl.col("alias").str.len_chars() > 1)
        .select(
            "alias",
            "company_id",
            pl.lit("private_name").alias("kind"),
            pl.lit("private_list").alias("source"),
        )
    )
    return companies, pl.concat([aliases, listed_aliases, private_aliases], how="diagonal")


def _ticker_owner(companies: pl.DataFrame) -> pl.DataFrame:
    """ticker -> company_id of the company that trades (or last traded) under it as primary."""
    return (
        companies.filter(pl.col("kind") == "listed", pl.col("ticker").is_not_null())
        .sort(pl.col("fate").is_not_null(), "company_id")
        .unique("ticker", keep="first", maintain_order=True)
        .select("ticker", "company_id")
    )


def _add_brands(
    companies: pl.DataFrame, aliases: pl.DataFrame, brands: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Curated short names, brands, former names and subsidiaries (data/universe/curated/
    brands.csv: alias, owning company, the owner's ticker when listed, kind, reason).

    A short name, brand or former name is an alias of its owner. A subsidiary is a company of
    its own, private, with its owner as parent; variants of one subsidiary's name (Whole Foods,
    Whole Foods Market) are one company. A subsidiary that was itself listed (Activision Blizzard,
    Celgene) is that company: its owner becomes its acquirer."""
    owners = _owner_index(companies, aliases)
    brands = (
        brands.with_columns(
            pl.col("ticker")
            .fill_null("")
            .str.strip_chars()
            .str.to_uppercase()
            .str.replace_all(r"[./]", "-")
            .replace("", None)
            .alias("ticker"),
            name_key(pl.col("company")).alias("owner_key"),
        )
        .join(_ticker_owner(companies).rename({"company_id": "by_ticker"}), on="ticker", how="left")
        .join(owners, on="owner_key", how="left")
        .with_columns(pl.coalesce("by_ticker", "by_name").alias("owner_id"))
        .filter(pl.col("owner_id").is_not_null())
    )
    same = brands.filter(pl.col("kind") != "subsidiary").select(
        "alias",
        pl.col("owner_id").alias("company_id"),
        "kind",
        pl.lit("curated").alias("source"),
        # a brand or former name says so ("brand/product of Apple Inc. (AAPL)"); a short name
        # needs no explaining
        # (without the owner's ticker, which depends on the date: see the entity's ticker)
        pl.when(pl.col("kind").is_in(["brand", "former_name"]))
        .then(pl.col("reason").str.replace(r";.*$", "").str.replace(r"\s*\([A-Z0-9.\-]+\)$", ""))
        .alias("note"),
    )
    owner_info = companies.select(
        pl.col("company_id").alias("owner_id"),
        pl.col("kind").alias("owner_kind"),
        pl.col("name").alias("owner_name"),
    )
    subs = (
        brands.filter(pl.col("kind") == "subsidiary")
        .join(owner_info, on="owner_id")
        .with_columns(_subsidiary_group(by="owner_id").alias("group"))
    )
    # a subsidiary that is a company which left the lists (by any of its names): acquired by
    # its owner
    gone_ids = companies.filter(pl.col("fate").is_not_null())["company_id"]
    gone = (
        pl.concat(
            [
                companies.filter(pl.col("fate").is_not_null()).select("company_id", "name"),
                aliases.filter(
                    pl.col("company_id").is_in(gone_ids.implode()),
                    pl.col("kind").is_in(["name", "first_word"]),
                ).select("company_id", pl.col("alias").alias("name")),
            ]
        )
        .select("company_id", name_key(pl.col("name")).alias("sub_key"))
        .unique()
        .filter(pl.col("sub_key").is_unique())
    )
    acquired_groups = (
        subs.with_columns(name_key(pl.col("alias")).alias("sub_key"))
        .join(gone, on="sub_key")
        .select("owner_id", "group", "company_id")
        .unique(["owner_id", "group"], keep="first", maintain_order=True)
    )
    acquired = subs.join(acquired_groups, on=["owner_id", "group"])
    companies = (
        companies.join(
            acquired_groups.select("company_id", pl.col("owner_id").alias("brand_acquirer")).unique(
                "company_id", keep="first", maintain_order=True
            ),
            on="company_id",
            how="left",
        )
        .with_columns(
            pl.when(pl.col("brand_acquirer").is_not_null())
            .then(pl.lit("acquired"))
            .otherwise(pl.col("fate"))
            .alias("fate"),
            pl.col("brand_acquirer").alias("acquirer_id"),
            # curated as a subsidiary: well known, as curated subsidiaries are
            pl.when(pl.col("brand_acquirer").is_not_null())
            .then(pl.max_horizontal("prominence", pl.lit(1, pl.Int8)))
            .otherwise(pl.col("prominence"))
            .alias("prominence"),
        )
        .drop("brand_acquirer")
    )
    acquired_aliases = acquired.select(
        "alias", "company_id", pl.lit("subsidiary").alias("kind"), pl.lit("curated").alias("source")
    )
    subs = subs.join(acquired_groups, on=["owner_id", "group"], how="anti")
    groups = subs.group_by("owner_id", "group", maintain_order=True).agg(
        pl.col("alias"),
        pl.col("alias").sort_by(pl.col("alias").str.len_chars()).last().alias("name"),
        pl.col("owner_kind").first(),
        pl.col("owner_name").first(),
    )
    rows = _company_rows(
        groups.select(
            "name",
            pl.format("SUBSIDIARY:{}", pl.col("name")).alias("entity_id"),
            pl.lit("private").alias("kind"),
            pl.col("owner_id").alias("parent_id"),
            pl.format("subsidiary of {}", pl.col("owner_name")).alias("reason"),
            pl.lit(1, pl.Int8).alias("prominence"),
        ),
        _next_id(companies),
    )
    sub_aliases = (
        rows.select("company_id")
        .with_columns(groups["alias"])
        .explode("alias")
        .select(
            "alias",
            "company_id",
            pl.lit("subsidiary").alias("kind"),
            pl.lit("curated").alias("source"),
        )
    )
    return (
        pl.concat([companies, rows], how="diagonal"),
        pl.concat([aliases, same, acquired_aliases, sub_aliases], how="diagonal"),
    )


def _mark_media(companies: pl.DataFrame, media: pl.DataFrame) -> pl.DataFrame:
    """Flag the news outlets of data/universe/curated/media.csv (company: a company's name):
    named in a story, they are its source unless something says they are its subject."""
    unknown = media.filter(~pl.col("company").is_in(companies["name"].implode()))
    if unknown.height:
        raise TaggerError(
            f"curated/media.csv: {unknown['company'][0]!r} names no company; write a company's "
            "name as the universe has it"
        )
    return companies.with_columns(pl.col("name").is_in(media["company"].implode()).alias("media"))


def _owner_index(companies: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """owner_key -> by_name: a company found by its name (listed companies first)."""
    named = pl.concat(
        [
            aliases.select("company_id", "alias"),
            companies.select("company_id", pl.col("name").alias("alias")),
        ]
    ).join(companies.select("company_id", "kind", "fate"), on="company_id")
    return (
        named.filter(pl.col("kind").is_in(["listed", "private"]))
        .with_columns(name_key(pl.col("alias")).alias("owner_key"))
        .sort(pl.col("kind") != "listed", pl.col("fate").is_not_null(), "company_id")
        .unique("owner_key", keep="first", maintain_order=True)
        .select("owner_key", pl.col("company_id").alias("by_name"))
    )


def _subsidiary_group(by: str) -> pl.Expr:
    """Within one owner, aliases whose words start or end another's (Whole Foods / Whole Foods
    Market, DeepMind / Google DeepMind) share the group named by the shortest of them."""
    alias = pl.col("alias")
    shorter = alias.implode().over(by)
    return pl.struct(alias, shorter.alias("others")).map_elements(
        lambda r: min(
            (o for o in r["others"] if o == r["alias"] or _word_affix(o, r["alias"])), key=len
        ),
        return_dtype=pl.String,
    )


def _word_affix(short: str, long: str) -> bool:
    return len(short) < len(long) and (long.startswith(short + " ") or long.endswith(" " + short))


# ---------------------------------------------------------------- fates


FATES = ("acquired", "merged", "taken_private", "bankrupt", "delisted")


def _add_fates(
    companies: pl.DataFrame, listings: pl.DataFrame, fates: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Curated fates (data/universe/curated/fates.csv: ticker, last_trade, fate, acquirer,
    acquirer_ticker, note) of companies that left the lists, matched by their last ticker and
    last trading day; the acquirer found by its ticker on that day.

    A company bought or taken private leaves every list: when another of its share lines is
    still open but no longer has a market value (a home line the non-US data keeps after the
    takeover: Credit Suisse's CSGN.SW after UBS bought it), that line ends the same day; its
    preferreds and notes may well trade on and are left as they are."""
    bad = fates.filter(~pl.col("fate").is_in(FATES))
    if bad.height:
        raise TaggerError(
            f"curated/fates.csv: fate {bad['fate'][0]!r} for {bad['ticker'][0]}; "
            f"use one of {', '.join(FATES)}"
        )
    fates = fates.rename({"acquirer": "acquirer_name"}).with_columns(
        pl.col("last_trade").str.to_date("%Y-%m-%d", strict=False),
        pl.col("acquirer_ticker").replace("", None),
    )
    undated = fates.filter(pl.col("last_trade").is_null())
    if undated.height:
        raise TaggerError(
            f"curated/fates.csv: last_trade of {undated['ticker'][0]} is not YYYY-MM-DD"
        )
    ended = companies.filter(pl.col("fate").is_not_null()).select(
        "company_id", "ticker", pl.col("fate_date").alias("last_trade")
    )
    gone_everywhere = ("acquired", "merged", "taken_private")
    still_open = (
        fates.filter(pl.col("fate").is_in(gone_everywhere))
        .join(
            listings.filter(pl.col("valid_to").is_not_null()).select(
                "company_id",
                "ticker",
                (pl.col("valid_to") - pl.duration(days=1)).alias("last_trade"),
            ),
            on=["ticker", "last_trade"],
        )
        .join(
            companies.filter(pl.col("fate").is_null(), pl.col("market_cap").is_null()).select(
                "company_id"
            ),
            on="company_id",
        )
        .select("company_id", "ticker", "last_trade")
        .unique("company_id", keep="first", maintain_order=True)
    )
    ended = pl.concat([ended, still_open])
    lines = listings.select(
        pl.col("company_id").alias("acquirer"),
        pl.col("ticker").alias("acquirer_ticker"),
        "valid_from",
        "valid_to",
        pl.col("rank").alias("line_rank"),
    )
    on_day = (pl.col("valid_from").is_null() | (pl.col("valid_from") <= pl.col("last_trade"))) & (
        pl.col("valid_to").is_null() | (pl.col("valid_to") > pl.col("last_trade"))
    )
    acquirers = (
        fates.filter(pl.col("acquirer_ticker").is_not_null())
        .join(lines, on="acquirer_ticker")
        .filter(on_day)
        .sort("ticker", "last_trade", "line_rank", "acquirer")
        .unique(["ticker", "last_trade"], keep="first", maintain_order=True)
        .select("ticker", "last_trade", "acquirer")
    )
    curated = (
        fates.join(ended, on=["ticker", "last_trade"])
        .join(acquirers, on=["ticker", "last_trade"], how="left")
        .select(
            "company_id",
            pl.col("fate").alias("curated_fate"),
            "acquirer",
            pl.when(pl.col("acquirer").is_null())
            .then(pl.col("acquirer_name").replace("", None))
            .alias("acquirer_name"),
            pl.col("note").replace("", None).alias("curated_note"),
            pl.col("last_trade").alias("curated_date"),
        )
    )
    companies = (
        companies.join(curated, on="company_id", how="left")
        .with_columns(
            pl.coalesce("curated_fate", "fate").alias("fate"),
            pl.coalesce(
                "fate_date", pl.when(pl.col("curated_fate").is_not_null()).then("curated_date")
            ).alias("fate_date"),
            pl.coalesce("acquirer", "acquirer_id").alias("acquirer_id"),
            pl.coalesce("acquirer_name", "curated_note").alias("fate_note"),
        )
        .drop("curated_fate", "acquirer", "acquirer_name", "curated_note", "curated_date")
    )
    closed = still_open.select(
        "company_id", (pl.col("last_trade") + pl.duration(days=1)).alias("closed_on")
    )
    listings = (
        listings.join(closed, on="company_id", how="left")
        .with_columns(
            pl.when(
                pl.col("valid_to").is_null()
                & pl.col("security_type").is_in(["common", "ADR"])
                & (pl.col("valid_from").is_null() | (pl.col("valid_from") < pl.col("closed_on")))
            )
            .then(pl.col("closed_on"))
            .otherwise(pl.col("valid_to"))
            .alias("valid_to")
        )
        .drop("closed_on")
    )
    return companies, listings


# ---------------------------------------------------------------- aliases


def _wikidata_aliases(
    raw: Path, companies: pl.DataFrame, listings: pl.DataFrame, aliases: pl.DataFrame
) -> pl.DataFrame:
    """Wikidata aliases of US-listed tickers, kept only when they resemble one of the company's
    known names (the table merges same-symbol companies of every exchange in the world)."""
    known = (
        aliases.filter(pl.col("kind").is_in(["name", "short_name"]))
        .select("company_id", name_key(pl.col("alias")).str.slice(0, 4).alias("stem"))
        .unique(maintain_order=True)
    )
    current = listings.filter(pl.col("valid_to").is_null()).select("ticker", "company_id")
    current = current.join(
        companies.filter(pl.col("fate").is_null()).select("company_id"), on="company_id"
    ).unique("ticker", keep="first", maintain_order=True)
    return (
        read_wikidata(raw)
        .join(current, on="ticker", how="inner")
        .filter(~pl.col("alias").str.contains(r"[()0-9]|\.com$"))
        .with_columns(name_key(pl.col("alias")).str.slice(0, 4).alias("stem"))
        .join(known, on=["company_id", "stem"], how="semi")
        .with_columns(pl.col("alias").map_elements(name_cores, return_dtype=pl.List(pl.String)))
        .explode("alias")
        .drop_nulls("alias")
        .select(
            "alias",
            "company_id",
            pl.lit("wikidata").alias("kind"),
            pl.lit("wikidata").alias("source"),
        )
    )


_KIND_RANK = {
    "not_company": 0,
    "short_name": 1,
    "brand": 2,
    "former_name": 3,
    "subsidiary": 4,
    "name": 5,
    "former_private": 6,
    "private_name": 7,
    "world_name": 8,
    "first_word": 9,
    "fund_name": 10,
    "wikidata": 11,
}
MAX_CANDIDATES = 4  # companies one alias may name at different times


def _finish_aliases(
    aliases: pl.DataFrame,
    companies: pl.DataFrame,
    dictionary: set[str],
    frequent: set[str],
    ambiguous: pl.DataFrame,
) -> pl.DataFrame:
    """Fold, drop junk, flag ambiguous aliases and rank the companies one alias may name.

    An ambiguous alias (an ordinary word: Apple, Target) is matched with its exact case; any
    other is matched ignoring case, under its lower-case `key` (Ebay, CONMED, Fuelcell). When
    several companies share an alias, `rank` orders them (0 = the default); rows after the first
    are kept only when their name was used for a period (valid_from/valid_to), so that the
    story's date can pick the company that bore the name then (Alcoa before and after 2016)."""
    us_venues = [code for code, v in venues().items() if v.is_us]
    info = companies.select(
        "company_id",
        pl.col("kind").alias("company_kind"),
        pl.col("exchange").is_in(us_venues).fill_null(True).alias("us_company"),
        (pl.col("exchange").fill_null("") != "OTC").alias("exchange_listed"),
        pl.col("fate").is_null().alias("current"),
        "fate_date",
        "acquirer_id",
        pl.col("sp500").fill_null(False),
        pl.col("market_cap").fill_null(0.0),
        pl.col("prominence").fill_null(0),
    )
    curated_ambiguous = ambiguous["alias"].to_list()
    for column in ("valid_from", "valid_to"):
        if column not in aliases.columns:
            aliases = aliases.with_columns(pl.lit(None, pl.Date).alias(column))
    frame = (
        aliases.with_columns(
            fold(pl.col("alias").str.strip_chars().str.replace_all(r"\s+", " ")).alias("alias"),
            pl.col("kind").replace_strict(_KIND_RANK, return_dtype=pl.Int8).alias("kind_rank"),
        )
        .filter(
            pl.col("alias").str.len_chars() >= 2,
            pl.col("alias").str.contains(r"[A-Za-z]"),
            ~pl.col("alias").str.contains(r"^(?:[QH][1-4]|FY\d*|\d+)$"),
        )
        .join(info, on="company_id")
    )
    single_word = ~pl.col("alias").str.contains(" ")
    lower = pl.col("alias").str.to_lowercase()
    shaped_exact = (pl.col("alias").str.len_chars() <= 3) | (
        pl.col("alias") == pl.col("alias").str.to_uppercase()
    )
    # Wikidata's aliases come in lower case: useless where the case decides (short names,
    # acronyms, ordinary words)
    lower_case_source = pl.col("alias") == lower
    dictionary_word = lower.is_in(list(dictionary))
    wordlike = dictionary_word | lower.is_in(list(frequent))
    frame = frame.filter(~(lower_case_source & (shaped_exact | (single_word & wordlike))))
    windowed = pl.col("valid_from").is_not_null() | pl.col("valid_to").is_not_null()
    # the companies one name may denote, best first; the first (the default) decides how the
    # name is matched
    group = pl.when(shaped_exact).then(pl.col("alias")).otherwise(lower)
    # a company that stands today (listed, and well known or trading on a US exchange at a known
    # value) before one that does not (a note issuer, a gone or over-the-counter US line) of the
    # same kind of name: "UBS" is UBS Group, not the ETRACS notes UBS AG issues; "Bank of
    # Montreal" is BMO, not a Dorsey Wright note it issued. Dictionary words keep their order.
    standing = (
        pl.col("current")
        & (pl.col("company_kind") == "listed")
        & (
            (pl.col("prominence") >= 1)
            | (pl.col("us_company") & pl.col("exchange_listed") & (pl.col("market_cap") > 0))
        )
    )
    yields = ~standing & ~dictionary_word
    frame = (
        frame.with_columns(group.alias("group"))
        .sort(
            "group",
            "kind_rank",
            yields,
            pl.col("us_company").not_(),  # US news first: Compass is COMP before Compass Group
            pl.col("company_kind") != "listed",
            pl.col("current").not_(),
            pl.col("exchange_listed").not_(),
            pl.col("sp500").not_(),
            pl.col("market_cap"),
            windowed,
            "company_id",
            "alias",
            "source",
            "kind",
            "valid_from",
            "valid_to",
            "note",
            descending=[False] * 8 + [True] + [False] * 8,
            nulls_last=True,
        )
        # one row per company and name: its best kind, a timeless name before a windowed one
        .unique(["group", "company_id"], keep="first", maintain_order=True)
    )
    default = pl.col("prominence").first().over("group")
    # an ordinary word (apple, target); or a frequent word naming an obscure company ("Crypto
    # Co"): a frequent word naming a well-known company (Comcast, Nvidia) is that company
    common = dictionary_word | (lower.is_in(list(frequent)) & (default == 0))
    # Short names are ambiguous (GE, ON), except a well-known company's three-letter acronym
    # that is no word (IBM, AMD, CME)
    short = (pl.col("alias").str.len_chars() <= 3) & ~(
        pl.col("alias").str.contains(r"^[A-Z]{3}$") & (default >= 1)
    )
    # the first word of a non-US company's name (Nissan) is a company only when the context
    # says so
    world_first_word = (pl.col("kind") == "first_word") & (pl.col("source") == "world")
    ambiguous = (pl.col("kind") != "not_company") & (
        (single_word & (common | short))
        | pl.col("alias").is_in(curated_ambiguous)
        | world_first_word
    )
    frame = (
        frame.with_columns(ambiguous.first().over("group").alias("ambiguous"))
        .with_columns(_handed_over(~dictionary_word))
        # matched with its exact case: an ambiguous name, a short one, an acronym (IBM, FDA)
        .with_columns((pl.col("ambiguous") | shaped_exact).alias("exact"))
        .with_columns(pl.when(pl.col("exact")).then(pl.col("alias")).otherwise(lower).alias("key"))
        .with_columns(pl.int_range(pl.len()).over("key", "exact").cast(pl.Int32).alias("rank"))
        .filter((pl.col("rank") == 0) | windowed, pl.col("rank") < MAX_CANDIDATES)
        .with_columns(pl.int_range(pl.len()).over("key", "exact").cast(pl.Int32).alias("rank"))
    )
    return frame.select(*ALIAS_SCHEMA).sort("key", "exact", "rank")


def _handed_over(no_word: pl.Expr) -> list[pl.Expr]:
    """valid_from and valid_to of a group's rows (sorted, best first) after this: a name whose
    default is a company that left the lists (not into another company: Marathon Oil stays
    ConocoPhillips' subsidiary), and that a listed company at least as well known bears too, is
    the gone company's until it left and the listed one's from then on (Unilever: Unilever NV
    until November 2020, Unilever PLC since). Not a dictionary word's (`no_word` false): "Total"
    would make every "Total revenue" TotalEnergies."""
    timeless = pl.col("valid_from").is_null() & pl.col("valid_to").is_null()
    gone = (
        ~pl.col("current")
        & pl.col("fate_date").is_not_null()
        & pl.col("acquirer_id").is_null()
        & pl.col("valid_to").is_null()
    )
    listed_now = (pl.col("company_kind") == "listed") & pl.col("current")
    heir_prominence = pl.when(listed_now).then(pl.col("prominence")).max().over("group")
    handed_over = (
        no_word
        & gone.first().over("group")
        & (heir_prominence >= pl.max_horizontal(pl.col("prominence").first().over("group"), 1))
    )
    left = pl.col("fate_date").first().over("group")
    default = pl.int_range(pl.len()).over("group") == 0
    heir = listed_now & timeless & (pl.col("prominence") == heir_prominence)
    return [
        pl.when(handed_over & heir).then(left).otherwise("valid_from").alias("valid_from"),
        pl.when(handed_over & default).then(left).otherwise("valid_to").alias("valid_to"),
    ]


# ---------------------------------------------------------------- the tables as written


def _finish_listings(listings: pl.DataFrame) -> pl.DataFrame:
    """Every listing with its venue's MIC and currency, sorted."""
    venue = pl.DataFrame(
        [(v.exchange, v.mic, v.currency) for v in venues().values()],
        schema={"exchange": pl.String, "venue_mic": pl.String, "venue_currency": pl.String},
        orient="row",
    )
    if "mic" not in listings.columns:
        listings = listings.with_columns(mic=pl.lit(None, pl.String))
    if "currency" not in listings.columns:
        listings = listings.with_columns(currency=pl.lit(None, pl.String))
    return (
        listings.join(venue, on="exchange", how="left")
        .with_columns(
            pl.coalesce("mic", "venue_mic").alias("mic"),
            pl.coalesce("currency", "venue_currency", pl.lit("USD")).alias("currency"),
        )
        .select(*LISTING_SCHEMA)
        .cast(LISTING_SCHEMA)
        .sort(
            "company_id",
            "valid_from",
            "ticker",
            "valid_to",
            "rank",
            "role",
            "exchange",
            "security_type",
            nulls_last=False,
        )
        .unique(["company_id", "ticker", "valid_from"], keep="first", maintain_order=True)
    )


def _finish_companies(companies: pl.DataFrame, listings: pl.DataFrame) -> pl.DataFrame:
    """Companies in the written schema; `ticker`/`exchange` are the latest primary line."""
    latest = (
        listings.filter(pl.col("security_type").is_in(["common", "ADR", "ETF"]))
        .with_columns(pl.col("role").replace_strict(ROLE_ORDER, return_dtype=pl.Int8).alias("o"))
        .sort(
            "company_id",
            pl.col("valid_to").is_not_null(),
            "valid_to",
            "o",
            "rank",
            "ticker",
            descending=[False, False, True, False, False, False],
            nulls_last=False,
        )
        .unique("company_id", keep="first", maintain_order=True)
        .select("company_id", pl.col("ticker").alias("line"), pl.col("exchange").alias("venue"))
    )
    listed = pl.col("company_id").is_in(listings["company_id"].implode())
    return (
        companies.join(latest, on="company_id", how="left")
        .with_columns(
            pl.coalesce("line", "ticker").alias("ticker"),
            pl.coalesce("venue", "exchange").alias("exchange"),
            pl.when(pl.col("kind") == "listed")
            .then(pl.when(listed).then(pl.lit("listed")).otherwise(pl.lit("private")))
            .otherwise(pl.col("kind"))
            .alias("kind"),
        )
        .select(*COMPANY_SCHEMA)
        .cast(COMPANY_SCHEMA)
        .sort("company_id")
    )


def _spell_listing_columns(rank: int) -> list:
    """The listings columns of US listing spells: a common share or ETF line is primary."""
    return [
        "company_id",
        "ticker",
        "exchange",
        pl.when(pl.col("security_type").is_in(["common", "ETF"]))
        .then(pl.lit("primary"))
        .otherwise(pl.lit("secondary"))
        .alias("role"),
        "security_type",
        "valid_from",
        "valid_to",
        pl.lit(rank, pl.Int32).alias("rank"),
    ]
