"""Fuzz tests: any input in, a clean result out, never a traceback, within time and memory.

Article reader: any bytes as .jsonl, .json, .csv, .txt, .md or .parquet, JSON built from its
own tokens, generated records and generated Parquet frames. Each read must give articles in
`ARTICLE_SCHEMA` and problems of one line each, within a deadline per example and a bound on the
Python memory it allocates. A longer local run: `TAGGER_FUZZ_EXAMPLES=5000 pytest
tests/test_fuzz_readers.py`.
"""

import json
import os
import string
import tempfile
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagger.articles import ARTICLE_SCHEMA, FIELD_NAMES, iter_articles, read_articles

EXAMPLES = int(os.environ.get("TAGGER_FUZZ_EXAMPLES", "30"))
MAX_PYTHON_MEMORY = 30_000_000  # bytes allocated by Python objects while reading one input
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def read_clean(name: str, data: bytes):
    """Read `data` saved as `name`; check the result is clean and within the memory bound."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        tracemalloc.start()
        try:
            batch = read_articles([path])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < MAX_PYTHON_MEMORY
    assert batch.articles.schema == ARTICLE_SCHEMA
    assert batch.articles["article_id"].null_count() == 0
    text = batch.articles["title"] + batch.articles["body"]
    assert (text.str.strip_chars() != "").all()
    for problem in batch.problems:
        assert problem.file == str(path)
        assert "\n" not in str(problem) and "Traceback" not in str(problem)
    return batch


# Any bytes ---------------------------------------------------------------------------------------

SUFFIXES = [".jsonl", ".json", ".csv", ".txt", ".md", ".parquet"]


@FUZZ
@given(st.sampled_from(SUFFIXES), st.binary(max_size=3000))
def test_any_bytes(suffix, data):
    read_clean("input" + suffix, data)


@FUZZ
@given(st.sampled_from(SUFFIXES), st.binary(max_size=2000))
def test_any_bytes_after_a_parquet_header(suffix, data):
    read_clean("input" + suffix, b"PAR1" + data + b"PAR1")


# Text made of JSON's own tokens: structure, escapes, numbers and nesting -------------------------

NAMES = [name for names in FIELD_NAMES.values() for name in names]
TOKENS = [
    "{", "}", "[", "]", ":", ",", " ", "\n", "\r", "\t", '"', "\\", "\\u", "\\ud800", "\\udc00",
    "\\u0000", "\\n", "true", "false", "null", "NaN", "Infinity", "-Infinity", "0", "-0", "1e5",
    "100000.0", "1.5", "1e999999999", "1e-999999999", "9" * 40, "7" * 5000, "\xe9", "\x00",
    "\ufeff", "é", "\U0001f600", *(f'"{name}"' for name in NAMES), '"Body"', '"publishedAt"',
    '"body": "x"', '{"body": "x"}', '"Mon, 20 Nov 2022 10:24:00 GMT"', '"0001-01-01"',
    '"2024-05-10T14:30:00"', '"9999-12-31T23:59:59Z"', "1715351400000", "[" * 150, "{" * 150,
]  # fmt: skip
JSONISH = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)


@FUZZ
@given(st.sampled_from([".jsonl", ".json", ".csv"]), JSONISH, st.sampled_from(["utf-8", "latin-1"]))
def test_json_tokens(suffix, text, encoding):
    read_clean("input" + suffix, text.encode(encoding, errors="replace"))


# Generated records --------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        ["", " ", "2024-05-10", "20240510", "1715351400", "Fri, 10 May 2024 14:30 GMT"]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from([*NAMES, "Body", "TITLE", "published-at", "publishedAt", "x", ""])
RECORDS = st.lists(st.tuples(KEYS, VALUES), max_size=6)


def json_object(pairs: list[tuple[str, object]]) -> str:
    """A JSON object that may repeat keys, written as given (json.dumps cannot repeat keys)."""
    return "{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}"


@FUZZ
@given(st.lists(st.one_of(RECORDS.map(json_object), JSONISH), min_size=1, max_size=8))
def test_generated_records(lines):
    data = "\n".join(lines).encode("utf-8", errors="surrogatepass")
    read_clean("input.jsonl", data)
    read_clean("input.json", ("[" + ",".join(lines) + "]").encode("utf-8", "surrogatepass"))


CELLS = st.text(alphabet=string.printable + 'é"\u2028', max_size=20)


@FUZZ
@given(
    st.lists(st.sampled_from([*NAMES, "x", "Title"]), min_size=1, max_size=4),
    st.lists(st.lists(CELLS, max_size=5), max_size=5),
    st.sampled_from([",", ";", "\t"]),
)
def test_generated_csv(header, rows, separator):
    text = "\n".join(separator.join(row) for row in [header, *rows])
    read_clean("input.csv", text.encode())


# Generated Parquet frames ------------------------------------------------------------------------

COLUMN_VALUES = {
    pl.String: st.text(max_size=20) | st.sampled_from(["2024-05-10", "1715351400", ""]),
    pl.Int64: st.integers(-(2**63), 2**63 - 1),
    pl.Float64: st.floats(allow_nan=True, allow_infinity=True),
    pl.Boolean: st.booleans(),
    pl.Date: st.dates(),
    pl.Datetime("us"): st.datetimes(),
    pl.Datetime("us", "UTC"): st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)
    ).map(lambda d: d.replace(tzinfo=UTC)),
    pl.List(pl.String): st.lists(st.text(max_size=5), max_size=3),
    pl.Binary: st.binary(max_size=10),
}


@st.composite
def frames(draw):
    names = draw(
        st.lists(st.sampled_from([*NAMES, "Body", "x"]), min_size=1, max_size=4, unique=True)
    )
    height = draw(st.integers(0, 6))
    columns = {}
    for name in names:
        dtype = draw(st.sampled_from(list(COLUMN_VALUES)))
        values = draw(st.lists(st.none() | COLUMN_VALUES[dtype], min_size=height, max_size=height))
        columns[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(columns), draw(st.integers(1, 4))


@FUZZ
@given(frames())
def test_generated_parquet(frame_and_row_group):
    frame, row_group_size = frame_and_row_group
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.parquet"
        frame.write_parquet(path, row_group_size=row_group_size)
        data = path.read_bytes()
    read_clean("input.parquet", data)


# One parse per record: a line reads the same whatever the rest of its file -----------------------


@settings(max_examples=EXAMPLES * 2, deadline=timedelta(seconds=10))
@given(
    st.lists(st.one_of(RECORDS.map(json_object), JSONISH), min_size=1, max_size=10),
    st.integers(1, 4),
)
def test_a_record_reads_the_same_in_any_file(lines, chunk):
    """Each line, read in its own file, in the whole file, or in batches of `chunk` records,
    gives the same article or the same problem."""
    lines = [line.replace("\n", " ").replace("\r", " ").lstrip("\ufeff") for line in lines]
    with tempfile.TemporaryDirectory() as folder:
        whole_path = Path(folder) / "whole.jsonl"
        whole_path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
        whole = read_articles([whole_path])
        batches = list(iter_articles([whole_path], chunk_articles=chunk, chunk_bytes=200))
        alone = []
        for n, line in enumerate(lines, 1):
            path = Path(folder) / f"{n}.jsonl"
            path.write_bytes(line.encode("utf-8", "surrogatepass"))
            alone.append(read_articles([path]))
    chunked = pl.concat(batch.articles for batch in batches)
    assert chunked.equals(whole.articles)
    assert sorted(map(str, (p for b in batches for p in b.problems))) == sorted(
        map(str, whole.problems)
    )
    kept = {row["source_line"]: row for row in whole.articles.iter_rows(named=True)}
    outcome = {}
    for problem in whole.problems:
        if problem.line is not None and problem.severity == "error":
            outcome[problem.line] = (problem.field, problem.message)
    repeated = {p.line: p.message for p in whole.warnings if p.field == "id"}
    for n, batch in enumerate(alone, 1):
        errors = [(p.field, p.message) for p in batch.errors]
        if n in outcome:
            assert errors == [outcome[n]]
        elif n in repeated:
            assert batch.articles.height == 1
            assert f"id '{batch.articles['article_id'][0]}' was already read" in repeated[n]
        elif n in kept:
            row = batch.articles.row(0, named=True)
            assert {k: v for k, v in row.items() if not k.startswith("source")} == {
                k: v for k, v in kept[n].items() if not k.startswith("source")
            }
        else:  # a blank line
            assert not lines[n - 1].strip() and batch.articles.is_empty()
