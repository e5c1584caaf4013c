"""Finding company mentions in articles: alias matches, ticker markers, zones and context.

Everything here works on a whole corpus at once with polars expressions (no Python per row):
- `fields`: one row per (article, field) with the text folded to ASCII for matching, and the
  headline's case (a title-case or all-capitals headline capitalises ordinary words too);
- `zones`: where each body's lead ends and which lines are boilerplate (image credits,
  copyright and disclaimer footers, promos, author/editor and generated-by lines);
- `find_mentions`: every candidate mention with the facts `tagger.resolve` decides on.

Offsets are character offsets into the field's text as given (see tagger.text for why the
folded text's byte offsets are exactly those).
"""

from functools import cache

import polars as pl

from tagger.markets import venues
from tagger.matcher import alias_automata
from tagger.text import fold
from tagger.universe import (
    LEGAL_SUFFIX,
    Universe,
    companies_of_tickers,
    listings_of_tickers,
    restrict,
    valid_on,
)

CONTEXT = 48  # characters of context kept on each side of a mention

# A line that is boilerplate from its start (image credits, copyright, promos, bylines...).
_BOILERPLATE_START = (
    r"(?i)^\s*(?:"
    r"(?:featured |cover |header |top )?(?:image|photo|photograph|picture|video|chart|graphic|"
    r"illustration|logo)s?\s*(?:via|by|credit|courtesy|source|from|:)|"
    r"(?:photo |image )?(?:credit|source)s?\s*:|"
    r"\u00a9|\(c\)\s*\d{4}|copyright\b|disclaimer\b|disclosure\b|"
    r"(?:read next|also read|read more|see also|related|don't miss|recommended|more from|"
    r"check out|trending|sponsored|advertisement|click here|sign up|subscribe)\b|"
    r"(?:engineered|edited|written|reported|compiled|produced|posted) by\b|"
    r"(?:reporting|editing|additional reporting|writing) by\b|"
    r"by\s+[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3}\s*(?:,|$)|"
    r"this (?:article|story|post|content) (?:was|is|has been|first|originally)\b|"
    r"trade confidently\b"
    r")"
)
# A (short) line that is boilerplate wherever the phrase stands in it.
_BOILERPLATE_ANYWHERE = (
    r"(?i)(?:all rights reserved|does not provide investment advice|not investment advice|"
    r"for informational purposes only|(?:has|have|hold|holds) (?:no )?positions? in\b|"
    r"disclosure policy|content generation system|"
    r"(?:generated|written|created|produced|drafted) (?:by|with|using|with the help of) "
    r"(?:an? )?(?:ai\b|artificial intelligence|gpt|automated|machine|benzinga neuro)|"
    r"originally (?:published|appeared)|the views and opinions expressed|"
    r"learn more\.?\s*$|see the full (?:article|story))"
)
_SHORT_LINE = 400

