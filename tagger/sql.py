"""Named SQL files from `queries/`, loaded by name and run with bound parameters.

A query is a `.sql` file; its parameters are DuckDB named parameters (`$window_start`). Values are
always bound, never formatted into the SQL text.
"""

import re
from functools import cache

import duckdb

from tagger.errors import TaggerError
from tagger.paths import QUERIES

_PARAM = re.compile(r"(?<![\w$])\$([a-zA-Z_]\w*)")


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
    wanted = parameters(name)
    missing = [p for p in wanted if p not in params]
    if missing:
        raise TaggerError(
            f"query {name!r} needs parameter(s) {', '.join(missing)}; pass --param NAME=VALUE"
        )
    return con.execute(load(name), {k: params[k] for k in wanted})


def available() -> list[str]:
    """Names of the user-facing queries (files directly in `queries/`)."""
    return sorted(p.stem for p in QUERIES.glob("*.sql"))


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)
