"""The DuckDB store: where it is, opening it, its versioned schema, and transactions.

Holds no business logic. Every module that writes goes through `transaction()`, so a failed run
leaves the database as it was.
"""

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tagger import sql
from tagger.errors import StoreError
from tagger.paths import QUERIES

SCHEMA_VERSION = 3
DEFAULT_PATH = "tagger.duckdb"


def default_path() -> Path:
    """`$TAGGER_DB`, else `./tagger.duckdb`."""
    return Path(os.environ.get("TAGGER_DB") or DEFAULT_PATH)


def connect(
    path: str | Path | None = None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the store at `path` (default: `default_path()`), creating it, its folder and the
    schema on first use.

    Raises StoreError with a one-line fix when the file is locked by another process, is not a
    DuckDB database, or was made by another schema version.
    """
    path = Path(path) if path is not None else default_path()
    if read_only and not path.exists():
        raise StoreError(
            f"{path}: no such database; run `tagger run` or `tagger tag --db {path}` first"
        )
    if not read_only:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(
                f"{path}: cannot create its folder ({e.strerror or e}); use another --db"
            ) from None
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as e:
        raise StoreError(_explain_open_error(path, str(e), read_only)) from None
    except duckdb.Error as e:
        raise StoreError(f"{path}: cannot open database ({_first_line(e)})") from None
    if not read_only:
        _ensure_schema(con, path)
    else:
        _check_version(con, path)
    return con


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: all of it is written, or none of it."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        try:
            con.execute("COMMIT")
        except duckdb.Error as e:
            raise StoreError(f"could not write the database: {_first_line(e)}") from None


def schema_files() -> list[str]:
    """Names of the schema files, in the order they are applied."""
    return sorted(f"schema/{p.stem}" for p in (QUERIES / "schema").glob("*.sql"))


def _ensure_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    # fetchall, not fetchone: DuckDB keeps a partly fetched result open on the connection
    rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    if rows:
        _check_version(con, path)
        return
    with transaction(con):
        for name in schema_files():
            con.execute(sql.load(name))
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


def _check_version(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.CatalogException:
        rows = []
    if not rows:
        raise StoreError(
            f"{path}: not a market-tagger database (no schema version); use another --db"
        )
    if int(rows[0][0]) != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: database schema v{rows[0][0]}, this tagger needs v{SCHEMA_VERSION}; "
            "use a new --db file or re-run `tagger run` into a fresh one"
        )


def _explain_open_error(path: Path, message: str, read_only: bool = False) -> str:
    if "lock" in message.lower():
        pid = re.search(r"PID (\d+)", message)
        holder = f" (process {pid.group(1)})" if pid else ""
        if read_only:  # DuckDB refuses even a read-only open while another process writes
            return (
                f"{path}: database is in use by another process{holder} that opened it for "
                "writing, and DuckDB then lets no other process read it; close that connection "
                "(in a notebook: con.close(), or open it there with read_only=True so both can "
                "read), or copy the file and pass --db COPY"
            )
        return (
            f"{path}: database is in use by another process{holder}; "
            "wait for it to finish or use another --db"
        )
    if "not a valid DuckDB database" in message:
        return (
            f"{path}: file exists but is not a DuckDB database (corrupt?); "
            "move it away or use another --db"
        )
    return f"{path}: cannot open database ({_first_line(message)})"


def _first_line(message: object) -> str:
    return str(message).strip().splitlines()[0]
