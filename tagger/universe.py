"""The company universe: listed securities, private companies, aliases and non-companies.

`build()` turns the raw reference lists (SEC, Nasdaq Trader, the Nasdaq screener, S&P 500,
unicorn and private-company lists, the Wikidata alias table) plus the hand-curated files in
`data/universe/curated/` into three tables written to `data/universe/`:

- companies.parquet: one row per company (listed, private, or not a company), with its primary
  ticker, exchange, CIK, sector, IPO date, parent and the reason for its status;
- aliases.parquet: the names a text may use for each company, folded to ASCII (see tagger.text),
  each flagged `ambiguous` when it is also an ordinary word and needs corroboration, and
  `exact` when it must match with its exact case (ambiguous, short or all-capitals names); the
  others match ignoring case, under their lower-case key;
- tickers.parquet: every listed ticker (share classes, ADRs, ETFs, preferreds...) and its company.

`update()` downloads the day's SEC and Nasdaq Trader lists into the raw folder and rebuilds.
`load()` reads the tables back for tagging. This module reads files and builds tables; it knows
nothing about articles.
"""

import gzip
import io
import json
import os
import re
import urllib.request
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import polars as pl

from tagger.errors import NetworkError, TaggerError
from tagger.paths import DATA
from tagger.text import fold

UNIVERSE_DIR = DATA / "universe"
RAW_DIR = UNIVERSE_DIR / "raw"
CURATED_DIR = UNIVERSE_DIR / "curated"

# Words a company name may end with that say what kind of legal entity it is.
LEGAL_SUFFIX = (
    r"Inc\.?|Incorporated|Corp\.?|Corporation|Co\.?|Company|Companies|Ltd\.?|Limited|PLC|plc|"
    r"P\.L\.C\.|LLC|L\.L\.C\.|LP|L\.P\.|N\.V\.|NV|S\.A\.|SA|S\.A\.B\. de C\.V\.|AG|SE|ASA|AB|"
    r"Oyj|A/S|S\.p\.A\.|SpA|GmbH|Tbk|Bhd|Pte|Pty|KGaA|S\.E\."
)
_LEGAL_TAIL = re.compile(rf"(?i)(?:,?\s+(?:{LEGAL_SUFFIX}|& Co\.?|and Co\.?))+\s*$")
_GROUP_TAIL = re.compile(r"(?i)(?:,?\s+(?:Holdings?|Group|Company|and Company))+\s*$")
_SECURITY_TAIL = re.compile(
    r"(?i)\s*(?:[-–,]\s*)?(?:\(?(?:Class|Series)\s+[A-Z0-9]+\)?\b.*|(?:New\s+)?Common\s+(?:Stock|Shares).*|"
    r"Capital Stock.*|Ord(?:inary|\.)? Shares?.*|American Deposit[ao]ry.*|Sponsored ADR.*|"
    r"/?ADSs?\b.*|/?ADRs?\b.*|Closed End Fund.*|Business Development Company.*|"
    r"Real Estate Investment Trust$|Common Shares?.*|(?<= - )(?:Common|Voting|American)$|"
    r"(?:New York )?Registry Shares.*|Registered Shares.*|"
    r"Depositary (?:Shares|Receipts?).*|Shares of Beneficial Interest.*|Subordinate Voting.*|"
    r"Limited Partnership Units.*|Common Units.*|Units\b.*|Warrants?\b.*|Rights?\b.*)$"
)
_DROP_CORE = re.compile(r"^(?:The|A|An|New|First|Global|American|United|National|General)$")

SECURITY_TYPES = ("common", "ADR", "ETF", "preferred", "unit", "warrant", "right", "note")
_TYPE_PATTERNS = [
    ("common", r"(?i)partnership units|common units"),
    ("ADR", r"(?i)american depositary|\bADSs?\b|\bADRs?\b"),
    ("warrant", r"(?i)\bwarrants?\b"),
    ("right", r"(?i)\brights?\b"),
    ("unit", r"(?i)\bunits?\b"),
    ("preferred", r"(?i)preferred|\bpfd\b|%|perpetual"),
    ("note", r"(?i)\bnotes?\b|debentures?|\bbonds?\b"),
]
_TRADER_EXCHANGES = {
    "Q": "NASDAQ",
    "G": "NASDAQ",
    "S": "NASDAQ",
    "N": "NYSE",
    "A": "NYSE American",
    "P": "NYSE Arca",
    "Z": "Cboe BZX",
    "V": "IEX",
}


# Prominence: 2 = a household name (market cap or valuation >= $100B/$50B), 1 = well known
# (S&P 500, >= $10B, or a curated private company), 0 = other. Ambiguous names of prominent
# companies need less corroboration (see tagger.resolve).
MEGA_CAP, LARGE_CAP = 100e9, 10e9
MEGA_PRIVATE_BN, LARGE_PRIVATE_BN = 50.0, 10.0


