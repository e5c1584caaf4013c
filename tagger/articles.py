"""Articles in: read news files into one clean table, and store it.

`read_articles(paths)` reads `.txt`, `.md`, `.json`, `.jsonl` (or `.ndjson`), `.csv` and
`.parquet` files, and folders of them, into an `ArticleBatch`: the articles (one row each, columns
in `ARTICLE_SCHEMA`) and the problems found, each one line naming file, line (or record) and field.
A bad record is skipped and reported as an error; the good records of the same file are kept.
`store_articles(con, articles)` writes the table into the DuckDB store.

Input fields (names match ignoring case, `_`, `-` and spaces, so `publishedAt` is
`published_at`; the first non-empty one in this order wins; other fields are ignored):

    id            id, article_id, uuid            missing: "sha1:" + 16 hex of title and body
    title         title, headline                 missing: ""
    body          body, text, content, summary, description
    published_at  published_at, published, published_utc, date, datetime, time,
                  time_published, timestamp
    publisher     publisher, source, site         an object with a "name" gives that name
    url           url, link, article_url

- An article needs text: a body, or at least a title (headline-only feeds are common; such an
  article has body ""). A record with neither is an error.
- `published_at`: ISO 8601 with `Z` or an offset is an instant (stored in UTC); a date alone
  (`2024-05-10`, `20240510`) is a date; a time without an offset is read as UTC, with one warning
  per file; a number (`1715365800`) is epoch seconds. Empty or absent: unknown. Else an error.
- `.txt` is one article (the whole file is the body); `.md` too, and a first line `# Heading`
  is its title. Their id is the file name without extension.
- `.json` holds one article object, a list of them, or an object whose "articles", "feed" or
  "results" is that list (NewsAPI, Alpha Vantage and Polygon answers). A file that is not valid
  JSON is reported at its line and skipped whole.
- Title plus body may be at most `MAX_ARTICLE_BYTES` of UTF-8. Files must be UTF-8.
- An id seen twice keeps its first article; the later ones are reported as warnings and dropped.

This module reads and validates; it does not find companies in the text.
"""

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

from tagger.errors import InputError
from tagger.store import transaction

MAX_ARTICLE_BYTES = 5_000_000
"""The largest article (title plus body, UTF-8 bytes) accepted; larger ones are skipped."""

FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "article_id", "uuid"),
    "title": ("title", "headline"),
    "body": ("body", "text", "content", "summary", "description"),
    "published_at": (
        "published_at",
        "published",
        "published_utc",
        "date",
        "datetime",
        "time",
        "time_published",
        "timestamp",
    ),
    "publisher": ("publisher", "source", "site"),
    "url": ("url", "link", "article_url"),
}
"""Each article field and the input names it is read from, in order of preference."""

ARTICLE_SCHEMA = pl.Schema(
    {
        "article_id": pl.String,
        "title": pl.String,
        "body": pl.String,
        "published_raw": pl.String,
        "published_at": pl.Datetime("us", "UTC"),
        "published_date": pl.Date,
        "publisher": pl.String,
        "url": pl.String,
        "source_file": pl.String,
        "source_line": pl.Int64,
    }
)
"""The columns of `ArticleBatch.articles`."""

SUFFIXES = (".txt", ".md", ".json", ".jsonl", ".ndjson", ".csv", ".parquet")
"""File name endings `read_articles` reads."""

JSON_LIST_KEYS = ("articles", "feed", "results")
"""Keys of a .json object that hold the list of articles."""

_INPUT_NAMES = [name for names in FIELD_NAMES.values() for name in names]
_RAW_SCHEMA = pl.Schema(
    {field: pl.String for field in FIELD_NAMES}
    | {"source_file": pl.String, "source_line": pl.Int64, "source_record": pl.Int64}
)
_TIME_EXAMPLE = "use 2024-05-10T14:30:00-04:00 or 2024-05-10"
_EPOCH = re.compile(r"\d+(\.\d+)?")
_LAST_EPOCH_SECOND = 4_102_444_800  # 2100-01-01: a larger number is likely milliseconds
_SAMPLE_LINES = 1000
_CHUNK_BYTES = 8_000_000
_MB = 1_000_000