# "Twitter's board", "Twitter board accepts": the people of a company, not an ordinary word
_BOARD = (
    r"'s?\s+(?:board|chairman|chairwoman|directors|spokesperson|spokesman|spokeswoman)\b|"
    r"\s+board\s+(?:accepts|accepted|approves|approved|rejects|rejected|backs|backed|votes|"
    r"voted|agrees|agreed|names|named|says|said)\b"
)
# Words that, right after a name, say it is acting as a company (not price moves: gold and
# oil rise and fall too).
_CUE_AFTER = (
    r"(?i)^(?:'s?)?(?:\s*\(|,?\s+(?:" + LEGAL_SUFFIX + r"|shares?|stocks?|CEO|CFO|chief|"
    r"executives?|earnings|revenue|sales|profits?|results|quarterly|investors|shareholders|"
    r"said|says|announced|announces|unveiled|unveils|launched|launches|posted|agreed|"
    r"acquired|acquires|stake|guidance|downgrade|upgrade|price target|PT|reports|names|"
    r"appoints|declares|completes|prices (?:its|an?|the|\$|\d|upsized|offering|ipo|initial|"
    r"public|senior|notes)|files|receives|signs|settles|withdraws|partners|"
    r"hires|expands|closes|beats|misses|raises|lowers|sees|Q[1-4]|"
    # what companies do and commodities and people seldom do ("Ford recalled 100,000 trucks")
    r"recalled|recalls|sued|sues|delivered|delivers|shipped|ships|introduced|introduces|"
    r"disclosed|discloses|warned|warns|hired|laid off|lays off|plans to|intends to|aims to|"
    r"(?:was|is being|will be|to be) (?:acquired|sold|bought|taken private)|"
    r"(?:cut|cuts) (?:[\d,]+ jobs|its (?:forecast|outlook|guidance|dividend|workforce|prices))|"
    r"(?:will|to) (?:cut|buy|acquire|close|open|invest|lay off|"
    r"hire|report|pay))\b|" + _BOARD + ")"
)
# In a title-case or all-capitals headline every word is capitalised and a noun after a word
# may be its object ("Oracle to Post Q2 Results"): only these cues after a name count there.
_STRONG_CUE_AFTER = (
    r"(?i)^(?:'s?)?(?:\s*\(|,?\s+(?:" + LEGAL_SUFFIX + r"|shares?|stock|CEO|CFO|chief|"
    r"executives?|investors|shareholders|said|says|announced|announces|unveiled|unveils|"
    r"launched|launches|agreed|agrees|acquired|acquires|reports|reported|names|appoints|"
    r"declares|completes|files|receives|signs|settles|withdraws|partners|hires|expands|beats|"
    r"misses|raises|lowers|to (?:buy|acquire|cut|sell|lay off|invest|raise|report)|"
    r"(?:was|is being|will be|to be) (?:acquired|sold|bought|taken private)|"
    r"(?:closes|opens|shuts|recalls|sues|buys|sells|cuts|plans|wins|lays off|invests|"
    r"launches|expands) (?:its|their|a|an|\d))\b|" + _BOARD + ")"
)
# A modal or "to" right before a word in a headline makes it a verb ("Oracle to Post Results",
# "Chipmaker Will Target Growth").
_VERB_BEFORE = r"(?i)\b(?:to|will|would|could|may|might|can|should|must)\s+$"
# "Ford and GM", "GM, Ford": a name coordinated with another company name
_COORD_AFTER = r"^(\s*(?:,\s*(?:(?:and|&)\s+)?|(?:and|&)\s+))[A-Z]"
_COORD_BEFORE = r"[\w.)'](\s*(?:,\s*(?:(?:and|&)\s+)?|\s+(?:and|&)\s+))$"
# A fund's name after its sponsor's ("Invesco S&P 500 Equal Weight ETF", "iShares Core ... ETF")
_FUND_AFTER = r"^(?:\s+(?:[A-Z0-9][\w&.'/+-]*|&))*?\s+(?:ETFs?|ETNs?|Funds?)\b"
# A line of the accounts right after a word ("Total revenue", "Net sales"): a word opening a
# sentence before one is an adjective more often than a company
_ACCOUNTS_AFTER = (
    r"^\s+(?:revenues?|sales|earnings|profits?|income|results|margins?|costs|expenses)\b"
)
# Words that, right before a name, say it is a company.
_CUE_BEFORE = (
    r"(?i)(?:shares of|stake in|rivals?|retailer|giant|maker|company|firm|peers?|competitors?|"
    r"owner|parent|unit of|subsidiary of|acquisition of|(?:buy|sell|hold|neutral|outperform|"
    r"underperform|overweight|underweight|equal-weight|perform|pt|price target) on|"
    r"upgrades?|downgrades?|initiates?|maintains?|reiterates?|companies like|such as)\s+$"
)
_LEGAL_AFTER = r"^(?:'s)?,?\s+(?:" + LEGAL_SUFFIX + r")(?:\W|$)"
_SENTENCE_START = r"(?:^|[.!?:;]\s+|\n\s*|[\"(\[]\s*|\s-\s+)$"
# A capitalised word right before the name: part of a longer proper noun ("Harrison Ford",
# "UPI News")...
_PERSON_BEFORE = r"(?:^|[^\w.])([A-Z][\w&'.-]*)\s+$"
# ...but not a word that ends the sentence before ("...sell to Elon Musk. Tesla shares fell"):
# two letters or more and a full stop, and not a title (Mr. Ford, St. Jude).
_SENTENCE_END_WORD = r"^[A-Z][\w&'-]*[a-z]\.$"
_TITLE_WORD = r"^(?:Mr|Mrs|Ms|Dr|Prof|St|Mt|Ft|Gen|Sen|Rep|Gov|Lt|Col|Capt|Sgt|Rev|Hon|Messrs)\.$"
# A capitalised word right after the name, unless it is a cue or a legal suffix ("Buy On
# Cisco", "Block Island"; not "Apple IncAAPL.O").
_PROPER_AFTER = r"^\s[A-Z][a-z]"
_SUFFIX_AFTER = r"^\s(?:" + LEGAL_SUFFIX + ")"
_NOT_PERSON = (
    r"^(?:The|A|An|This|That|These|Those|In|On|At|For|With|By|From|And|But|Or|As|If|While|"
    r"When|Why|How|What|After|Before|Since|Rival|Retailer|Giant|Shares|Stock|Buy|Sell|Hold|"
    r"Analysts?|Investors?|Meanwhile|Also|Like|Unlike|Both|Including|About|Over|Under|Why)$"
)
_SOURCE_BEFORE = (
    r"(?i)(?:reported|reports|according to|told|citing|cited|via|per|wrote|writes|"
    r"reported by|(?:first )?reported by|reporting by|sources told|in an interview with|"
    r"in a statement to)\s+(?:the\s+)?$"
)
# "...(Reuters) -" datelines and "Bloomberg reported that/, citing": not "Alkermes Reports Q2".
_SOURCE_AFTER = (
    r"(?i)^(?:\)\s*-|\s+(?:first\s+)?reported(?:\s+earlier)?(?:\s+on\s+\w+)?"
    r"\s*(?:,|that\b|citing\b))"
)
# A bank or broker acting as an analyst ("Morgan Stanley upgraded the stock", "analysts at
# Citi"): the source of an opinion, not what the story is about (tagger.resolve applies it to
# financial-sector companies and the companies they own only; `_RATING_AFTER` to any).
_ANALYST_BEFORE = r"(?i)(?:analysts? (?:at|from|with)|according to)\s+$"
# the words after a broker's name that are still its name ("RBC Capital", "Stifel Nicolaus")
_BROKER_TAIL = r"(?:\s+(?:Capital Markets|Capital|Securities|ISI|Nicolaus|& Co\.?|& Company))?"
# verbs of a broker's note: a rating, coverage resumed, a price target moved
_RATING_VERBS = (
    "upgrades|upgraded|downgrades|downgraded|initiates|initiated|reiterates|reiterated|"
    "maintains|maintained"
)
_COVERAGE_VERBS = "resumes|resumed|assumes|assumed|reinstates|reinstated"
_TARGET_VERBS = "raises|raised|lowers|lowered|cuts|cut|lifts|lifted|boosts|boosted|trims|trimmed"
_ANALYST_AFTER = (
    r"(?i)^(?:'s)?"
    + _BROKER_TAIL
    + r"\s+(?:analysts?|research|strategists?|economists?|"
    + _RATING_VERBS
    + r"|assigned|rates?|(?:starts|started|"
    + _COVERAGE_VERBS
    + r") coverage|"
    # "Jefferies Bullish On Home Health", "Credit Suisse Adjusts Its Top Picks"
    r"(?:turns |gets )?(?:bullish|bearish|cautious|constructive) on|"
    r"(?:[\w']+ ){0,2}top picks?|sees (?:upside|downside)|"
    # "Deutsche Bank Raises Price Target On Apple", "Mizuho Lifts Nvidia Target", "set a $90
    # target"; not "Goldman raised its dividend"
    r"(?:" + _TARGET_VERBS + r"|hikes|hiked|sets|set)"
    r"\s+(?:[\w$&'.-]+\s+){0,3}?(?:price target|PT|target|rating|estimates)\b)"
)
_RATINGS = (
    r"(?:strong )?(?:buy|sell|hold|neutral|outperform|underperform|overweight|underweight|"
    r"equal[- ]weight|market perform|sector perform|peer perform|in-line|reduce|accumulate)"
)
# A rating action names a broker whatever company it is ("Cantor Fitzgerald Maintains Align
# Technology at Hold", "Wedbush Increases PT to $11", "DA Davidson Upgrades Calumet to
# Neutral"); not "Intel cuts jobs to hold costs".
_RATING_AFTER = (
    r"(?i)^(?:'s)?"
    + _BROKER_TAIL
    + r"\s+(?:(?:"
    + "|".join((_RATING_VERBS, _COVERAGE_VERBS, _TARGET_VERBS, "increases|increased"))
    + r")\s+(?:[\w$&'.,-]+\s+){0,6}?(?:(?:to|at) "
    + _RATINGS
    + r"(?:\s*(?:$|[,;.:)-])|"
    r"\s+(?:rating|from|and|with|on)\b)|price target|PT\b|coverage\b)|"
    r"(?:maintains|maintained|reiterates|reiterated|initiates|initiated|assigns|rates) "
    + _RATINGS
    + r"(?: rating)? on\b)"
)

