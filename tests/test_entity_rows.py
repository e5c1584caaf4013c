"""Entity rows (the table `tagger spark tag` writes) and `tagger run --tags`, without Spark: the
rows round-trip to the corpus path's frames, and tags that do not fit the articles are one
clear line before anything is stored."""

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from tagger import read_articles, store, tag_articles
from tagger.cli import app
from tagger.entity_rows import ROW_SCHEMA, entity_rows, read_tags, split_entity_rows
from tagger.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
NEWS = FIXTURES / "news.jsonl"
runner = CliRunner()


@pytest.fixture(scope="module")
def tagged():
    batch = read_articles([NEWS])
    entities, mentions = tag_articles(batch.articles)
    return batch.articles, entities, mentions


def test_rows_follow_the_schema_and_split_back(tagged):
    articles, entities, mentions = tagged
    rows = entity_rows(articles, entities, mentions)
    assert rows.to_arrow().cast(ROW_SCHEMA).schema == ROW_SCHEMA
    assert rows.height == entities.height > 0
    back_entities, back_mentions = split_entity_rows(rows)
    assert_frame_equal(back_entities.drop("share"), entities.drop("share"))
    assert_frame_equal(back_mentions.sort(pl.all()), mentions.sort(pl.all()))


def test_run_with_tags_stores_them_instead_of_tagging(tagged, tmp_path):
    articles, entities, mentions = tagged
    folder = tmp_path / "tags"  # a folder of part files, as Spark writes it
    (folder / "_temporary").mkdir(parents=True)
    rows = entity_rows(articles, entities, mentions)
    rows.head(3).write_parquet(folder / "part-0.parquet")
    rows.slice(3).write_parquet(folder / "part-1.parquet")
    rows.head(1).write_parquet(folder / "_temporary" / "part-0.parquet")  # not read

    db = tmp_path / "t.duckdb"
    args = ["run", NEWS, "--tags", folder, "--out", tmp_path / "out", "--db", db, "--offline"]
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code in (0, 3), result.output
    con = store.connect(db)
    stored = con.execute("SELECT count(*) FROM entities").fetchone()[0]
    con.close()
    assert stored == entities.height


def test_tags_of_other_articles_or_twice_are_one_line(tagged, tmp_path):
    articles, entities, mentions = tagged
    rows = entity_rows(articles, entities, mentions)
    other = tmp_path / "other.parquet"
    rows.with_columns(pl.lit("elsewhere").alias("id")).write_parquet(other)
    with pytest.raises(InputError, match=r"not among the articles read \(first 'elsewhere'"):
        read_tags(other, articles["article_id"])
    twice = tmp_path / "twice.parquet"
    pl.concat([rows, rows.head(1)]).write_parquet(twice)
    with pytest.raises(InputError, match="is tagged twice"):
        read_tags(twice, articles["article_id"])
    plain = tmp_path / "articles.parquet"
    articles.select(pl.col("article_id").alias("id"), "body").write_parquet(plain)
    with pytest.raises(InputError, match=r"not a table of entity rows \(no column 'published_at'"):
        read_tags(plain, articles["article_id"])

    db = tmp_path / "t.duckdb"
    args = ["run", NEWS, "--tags", other, "--out", tmp_path / "out", "--db", db, "--offline"]
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "not among the articles read" in line
    con = store.connect(db)
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 0  # nothing stored
    con.close()