@dataclass(frozen=True)
class Problem:
    """One bad input: where it is, which field, what is wrong and how to fix it.

    `line` is 1-based for line-based files (.jsonl, .csv; .json on a syntax error); `record` is
    the 1-based position of the record in files that are not (.json, .parquet). An `error`
    skipped the record (or the whole file when neither is set); a `warning` kept it.
    """

    file: str
    line: int | None
    field: str | None
    message: str
    severity: Literal["error", "warning"] = "error"
    record: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.field is not None:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


@dataclass(frozen=True)
class ArticleBatch:
    """The articles read (columns in `ARTICLE_SCHEMA`), the problems met, and the files read."""

    articles: pl.DataFrame
    problems: list[Problem]
    files: list[str]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def summary(self) -> str:
        """One line: how many articles were read, and how many errors (records skipped) where."""
        articles, files = self.articles.height, len(self.files)
        line = f"read {_plural(articles, 'article')} from {_plural(files, 'file')}"
        per_file: dict[str, int] = {}
        for problem in self.errors:
            per_file[problem.file] = per_file.get(problem.file, 0) + 1
        if per_file:
            where = ", ".join(f"{Path(f).name}: {n}" for f, n in per_file.items())
            line += f"; {_plural(len(self.errors), 'error')}, whose records were skipped ({where})"
        if self.warnings:
            line += f"; {_plural(len(self.warnings), 'warning')}"
        return line


