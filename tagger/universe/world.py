"""Non-US companies: one company per issuer with its home listing, other home lines, and US lines.

From `data/universe/raw/global/` (see its PROVENANCE.md):
- each issuer's main line (`is_main_line`: 005930.KS, 7203.T, NESN.SW) is its primary listing;
  its other home-venue lines (preferred shares, A/H shares) are secondary listings;
- its US lines (`adr_links.csv`: exchange-listed ADRs and ordinaries, OTC lines) are listings with
  role ADR, secondary or OTC. A US company of today's lists that is such a line of a non-US issuer
  (TM, TSM, SHEL) is merged into the issuer: one company, its US line an ADR;
- names: the curated news names of the largest issuers (`aliases_curated.csv`), and the name of
  every main line, made only of ordinary words only for well-known companies; the first word of
  a well-known issuer's name where no other well-known company shares it (Nissan).

No listing dates are known for these lines: their listings are open at both ends.
"""

from pathlib import Path

import polars as pl

from tagger.errors import TaggerError
from tagger.universe.names import LEGAL_SUFFIX, company_name, name_cores, name_key, title_case
from tagger.universe.sources import read_adr_links, read_equities, read_world_aliases

LARGE_BUCKETS = ("Mega Cap", "Large Cap")
MEGA_CAP, LARGE_CAP = 100e9, 10e9
# US line kinds of adr_links.csv and the role of the line in the listings
US_LINE_ROLE = {
    "ADR": "ADR",
    "US_LISTED": "ADR",
    "US_LISTED_ORD": "secondary",
    "OTC_ADR": "OTC",
    "OTC_ORD": "OTC",
    "OTC": "OTC",
}
BRAND_TAIL = (
    "Motors?|Electric|Electronics|Heavy|Chemicals?|Pharmaceuticals?|Industries|Industrial|Steel|"
    "Semiconductor|Telecom|Airlines|Automotive|Petroleum|Oil|Energy|Mining|Shipping"
)
US_VENUE = {
    "NYSE": "NYSE",
    "Nasdaq": "NASDAQ",
    "NASDAQ": "NASDAQ",
    "NYSE American": "NYSE American",
}