@dataclass(frozen=True)
class Universe:
    """The three universe tables, as loaded for tagging."""

    companies: pl.DataFrame
    aliases: pl.DataFrame
    tickers: pl.DataFrame


@cache
def load(directory: Path = UNIVERSE_DIR) -> Universe:
    """Read the built universe from `directory` (default: the bundled data/universe)."""
    try:
        return Universe(
            companies=pl.read_parquet(directory / "companies.parquet"),
            aliases=pl.read_parquet(directory / "aliases.parquet"),
            tickers=pl.read_parquet(directory / "tickers.parquet"),
        )
    except FileNotFoundError as e:
        raise TaggerError(
            f"{directory}: universe not built ({Path(e.filename).name} missing); "
            "run `tagger universe build`"
        ) from None


def normalize_ticker(expr: pl.Expr) -> pl.Expr:
    """Yahoo/SEC spelling: upper case, class separators `.` and `/` become `-` (BRK.B -> BRK-B)."""
    return expr.str.strip_chars().str.to_uppercase().str.replace_all(r"[./]", "-")


# ---------------------------------------------------------------- reading the raw files


def _newest(raw: Path, pattern: str) -> Path:
    found = sorted(raw.glob(pattern), key=lambda p: (_file_date(p), p.name))
    if not found:
        raise TaggerError(f"{raw}: no file matching {pattern}; see data/universe/raw/PROVENANCE.md")
    return found[-1]


def _file_date(path: Path) -> str:
    m = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
    return m.group(1) if m else "0000-00-00"


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _read_csv(path: Path, **kwargs) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(_read_bytes(path)), infer_schema=False, **kwargs)


def read_sec(raw: Path) -> pl.DataFrame:
    """SEC company_tickers_exchange: cik, sec_name, ticker, sec_exchange, sec_rank (file order)."""
    doc = json.loads(_read_bytes(_newest(raw, "sec/company_tickers_exchange*.json*")))
    frame = pl.DataFrame(
        [[str(v) if v is not None else None for v in row] for row in doc["data"]],
        schema=doc["fields"],
        orient="row",
    )
    return frame.select(
        pl.col("cik").str.strip_chars().str.strip_chars_start("0"),
        pl.col("name").alias("sec_name"),
        normalize_ticker(pl.col("ticker")).alias("ticker"),
        pl.col("exchange").alias("sec_exchange"),
        pl.int_range(pl.len()).alias("sec_rank"),
    ).unique("ticker", keep="first", maintain_order=True)


def read_trader(raw: Path) -> pl.DataFrame:
    """Nasdaq Trader symbol directories: ticker, security_name, exchange, etf (newest copies)."""
    frames = []
    for kind in ("nasdaq", "other"):
        path = _newest(raw, f"nasdaqtrader/{kind}*listed*")
        if ".txt" in path.name:  # raw pipe-delimited file as published, with a footer line
            text = _read_bytes(path).decode("utf-8", "replace")
            text = "\n".join(
                line for line in text.splitlines() if not line.startswith("File Creation")
            )
            frame = pl.read_csv(io.StringIO(text), separator="|", infer_schema=False)
        else:
            frame = _read_csv(path)
        symbol = "Symbol" if kind == "nasdaq" else "ACT Symbol"
        exchange = pl.lit("Q") if kind == "nasdaq" else pl.col("Exchange")
        frames.append(
            frame.filter(pl.col(symbol).is_not_null(), pl.col("Test Issue") != "Y").select(
                pl.col(symbol).str.replace(r"\$", "-P").pipe(normalize_ticker).alias("ticker"),
                pl.col("Security Name").str.strip_chars().alias("security_name"),
                exchange.replace_strict(_TRADER_EXCHANGES, default=None).alias("exchange"),
                (pl.col("ETF") == "Y").alias("etf"),
            )
        )
    return pl.concat(frames).unique("ticker", keep="first", maintain_order=True)


def read_screener(raw: Path) -> pl.DataFrame:
    """Nasdaq screener: ticker, screener_name, sector, industry, ipo_year, country, market_cap."""
    frames = [
        pl.DataFrame(json.loads(_read_bytes(p)), infer_schema_length=None)
        for p in sorted(raw.glob("nasdaq_screener/*_full_tickers.json*"))
    ]
    frame = pl.concat(frames, how="diagonal_relaxed")
    return frame.select(
        normalize_ticker(pl.col("symbol")).alias("ticker"),
        pl.col("name").str.strip_chars().alias("screener_name"),
        pl.col("sector").replace("", None),
        pl.col("industry").replace("", None),
        pl.col("ipoyear").replace("", None).cast(pl.Int32, strict=False).alias("ipo_year"),
        pl.col("country").replace("", None),
        pl.col("marketCap").cast(pl.Float64, strict=False).alias("market_cap"),
    ).unique("ticker", keep="first", maintain_order=True)


