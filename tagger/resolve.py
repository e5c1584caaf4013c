"""Deciding which mentions are companies, and scoring each company's relevance to the story.

Takes the candidate mentions of `tagger.mentions` and returns two frames:
- entities: one row per (article, company): status listed | private | unresolved as of the
  article's publication date, ticker, exchange, CIK, sector, parent, reason, role and the
  relevance (0-100) with its components;
- mentions: where each entity was mentioned (field, start, end, text, zone).

Relevance (published in the README):
    relevance = 30·title + 25·lead + 15·first + 10·marker + 10·share + 10·min(n, 3)/3
where title = named in the headline, lead = named in the lead (the body's first sentence),
first = named before any other company, marker = a cashtag or ticker marker, share = its share
of all company mentions in the story, n = its number of mentions. Mentions in boilerplate count
for nothing (relevance 0, role boilerplate); an entity named only as a news source ("...,
reported South China Morning Post") or as the bank whose analysts rate a stock ("Morgan Stanley
upgraded the company") gets role source and at most 10.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import polars as pl

from tagger.articles import parse_published
from tagger.errors import InputError
from tagger.mentions import find_mentions, per_doc
from tagger.store import transaction
from tagger.universe import (
    LEGAL_SUFFIX,
    Universe,
    lines_as_of,
    listing_records,
    load,
    names_as_of,
)
from tagger.universe.lookup import per_universe

WEIGHTS = {"title": 30, "lead": 25, "first": 15, "marker": 10, "share": 10, "count": 10}
SUBJECT_MIN = 50  # relevance from which a company is the story's subject
SOURCE_MAX = 10  # the most a news-source mention can score
_LEGAL_END = r"(?:,?\s+(?:" + LEGAL_SUFFIX + r"))$"  # a name written with its legal form

ENTITY_COLUMNS = [
    "article_id",
    "entity_idx",
    "entity_id",
    "name",
    "status",
    "ticker",
    "exchange",
    "currency",
    "us_ticker",
    "cik",
    "sector",
    "sector_etf",
    "parent_ticker",
    "relevance",
    "role",
    "reason",
    "as_of",
    "listings",
    "in_title",
    "in_lead",
    "first",
    "marker",
    "share",
    "n_mentions",
]
MENTION_COLUMNS = ["article_id", "entity_idx", "field", "start", "end", "text", "zone"]


def tag_articles(
    articles: pl.DataFrame, universe: Universe | None = None, *, today: date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Tag a corpus. `articles` has article_id, title, body and optionally published_at
    (datetime) / published_date (date). Returns (entities, mentions) frames (see module doc).
    Listing status is judged at the publication date, or at `today` when an article has none."""
    universe = universe or load()
    today = today or date.today()
    articles = _with_as_of(articles, today)
    # named: the part of the universe the mentions name; the lookups below touch it alone
    found, named = find_mentions(articles.select("title", "body", "as_of"), universe)
    accepted = _accept(found, named, _index_words(universe)).with_columns(
        _entity_key().alias("entity_key")
    )
    entities = _entities(accepted, articles, named)
    return _number(entities, accepted)


def _entity_key() -> pl.Expr:
    """What a mention is a mention of: its company, else its unknown ticker or its text."""
    return (
        pl.when(pl.col("company_id").is_not_null())
        .then(pl.col("company_id").cast(pl.String))
        .when(pl.col("kind") == "marker")
        .then(pl.lit("ticker:") + pl.col("ticker"))
        .otherwise(pl.lit("org:") + pl.col("text").str.replace(r"^The\s+", ""))
    )


def _with_as_of(articles: pl.DataFrame, today: date) -> pl.DataFrame:
    """Add as_of: the date listing status is judged at."""
    published = []
    if "published_date" in articles.columns:
        published.append(pl.col("published_date"))
    if "published_at" in articles.columns:
        published.append(pl.col("published_at").dt.date())
    for column in ("title", "body"):
        if column not in articles.columns:
            articles = articles.with_columns(pl.lit("").alias(column))
    return articles.with_columns(
        pl.coalesce(*published, pl.lit(today)).alias("as_of"),
    )


def _accept(found: pl.DataFrame, named: Universe, index_words: pl.Series) -> pl.DataFrame:
    """Keep the mentions that are companies (or unresolved organisations and tickers);
    `named` holds their companies, `index_words` those of `_index_words`."""
    info = named.companies.select(
        "company_id",
        pl.col("kind").alias("company_kind"),
        pl.col("prominence").fill_null(0),
    )
    # A news outlet is the story's source ("Barron's Picks: 5 Stocks", "Jim Cramer on CNBC",
    # "Zacks Rank #3") unless a company cue or its legal name makes it the subject ("Benzinga
    # was acquired", "Bloomberg LP Weighs Sale").
    headline_case = pl.col("case").is_in(["title", "upper"])
    outlet_cue = (
        pl.when(headline_case).then(pl.col("strong_cue")).otherwise(pl.col("cue"))
        | pl.col("legal_after")
        | pl.col("text").str.contains(_LEGAL_END)
    )
    found = found.join(info, on="company_id", how="left").with_columns(
        (
            pl.col("source")
            | (pl.col("analyst") & pl.col("financial").fill_null(False))
            | pl.col("rating")
            | (pl.col("media").fill_null(False) & ~outlet_cue)
        ).alias("source")
    )
    not_companies = found.filter(pl.col("company_kind") == "not_company")
    found = found.filter(pl.col("company_kind").fill_null("") != "not_company")

    # A parenthesized ticker counts when its company is named right before it ("Apple Inc.
    # (AAPL)"), or when it is at least three letters and not the initials of the words before it.
    parenthesized = found.filter(pl.col("marker") == "parenthesized")
    if not parenthesized.is_empty():
        found = _judge_parenthesized(found, parenthesized)
    # A name inside a ticker marker is not a mention: the NASDAQ of "(NASDAQ: AAPL)", the IBM
    # of a list "IBM, ORCL, ADBE" (the marker itself stays).
    marker_rows = found.filter(pl.col("kind") == "marker")
    if not marker_rows.is_empty():
        names = found.filter(pl.col("kind") != "marker")
        names = names.join(
            _overlapping(names, marker_rows), on=["doc", "field", "start", "end"], how="anti"
        )
        found = pl.concat([names, marker_rows])

    # A sponsor's name inside a fund's name is the fund, not the sponsor ("Invesco S&P 500
    # Equal Weight ETF" is not Invesco Ltd.).
    found = found.filter(~(pl.col("fund_after") & pl.col("financial").fill_null(False)))

    # An ambiguous name (an ordinary word: Target, Gap, Block) needs corroboration.
    strong = pl.col("marker").is_not_null() | (
        (pl.col("kind") != "organisation")
        & pl.col("company_id").is_not_null()
        & ~pl.col("ambiguous")
    )
    corroborated = strong.any().over("doc", "company_id")
    # In a title-case or all-capitals headline a capital says nothing: the name needs a legal
    # suffix, a marker, a company cue that holds there ("Ford Shares Fall", "Dow to Cut Jobs"),
    # or the company confirmed elsewhere in the story. Elsewhere a capital is a clue: a household
    # name is the company wherever it stands capitalised; a well-known one when capitalised
    # mid-sentence; any other needs a cue ("Gap shares", "Target said"). A capitalised word
    # just before it makes it part of a longer name ("Harrison Ford"), also before a legal
    # suffix ("BMW of North America, LLC" is not "America, LLC"), and so does one just after a
    # name less than a household one that is no cue ("Buy On Cisco"; Apple Watch is Apple's).
    # A name an index or an exchange starts with ("Nasdaq", "Dow", "S&P") is the company only
    # with a cue that holds anywhere ("Nasdaq Inc said", "Dow shares"; not "Nasdaq stocks").
    index_name = pl.col("text").is_in(index_words.implode())
    loose_case = headline_case | index_name
    mid_sentence = ~pl.col("sentence_start") & ~loose_case
    household = (pl.col("prominence") == 2) & ~pl.col("verb_before") & ~index_name
    by_prominence = household | (
        (pl.col("prominence") == 1) & mid_sentence & ~pl.col("verb_before")
    )
    # a word opening a sentence before a line of the accounts is an adjective ("Total revenue
    # rose", "Net sales fell"), unless the company is well known ("Target sales fell")
    adjective = pl.col("sentence_start") & pl.col("accounts_after") & (pl.col("prominence") < 1)
    cue = pl.when(loose_case).then(pl.col("strong_cue")).otherwise(pl.col("cue") & ~adjective)
    name_after = pl.col("proper_after") & ~cue & (pl.col("prominence") < 2)
    longer_name = (pl.col("proper_before") | name_after) & ~loose_case
    by_context = (cue & ~pl.col("verb_before")) | by_prominence
    accept_ambiguous = (
        (pl.col("legal_after") & ~longer_name) | corroborated | (by_context & ~longer_name)
    )
    if found["ambiguous"].any():
        found = found.with_columns(accept_ambiguous.alias("accepted"))
        found = (
            found.join(_coordinated(found), on=["doc", "field", "start", "end"], how="left")
            .filter(
                ~pl.col("ambiguous") | pl.col("accepted") | pl.col("coordinated").fill_null(False)
            )
            .drop("accepted", "coordinated")
        )

    # An organisation found by its legal suffix counts only where no known name stands.
    organisations = found.filter(pl.col("kind") == "organisation")
    if organisations.is_empty():
        return found
    known = pl.concat(
        [found.filter(pl.col("kind") != "organisation"), not_companies], how="diagonal_relaxed"
    )
    organisations = organisations.join(
        _overlapping(organisations, known), on=["doc", "field", "start", "end"], how="anti"
    )
    return pl.concat(
        [found.filter(pl.col("kind") != "organisation"), organisations], how="vertical_relaxed"
    )