def add_world(
    companies: pl.DataFrame,
    listings: pl.DataFrame,
    aliases: pl.DataFrame,
    raw: Path,
    sector_etfs: pl.DataFrame,
    split: pl.DataFrame,
    dictionary: set[str],
    frequent: set[str],
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Add the non-US issuers to the US companies, merging the US companies that are their lines.

    `split` (curated/world_issuers.csv: symbol, name, country) names lines that are issuers of
    their own although FinanceDatabase groups them with another (Rio Tinto Limited, SoftBank
    Corp.)."""
    equities = _split_issuers(read_equities(raw), split)
    first_id = int(companies["company_id"].max()) + 1
    issuers = _issuers(equities, first_id, sector_etfs)
    lines = _home_lines(equities, issuers)
    links = _us_links(read_adr_links(raw), lines)

    merged = _merged_us_companies(links, companies, listings, issuers)
    companies, listings, aliases = _merge(companies, listings, aliases, issuers, merged, links)
    listings = pl.concat(
        [listings, lines.drop("symbol_rank"), _extra_us_lines(links, listings)], how="diagonal"
    )
    aliases = pl.concat(
        [aliases, _world_aliases(raw, issuers, lines, aliases, dictionary, frequent)],
        how="diagonal",
    )
    return companies, listings, aliases


def _split_issuers(equities: pl.DataFrame, split: pl.DataFrame) -> pl.DataFrame:
    """Each line of `split` made the main line of an issuer group of its own."""
    unknown = split.join(equities, on="symbol", how="anti")
    if unknown.height:
        raise TaggerError(
            f"curated/world_issuers.csv: {unknown['symbol'][0]} is no line of "
            "raw/global/equities.parquet; fix the symbol"
        )
    fixed = split.select(
        "symbol",
        pl.col("name").alias("fixed_name"),
        pl.col("country").alias("fixed_country"),
    )
    own = pl.col("fixed_name").is_not_null()
    return (
        equities.join(fixed, on="symbol", how="left")
        .with_columns(
            pl.when(own).then(pl.col("fixed_name")).otherwise(pl.col("name")).alias("name"),
            pl.when(own)
            .then(pl.col("fixed_country"))
            .otherwise(pl.col("home_country"))
            .alias("home_country"),
            pl.when(own)
            .then(pl.lit("own:") + pl.col("symbol"))
            .otherwise(pl.col("issuer_group"))
            .alias("issuer_group"),
            (pl.col("is_main_line") | own).alias("is_main_line"),
            (pl.col("is_primary") | own).alias("is_primary"),
            pl.when(own).then(None).otherwise(pl.col("isin")).alias("isin"),
            pl.when(own).then(None).otherwise(pl.col("composite_figi")).alias("composite_figi"),
        )
        .drop("fixed_name", "fixed_country")
        .filter(pl.col("is_primary"))
    )


def _prominence() -> pl.Expr:
    cap = pl.col("market_cap_usd_cmc").fill_null(0.0)
    return (
        pl.when(cap >= MEGA_CAP)
        .then(2)
        .when((cap >= LARGE_CAP) | pl.col("market_cap_bucket").is_in(LARGE_BUCKETS))
        .then(1)
        .otherwise(0)
        .cast(pl.Int8)
    )


def _issuers(equities: pl.DataFrame, first_id: int, sector_etfs: pl.DataFrame) -> pl.DataFrame:
    """One company row per main line, with ids from first_id (ordered by symbol)."""
    gics = (
        sector_etfs.filter(pl.col("sector_scheme").str.to_lowercase() == "gics")
        .select("sector", pl.col("etf").alias("sector_etf"))
        .unique("sector", keep="first", maintain_order=True)
    )
    main = equities.filter(pl.col("is_main_line")).sort("symbol")
    identity = pl.coalesce(
        pl.lit("FIGI:") + pl.col("composite_figi"),
        pl.lit("ISIN:") + pl.col("isin"),
        pl.lit("YF:") + pl.col("symbol"),
    )
    return (
        main.with_row_index("offset")
        .join(gics, on="sector", how="left")
        .select(
            (pl.col("offset").cast(pl.Int32) + first_id).alias("company_id"),
            # a FIGI or ISIN FinanceDatabase copied onto another line is no identity
            pl.when(identity.is_duplicated())
            .then(pl.lit("YF:") + pl.col("symbol"))
            .otherwise(identity)
            .alias("entity_id"),
            pl.col("name")
            .map_elements(lambda n: company_name(title_case(n)), return_dtype=pl.String)
            .alias("name"),
            pl.lit("listed").alias("kind"),
            pl.col("symbol").alias("ticker"),
            "exchange",
            pl.col("home_country").alias("country"),
            "sector",
            pl.when(pl.col("sector").is_not_null()).then(pl.lit("GICS")).alias("sector_scheme"),
            "industry",
            "sector_etf",
            pl.col("market_cap_usd_cmc").alias("market_cap"),
            pl.lit(False).alias("sp500"),
            _prominence().alias("prominence"),
            "issuer_group",
            "home_country",
        )
    )


def _home_lines(equities: pl.DataFrame, issuers: pl.DataFrame) -> pl.DataFrame:
    """The home-venue lines of each issuer: its main line (primary), the others secondary."""
    owner = issuers.select(
        "company_id", "issuer_group", "home_country", pl.col("ticker").alias("main")
    )
    return (
        equities.join(owner, on=["issuer_group", "home_country"])
        .select(
            "company_id",
            pl.col("symbol").alias("ticker"),
            "exchange",
            "currency",
            pl.when(pl.col("symbol") == pl.col("main"))
            .then(pl.lit("primary"))
            .otherwise(pl.lit("secondary"))
            .alias("role"),
            pl.lit("common").alias("security_type"),
            pl.lit(None, pl.Date).alias("valid_from"),
            pl.lit(None, pl.Date).alias("valid_to"),
            (pl.col("symbol") != pl.col("main")).cast(pl.Int32).alias("rank"),
            pl.col("symbol").alias("symbol_rank"),
        )
        .unique(["company_id", "ticker"], keep="first", maintain_order=True)
    )


def _us_links(links: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """US lines with the issuer they belong to: company_id, us_symbol, kind, us_venue, match."""
    by_symbol = lines.select(pl.col("ticker").alias("primary_symbol"), "company_id").unique(
        "primary_symbol", keep="first", maintain_order=True
    )
    return (
        links.join(by_symbol, on="primary_symbol")
        .with_columns(
            pl.col("match").str.starts_with("companiesmarketcap").alias("ranked_match"),
            pl.col("kind").replace_strict(US_LINE_ROLE).alias("role"),
        )
        .sort("us_symbol", pl.col("ranked_match").not_(), "company_id")
        .unique("us_symbol", keep="first", maintain_order=True)
    )


def _merged_us_companies(
    links: pl.DataFrame, companies: pl.DataFrame, listings: pl.DataFrame, issuers: pl.DataFrame
) -> pl.DataFrame:
    """US companies of today's lists that are a non-US issuer's US line: us_id -> company_id.

    Only companies the screener places outside the US (or, for OTC lines, places nowhere): a
    name match of Walmart to a Chilean Walmart line is no ADR."""
    current = listings.filter(pl.col("valid_to").is_null(), pl.col("role") == "primary").select(
        pl.col("ticker").alias("us_symbol"), pl.col("company_id").alias("us_id"), "security_type"
    )
    us = companies.filter(pl.col("fate").is_null(), pl.col("kind") == "listed").select(
        pl.col("company_id").alias("us_id"), pl.col("country").alias("us_country")
    )
    foreign = pl.col("us_country").is_not_null() & (pl.col("us_country") != "United States")
    otc_unknown = pl.col("us_country").is_null() & (pl.col("role") == "OTC")
    # an ordinary share line matched by name alone may be the company's only real market
    # (InflaRx trades on Nasdaq; its Xetra line is a side line): only depositary and OTC lines,
    # or a line whose home market companiesmarketcap confirms, make the US company a line
    depositary = (pl.col("kind") == "ADR") | (pl.col("security_type") == "ADR")
    home_confirmed = depositary | (pl.col("role") == "OTC") | pl.col("ranked_match")
    found = (
        links.join(current, on="us_symbol")
        .join(us, on="us_id")
        .filter(foreign | otc_unknown, home_confirmed)
        .sort("us_id", pl.col("ranked_match").not_(), "company_id")
        .unique("us_id", keep="first", maintain_order=True)
        .select("us_id", "company_id", "role")
    )
    return pl.concat([found, _former_us_lines(companies, issuers, found)])


def _former_us_lines(
    companies: pl.DataFrame, issuers: pl.DataFrame, found: pl.DataFrame
) -> pl.DataFrame:
    """US companies that left the lists bearing a well-known non-US issuer's exact name (ABB
    Ltd's NYSE ADR, delisted 2023): that issuer's former US line."""
    key = name_key(pl.col("name")).alias("key")
    known = issuers.filter(pl.col("prominence") >= 1).select("company_id", key)
    known = known.filter(pl.col("key").is_unique())
    gone = (
        companies.filter(pl.col("fate").is_not_null())
        .select(pl.col("company_id").alias("us_id"), key)
        .join(found.select("us_id"), on="us_id", how="anti")
    )
    return gone.join(known, on="key").select("us_id", "company_id", pl.lit("ADR").alias("role"))


def _merge(
    companies: pl.DataFrame,
    listings: pl.DataFrame,
    aliases: pl.DataFrame,
    issuers: pl.DataFrame,
    merged: pl.DataFrame,
    links: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Fold each merged US company into its issuer: its listings (its main line now an ADR,
    secondary or OTC line), aliases, CIK, sector and S&P 500 membership go to the issuer."""
    us = companies.join(merged, left_on="company_id", right_on="us_id").select(
        "company_id", pl.col("company_id_right").alias("issuer_id")
    )
    us_info = (
        companies.join(us, on="company_id")
        .sort("issuer_id", "company_id")
        .group_by("issuer_id", maintain_order=True)
        .agg(
            pl.col("cik").drop_nulls().first().alias("us_cik"),
            pl.col("sector").drop_nulls().first().alias("us_sector"),
            pl.col("sector_scheme").drop_nulls().first().alias("us_scheme"),
            pl.col("industry").drop_nulls().first().alias("us_industry"),
            pl.col("sector_etf").drop_nulls().first().alias("us_sector_etf"),
            pl.col("sp500").any().alias("us_sp500"),
            pl.col("market_cap").max().alias("us_market_cap"),
            pl.col("prominence").max().alias("us_prominence"),
            pl.col("ipo_year").min().alias("us_ipo_year"),
        )
    )
    issuers = (
        issuers.join(us_info, left_on="company_id", right_on="issuer_id", how="left")
        .with_columns(
            pl.when(pl.col("us_cik").is_not_null())
            .then(pl.lit("CIK:") + pl.col("us_cik"))
            .otherwise(pl.col("entity_id"))
            .alias("entity_id"),
            pl.col("us_cik").alias("cik"),
            pl.coalesce("sector", "us_sector").alias("sector"),
            pl.when(pl.col("sector").is_not_null())
            .then(pl.col("sector_scheme"))
            .otherwise(pl.col("us_scheme"))
            .alias("sector_scheme"),
            pl.coalesce("industry", "us_industry").alias("industry"),
            pl.coalesce("sector_etf", "us_sector_etf").alias("sector_etf"),
            pl.col("us_sp500").fill_null(False).alias("sp500"),
            pl.max_horizontal("market_cap", "us_market_cap").alias("market_cap"),
            pl.max_horizontal("prominence", "us_prominence").alias("prominence"),
            pl.col("us_ipo_year").alias("ipo_year"),
        )
        .drop("us_cik", "us_sector", "us_scheme", "us_industry", "us_sector_etf", "us_sp500")
        .drop("us_market_cap", "us_prominence", "us_ipo_year", "issuer_group", "home_country")
    )
    moved = dict(zip(us["company_id"].to_list(), us["issuer_id"].to_list(), strict=True))
    line_role = links.select(
        pl.col("us_symbol").alias("ticker"),
        pl.col("role").alias("us_role"),
        pl.col("kind").str.contains("ADR").alias("depositary"),
    )

    def remap(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            pl.col("company_id").replace(moved).cast(pl.Int32).alias("company_id")
        )

    was_us = pl.col("company_id").is_in(list(moved))
    equity = pl.col("security_type").is_in(["common", "ADR"])
    listings = (
        listings.join(line_role, on="ticker", how="left")
        .with_columns(
            pl.when(was_us & equity & (pl.col("exchange") == "OTC"))
            .then(pl.lit("OTC"))
            .when(was_us & equity)
            .then(pl.coalesce("us_role", pl.lit("ADR")))
            .when(was_us)
            .then(pl.lit("secondary"))
            .otherwise(pl.col("role"))
            .alias("role"),
            pl.when(was_us & equity & pl.col("depositary").fill_null(False))
            .then(pl.lit("ADR"))
            .otherwise(pl.col("security_type"))
            .alias("security_type"),
        )
        .drop("us_role", "depositary")
        .pipe(remap)
    )
    companies = pl.concat(
        [companies.filter(~pl.col("company_id").is_in(list(moved))), issuers], how="diagonal"
    )
    return companies, listings, remap(aliases)


def _extra_us_lines(links: pl.DataFrame, listings: pl.DataFrame) -> pl.DataFrame:
    """US lines of non-US issuers that today's US lists do not hold (mostly OTC symbols)."""
    return links.join(
        listings.select(pl.col("ticker").alias("us_symbol")), on="us_symbol", how="anti"
    ).select(
        "company_id",
        pl.col("us_symbol").alias("ticker"),
        pl.when(pl.col("role") == "OTC")
        .then(pl.lit("OTC"))
        .otherwise(pl.col("us_venue").replace_strict(US_VENUE, default="OTC"))
        .alias("exchange"),
        "role",
        pl.when(pl.col("kind").str.contains("ADR"))
        .then(pl.lit("ADR"))
        .otherwise(pl.lit("common"))
        .alias("security_type"),
        pl.lit(None, pl.Date).alias("valid_from"),
        pl.lit(None, pl.Date).alias("valid_to"),
        pl.lit(2, pl.Int32).alias("rank"),
    )


def _world_aliases(
    raw: Path,
    issuers: pl.DataFrame,
    lines: pl.DataFrame,
    aliases: pl.DataFrame,
    dictionary: set[str],
    frequent: set[str],
) -> pl.DataFrame:
    """Curated news names, main-line names and distinctive first words of the issuers."""
    by_symbol = lines.select(pl.col("ticker").alias("primary_symbol"), "company_id").unique(
        "primary_symbol", keep="first", maintain_order=True
    )
    curated = (
        read_world_aliases(raw)
        .join(by_symbol, on="primary_symbol")
        .select(
            "alias",
            "company_id",
            pl.lit("name").alias("kind"),
            pl.lit("world_curated").alias("source"),
        )
    )
    known = issuers.select("company_id", "prominence")
    names = (
        issuers.select("company_id", "name")
        .with_columns(
            pl.col("name").map_elements(name_cores, return_dtype=pl.List(pl.String)).alias("alias")
        )
        .explode("alias")
        .drop_nulls("alias")
        .join(known, on="company_id")
    )
    ordinary = pl.col("alias").map_elements(
        lambda a: all(w.lower() in dictionary | frequent for w in a.replace("-", " ").split()),
        return_dtype=pl.Boolean,
    )
    single = ~pl.col("alias").str.contains(" ")
    names = names.filter(
        pl.col("alias").str.len_chars() >= 4,
        ~ordinary | ((pl.col("prominence") >= 1) & ~single),
    )
    named = names.select(
        "alias", "company_id", pl.lit("world_name").alias("kind"), pl.lit("world").alias("source")
    )
    # an issuer whose short name another company bears (Rio Tinto Limited next to Rio Tinto plc)
    # is still found by its full legal name
    others = pl.concat(
        [aliases.select("alias"), curated.select("alias"), named.select("alias")]
    ).select(pl.col("alias").str.to_lowercase())
    shared = (
        named.filter(
            pl.col("alias")
            .str.to_lowercase()
            .is_in(others["alias"].filter(others["alias"].is_duplicated()).implode())
        )
        .select("company_id")
        .unique()
    )
    full = (
        issuers.join(shared, on="company_id")
        .select(
            pl.col("name")
            .map_elements(legal_names, return_dtype=pl.List(pl.String))
            .alias("alias"),
            "company_id",
        )
        .explode("alias")
        .drop_nulls("alias")
        .select(
            "alias",
            "company_id",
            pl.lit("world_name").alias("kind"),
            pl.lit("world").alias("source"),
        )
    )
    # the first word of a well-known issuer's "<Brand> <Motor|Electric|...>" name that no other
    # well-known company (US or non-US) shares (Nissan Motor -> Nissan)
    taken = aliases.filter(pl.col("kind").is_in(["name", "first_word"]))["alias"]
    first = (
        names.with_columns(
            pl.col("alias")
            .str.extract(rf"^([A-Z][A-Za-z]{{3,}})\s+(?:{BRAND_TAIL})\b")
            .alias("word")
        )
        .drop_nulls("word")
        .filter(
            ~pl.col("word").str.to_lowercase().is_in(list(dictionary)),
            ~pl.col("word").is_in(taken.implode()),
        )
        .unique(["word", "company_id"], maintain_order=True)
        .with_columns((pl.col("prominence") >= 1).sum().over("word").alias("well_known"))
        .filter(pl.col("prominence") >= 1, pl.col("well_known") == 1)
        .select(
            pl.col("word").alias("alias"),
            "company_id",
            pl.lit("first_word").alias("kind"),
            pl.lit("world").alias("source"),
        )
    )
    return pl.concat([curated, named, full, first])


_SHORT_SUFFIX = {"Limited": ["Ltd", "Ltd."], "Corporation": ["Corp", "Corp."], "Company": ["Co."]}


def legal_names(name: str) -> list[str]:
    """A name with its legal suffix, as written and abbreviated: "Rio Tinto Limited" ->
    ["Rio Tinto Limited", "Rio Tinto Ltd", "Rio Tinto Ltd."]; none without a suffix."""
    import re

    match = re.search(rf"^(.*\S),?\s+({LEGAL_SUFFIX})$", name)
    if not match:
        return []
    core, suffix = match.groups()
    forms = [suffix, suffix.rstrip("."), *_SHORT_SUFFIX.get(suffix, [])]
    return [f"{core} {form}" for form in dict.fromkeys(forms)]
