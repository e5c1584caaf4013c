"""Articles in: read news files into one clean table, and store it.

`read_articles(paths)` reads `.txt`, `.md`, `.json`, `.jsonl` (or `.ndjson`), `.csv` and
`.parquet` files, and folders of them, into an `ArticleBatch`: the articles (one row each, columns
in `ARTICLE_SCHEMA`) and the problems found, each one line naming file, line (or record) and field.
A bad record is skipped and reported as an error; the good records of the same file are kept.
`store_articles(con, articles)` writes the table into the DuckDB store.

`iter_articles(paths, chunk_articles=..., chunk_bytes=...)` reads the same input as a stream of
batches, in input order, each with at most `chunk_articles` articles and `chunk_bytes` bytes of
text (all fields as given, UTF-8; one larger article is a batch of its own). JSON Lines and CSV
are read line by line and Parquet by record batches, so memory stays bounded whatever the size
of the input; a `.json` file is one document and is read whole (up to `MAX_JSON_FILE_BYTES`).
A batch's problems are those met while reading its records; an id already read in an earlier
batch is reported and dropped as within one batch. `read_articles` is all the batches in one.

    from tagger import store
    from tagger.articles import iter_articles, store_articles

    con = store.connect("news.duckdb")
    for batch in iter_articles(["news/"], chunk_articles=20_000, chunk_bytes=50_000_000):
        for problem in batch.problems:
            print(problem)  # news/feed.jsonl:12: published_at: cannot parse ...
        store_articles(con, batch.articles)

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
- `published_at` is read in these forms (a time without an offset is read as UTC, with one
  warning per file; empty or absent: unknown; anything else is an error):

      2024-05-10T14:30:00Z, 2024-05-10T14:30:00-04:00,   ISO 8601 with an offset (stored in UTC)
        2024-05-10 14:30:00.5+02:00
      2024-05-10T14:30:00, 2024-05-10 14:30:00,          ISO 8601 without an offset (UTC)
        20240510T143000 (Alpha Vantage)
      2024-05-10, 20240510                               a date (no time of day)
      Fri, 10 May 2024 14:30:00 GMT,                     RFC 2822 (RSS, e-mail); zones: +-hhmm,
        10 May 2024 14:30 -0400                          UT, UTC, GMT, Z, EST, EDT, CST, CDT,
                                                         MST, MDT, PST, PDT; none or -0000: UTC
      1715351400, 1715351400.5                           epoch seconds (a JSON number too)
      1715351400000                                      epoch milliseconds (10^11 and up)

  Times and dates must lie in 1900-01-01..2100-12-31 (UTC); others are errors naming the range.
- Article fields are text. In JSON, a number becomes text one way, whatever the rest of the
  file holds: a whole number as its digits (`1e5`, `100000.0` and `100000` are all "100000"),
  others in plain decimal (`5e-1` is "0.5"); an `id` must be a whole number, and a number with
  more than 30 digits before or after the point is an error. `true`, `false`, `NaN`,
  `Infinity`, a list, or an object (but a publisher's {"name": ...}) in an article field is an
  error. A key given twice in one object: the last value counts, as in most JSON parsers. In
  CSV every value is text as written; in Parquet numbers and times are read as their text (a
  float `id` column by the JSON rule) and a boolean, binary or nested column is an error.
- Each JSON record is parsed on its own (Python's json, the same code for every line), so a
  record reads the same in any file. A record nested more than `MAX_JSON_DEPTH` levels deep, or
  holding an integer longer than Python's limit (4300 digits), is an error; a JSON or CSV line
  longer than `MAX_LINE_BYTES` is reported and skipped unread (in CSV, with the rest of the
  file, whose quoting can no longer be trusted).
- `.txt` is one article (the whole file is the body); `.md` too, and a first line `# Heading`
  is its title. Their id is the file name without extension.
- `.json` holds one article object, a list of them, or an object whose "articles", "feed" or
  "results" is that list (NewsAPI, Alpha Vantage and Polygon answers). A file that is not valid
  JSON is reported at its line and skipped whole, as is one over `MAX_JSON_FILE_BYTES`.
- Title plus body may be at most `MAX_ARTICLE_BYTES` of UTF-8. Files must be UTF-8.
- An id seen twice keeps its first article; the later ones are reported as warnings and dropped.

This module reads and validates; it does not find companies in the text.
"""

import csv
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq

from tagger.errors import InputError
from tagger.store import transaction

MAX_ARTICLE_BYTES = 5_000_000
"""The largest article (title plus body, UTF-8 bytes) accepted; larger ones are skipped."""