def _judge_parenthesized(found: pl.DataFrame, parenthesized: pl.DataFrame) -> pl.DataFrame:
    """`found` without the parenthesized tickers that are not markers."""
    # (an as-of join: the company's nearest name ending before the marker, linear in mentions)
    named_before = (
        parenthesized.filter(pl.col("company_id").is_not_null())
        .select("doc", "field", "company_id", "start")
        .sort("start")
        .join_asof(
            found.filter(pl.col("kind") != "marker", pl.col("company_id").is_not_null())
            .select("doc", "field", "company_id", pl.col("end").alias("name_end"))
            .sort("name_end"),
            left_on="start",
            right_on="name_end",
            by=["doc", "field", "company_id"],
            strategy="backward",
            check_sortedness=False,
        )
        .filter(pl.col("start") - pl.col("name_end") <= 12)
        .select("doc", "field", "start", pl.lit(True).alias("named_before"))
        .unique()
    )
    found = found.join(named_before, on=["doc", "field", "start"], how="left")
    parenthesized_ok = pl.col("named_before").fill_null(False) | (
        (pl.col("ticker").str.len_chars() >= 3) & ~pl.col("spelled_out")
    )
    markers_ok = (
        (pl.col("kind") != "marker") | (pl.col("marker") != "parenthesized") | parenthesized_ok
    )
    return found.filter(markers_ok).drop("named_before")


@per_universe
def _index_words(universe: Universe) -> pl.Series:
    """The first words of index and exchange names ("Nasdaq" of "Nasdaq Composite", "Dow" of
    "Dow Jones Industrial Average"), as written and in capitals."""
    markets = universe.companies.filter(
        pl.col("kind") == "not_company",
        pl.col("reason").str.contains(r"\((?:index|exchange_venue)\)"),
    ).select("company_id")
    first = (
        universe.aliases.join(markets, on="company_id")
        .select(pl.col("alias").str.replace(r"^(?i:the)\s+", "").str.extract(r"^([\w&-]+)"))
        .to_series()
        .drop_nulls()
    )
    return pl.concat([first, first.str.to_uppercase()]).unique()


def _coordinated(found: pl.DataFrame) -> pl.DataFrame:
    """(doc, field, start, end) of the mentions joined by "and" or a comma to a company name
    accepted next to them ("GM and Delta", "Apple, Gap"), outside title-case headlines (where
    every word is capitalised, so "Apple, Nasdaq Rise" proves nothing)."""
    key = ["doc", "field", "start", "end"]
    accepted = found.filter(
        pl.col("company_id").is_not_null(),
        pl.col("kind") != "marker",
        ~pl.col("ambiguous") | pl.col("accepted"),
    )
    spans = found.filter(pl.col("case") == "sentence", ~pl.col("accepted")).select(
        *key,
        (pl.col("end") + pl.col("coord_after")).alias("next_start"),
        (pl.col("start") - pl.col("coord_before")).alias("previous_end"),
    )
    return (
        pl.concat(
            [
                spans.join(
                    accepted.select("doc", "field", pl.col("start").alias("next_start")),
                    on=["doc", "field", "next_start"],
                ).select(key),
                spans.join(
                    accepted.select("doc", "field", pl.col("end").alias("previous_end")),
                    on=["doc", "field", "previous_end"],
                ).select(key),
            ]
        )
        .unique()
        .with_columns(pl.lit(True).alias("coordinated"))
    )


def _overlapping(spans: pl.DataFrame, others: pl.DataFrame) -> pl.DataFrame:
    """The (doc, field, start, end) of `spans` that overlap any span of `others`.

    Linear in mentions (no pairs): positions are made global, (doc, field) groups laid end to
    end; a span overlaps another iff, of the others starting before it ends, the furthest
    reaching ends after it starts."""
    base = (pl.col("doc").cast(pl.Int64) * 2 + (pl.col("field") == "body").cast(pl.Int64)) * 2**32
    other = others.select(
        (base + pl.col("start")).alias("o_start"), (base + pl.col("end")).alias("o_end")
    ).sort("o_start")
    reach = pl.concat([pl.Series([-1], dtype=pl.Int64), other["o_end"].cum_max()])
    wanted = spans.select("doc", "field", "start", "end").unique()
    ends, starts = (wanted.select((base + pl.col(c)).alias(c))[c] for c in ("end", "start"))
    return wanted.filter(reach.gather(other["o_start"].search_sorted(ends, side="left")) > starts)


def _entities(accepted: pl.DataFrame, articles: pl.DataFrame, universe: Universe) -> pl.DataFrame:
    """Group mentions into entities, judge their status, and score them."""
    keyed = accepted.with_columns((pl.col("zone") == "boilerplate").alias("bp"))
    counted = keyed.filter(~pl.col("bp") & ~pl.col("source"))
    totals = counted.group_by("doc").agg(pl.len().alias("doc_mentions"))
    first = (
        counted.sort("doc", pl.col("field") != "title", "start")
        .group_by("doc")
        .agg(pl.col("entity_key").first().alias("first_key"))
    )
    grouped = keyed.group_by("doc", "entity_key").agg(
        pl.col("company_id").first(),
        pl.col("kind").first().alias("kind"),
        pl.col("ticker").drop_nulls().first().alias("marker_ticker"),
        pl.col("text").first().alias("text"),
        pl.col("note").drop_nulls().first().alias("note")
        if "note" in keyed.columns
        else pl.lit(None, pl.String).alias("note"),
        (~pl.col("bp") & ~pl.col("source")).sum().alias("n_mentions"),
        (~pl.col("bp")).sum().alias("n_visible"),
        ((pl.col("zone") == "title") & ~pl.col("source")).any().alias("in_title"),
        ((pl.col("zone") == "lead") & ~pl.col("source")).any().alias("in_lead"),
        (pl.col("marker").is_not_null() & ~pl.col("bp")).any().alias("marker"),
    )
    entities = (
        grouped.join(totals, on="doc", how="left")
        .join(first, on="doc", how="left")
        .join(articles.with_row_index("doc").select("doc", "article_id", "as_of", "body"), on="doc")
        .with_columns(
            (pl.col("n_mentions") / pl.col("doc_mentions")).fill_null(0.0).alias("share"),
            (pl.col("entity_key") == pl.col("first_key")).fill_null(False).alias("first"),
            # a headline-only story: the headline is its lead
            (
                pl.col("in_lead") | (pl.col("in_title") & (pl.col("body").str.len_chars() == 0))
            ).alias("in_lead"),
        )
    )
    score = (
        WEIGHTS["title"] * pl.col("in_title").cast(pl.Float64)
        + WEIGHTS["lead"] * pl.col("in_lead").cast(pl.Float64)
        + WEIGHTS["first"] * pl.col("first").cast(pl.Float64)
        + WEIGHTS["marker"] * pl.col("marker").cast(pl.Float64)
        + WEIGHTS["share"] * pl.col("share")
        + WEIGHTS["count"] * pl.min_horizontal(pl.col("n_mentions"), 3) / 3
    )
    role = (
        pl.when(pl.col("n_visible") == 0)
        .then(pl.lit("boilerplate"))
        .when(pl.col("n_mentions") == 0)
        .then(pl.lit("source"))
        .when(pl.col("relevance") >= SUBJECT_MIN)
        .then(pl.lit("subject"))
        .otherwise(pl.lit("mentioned"))
    )
    entities = entities.with_columns(score.round(0).clip(0, 100).cast(pl.Int32).alias("relevance"))
    entities = entities.with_columns(role.alias("role")).with_columns(
        pl.when(pl.col("role") == "boilerplate")
        .then(0)
        .when(pl.col("role") == "source")
        .then(pl.min_horizontal(pl.col("relevance"), SOURCE_MAX))
        .otherwise(pl.col("relevance"))
        .cast(pl.Int32)
        .alias("relevance")
    )
    return _with_status(entities, universe)


def _with_status(entities: pl.DataFrame, universe: Universe) -> pl.DataFrame:
    """Judge each entity as of its article's date: listed (its line that day), private (never
    listed, listed later, or no longer listed: with its fate), or unresolved; with the ticker of
    its parent or acquirer on that date."""
    companies = universe.companies.select(
        "company_id",
        "entity_id",
        pl.col("name").alias("company_name"),
        pl.col("kind").alias("company_kind"),
        "cik",
        "sector",
        "sector_etf",
        "parent_id",
        pl.col("reason").alias("company_reason"),
        "fate",
        "fate_date",
        "acquirer_id",
        "fate_note",
    )
    framed = entities.join(companies, on="company_id", how="left")
    lines = lines_as_of(universe, framed.filter(pl.col("company_id").is_not_null()))
    framed = framed.join(lines, on=["company_id", "as_of"], how="left").join(
        names_as_of(universe, lines), on=["company_id", "as_of"], how="left"
    )
    # a subsidiary's parent; a company that left the lists: its acquirer, once it was acquired
    gone = pl.col("ticker").is_null() & pl.col("last_ticker").is_not_null()
    framed = framed.with_columns(
        pl.coalesce("parent_id", pl.when(gone).then(pl.col("acquirer_id"))).alias("owner_id")
    )
    owners = framed.select(pl.col("owner_id").alias("company_id"), "as_of").drop_nulls()
    owner_lines = lines_as_of(universe, owners).select(
        pl.col("company_id").alias("owner_id"), "as_of", pl.col("ticker").alias("owner_ticker")
    )
    owner_names = universe.companies.select(
        pl.col("company_id").alias("owner_id"), pl.col("name").alias("owner_name")
    )
    framed = (
        framed.join(owner_lines, on=["owner_id", "as_of"], how="left")
        .join(owner_names, on="owner_id", how="left")
        .join(listing_records(universe), on="company_id", how="left")
    )
    is_listed = pl.col("ticker").is_not_null()
    known = pl.col("company_id").is_not_null()
    was_listed = (pl.col("company_kind") == "listed") & ~is_listed
    listed_later = (
        was_listed & pl.col("last_ticker").is_null() & pl.col("later_ticker").is_not_null()
    )
    ended = was_listed & pl.col("last_ticker").is_not_null()
    status = (
        pl.when(is_listed)
        .then(pl.lit("listed"))
        .when(known & (pl.col("company_kind") != "not_company"))
        .then(pl.lit("private"))
        .otherwise(pl.lit("unresolved"))
    )
    last_day = pl.coalesce("fate_date", pl.col("last_to") - pl.duration(days=1)).dt.to_string()
    buyer = pl.coalesce("owner_name", "fate_note")
    fate = (
        pl.when(pl.col("fate").is_in(["acquired", "merged"]) & buyer.is_not_null())
        .then(pl.format("part of {} since {}, was {}", buyer, last_day, "last_ticker"))
        .when(pl.col("fate") == "taken_private")
        .then(pl.format("taken private {}, was {}", last_day, "last_ticker"))
        .when(pl.col("fate") == "bankrupt")
        .then(pl.format("delisted {} after bankruptcy, was {}", last_day, "last_ticker"))
        .otherwise(pl.format("delisted {}, was {}", last_day, "last_ticker"))
    )
    reason = (
        pl.when(listed_later)
        .then(
            pl.format("listed later, {}, {}", "later_ticker", pl.col("later_from").dt.to_string())
        )
        .when(ended)
        .then(fate)
        .when(pl.col("company_kind") == "private")
        .then(pl.col("company_reason"))
        .when(~known & (pl.col("kind") == "marker"))
        .then(pl.format("ticker {} is not in the universe", pl.col("marker_ticker")))
        .when(~known)
        .then(pl.lit("organisation with a legal suffix, not in the universe"))
        .otherwise(pl.col("note"))
    )
    return framed.with_columns(
        status.alias("status"),
        reason.alias("reason"),
        pl.coalesce("name_then", "company_name", pl.col("text")).alias("name"),
        pl.when(is_listed).then(pl.col("us_ticker")).alias("us_ticker"),
        pl.col("owner_ticker").alias("parent_ticker"),
    )