def read_sp500(raw: Path) -> pl.DataFrame:
    """S&P 500 constituents: ticker, sp_name, gics_sector, gics_industry."""
    frame = _read_csv(_newest(raw, "indices/sp500_constituents*.csv*"))
    return frame.select(
        normalize_ticker(pl.col("Symbol")).alias("ticker"),
        pl.col("Security").str.replace(r"\s*\(Class [A-Z]\)$", "").alias("sp_name"),
        pl.col("GICS Sector").alias("gics_sector"),
        pl.col("GICS Sub-Industry").alias("gics_industry"),
    )


def _strip_footnotes(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\[[^\]]*\]", "").str.strip_chars()


def read_private_lists(raw: Path) -> pl.DataFrame:
    """Unicorn lists and the manual private list: name, aliases, parent_ticker, basis, list_year,
    exit_date (IPO date for former unicorns), slug (Crunchbase URL name)."""
    rows = []
    manual = _read_csv(_newest(raw, "private/famous_private_manual*.csv*"))
    rows.append(
        manual.select(
            pl.col("company").str.strip_chars().alias("name"),
            pl.col("aliases").fill_null("").str.split("|").alias("aliases"),
            pl.col("parent_ticker").replace("", None),
            pl.col("ownership_type").alias("basis"),
            pl.lit(2025).alias("list_year"),
            pl.lit(True).alias("curated"),
        )
    )
    wiki = _read_csv(_newest(raw, "private/wikipedia_unicorns_*.csv*"))
    rows.append(
        wiki.select(
            _strip_footnotes(pl.col("Company")).alias("name"),
            pl.lit("unicorn (Wikipedia list, 2025-06)").alias("basis"),
            pl.lit(2025).alias("list_year"),
            _billions(pl.col("Valuation (US$ billions)")).alias("valuation_bn"),
        )
    )
    cbi = _read_csv(_newest(raw, "private/cbinsights_unicorns_*.csv*"))
    rows.append(
        cbi.select(
            pl.col("Company").str.strip_chars().alias("name"),
            pl.lit("unicorn (CB Insights list, 2022-09)").alias("basis"),
            pl.lit(2022).alias("list_year"),
            _billions(pl.col("Valuation ($B)")).alias("valuation_bn"),
        )
    )
    for path in sorted(raw.glob("private/crunchbase_*unicorns_*.csv*")):
        cb = _read_csv(path)
        rows.append(
            cb.select(
                pl.col("company_name").str.strip_chars().alias("name"),
                pl.col("company_link").str.extract(r"organization/([^/?#]+)").alias("slug"),
                pl.lit("unicorn (Crunchbase list, 2024)").alias("basis"),
                pl.lit(2024).alias("list_year"),
                _billions(pl.col("post_money_value")).alias("valuation_bn"),
            )
        )
    return pl.concat(rows, how="diagonal").filter(pl.col("name").str.len_chars() > 1)


def _billions(expr: pl.Expr) -> pl.Expr:
    """'$220B', '$1.5T', '350', '$140' (billions) -> billions of dollars."""
    text = expr.str.strip_chars().str.replace_all(r"[$,\s]", "")
    number = text.str.extract(r"^([\d.]+)").cast(pl.Float64, strict=False)
    return (
        pl.when(text.str.ends_with("T"))
        .then(number * 1000)
        .when(text.str.ends_with("M"))
        .then(number / 1000)
        .otherwise(number)
    )


def read_former_unicorns(raw: Path) -> pl.DataFrame:
    """Former unicorns that listed: name, exit_date (first of the month), exit_reason."""
    frame = _read_csv(_newest(raw, "private/wikipedia_former_unicorns_*.csv*"))
    return frame.select(
        _strip_footnotes(pl.col("Company")).alias("name"),
        _strip_footnotes(pl.col("Exit date")).str.to_date("%B %Y", strict=False).alias("exit_date"),
        _strip_footnotes(pl.col("Exit reason")).alias("exit_reason"),
    ).filter(
        pl.col("exit_reason").str.contains(r"(?i)IPO|SPAC|listing"),
        pl.col("exit_date").is_not_null(),
    )


def read_wikidata(raw: Path) -> pl.DataFrame:
    """Wikidata aliases, lower case: ticker, alias (one row each)."""
    frame = _read_csv(_newest(raw, "aliases/wikidata_ticker_alias_table*.csv*"))
    return (
        frame.select(
            normalize_ticker(pl.col("symbol")).alias("ticker"), pl.col("aliases").str.split("|")
        )
        .explode("aliases")
        .rename({"aliases": "alias"})
        .filter(pl.col("alias").str.len_chars() >= 4)
    )


