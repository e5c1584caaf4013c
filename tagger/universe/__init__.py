"""The company universe: who each company was, and where it traded, on any date.

A package of two jobs (see data/universe/SCHEMA.md for the tables):
- building from sources: `sources` reads the raw lists, `names` derives the names news writes,
  `history` turns the US listing history into dated listings, `world` adds non-US issuers and
  their US lines, `build` assembles and writes companies/listings/aliases, `update` refreshes the
  raw lists and rebuilds;
- looking up: `lookup.load()` reads the tables; `lookup.lines_as_of()` says which line a company
  traded on at a date; `lookup.restrict()` cuts the universe down to the companies a batch of
  articles names, so that the lookups of one article cost little.
"""

from tagger.universe.build import CURATED_DIR, RAW_DIR, UNIVERSE_DIR, build
from tagger.universe.lookup import (
    Universe,
    companies_of_tickers,
    lines_as_of,
    listing_records,
    listings_of_tickers,
    load,
    names_as_of,
    restrict,
    valid_on,
)
from tagger.universe.names import LEGAL_SUFFIX, company_name, name_cores, normalize_ticker
from tagger.universe.update import update

__all__ = [
    "CURATED_DIR",
    "LEGAL_SUFFIX",
    "RAW_DIR",
    "UNIVERSE_DIR",
    "Universe",
    "build",
    "companies_of_tickers",
    "company_name",
    "lines_as_of",
    "listing_records",
    "listings_of_tickers",
    "load",
    "name_cores",
    "names_as_of",
    "normalize_ticker",
    "restrict",
    "update",
    "valid_on",
]
