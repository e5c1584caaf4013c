"""The command line, through typer's runner, on real files."""

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tagger import store
from tagger.cli import app

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
runner = CliRunner()


def test_tag_jsonl_follows_the_output_contract():
    result = runner.invoke(
        app,
        [
            "tag",
            str(FIXTURES / "seed_space_espionage.txt"),
            "--published",
            "2024-05-10",
            "-f",
            "jsonl",
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout.strip().splitlines()[0])
    assert {"id", "published_at", "entities"} <= set(record)
    assert record["id"] == "seed_space_espionage"
    entity = record["entities"][0]
    assert {
        "name",
        "status",
        "ticker",
        "exchange",
        "cik",
        "relevance",
        "role",
        "mentions",
        "parent_ticker",
        "reason",
    } <= set(entity)
    assert {"field", "start", "end", "text"} <= set(entity["mentions"][0])


def test_tag_table_output_names_companies():
    result = runner.invoke(app, ["tag", str(FIXTURES / "seed_space_espionage.txt")])
    assert result.exit_code == 0
    assert "Blue Origin" in result.stdout and "boilerplate" in result.stdout


def test_bad_records_are_reported_and_good_ones_tagged(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text('{"id": "a", "body": "Nvidia rose."}\n{"id": "b", "body": \n', encoding="utf-8")
    result = runner.invoke(app, ["tag", str(path), "-f", "jsonl"])
    assert result.exit_code == 0
    assert "news.jsonl:2" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a"]


def test_missing_file_is_one_line_error(tmp_path):
    result = runner.invoke(app, ["tag", str(tmp_path / "nope.txt")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error:") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_tagging_into_the_database_twice_does_not_duplicate(tmp_path):
    db = tmp_path / "t.duckdb"
    args = ["tag", str(FIXTURES / "news.jsonl"), "--db", str(db), "-f", "jsonl"]
    assert runner.invoke(app, args).exit_code == 0
    con = store.connect(db)
    first = con.execute("SELECT count(*) FROM entities").fetchone()[0]
    con.close()
    assert runner.invoke(app, args).exit_code == 0
    con = store.connect(db)
    assert con.execute("SELECT count(*) FROM entities").fetchone()[0] == first > 0


def test_universe_update_offline_is_one_clear_line(monkeypatch, tmp_path):
    def offline(request, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    result = runner.invoke(app, ["universe", "update"])
    assert result.exit_code == 1
    assert "cannot download https://www.sec.gov" in result.stderr
    assert "the universe was not changed" in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["tag"],
        ["universe", "build"],
        ["universe", "update"],
        ["prices", "fetch"],
        ["prices", "import"],
    ],
)
def test_every_command_teaches_by_example(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout
