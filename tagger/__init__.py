"""market-tagger: which listed companies is a news story about, and how did their stocks react.

The library is the product; the `tagger` command line is a thin layer over it.

    >>> from tagger import tag
    >>> tag("Shares of Tilray (NASDAQ: TLRY) rose.")["entities"][0]["ticker"]
    'TLRY'

Pipeline (data flows one way): articles -> mentions -> resolve (entities) -> prices ->
sessions -> events -> study -> report.

`import tagger` is cheap: the names below load their module (polars, DuckDB, the universe) on
first use, so `tagger --help` does not pay for them.
"""

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_LAZY = {
    "Tagger": "tagger.warm",
    "nested_records": "tagger.resolve",
    "read_articles": "tagger.articles",
    "records": "tagger.resolve",
    "store_articles": "tagger.articles",
    "store_tags": "tagger.resolve",
    "tag": "tagger.resolve",
    "tag_articles": "tagger.resolve",
}
__all__ = ["__version__", *sorted(_LAZY)]

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ loads them
    from tagger.articles import read_articles as read_articles
    from tagger.articles import store_articles as store_articles
    from tagger.resolve import nested_records as nested_records
    from tagger.resolve import records as records
    from tagger.resolve import store_tags as store_tags
    from tagger.resolve import tag as tag
    from tagger.resolve import tag_articles as tag_articles
    from tagger.warm import Tagger as Tagger


def __getattr__(name: str):
    """Load a public name's module on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'tagger' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