def read_curated(curated: Path) -> dict[str, pl.DataFrame]:
    """The hand-curated files (see data/universe/curated/README.md)."""
    names = ["brands", "private", "not_companies", "ambiguous", "sector_etfs"]
    return {n: _read_csv(curated / f"{n}.csv") for n in names}


def read_words(path: Path) -> set[str]:
    """A word list, one lower-case word a line (see data/universe/*_words.txt)."""
    return set(path.read_text(encoding="utf-8").split())


# ---------------------------------------------------------------- names -> aliases


def security_type(name: pl.Expr, etf: pl.Expr) -> pl.Expr:
    """Classify a security from its directory name and ETF flag."""
    expr = pl.when(etf).then(pl.lit("ETF"))
    for kind, pattern in _TYPE_PATTERNS:
        expr = expr.when(name.str.contains(pattern)).then(pl.lit(kind))
    return expr.otherwise(pl.lit("common"))


def company_name(name: str) -> str:
    """A security's directory name without its share-class description; a trailing "(The)"
    moves to the front ("Coca-Cola Company (The)" -> "The Coca-Cola Company")."""
    name = _SECURITY_TAIL.sub("", name).strip(" -–,")
    if name.endswith("(The)"):
        name = "The " + name[: -len("(The)")].strip(" ,")
    return name


def name_cores(name: str) -> list[str]:
    """The forms of a company name that news writes: legal suffixes and 'Holdings'/'Group' off.

    >>> name_cores("The Goldman Sachs Group, Inc.")
    ['Goldman Sachs Group', 'Goldman Sachs']
    """
    base = company_name(name)
    base = re.sub(r"^(?i:the)\s+", "", base)
    base = _LEGAL_TAIL.sub("", base).strip(" ,")
    cores = [base]
    short = _GROUP_TAIL.sub("", base).strip(" ,")
    short = _LEGAL_TAIL.sub("", short).strip(" ,")
    if short != base:
        cores.append(short)
    if base.endswith(".com"):
        cores.append(base[: -len(".com")])
    if re.search(r"\bHoldings?$", base):  # news writes both ASML Holding and ASML Holdings
        cores.append(base + "s" if base.endswith("Holding") else base[:-1])
    return [c for c in cores if _usable_core(c)]


def _usable_core(core: str) -> bool:
    return (
        len(core) >= 2
        and re.search(r"[A-Za-z]", core) is not None
        and not _DROP_CORE.match(core)
        and not re.fullmatch(r"[A-Z]", core)
    )


def title_case(name: str) -> str:
    """Title-case an upper-case EDGAR name, keeping short vowel-less tokens as acronyms."""
    if name != name.upper():
        return name
    words = []
    for word in name.split():
        letters = re.sub(r"[^A-Z]", "", word)
        keep = len(letters) <= 3 and not re.search(r"[AEIOUY]", letters)
        words.append(word if keep or "&" in word else word.capitalize())
    return " ".join(words)


# ---------------------------------------------------------------- the build


def build(
    raw: Path = RAW_DIR,
    curated: Path = CURATED_DIR,
    out: Path = UNIVERSE_DIR,
    words: Path = UNIVERSE_DIR,
) -> dict[str, int]:
    """Build companies/aliases/tickers parquet files in `out` from the raw and curated files and
    the word lists in `words` (dictionary_words.txt, common_words.txt).

    Returns row counts. The build is deterministic: the same inputs give the same files.
    """
    cur = read_curated(curated)
    dictionary = read_words(words / "dictionary_words.txt")
    frequent = read_words(words / "common_words.txt")
    securities = _securities(raw)
    companies = _listed_companies(securities, raw, cur["sector_etfs"])
    aliases = _listed_aliases(securities, companies, frequent)
    companies, aliases = _add_not_companies(companies, aliases, cur["not_companies"])
    companies, aliases = _add_private(companies, aliases, raw, cur["private"])
    companies, aliases = _add_brands(companies, aliases, cur["brands"])
    aliases = pl.concat([aliases, _wikidata_aliases(raw, companies, aliases)], how="diagonal")
    aliases = _finish_aliases(aliases, companies, dictionary, frequent, cur["ambiguous"])
    tickers = securities.join(
        companies.select("company_id", "cik_key"), on="cik_key", how="inner"
    ).select("ticker", "company_id", "security_type", "exchange", "etf")
    companies = companies.drop("cik_key").sort("company_id")
    if companies["company_id"].is_duplicated().any() or tickers["ticker"].is_duplicated().any():
        raise TaggerError("universe build produced duplicate companies or tickers; check curated/")

    aliases = aliases.sort("key", "exact", "company_id")
    tickers = tickers.sort("ticker")
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in (("companies", companies), ("aliases", aliases), ("tickers", tickers)):
        frame.write_parquet(out / f"{name}.parquet", compression="zstd", compression_level=19)
    counts = {
        "companies": companies.height,
        "listed": companies.filter(pl.col("kind") == "listed").height,
        "private": companies.filter(pl.col("kind") == "private").height,
        "not_companies": companies.filter(pl.col("kind") == "not_company").height,
        "aliases": aliases.height,
        "ambiguous_aliases": int(aliases["ambiguous"].sum()),
        "tickers": tickers.height,
    }
    (out / "build_info.json").write_text(
        json.dumps({"counts": counts, "sources": _sources(raw)}, indent=2) + "\n"
    )
    load.cache_clear()
    return counts


