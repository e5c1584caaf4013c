"""The main job end to end on real articles and bundled prices, and its faults: network down, a
ticker with no prices, a price gap inside a window, a corrupt or locked database, a disk-full
report write. Each gives a clear message, keeps what was done, and the next run continues."""

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from tagger import pipeline, report, store
from tagger.cli import app
from tagger.errors import TaggerError

runner = CliRunner()
STORIES = [
    {
        "id": "allegiant",
        "title": "American Airlines and Allegiant Travel (NASDAQ: ALGT) cut fares",
        "body": "American Airlines Group Inc. (NASDAQ: AAL) and Allegiant Travel said fares fell.",
        "published_at": "2024-07-19T13:16:24Z",
    },
    {
        "id": "nvidia",
        "title": "Nvidia Stock Jumps On Data-Centre Demand",
        "body": "Nvidia Corp. (NASDAQ: NVDA) shares rose 5% after the company raised guidance.",
        "published_at": "2024-09-03T22:02:41Z",
    },
    {"id": "undated", "body": "Apple Inc. said it will open new stores."},
]


@pytest.fixture
def news(tmp_path) -> Path:
    path = tmp_path / "news.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in STORIES), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Yahoo Finance is unreachable (a closed local port as proxy), whatever this machine has."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")


def reaction(out: Path, story: str) -> pl.DataFrame:
    return pl.read_csv(out / report.story_folder(story) / "reaction.csv", infer_schema_length=None)


def test_run_end_to_end_network_down(tmp_path, news):
    con = store.connect(tmp_path / "t.duckdb")
    summary = pipeline.run(con, [news], tmp_path / "reports")

    assert summary.articles == 3
    nvda = (
        reaction(tmp_path / "reports", "nvidia")
        .filter(pl.col("ticker") == "NVDA")
        .row(0, named=True)
    )
    stored = con.execute(
        "SELECT car FROM study_event_cars WHERE event_id = 'nvidia:0' AND event_window = '-1:1'"
    ).fetchall()
    assert nvda["car_m1_1"] == pytest.approx(stored[0][0], abs=1e-12)
    # Yahoo was unreachable: the ticker without bundled prices is reported, not dropped
    assert [gap.ticker for gap in summary.price_gaps] == ["ALGT"]
    algt = (
        reaction(tmp_path / "reports", "allegiant")
        .filter(pl.col("ticker") == "ALGT")
        .row(0, named=True)
    )
    assert "no_prices" in algt["flags"] and "ALGT" in algt["note"]
    # an undated story is tagged, and its table says why it was not studied
    assert "no publication time" in " ".join(
        reaction(tmp_path / "reports", "undated")["note"].to_list()
    )
    assert (tmp_path / "reports" / "index.html").exists()


def test_rerun_reuses_the_store_and_does_not_duplicate(tmp_path, news):
    con = store.connect(tmp_path / "t.duckdb")
    pipeline.run(con, [news], tmp_path / "reports")
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("articles", "entities", "prices", "study_events")
    }
    first = (tmp_path / "reports" / "summary.csv").read_bytes()
    pipeline.run(con, [news], tmp_path / "reports")
    assert counts == {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in counts}
    assert (tmp_path / "reports" / "summary.csv").read_bytes() == first


def test_price_gap_inside_a_window_is_flagged(tmp_path, news):
    con = store.connect(tmp_path / "t.duckdb")
    pipeline.run(con, [news], tmp_path / "reports")
    day0 = con.execute(
        "SELECT event_date FROM study_events WHERE event_id = 'nvidia:0'"
    ).fetchall()[0][0]
    con.execute("DELETE FROM prices WHERE ticker = 'NVDA' AND date = $d", {"d": day0})
    pipeline.run(con, [news], tmp_path / "reports")  # the deleted day is not refetched
    nvda = (
        reaction(tmp_path / "reports", "nvidia")
        .filter(pl.col("ticker") == "NVDA")
        .row(0, named=True)
    )
    assert "gap_in_window" in nvda["flags"]


def test_disk_full_keeps_the_store_and_the_next_run_continues(tmp_path, news, monkeypatch):
    con = store.connect(tmp_path / "t.duckdb")
    real_replace = os.replace
    calls = {"n": 0}

    def full_after_two(src, dst):
        calls["n"] += 1
        if calls["n"] > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_after_two)
    with pytest.raises(TaggerError, match="No space left on device"):
        pipeline.run(con, [news], tmp_path / "reports")
    # the tags and the study are stored; the next run writes the reports
    assert con.execute("SELECT count(*) FROM study_events").fetchall()[0][0] > 0
    monkeypatch.setattr(os, "replace", real_replace)
    pipeline.run(con, [news], tmp_path / "reports")
    assert (tmp_path / "reports" / "index.html").exists()


def test_cli_run_prints_one_summary_line(tmp_path, news):
    result = runner.invoke(
        app,
        ["run", str(news), "--out", str(tmp_path / "r"), "--db", str(tmp_path / "t.duckdb")],
    )
    assert result.exit_code == 0, result.output
    assert "3 articles" in result.stdout and "index.html" in result.stdout
    assert "no prices: ALGT" in result.stderr


def test_corrupt_database_is_one_line(tmp_path, news):
    bad = tmp_path / "bad.duckdb"
    bad.write_text("not a database")
    result = runner.invoke(app, ["run", str(news), "--out", str(tmp_path / "r"), "--db", str(bad)])
    assert result.exit_code == 1
    assert "not a DuckDB database" in result.stderr and "Traceback" not in result.output
    assert bad.read_text() == "not a database"


def test_locked_database_is_one_line(tmp_path, news):
    db = tmp_path / "t.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('ok', flush=True); "
            "sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        result = runner.invoke(
            app, ["run", str(news), "--out", str(tmp_path / "r"), "--db", str(db)]
        )
        assert result.exit_code == 1
        assert "database is in use by another process" in result.stderr
    finally:
        holder.communicate("\n")


def test_study_command_with_an_events_csv(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("ticker,date\nAAPL,2024-05-03\nMSFT,2024-04-26\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "study",
            "--events",
            str(events),
            "--out",
            str(tmp_path / "o"),
            "--db",
            str(tmp_path / "s.duckdb"),
        ],
    )
    assert result.exit_code == 0, result.output
    written = pl.read_csv(tmp_path / "o" / "events.csv")
    assert written["ticker"].to_list() == ["AAPL", "MSFT"]
    assert {"car_m1_1", "t_m1_1", "p_m1_1", "flags"} <= set(written.columns)


def test_query_command_lists_and_runs_named_queries(tmp_path, news):
    db = tmp_path / "t.duckdb"
    pipeline.run(store.connect(db), [news], tmp_path / "r")
    listed = runner.invoke(app, ["query", "--list"])
    assert listed.exit_code == 0 and "car_by_ticker" in listed.stdout
    csv = tmp_path / "car.csv"
    result = runner.invoke(
        app,
        ["query", "car_by_ticker", "--param", "window=-1:1", "--csv", str(csv), "--db", str(db)],
    )
    assert result.exit_code == 0, result.output
    assert "NVDA" in pl.read_csv(csv)["ticker"].to_list()
    missing = runner.invoke(app, ["query", "car_by_ticker", "--db", str(db)])
    assert missing.exit_code == 1 and "needs parameter(s) window" in missing.stderr
