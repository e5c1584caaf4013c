"""The US listing history as listings with validity, and the companies that have left the lists.

From the listing spells (a ticker run of one company between its first and last sighting),
ticker changes and name history of `data/universe/raw/history/`:

- `group_spells`: spells of one company joined into groups: by SEC CIK and by ticker changes
  (FB -> META is one company);
- `spell_listings`: one listing per traded spell with [valid_from, valid_to): from its first
  sighting (open when the lists may have missed its start) to the day after its last trade (open
  while still listed);
- `spell_names`: every name a group was listed under, with the period it was used.

`tagger.universe.build` attaches groups to today's companies (by CIK or ticker) and makes the
others companies of their own, with a fate (`fates`) saying what became of them.
"""

import polars as pl

from tagger.universe.names import company_name

ONE_DAY = pl.duration(days=1)
COMMON_TYPES = ("common",)


# Suffixes that mark a derived line, and Nasdaq's fifth letters that do: a right, warrant, unit
# or other instrument of the company whose root ticker it carries (CELG-RT, CELGZ)
_DERIVED_SUFFIX = {
    "right": r"-(?:RT|R)$",
    "warrant": r"-(?:WS|W)(?:-[A-Z])?$",
    "unit": r"-(?:U|UN)$",
}
_NASDAQ_FIFTH = {"right": "R", "warrant": "W", "unit": "U", "note": "Z"}


def with_line_types(spells: pl.DataFrame) -> pl.DataFrame:
    """Spells whose ticker marks a derived line typed as such, whatever the lists called them:
    they are no company's stock."""
    kind = pl.col("security_type")
    common = pl.col("security_type") == "common"
    for derived, suffix in _DERIVED_SUFFIX.items():
        kind = (
            pl.when(common & pl.col("ticker").str.contains(suffix))
            .then(pl.lit(derived))
            .otherwise(kind)
        )
    fifth = (pl.col("exchange") == "NASDAQ") & (pl.col("ticker").str.len_chars() == 5)
    for derived, letter in _NASDAQ_FIFTH.items():
        kind = (
            pl.when(common & fifth & pl.col("ticker").str.ends_with(letter))
            .then(pl.lit(derived))
            .otherwise(kind)
        )
    return spells.with_columns(kind.alias("security_type"))


def group_spells(spells: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """spell_id -> group (the smallest spell_id of its company): spells sharing a CIK or linked
    by a ticker change are one company."""
    parent = {s: s for s in spells["spell_id"].to_list()}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for old, new in changes.select("old_spell_id", "new_spell_id").iter_rows():
        if old in parent and new in parent:
            union(old, new)
    for derived, stock in _derived_lines(spells).iter_rows():
        union(derived, stock)
    by_cik = spells.filter(pl.col("cik").is_not_null()).group_by("cik").agg(pl.col("spell_id"))
    for ids in by_cik["spell_id"].to_list():
        for other in ids[1:]:
            union(ids[0], other)
    ids = sorted(parent)
    return pl.DataFrame(
        {"spell_id": ids, "group": [find(i) for i in ids]},
        schema={"spell_id": pl.Int32, "group": pl.Int32},
    )


def _derived_lines(spells: pl.DataFrame) -> pl.DataFrame:
    """(derived spell, stock spell) pairs: a right, warrant, unit or note whose root ticker is
    a stock of the same name (CELG-RT and CELGZ of Celgene's CELG)."""
    from tagger.universe.names import name_key

    key = name_key(pl.col("name"))
    derived = spells.filter(~pl.col("security_type").is_in(["common", "etf"])).select(
        "spell_id",
        pl.col("ticker").str.replace(r"-.*$", "").str.replace(r"^([A-Z]{4})[RWUZ]$", "$1")
        .alias("root"),
        key.alias("key"),
    )  # fmt: skip
    stocks = spells.filter(pl.col("security_type") == "common").select(
        pl.col("spell_id").alias("stock"), pl.col("ticker").alias("root"), key.alias("key")
    )
    return (
        derived.join(stocks, on=["root", "key"])
        .unique("spell_id", keep="first", maintain_order=True)
        .select("spell_id", "stock")
    )


def spell_listings(spells: pl.DataFrame) -> pl.DataFrame:
    """One listing per traded spell: spell_id, ticker, exchange, security_type, valid_from (null
    when the start may predate the lists), valid_to (exclusive; null while still listed),
    last_trade (the last trading day of an ended spell)."""
    last_trade = pl.coalesce("vendor_last_trade", "last_seen")
    return spells.filter(~pl.col("untraded")).select(
        "spell_id",
        "ticker",
        "exchange",
        pl.col("security_type").replace({"etf": "ETF"}),
        pl.when(pl.col("first_seen_censored"))
        .then(pl.lit(None, pl.Date))
        .otherwise(pl.col("first_seen"))
        .alias("valid_from"),
        pl.when(pl.col("still_listed_2026_08"))
        .then(pl.lit(None, pl.Date))
        .otherwise(last_trade + ONE_DAY)
        .alias("valid_to"),
        pl.when(~pl.col("still_listed_2026_08")).then(last_trade).alias("last_trade"),
    )


def spell_names(names: pl.DataFrame, spells: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """The names each group's common-stock spells were listed under: group, name (without the
    security description), valid_from, valid_to. The group's first name is open at the start
    when its spell's start is censored; its last name stays valid after (a company keeps its
    last name when it leaves the lists)."""
    common = spells.filter(pl.col("security_type").is_in(COMMON_TYPES)).select(
        "spell_id", "first_seen_censored"
    )
    named = (
        names.join(common, on="spell_id")
        .join(groups, on="spell_id")
        .with_columns(
            pl.col("name").map_elements(company_name, return_dtype=pl.String).alias("name")
        )
        .filter(pl.col("name").str.len_chars() > 1)
        .group_by("group", "name")
        .agg(
            pl.col("first_seen").min(),
            pl.col("last_seen").max(),
            (pl.col("first_seen_censored") & (pl.col("first_seen") == pl.col("first_seen").min()))
            .any()
            .alias("censored"),
        )
        .sort("group", "first_seen", "name")
    )
    is_first = pl.col("first_seen") == pl.col("first_seen").min().over("group")
    is_last = pl.col("last_seen") == pl.col("last_seen").max().over("group")
    return named.select(
        "group",
        "name",
        pl.when(is_first & pl.col("censored"))
        .then(pl.lit(None, pl.Date))
        .otherwise(pl.col("first_seen"))
        .alias("valid_from"),
        pl.when(is_last)
        .then(pl.lit(None, pl.Date))
        .otherwise(pl.col("last_seen") + ONE_DAY)
        .alias("valid_to"),
    )


def bankrupt_groups(listings: pl.DataFrame, groups: pl.DataFrame) -> pl.DataFrame:
    """Groups whose exchange listing was followed by an OTC line with a bankruptcy `Q` ticker
    (CONN -> CONNQ): group, last_trade of the exchange line."""
    joined = listings.join(groups, on="spell_id")
    exchange = joined.filter(pl.col("exchange") != "OTC", pl.col("last_trade").is_not_null())
    q_lines = joined.filter(
        pl.col("exchange") == "OTC", pl.col("ticker").str.contains(r"^[A-Z]{3,4}Q$")
    ).select("group", pl.col("valid_from").alias("q_from"))
    return (
        exchange.join(q_lines, on="group")
        .filter(pl.col("q_from").is_null() | (pl.col("q_from") >= pl.col("last_trade")))
        .group_by("group")
        .agg(pl.col("last_trade").max())
    )
