import subprocess
import sys

import pytest

from tagger import sql, store
from tagger.errors import StoreError


def test_connect_creates_schema_once(tmp_path):
    path = tmp_path / "t.duckdb"
    con = store.connect(path)
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert {"meta", "articles", "entities", "mentions"} <= tables
    con.close()
    con = store.connect(path)  # second open must not re-run the DDL
    version = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert int(version) == store.SCHEMA_VERSION


def test_a_new_database_gets_its_folder_and_a_read_only_one_none(tmp_path):
    con = store.connect(tmp_path / "runs" / "2024" / "t.duckdb")
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 0
    con.close()
    with pytest.raises(StoreError, match="no such database"):
        store.connect(tmp_path / "other" / "t.duckdb", read_only=True)
    assert not (tmp_path / "other").exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreError, match="cannot create its folder"):
        store.connect(tmp_path / "file" / "t.duckdb")


def test_env_var_sets_default_path(tmp_path, monkeypatch):
    monkeypatch.setenv("TAGGER_DB", str(tmp_path / "env.duckdb"))
    assert store.default_path() == tmp_path / "env.duckdb"


def test_transaction_rolls_back_on_error(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    with pytest.raises(RuntimeError), store.transaction(con):
        con.execute("INSERT INTO articles (article_id, body) VALUES ('a', 'x')")
        raise RuntimeError("boom")
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 0


def test_second_writer_gets_in_use_message(tmp_path):
    path = tmp_path / "t.duckdb"
    con = store.connect(path)
    code = (
        "from tagger import store\n"
        "from tagger.errors import StoreError\n"
        f"try: store.connect({str(path)!r})\n"
        "except StoreError as e: print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "database is in use by another process" in out.stdout
    con.close()


def test_corrupt_file_is_reported(tmp_path):
    path = tmp_path / "bad.duckdb"
    path.write_text("this is not a database")
    with pytest.raises(StoreError, match="not a DuckDB database"):
        store.connect(path)


def test_other_schema_version_is_refused(tmp_path):
    path = tmp_path / "t.duckdb"
    con = store.connect(path)
    con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="schema v999"):
        store.connect(path)


def test_query_parameters_are_bound_not_formatted():
    assert sql.parameters("schema/10_articles") == []
    with pytest.raises(Exception, match="no query named"):
        sql.load("does_not_exist")