MAX_LINE_BYTES = 6 * MAX_ARTICLE_BYTES
"""The longest JSON line or CSV line read: room for an article at the limit written with JSON
escapes (`\\u0001` is 6 bytes for 1). A longer line is reported and skipped without being held."""

MAX_JSON_FILE_BYTES = 100_000_000
"""The largest `.json` file: a document is read whole, so larger ones must be JSON Lines."""

MAX_JSON_DEPTH = 100
"""The deepest nesting of lists and objects read in one JSON record or `.json` document."""

EARLIEST_PUBLISHED = date(1900, 1, 1)
LATEST_PUBLISHED = date(2100, 12, 31)
"""Publication times and dates outside this range (UTC, inclusive) are errors."""

CHUNK_ARTICLES = 50_000
CHUNK_BYTES = 50_000_000
"""`iter_articles`' default batch size: articles, and bytes of text (all fields, UTF-8)."""

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

_RAW_SCHEMA = pl.Schema(
    {field: pl.String for field in FIELD_NAMES}
    | {"source_file": pl.String, "source_line": pl.Int64, "source_record": pl.Int64}
)
_TIME_EXAMPLE = "use 2024-05-10T14:30:00-04:00 or 2024-05-10"
_RANGE = f"publication times must lie in {EARLIEST_PUBLISHED}..{LATEST_PUBLISHED} (UTC)"
_FIRST_INSTANT = datetime.combine(EARLIEST_PUBLISHED, datetime.min.time(), UTC)
_END_INSTANT = datetime.combine(LATEST_PUBLISHED + timedelta(days=1), datetime.min.time(), UTC)
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH = re.compile(r"[0-9]+(\.[0-9]+)?")
_FIRST_EPOCH_MILLISECOND = 10**11  # as seconds, the year 5138: a number this large is ms
_RFC2822 = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(?P<day>[0-9]{1,2})\s+(?P<month>[A-Za-z]{3})\s+(?P<year>[0-9]{4})\s+"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?"
    r"(?:\s*(?P<zone>[+-][0-9]{4}|[A-Za-z]+))?"
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RFC2822_ZONES = {"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6}
_RFC2822_ZONES |= {"CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7}
# The times polars parses exactly as `parse_published` does; the others go through it.
_ISO_WITH_OFFSET = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
_ISO_NAIVE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?$"
)
_COMPACT_NAIVE = r"^[0-9]{8}T(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]$"
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ASCII_SPACE = " \t\n\r\f\v"
_MAX_NUMBER_DIGITS = 30
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_BOM = b"\xef\xbb\xbf"
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
    """Read the articles in `paths` (files and folders, read in the order given) in one batch.

    Raises InputError when a path does not exist or a named file has an unknown extension;
    everything else wrong in the input becomes a `Problem` in the batch.
    """
    batches = list(iter_articles(paths))
    files = list(dict.fromkeys(file for batch in batches for file in batch.files))
    order = {file: i for i, file in enumerate(files)}
    problems = sorted(
        (problem for batch in batches for problem in batch.problems),
        key=lambda p: (order.get(p.file, -1), p.line or 0, p.record or 0),
    )
    return ArticleBatch(pl.concat(batch.articles for batch in batches), problems, files)


def iter_articles(
    paths: str | Path | Iterable[str | Path],
    *,
    chunk_articles: int = CHUNK_ARTICLES,
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[ArticleBatch]:
    """Read the articles in `paths` as batches of at most `chunk_articles` articles and
    `chunk_bytes` bytes of text, in input order (at least one batch, maybe empty).

    Each batch's `files` are the files it holds records of; its problems are those met while
    reading them (a warning about a whole file comes with the batch after the file's last
    record). Raises InputError as `read_articles` does, before the first batch.
    """
    if chunk_articles < 1 or chunk_bytes < 1:
        raise ValueError("chunk_articles and chunk_bytes must be at least 1")
    if isinstance(paths, str | Path):
        paths = [paths]
    files, problems = list_article_files(paths)
    chunker = _Chunker(_Limits(chunk_articles, chunk_bytes), problems)
    for file in files:
        yield from chunker.read(file)
    yield from chunker.finish()


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

    `naive` is True when the text gave a time without an offset (read as UTC). The forms are
    those in the module docstring. Raises ValueError with a one-line message saying what was
    expected.
    """
    text = text.strip()
    if _EPOCH.fullmatch(text) and len(text) != 8:
        return _from_epoch(text), None, False
    if rfc := _RFC2822.fullmatch(text):
        instant = _from_rfc2822(rfc, text)
        return _utc_in_range(instant, text), None, instant.tzinfo is None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        if not EARLIEST_PUBLISHED <= day <= LATEST_PUBLISHED:
            raise ValueError(f"{text!r} is out of range: {_RANGE}")
        return None, day, False
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"cannot parse {text!r} as ISO 8601 ({_TIME_EXAMPLE})") from None
    return _utc_in_range(instant, text), None, instant.tzinfo is None


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


# Publication times -----------------------------------------------------------------------------


def _from_epoch(text: str) -> datetime:
    seconds, unit = Decimal(text), "seconds"
    if seconds >= _FIRST_EPOCH_MILLISECOND:
        seconds, unit = seconds / 1000, "milliseconds"
    if seconds >= (_END_INSTANT - _UNIX_EPOCH).total_seconds():
        raise ValueError(f"{text} as epoch {unit} is after {LATEST_PUBLISHED}; {_RANGE}")
    return _UNIX_EPOCH + timedelta(microseconds=int((seconds * 10**6).to_integral_value()))


def _from_rfc2822(parts: re.Match, text: str) -> datetime:
    """The time of an RFC 2822 date (naive when it has no zone, or -0000: zone unknown)."""
    zone, offset = parts["zone"], None
    if zone is not None and zone[0] in "+-":
        minutes = int(zone[1:3]) * 60 + int(zone[3:])
        offset = None if zone == "-0000" else (-minutes if zone[0] == "-" else minutes)
    elif zone is not None:
        if zone.upper() not in _RFC2822_ZONES:
            raise ValueError(f"unknown time zone {zone!r} in {text!r}; give an offset (-0400)")
        offset = _RFC2822_ZONES[zone.upper()] * 60
    try:
        month = _MONTHS.index(parts["month"].lower()) + 1
        numbers = (parts[p] or 0 for p in ("year", "day", "hour", "minute", "second"))
        year, day, hour, minute, second = map(int, numbers)
        tz = None if offset is None else timezone(timedelta(minutes=offset))
        return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        raise ValueError(f"cannot parse {text!r} as an RFC 2822 time") from None


def _utc_in_range(instant: datetime, text: str) -> datetime:
    try:
        utc = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
    except OverflowError:  # beyond year 1 or 9999 in UTC
        utc = None
    if utc is None or not _FIRST_INSTANT <= utc < _END_INSTANT:
        raise ValueError(f"{text!r} is out of range: {_RANGE}")
    return utc


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


# Batches ---------------------------------------------------------------------------------------


class _Limits(NamedTuple):
    articles: int
    bytes: int


class _Chunker:
    """Gathers the raw records the readers give into batches within the limits, and cleans each.

    Across batches it keeps the ids read (each with where it was first read, packed in an int:
    file number, line or record, and which of the two) and, per file, the times without an offset
    (one warning per file, given once the file is read).
    """

    def __init__(self, limits: _Limits, problems: list[Problem]):
        self.limits = limits
        self.pieces: list[pl.DataFrame] = []
        self.rows = self.bytes = 0
        self.problems = problems
        self.files: list[str] = []
        self.order: dict[str, int] = {}  # file: its number, in reading order
        self.names: list[str] = []  # file names by number
        self.seen: dict[str, int] = {}
        self.naive: dict[str, dict] = {}
        self.read_files: list[str] = []
        self.batches = 0

    def read(self, path: Path) -> Iterator[ArticleBatch]:
        file = str(path)
        self.order[file] = len(self.order)
        self.names.append(file)
        self.files.append(file)
        for item in _read_file(path, self.limits):
            if isinstance(item, Problem):
                self.problems.append(item)
                continue
            while not item.is_empty():
                take = self._room(item)
                if take == 0:
                    yield self._flush()
                    self.files.append(file)
                    continue
                self.pieces.append(item.head(take))
                item = item.slice(take)
        self.read_files.append(file)

    def finish(self) -> Iterator[ArticleBatch]:
        if self.pieces or self.problems or self.naive or self.batches == 0:
            yield self._flush()

    def _room(self, frame: pl.DataFrame) -> int:
        """How many of the frame's first records fit in the batch (at least one if it is empty)."""
        sizes = pl.sum_horizontal(
            pl.col(field).str.len_bytes().fill_null(0) for field in FIELD_NAMES
        )
        cumulative = frame.select(sizes.cum_sum())[:, 0]
        fitting = cumulative.search_sorted(self.limits.bytes - self.bytes, side="right")
        take = min(fitting, self.limits.articles - self.rows, frame.height)
        if take == 0 and self.rows == 0:
            take = 1
        self.rows += take
        self.bytes += cumulative[take - 1] if take else 0
        return take

    def _flush(self) -> ArticleBatch:
        raw = pl.concat(self.pieces) if self.pieces else _RAW_SCHEMA.to_frame()
        articles, problems = self._clean(raw)
        problems += self._naive_time_warnings()
        problems += self.problems
        problems.sort(key=lambda p: (self.order.get(p.file, -1), p.line or 0, p.record or 0))
        batch = ArticleBatch(articles, problems, list(dict.fromkeys(self.files)))
        self.pieces, self.rows, self.bytes, self.problems, self.files = [], 0, 0, [], []
        self.batches += 1
        return batch

    def _clean(self, raw: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
        frame, problems = _checked(raw)
        for (file,), group in frame.filter(pl.col("_naive").fill_null(False)).group_by(
            "source_file", maintain_order=True
        ):
            first = group.select("published_raw", "source_line", "source_record").row(0, named=True)
            known = self.naive.setdefault(file, first | {"count": 0})
            known["count"] += group.height
        keep = []
        for article_id, file, line, record in frame.select(
            "article_id", "source_file", "source_line", "source_record"
        ).iter_rows():
            first = self.seen.get(article_id)
            keep.append(first is None)
            if first is None:
                self.seen[article_id] = self._pack(file, line, record)
                continue
            message = f"id '{article_id}' was already read at {self._where(first)}; kept that one"
            problems.append(Problem(file, line, "id", message, "warning", record))
        return _article_columns(frame.filter(pl.Series(keep, dtype=pl.Boolean))), problems

    def _pack(self, file: str, line: int | None, record: int | None) -> int:
        return (self.order[file] << 34) | ((line or record or 0) << 1) | (record is not None)

    def _where(self, packed: int) -> str:
        file = self.names[packed >> 34]
        number, is_record = (packed >> 1) & (2**33 - 1), packed & 1
        line, record = (None, number) if is_record else (number or None, None)
        return str(Problem(file, line, None, "", record=record)).removesuffix(": ")

    def _naive_time_warnings(self) -> list[Problem]:
        """One warning per file read to its end that has times without an offset."""
        warnings = []
        for file in [f for f in self.read_files if f in self.naive]:
            first = self.naive.pop(file)
            raw, count = first["published_raw"], first["count"]
            what = f"'{raw}' has" if count == 1 else f"{count} times (first '{raw}') have"
            message = (
                f"{what} no UTC offset, so read as UTC; if that is wrong, "
                "give the offset (2024-05-10T14:30:00-04:00)"
            )
            line, record = first["source_line"], first["source_record"]
            warnings.append(Problem(file, line, "published_at", message, "warning", record))
        self.read_files = [f for f in self.read_files if f in self.naive]
        return warnings


# Reading one file into raw records -------------------------------------------------------------
#
# A reader yields the raw records of one file as frames in `_RAW_SCHEMA` (all fields text as
# given, null when absent or empty), each within the limits, and a `Problem` for each record (or
# file) it skipped.


class _BadRecord(Exception):
    """A record that cannot be read; `field` is None when the record as a whole is bad."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _read_file(path: Path, limits: _Limits) -> Iterator[pl.DataFrame | Problem]:
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md"):
        return _read_text(path)
    if suffix == ".json":
        return _read_json(path, limits)
    if suffix == ".csv":
        return _read_csv(path, limits)
    if suffix == ".parquet":
        return _read_parquet(path, limits)
    return _read_jsonl(path, limits)


def _read_text(path: Path) -> Iterator[pl.DataFrame | Problem]:
    file = str(path)
    size = path.stat().st_size
    if size > MAX_ARTICLE_BYTES:
        yield Problem(file, None, "body", _too_big(size))
        return
    data = path.read_bytes().removeprefix(_BOM)
    if data.isspace() or not data:
        yield Problem(file, None, None, "file is empty")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        yield Problem(file, line, None, _not_utf8(data[e.start]))
        return
    title = None
    if path.suffix.lower() == ".md":
        first, _, rest = text.partition("\n")
        if first.startswith("# "):
            title, text = first[2:].strip(), rest.lstrip("\r\n")
    yield _raw_frame([{"id": path.stem, "title": title, "body": text}], file)


def _read_jsonl(path: Path, limits: _Limits) -> Iterator[pl.DataFrame | Problem]:
    """Read a .jsonl file line by line, each line parsed on its own (see `_json_fields`)."""
    file = str(path)
    records: list[dict] = []
    size, any_line = 0, False
    with path.open("rb") as stream:
        for number, line in enumerate(_lines(stream), 1):
            if isinstance(line, int):
                any_line = True
                yield Problem(file, number, None, _line_too_long(line))
                continue
            line = line.rstrip(b"\r\n")
            if number == 1:
                line = line.removeprefix(_BOM)
            if not line.strip():
                continue
            any_line = True
            try:
                fields = _json_fields(line)
            except _BadRecord as e:
                yield Problem(file, number, e.field, e.message)
                continue
            fields["source_line"] = number
            records.append(fields)
            size += len(line)
            if len(records) >= limits.articles or size >= limits.bytes:
                yield _raw_frame(records, file)
                records, size = [], 0
    if records:
        yield _raw_frame(records, file)
    if not any_line:
        yield Problem(file, None, None, "file is empty")


def _lines(stream) -> Iterator[bytes | int]:
    """The lines of a binary stream; a line over `MAX_LINE_BYTES` is skipped in blocks and given
    as its size."""
    while line := stream.readline(MAX_LINE_BYTES + 1):
        if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
            yield line
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = stream.readline(_MB)
            if not line:
                break
            size += len(line)
        yield size


def _json_fields(line: bytes) -> dict[str, str]:
    try:
        record = _parse_json(line)
    except UnicodeDecodeError as e:
        raise _BadRecord(None, _not_utf8(line[e.start], e.start + 1)) from None
    except json.JSONDecodeError as e:
        raise _BadRecord(None, f"not valid JSON: {e.msg} (column {e.colno})") from None
    return _record_fields(record)


def _parse_json(data: bytes) -> object:
    """One JSON value by the rules in the module docstring: integers as int, other numbers as
    Decimal (exact), `NaN` and `Infinity` as floats (rejected in article fields), the last of
    repeated keys.

    Raises UnicodeDecodeError, json.JSONDecodeError, or _BadRecord when nested deeper than
    `MAX_JSON_DEPTH` or holding an integer too long for Python's int.
    """
    text = data.decode("utf-8")
    if data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH and _json_depth(text) > MAX_JSON_DEPTH:
        message = f"nested more than {MAX_JSON_DEPTH} levels deep; an article is a flat object"
        raise _BadRecord(None, message)
    try:
        return _JSON.decode(text)
    except json.JSONDecodeError:
        raise
    except ValueError:  # int() refuses more digits than sys.get_int_max_str_digits()
        digits = sys.get_int_max_str_digits()
        raise _BadRecord(None, f"a number of more than {digits} digits; write it as text") from None


def _json_depth(text: str) -> int:
    """The deepest nesting of lists and objects in JSON text (outside strings)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def _json_fraction(text: str) -> Decimal:
    """A JSON number with a fraction or an exponent, kept exact (never a float)."""
    try:
        return Decimal(text)
    except InvalidOperation:  # an exponent beyond Decimal's range
        return Decimal("Infinity")


_JSON = json.JSONDecoder(parse_float=_json_fraction, strict=False)


def _read_json(path: Path, limits: _Limits) -> Iterator[pl.DataFrame | Problem]:
    file = str(path)
    size = path.stat().st_size
    if size > MAX_JSON_FILE_BYTES:
        yield Problem(file, None, None, _json_too_big(size))
        return
    data = path.read_bytes().removeprefix(_BOM)
    if data.isspace() or not data:
        yield Problem(file, None, None, "file is empty")
        return
    try:
        document = _parse_json(data)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        yield Problem(file, line, None, _not_utf8(data[e.start]) + "; the file was skipped")
        return
    except json.JSONDecodeError as e:
        message = f"not valid JSON: {e.msg} (column {e.colno}); the file was skipped"
        yield Problem(file, e.lineno, None, message)
        return
    except _BadRecord as e:
        yield Problem(file, None, None, f"{e.message}; the file was skipped")
        return
    del data
    items = _json_items(document)
    if items is None:
        kind = _kind(document)
        keys = ", ".join(f'"{k}"' for k in JSON_LIST_KEYS)
        message = f"expected an article object or a list of them (or under {keys}), got {kind}"
        yield Problem(file, None, None, message)
        return
    if not items:
        yield Problem(file, None, None, "no articles in this file", "warning")
    records: list[dict] = []
    for start in range(0, len(items), limits.articles):
        for number, item in enumerate(items[start : start + limits.articles], start + 1):
            try:
                fields = _record_fields(item)
            except _BadRecord as e:
                yield Problem(file, None, e.field, e.message, record=number)
                continue
            fields["source_record"] = number
            records.append(fields)
        yield _raw_frame(records, file)
        records = []


def _json_items(document: object) -> list | None:
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return None
    for key in JSON_LIST_KEYS:
        if isinstance(document.get(key), list):
            return document[key]
    return [document]


def _read_csv(path: Path, limits: _Limits) -> Iterator[pl.DataFrame | Problem]:
    file = str(path)
    if _is_blank(path):
        yield Problem(file, None, None, "file is empty")
        return
    csv.field_size_limit(MAX_LINE_BYTES)
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as stream:
        reader = csv.reader(_bounded_lines(stream))
        try:
            header = next(reader)
        except (csv.Error, _LineTooLong) as e:
            yield Problem(file, 1, None, f"cannot read the CSV header: {e}")
            return
        columns = sorted(
            ((i, _field_of(name)) for i, name in enumerate(header) if _field_of(name)),
            key=lambda column: _name_order(header[column[0]]),
        )
        if not any(field in ("body", "title") for _, field in columns):
            yield Problem(file, 1, None, _no_text_column())
            return
        records: list[dict] = []
        size, any_row = 0, False
        start = reader.line_num + 1
        try:
            for row in reader:
                number, start = start, reader.line_num + 1
                if not row:
                    continue
                any_row = True
                if len(row) != len(header):
                    message = (
                        f"{len(row)} fields, the header has {len(header)} "
                        "(a quote or separator out of place?)"
                    )
                    yield Problem(file, number, None, message)
                    continue
                if (bad := _first_undecodable(row)) is not None:
                    yield Problem(file, number, None, _not_utf8(bad))
                    continue
                record = {}
                for i, field in columns:
                    if row[i] != "" and field not in record:
                        record[field] = row[i]
                records.append(record | {"source_line": number})
                size += sum(map(len, row))
                if len(records) >= limits.articles or size >= limits.bytes:
                    yield _raw_frame(records, file)
                    records, size = [], 0
        except (csv.Error, _LineTooLong) as e:
            any_row = True
            message = f"cannot read CSV: {e}; the rest of the file was skipped"
            yield Problem(file, start, None, message)
    if records:
        yield _raw_frame(records, file)
    if not any_row:
        yield Problem(file, None, None, "no articles in this file", "warning")


class _LineTooLong(Exception):
    def __str__(self) -> str:
        return f"a line over the {MAX_LINE_BYTES / _MB:g} MB limit"


def _bounded_lines(stream) -> Iterator[str]:
    """The lines of a text stream; raises _LineTooLong at one over `MAX_LINE_BYTES` characters."""
    while line := stream.readline(MAX_LINE_BYTES + 1):
        if len(line) > MAX_LINE_BYTES and not line.endswith(("\n", "\r")):
            raise _LineTooLong
        yield line


def _is_blank(path: Path) -> bool:
    """Whether a file holds nothing but white space (and a byte order mark)."""
    with path.open("rb") as stream:
        block = stream.read(_MB).removeprefix(_BOM)
        while block:
            if not block.isspace():
                return False
            block = stream.read(_MB)
    return True


def _first_undecodable(row: list[str]) -> int | None:
    """The first byte that was not UTF-8 (decoded as a surrogate escape) in a row, if any."""
    for value in row:
        match = _UNDECODABLE.search(value)
        if match:
            return ord(match.group()) - 0xDC00
    return None


def _read_parquet(path: Path, limits: _Limits) -> Iterator[pl.DataFrame | Problem]:
    """Read a .parquet file in record batches sized to the limits (from its row groups' sizes)."""
    file = str(path)
    try:
        parquet = pq.ParquetFile(path)
        schema = pl.from_arrow(parquet.schema_arrow.empty_table()).schema
    except Exception as e:  # pyarrow and polars raise several kinds for a file that is not Parquet
        yield Problem(file, None, None, f"not a readable Parquet file ({_first_line(e)})")
        return
    names = sorted(name for name in schema if _field_of(name))
    if not any(_field_of(name) in ("body", "title") for name in names):
        yield Problem(file, None, None, _no_text_column())
        return
    for name in names:
        if schema[name].is_nested() or schema[name] in (pl.Binary, pl.Boolean, pl.Object):
            message = f"column {name!r} holds {schema[name]}, expected text"
            yield Problem(file, None, _field_of(name), message)
            return
    metadata = parquet.metadata
    row_bytes = sum(
        metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups)
    ) / max(metadata.num_rows, 1)
    rows = max(1, min(limits.articles, int(limits.bytes / max(row_bytes, 1))))
    batches, start = parquet.iter_batches(batch_size=rows, columns=names), 0
    while True:
        try:
            arrow = next(batches, None)
            frame = None if arrow is None else pl.from_arrow(arrow)
        except Exception as e:  # a damaged row group: keep what was read
            message = f"cannot read the rest of the file ({_first_line(e)}); it was skipped"
            yield Problem(file, None, None, message, record=start + 1)
            break
        if frame is None:
            break
        raw, problems = _parquet_records(frame, file, start)
        yield from problems
        yield raw
        start += frame.height
    if metadata.num_rows == 0:
        yield Problem(file, None, None, "no articles in this file", "warning")


def articles_from_frame(frame: pl.DataFrame, source: str) -> tuple[pl.DataFrame, list[Problem]]:
    """The articles in a frame of input columns, read as the columns of a Parquet file are
    (names matched by `FIELD_NAMES`, numbers and times as text): the good ones in
    `ARTICLE_SCHEMA`, and a `Problem` (file `source`, `record` its 1-based row in `frame`) for
    each bad one. Ids repeated in the frame are kept: no other batch is known here.

    >>> good, bad = articles_from_frame(pl.DataFrame({"id": ["a", "b"], "body": ["Hi", ""]}), "x")
    >>> good["article_id"].to_list(), str(bad[0])
    (['a'], 'x: record 2: body: missing: an article needs a body (or at least a title)')
    """
    raw, problems = _parquet_records(frame, source, 0)
    checked, more = _checked(raw)
    problems += more
    problems.sort(key=lambda p: p.record or 0)
    return _article_columns(checked), problems


def _article_columns(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "article_id",
        pl.col("title").fill_null(""),
        pl.col("body").fill_null(""),
        "published_raw",
        "published_at",
        "published_date",
        "publisher",
        "url",
        "source_file",
        "source_line",
    )


def _parquet_records(
    frame: pl.DataFrame, file: str, start: int
) -> tuple[pl.DataFrame, list[Problem]]:
    """Raw records from Parquet columns: numbers and times as text, ids by the JSON rule."""
    names = set(frame.columns)
    problems = []
    frame = frame.with_columns(
        source_record=pl.int_range(start + 1, start + frame.height + 1, dtype=pl.Int64)
    )
    for name in [n for n in names if _field_of(n) == "id" and frame[n].dtype.is_float()]:
        value = pl.col(name)
        whole = value.is_finite() & (value == value.round()) & (value.abs() < 1e30)
        bad = frame.filter(value.is_not_null() & ~whole)
        for number, given in bad.select("source_record", name).iter_rows():
            problems.append(Problem(file, None, "id", _not_whole(given), record=number))
        frame = frame.filter(value.is_null() | whole).with_columns(value.cast(pl.Int128))
    frame = frame.with_columns(pl.col(sorted(names)).cast(pl.String))
    raw = frame.select(
        *(_first_nonempty(field, names) for field in FIELD_NAMES),
        source_file=pl.lit(file),
        source_line=pl.lit(None, pl.Int64),
        source_record="source_record",
    )
    return raw, problems


def input_columns(names: Iterable[str], field: str) -> list[str]:
    """The columns of `names` an article field is read from, first preferred (the first
    non-empty one wins), e.g. `input_columns(["description", "Title"], "body") == ["description"]`.
    """
    return sorted((n for n in names if _field_of(n) == field), key=_name_order)


def _first_nonempty(field: str, names: set[str]) -> pl.Expr:
    columns = input_columns(names, field)
    values = [pl.when(pl.col(c) != "").then(pl.col(c)) for c in columns]
    return pl.coalesce(values).alias(field) if values else pl.lit(None, pl.String).alias(field)


# One record's fields ---------------------------------------------------------------------------


def _record_fields(record: object) -> dict[str, str]:
    """The article fields of one input record, as text, by the first non-empty name."""
    if not isinstance(record, dict):
        raise _BadRecord(None, f"expected an article object {{...}}, got {_kind(record)}")
    found: dict[str, tuple[str, str]] = {}  # field: (input name, text)
    for name, value in record.items():
        if value is None or (field := _field_of(name)) is None:
            continue
        text = value if type(value) is str and value.isascii() else _as_text(field, value)
        if text and (field not in found or _name_order(name) < _name_order(found[field][0])):
            found[field] = (name, text)
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
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return _number_text(field, value)
    raise _BadRecord(field, f"expected text, got {_kind(value)}")


def _number_text(field: str, number: int | Decimal) -> str:
    """A JSON number as text: whole numbers as digits, others in plain decimal; ids whole."""
    value = Decimal(number)
    if not value.is_finite() or (
        value and not -_MAX_NUMBER_DIGITS <= value.adjusted() < _MAX_NUMBER_DIGITS
    ):
        message = f"a number of more than {_MAX_NUMBER_DIGITS} digits; write it as text"
        raise _BadRecord(field, message)
    if value == value.to_integral_value():
        return str(int(value))
    if field == "id":
        raise _BadRecord(field, _not_whole(number))
    return format(value, "f").rstrip("0")


def _raw_frame(records: list[dict], file: str) -> pl.DataFrame:
    frame = pl.from_dicts(records, schema=_RAW_SCHEMA) if records else _RAW_SCHEMA.to_frame()
    return frame.with_columns(source_file=pl.lit(file, pl.String))


@lru_cache(maxsize=4096)
def _field_of(name: str) -> str | None:
    """The article field an input name is read into, if any (case, `_`, `-`, spaces ignored)."""
    folded = _fold(name)
    return next((f for f, names in FIELD_NAMES.items() if folded in map(_fold, names)), None)


@lru_cache(maxsize=4096)
def _name_order(name: str) -> tuple[int, str]:
    """Sorts the input names of one field by preference."""
    names = [_fold(n) for n in FIELD_NAMES[_field_of(name)]]
    return names.index(_fold(name)), name


def _fold(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).lower()


# Checking records and making the article table -------------------------------------------------


def _checked(raw: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """Check the raw records, parse their times, give ids; returns the good ones and problems."""
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
    return frame.with_columns(article_id=_ids(frame)), problems


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

    The common forms (ISO dates, ISO times, Alpha Vantage's 20240510T143000) in the range are
    parsed by polars when they match a pattern on which polars agrees with `parse_published`;
    the rest by `parse_published` (the tests hold both to the same results on generated times).
    """
    text = pl.col("published_raw").str.strip_chars(_ASCII_SPACE)  # as str.strip() does
    to_utc = {"time_unit": "us", "time_zone": "UTC", "strict": False}
    with_offset = text.str.to_datetime("%+", **to_utc)
    iso_naive = text.str.replace("T", " ", literal=True).str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f", **to_utc
    )
    compact_naive = text.str.to_datetime("%Y%m%dT%H%M%S", **to_utc)
    day = text.str.to_date("%Y-%m-%d", strict=False)
    naive = text.str.contains(_ISO_NAIVE) | text.str.contains(_COMPACT_NAIVE)
    given = raw.drop_nulls().unique().to_frame("published_raw").filter(text != "")
    common = given.with_columns(
        published_at=pl.when(text.str.contains(_ISO_WITH_OFFSET))
        .then(with_offset)
        .when(text.str.contains(_ISO_NAIVE))
        .then(iso_naive)
        .when(text.str.contains(_COMPACT_NAIVE))
        .then(compact_naive),
        published_date=pl.when(text.str.contains(_ISO_DATE)).then(day),
        _naive=naive,
        _time_error=pl.lit(None, pl.String),
    ).with_columns(  # out of range: left to parse_published, which says so
        published_at=pl.when(
            pl.col("published_at").is_between(_FIRST_INSTANT, _END_INSTANT, closed="left")
        ).then("published_at"),
        published_date=pl.when(
            pl.col("published_date").is_between(EARLIEST_PUBLISHED, LATEST_PUBLISHED)
        ).then("published_date"),
    )
    parsed = pl.col("published_at").is_not_null() | pl.col("published_date").is_not_null()
    rows = []
    for given_text in common.filter(~parsed)["published_raw"]:
        try:
            rows.append((given_text, *parse_published(given_text), None))
        except ValueError as e:
            rows.append((given_text, None, None, False, str(e)))
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


def _ids(frame: pl.DataFrame) -> pl.Series:
    ids = frame["id"].str.strip_chars()
    missing = (ids.is_null() | (ids == "")).arg_true()
    if missing.is_empty():
        return ids
    texts = frame.select(pl.col("title").fill_null(""), pl.col("body").fill_null("")).gather(
        missing
    )
    return ids.scatter(missing, [content_id(t, b) for t, b in texts.iter_rows()])


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


def _line_too_long(size: int) -> str:
    return (
        f"line is {size / _MB:.1f} MB, over the {MAX_LINE_BYTES / _MB:g} MB limit per line "
        f"({MAX_ARTICLE_BYTES / _MB:g} MB per article); it was skipped unread"
    )


def _json_too_big(size: int) -> str:
    return (
        f"file is {size / _MB:.1f} MB; a .json file is read whole, up to "
        f"{MAX_JSON_FILE_BYTES / _MB:g} MB: write a larger one as JSON Lines (.jsonl, one "
        "article per line), which is read in chunks"
    )


def _not_whole(number: object) -> str:
    return f"{number} is not a whole number; give ids as text or whole numbers"


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return "a number"
    return json.dumps(value)  # true, false, null, NaN, Infinity


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
