"""Company names: what a listing's name says, and the forms news writes it in.

Pure functions over strings and polars expressions; no files.
"""

import re

import polars as pl

from tagger.text import fold

# Words a company name may end with that say what kind of legal entity it is.
LEGAL_SUFFIX = (
    r"Inc\.?|Incorporated|Corp\.?|Corporation|Co\.?|Company|Companies|Ltd\.?|Limited|PLC|plc|"
    r"P\.L\.C\.|LLC|L\.L\.C\.|LP|L\.P\.|N\.V\.|NV|S\.A\.|SA|S\.A\.B\. de C\.V\.|AG|SE|ASA|AB|"
    r"Oyj|A/S|S\.p\.A\.|SpA|GmbH|Tbk|Bhd|Pte|Pty|KGaA|S\.E\."
)
_LEGAL_TAIL = re.compile(rf"(?i)(?:,?\s+(?:{LEGAL_SUFFIX}|& Co\.?|and Co\.?))+\s*$")
_GROUP_TAIL = re.compile(r"(?i)(?:,?\s+(?:Holdings?|Group|Company|and Company))+\s*$")
_SECURITY_TAIL = re.compile(
    r"(?i)\s*(?:[-–,]\s*)?(?:\(?\b(?:Class|Series)\s+[A-Z0-9]+\)?\b.*|(?:New\s+)?Common\s+(?:Stock|Shares).*|"
    r"Capital Stock.*|Ord(?:inary|\.)? Shares?.*|American Deposit[ao]ry.*|"
    r"(?:Un)?sponsored [AG]DR.*|(?<=.)(?:/|\b)(?:ADSs?|[AG]DRs?)\b.*|Closed End Fund.*|"
    r"Business Development Company.*|"
    r"Real Estate Investment Trust$|Common Shares?.*|(?<= - )(?:Common|Voting|American)$|"
    r"(?:New York )?Registry Shares.*|Registered Shares.*|"
    r"Depositary (?:Shares|Receipts?).*|Shares of Beneficial Interest.*|Subordinate Voting.*|"
    r"Limited Partnership Units.*|Common Units.*|(?<=.)\b(?:Units|Warrants?|Rights?)\b.*)$"
)
_DROP_CORE = re.compile(r"^(?:The|A|An|New|First|Global|American|United|National|General)$")

SECURITY_TYPES = ("common", "ADR", "ETF", "preferred", "unit", "warrant", "right", "note")
_TYPE_PATTERNS = [
    # a name that ends by saying it is the common stock is ("Preferred Bank - Common Stock")
    ("common", r"(?i)partnership units|common units|(?:common stock|(?:common|ordinary) shares)$"),
    ("ADR", r"(?i)american depositary|\bADSs?\b|\bADRs?\b"),
    ("warrant", r"(?i)\bwarrants?\b"),
    ("right", r"(?i)\brights?\b"),
    ("unit", r"(?i)\bunits?\b"),
    ("preferred", r"(?i)preferred|\bpfd\b|%|perpetual"),
    ("note", r"(?i)\bnotes?\b|debentures?|\bbonds?\b"),
]


def normalize_ticker(expr: pl.Expr) -> pl.Expr:
    """US listing spelling: upper case, class separators `.` and `/` become `-` (BRK.B -> BRK-B).
    For US symbols only: a non-US Yahoo symbol keeps its exchange suffix (7203.T)."""
    return expr.str.strip_chars().str.to_uppercase().str.replace_all(r"[./]", "-")


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


def name_key(expr: pl.Expr) -> pl.Expr:
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
