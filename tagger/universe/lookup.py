"""Looking companies up as of a date: the loaded universe and its point-in-time questions.

`load()` reads the built tables (see `tagger.universe.build`). `lines_as_of()` answers, for many
(company, date) pairs at once, which listing was the company's line on that date (ticker, venue,
currency, its US line), and, when it had none, whether it listed later or what its last line
was. Lookups are joins and sorts over the listings table, never per-row Python.
"""

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, wraps
from pathlib import Path
from typing import TypeVar

import numpy as np
import polars as pl

from tagger.errors import TaggerError
from tagger.markets import venues
from tagger.universe.build import ROLE_ORDER, UNIVERSE_DIR

EQUITY_TYPES = ("common", "ADR", "ETF")
"""Security types a company's line can be (preferreds, warrants and units are not its line)."""


@dataclass(frozen=True)
class Universe:
    """The universe tables, as loaded for tagging: companies (one row per company), listings
    (every line with its validity), aliases (names and the companies they may name) and names
    (the names companies bore before their last one, with their periods); companies, listings
    and names in company_id order."""

    companies: pl.DataFrame
    listings: pl.DataFrame
    aliases: pl.DataFrame
    names: pl.DataFrame


@cache
def load(directory: Path = UNIVERSE_DIR) -> Universe:
    """Read the built universe from `directory` (default: the bundled data/universe)."""
    directory = Path(directory)
    tables = {}
    for name in ("companies", "listings", "aliases", "names"):
        path = directory / f"{name}.parquet"
        if not path.is_file():
            raise TaggerError(
                f"{directory}: no universe here ({path.name} missing); give the folder "
                "`tagger universe build --out` wrote, or run `tagger universe build`"
            )
        try:
            tables[name] = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as e:
            raise TaggerError(
                f"{path}: not a readable universe table ({str(e).splitlines()[0]}); rebuild it "
                "with `tagger universe build`"
            ) from None
    for name in ("companies", "listings", "names"):  # in company order, as `restrict` needs
        tables[name] = tables[name].sort("company_id", maintain_order=True)
    return Universe(**tables)


T = TypeVar("T")


def per_universe(build: Callable[[Universe], T]) -> Callable[[Universe], T]:
    """Memoize `build(universe)` while the universe lives: tables derived from a universe are
    built once, not on every tagging call. Thread-safe."""
    built: dict[int, T] = {}
    lock = threading.Lock()

    @wraps(build)
    def cached(universe: Universe) -> T:
        key = id(universe)
        if key not in built:
            with lock:
                if key not in built:
                    built[key] = build(universe)
                    weakref.finalize(universe, built.pop, key, None)
        return built[key]

    return cached


def _positions(ordered: pl.Series, wanted: pl.Series) -> np.ndarray:
    """The positions in `ordered` (sorted ascending) of its values equal to one of `wanted`,
    ascending: binary searches, so a few wanted values cost little against a large table."""
    if not ordered.is_sorted():
        raise ValueError(f"{ordered.name} is not sorted")
    wanted = wanted.drop_nulls()
    if wanted.dtype != ordered.dtype:
        wanted = wanted.cast(ordered.dtype)
    first = ordered.search_sorted(wanted, side="left").to_numpy().astype(np.int64)
    counts = ordered.search_sorted(wanted, side="right").to_numpy() - first
    run_starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.unique(np.repeat(first, counts) + np.arange(counts.sum()) - run_starts)


def restrict(universe: Universe, company_ids: pl.Series) -> Universe:
    """The part of `universe` about these companies and their owners (parent, acquirer): every
    lookup of them gives what it gives over the whole universe, at a fraction of the cost. Rows
    keep their order.

    >>> part = restrict(load(), pl.Series([0]))
    >>> set(part.listings["company_id"]) <= set(part.companies["company_id"])
    True
    """
    named = universe.companies[_positions(universe.companies["company_id"], company_ids)]
    ids = pl.concat([named["company_id"], named["parent_id"], named["acquirer_id"]])
    ids = ids.drop_nulls().unique()
    return Universe(
        companies=universe.companies[_positions(universe.companies["company_id"], ids)],
        listings=universe.listings[_positions(universe.listings["company_id"], ids)],
        aliases=universe.aliases.filter(pl.col("company_id").is_in(ids.implode())),
        names=universe.names[_positions(universe.names["company_id"], ids)],
    )


