"""market-tagger: which listed companies is a news story about, and how did their stocks react.

The library is the product; the `tagger` command line is a thin layer over it.

    >>> from tagger import tag
    >>> tag("Shares of Tilray (NASDAQ: TLRY) rose.")["entities"][0]["ticker"]
    'TLRY'

Pipeline (data flows one way): articles -> mentions -> resolve (entities) -> prices ->
sessions -> events -> study -> report.
"""

from tagger.articles import read_articles, store_articles
from tagger.resolve import nested_records, records, store_tags, tag, tag_articles

__all__ = [
    "nested_records",
    "read_articles",
    "records",
    "store_articles",
    "store_tags",
    "tag",
    "tag_articles",
]