def _sources(raw: Path) -> dict[str, str]:
    return {
        str(p.relative_to(raw)): _file_date(p)
        for p in sorted(raw.rglob("*"))
        if p.is_file() and p.name != "PROVENANCE.md"
    }


def _securities(raw: Path) -> pl.DataFrame:
    """Every listed security: ticker, cik_key (company key), names, exchange, type, ranks."""
    sec = read_sec(raw)
    trader = read_trader(raw)
    screener = read_screener(raw)
    frame = (
        sec.join(trader, on="ticker", how="full", coalesce=True)
        .join(screener, on="ticker", how="left")
        .with_columns(
            pl.coalesce("exchange", pl.col("sec_exchange").replace({"Nasdaq": "NASDAQ"})).alias(
                "exchange"
            ),
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
    scheme = pl.col("sector_scheme").str.to_lowercase()
    sp_sector = (
        sector_etfs.filter(scheme == "gics")
        .select(pl.col("sector").alias("gics_sector"), pl.col("etf").alias("sector_etf_gics"))
        .unique("gics_sector", keep="first", maintain_order=True)
    )
    nq_sector = (
        sector_etfs.filter(scheme == "nasdaq")
        .select("sector", pl.col("etf").alias("sector_etf_nasdaq"))
        .unique("sector", keep="first", maintain_order=True)
    )
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
        .join(sp_sector, on="gics_sector", how="left")
        .join(nq_sector, on="sector", how="left")
        .select(
            "cik_key",
            "name",
            pl.lit("listed").alias("kind"),
            "ticker",
            "exchange",
            pl.col("cik"),
            "security_type",
            pl.coalesce("gics_sector", "sector").alias("sector"),
            pl.when(pl.col("gics_sector").is_not_null())
            .then(pl.lit("GICS"))
            .when(pl.col("sector").is_not_null())
            .then(pl.lit("Nasdaq"))
            .alias("sector_scheme"),
            pl.coalesce("gics_industry", "industry").alias("industry"),
            pl.when(pl.col("gics_sector").is_not_null())
            .then(pl.col("sector_etf_gics"))
            .otherwise(pl.col("sector_etf_nasdaq"))
            .alias("sector_etf"),
            "ipo_year",
            # set only for companies a private-company list knew (see _add_private)
            pl.lit(None, pl.Date).alias("listed_from"),
            pl.lit(None, pl.String).alias("listed_from_precision"),
            "country",
            "market_cap",
            pl.col("sp_name").is_not_null().alias("sp500"),
            pl.when(pl.col("market_cap") >= MEGA_CAP)
            .then(2)
            .when(pl.col("sp_name").is_not_null() | (pl.col("market_cap") >= LARGE_CAP))
            .then(1)
            .otherwise(0)
            .cast(pl.Int8)
            .alias("prominence"),
            pl.lit(None, pl.String).alias("parent_ticker"),
            pl.lit(None, pl.String).alias("reason"),
        )
        .with_row_index("company_id")
        .with_columns(pl.col("company_id").cast(pl.Int32))
    )


def _listed_aliases(
    securities: pl.DataFrame, companies: pl.DataFrame, frequent: set[str]
) -> pl.DataFrame:
    """Name cores of each company's names (its display name, and its primary security's names
    in the Nasdaq directory, the screener and, when no other source has it, EDGAR); the first
    word of a multi-word name when it is distinctive (Agilent Technologies -> Agilent); and the
    fund name of an ETF (Invesco QQQ Trust, Series 1 -> Invesco QQQ)."""
    primary = companies.join(
        securities.select("ticker", "security_name", "screener_name", "sec_name"), on="ticker"
    )
    equities = primary.filter(pl.col("security_type").is_in(["common", "ADR"]))
    frame = (
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
        )
        .explode("raw_name")
        .drop_nulls("raw_name")
        .unique(maintain_order=True)
        .with_columns(
            pl.col("raw_name")
            .map_elements(name_cores, return_dtype=pl.List(pl.String))
            .alias("alias")
        )
        .explode("alias")
        .drop_nulls("alias")
        .select(
            "alias", "company_id", pl.lit("name").alias("kind"), pl.lit("listing").alias("source")
        )
    )
    first = (
        frame.with_columns(pl.col("alias").str.extract(r"^([A-Z][A-Za-z]{3,})\s+\S").alias("word"))
        .drop_nulls("word")
        .filter(~pl.col("word").str.to_lowercase().is_in(list(frequent)))
        .unique(["word", "company_id"], maintain_order=True)
    )
    # a first word shared by several companies (Texas, China, Charles) is not distinctive
    first = first.filter(
        pl.col("word").is_in(
            first.group_by("word").len().filter(pl.col("len") == 1)["word"].implode()
        )
    )
    first = first.select(
        pl.col("word").alias("alias"),
        "company_id",
        pl.lit("first_word").alias("kind"),
        pl.lit("listing").alias("source"),
    )
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
    return pl.concat([frame, first, funds])


