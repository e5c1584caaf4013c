"""Trading venues: where a listing trades, its currency, calendar and local market index.

One row per venue in `data/universe/curated/venues.csv` (US venues, then the non-US venues of
`data/universe/raw/global/exchanges.csv` with a hand-checked currency). A listing carries its
venue code (`exchange`); a bare ticker is placed by its Yahoo suffix (`7203.T` -> Tokyo, `RIO.L`
-> London, no suffix -> US). Every date question about a listing goes through the venue's
`calendar` (an exchange_calendars name); its `index` is the default market proxy of an event
study. This module only looks venues up; it imports no calendar library.

    >>> venue_of_symbol("005930.KS").calendar, venue_of_symbol("005930.KS").index
    ('XKRX', '^KS11')
    >>> venue_of_symbol("BRK-B").calendar
    'XNYS'
"""

import csv
from dataclasses import dataclass
from functools import cache

from tagger.paths import DATA

VENUES_PATH = DATA / "universe" / "curated" / "venues.csv"
US_MARKET = "SPY"
"""The market proxy of US listings (an index ETF with daily prices on Yahoo)."""


@dataclass(frozen=True)
class Venue:
    """A trading venue: code (as in listings' `exchange`), Yahoo suffix, MIC, currency, the
    exchange_calendars name of its sessions (None where the library has none) and its index."""

    exchange: str
    suffix: str
    mic: str
    name: str
    country: str
    role: str
    currency: str
    calendar: str | None
    index: str | None

    @property
    def is_us(self) -> bool:
        return self.country == "United States"


@cache
def venues() -> dict[str, Venue]:
    """Every venue by its code."""
    with VENUES_PATH.open(encoding="utf-8", newline="") as f:
        rows = [
            Venue(**{k: (v or None) if k in ("calendar", "index") else v for k, v in r.items()})
            for r in csv.DictReader(f)
        ]
    return {row.exchange: row for row in rows}


@cache
def _by_suffix() -> dict[str, Venue]:
    """Yahoo suffix -> venue; a suffix shared by venues goes to the main one (`.F` is Frankfurt
    on Yahoo, `.ST` Stockholm's main market)."""
    found: dict[str, Venue] = {}
    for row in venues().values():
        if not row.suffix:
            continue
        known = found.get(row.suffix)
        if known is None or (known.role != "home_main" and row.role == "home_main"):
            found[row.suffix] = row
    found[".F"] = venues()["FRA"]
    return found


def venue(code: str) -> Venue | None:
    """The venue with this code (NASDAQ, NYSE, KSC, JPX ...) or MIC (XNAS, XKRX ...)."""
    known = venues()
    if code in known:
        return known[code]
    return next((v for v in known.values() if v.mic == code), None)


def suffix_of(symbol: str) -> str:
    """The Yahoo exchange suffix of a symbol: '.KS' for 005930.KS, '' for AAPL or BRK-B."""
    head, dot, tail = symbol.rpartition(".")
    return f".{tail}" if dot and head and f".{tail}" in _by_suffix() else ""


def venue_of_symbol(symbol: str) -> Venue:
    """The venue a Yahoo-style symbol trades on (US when it has no known suffix)."""
    suffix = suffix_of(symbol)
    return _by_suffix()[suffix] if suffix else venues()["NYSE"]
