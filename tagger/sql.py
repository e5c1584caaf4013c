"""Named SQL files from `queries/`, loaded by name and run with bound parameters.

A query is a `.sql` file; its parameters are DuckDB named parameters (`$window`). Values are
always bound, never formatted into the SQL text.

The queries a user runs (`tagger query NAME`) are the files directly in the bundled `queries/`
folder, then those of a user folder (`--queries DIR` or `$TAGGER_QUERIES`). They are found by
name only (lower case letters, digits and `_`), never by path. A query may declare the type of
a parameter in a comment line, `-- param: min_relevance INTEGER`; a value given on the command
line is then parsed as that type, and an undeclared one is bound as text that DuckDB casts where
the SQL uses it. A parameter its comments call `$name (optional)` is bound to NULL when not given.
"""

import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, cached_property
from pathlib import Path

import duckdb
import polars as pl

from tagger.errors import InputError, TaggerError
from tagger.paths import QUERIES

USER_QUERIES_ENV = "TAGGER_QUERIES"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")

_PARAM = re.compile(r"(?<![\w$])\$([a-zA-Z_]\w*)")
_OPTIONAL = re.compile(r"^--.*?\$([a-zA-Z_]\w*) \(optional\)", re.MULTILINE)
_DECLARED = re.compile(r"^--\s*param:\s*([a-zA-Z_]\w*)\s+([A-Za-z]+)\b", re.MULTILINE)
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def _boolean(text: str) -> bool:
    if text.lower() not in _TRUE | _FALSE:
        raise ValueError(text)
    return text.lower() in _TRUE


_PARSERS = {  # declared type -> how a command-line value is parsed
    "VARCHAR": str,
    "TEXT": str,
    "INTEGER": int,
    "BIGINT": int,
    "DOUBLE": float,
    "DATE": date.fromisoformat,
    "TIMESTAMP": datetime.fromisoformat,
    "BOOLEAN": _boolean,
}


@cache
def load(name: str) -> str:
    """The text of the bundled `queries/<name>.sql` (name may include a subfolder:
    `schema/10_articles`). For the library's own queries; users' queries go through `find`."""
    path = QUERIES / f"{name}.sql"
    if not path.is_file():
        raise TaggerError(f"no query named {name!r}; see `tagger query --list`")
    return path.read_text(encoding="utf-8")


def parameters(name: str) -> list[str]:
    """The named parameters a bundled query takes, in order of first use."""
    return _parameters(load(name))


def run(con: duckdb.DuckDBPyConnection, name: str, **params) -> duckdb.DuckDBPyConnection:
    """Run bundled query `name` with `params` bound to its named parameters; returns the cursor."""
    return con.execute(load(name), _bound(name, load(name), params))


def frame(con: duckdb.DuckDBPyConnection, name: str, **params) -> pl.DataFrame:
    """The result of bundled query `name` (parameters bound as in `run`) as a polars frame."""
    text = load(name)
    return con.sql(text, params=_bound(name, text, params) or None).pl()


# -- the queries a user runs --------------------------------------------------------------------


@dataclass(frozen=True)
class NamedQuery:
    """A user-facing query: its name, its file and the SQL in it."""

    name: str
    path: Path
    text: str

    @cached_property
    def parameters(self) -> list[str]:
        """Its named parameters, in order of first use."""
        return _parameters(self.text)

    @cached_property
    def types(self) -> dict[str, str]:
        """Declared parameter types (`-- param: NAME TYPE`), upper case."""
        return {name: kind.upper() for name, kind in _DECLARED.findall(self.text)}

    @cached_property
    def description(self) -> str:
        """The first sentence of the leading comment: what the query returns."""
        lines = []
        for line in self.text.splitlines():
            if not line.startswith("--"):
                break
            text = line.removeprefix("--").strip()
            if not text or text.startswith(("$", "param:", "Example:")):
                break
            lines.append(text)
        paragraph = " ".join(lines)
        sentence = re.match(r"(.+?\.)(\s|$)", paragraph)
        return sentence.group(1) if sentence else paragraph

    def bind(self, values: dict[str, str]) -> dict[str, object]:
        """Command-line values (text) as the query's bound parameters: each parsed as its
        declared type, the others left as text. InputError names the parameter to fix."""
        unknown = [name for name in values if name not in self.parameters]
        if unknown:
            takes = ", ".join(self.parameters) or "no parameters"
            raise InputError(
                f"query {self.name!r} has no parameter {unknown[0]!r}; it takes {takes}"
            )
        bound = {}
        for name, text in values.items():
            kind = self.types.get(name, "VARCHAR")
            if kind not in _PARSERS:
                raise InputError(
                    f"{self.path}: parameter {name} is declared {kind}; "
                    f"declare one of {', '.join(_PARSERS)}"
                )
            try:
                bound[name] = _PARSERS[kind](text)
            except ValueError:
                raise InputError(
                    f"--param {name}={text}: query {self.name!r} needs {_a(kind)} {kind} here"
                ) from None
        return _bound(self.name, self.text, bound)