def read_articles(paths: str | Path | Iterable[str | Path]) -> ArticleBatch:
    """Read the articles in `paths` (files and folders, read in the order given).

    Raises InputError when a path does not exist or a named file has an unknown extension;
    everything else wrong in the input becomes a `Problem` in the batch.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    files, problems = list_article_files(paths)
    frames = []
    for file in files:
        raw, file_problems = _read_file(file)
        frames.append(raw)
        problems.extend(file_problems)
    raw = pl.concat(frames) if frames else _RAW_SCHEMA.to_frame()
    articles, record_problems = _clean(raw)
    problems.extend(record_problems)
    order = {str(file): i for i, file in enumerate(files)}
    problems.sort(key=lambda p: (order.get(p.file, -1), p.line or 0, p.record or 0))
    return ArticleBatch(articles, problems, list(order))


def list_article_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Problem]]:
    """The files to read in `paths`: folders are searched (sorted, hidden files skipped).

    Files in folders with an unknown extension are skipped with a warning.
    """
    files: list[Path] = []
    problems: list[Problem] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = _files_in_folder(path, problems)
            if not found:
                problems.append(
                    Problem(str(path), None, None, "no article files in this folder", "warning")
                )
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SUFFIXES:
                raise InputError(f"{path}: cannot read '{path.suffix}' files; {_known_suffixes()}")
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    unique = {file.resolve(): file for file in reversed(files)}
    return [file for file in files if unique[file.resolve()] is file], problems


def parse_published(text: str) -> tuple[datetime | None, date | None, bool]:
    """Read a publication time: `(instant in UTC, None, naive)` or `(None, date, False)`.

    `naive` is True when the text gave a time without an offset (read as UTC). Raises ValueError
    with a one-line message saying what was expected.
    """
    text = text.strip()
    if _EPOCH.fullmatch(text) and len(text) != 8:
        seconds = float(text)
        if seconds >= _LAST_EPOCH_SECOND:
            raise ValueError(
                f"{text} is after 2100 as epoch seconds (milliseconds? divide by 1000)"
            )
        return datetime.fromtimestamp(seconds, UTC), None, False
    try:
        return None, date.fromisoformat(text), False
    except ValueError:
        pass
    try:
        instant = datetime.fromisoformat(text)
        if instant.tzinfo is None:
            return instant.replace(tzinfo=UTC), None, True
        return instant.astimezone(UTC), None, False
    except (ValueError, OverflowError):
        raise ValueError(f"cannot parse {text!r} as ISO 8601 ({_TIME_EXAMPLE})") from None


def content_id(title: str, body: str) -> str:
    """The id of an article that has none: a hash of its title and body, the same on every run."""
    return "sha1:" + hashlib.sha1(f"{title}\n{body}".encode()).hexdigest()[:16]


def store_articles(con: duckdb.DuckDBPyConnection, articles: pl.DataFrame) -> int:
    """Write `articles` (as read by `read_articles`) into the store; returns the rows written.

    Re-storing an article replaces its row. When its title or body changed, the entities and
    mentions found in the old text are deleted too (they must be found again); when only other
    fields changed they are kept. All in one transaction.
    """
    if articles.is_empty():
        return 0
    repeated = articles.filter(pl.col("article_id").is_duplicated())["article_id"]
    if not repeated.is_empty():
        raise InputError(
            f"article id '{repeated[0]}' occurs more than once in the articles to store; "
            "read all files in one read_articles() call, which keeps the first"
        )
    columns = [c for c in ARTICLE_SCHEMA if c != "source_line"]
    incoming = articles.select(columns)
    names = ", ".join(columns)
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "article_id")
    changed = (
        "SELECT a.article_id FROM articles a JOIN incoming_articles i USING (article_id) "
        "WHERE a.title IS DISTINCT FROM i.title OR a.body IS DISTINCT FROM i.body"
    )
    con.register("incoming_articles", incoming)
    try:
        with transaction(con):
            con.execute(f"DELETE FROM mentions WHERE article_id IN ({changed})")
            con.execute(f"DELETE FROM entities WHERE article_id IN ({changed})")
            con.execute(
                f"INSERT INTO articles ({names}) SELECT {names} FROM incoming_articles "
                f"ON CONFLICT (article_id) DO UPDATE SET {updates}, "
                "ingested_at = now()"
            )
    finally:
        con.unregister("incoming_articles")
    return articles.height


# Finding files ---------------------------------------------------------------------------------


def _files_in_folder(folder: Path, problems: list[Problem]) -> list[Path]:
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if path.suffix.lower() in SUFFIXES:
            found.append(path)
        else:
            message = f"skipped: unknown extension '{path.suffix}'; {_known_suffixes()}"
            problems.append(Problem(str(path), None, None, message, "warning"))
    return found


def _known_suffixes() -> str:
    return "articles are read from " + ", ".join(SUFFIXES) + " files"


# Reading one file into raw records -------------------------------------------------------------
#
# A reader returns the raw records of one file as a frame in `_RAW_SCHEMA` (all fields text as
# given, null when absent or empty) and the problems that made it skip records.


class _BadRecord(Exception):
    """A record that cannot be read; `field` is None when the record as a whole is bad."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _read_file(path: Path) -> tuple[pl.DataFrame, list[Problem]]:
    file = str(path)
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md") and path.stat().st_size > MAX_ARTICLE_BYTES:
        return _no_records(file, "body", _too_big(path.stat().st_size))
    if suffix == ".parquet":
        return _read_parquet(path)
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data or data.isspace():
        return _no_records(file, None, "file is empty")
    if suffix in (".txt", ".md"):
        return _read_text(path, data)
    if suffix == ".json":
        return _read_json(path, data)
    if suffix == ".csv":
        return _read_csv(path, data)
    return _read_jsonl(path, data)


def _no_records(file: str, field: str | None, message: str, line: int | None = None):
    return _RAW_SCHEMA.to_frame(), [Problem(file, line, field, message)]


