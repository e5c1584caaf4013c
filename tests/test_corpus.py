"""Tagging in chunks: the same tags, and the same output bytes, as tagging all at once."""

from pathlib import Path

import polars as pl
import pytest

from tagger import output, read_articles, tag_articles
from tagger.corpus import Tally, tag_chunks
from tagger.output import Format
from tagger.resolve import nested_records

ROOT = Path(__file__).parent.parent
INPUTS = [ROOT / "data" / "articles" / "demo.jsonl", ROOT / "tests" / "fixtures" / "articles"]


@pytest.fixture(scope="module")
def whole():
    batch = read_articles(INPUTS)
    entities, mentions = tag_articles(batch.articles)
    return batch, nested_records(batch.articles, entities, mentions)


@pytest.fixture(scope="module")
def chunked():
    tally = Tally()
    chunks = [nested_records(*chunk) for chunk in tag_chunks(INPUTS, chunk_articles=7, tally=tally)]
    return tally, chunks


def test_chunks_give_the_tags_and_counts_of_one_batch(whole, chunked):
    batch, records = whole
    tally, chunks = chunked
    assert len(chunks) > 5
    assert pl.concat(chunks).equals(records)
    assert tally.articles == batch.articles.height
    assert tally.summary() == batch.summary()


@pytest.mark.parametrize("fmt", [Format.jsonl, Format.json, Format.csv, Format.parquet])
def test_chunks_write_what_one_frame_writes(whole, chunked, fmt, tmp_path):
    _, records = whole
    _, chunks = chunked
    frames = chunks if fmt is not Format.csv else [c.drop("entities") for c in chunks]
    target = tmp_path / f"out.{fmt}"
    assert output.write_frames(iter(frames), fmt, target) == records.height
    if fmt is Format.parquet:
        assert pl.read_parquet(target).equals(pl.concat(frames))
    else:
        assert target.read_bytes() == output.frame_bytes(pl.concat(frames), fmt)


def test_nothing_to_write_writes_nothing(tmp_path):
    target = tmp_path / "out.jsonl"
    assert output.write_frames(iter([]), Format.jsonl, target) == 0
    assert not target.exists() and not list(tmp_path.iterdir())


def test_chunks_are_tagged_two_at_a_time_and_handed_out_in_order(monkeypatch):
    """Two chunks are tagged at once (on two threads), never more, and come out in order."""
    import threading
    import time

    from tagger import corpus
    from tagger.warm import Tagger

    tag = Tagger.tag_articles
    running, most = [0], []
    lock = threading.Lock()

    def slow_tag(self, frame):
        with lock:
            running[0] += 1
            most.append(running[0])
        time.sleep(0.05)  # long enough for the next chunk to be read and started
        try:
            return tag(self, frame)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(Tagger, "tag_articles", slow_tag)
    chunks = list(tag_chunks(INPUTS, chunk_articles=7))
    assert max(most) == corpus.TAGGING_THREADS == 2
    ids = pl.concat([frame["article_id"] for frame, _, _ in chunks])
    assert ids.equals(read_articles(INPUTS).articles["article_id"])