def find(name: str, folder: str | Path | None = None) -> NamedQuery:
    """The query called `name`: `queries/<name>.sql`, else `<folder>/<name>.sql` (`folder`
    defaults to `$TAGGER_QUERIES`). Names are lower case letters, digits and `_` only."""
    if not NAME.match(name):
        raise InputError(
            f"{name!r} is not a query name (lower case letters, digits and _, e.g. car_by_ticker); "
            "see `tagger query --list`"
        )
    for path in (QUERIES / f"{name}.sql", *(p / f"{name}.sql" for p in _user_folders(folder))):
        if path.is_file():
            return NamedQuery(name, path, path.read_text(encoding="utf-8"))
    raise InputError(f"no query named {name!r}; see `tagger query --list`")


def available(folder: str | Path | None = None) -> list[str]:
    """Names of the queries a user can run (see `find`), sorted; bundled names first."""
    bundled = sorted(p.stem for p in QUERIES.glob("*.sql"))
    users = sorted(
        p.stem
        for user in _user_folders(folder)
        for p in user.glob("*.sql")
        if NAME.match(p.stem) and p.stem not in bundled
    )
    return [*bundled, *users]


RAISED_BY_QUERY = "Invalid Input Error: "
"""How DuckDB prefixes a message a query raises itself with error(...)."""


def run_query(
    con: duckdb.DuckDBPyConnection, query: NamedQuery, values: dict[str, str]
) -> pl.DataFrame:
    """The result of a user-facing query, its parameters bound from text `values`.

    The query runs without file-system access (no COPY ... TO, no reading other files). A DuckDB
    error (a value the SQL cannot cast, a mistake in a user's SQL) becomes one line.
    """
    params = query.bind(values)
    try:
        con.execute("SET enable_external_access = false")
        return con.sql(query.text, params=params or None).pl()
    except duckdb.Error as e:
        message = _first_line(e)
        if message.startswith(RAISED_BY_QUERY):  # the query's own error(...) says what is wrong
            raise InputError(
                f"query {query.name}: {message.removeprefix(RAISED_BY_QUERY)}"
            ) from None
        given = " ".join(f"--param {k}={v}" for k, v in values.items())
        raise InputError(
            f"query {query.name!r}{' with ' + given if given else ''}: {message}"
        ) from None


def _user_folders(folder: str | Path | None) -> list[Path]:
    folder = folder or os.environ.get(USER_QUERIES_ENV)
    if not folder:
        return []
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"query folder {folder} does not exist (--queries or ${USER_QUERIES_ENV})")
    return [folder]


def _parameters(text: str) -> list[str]:
    return list(dict.fromkeys(_PARAM.findall(_strip_comments(text))))


def _bound(name: str, text: str, params: dict) -> dict:
    """The parameters of query `name` (SQL `text`) taken from `params`, an optional one not given
    as NULL; one clear line when a required one is missing."""
    wanted, optional = _parameters(text), set(_OPTIONAL.findall(text))
    missing = [p for p in wanted if p not in params and p not in optional]
    if missing:
        raise TaggerError(
            f"query {name!r} needs parameter(s) {', '.join(missing)}; pass --param NAME=VALUE"
        )
    return {k: params.get(k) for k in wanted}


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0]


def _a(word: str) -> str:
    return "an" if word[0] in "AEIOU" else "a"