def _read_text(path: Path, data: bytes) -> tuple[pl.DataFrame, list[Problem]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return _no_records(str(path), None, _not_utf8(data[e.start]), line)
    title = None
    if path.suffix.lower() == ".md":
        first, _, rest = text.partition("\n")
        if first.startswith("# "):
            title, text = first[2:].strip(), rest.lstrip("\r\n")
    record = {"id": path.stem, "title": title, "body": text}
    return _raw_frame([record], str(path)), []


def _read_jsonl(path: Path, data: bytes) -> tuple[pl.DataFrame, list[Problem]]:
    """Read a .jsonl file in chunks: polars reads a clean chunk, Python a chunk with a bad line.

    The input names read are those of the first `_SAMPLE_LINES` records plus the names in
    `FIELD_NAMES` as spelled there (a name spelled otherwise that first appears later is missed).
    """
    names = _sample_names(data) | set(_INPUT_NAMES)
    frames, problems = [], []
    for first_line, chunk in _chunks(data):
        read = _read_jsonl_fast(str(path), chunk, first_line, names)
        if read is None:
            lines = enumerate(chunk.split(b"\n"), first_line)
            read = _read_json_lines(str(path), [(n, line) for n, line in lines if line.strip()])
        frames.append(read[0])
        problems.extend(read[1])
    return pl.concat(frames), problems


def _chunks(data: bytes) -> Iterator[tuple[int, bytes]]:
    """`data` cut at line ends into pieces of about `_CHUNK_BYTES`, each with its first line."""
    start, line = 0, 1
    while start < len(data):
        end = data.find(b"\n", start + _CHUNK_BYTES)
        end = len(data) if end == -1 else end + 1
        yield line, data[start:end]
        line += data.count(b"\n", start, end)
        start = end


def _read_jsonl_fast(
    file: str, chunk: bytes, first_line: int, names: set[str]
) -> tuple[pl.DataFrame, list[Problem]] | None:
    """Read lines of .jsonl with polars; None if one is not valid (then read them line by line).

    Records that may hide a problem (no title and body; a field that is not text or has a NUL)
    are read again line by line, so they get the same checks and messages as on the slow path.
    """
    try:
        frame = pl.read_ndjson(io.BytesIO(chunk), schema={name: pl.String for name in names})
    except pl.exceptions.PolarsError:
        return None
    lines = _nonblank_line_numbers(chunk, frame.height)
    if lines is None:
        return None
    raw = frame.select(
        *(_first_nonempty(field, names) for field in FIELD_NAMES),
        source_file=pl.lit(file),
        source_line=lines + (first_line - 1),
        source_record=pl.lit(None, pl.Int64),
    )
    suspect = pl.col("body").is_null() & pl.col("title").is_null()
    for field in FIELD_NAMES:
        value = pl.col(field)
        suspect |= value.str.starts_with("{") | value.str.starts_with("[")
        suspect |= value.str.contains("\x00", literal=True)  # polars' stand-in for a bad \u escape
    suspect = suspect.fill_null(False)
    suspects = raw.filter(suspect)["source_line"]
    if suspects.is_empty():
        return raw, []
    all_lines = chunk.split(b"\n")
    reread, problems = _read_json_lines(file, [(n, all_lines[n - first_line]) for n in suspects])
    return pl.concat([raw.filter(~suspect), reread]).sort("source_line"), problems


def _sample_names(data: bytes) -> set[str]:
    """The input names for article fields in the first `_SAMPLE_LINES` valid records."""
    names: set[str] = set()
    sample = 0
    for line in io.BytesIO(data):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            names.update(key for key in record if _field_of(key))
            sample += 1
        if sample == _SAMPLE_LINES:
            break
    return names


def _first_nonempty(field: str, names: set[str]) -> pl.Expr:
    columns = sorted((n for n in names if _field_of(n) == field), key=_name_order)
    values = [pl.when(pl.col(c) != "").then(pl.col(c)) for c in columns]
    return pl.coalesce(values).alias(field) if values else pl.lit(None, pl.String).alias(field)


@cache
def _field_of(name: str) -> str | None:
    """The article field an input name is read into, if any (case, `_`, `-`, spaces ignored)."""
    folded = _fold(name)
    return next((f for f, names in FIELD_NAMES.items() if folded in map(_fold, names)), None)


@cache
def _name_order(name: str) -> tuple[int, str]:
    """Sorts the input names of one field by preference."""
    names = [_fold(n) for n in FIELD_NAMES[_field_of(name)]]
    return names.index(_fold(name)), name


def _fold(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).lower()


def _nonblank_line_numbers(data: bytes, rows: int) -> pl.Series | None:
    """The line number of each non-blank line (polars skips blank ones), or None if unsure."""
    count = data.count(b"\n") + (not data.endswith(b"\n"))
    if count == rows:
        return pl.int_range(1, rows + 1, dtype=pl.Int64, eager=True)
    numbers = [n for n, line in enumerate(data.split(b"\n"), 1) if line.strip()]
    return pl.Series(numbers, dtype=pl.Int64) if len(numbers) == rows else None


def _read_json_lines(
    file: str, lines: list[tuple[int, bytes]]
) -> tuple[pl.DataFrame, list[Problem]]:
    records, problems = [], []
    for number, line in lines:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(Problem(file, number, None, _not_utf8(line[e.start], e.start + 1)))
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as e:
            message = f"not valid JSON: {e.msg} (column {e.colno})"
            problems.append(Problem(file, number, None, message))
            continue
        try:
            records.append(_record_fields(record) | {"source_line": number})
        except _BadRecord as e:
            problems.append(Problem(file, number, e.field, e.message))
    return _raw_frame(records, file), problems


def _read_json(path: Path, data: bytes) -> tuple[pl.DataFrame, list[Problem]]:
    file = str(path)
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return _no_records(file, None, _not_utf8(data[e.start]) + "; the file was skipped", line)
    except json.JSONDecodeError as e:
        message = f"not valid JSON: {e.msg} (column {e.colno}); the file was skipped"
        return _no_records(file, None, message, e.lineno)
    items = _json_items(document)
    if items is None:
        kind = _kind(document)
        keys = ", ".join(f'"{k}"' for k in JSON_LIST_KEYS)
        message = f"expected an article object or a list of them (or under {keys}), got {kind}"
        return _no_records(file, None, message)
    records, problems = [], []
    for number, item in enumerate(items, 1):
        try:
            records.append(_record_fields(item) | {"source_record": number})
        except _BadRecord as e:
            problems.append(Problem(file, None, e.field, e.message, record=number))
    if not items:
        problems.append(Problem(file, None, None, "no articles in this file", "warning"))
    return _raw_frame(records, file), problems


def _json_items(document: object) -> list | None:
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return None
    for key in JSON_LIST_KEYS:
        if isinstance(document.get(key), list):
            return document[key]
    return [document]


def _read_csv(path: Path, data: bytes) -> tuple[pl.DataFrame, list[Problem]]:
    file = str(path)
    try:
        text, valid_utf8 = data.decode("utf-8"), True
    except UnicodeDecodeError:
        text, valid_utf8 = data.decode("utf-8", errors="surrogateescape"), False
    csv.field_size_limit(2**31 - 1)  # long articles: their size is checked later, one by one
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as e:
        return _no_records(file, None, f"cannot read the CSV header: {e}", 1)
    columns = sorted(
        ((i, _field_of(name)) for i, name in enumerate(header) if _field_of(name)),
        key=lambda column: _name_order(header[column[0]]),
    )
    if not any(field in ("body", "title") for _, field in columns):
        return _no_records(file, None, _no_text_column(), 1)
    records, problems = [], []
    start = reader.line_num + 1
    try:
        for row in reader:
            number, start = start, reader.line_num + 1
            if not row:
                continue
            if len(row) != len(header):
                message = (
                    f"{len(row)} fields, the header has {len(header)} "
                    "(a quote or separator out of place?)"
                )
                problems.append(Problem(file, number, None, message))
                continue
            if not valid_utf8 and (bad := _first_undecodable(row)) is not None:
                problems.append(Problem(file, number, None, _not_utf8(bad)))
                continue
            record = {}
            for i, field in columns:
                if row[i] != "" and field not in record:
                    record[field] = row[i]
            records.append(record | {"source_line": number})
    except csv.Error as e:
        message = f"cannot read CSV: {e}; the rest of the file was skipped"
        problems.append(Problem(file, start, None, message))
    if not records and not problems:
        problems.append(Problem(file, None, None, "no articles in this file", "warning"))
    return _raw_frame(records, file), problems


def _first_undecodable(row: list[str]) -> int | None:
    """The first byte that was not UTF-8 (decoded as a surrogate escape) in a row, if any."""
    for value in row:
        match = re.search("[\udc80-\udcff]", value)
        if match:
            return ord(match.group()) - 0xDC00
    return None


def _read_parquet(path: Path) -> tuple[pl.DataFrame, list[Problem]]:
    file = str(path)
    try:
        schema = pl.read_parquet_schema(path)
    except Exception as e:  # polars raises several kinds for a file that is not Parquet
        return _no_records(file, None, f"not a readable Parquet file ({_first_line(e)})")
    names = {name for name in schema if _field_of(name)}
    if not any(_field_of(name) in ("body", "title") for name in names):
        return _no_records(file, None, _no_text_column())
    for name in names:
        if schema[name].is_nested() or schema[name] == pl.Binary:
            field = _field_of(name)
            message = f"column {name!r} holds {schema[name]}, expected text"
            return _no_records(file, field, message)
    frame = pl.read_parquet(path, columns=sorted(names)).with_columns(
        pl.col(sorted(names)).cast(pl.String)
    )
    raw = frame.select(
        *(_first_nonempty(field, names) for field in FIELD_NAMES),
        source_file=pl.lit(file),
        source_line=pl.lit(None, pl.Int64),
        source_record=pl.int_range(1, frame.height + 1, dtype=pl.Int64),
    )
    problems = []
    if raw.is_empty():
        problems.append(Problem(file, None, None, "no articles in this file", "warning"))
    return raw, problems


def _record_fields(record: object) -> dict[str, str]:
    """The article fields of one input record, as text, by the first non-empty name."""
    if not isinstance(record, dict):
        raise _BadRecord(None, f"expected an article object {{...}}, got {_kind(record)}")
    found: dict[str, tuple[tuple, str]] = {}
    for name, value in record.items():
        field = _field_of(name)
        if field is None:
            continue
        text = _as_text(field, value)
        if not text:
            continue
        order = _name_order(name)
        if field not in found or order < found[field][0]:
            found[field] = (order, text)
    return {field: text for field, (_, text) in found.items()}


def _as_text(field: str, value: object) -> str | None:
    if value is None:
        return None
    if field == "publisher" and isinstance(value, dict) and isinstance(value.get("name"), str):
        value = value["name"]
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _BadRecord(field, "has an invalid \\u escape (a lone surrogate)") from None
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _BadRecord(field, f"expected text, got {_kind(value)}")


def _raw_frame(records: list[dict], file: str) -> pl.DataFrame:
    columns = {name: [r.get(name) for r in records] for name in _RAW_SCHEMA}
    columns["source_file"] = [file] * len(records)
    return pl.DataFrame(columns, schema=_RAW_SCHEMA)


# Checking records and making the article table -------------------------------------------------


def _clean(raw: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """Check the raw records, parse their times, give ids; returns the articles and problems."""
    frame = raw.rename({"published_at": "published_raw"})
    frame = frame.join(
        _parse_times(frame["published_raw"]), on="published_raw", how="left", maintain_order="left"
    )
    text_bytes = pl.col("title").str.len_bytes().fill_null(0) + pl.col("body").str.len_bytes()
    has_text = pl.any_horizontal(
        pl.col(c).str.strip_chars().str.len_bytes().fill_null(0) > 0 for c in ("title", "body")
    )
    frame = frame.with_columns(
        _error=pl.when(~has_text)
        .then(pl.lit("no_text"))
        .when(text_bytes.fill_null(0) > MAX_ARTICLE_BYTES)
        .then(pl.lit("too_big"))
        .when(pl.col("_time_error").is_not_null())
        .then(pl.lit("time")),
        _bytes=text_bytes.fill_null(0),
    )
    problems = [
        _record_problem(row)
        for row in frame.filter(pl.col("_error").is_not_null()).iter_rows(named=True)
    ]
    frame = frame.filter(pl.col("_error").is_null())
    problems += _naive_time_warnings(frame)
    frame = frame.with_columns(article_id=_ids(frame))
    first = pl.col("article_id").is_first_distinct()
    problems += _duplicate_warnings(frame, first)
    articles = frame.filter(first).select(
        "article_id",
        pl.col("title").fill_null(""),
        pl.col("body").fill_null(""),
        pl.col("published_raw"),
        "published_at",
        "published_date",
        "publisher",
        "url",
        "source_file",
        "source_line",
    )
    return articles, problems


_TIMES_SCHEMA = pl.Schema(
    {
        "published_raw": pl.String,
        "published_at": pl.Datetime("us", "UTC"),
        "published_date": pl.Date,
        "_naive": pl.Boolean,
        "_time_error": pl.String,
    }
)


def _parse_times(raw: pl.Series) -> pl.DataFrame:
    """One row per distinct raw publication time: its instant or date, and any problem.

    ISO dates and ISO times with an offset, the common forms, are parsed by polars; the rest by
    `parse_published`, which follows the same rules (and is what the tests hold both to).
    """
    text = pl.col("published_raw").str.strip_chars()
    given = raw.drop_nulls().unique().to_frame("published_raw").filter(text != "")
    common = given.with_columns(
        published_at=text.str.to_datetime("%+", time_unit="us", time_zone="UTC", strict=False),
        published_date=pl.when(text.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(
            text.str.to_date("%Y-%m-%d", strict=False)
        ),
        _naive=pl.lit(False),
        _time_error=pl.lit(None, pl.String),
    )
    parsed = pl.col("published_at").is_not_null() | pl.col("published_date").is_not_null()
    rows = []
    for text in common.filter(~parsed)["published_raw"]:
        try:
            rows.append((text, *parse_published(text), None))
        except ValueError as e:
            rows.append((text, None, None, False, str(e)))
    others = pl.DataFrame(rows, schema=_TIMES_SCHEMA, orient="row")
    return pl.concat([common.filter(parsed).cast(_TIMES_SCHEMA), others])


def _record_problem(row: dict) -> Problem:
    if row["_error"] == "no_text":
        field, message = "body", "missing: an article needs a body (or at least a title)"
    elif row["_error"] == "too_big":
        field, message = "body", _too_big(row["_bytes"])
    else:
        field, message = "published_at", row["_time_error"]
    line, record = row["source_line"], row["source_record"]
    return Problem(row["source_file"], line, field, message, record=record)


def _naive_time_warnings(frame: pl.DataFrame) -> list[Problem]:
    """One warning per file that has times without an offset, at the first of them."""
    naive = frame.filter(pl.col("_naive").fill_null(False))
    warnings = []
    for (file,), group in naive.group_by("source_file", maintain_order=True):
        first = group.row(0, named=True)
        raw = first["published_raw"]
        what = f"'{raw}' has" if group.height == 1 else f"{group.height} times (first '{raw}') have"
        message = (
            f"{what} no UTC offset, so read as UTC; if that is wrong, "
            "give the offset (2024-05-10T14:30:00-04:00)"
        )
        line, record = first["source_line"], first["source_record"]
        warnings.append(Problem(file, line, "published_at", message, "warning", record))
    return warnings


def _ids(frame: pl.DataFrame) -> pl.Series:
    ids = frame["id"].str.strip_chars()
    missing = (ids.is_null() | (ids == "")).arg_true()
    if missing.is_empty():
        return ids
    texts = frame.select(pl.col("title").fill_null(""), pl.col("body").fill_null("")).gather(
        missing
    )
    return ids.scatter(missing, [content_id(t, b) for t, b in texts.iter_rows()])


def _duplicate_warnings(frame: pl.DataFrame, first: pl.Expr) -> list[Problem]:
    repeated = frame.filter(~first)
    if repeated.is_empty():
        return []
    firsts = frame.filter(first & pl.col("article_id").is_in(repeated["article_id"].implode()))
    where = {r["article_id"]: _where(r) for r in firsts.iter_rows(named=True)}
    return [
        Problem(
            r["source_file"],
            r["source_line"],
            "id",
            f"id '{r['article_id']}' was already read at {where[r['article_id']]}; kept that one",
            "warning",
            r["source_record"],
        )
        for r in repeated.iter_rows(named=True)
    ]


def _where(row: dict) -> str:
    problem = Problem(row["source_file"], row["source_line"], None, "", record=row["source_record"])
    return str(problem).removesuffix(": ")


# Messages --------------------------------------------------------------------------------------


def _not_utf8(byte: int, column: int | None = None) -> str:
    at = f" at column {column}" if column is not None else ""
    return f"not valid UTF-8 (byte 0x{byte:02X}{at}); save the file as UTF-8"


def _no_text_column() -> str:
    names = ", ".join(FIELD_NAMES["body"] + FIELD_NAMES["title"])
    return f"no body or title column; name one of: {names}"


def _too_big(size: int) -> str:
    return (
        f"article is {size / _MB:.1f} MB, over the {MAX_ARTICLE_BYTES / _MB:g} MB limit "
        "per article; split it or leave it out"
    )


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return json.dumps(value)


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