_EXCHANGES = (
    r"NASDAQ|Nasdaq|NYSE American|NYSE Arca|NYSEARCA|NYSEAMERICAN|NYSEMKT|NYSE|AMEX|ARCA|"
    r"BATS|CBOE|Cboe|OTCQX|OTCQB|OTCMKTS|OTC Markets|OTC"
)
# Yahoo exchange suffixes of non-US listings (7203.T, 005930.KS, RIO.L), longest first
_SUFFIXES = "|".join(
    sorted({v.suffix[1:] for v in venues().values() if v.suffix}, key=lambda s: (-len(s), s))
)
_US_TICKER = r"[A-Z][A-Z0-9]{0,5}(?:[.-][A-Z]{1,2})?"
_TICKER = rf"(?:[A-Z0-9]{{1,6}}(?:-[A-Z])?\.(?:{_SUFFIXES})\b|{_US_TICKER})"
# Exchange prefixes of non-US listings ("(TYO: 7203)", "(KRX: 005930)", "(LSE: RIO)") and the
# Yahoo suffix their codes take
FOREIGN_EXCHANGES = {
    "TYO": ".T", "TSE": ".T", "KRX": ".KS", "KOSPI": ".KS", "KOSDAQ": ".KQ", "HKEX": ".HK",
    "HKG": ".HK", "SEHK": ".HK", "LSE": ".L", "LON": ".L", "ASX": ".AX", "TSX": ".TO",
    "TSXV": ".V", "SIX": ".SW", "SWX": ".SW", "XETRA": ".DE", "ETR": ".DE", "FRA": ".DE",
    "EPA": ".PA", "AMS": ".AS", "SSE": ".SS", "SHA": ".SS", "SZSE": ".SZ", "SHE": ".SZ",
    "TWSE": ".TW", "TPE": ".TW", "NSE": ".NS", "BOM": ".BO", "OSL": ".OL", "STO": ".ST",
    "CPH": ".CO", "HEL": ".HE", "BIT": ".MI", "BME": ".MC", "JSE": ".JO", "SGX": ".SI",
    "BVMF": ".SA", "BMV": ".MX",
}  # fmt: skip
# Reuters codes after a name ("Alcoa AA.N", "Norsk Hydro NHY.OL"): .N/.O/.OQ are US venues
_RIC_US = ("OQ", "N", "O")
_RIC_OTHER = {"S": "SW", "VX": "SW"}
_MARKERS = {
    "exchange": rf"\b(?:{_EXCHANGES})\s*:\s*{_US_TICKER}\b",
    "foreign": rf"\b(?:{'|'.join(FOREIGN_EXCHANGES)})\s*:\s*[A-Z0-9]{{1,6}}(?:[.-][A-Z])?\b",
    "cashtag": rf"(?:^|[^\w$])\${_TICKER}\b",
    "parenthesized": rf"\(\s*{_TICKER}\s*\)",
    "ric": rf"(?:^|[^\w.$(])[A-Z0-9]{{1,6}}(?:-[A-Z])?\."
    rf"(?:{'|'.join(_RIC_US)}|{'|'.join(_RIC_OTHER)}|{_SUFFIXES})(?:[^\w.]|$)",
}
# Upper-case abbreviations news puts in parentheses that are not tickers.
NOT_TICKERS = (
    "AI IT CEO CFO COO CTO EPS ETF ETFS IPO EV EVS US USA UK EU GDP CPI PPI PCE ESG API AR VR ML "
    "IOT SAAS YOY QOQ ROI ROE TTM ATM OTC FY PT TV PC USD EUR GBP JPY CNY BTC ETH NFT LLM GPU "
    "CPU EBIT EBITDA FCF NAV AUM REIT SPAC M&A R&D ADR ADS NYSE NASDAQ SEC FDA FTC DOJ FED ECB "
    "IMF OPEC NATO WHO UN CEOS OK HQ PR Q1 Q2 Q3 Q4 H1 H2 II III IV"
).split()
_TICKER_LIST = (
    r"\b[A-Z]{1,5}(?:[.-][A-Z])?"
    r"(?:(?:\s*,\s*(?:(?:and|And|&)\s+)?|\s+(?:and|And|&)\s+)[A-Z]{1,5}(?:[.-][A-Z])?){2,}\b"
)
# A capitalised name ending in a legal suffix: an organisation even if the universe lacks it.
# Connecting words inside a name ("BMW of North America, LLC") keep it one organisation; a
# comma only before the suffix ("Wilmington, Delaware, Acme Research, Inc." names Acme only).
_ORGANISATION = (
    r"\b[A-Z][A-Za-z0-9&'.-]*(?:\s+(?:(?:of|and|&|de)\s+)?[A-Z][A-Za-z0-9&'.-]*){0,3},?\s+"
    r"(?:Inc|Corp|Corporation|Ltd|LLC|plc|PLC|GmbH|AG|S\.A|N\.V|Holdings|Co|Bancorp|"
    r"Bancshares|Bankshares)\b\.?"
)
# Capitalised verb forms of the article's ticker cue: "Meta Platforms Inc. META is set to..."
_BARE_TICKER_AFTER = rf"^(?:'s)?(?:,?\s+(?:{LEGAL_SUFFIX}))?\s+({_TICKER})(?:\W|$)"


