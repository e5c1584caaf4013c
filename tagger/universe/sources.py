"""Reading the raw reference lists the universe is built from (`data/universe/raw/`).

Each `read_*` returns one tidy frame from one source: the current US lists (SEC, Nasdaq Trader,
the Nasdaq screener, S&P 500), private-company lists, the Wikidata alias table, the US listing
history (spells, names, ticker changes) and the non-US listings (equities, venues, ADR links,
curated news names). A missing file, a missing column or a malformed row is a `TaggerError` of one
line naming the file and row. Nothing here decides what a company is; see `tagger.universe.build`.
"""

import gzip
import io
import json
import re
from pathlib import Path

import polars as pl

from tagger.errors import TaggerError
from tagger.markets import venues
from tagger.universe.names import normalize_ticker

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


def _newest(raw: Path, pattern: str) -> Path:
    found = sorted(raw.glob(pattern), key=lambda p: (_file_date(p), p.name))
    if not found:
        raise TaggerError(
            f"{raw}/{pattern}: missing raw file; restore it (see data/universe/raw/PROVENANCE.md)"
        )
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
    names = [
        "brands",
        "private",
        "not_companies",
        "ambiguous",
        "sector_etfs",
        "fates",
        "world_issuers",
        "media",
    ]
    return {n: _read_table(curated / f"{n}.csv") for n in names}


def read_words(path: Path, limit: int | None = None) -> set[str]:
    """A word list, one lower-case word a line (see data/universe/*_words.txt); with `limit`,
    its first `limit` words (common_words.txt is in descending frequency order)."""
    if not path.is_file():
        raise TaggerError(f"{path}: missing word list; restore it (see scripts/make_*_words.py)")
    return set(path.read_text(encoding="utf-8").split()[:limit])


# ---------------------------------------------------------------- checks


