"""The HTML pages of the reports, built with Jinja2 templates (`templates/`, autoescaped) from
plain rows, and the index's story data as a script (`data/stories-NNNN.js`).

Pages link with relative paths and load only `assets/` and `data/` of the report folder, so they
open from disk without a server or the network. The index's table is drawn by `assets/report.js`
from the story data, so that sorting, filtering and paging work on any number of stories.

    >>> highlighted("Apple and Nvidia rose", [{"start": 10, "end": 16, "entity_idx": 1}])
    [('Apple and ', None), ('Nvidia', 1), (' rose', None)]
"""

import json
import math
from collections.abc import Sequence
from functools import cache

import jinja2

from tagger import study
from tagger.report.charts import percent

SIGNIFICANCE = ((0.01, "***"), (0.05, "**"), (0.10, "*"))
MIN_EVENTS = 5  # a CAAR cell with fewer events shows "too few events", not a test
ROLES = ("subject", "mentioned", "source", "boilerplate")


@cache
def environment() -> jinja2.Environment:
    """The template environment: templates from this package, HTML autoescaped, undefined names
    an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("tagger.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(car=car_text, number=number_text, stars=stars, signed=signed_class)
    env.globals.update(window_label=study.window_label)
    return env


def render(template: str, **context) -> bytes:
    """The page `template` rendered with `context`, as UTF-8 bytes."""
    return environment().get_template(template).render(**context).encode()


# -- values ------------------------------------------------------------------------------------


def car_text(value: float | None) -> str:
    """A return as the pages show it: 0.01234 -> '+1.23%'; 'n/a' when missing."""
    return "n/a" if value is None or math.isnan(value) else percent(value, 2)


def number_text(value: float | None, digits: int = 2) -> str:
    """A statistic as the pages show it, with a true minus sign; '' when missing."""
    if value is None or math.isnan(value):
        return ""
    return f"{value:.{digits}f}".replace("-", "−")


def stars(p: float | None) -> str:
    """*** p < 0.01, ** p < 0.05, * p < 0.10 (two-sided), else ''."""
    return next((mark for level, mark in SIGNIFICANCE if p is not None and p < level), "")


def signed_class(value: float | None) -> str:
    """CSS class of a return: 'up', 'down' or '' (missing or zero)."""
    if value is None or math.isnan(value) or value == 0:
        return ""
    return "up" if value > 0 else "down"


def safe_url(url: str | None) -> str | None:
    """The article's address when it is a web address (http or https), else None: the pages
    never link a javascript: or file: address from the input."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def company_label(ticker: str | None, name: str, status: str) -> str:
    """How charts and tables name a measured company: its ticker, or for a private company
    measured through its listed parent, "LinkedIn via MSFT"."""
    return f"{name} via {ticker}" if status == "private" else (ticker or name)


def why_not_studied(row: dict) -> str | None:
    """For a company that was an event of the study but has no numbers, the reason in a few
    words ("no prices for ALGT"), else None."""
    if row["event_id"] is None or row["measured"]:
        return None
    return (row["note"] or "").removeprefix("not studied: ")


# -- story text --------------------------------------------------------------------------------


def highlighted(text: str, mentions: Sequence[dict]) -> list[tuple[str, int | None]]:
    """`text` cut into (piece, entity_idx) pairs: the mentions (start, end, entity_idx; Python
    string offsets, in text order) with their entity, the rest with None. A mention that
    overlaps an earlier one, or lies outside the text, is left out."""
    pieces, at = [], 0
    for mention in mentions:
        start, end = mention["start"], mention["end"]
        if start < at or end > len(text) or end <= start:
            continue
        if start > at:
            pieces.append((text[at:start], None))
        pieces.append((text[start:end], mention["entity_idx"]))
        at = end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces


def paragraphs(pieces: list[tuple[str, int | None]]) -> list[list[tuple[str, int | None]]]:
    """The pieces of a highlighted body split into paragraphs at blank lines (a single line
    break stays inside its paragraph)."""
    result: list[list[tuple[str, int | None]]] = [[]]
    for text, entity in pieces:
        if entity is not None:
            result[-1].append((text, entity))
            continue
        parts = text.replace("\r\n", "\n").split("\n\n")
        for i, part in enumerate(parts):
            if i:
                result.append([])
            if part.strip("\n"):
                result[-1].append((part.strip("\n") if len(parts) > 1 else part, None))
    return [p for p in result if p]


# -- index data ---------------------------------------------------------------------------------


def index_entry(
    folder: str, rows: Sequence[dict], text: dict, windows: Sequence[tuple[int, int]]
) -> dict:
    """One story of the index data: f folder, t published (UTC), h headline, u article address,
    p publisher, c companies [name, ticker, role, relevance, status, parent, why not studied],
    r measured events [label, car and p per window...]."""
    first = rows[0]
    suffixes = [study.window_suffix(w) for w in windows]
    companies = [
        [
            row["name"],
            row["ticker"],
            row["role"],
            row["relevance"],
            row["status"],
            row["parent_ticker"],
            why_not_studied(row),
        ]
        for row in rows
        if row["name"] is not None
    ]
    measured = [
        [
            company_label(row["measured_ticker"], row["name"], row["status"]),
            *(_rounded(row[f"{stat}_{suffix}"]) for suffix in suffixes for stat in ("car", "p")),
        ]
        for row in rows
        if row["measured"]
    ]
    return {
        "f": folder,
        "t": first["published_at"] or "",
        "h": first["headline"],
        "u": safe_url(text.get("url")) or "",
        "p": text.get("publisher") or "",
        "c": companies,
        "r": measured,
        **({"n": first["note"]} if not companies else {}),
    }


def data_script(entries: Sequence[dict]) -> bytes:
    """A data file of the index: a script that hands `entries` to the page
    (`taggerStories([...])`), since pages opened from disk cannot fetch JSON."""
    body = json.dumps(list(entries), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return f"taggerStories({body});\n".encode()


def _rounded(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)