def _company_rows(frame: pl.DataFrame, first_id: int) -> pl.DataFrame:
    """New company rows (private or not_company) with ids from first_id, in the companies schema."""
    return frame.with_columns(
        (pl.int_range(pl.len()) + first_id).cast(pl.Int32).alias("company_id"),
        pl.lit(None, pl.String).alias("cik_key"),
    )


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
        companies.height,
    )
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


def _add_brands(
    companies: pl.DataFrame, aliases: pl.DataFrame, brands: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Curated short names, brands, former names and subsidiaries (data/universe/curated/
    brands.csv: alias, owning company, the owner's ticker when listed, kind, reason).

    A short name, brand or former name is an alias of its owner. A subsidiary is a company of
    its own, private, with its owner as parent; variants of one subsidiary's name (Whole Foods,
    Whole Foods Market) are one company."""
    owners = _owner_index(companies, aliases)
    brands = (
        brands.with_columns(
            normalize_ticker(pl.col("ticker").fill_null("")).replace("", None).alias("ticker"),
            _key(pl.col("company")).alias("owner_key"),
        )
        .join(_ticker_index(companies).rename({"company_id": "by_ticker"}), on="ticker", how="left")
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
        pl.when(pl.col("kind").is_in(["brand", "former_name"]))
        .then(pl.col("reason").str.replace(r";.*$", ""))
        .alias("note"),
    )
    owner_info = companies.select(
        pl.col("company_id").alias("owner_id"),
        pl.col("ticker").alias("owner_ticker"),
        pl.col("kind").alias("owner_kind"),
        pl.col("name").alias("owner_name"),
    )
    subs = (
        brands.filter(pl.col("kind") == "subsidiary")
        .join(owner_info, on="owner_id")
        .with_columns(_subsidiary_group().alias("group"))
    )
    groups = subs.group_by("owner_id", "group", maintain_order=True).agg(
        pl.col("alias"),
        pl.col("alias").sort_by(pl.col("alias").str.len_chars()).last().alias("name"),
        pl.col("owner_ticker").first(),
        pl.col("owner_kind").first(),
        pl.col("owner_name").first(),
    )
    listed_owner = pl.col("owner_kind") == "listed"
    rows = _company_rows(
        groups.select(
            "name",
            pl.lit("private").alias("kind"),
            pl.when(listed_owner).then(pl.col("owner_ticker")).alias("parent_ticker"),
            pl.when(listed_owner)
            .then(pl.format("subsidiary of {} ({})", pl.col("owner_name"), pl.col("owner_ticker")))
            .otherwise(pl.format("subsidiary of {} (private)", pl.col("owner_name")))
            .alias("reason"),
            pl.lit(1, pl.Int8).alias("prominence"),
        ),
        companies.height,
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
        pl.concat([aliases, same, sub_aliases], how="diagonal"),
    )


def _owner_index(companies: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """owner_key -> by_name: a company found by its name (listed companies first)."""
    named = pl.concat(
        [
            aliases.select("company_id", "alias"),
            companies.select("company_id", pl.col("name").alias("alias")),
        ]
    ).join(companies.select("company_id", "kind"), on="company_id")
    return (
        named.filter(pl.col("kind").is_in(["listed", "private"]))
        .with_columns(_key(pl.col("alias")).alias("owner_key"))
        .sort(pl.col("kind") != "listed", "company_id")
        .unique("owner_key", keep="first", maintain_order=True)
        .select("owner_key", pl.col("company_id").alias("by_name"))
    )


def _subsidiary_group() -> pl.Expr:
    """Within one owner, aliases whose words start or end another's (Whole Foods / Whole Foods
    Market, DeepMind / Google DeepMind) share the group named by the shortest of them."""
    alias = pl.col("alias")
    shorter = alias.implode().over("owner_id")
    return pl.struct(alias, shorter.alias("others")).map_elements(
        lambda r: min(
            (o for o in r["others"] if o == r["alias"] or _word_affix(o, r["alias"])), key=len
        ),
        return_dtype=pl.String,
    )


def _word_affix(short: str, long: str) -> bool:
    return len(short) < len(long) and (long.startswith(short + " ") or long.endswith(" " + short))


def _ticker_index(companies: pl.DataFrame) -> pl.DataFrame:
    return companies.filter(pl.col("kind") == "listed").select("ticker", "company_id")


def _add_private(
    companies: pl.DataFrame, aliases: pl.DataFrame, raw: Path, curated_private: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Private companies from the lists, unless they are (now) listed: then their name becomes an
    alias of the listed company and the IPO date, where the lists give it, its listing date."""
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
    ).with_columns(_key(pl.col("name")).alias("key"))
    former = read_former_unicorns(raw).with_columns(_key(pl.col("name")).alias("key"))

    listed_keys = (
        aliases.filter(pl.col("kind") == "name")
        .join(
            companies.select("company_id", pl.col("kind").alias("company_kind"), "ipo_year"),
            on="company_id",
        )
        .filter(pl.col("company_kind") == "listed")
        .select(_key(pl.col("alias")).alias("key"), "company_id", "ipo_year")
        .filter(pl.col("key") != "")
        .unique("key", keep="first", maintain_order=True)
    )
    slug_keys = listed_keys.rename({"key": "slug_key"})
    matched = (
        lists.with_columns(pl.col("slug").str.replace_all("-", " ").pipe(_key).alias("slug_key"))
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
    # A company a private list knew was private until its IPO: the former-unicorn list gives
    # the IPO month, else the screener's IPO year. (The IPO year alone is not used for other
    # companies: for spin-offs and re-listings such as Alcoa 2016 or Shell 2022 it is not the
    # year the name first traded.)
    ipo = (
        now_listed.select("company_id", "key")
        .join(former, on="key", how="left")
        .group_by("company_id")
        .agg(pl.col("exit_date").min())
    )
    companies = (
        companies.join(ipo, on="company_id", how="left")
        .with_columns(
            pl.when(pl.col("exit_date").is_not_null())
            .then(pl.col("exit_date"))
            .when(
                pl.col("company_id").is_in(ipo["company_id"].implode())
                & pl.col("ipo_year").is_not_null()
            )
            .then(pl.date(pl.col("ipo_year"), 1, 1))
            .alias("listed_from"),
            pl.when(pl.col("exit_date").is_not_null())
            .then(pl.lit("month"))
            .when(
                pl.col("company_id").is_in(ipo["company_id"].implode())
                & pl.col("ipo_year").is_not_null()
            )
            .then(pl.lit("year"))
            .alias("listed_from_precision"),
        )
        .drop("exit_date")
    )
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
    parent_names = companies.filter(pl.col("kind") == "listed").select(
        pl.col("ticker").alias("parent_ticker"), pl.col("name").alias("parent_name")
    )
    private_rows = _company_rows(
        private.join(parent_names, on="parent_ticker", how="left").select(
            "name",
            pl.lit("private").alias("kind"),
            "parent_ticker",
            pl.when(pl.col("parent_ticker").is_not_null())
            .then(
                pl.format("subsidiary of {} ({})", pl.col("parent_name"), pl.col("parent_ticker"))
            )
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
        companies.height,
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


def _key(expr: pl.Expr) -> pl.Expr:
    """A loose matching key for company names across lists: folded, lower case, no suffixes."""
    return (
        fold(expr)
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9 ]", " ")
        .str.replace_all(
            r"\b(inc|corp|corporation|co|company|ltd|limited|plc|llc|holdings?|group|the)\b", " "
        )
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _wikidata_aliases(raw: Path, companies: pl.DataFrame, aliases: pl.DataFrame) -> pl.DataFrame:
    """Wikidata aliases of US-listed tickers, kept only when they resemble one of the company's
    known names (the table merges same-symbol companies of every exchange in the world)."""
    known = (
        aliases.filter(pl.col("kind").is_in(["name", "short_name"]))
        .select("company_id", _key(pl.col("alias")).str.slice(0, 4).alias("stem"))
        .unique(maintain_order=True)
    )
    return (
        read_wikidata(raw)
        .join(_ticker_index(companies), on="ticker", how="inner")
        .filter(~pl.col("alias").str.contains(r"[()0-9]|\.com$"))
        .with_columns(_key(pl.col("alias")).str.slice(0, 4).alias("stem"))
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
    "first_word": 8,
    "fund_name": 9,
    "wikidata": 10,
}


def _finish_aliases(
    aliases: pl.DataFrame,
    companies: pl.DataFrame,
    dictionary: set[str],
    frequent: set[str],
    ambiguous: pl.DataFrame,
) -> pl.DataFrame:
    """Fold, drop junk, flag ambiguous aliases and settle collisions (one company per alias).

    An ambiguous alias (an ordinary word: Apple, Target) is matched with its exact case; any
    other is matched ignoring case, under its lower-case `key` (Ebay, CONMED, Fuelcell)."""
    info = companies.select(
        "company_id",
        pl.col("kind").alias("company_kind"),
        pl.col("exchange").fill_null("") != "OTC",
        pl.col("sp500").fill_null(False),
        pl.col("market_cap").fill_null(0.0),
        pl.col("prominence").fill_null(0),
    )
    curated_ambiguous = ambiguous["alias"].to_list()
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
    # an ordinary word (apple, target); or a frequent word naming an obscure company ("Crypto
    # Co"): a frequent word naming a well-known company (Comcast, Nvidia) is that company
    common = lower.is_in(list(dictionary)) | (
        lower.is_in(list(frequent)) & (pl.col("prominence") == 0)
    )
    lower_case_source = pl.col("alias") == lower  # Wikidata's aliases come in lower case
    # Short names are ambiguous (GE, ON), except a well-known company's three-letter acronym
    # that is no word (IBM, AMD, CME)
    short = (pl.col("alias").str.len_chars() <= 3) & ~(
        pl.col("alias").str.contains(r"^[A-Z]{3}$") & (pl.col("prominence") >= 1)
    )
    frame = (
        frame.with_columns(
            (
                (pl.col("kind") != "not_company")
                & ((single_word & (common | short)) | pl.col("alias").is_in(curated_ambiguous))
            ).alias("ambiguous")
        )
        .filter(~(pl.col("ambiguous") & lower_case_source))
        # matched with its exact case: an ambiguous name, a short one, an acronym (IBM, FDA)
        .with_columns(
            (
                pl.col("ambiguous")
                | (pl.col("alias").str.len_chars() <= 3)
                | (pl.col("alias") == pl.col("alias").str.to_uppercase())
            ).alias("exact")
        )
        .filter(~(pl.col("exact") & lower_case_source))
        .with_columns(pl.when(pl.col("exact")).then(pl.col("alias")).otherwise(lower).alias("key"))
        .sort(
            "key",
            "exact",
            "ambiguous",
            "kind_rank",
            pl.col("company_kind") != "listed",
            pl.col("exchange").not_(),
            pl.col("sp500").not_(),
            pl.col("market_cap"),
            "company_id",
            "alias",
            descending=[False, False, False, False, False, False, False, True, False, False],
        )
    )
    return frame.unique(["key", "exact"], keep="first", maintain_order=True).select(
        "alias", "key", "company_id", "kind", "source", "note", "ambiguous", "exact"
    )


# ---------------------------------------------------------------- refreshing the raw lists

SOURCES = {
    "sec/company_tickers_exchange_{date}.json.gz": "https://www.sec.gov/files/company_tickers_exchange.json",
    "nasdaqtrader/nasdaqlisted_{date}.txt.gz": "https://www.nasdaqtrader.com/dynamic/SymDir/nasdaqlisted.txt",
    "nasdaqtrader/otherlisted_{date}.txt.gz": "https://www.nasdaqtrader.com/dynamic/SymDir/otherlisted.txt",
}
USER_AGENT = "market-tagger/0.1 (set TAGGER_USER_AGENT to 'name email' as SEC asks)"


def update(raw: Path = RAW_DIR, out: Path = UNIVERSE_DIR, *, fetch=None) -> dict[str, int]:
    """Download today's SEC and Nasdaq Trader lists into `raw`, then rebuild the universe.

    All downloads must succeed before anything is written; if one fails, or the build does,
    the raw folder and the universe are left as they were (NetworkError / TaggerError)."""
    fetch = fetch or _http_get
    today = date.today().isoformat()
    fetched = {}
    for pattern, url in SOURCES.items():
        try:
            fetched[raw / pattern.format(date=today)] = fetch(url)
        except OSError as e:
            raise NetworkError(
                f"cannot download {url} ({_reason(e)}); the universe was not changed"
            ) from None
    written = []
    try:
        for path, content in fetched.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.compress(content))
            written.append(path)
        return build(raw, out=out)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _http_get(url: str) -> bytes:
    agent = os.environ.get("TAGGER_USER_AGENT") or USER_AGENT
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def _reason(error: OSError) -> str:
    return str(getattr(error, "reason", None) or error).strip().splitlines()[0]