def _require(frame: pl.DataFrame, path: Path, columns: list[str]) -> pl.DataFrame:
    """`frame` limited to `columns`; one line naming the file when a column is missing."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TaggerError(f"{path}: missing column(s) {', '.join(missing)}; restore the file")
    return frame.select(columns)


def _check_rows(frame: pl.DataFrame, path: Path, bad: pl.Expr, what: str) -> None:
    """One line naming the first row (1-based data row) where `bad` holds."""
    rows = frame.with_row_index("_row", 1).filter(bad.fill_null(False))
    if rows.height:
        row = rows.row(0, named=True)
        shown = {k: v for k, v in row.items() if k != "_row" and v is not None}
        sample = ", ".join(f"{k}={v}" for k, v in list(shown.items())[:4])
        raise TaggerError(f"{path}: row {row['_row']}: {what} ({sample}); fix or restore the file")


def _read_table(path: Path) -> pl.DataFrame:
    """A Parquet or (gzipped) CSV file as read; one line when it is missing or unreadable."""
    if not path.is_file():
        raise TaggerError(f"{path}: missing raw file; restore it (see its PROVENANCE.md)")
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        return _read_csv(path)
    except (pl.exceptions.PolarsError, OSError, EOFError, gzip.BadGzipFile) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TaggerError(f"{path}: cannot read ({first}); restore the file") from None


# ---------------------------------------------------------------- US listing history

HISTORY_EXCHANGES = {
    "NASDAQ": "NASDAQ",
    "NYSE": "NYSE",
    "AMEX": "NYSE American",
    "ARCA": "NYSE Arca",
    "BATS": "Cboe BZX",
    "IEX": "IEX",
    "OTC": "OTC",
    "SEC_NO_EXCHANGE": None,  # in SEC's ticker file without an exchange: not traded
}
HISTORY_TYPES = ("common", "etf", "preferred", "warrant", "unit", "right", "note")


def read_spells(raw: Path) -> pl.DataFrame:
    """US listing spells (history/listings_history.parquet): one row per (company, ticker) run
    with its first and last sightings; `exchange` mapped to venue codes (None: not traded)."""
    path = raw / "history" / "listings_history.parquet"
    columns = [
        "spell_id",
        "ticker",
        "name",
        "exchange",
        "security_type",
        "cik",
        "first_seen",
        "last_seen",
        "first_seen_censored",
        "last_seen_next_absent",
        "still_listed_2026_08",
        "vendor_first_trade",
        "vendor_last_trade",
        "evidence",
        "sources",
    ]
    frame = _require(_read_table(path), path, columns)
    known = pl.col("exchange").is_in(list(HISTORY_EXCHANGES)) | pl.col("exchange").is_null()
    _check_rows(frame, path, ~known, "unknown exchange")
    _check_rows(frame, path, ~pl.col("security_type").is_in(HISTORY_TYPES), "unknown security_type")
    _check_rows(
        frame,
        path,
        pl.col("ticker").is_null()
        | pl.col("first_seen").is_null()
        | pl.col("last_seen").is_null()
        | (pl.col("first_seen") > pl.col("last_seen")),
        "a spell needs a ticker and first_seen <= last_seen",
    )
    _check_rows(frame, path, pl.col("spell_id").is_duplicated(), "spell_id repeats")
    # notation some lists use for rights and when-issued lines (CELG~, BMY^~): no stock line
    frame = frame.filter(pl.col("ticker").str.contains(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$"))
    return frame.with_columns(
        pl.col("exchange").replace_strict(HISTORY_EXCHANGES, default=None, return_dtype=pl.String),
        (pl.col("exchange") == "SEC_NO_EXCHANGE").fill_null(False).alias("untraded"),
        pl.col("cik").str.strip_chars_start("0"),
    )


def read_name_history(raw: Path) -> pl.DataFrame:
    """Every name a spell was listed under: spell_id, name, first_seen, last_seen."""
    path = raw / "history" / "name_history.parquet"
    frame = _require(_read_table(path), path, ["spell_id", "name", "first_seen", "last_seen"])
    _check_rows(frame, path, pl.col("name").is_null(), "empty name")
    return frame


def read_ticker_changes(raw: Path) -> pl.DataFrame:
    """Old -> new ticker of the same company: old_spell_id, new_spell_id, date."""
    path = raw / "history" / "ticker_changes.csv.gz"
    frame = _require(
        _read_table(path),
        path,
        ["old_ticker", "new_ticker", "date", "old_spell_id", "new_spell_id"],
    ).with_columns(
        pl.col("old_spell_id", "new_spell_id").cast(pl.Int32, strict=False),
        pl.col("date").str.to_date("%Y-%m-%d", strict=False),
    )
    _check_rows(
        frame,
        path,
        pl.any_horizontal(pl.col("old_spell_id", "new_spell_id", "date").is_null()),
        "old_spell_id, new_spell_id and date (YYYY-MM-DD) are required",
    )
    return frame


# ---------------------------------------------------------------- non-US listings


def read_equities(raw: Path) -> pl.DataFrame:
    """Non-US listings (global/equities.parquet): `is_primary` marks the lines a resolver may
    return (home-venue lines), `is_main_line` the one per issuer and country."""
    path = raw / "global" / "equities.parquet"
    columns = [
        "symbol",
        "name",
        "exchange",
        "home_country",
        "currency",
        "sector",
        "industry",
        "market_cap_bucket",
        "market_cap_usd_cmc",
        "isin",
        "composite_figi",
        "is_primary",
        "is_main_line",
        "issuer_group",
        "source",
    ]
    frame = _require(_read_table(path), path, columns)
    codes = list(venues())
    _check_rows(frame, path, ~pl.col("exchange").is_in(codes), "unknown exchange")
    _check_rows(
        frame,
        path,
        pl.col("is_primary") & pl.col("symbol").is_null(),
        "a primary line needs a symbol",
    )
    # a few ISIN-coded lines have no name: nothing to find them by
    return frame.filter(pl.col("name").is_not_null())


ADR_KINDS = ("ADR", "US_LISTED_ORD", "US_LISTED", "OTC_ADR", "OTC_ORD", "OTC")


def read_adr_links(raw: Path) -> pl.DataFrame:
    """US lines of non-US issuers: primary_symbol, us_symbol, kind (ADR, US_LISTED_ORD,
    US_LISTED: exchange-listed; OTC_ADR, OTC_ORD, OTC: over the counter), us_venue."""
    path = raw / "global" / "adr_links.csv.gz"
    frame = _require(
        _read_table(path), path, ["primary_symbol", "us_symbol", "kind", "us_venue", "match"]
    )
    _check_rows(frame, path, ~pl.col("kind").is_in(ADR_KINDS), "unknown kind")
    return frame.with_columns(normalize_ticker(pl.col("us_symbol")).alias("us_symbol"))


def read_world_aliases(raw: Path) -> pl.DataFrame:
    """Curated news names of the largest non-US companies: alias, primary_symbol, company,
    risk (';'-joined flags: short, common_word, shared_name:..., us_name:...), check."""
    path = raw / "global" / "aliases_curated.csv.gz"
    frame = _require(
        _read_table(path), path, ["alias", "primary_symbol", "company", "risk", "check"]
    )
    _check_rows(
        frame, path, pl.col("alias").is_null() | pl.col("primary_symbol").is_null(), "empty alias"
    )
    return frame.with_columns(pl.col("risk").fill_null(""))
