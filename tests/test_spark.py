"""Tagging on Spark (`tagger.spark`, `tagger spark tag`) gives the local corpus path's answers.

PySpark runs in local mode (`local[2]`) in one session shared by the module (starting Spark
takes seconds). Skipped where PySpark or Java is missing: `pip install 'market-tagger[spark]'`
and a Java 17+ runtime on PATH run them.
"""

import shutil
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

if shutil.which("java") is None:
    pytest.skip("Spark tests need Java 17+ on PATH", allow_module_level=True)
pytest.importorskip("pyspark", reason="Spark tests need pip install 'market-tagger[spark]'")

from typer.testing import CliRunner

from tagger import read_articles, tag_articles
from tagger import spark as tagger_spark
from tagger.cli import app
from tagger.entity_rows import entity_rows

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "articles" / "demo.jsonl"
FIXTURES = Path(__file__).parent / "fixtures" / "articles"
runner = CliRunner()


@pytest.fixture(scope="module")
def spark():
    session = tagger_spark.session(
        "local[2]",
        {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"},
    )
    yield session
    session.stop()


def local_rows(paths: list[Path]) -> pl.DataFrame:
    """The entity rows of the local corpus path on `paths`."""
    batch = read_articles(paths)
    return entity_rows(batch.articles, *tag_articles(batch.articles)).sort("id", "entity_idx")


def spark_rows(frame) -> pl.DataFrame:
    return pl.from_arrow(frame.toArrow()).sort("id", "entity_idx")


def test_spark_tags_as_the_local_path_row_for_row(spark):
    """The demo stories (JSON lines read by Spark, 3 partitions) and the Parquet fixture."""
    demo = spark.read.json(str(DEMO)).repartition(3)
    assert_frame_equal(spark_rows(tagger_spark.tag_articles(demo).entities), local_rows([DEMO]))
    assert tagger_spark.tag_articles(demo).problems.count() == 0

    polygon = FIXTURES / "polygon.parquet"  # description, published_utc: read as by `tagger tag`
    tags = tagger_spark.tag_articles(spark.read.parquet(str(polygon)))
    assert_frame_equal(spark_rows(tags.entities), local_rows([polygon]))


def test_bad_records_are_problem_rows_not_a_failed_job(spark):
    records = [
        ("ok", "Nvidia beats", "Nvidia Corp. (NASDAQ: NVDA) shares rose.", "2024-09-03T22:02:41Z"),
        ("no_text", "", None, "2024-09-03"),
        ("bad_time", "Apple", "Apple Inc. shares slipped.", "next Tuesday"),
        (None, None, "Tesla Inc. (NASDAQ: TSLA) fell.", "2024-13-45"),
    ]
    frame = spark.createDataFrame(records, "id string, title string, body string, date string")
    tags = tagger_spark.tag_articles(frame, {"published_at": "date"})
    assert {row["id"] for row in tags.entities.select("id").collect()} == {"ok"}
    problems = {(r["id"], r["field"]) for r in tags.problems.collect()}
    assert problems == {("no_text", "body"), ("bad_time", "published_at"), (None, "published_at")}


def test_cli_spark_tag_then_run_with_the_tags(spark, tmp_path):
    """`tagger spark tag` writes Parquet that `tagger run --tags` studies as if it had tagged."""
    news = tmp_path / "news.parquet"
    no_text = pl.DataFrame({"id": ["empty"], "title": [""]})
    pl.concat([pl.read_ndjson(DEMO), no_text], how="diagonal").write_parquet(news)
    local_rows = tag_articles(read_articles([DEMO]).articles)[0].height  # the local path's
    result = runner.invoke(app, ["spark", "tag", str(news), "--out", str(tmp_path / "tags")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"wrote {local_rows} entity rows to {tmp_path / 'tags'}; skipped 1 bad record "
        f"(in {tmp_path / 'tags_problems'})"
    )
    assert "error: empty: body: missing: an article needs a body" in result.stderr

    summaries = []
    for extra in ([], ["--tags", str(tmp_path / "tags")]):
        out, db = tmp_path / f"reports{len(extra)}", tmp_path / f"db{len(extra)}.duckdb"
        args = ["run", str(news), "--out", str(out), "--db", str(db), "--offline", *extra]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        summaries.append(result.stdout.split(";")[0])
    assert summaries[0] == summaries[1]
    assert summaries[0].startswith(f"49 articles, {local_rows} companies named, ")


def test_delta_without_delta_spark_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "delta", None)  # import delta fails, as when absent
    result = runner.invoke(app, ["spark", "tag", str(tmp_path), "--out", "x", "--format", "delta"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: Delta tables need delta-spark: " + tagger_spark.INSTALL_DELTA
    ]
