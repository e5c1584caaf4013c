"""The command line, through typer's runner, on real files in temporary folders: output
formats, exit codes, --quiet/--verbose, one-line errors, query names and parameters, escaping
of data shown in a terminal, read-only readers, and a fast start."""

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

import tagger
from tagger import output, store
from tagger.cli import ExitCode, app
from tagger.errors import TaggerError

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
SEED = FIXTURES / "seed_space_espionage.txt"
runner = CliRunner()
HEAVY = ("yfinance", "scipy", "pandas", "exchange_calendars", "duckdb")
STORIES = [
    {
        "id": "nvidia",
        "title": "Nvidia Stock Jumps On Data-Centre Demand",
        "body": "Nvidia Corp. (NASDAQ: NVDA) shares rose 5% after the company raised guidance.",
        "published_at": "2024-09-03T22:02:41Z",
    },
    {
        "id": "apple",
        "title": "Apple (NASDAQ: AAPL) unveils new iPhone lineup",
        "body": "Apple Inc. shares slipped as the company showed its new phones.",
        "published_at": "2024-09-09T17:00:00Z",
    },
]


def invoke(*args: str | Path, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


def one_error_line(result) -> str:
    """The single stderr line of a failed command (and that there is no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.output
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def studied_db(tmp_path_factory) -> Path:
    """A database where `tagger run` stored two stories, their tags and a study."""
    folder = tmp_path_factory.mktemp("studied")
    news = write_jsonl(folder / "news.jsonl", STORIES)
    db = folder / "t.duckdb"
    result = invoke("run", news, "--out", folder / "reports", "--db", db, "--offline")
    assert result.exit_code == 0, result.output
    return db


# -- tag: the output contract and formats --------------------------------------------------------


def test_tag_jsonl_follows_the_output_contract():
    result = invoke("tag", SEED, "--published", "2024-05-10", "-f", "jsonl")
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
    result = invoke("tag", SEED)
    assert result.exit_code == 0
    assert "Blue Origin" in result.stdout and "boilerplate" in result.stdout


def test_tag_csv_and_parquet_have_one_row_per_entity(tmp_path):
    jsonl = invoke("tag", FIXTURES / "news.jsonl", "-f", "jsonl")
    entities = [
        (record["id"], entity["name"], entity["relevance"])
        for line in jsonl.stdout.splitlines()
        for record in [json.loads(line)]
        for entity in record["entities"]
    ]
    csv = invoke("tag", FIXTURES / "news.jsonl", "--format", "csv")
    assert csv.exit_code == 0, csv.output
    from_csv = pl.read_csv(csv.stdout.encode(), infer_schema=False)
    parquet = tmp_path / "entities.parquet"
    assert invoke("tag", FIXTURES / "news.jsonl", "--output", parquet).exit_code == 0
    from_parquet = pl.read_parquet(parquet)
    for frame in (from_csv, from_parquet):
        rows = list(frame.select("id", "name", pl.col("relevance").cast(int)).iter_rows())
        assert rows == entities
    assert {"ticker", "role", "in_title", "mentions", "mention_texts"} <= set(from_parquet.columns)


def test_tag_json_is_one_array_of_articles():
    jsonl = invoke("tag", FIXTURES / "news.jsonl", "-f", "jsonl").stdout.splitlines()
    array = json.loads(invoke("tag", FIXTURES / "news.jsonl", "-f", "json").stdout)
    assert array == [json.loads(line) for line in jsonl]


def test_output_extension_picks_the_format_and_unknown_ones_are_refused(tmp_path):
    written = tmp_path / "tags.jsonl"
    result = invoke("tag", SEED, "-o", written)
    assert result.exit_code == 0, result.output
    assert json.loads(written.read_text())["id"] == "seed_space_espionage"
    assert f"to {written}" in result.stderr
    unknown = invoke("tag", SEED, "-o", tmp_path / "tags.xlsx")
    assert unknown.exit_code == ExitCode.ERROR
    assert "cannot tell the format from '.xlsx'" in one_error_line(unknown)
    assert not (tmp_path / "tags.xlsx").exists()


# -- exit codes, --quiet, --verbose ---------------------------------------------------------------


def test_bad_records_are_reported_and_good_ones_tagged(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text('{"id": "a", "body": "Nvidia rose."}\n{"id": "b", "body": \n', encoding="utf-8")
    result = invoke("tag", path, "-f", "jsonl")
    assert result.exit_code == 0
    assert "news.jsonl:2" in result.stderr
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["a"]


def test_reading_no_article_exits_3_with_a_line_saying_so(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = invoke("tag", empty, "-f", "jsonl")
    assert result.exit_code == ExitCode.NOTHING_DONE == 3
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1].startswith("error: no article to tag")


def test_missing_file_is_one_line_error(tmp_path):
    result = invoke("tag", tmp_path / "nope.txt")
    assert result.exit_code == ExitCode.ERROR
    assert "no such file" in one_error_line(result)


def test_usage_errors_exit_2():
    assert invoke("tag", SEED, "--format", "xml").exit_code == ExitCode.USAGE == 2


def test_quiet_prints_errors_only_and_verbose_each_step(tmp_path):
    news = write_jsonl(tmp_path / "news.jsonl", STORIES)
    normal = invoke("tag", news, "-f", "jsonl")
    assert "read 2 articles from 1 file" in normal.stderr
    quiet = invoke("tag", news, "-f", "jsonl", "--quiet")
    assert quiet.stderr == "" and quiet.stdout == normal.stdout
    verbose = invoke("tag", news, "-f", "jsonl", "--verbose")
    steps = [line for line in verbose.stderr.splitlines() if line.rstrip().endswith(" s)")]
    assert [line.split()[1] for line in steps] == ["reading", "tagging:"], verbose.stderr
    assert "entities" in steps[1] and verbose.stdout == normal.stdout

    bad = invoke("tag", tmp_path / "missing.jsonl", "--quiet")
    assert bad.exit_code == 1 and bad.stderr.startswith("error: ")


def test_run_quiet_is_silent_and_a_partial_run_says_what_is_missing(tmp_path):
    stories = [
        *STORIES,
        {
            "id": "allegiant",
            "title": "Allegiant Travel (NASDAQ: ALGT) cuts fares",
            "body": "Allegiant Travel Company said fares fell.",
            "published_at": "2024-07-19T13:16:24Z",
        },
    ]
    news = write_jsonl(tmp_path / "news.jsonl", stories)
    args = ("run", news, "--out", tmp_path / "r", "--db", tmp_path / "t.duckdb", "--offline")
    quiet = invoke(*args, "-q")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == "" and quiet.stderr == ""
    result = invoke(*args)
    assert result.exit_code == 0
    assert "3 events, 2 studied (1 without prices)" in result.stdout
    assert "warning: no prices: ALGT" in result.stderr


def test_study_of_events_without_prices_exits_3(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("ticker,date\nZZZZ,2024-05-03\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"
    result = invoke("study", "--events", events, "--db", db, "--offline")
    assert result.exit_code == ExitCode.NOTHING_DONE
    assert result.stderr.strip().splitlines()[-1] == (
        "error: studied no event: none has prices and enough estimation days"
    )
    assert "not studied: ZZZZ (no prices)" in result.stderr


def test_study_prints_a_table_for_people_or_the_format_asked(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("ticker,date\nAAPL,2024-05-03\nMSFT,2024-04-26\nZZZZ,2024-05-03\n")
    db = tmp_path / "s.duckdb"
    table = invoke("study", "--events", events, "--db", db, "--offline")
    assert table.exit_code == 0, table.output
    assert "shape:" not in table.stdout and "caar" in table.stdout
    assert "studied 2 of 3 events; not studied: ZZZZ (no prices)" in table.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.csv", "s.duckdb"]
    as_csv = invoke(
        "study",
        "--events",
        events,
        "--db",
        db,
        "--offline",
        "-f",
        "csv",
        "--columns",
        "event_window,n",
    )
    assert as_csv.exit_code == 0, as_csv.output
    frame = pl.read_csv(as_csv.stdout.encode())
    assert frame.columns == ["event_window", "n"] and frame["n"].to_list() == [2] * frame.height
    # the CAAR printed is the one stored: the same windows and counts as study_summary
    stored = invoke(
        "query", "study_summary", "--db", db, "-f", "csv", "--columns", "event_window,n"
    )
    assert pl.read_csv(stored.stdout.encode()).rows() == frame.rows()
    assert frame["event_window"][0] == "-5:5"  # values as they are, not quoted for spreadsheets


def test_study_and_report_with_nothing_in_the_database_exit_3(tmp_path):
    db = tmp_path / "empty.duckdb"
    store.connect(db).close()
    study = invoke("study", "--db", db, "--offline")
    assert study.exit_code == ExitCode.NOTHING_DONE
    assert "no events to study: no tagged company with relevance >= 50" in one_error_line(study)
    report = invoke("report", "--out", tmp_path / "reports", "--db", db)
    assert report.exit_code == ExitCode.NOTHING_DONE
    assert "no stories in" in one_error_line(report)


# -- human tables -------------------------------------------------------------------------------


def test_query_table_rounds_numbers_and_folds_wide_frames(studied_db):
    result = invoke("query", "study_summary", "--db", studied_db)
    assert result.exit_code == 0, result.output
    assert "decimal[" not in result.stdout and "shape:" not in result.stdout
    assert "columns 1 of 2" in result.stdout  # 20 columns do not fit 160 characters
    stored = invoke("query", "study_summary", "--db", studied_db, "-f", "json")
    first = json.loads(stored.stdout)[0]
    assert f"{first['caar'] * 100:.2f}%" in result.stdout
    assert f"{first['p_csect']:.3f}" in result.stdout


def test_human_cells_follow_the_column_kind():
    frame = pl.DataFrame(
        {
            "car_m1_1": [-0.012345],
            "p_m1_1": [0.0004],
            "t_csect": [-2.2281],
            "beta": [1.53219],
            "n": pl.Series([68], dtype=pl.Decimal(38, 0)),
            "event_date": [None],
        },
        schema_overrides={"event_date": pl.Date},
    )
    texts = {name: output.cell_texts(frame[name])[0] for name in frame.columns}
    assert texts == {
        "car_m1_1": "-1.23%",
        "p_m1_1": "<0.001",
        "t_csect": "-2.23",
        "beta": "1.532",
        "n": "68",
        "event_date": "",
    }


def test_query_list_shows_whole_descriptions_and_typed_parameters():
    result = invoke("query", "--list", "-f", "json")
    listed = {row["query"]: row for row in json.loads(result.stdout)}
    assert listed["article_events"]["parameters"] == "min_relevance=INTEGER"
    assert listed["article_events"]["returns"].endswith(
        "measured through its listed parent where known."
    )
    table = invoke("query", "--list")
    assert "where known." in table.stdout


# -- query: names, parameters, read-only ---------------------------------------------------------


def test_query_parameters_are_parsed_by_their_declared_type(studied_db):
    ok = invoke("query", "article_events", "--param", "min_relevance=50", "--db", studied_db)
    assert ok.exit_code == 0 and "NVDA" in ok.stdout
    bad = invoke("query", "article_events", "--param", "min_relevance=abc", "--db", studied_db)
    assert bad.exit_code == ExitCode.ERROR
    assert "min_relevance=abc" in one_error_line(bad) and "INTEGER" in bad.stderr
    text_id = invoke("query", "car_path", "--param", "event_id=1", "--db", studied_db, "-f", "csv")
    assert text_id.exit_code == 0, text_id.output  # bound as text: no rows, no type error
    unknown = invoke("query", "car_path", "-p", "evnt_id=1", "--db", studied_db)
    assert "has no parameter 'evnt_id'; it takes event_id" in one_error_line(unknown)


def test_undeclared_parameter_that_duckdb_cannot_cast_is_one_line(tmp_path, studied_db):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "big_moves.sql").write_text(
        "-- Events whose CAR beats a threshold.\n"
        "SELECT event_id, car FROM study_event_cars WHERE car > $threshold\n"
    )
    args = ("query", "big_moves", "--queries", mine, "--db", studied_db)
    assert invoke(*args, "-p", "threshold=0.01", "-f", "csv").exit_code == 0
    bad = invoke(*args, "-p", "threshold=lots")
    assert bad.exit_code == ExitCode.ERROR
    assert "query 'big_moves' with --param threshold=lots: Conversion Error" in one_error_line(bad)


@pytest.mark.parametrize(
    "name", ["../x", "queries/car_path", "/etc/passwd", "Car_Path", "car-path"]
)
def test_query_takes_names_not_paths(name, studied_db):
    result = invoke("query", name, "--db", studied_db)
    assert result.exit_code == ExitCode.ERROR
    assert "is not a query name" in one_error_line(result)


def test_declared_types_parse_values(tmp_path):
    from datetime import date

    from tagger import sql
    from tagger.errors import InputError

    (tmp_path / "typed.sql").write_text(
        "-- Typed parameters. Second sentence.\n-- param: day DATE\n-- param: flag BOOLEAN\n"
        "SELECT $day AS day, $flag AS flag\n"
    )
    (tmp_path / "odd.sql").write_text("-- param: cost MONEY\nSELECT $cost\n")
    typed = sql.find("typed", tmp_path)
    assert typed.description == "Typed parameters."
    assert typed.bind({"day": "2024-05-03", "flag": "Yes"}) == {
        "day": date(2024, 5, 3),
        "flag": True,
    }
    with pytest.raises(InputError, match="needs a DATE here"):
        typed.bind({"day": "May 3", "flag": "no"})
    with pytest.raises(InputError, match="needs a BOOLEAN here"):
        typed.bind({"day": "2024-05-03", "flag": "maybe"})
    with pytest.raises(TaggerError, match=r"needs parameter\(s\) flag"):
        typed.bind({"day": "2024-05-03"})
    with pytest.raises(InputError, match="parameter cost is declared MONEY"):
        sql.find("odd", tmp_path).bind({"cost": "1"})
    (tmp_path / "some.sql").write_text(
        "-- $ticker (optional): one ticker, else all\nSELECT coalesce($ticker, 'all') AS t\n"
    )
    assert sql.find("some", tmp_path).bind({}) == {"ticker": None}


def test_user_queries_come_from_a_folder_and_cannot_touch_files(tmp_path, studied_db, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "tickers_named.sql").write_text(
        "-- Tickers the stored articles name.\n"
        "-- param: min_relevance INTEGER\n"
        "SELECT DISTINCT ticker FROM entities WHERE relevance >= $min_relevance ORDER BY 1\n"
    )
    target = tmp_path / "copied.csv"
    (mine / "exfiltrate.sql").write_text(f"COPY (SELECT 1) TO '{target}'\n")
    monkeypatch.setenv("TAGGER_QUERIES", str(mine))
    listed = invoke("query", "--list")
    assert "tickers_named" in listed.stdout and "car_by_ticker" in listed.stdout
    result = invoke("query", "tickers_named", "-p", "min_relevance=50", "--db", studied_db)
    assert result.exit_code == 0 and "AAPL" in result.stdout and "NVDA" in result.stdout
    copy = invoke("query", "exfiltrate", "--db", studied_db)
    assert copy.exit_code == ExitCode.ERROR and "disabled by configuration" in one_error_line(copy)
    assert not target.exists()
    monkeypatch.delenv("TAGGER_QUERIES")
    assert "no query named 'tickers_named'" in one_error_line(
        invoke("query", "tickers_named", "--db", studied_db)
    )


def test_query_output_into_a_missing_or_unwritable_folder_is_one_line(
    tmp_path, studied_db, monkeypatch
):
    args = ("query", "car_by_ticker", "-p", "window=-1:1", "--db", studied_db)
    missing = invoke(*args, "--csv", tmp_path / "no" / "car.csv")
    assert missing.exit_code == ExitCode.ERROR
    assert "does not exist; create it first" in one_error_line(missing)

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    unwritable = invoke(*args, "--output", tmp_path / "car.csv")
    assert "Read-only file system" in one_error_line(unwritable)
    assert not (tmp_path / "car.csv").exists()


def test_query_output_replaces_a_file_whole(tmp_path, studied_db):
    path = tmp_path / "car.parquet"
    path.write_bytes(b"old")
    args = ("query", "car_by_ticker", "-p", "window=-1:1", "--db", studied_db, "-o", path)
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert set(pl.read_parquet(path)["ticker"]) == {"AAPL", "NVDA"}
    assert [p.name for p in tmp_path.iterdir()] == ["car.parquet"]  # no temporary file left


def _hold(db: Path, read_only: bool) -> subprocess.Popen:
    """Another process that opens `db` and keeps it open until its stdin closes."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(db)!r}, read_only={read_only}); "
            "print('ok', flush=True); sys.stdin.readline()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ok"
    return holder


def test_a_writer_elsewhere_blocks_readers_and_the_error_says_how_to_fix_it(tmp_path, studied_db):
    db = tmp_path / "copy.duckdb"
    shutil.copy(studied_db, db)
    holder = _hold(db, read_only=False)
    try:
        result = invoke("query", "study_summary", "--db", db)
        line = one_error_line(result)
        assert result.exit_code == ExitCode.ERROR
        assert "in use by another process" in line and "read_only=True" in line
    finally:
        holder.communicate("\n")


def test_readers_share_the_database_with_a_read_only_notebook(tmp_path, studied_db):
    db = tmp_path / "copy.duckdb"
    shutil.copy(studied_db, db)
    holder = _hold(db, read_only=True)
    try:
        result = invoke("query", "study_summary", "--db", db, "-f", "csv")
        assert result.exit_code == 0, result.output
        report = invoke("report", "--out", tmp_path / "reports", "--db", db)
        assert report.exit_code == 0, report.output
        assert "wrote reports for 2 stories" in report.stdout
    finally:
        holder.communicate("\n")


# -- study and tag faults -------------------------------------------------------------------------


def test_study_out_on_an_existing_file_is_refused_before_studying(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("ticker,date\nAAPL,2024-05-03\n", encoding="utf-8")
    taken = tmp_path / "out"
    taken.write_text("not a folder")
    db = tmp_path / "s.duckdb"
    result = invoke("study", "--events", events, "--out", taken, "--db", db, "--offline")
    assert result.exit_code == ExitCode.ERROR
    assert f"--out {taken}: cannot create the folder" in one_error_line(result)
    assert not db.exists()


def test_study_out_unwritable_after_the_study_was_stored(tmp_path, monkeypatch):
    events = tmp_path / "events.csv"
    events.write_text("ticker,date\nAAPL,2024-05-03\n", encoding="utf-8")
    db = tmp_path / "s.duckdb"

    def read_only(self, file, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(file))

    monkeypatch.setattr(pl.DataFrame, "write_csv", read_only)
    result = invoke("study", "--events", events, "--out", tmp_path / "o", "--db", db, "--offline")
    line = one_error_line(result)
    assert result.exit_code == ExitCode.ERROR
    assert f"the study is stored in {db}" in line and "Read-only file system" in line
    monkeypatch.undo()
    stored = invoke("query", "study_summary", "--db", db, "-f", "csv", "--columns", "events")
    assert pl.read_csv(stored.stdout.encode())["events"][0] == 1


def test_tag_universe_folder_without_a_universe_is_one_line(tmp_path):
    result = invoke("tag", SEED, "--universe", tmp_path)
    assert result.exit_code == ExitCode.ERROR
    assert "no universe there" in one_error_line(result)


def test_universe_update_offline_is_one_clear_line(monkeypatch):
    def offline(request, timeout):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    result = invoke("universe", "update")
    assert result.exit_code == 1
    assert "cannot download https://www.sec.gov" in result.stderr
    assert "the universe was not changed" in result.stderr


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


# -- what reaches the terminal --------------------------------------------------------------------

HOSTILE_ID = "[link=https://evil.example]click[/link]\x1b[31m\x1b]8;;https://evil.example\x07[/]"


def test_safe_shows_markup_and_control_characters_as_text():
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(output.safe(HOSTILE_ID))
    shown = console.export_text()
    assert "[link=https://evil.example]click[/link]" in shown
    assert "\\x1b[31m" in shown and "\x1b" not in shown and "\x07" not in shown


def test_hostile_ids_reach_the_tag_table_as_text(tmp_path):
    news = write_jsonl(
        tmp_path / "news.jsonl", [{**STORIES[0], "id": HOSTILE_ID, "publisher": "\x1b[2J"}]
    )
    result = invoke("tag", news)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "[link=https://evil.example]click[/link]\\x1b[31m" in result.stdout
    assert "NVDA" in result.stdout


def test_hostile_ids_and_file_names_reach_run_messages_as_text(tmp_path):
    news = write_jsonl(
        tmp_path / "news[bold]\x1b[5m.jsonl", [{**STORIES[0], "id": HOSTILE_ID}] * 2 + [{"id": 1}]
    )
    result = invoke(
        "run", news, "--out", tmp_path / "r", "--db", tmp_path / "t.duckdb", "--offline"
    )
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "news[bold]\\x1b[5m.jsonl" in result.stderr  # the bad record's line names the file
    assert "[link=https://evil.example]click[/link]" in result.stderr  # the duplicate's warning


# -- conventions ----------------------------------------------------------------------------------


def test_version_and_completion():
    result = invoke("--version")
    assert (
        result.exit_code == 0
        and result.stdout.strip() == f"tagger (market-tagger) {tagger.__version__}"
    )
    assert "--install-completion" in invoke("--help").stdout


@pytest.mark.parametrize(
    "command",
    [
        ["tag"],
        ["study"],
        ["query"],
        ["report"],
        ["run"],
        ["universe", "build"],
        ["universe", "update"],
        ["prices", "fetch"],
        ["prices", "import"],
    ],
)
def test_every_command_teaches_by_example(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0 and "Example" in result.stdout
    assert "--quiet" in result.stdout and "--verbose" in result.stdout


def _modules_after(code: str, cwd: Path) -> set[str]:
    """The heavy modules loaded after running `code` in a fresh interpreter."""
    wrapper = (
        f"{code}\nimport sys\n"
        f"print('MODULES:', *(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    return set(done.stderr.split("MODULES:")[1].split())


def test_help_imports_nothing_heavy(tmp_path):
    run_app = "from tagger.cli import app\ntry:\n    app({args!r})\nexcept SystemExit:\n    pass"
    assert _modules_after("import tagger", tmp_path) == set()
    assert _modules_after("import tagger.cli", tmp_path) == set()
    assert _modules_after(run_app.format(args=["--help"]), tmp_path) == set()
    (tmp_path / "one.txt").write_text(STORIES[0]["body"], encoding="utf-8")
    tagged = _modules_after(run_app.format(args=["tag", "one.txt"]), tmp_path)
    assert tagged <= {"duckdb"}  # tagging needs polars (and DuckDB's store), nothing else heavy


def test_package_names_load_on_first_use():
    from tagger import tag

    assert tag("Shares of Tilray (NASDAQ: TLRY) rose.")["entities"][0]["ticker"] == "TLRY"
    assert set(tagger.__all__) <= set(dir(tagger))
    with pytest.raises(AttributeError):
        tagger.no_such_name  # noqa: B018


def test_closed_stdout_stops_quietly(tmp_path):
    news = write_jsonl(
        tmp_path / "news.jsonl", [{**STORIES[0], "id": f"n{i}"} for i in range(5000)]
    )
    tagger_command = [sys.executable, "-m", "tagger.cli", "tag", str(news), "-f", "jsonl"]
    producer = subprocess.Popen(tagger_command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = producer.stdout.readline()
    producer.stdout.close()
    stderr = producer.stderr.read().decode()
    assert producer.wait() == 0
    assert json.loads(first)["id"] == "n0"
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_many_price_gaps_are_counted_after_the_first_ten(caplog):
    """A study of many tickers without prices says ten of them and counts the rest in one
    line; --verbose (the debug level) says every one."""
    from datetime import date

    from tagger.cli import GAPS_SHOWN, _print_gaps
    from tagger.prices import PriceGap

    gaps = [
        PriceGap(f"T{i}", date(2024, 1, 2), date(2024, 1, 31), "not in the bundled price snapshot")
        for i in range(GAPS_SHOWN + 3)
    ]
    with caplog.at_level("DEBUG", logger="tagger"):
        _print_gaps(gaps)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("no prices: ")]
    assert warnings[:GAPS_SHOWN] == said[:GAPS_SHOWN]
    assert warnings[GAPS_SHOWN:] == ["no prices for 3 more ticker ranges (--verbose lists each)"]
    assert [line.split()[2] for line in said] == [gap.ticker for gap in gaps]