@cache
def _lowered(pattern: str) -> str:
    """A case-insensitive pattern rewritten for lower-cased text: much faster in polars' regex
    engine than (?i). Letters are lowered except after a backslash (\\W stays \\W)."""
    out, escaped = [], False
    for ch in pattern.removeprefix("(?i)"):
        out.append(ch if escaped else ch.lower())
        escaped = ch == "\\" and not escaped
    return "".join(out)


def fields(articles: pl.DataFrame) -> pl.DataFrame:
    """One row per non-empty (article, field): doc (row number), field, text, folded, and
    as_of (the date names and tickers are read at) when the articles have it."""
    docs = articles.with_row_index("doc")
    if "as_of" not in docs.columns:
        docs = docs.with_columns(pl.lit(None, pl.Date).alias("as_of"))
    parts = [
        docs.select(
            "doc",
            pl.lit(name).alias("field"),
            pl.col(name).fill_null("").alias("text"),
            "as_of",
        )
        for name in ("title", "body")
        if name in docs.columns
    ]
    texts = pl.concat(parts).filter(pl.col("text").str.len_chars() > 0)
    ascii_only = pl.col("text").str.len_bytes() == pl.col("text").str.len_chars()
    folded = pl.concat(  # folding is needed only where a character is not ASCII
        [
            texts.filter(ascii_only).with_columns(pl.col("text").alias("folded")),
            texts.filter(~ascii_only).with_columns(fold(pl.col("text")).alias("folded")),
        ],
        rechunk=True,  # joins gather strings from one buffer set, not one copy per chunk
    )
    title = pl.col("field") == "title"
    return pl.concat(  # only headlines have a case of their own
        [
            folded.filter(title).with_columns(_headline_case().alias("case")),
            folded.filter(~title).with_columns(pl.lit("sentence").alias("case")),
        ],
        rechunk=True,
    )


# Title case leaves these (four letters or more) lower case: "Apple Rises With Nvidia" is as
# title case as "Apple Rises with Nvidia".
_TITLE_CASE_LOWER = "with|from|into|onto|over|than|that|upon|amid|about|after|under"


def _headline_case() -> pl.Expr:
    """Of a headline: 'upper' when all capitals, 'title' in title case (no lower-case word of
    four letters or more but those title case leaves lower), else 'sentence'."""
    text = pl.col("folded")
    capitalised = text.str.count_matches(r"\b[A-Z][A-Za-z'-]{3,}")
    # a lower-case word of four letters or more that title case would capitalise
    lower = text.str.count_matches(r"\b[a-z][a-z'-]{3,}") > text.str.count_matches(
        r"\b(?:" + _TITLE_CASE_LOWER + r")\b"
    )
    return (
        pl.when(~text.str.contains("[a-z]") & (text.str.count_matches("[A-Z]{2,}") >= 2))
        .then(pl.lit("upper"))
        .when((capitalised >= 2) & ~lower)
        .then(pl.lit("title"))
        .otherwise(pl.lit("sentence"))
    )


def _cased(fielded: pl.DataFrame) -> pl.DataFrame:
    """`fielded` with each all-capitals headline's folded text in title case ("APPLE, MICROSOFT
    LEAD" -> "Apple, Microsoft Lead"): names are matched and read in it as in a title-case
    headline. Same length, so offsets hold."""
    upper = pl.col("case") == "upper"
    titled = pl.col("folded").str.to_titlecase().str.replace_all(r"'S\b", "'s")
    return pl.concat(
        [fielded.filter(~upper), fielded.filter(upper).with_columns(titled.alias("folded"))],
        rechunk=True,  # as in `fields`: joins gather from one buffer set
    )


def zones(fielded: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Boilerplate spans of the bodies (doc, bp_start, bp_end) and each body's lead end."""
    lines = (
        fielded.filter(pl.col("field") == "body")
        .select("doc", pl.col("text").str.split("\n").alias("line"))
        .explode("line")
        .with_columns(pl.col("line").str.len_chars().alias("length"))
        .with_columns(per_doc((pl.col("length") + 1).cum_sum()).alias("next_start"))
        .with_columns(
            (pl.col("next_start") - pl.col("length") - 1).alias("start"),
            (
                pl.col("line").str.contains(_BOILERPLATE_START)
                | (
                    (pl.col("length") < _SHORT_LINE)
                    & pl.col("line")
                    .str.to_lowercase()
                    .str.contains(_lowered(_BOILERPLATE_ANYWHERE))
                )
            ).alias("boilerplate"),
        )
    )
    # A footer block: from a boilerplate line on, if every later line is boilerplate or short.
    lines = (
        lines.with_columns((pl.col("boilerplate") | (pl.col("length") < 200)).alias("footerish"))
        .with_columns(
            # no line from here to the body's end that is not footerish
            (per_doc(_count_to_end(~pl.col("footerish")), backward=True) == 0).alias("tail_ok"),
        )
        .with_columns(
            (
                pl.col("boilerplate")
                | (
                    pl.col("tail_ok")
                    & (per_doc(pl.col("boilerplate").cast(pl.Int64).cum_sum()) > 0)
                )
            ).alias("boilerplate")
        )
    )
    spans = lines.filter("boilerplate").select(
        "doc",
        pl.col("start").alias("bp_start"),
        (pl.col("start") + pl.col("length")).alias("bp_end"),
    )
    # The lead: the first sentence ending after 100 characters, within the first content line.
    first_line = (
        lines.filter(~pl.col("boilerplate"), pl.col("length") > 0)
        .group_by("doc")
        .agg((pl.col("start") + pl.col("length")).first().alias("line_end"))
    )
    lead = (
        fielded.filter(pl.col("field") == "body")
        .select(
            "doc",
            (pl.col("folded").str.slice(100).str.find(r"[.!?]\s") + 101).alias("sentence_end"),
        )
        .join(first_line, on="doc", how="left")
        .select(
            "doc",
            pl.min_horizontal(
                pl.col("sentence_end").fill_null(1 << 30), pl.col("line_end").fill_null(1 << 30)
            ).alias("lead_end"),
        )
    )
    return spans, lead


def _count_to_end(flag: pl.Expr) -> pl.Expr:
    """How many rows from this one to the last have `flag`."""
    return flag.cast(pl.Int64).reverse().cum_sum().reverse()


def per_doc(running: pl.Expr, *, backward: bool = False) -> pl.Expr:
    """`running`, a running sum over all rows, restarted at each doc's first row (at its last,
    for a sum `backward` from the end): the sum reached before the doc's rows is taken off. A
    doc's rows must be consecutive. Much cheaper than a window per doc (`.over("doc")`)."""
    if backward:
        edge = pl.col("doc") != pl.col("doc").shift(-1)
        return (
            running
            - pl.when(edge.fill_null(True)).then(running.shift(-1).fill_null(0)).backward_fill()
        )
    edge = pl.col("doc") != pl.col("doc").shift(1)
    return (
        running - pl.when(edge.fill_null(True)).then(running.shift(1).fill_null(0)).forward_fill()
    )


_SPAN_COLUMNS = {"start": pl.Int64, "end": pl.Int64, "match": pl.String}


def _spans(fielded: pl.DataFrame, pattern: str, *, keep: tuple[str, ...] = ()) -> pl.DataFrame:
    """Regex matches with offsets: doc, field, start, end, match (plus the `keep` columns).

    polars gives the matched strings but not where they are, so the texts with matches are
    scanned again with one Aho-Corasick automaton of all distinct matches (longest first)."""
    keep = list(keep)
    found = fielded.select(
        "doc", "field", *keep, "folded", pl.col("folded").str.extract_all(pattern).alias("hits")
    ).filter(pl.col("hits").list.len() > 0)
    if found.is_empty():
        return found.select(
            "doc", "field", *keep, *(pl.lit(None, t).alias(c) for c, t in _SPAN_COLUMNS.items())
        )
    hits = found.select(pl.col("hits").explode().unique()).sort(
        pl.col("hits").str.len_bytes(), descending=True
    )["hits"]
    return (
        found.select(
            "doc",
            "field",
            *keep,
            pl.col("folded").str.find_many(pl.lit(hits).implode(), leftmost=True).alias("start"),
            pl.col("folded").str.extract_many(pl.lit(hits).implode(), leftmost=True).alias("match"),
        )
        .explode("start", "match")
        .drop_nulls("start")
        .with_columns(
            pl.col("start").cast(pl.Int64),
            (pl.col("start").cast(pl.Int64) + pl.col("match").str.len_bytes()).alias("end"),
        )
        .select("doc", "field", *keep, "start", "end", "match")
    )


def alias_matches(fielded: pl.DataFrame, universe: Universe) -> pl.DataFrame:
    """Whole-word alias matches, leftmost-longest (a longer name wins over a name inside it).

    Ambiguous, short and all-capitals aliases match with their exact case. Others match
    ignoring case (their lower-case keys in the lower-cased text), but a match must start with a
    capital (or as the alias does: eBay) so that "best buy" is not Best Buy."""
    automata = alias_automata(universe)  # built once per universe (tagger.matcher)
    found = []
    upper = fielded.with_row_index("_row").filter(pl.col("case") == "upper")
    passes = (
        (automata.exact, fielded["folded"], None),
        (automata.folded, fielded["folded"].str.to_lowercase(), None),
        (automata.exact, _cased(upper)["folded"], upper["_row"]),
    )
    read = fielded.select("doc", "field", "folded", "as_of")  # matches are read in the original
    for automaton, texts, rows in passes:
        matched = automaton.find(texts)
        at = matched["row"] if rows is None else rows.gather(matched["row"])
        found.append(read[at].hstack(matched.drop("row")))
    matches = pl.concat(found).with_columns(
        pl.col("start").cast(pl.Int64),
        (pl.col("start").cast(pl.Int64) + pl.col("key").str.len_bytes()).alias("end"),
    )
    named = _named_on_date(matches)
    named = named.filter(_word_boundaries())
    # the style test is for case-insensitive matches alone (exact ones are as their alias is)
    loose = named.filter(~pl.col("exact")).filter(_styled())
    return _leftmost_longest(pl.concat([named.filter("exact"), loose]))


def _named_on_date(matches: pl.DataFrame) -> pl.DataFrame:
    """Each match's company: of the companies its alias may name (a row each), the first (by
    rank) whose name was in use on the article's date, else the first. Exact-case matches of an
    all-capitals headline's two passes at one place: the first pass's on a tie."""
    # _place: one number per (doc, field, start, exact), which sorts faster than four columns
    body = (pl.col("field") == "body").cast(pl.Int64)
    place = (pl.col("doc").cast(pl.Int64) * 2 + body) * 2**33 + pl.col("start") * 2
    return (
        matches.with_columns(
            (place + pl.col("exact").cast(pl.Int64)).alias("_place"),
            (valid_on(pl.col("as_of")) | pl.col("as_of").is_null()).not_().alias("out_of_date"),
        )
        .sort("_place", "out_of_date", "rank", maintain_order=True)
        .unique("_place", keep="first", maintain_order=True)
        .drop("_place", "rank", "valid_from", "valid_to", "out_of_date", "source")
    )


def _cut(column: str, start: pl.Expr | int, length: pl.Expr | int) -> pl.Expr:
    """`str.slice` of ASCII text (folded text is) in constant time: `str.slice` walks the string
    from its start, quadratic over the many mentions of one long article."""
    return pl.col(column).cast(pl.Binary).bin.slice(start, length).cast(pl.String)


def _word_boundaries() -> pl.Expr:
    before = _cut("folded", pl.col("start") - 1, 1)
    after = _cut("folded", pl.col("end"), 1)
    return ((pl.col("start") == 0) | ~before.str.contains(r"[\w$@]")) & ~after.str.contains(r"\w")


def _styled() -> pl.Expr:
    """A case-insensitive match starts with a capital, or as its alias does (eBay, iPhone)."""
    first = _cut("folded", pl.col("start"), 1)
    alias_first = pl.col("alias").str.slice(0, 1)
    # "the Nasdaq" for the alias "The Nasdaq": the article may be lower case
    article = _cut("folded", pl.col("start"), 5).str.contains(r"^the [A-Z]")
    return (
        ~first.str.contains(r"[a-z]")
        | (pl.col("alias").str.contains(r"[A-Z]") & (first == alias_first))
        | (pl.col("alias").str.contains(r"^The [A-Z]") & article)
    )


def _leftmost_longest(matches: pl.DataFrame) -> pl.DataFrame:
    """Keep a match only if it starts after every earlier-starting (or longer) match ends.

    Positions are made global, (doc, field) groups being laid end to end, so one sort and one
    running maximum do it."""
    base = (pl.col("doc").cast(pl.Int64) * 2 + (pl.col("field") == "body").cast(pl.Int64)) * 2**32
    ordered = matches.with_columns((base + pl.col("start")).alias("_start")).sort(
        "_start", "end", "exact", descending=[False, True, True]
    )
    covered = (base + pl.col("end")).cum_max().shift(1)
    return ordered.filter(covered.is_null() | (pl.col("_start") >= covered)).drop("_start")


def _list_markers(fielded: pl.DataFrame, universe: Universe) -> pl.DataFrame:
    """Tickers in a list of three or more ("SPY, QQQ, AAPL, MSFT and TSLA") where most tokens
    are known tickers: a list of symbols is itself the marker."""
    lists = _spans(fielded, _TICKER_LIST)
    if lists.is_empty():
        return lists.with_columns(pl.lit(None, pl.String).alias("symbol"))
    tokens = _spans(
        lists.select(
            "doc", "field", pl.col("start").alias("offset"), pl.col("match").alias("folded")
        ),
        rf"\b{_TICKER}\b",
        keep=["offset"],
    ).with_columns(
        (pl.col("start") + pl.col("offset")).alias("start"),
        (pl.col("end") + pl.col("offset")).alias("end"),
        pl.col("match").alias("symbol"),
    )
    known = (
        listings_of_tickers(universe, tokens["symbol"])
        .select(pl.col("ticker").alias("symbol"), pl.lit(True).alias("known"))
        .unique("symbol")
    )
    tokens = tokens.join(known, on="symbol", how="left").with_columns(
        (pl.col("known").fill_null(False) & ~pl.col("symbol").is_in(NOT_TICKERS)).alias("known")
    )
    good_lists = tokens.group_by("doc", "field", "offset").agg(
        (pl.col("known").mean() >= 0.5).alias("good")  # old lists name delisted tickers too
    )
    return (
        tokens.join(good_lists, on=["doc", "field", "offset"])
        .filter("good", "known")
        .select("doc", "field", "start", "end", "match", "symbol")
    )


_MARKER_COLUMNS = pl.Schema(
    {
        "doc": pl.UInt32,
        "field": pl.String,
        **_SPAN_COLUMNS,
        "marker": pl.String,
        "ticker": pl.String,
        "company_id": pl.Int32,
    }
)


def marker_matches(fielded: pl.DataFrame, universe: Universe) -> pl.DataFrame:
    """Ticker markers: exchange markers (NYSE: BA), cashtags ($TSLA), parenthesized (AAPL).
    Unknown tickers are kept (company_id null) for exchange markers only."""
    found = []
    for kind, pattern in _MARKERS.items():
        spans = _spans(fielded, pattern)
        if not spans.is_empty():
            found.append(_marker_symbols(spans.with_columns(pl.lit(kind).alias("marker")), kind))
    lists = _list_markers(fielded, universe)
    if not lists.is_empty():
        found.append(lists.with_columns(pl.lit("list").alias("marker")))
    if not found:
        return pl.DataFrame(schema=_MARKER_COLUMNS)
    markers = pl.concat(found, how="diagonal_relaxed").with_columns(
        _as_ticker(pl.col("symbol")).alias("ticker")
    )
    markers = _ticker_on_date(markers, fielded, universe)
    return markers.filter(
        pl.col("marker").is_in(["exchange", "foreign"])
        | (pl.col("company_id").is_not_null() & ~pl.col("symbol").is_in(NOT_TICKERS))
    ).select("doc", "field", "start", "end", "match", "marker", "ticker", "company_id")


def _marker_symbols(spans: pl.DataFrame, kind: str) -> pl.DataFrame:
    """The symbol each marker names (Yahoo style), and its span without the characters the
    pattern needed around it (the one before a cashtag, around a Reuters code)."""
    match = pl.col("match")
    if kind == "foreign":
        prefix = match.str.extract(r"^(\w+)")
        code = match.str.extract(r":\s*([A-Z0-9.-]+)$")
        hong_kong = prefix.replace_strict(FOREIGN_EXCHANGES, default="") == ".HK"
        code = pl.when(hong_kong).then(code.str.zfill(4)).otherwise(code)
        symbol = code + prefix.replace_strict(FOREIGN_EXCHANGES, default="")
    elif kind == "ric":
        code = match.str.extract(r"([A-Z0-9]{1,6}(?:-[A-Z])?)\.")
        suffix = match.str.extract(r"\.([A-Z]+)")
        symbol = (
            pl.when(suffix.is_in(_RIC_US))
            .then(code)
            .otherwise(code + "." + suffix.replace(_RIC_OTHER))
        )
    else:
        symbol = match.str.extract(rf"({_TICKER})\s*\)?$")
    lead = match.str.contains(r"^[^A-Za-z0-9$(]") & pl.lit(kind in ("cashtag", "ric"))
    trail = match.str.contains(r"[^A-Za-z0-9)]$") & pl.lit(kind == "ric")
    return spans.with_columns(
        symbol.alias("symbol"),
        (pl.col("start") + lead.cast(pl.Int64)).alias("start"),
        (pl.col("end") - trail.cast(pl.Int64)).alias("end"),
    )


def _as_ticker(symbol: pl.Expr) -> pl.Expr:
    """A symbol as listings spell it: a US class separator becomes a dash (BRK.B -> BRK-B); a
    non-US listing keeps its exchange suffix (RIO.L)."""
    foreign = symbol.str.contains(rf"\.(?:{_SUFFIXES})$")
    return pl.when(foreign).then(symbol).otherwise(symbol.str.replace(r"\.", "-"))


def _ticker_on_date(
    markers: pl.DataFrame, fielded: pl.DataFrame, universe: Universe
) -> pl.DataFrame:
    """The company each marker's ticker named on the article's date (see
    `tagger.universe.companies_of_tickers`)."""
    dated = markers.join(fielded.select("doc", "as_of").unique("doc"), on="doc", how="left")
    return companies_of_tickers(universe, dated).drop("as_of")


def find_mentions(articles: pl.DataFrame, universe: Universe) -> tuple[pl.DataFrame, Universe]:
    """Every candidate mention with the facts needed to accept it, place it and score it, and
    the part of `universe` it names (`tagger.universe.restrict`).

    Columns: doc, field, start, end, text (as written), company_id, kind (alias kind,
    'marker', or 'organisation' for a legal-suffix name found by pattern), ambiguous,
    marker (exchange|cashtag|parenthesized|bare|null), ticker (marker's ticker), zone
    (title|lead|body|boilerplate), case (the field's: upper|title|sentence), and context
    flags: financial (a bank, broker or the like, or a company one owns), source, analyst,
    rating (a rating action after it: a broker, whatever its sector),
    spelled_out (a marker that is the initials of the words before it)
    and, read for ambiguous names and financial companies alone (see
    `_with_corroboration_context`), legal_after, cue, strong_cue (a cue that holds in a
    title-case headline), verb_before, coord_after/coord_before (the length of an "and"/comma
    joining the name to the next/previous word), fund_after, accounts_after (a line of the
    accounts after it: "Total revenue"), sentence_start, proper_before, proper_after.
    """
    fielded = fields(articles)
    aliases = alias_matches(fielded, universe).select(
        "doc",
        "field",
        "start",
        "end",
        "company_id",
        "kind",
        "ambiguous",
        "note",
        pl.lit(None, pl.String).alias("marker"),
        pl.lit(None, pl.String).alias("ticker"),
    )
    markers = marker_matches(fielded, universe).select(
        "doc",
        "field",
        "start",
        "end",
        "company_id",
        pl.lit("marker").alias("kind"),
        pl.lit(False).alias("ambiguous"),
        "marker",
        "ticker",
    )
    organisations = _spans(fielded, _ORGANISATION).select(
        "doc",
        "field",
        "start",
        "end",
        pl.lit(None, pl.Int32).alias("company_id"),
        pl.lit("organisation").alias("kind"),
        pl.lit(False).alias("ambiguous"),
        pl.lit(None, pl.String).alias("marker"),
        pl.lit(None, pl.String).alias("ticker"),
    )
    ascii_text = pl.col("text").str.len_bytes() == pl.col("text").str.len_chars()
    mentions = pl.concat([aliases, markers, organisations], how="diagonal_relaxed").join(
        _cased(fielded).select("doc", "field", "text", "case", "folded", ascii_text.alias("ascii")),
        on=["doc", "field"],
    )
    named = restrict(universe, mentions["company_id"])
    mentions = _with_context(mentions, named)
    spans, lead = zones(fielded)
    mentions = _as_written(_with_zone(mentions, spans, lead))
    return mentions.drop("folded", "before", "after", "ascii"), named


def _as_written(mentions: pl.DataFrame) -> pl.DataFrame:
    """Each mention's text as written: a byte slice of ASCII text; else a Python slice of its
    field's text (polars' `str.slice` walks the string from its start: quadratic over the many
    mentions of one long article)."""
    cut = mentions.select(
        pl.when(pl.col("ascii")).then(
            _cut("text", pl.col("start"), pl.col("end") - pl.col("start"))
        )
    ).to_series()
    wide = mentions.with_row_index("row").filter(~pl.col("ascii"))
    if not wide.is_empty():
        texts = {
            (doc, field): text
            for doc, field, text in wide.unique(["doc", "field"])
            .select("doc", "field", "text")
            .iter_rows()
        }
        rows = wide.select("doc", "field", "start", "end").iter_rows()
        cut = cut.scatter(wide["row"], [texts[d, f][start:end] for d, f, start, end in rows])
    return mentions.with_columns(cut.alias("text"))


def _with_context(mentions: pl.DataFrame, named: Universe) -> pl.DataFrame:
    """The facts read around each mention; `named` holds (at least) the mentions' companies."""
    before = _cut(
        "folded",
        pl.max_horizontal(pl.col("start") - CONTEXT, 0),
        pl.col("start") - pl.max_horizontal(pl.col("start") - CONTEXT, 0),
    )
    after = _cut("folded", pl.col("end"), CONTEXT)
    framed = mentions.with_columns(before.alias("before"), after.alias("after")).with_columns(
        pl.col("before").str.to_lowercase().alias("before_lower"),
        pl.col("after").str.to_lowercase().alias("after_lower"),
    )
    before_lower, after_lower = pl.col("before_lower"), pl.col("after_lower")
    framed = _with_corroboration_context(framed, named).with_columns(
        (
            before_lower.str.contains(_lowered(_SOURCE_BEFORE))
            | after_lower.str.contains(_lowered(_SOURCE_AFTER))
        ).alias("source"),
        (
            before_lower.str.contains(_lowered(_ANALYST_BEFORE))
            | after_lower.str.contains(_lowered(_ANALYST_AFTER))
        ).alias("analyst"),
        after_lower.str.contains(_lowered(_RATING_AFTER)).alias("rating"),
        pl.col("after").str.extract(_BARE_TICKER_AFTER).alias("bare_symbol"),
        # "artificial intelligence (AI)": the marker only spells out the words before it
        (
            pl.when(pl.col("ticker").is_not_null())  # only markers have one: the rest is null
            .then(pl.col("before"))
            .str.extract_all(r"\b[A-Za-z]")
            .list.tail(pl.col("ticker").str.len_chars())
            .list.join("")
            .str.to_uppercase()
            == pl.col("ticker")
        )
        .fill_null(False)
        .alias("spelled_out"),
    )
    # Benzinga style "Cardinal Health's CAH short interest": the company's own ticker right after
    own = named.listings.select(
        pl.col("ticker").alias("bare_symbol"), "company_id", pl.lit(True).alias("bare_own")
    ).unique(["bare_symbol", "company_id"])
    framed = framed.join(own, on=["bare_symbol", "company_id"], how="left").with_columns(
        pl.when(pl.col("marker").is_null() & pl.col("bare_own").fill_null(False))
        .then(pl.lit("bare"))
        .otherwise(pl.col("marker"))
        .alias("marker")
    )
    return framed.drop("bare_symbol", "bare_own", "before_lower", "after_lower")


def _financial_ids(companies: pl.DataFrame) -> pl.Series:
    """The ids of banks, brokers, insurers and the like, and of the companies they own (TD
    Cowen, Credit Suisse): the names that may stand for a firm's analysts."""
    in_sector = pl.col("sector").is_in(["Financials", "Finance"]).fill_null(False)
    owners = companies.filter(in_sector)["company_id"]
    return companies.filter(in_sector | pl.col("parent_id").is_in(owners.implode()))["company_id"]


def _with_corroboration_context(framed: pl.DataFrame, universe: Universe) -> pl.DataFrame:
    """The context only ambiguous names, financial companies and news outlets are judged on
    (legal_after, cue, strong_cue, sentence_start, proper_before, proper_after, verb_before,
    coord_after, coord_before, fund_after, accounts_after), read for those mentions alone (false
    or null for others): most mentions are none of them, and these patterns are costly over a
    large corpus."""
    financial = pl.col("company_id").is_in(_financial_ids(universe.companies).implode())
    outlets = universe.companies.filter(pl.col("media").fill_null(False))["company_id"]
    media = pl.col("company_id").is_in(outlets.implode())
    framed = framed.with_columns(
        financial.fill_null(False).alias("financial"), media.fill_null(False).alias("media")
    ).with_columns(
        (pl.col("ambiguous").fill_null(False) | pl.col("financial") | pl.col("media")).alias(
            "_wanted"
        )
    )
    after_lower = pl.col("after_lower")
    cue_before = pl.col("before_lower").str.contains(_lowered(_CUE_BEFORE))
    person = pl.col("before").str.extract(_PERSON_BEFORE)
    word = person.fill_null("")
    judged = framed.filter("_wanted").with_columns(
        pl.col("after").str.contains(_LEGAL_AFTER).alias("legal_after"),
        (after_lower.str.contains(_lowered(_CUE_AFTER)) | cue_before).alias("cue"),
        (after_lower.str.contains(_lowered(_STRONG_CUE_AFTER)) | cue_before).alias("strong_cue"),
        pl.col("before").str.contains(_SENTENCE_START).alias("sentence_start"),
        (
            person.is_not_null()
            & ~word.str.contains(_NOT_PERSON)
            & (~word.str.contains(_SENTENCE_END_WORD) | word.str.contains(_TITLE_WORD))
        ).alias("proper_before"),
        (
            pl.col("after").str.contains(_PROPER_AFTER)
            & ~pl.col("after").str.contains(_SUFFIX_AFTER)
        ).alias("proper_after"),
        (
            (pl.col("field") == "title")
            & pl.col("before_lower").str.contains(_lowered(_VERB_BEFORE))
        ).alias("verb_before"),
        pl.col("after").str.extract(_COORD_AFTER).str.len_chars().alias("coord_after"),
        pl.col("before").str.extract(_COORD_BEFORE).str.len_chars().alias("coord_before"),
        pl.col("after").str.contains(_FUND_AFTER).alias("fund_after"),
        pl.col("after").str.contains(_ACCOUNTS_AFTER).alias("accounts_after"),
    )
    others = framed.filter(~pl.col("_wanted")).with_columns(
        pl.lit(False).alias("legal_after"),
        pl.lit(False).alias("cue"),
        pl.lit(False).alias("strong_cue"),
        pl.lit(False).alias("sentence_start"),
        pl.lit(False).alias("proper_before"),
        pl.lit(False).alias("proper_after"),
        pl.lit(False).alias("verb_before"),
        pl.lit(None, pl.UInt32).alias("coord_after"),
        pl.lit(None, pl.UInt32).alias("coord_before"),
        pl.lit(False).alias("fund_after"),
        pl.lit(False).alias("accounts_after"),
    )
    return pl.concat([judged, others], how="vertical_relaxed").drop("_wanted")


def _with_zone(mentions: pl.DataFrame, spans: pl.DataFrame, lead: pl.DataFrame) -> pl.DataFrame:
    # boilerplate spans are disjoint lines: the one holding a mention is the last starting at or
    # before it (an as-of join, linear in mentions)
    in_bp = (
        mentions.filter(pl.col("field") == "body")
        .select("doc", "field", "start")
        .unique()
        .sort("start")
        .join_asof(
            spans.sort("bp_start"),
            left_on="start",
            right_on="bp_start",
            by="doc",
            strategy="backward",
            check_sortedness=False,
        )
        .filter(pl.col("start") < pl.col("bp_end"))
        .select("doc", "field", "start", pl.lit(True).alias("in_boilerplate"))
        .unique()
    )
    return (
        mentions.join(in_bp, on=["doc", "field", "start"], how="left")
        .join(lead, on="doc", how="left")
        .with_columns(
            pl.when(pl.col("field") == "title")
            .then(pl.lit("title"))
            .when(pl.col("in_boilerplate").fill_null(False))
            .then(pl.lit("boilerplate"))
            .when(pl.col("start") < pl.col("lead_end").fill_null(1 << 30))
            .then(pl.lit("lead"))
            .otherwise(pl.lit("body"))
            .alias("zone")
        )
        .drop("in_boilerplate", "lead_end")
    )
