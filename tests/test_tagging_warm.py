"""The warm Tagger: one article at a time gives exactly what the corpus path gives."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from tagger import Tagger, read_articles, tag, tag_articles
from tagger.resolve import records

ROOT = Path(__file__).parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "articles").iterdir())
DEMO = ROOT / "data" / "articles" / "demo.jsonl"


@pytest.fixture(scope="module")
def articles():
    return read_articles([*FIXTURES, DEMO]).articles


def _published(row: dict):
    return row["published_raw"] or row["published_at"] or row["published_date"]


def _one_at_a_time(tagger: Tagger, row: dict) -> dict:
    return tagger.tag(
        row["body"] or "", row["title"], _published(row), article_id=row["article_id"]
    )


def test_warm_tagger_agrees_with_corpus_path(articles):
    entities, mentions = tag_articles(articles)
    corpus = {r["id"]: r for r in records(articles, entities, mentions)}
    tagger = Tagger()
    for row in articles.iter_rows(named=True):
        one = _one_at_a_time(tagger, row)
        assert json.dumps(one, default=str) == json.dumps(corpus[row["article_id"]], default=str)


def test_tagger_is_safe_to_share_between_threads(articles):
    tagger = Tagger()
    rows = list(articles.head(8).iter_rows(named=True))
    alone = [_one_at_a_time(tagger, row) for row in rows]
    with ThreadPoolExecutor(4) as pool:
        shared = list(pool.map(lambda row: _one_at_a_time(tagger, row), rows))
    assert shared == alone


def test_tag_uses_the_shared_tagger():
    text = "Shares of Tilray (NASDAQ: TLRY) rose."
    assert tag(text, published=date(2024, 1, 2)) == Tagger().tag(text, None, date(2024, 1, 2))