def _number(entities: pl.DataFrame, accepted: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Order entities by relevance within each article and attach the mention rows."""
    entities = entities.sort(
        "doc", "relevance", "n_mentions", "name", descending=[False, True, True, False]
    )
    entities = entities.with_columns(  # 0, 1, ... within each article
        (per_doc(pl.int_range(1, pl.len() + 1)) - 1).cast(pl.Int32).alias("entity_idx")
    )
    keys = entities.select("doc", "entity_key", "article_id", "entity_idx")
    mentions = (
        accepted.join(keys, on=["doc", "entity_key"])
        .sort("doc", "entity_idx", pl.col("field") != "title", "start")
        .select(MENTION_COLUMNS)
    )
    return entities.select(ENTITY_COLUMNS), mentions


def tag(
    text: str,
    *,
    title: str = "",
    published: str | date | datetime | None = None,
    article_id: str | None = None,
    universe: Universe | None = None,
) -> dict:
    """Tag one article; returns its record (see `records`). Uses a shared warm
    `tagger.warm.Tagger` (build one to tag many articles against another universe).

    >>> tag("Shares of Tilray (NASDAQ: TLRY) rose.")["entities"][0]["ticker"]
    'TLRY'
    """
    from tagger.warm import Tagger, default_tagger  # tagger.warm builds on this module

    tagger = Tagger(universe) if universe is not None else default_tagger()
    return tagger.tag(text, title, published, article_id=article_id)


def _published(value: str | date | datetime | None) -> tuple[datetime | None, date | None]:
    if value is None or value == "":
        return None, None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InputError(f"published {value}: give a timezone (e.g. tzinfo=UTC)")
        return value.astimezone(UTC), None
    if isinstance(value, date):
        return None, value
    try:
        instant, day, _ = parse_published(value)
    except ValueError as e:
        raise InputError(f"published: {e}") from None
    return instant, day


def records(
    articles: pl.DataFrame, entities: pl.DataFrame, mentions: pl.DataFrame
) -> Iterator[dict]:
    """One nested record per article, in input order: {"id", "published_at", "status_as_of",
    "entities": [{"name", "status", "ticker", "exchange", "cik", "sector", "relevance", "role",
    "parent_ticker", "reason", "components", "mentions": [{"field", "start", "end", "text",
    "zone"}]}]}. published_at is the time as given; status_as_of the date listing status was
    judged at (the publication date, or today when there is none)."""
    frame = nested_records(articles, entities, mentions)
    yield from frame.iter_rows(named=True)


def nested_records(
    articles: pl.DataFrame, entities: pl.DataFrame, mentions: pl.DataFrame
) -> pl.DataFrame:
    """`records` as a polars frame with nested columns (fast to write as JSON lines)."""
    per_entity = mentions.group_by("article_id", "entity_idx").agg(
        pl.struct("field", "start", "end", "text", "zone").alias("mentions")
    )
    components = pl.struct(
        pl.col("in_title").alias("title"),
        pl.col("in_lead").alias("lead"),
        pl.col("first"),
        pl.col("marker"),
        pl.col("share").round(3).alias("share"),
        pl.col("n_mentions").alias("mentions"),
    ).alias("components")
    entity = pl.struct(
        "name",
        "status",
        "ticker",
        "exchange",
        "currency",
        "us_ticker",
        "entity_id",
        "cik",
        "sector",
        "relevance",
        "role",
        "parent_ticker",
        "reason",
        pl.col("as_of").dt.to_string().alias("as_of"),
        "listings",
        components,
        "mentions",
    )
    per_article = (
        entities.join(per_entity, on=["article_id", "entity_idx"], how="left")
        .sort("article_id", "entity_idx")
        .group_by("article_id", maintain_order=True)
        .agg(entity.alias("entities"))
    )
    published = _published_text(articles)
    today = date.today()
    return (
        articles.select(
            pl.col("article_id").alias("id"),
            published.alias("published_at"),
            _with_as_of(articles, today)["as_of"].dt.to_string().alias("status_as_of"),
            pl.col("article_id"),
        )
        .join(per_article, on="article_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("entities").fill_null(pl.lit([], dtype=per_article.schema["entities"]))
        )
        .drop("article_id")
    )


def _published_text(articles: pl.DataFrame) -> pl.Expr:
    parts = []
    if "published_raw" in articles.columns:
        parts.append(pl.col("published_raw").replace("", None))
    if "published_at" in articles.columns:
        parts.append(pl.col("published_at").dt.to_string("%Y-%m-%dT%H:%M:%SZ"))
    if "published_date" in articles.columns:
        parts.append(pl.col("published_date").dt.to_string())
    return pl.coalesce(*parts, pl.lit(None, pl.String)) if parts else pl.lit(None, pl.String)


def store_tags(con, entities: pl.DataFrame, mentions: pl.DataFrame) -> int:
    """Replace the stored entities and mentions of the tagged articles; returns entity rows."""
    tagged = entities.select("article_id").unique()
    columns = [c for c in ENTITY_COLUMNS[: ENTITY_COLUMNS.index("as_of") + 1]]
    with transaction(con):
        con.register("tagged_articles", tagged)
        con.register("new_entities", entities.select(columns))
        con.register("new_mentions", mentions.select(MENTION_COLUMNS))
        try:
            con.execute(
                "DELETE FROM mentions WHERE article_id IN (SELECT article_id FROM tagged_articles)"
            )
            con.execute(
                "DELETE FROM entities WHERE article_id IN (SELECT article_id FROM tagged_articles)"
            )
            con.execute(f"INSERT INTO entities ({', '.join(columns)}) SELECT * FROM new_entities")
            con.execute(
                'INSERT INTO mentions (article_id, entity_idx, field, "start", "end", text, zone) '
                "SELECT * FROM new_mentions"
            )
        finally:
            for name in ("tagged_articles", "new_entities", "new_mentions"):
                con.unregister(name)
    return entities.height
