"""Named SQL files from `queries/`, loaded by name and run with bound parameters.

A query is a `.sql` file; its parameters are DuckDB named parameters (`$window_start`). Values are
always bound, never formatted into the SQL text. A parameter the query's comments declare as
`$name (optional)` is bound to NULL when not given.
"""

import re
from functools import cache

import duckdb
import polars as pl

from tagger.errors import TaggerError
from tagger.paths import QUERIES

_PARAM = re.compile(r"(?<![\w$])\$([a-zA-Z_]\w*)")
_OPTIONAL = re.compile(r"^--.*?\$([a-zA-Z_]\w*) \(optional\)", re.MULTILINE)


@cache
def load(name: str) -> str:
    """The text of `queries/<name>.sql` (name may include a subfolder: `schema/articles`)."""
    path = QUERIES / f"{name}.sql"
    if not path.is_file():
        raise TaggerError(f"no query named {name!r}; see `tagger query --list`")
    return path.read_text(encoding="utf-8")


def parameters(name: str) -> list[str]:
    """The named parameters a query takes, in order of first use."""
    return list(dict.fromkeys(_PARAM.findall(_strip_comments(load(name)))))


def run(con: duckdb.DuckDBPyConnection, name: str, **params) -> duckdb.DuckDBPyConnection:
    """Run query `name` with `params` bound to its named parameters; returns the cursor."""
    return con.execute(load(name), _bound(name, params))


def frame(con: duckdb.DuckDBPyConnection, name: str, **params) -> pl.DataFrame:
    """The result of query `name` (parameters bound as in `run`) as a polars frame."""
    return con.sql(load(name), params=_bound(name, params) or None).pl()


def _bound(name: str, params: dict) -> dict:
    """The query's parameters taken from `params`; one clear line when one is missing."""
    wanted = parameters(name)
    optional = set(_OPTIONAL.findall(load(name)))
    missing = [p for p in wanted if p not in params and p not in optional]
    if missing:
        raise TaggerError(
            f"query {name!r} needs parameter(s) {', '.join(missing)}; pass --param NAME=VALUE"
        )
    return {k: params.get(k) for k in wanted}


def describe(name: str) -> str:
    """The first comment line of a query: what it returns."""
    for line in load(name).splitlines():
        if line.startswith("--"):
            return line.removeprefix("--").strip()
    return ""


def available() -> list[str]:
    """Names of the user-facing queries (files directly in `queries/`)."""
    return sorted(p.stem for p in QUERIES.glob("*.sql"))


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)