@per_universe
def _tickers_in_order(universe: Universe) -> pl.DataFrame:
    """The listings' tickers sorted, with their row numbers."""
    return universe.listings.select(
        "ticker", pl.int_range(pl.len(), dtype=pl.UInt32).alias("row")
    ).sort("ticker", "row")


def listings_of_tickers(universe: Universe, tickers: pl.Series) -> pl.DataFrame:
    """The rows of `universe.listings` whose ticker is one of `tickers`, in table order."""
    index = _tickers_in_order(universe)
    rows = index["row"].gather(_positions(index["ticker"], tickers)).sort()
    return universe.listings[rows]


def valid_on(day: pl.Expr) -> pl.Expr:
    """True where a row's [valid_from, valid_to) holds `day` (null bounds are open)."""
    return (pl.col("valid_from").is_null() | (pl.col("valid_from") <= day)) & (
        pl.col("valid_to").is_null() | (pl.col("valid_to") > day)
    )


@cache
def _us_venues() -> list[str]:
    return [code for code, v in venues().items() if v.is_us]


@per_universe
def _equity_lines(universe: Universe) -> pl.DataFrame:
    """The listings a company's line can be, with their role order and whether on a US venue."""
    return universe.listings.filter(pl.col("security_type").is_in(EQUITY_TYPES)).with_columns(
        pl.col("role").replace_strict(ROLE_ORDER, return_dtype=pl.Int8).alias("order"),
        pl.col("exchange").is_in(_us_venues()).fill_null(True).alias("us_venue"),
    )


LINES_SCHEMA = pl.Schema(
    {
        "company_id": pl.Int32,
        "as_of": pl.Date,
        "ticker": pl.String,
        "exchange": pl.String,
        "mic": pl.String,
        "currency": pl.String,
        "us_ticker": pl.String,
        "later_ticker": pl.String,
        "later_from": pl.Date,
        "last_ticker": pl.String,
        "last_to": pl.Date,
    }
)
"""The columns `lines_as_of` gives."""


def lines_as_of(universe: Universe, wanted: pl.DataFrame) -> pl.DataFrame:
    """For each distinct (company_id, as_of) in `wanted`, the company's line on that date.

    Columns: company_id, as_of, ticker, exchange, mic, currency (the primary line valid that day,
    null when none), us_ticker (for a non-US company: its US exchange line, else its OTC line),
    later_ticker/later_from (its first line when all its lines started after the date),
    last_ticker/last_to (its latest line when all its lines ended before the date).
    """
    keys = wanted.select("company_id", "as_of").unique()
    return _lines(universe, keys) if not keys.is_empty() else pl.DataFrame(schema=LINES_SCHEMA)


def _lines(universe: Universe, keys: pl.DataFrame) -> pl.DataFrame:
    lines = _equity_lines(universe).join(keys, on="company_id")
    valid = lines.filter(valid_on(pl.col("as_of")))
    current = (
        valid.filter(pl.col("role") != "OTC")
        .sort("company_id", "as_of", "order", "rank", "ticker")
        .group_by("company_id", "as_of", maintain_order=True)
        .agg(pl.col("ticker", "exchange", "mic", "currency", "us_venue").first())
    )
    otc_only = (
        valid.join(current, on=["company_id", "as_of"], how="anti")
        .sort("company_id", "as_of", "rank", "ticker")
        .group_by("company_id", "as_of", maintain_order=True)
        .agg(pl.col("ticker", "exchange", "mic", "currency", "us_venue").first())
    )
    current = pl.concat([current, otc_only])
    us_line = (
        valid.filter(pl.col("us_venue"), pl.col("role").is_in(["ADR", "secondary", "OTC"]))
        .with_columns(
            (pl.col("role") == "OTC").alias("otc"),
            (pl.col("security_type") != "ADR").alias("ordinary"),
        )
        .sort("company_id", "as_of", "otc", "ordinary", "rank", "ticker")
        .group_by("company_id", "as_of", maintain_order=True)
        .agg(pl.col("ticker").first().alias("us_ticker"))
    )
    later = (
        lines.filter(pl.col("valid_from") > pl.col("as_of"))
        .sort("company_id", "as_of", "valid_from", "order", "rank", "ticker")
        .group_by("company_id", "as_of", maintain_order=True)
        .agg(
            pl.col("ticker").first().alias("later_ticker"),
            pl.col("valid_from").first().alias("later_from"),
        )
    )
    # its last exchange line before any OTC line it moved to (CONN, not CONNQ)
    ended = (
        lines.filter(pl.col("valid_to") <= pl.col("as_of"))
        .with_columns((pl.col("exchange") == "OTC").fill_null(False).alias("otc"))
        .sort(
            "company_id",
            "as_of",
            "otc",
            "valid_to",
            "order",
            "rank",
            "ticker",
            descending=[False, False, False, True, False, False, False],
        )
        .group_by("company_id", "as_of", maintain_order=True)
        .agg(
            pl.col("ticker").first().alias("last_ticker"),
            pl.col("valid_to").first().alias("last_to"),
        )
    )
    return (
        keys.join(current, on=["company_id", "as_of"], how="left")
        .join(us_line, on=["company_id", "as_of"], how="left")
        .join(later, on=["company_id", "as_of"], how="left")
        .join(ended, on=["company_id", "as_of"], how="left")
        .with_columns(
            # a US company's own line is not "its US line"
            pl.when(pl.col("us_venue").fill_null(False))
            .then(None)
            .otherwise(pl.col("us_ticker"))
            .alias("us_ticker"),
        )
        .drop("us_venue")
    )


def companies_of_tickers(universe: Universe, wanted: pl.DataFrame) -> pl.DataFrame:
    """`wanted` (with ticker and as_of columns) plus company_id: the company whose line had the
    ticker on that date, else the one nearest in time (FB in 2020 is Meta, in 2026 an ETF);
    null when no listing ever had it. A null as_of matches any period."""
    lines = listings_of_tickers(universe, wanted["ticker"]).select(
        "ticker", "company_id", "valid_from", "valid_to", pl.col("rank").alias("line_rank")
    )
    day = pl.col("as_of")
    distance = (
        pl.when(day.is_null() | valid_on(day))
        .then(pl.duration(days=0))
        .when(pl.col("valid_to") <= day)
        .then(day - pl.col("valid_to"))
        .otherwise(pl.col("valid_from") - day)
    )
    numbered = wanted.with_row_index("_wanted")
    picked = (
        numbered.select("_wanted", "ticker", "as_of")
        .join(lines, on="ticker")
        .with_columns(distance.alias("distance"), pl.col("valid_to").is_not_null().alias("old"))
        .sort("_wanted", "distance", "old", "line_rank", "company_id")
        .unique("_wanted", keep="first", maintain_order=True)
        .select("_wanted", "company_id")
    )
    return numbered.join(picked, on="_wanted", how="left").drop("_wanted")


def names_as_of(universe: Universe, wanted: pl.DataFrame) -> pl.DataFrame:
    """company_id, as_of -> name_then: the name a company bore on that date when it was not
    its last one (Facebook Inc. for Meta in 2020); absent otherwise."""
    return (
        universe.names.join(wanted.select("company_id", "as_of").unique(), on="company_id")
        .filter(valid_on(pl.col("as_of")))
        .sort("company_id", "as_of", "valid_from", nulls_last=False)
        .group_by("company_id", "as_of", maintain_order=True)
        .agg(pl.col("name").last().alias("name_then"))
    )


@per_universe
def listing_records(universe: Universe) -> pl.DataFrame:
    """company_id -> listings: the company's equity lines as a list of {ticker, exchange, mic,
    currency, role, from, to} (from/to ISO dates; `to` exclusive; null when open)."""
    return (
        universe.listings.filter(pl.col("security_type").is_in(EQUITY_TYPES))
        .with_columns(
            pl.col("role").replace_strict(ROLE_ORDER, return_dtype=pl.Int8).alias("order")
        )
        .sort("company_id", "order", "rank", "valid_from", "ticker", nulls_last=False)
        .group_by("company_id", maintain_order=True)
        .agg(
            pl.struct(
                "ticker",
                "exchange",
                "mic",
                "currency",
                "role",
                pl.col("valid_from").dt.to_string().alias("from"),
                pl.col("valid_to").dt.to_string().alias("to"),
            ).alias("listings")
        )
    )
