import csv
import json
import re
import shutil
import tempfile
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagger import articles, store
from tagger.articles import (
    ARTICLE_SCHEMA,
    content_id,
    parse_published,
    read_articles,
    store_articles,
)
from tagger.errors import InputError

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
SEED = FIXTURES / "seed_space_espionage.txt"
NEWS = FIXTURES / "news.jsonl"  # 10 real articles, one or two from each bundled source


def news_records() -> list[dict]:
    return [json.loads(line) for line in NEWS.read_text(encoding="utf-8").splitlines()]


def write_jsonl(path: Path, records: list) -> Path:
    lines = [r if isinstance(r, bytes) else json.dumps(r).encode() for r in records]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def messages(batch) -> list[str]:
    return [str(p) for p in batch.problems]


# Each format ------------------------------------------------------------------------------------


def test_jsonl_reads_every_field():
    batch = read_articles([NEWS])
    frame = batch.articles
    assert frame.height == 10
    assert frame["source_line"].to_list() == list(range(1, 11))
    first = frame.row(0, named=True)
    assert first["article_id"] == "av:612b5fade44c9ea6"
    assert first["title"] == "What Warren Buffett Wants From Tech Stocks"
    assert first["body"].startswith("The Berkshire Hathaway leader")
    assert first["published_at"] == datetime(2022, 11, 20, 10, 24, tzinfo=UTC)
    assert first["publisher"] == "Motley Fool"
    assert first["url"].startswith("https://www.fool.com/")
    assert first["source_file"] == str(NEWS)


def test_txt_is_one_article_named_by_the_file():
    frame = read_articles([SEED]).articles
    assert frame.height == 1
    row = frame.row(0, named=True)
    assert row["article_id"] == "seed_space_espionage"
    assert row["title"] == ""
    assert row["body"] == SEED.read_text(encoding="utf-8")
    assert row["published_at"] is None and row["published_date"] is None


def test_md_heading_is_the_title():
    row = read_articles([FIXTURES / "av_article.md"]).articles.row(0, named=True)
    assert row["article_id"] == "av_article"
    assert row["title"].startswith("COP27 wins and losses")
    assert row["body"].startswith("For the first time, rich nations")


def test_json_wrapped_list_with_newsapi_names():
    frame = read_articles([FIXTURES / "newsapi_style.json"]).articles
    assert frame.height == 3
    row = frame.row(0, named=True)
    assert row["publisher"] == "Zacks Investment Research"  # from "source": {"name": ...}
    assert row["published_at"] is not None  # from "publishedAt"
    assert row["body"].startswith("In the latest trading session")  # from "description"
    assert row["article_id"].startswith("sha1:")
    assert row["source_line"] is None


def test_csv_with_alias_headers_and_multiline_body():
    frame = read_articles([FIXTURES / "stories.csv"]).articles
    assert frame.height == 5
    seed_lines = SEED.read_text(encoding="utf-8").count("\n")
    assert frame["source_line"].to_list() == [2, *(n + seed_lines for n in (3, 4, 5, 6))]
    seed = frame.row(0, named=True)
    assert seed["body"] == SEED.read_text(encoding="utf-8")
    assert seed["title"] == "" and seed["published_raw"] is None and seed["url"] is None
    assert frame["published_date"].to_list()[-2:] == [date(2018, 5, 14), date(2018, 10, 30)]


def test_parquet_with_timestamp_column():
    frame = read_articles([FIXTURES / "polygon.parquet"]).articles
    assert frame.height == 4
    source = pl.read_parquet(FIXTURES / "polygon.parquet")
    assert frame["published_at"].to_list() == source["published_utc"].to_list()
    assert frame["url"].to_list() == source["article_url"].to_list()
    assert frame["article_id"].to_list() == source["id"].to_list()


def test_output_columns_and_types_are_exact(tmp_path):
    assert read_articles([FIXTURES]).articles.schema == ARTICLE_SCHEMA
    assert read_articles([tmp_path]).articles.schema == ARTICLE_SCHEMA  # nothing read


# Folders and paths -----------------------------------------------------------------------------


def test_folder_is_read_recursively_in_order_skipping_hidden(tmp_path):
    shutil.copytree(FIXTURES, tmp_path / "news")
    (tmp_path / "news" / ".hidden.jsonl").write_text('{"body": "hidden"}\n')
    (tmp_path / "news" / ".cache").mkdir()
    (tmp_path / "news" / ".cache" / "x.jsonl").write_text('{"body": "hidden"}\n')
    (tmp_path / "news" / "sub").mkdir()
    shutil.copy(SEED, tmp_path / "news" / "sub" / "copy_of_seed.txt")
    (tmp_path / "news" / "notes.pdf").write_bytes(b"%PDF")
    batch = read_articles(tmp_path / "news")
    names = [Path(f).name for f in batch.files]
    assert names == [
        "av_article.md",
        "news.jsonl",
        "newsapi_style.json",
        "polygon.parquet",
        "seed_space_espionage.txt",
        "stories.csv",
        "copy_of_seed.txt",
    ]
    assert batch.articles.height == 25
    assert "hidden" not in batch.articles["body"].to_list()
    assert f"{tmp_path / 'news' / 'notes.pdf'}: skipped: unknown extension '.pdf'" in "\n".join(
        messages(batch)
    )
    assert [p.severity for p in batch.problems] == ["warning", "warning"]  # pdf, naive time


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"nope\.jsonl: no such file or folder$"):
        read_articles([tmp_path / "nope.jsonl"])


def test_named_file_with_unknown_extension_is_an_error(tmp_path):
    (tmp_path / "a.docx").write_text("x")
    with pytest.raises(InputError, match=r"a\.docx: cannot read '\.docx' files"):
        read_articles([tmp_path / "a.docx"])


def test_same_file_twice_is_read_once():
    batch = read_articles([NEWS, FIXTURES, NEWS])
    assert batch.files.count(str(NEWS)) == 1
    assert not any(p.field == "id" for p in batch.problems)


# Bad input: one line naming file, line and field; the good records are kept ---------------------


def test_malformed_json_line(tmp_path):
    records = news_records()
    path = write_jsonl(tmp_path / "bad.jsonl", [*records[:3], b'{"id": "x", body: }', *records[3:]])
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:4: not valid JSON: Expecting property name enclosed in double quotes (column 13)"
    ]
    assert batch.articles.height == 10
    assert batch.summary() == (
        "read 10 articles from 1 file; 1 error, whose records were skipped (bad.jsonl: 1); "
        "1 warning"
    )


def test_unparseable_timestamp(tmp_path):
    records = news_records() * 2
    records = [r | {"id": f"{r['id']}-{i}"} for i, r in enumerate(records)]
    records[16]["published_at"] = "2024-13-45"
    path = write_jsonl(tmp_path / "news.jsonl", records)
    batch = read_articles([path])
    assert str(batch.errors[0]) == (
        f"{path}:17: published_at: cannot parse '2024-13-45' as ISO 8601 "
        "(use 2024-05-10T14:30:00-04:00 or 2024-05-10)"
    )
    assert len(batch.errors) == 1
    assert batch.articles.height == 19


def test_missing_body_and_title(tmp_path):
    records = news_records()
    records[5] = {"id": "empty", "title": "", "url": "https://example.com/x"}
    path = write_jsonl(tmp_path / "news.jsonl", records)
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:6: body: missing: an article needs a body (or at least a title)"
    ]
    assert batch.articles.height == 9


def test_headline_only_article_is_kept(tmp_path):
    path = write_jsonl(tmp_path / "h.jsonl", [{"title": "Apple beats estimates"}])
    row = read_articles([path]).articles.row(0, named=True)
    assert row["body"] == "" and row["title"] == "Apple beats estimates"


def test_non_utf8_line_is_skipped(tmp_path):
    lines = NEWS.read_bytes().splitlines()
    lines[2] = lines[2].replace(b"Matson", b"Mats\xe9n")
    path = tmp_path / "latin.jsonl"
    path.write_bytes(b"\n".join(lines))
    batch = read_articles([path])
    column = lines[2].index(b"\xe9") + 1
    assert [str(p) for p in batch.errors] == [
        f"{path}:3: not valid UTF-8 (byte 0xE9 at column {column}); save the file as UTF-8"
    ]
    assert batch.articles.height == 9


def test_non_utf8_text_file_is_reported(tmp_path):
    path = tmp_path / "story.txt"
    path.write_bytes(SEED.read_bytes().replace("China’s".encode(), b"China\x92s", 1))
    batch = read_articles([path])
    assert [str(p) for p in batch.problems] == [
        f"{path}:1: not valid UTF-8 (byte 0x92); save the file as UTF-8"
    ]
    assert batch.articles.is_empty()


def test_non_utf8_csv_row_is_skipped(tmp_path):
    data = (FIXTURES / "stories.csv").read_bytes()
    path = tmp_path / "stories.csv"
    path.write_bytes(data.replace(b"Apple Supplier", b"Apple Suppl\xefer"))
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:17: not valid UTF-8 (byte 0xEF); save the file as UTF-8"
    ]
    assert batch.articles.height == 4


def test_csv_row_with_wrong_field_count(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("title,date\nApple beats,2024-05-10\nMSFT, up,2024-05-10\nNVDA rises,\n")
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:3: 3 fields, the header has 2 (a quote or separator out of place?)"
    ]
    assert batch.articles["title"].to_list() == ["Apple beats", "NVDA rises"]


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.json", "empty.csv", "empty.txt", "e.md"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_text("\n  \n")
    batch = read_articles([path])
    assert [str(p) for p in batch.problems] == [f"{path}: file is empty"]


def test_article_just_under_the_size_limit_is_read_and_just_over_is_skipped(tmp_path):
    records = news_records()[:3]
    title = records[0]["title"]
    records[0]["body"] = "é" * ((articles.MAX_ARTICLE_BYTES - len(title.encode())) // 2)
    records[1]["body"] = "x" * (articles.MAX_ARTICLE_BYTES - len(records[1]["title"]) + 1)
    path = write_jsonl(tmp_path / "big.jsonl", records)
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:2: body: article is 5.0 MB, over the 5 MB limit per article; "
        "split it or leave it out"
    ]
    assert batch.articles["body"].to_list()[0] == records[0]["body"]
    assert batch.articles.height == 2


def test_json_line_over_the_line_limit_is_skipped_unread(tmp_path):
    records = news_records()[:3]
    records[1]["body"] = "x" * 50_000_000
    path = write_jsonl(tmp_path / "big.jsonl", records)
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:2: line is 50.0 MB, over the 30 MB limit per line (5 MB per article); "
        "it was skipped unread"
    ]
    assert batch.articles["source_line"].to_list() == [1, 3]


def test_text_file_over_the_size_limit_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(articles, "MAX_ARTICLE_BYTES", 1000)
    path = tmp_path / "seed.txt"
    shutil.copy(SEED, path)
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}: body: article is 0.0 MB, over the 0.001 MB limit per article; "
        "split it or leave it out"
    ]


def test_malformed_json_file_is_skipped_at_its_line(tmp_path):
    path = tmp_path / "news.json"
    path.write_text('[\n  {"title": "a"},\n  {"title": "b",}\n]\n')
    batch = read_articles([path])
    assert [str(p) for p in batch.problems] == [
        f"{path}:3: not valid JSON: Expecting property name enclosed in double quotes "
        "(column 17); the file was skipped"
    ]


def test_bad_json_record_names_its_position(tmp_path):
    records = news_records()[:3]
    records[1]["body"] = ["a", "list"]
    path = tmp_path / "news.json"
    path.write_text(json.dumps(records))
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [f"{path}: record 2: body: expected text, got a list"]
    assert batch.articles.height == 2


def test_jsonl_line_that_is_not_an_object(tmp_path):
    path = write_jsonl(tmp_path / "n.jsonl", [*news_records()[:2], [1, 2]])
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:3: expected an article object {{...}}, got a list"
    ]
    assert batch.articles.height == 2


def test_parquet_without_text_column(tmp_path):
    path = tmp_path / "t.parquet"
    pl.DataFrame({"ticker": ["AAPL"], "url": ["https://example.com"]}).write_parquet(path)
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}: no body or title column; name one of: body, text, content, summary, "
        "description, title, headline"
    ]


# Ids ------------------------------------------------------------------------------------------


def test_missing_id_is_a_stable_content_hash(tmp_path):
    records = [{k: v for k, v in r.items() if k != "id"} for r in news_records()]
    first = read_articles([write_jsonl(tmp_path / "a.jsonl", records)]).articles
    again = read_articles([write_jsonl(tmp_path / "b.jsonl", records[::-1])]).articles
    assert sorted(first["article_id"]) == sorted(again["article_id"])
    row = first.row(0, named=True)
    assert row["article_id"] == content_id(row["title"], row["body"])
    assert first["article_id"].str.contains(r"^sha1:[0-9a-f]{16}$").all()
    assert content_id("t", "b") != content_id("t", "b2")


def test_duplicate_id_keeps_the_first(tmp_path):
    copy = tmp_path / "copy.jsonl"
    shutil.copy(NEWS, copy)
    batch = read_articles([NEWS, copy])
    assert batch.articles.height == 10
    assert (batch.articles["source_file"] == str(NEWS)).all()
    duplicates = [p for p in batch.warnings if p.field == "id"]
    assert len(duplicates) == 10
    assert str(duplicates[0]) == (
        f"{copy}:1: id: id 'av:612b5fade44c9ea6' was already read at {NEWS}:1; kept that one"
    )


# Times ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-10T14:30:00-04:00", (datetime(2024, 5, 10, 18, 30, tzinfo=UTC), None, False)),
        ("2024-05-10T14:30:00Z", (datetime(2024, 5, 10, 14, 30, tzinfo=UTC), None, False)),
        (
            "2024-05-10 14:30:00.5+02:00",
            (datetime(2024, 5, 10, 12, 30, 0, 500000, UTC), None, False),
        ),
        ("2024-05-10", (None, date(2024, 5, 10), False)),
        ("20240510", (None, date(2024, 5, 10), False)),
        ("2024-05-10T14:30:00", (datetime(2024, 5, 10, 14, 30, tzinfo=UTC), None, True)),
        ("20221120T102400", (datetime(2022, 11, 20, 10, 24, tzinfo=UTC), None, True)),
        ("1715351400", (datetime(2024, 5, 10, 14, 30, tzinfo=UTC), None, False)),
        (" 2024-05-10 ", (None, date(2024, 5, 10), False)),
        ("2024-05-10 14:30:00", (datetime(2024, 5, 10, 14, 30, tzinfo=UTC), None, True)),
        ("20240510T143000", (datetime(2024, 5, 10, 14, 30, tzinfo=UTC), None, True)),
        ("2024-05-10T14:30:00.000+0000", (datetime(2024, 5, 10, 14, 30, tzinfo=UTC), None, False)),
        ("1715351400.5", (datetime(2024, 5, 10, 14, 30, 0, 500000, UTC), None, False)),
        ("1715351400000", (datetime(2024, 5, 10, 14, 30, tzinfo=UTC), None, False)),
        ("1715351400123", (datetime(2024, 5, 10, 14, 30, 0, 123000, UTC), None, False)),
        ("100000000000", (datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC), None, False)),
        (
            "Mon, 20 Nov 2022 10:24:00 GMT",
            (datetime(2022, 11, 20, 10, 24, tzinfo=UTC), None, False),
        ),
        ("20 Nov 2022 10:24 -0500", (datetime(2022, 11, 20, 15, 24, tzinfo=UTC), None, False)),
        (
            "Sun, 20 nov 2022 10:24:00 pst",
            (datetime(2022, 11, 20, 18, 24, tzinfo=UTC), None, False),
        ),
        (
            "Mon, 20 Nov 2022 10:24:00 +0530",
            (datetime(2022, 11, 20, 4, 54, tzinfo=UTC), None, False),
        ),
        (
            "Mon, 20 Nov 2022 10:24:00 -0000",
            (datetime(2022, 11, 20, 10, 24, tzinfo=UTC), None, True),
        ),
        ("Mon, 20 Nov 2022 10:24:00", (datetime(2022, 11, 20, 10, 24, tzinfo=UTC), None, True)),
        ("1900-01-01", (None, date(1900, 1, 1), False)),
        ("2100-12-31", (None, date(2100, 12, 31), False)),
        ("1900-01-01T01:00:00+01:00", (datetime(1900, 1, 1, tzinfo=UTC), None, False)),
        (
            "2100-12-31T23:59:59.999999Z",
            (datetime(2100, 12, 31, 23, 59, 59, 999999, UTC), None, False),
        ),
    ],
)
def test_parse_published(text, expected):
    assert parse_published(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-13-45", "cannot parse '2024-13-45' as ISO 8601"),
        ("May 10, 2024", "cannot parse 'May 10, 2024' as ISO 8601"),
        (
            "0001-01-01",
            "'0001-01-01' is out of range: publication times must lie in "
            "1900-01-01..2100-12-31 (UTC)",
        ),
        ("9999-12-31T23:59:59-01:00", "'9999-12-31T23:59:59-01:00' is out of range"),
        ("2300-01-01T00:00:00Z", "'2300-01-01T00:00:00Z' is out of range"),
        ("1900-01-01T00:30:00+01:00", "'1900-01-01T00:30:00+01:00' is out of range"),
        ("2101-01-01T00:00:00Z", "'2101-01-01T00:00:00Z' is out of range"),
        ("1 Jan 0001 00:00 GMT", "'1 Jan 0001 00:00 GMT' is out of range"),
        ("4133980800", "4133980800 as epoch seconds is after 2100-12-31; publication times"),
        ("4133980800000", "4133980800000 as epoch milliseconds is after 2100-12-31"),
        ("99999999999999999999999999", "as epoch milliseconds is after 2100-12-31"),
        ("Mon, 20 Nov 2022 10:24:00 CET", "unknown time zone 'CET' in"),
        ("Mon, 30 Feb 2022 10:24:00 GMT", "cannot parse 'Mon, 30 Feb 2022 10:24:00 GMT' as an RFC"),
        ("Mon, 20 Nov 2022 24:00:00 GMT", "as an RFC 2822 time"),
        ("Mon, 20 Nov 2022 10:24:00 +2400", "as an RFC 2822 time"),
    ],
)
def test_parse_published_errors(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_published(text)


def test_times_in_a_file_follow_parse_published(tmp_path):
    texts = [
        "2024-05-10T14:30:00-04:00",
        "2024-05-10T14:30:00Z",
        "2024-05-10T14:30:00.123456+05:30",
        "2024-05-10",
        "20240510",
        "2024-05-10T14:30:00",
        "2024-02-30",
        "1715351400",
        1715351400,
        "",
        None,
    ]
    records = [{"id": str(i), "body": "x", "published_at": t} for i, t in enumerate(texts)]
    batch = read_articles([write_jsonl(tmp_path / "t.jsonl", records)])
    read = {r["article_id"]: r for r in batch.articles.iter_rows(named=True)}
    for i, text in enumerate(texts):
        if text in ("", None):
            assert read[str(i)]["published_at"] is None and read[str(i)]["published_date"] is None
            continue
        try:
            instant, day, _ = parse_published(str(text))
        except ValueError:
            assert str(i) not in read
            continue
        assert (read[str(i)]["published_at"], read[str(i)]["published_date"]) == (instant, day)
    assert read["8"]["published_raw"] == "1715351400"  # a JSON number, as text
    naive = [p for p in batch.warnings if p.field == "published_at"]
    assert [p.line for p in naive] == [6]


def test_naive_times_warn_once_per_file():
    batch = read_articles([NEWS])
    assert messages(batch) == [
        f"{NEWS}:2: published_at: '2025-02-26T09:22:00' has no UTC offset, so read as UTC; "
        "if that is wrong, give the offset (2024-05-10T14:30:00-04:00)"
    ]


# The fast path and the line-by-line path agree ---------------------------------------------------


def test_a_bad_line_does_not_change_how_good_lines_are_read(tmp_path):
    clean = read_articles([NEWS]).articles
    path = tmp_path / "news.jsonl"
    path.write_bytes(NEWS.read_bytes() + b"{oops\n")
    broken = read_articles([path]).articles
    assert broken.drop("source_file").equals(clean.drop("source_file"))


def test_names_first_seen_late_in_a_big_file_are_read(tmp_path):
    records = [{"id": str(i), "body": f"story {i}"} for i in range(1200)]
    records.append({"ID": "late", "Content": "A story with other names"})
    records.append({"id": "obj", "body": "x", "publisher": {"name": "Reuters"}})
    batch = read_articles([write_jsonl(tmp_path / "big.jsonl", records)])
    read = {r["article_id"]: r for r in batch.articles.iter_rows(named=True)}
    assert read["late"]["body"] == "A story with other names"
    assert read["late"]["source_line"] == 1201
    assert read["obj"]["publisher"] == "Reuters"
    assert batch.articles.height == 1202 and not batch.problems


def test_blank_lines_keep_line_numbers(tmp_path):
    records = news_records()
    path = tmp_path / "gaps.jsonl"
    lines = [json.dumps(r) for r in records]
    path.write_text("\n\n".join(lines) + "\n")
    frame = read_articles([path]).articles
    assert frame["source_line"].to_list() == list(range(1, 20, 2))


# Store --------------------------------------------------------------------------------------------


def test_store_is_idempotent(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    frame = read_articles([FIXTURES]).articles
    assert store_articles(con, frame) == frame.height
    assert store_articles(con, frame) == frame.height
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == frame.height
    row = con.execute(
        "SELECT published_at, published_date, body FROM articles "
        "WHERE article_id = 'av:612b5fade44c9ea6'"
    ).fetchone()
    assert row[0] == datetime(2022, 11, 20, 10, 24, tzinfo=UTC)
    assert row[2].startswith("The Berkshire Hathaway leader")


def test_store_drops_entities_only_when_the_text_changed(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    frame = read_articles([NEWS]).articles
    store_articles(con, frame)
    for article_id in ("av:612b5fade44c9ea6", "av:a938dc594dc7e423"):
        con.execute(
            "INSERT INTO entities (article_id, entity_idx, name, status, ticker, exchange, "
            "relevance, role) VALUES (?, 0, 'Apple', 'listed', 'AAPL', 'NASDAQ', 90, 'subject')",
            [article_id],
        )
        con.execute(
            "INSERT INTO mentions VALUES (?, 0, 'body', 0, 5, 'Apple', 'lead')", [article_id]
        )
    changed = frame.with_columns(
        body=pl.when(pl.col("article_id") == "av:612b5fade44c9ea6")
        .then(pl.lit("A corrected body."))
        .otherwise(pl.col("body")),
        publisher=pl.lit("New publisher"),
    )
    store_articles(con, changed)
    left = con.execute("SELECT article_id FROM entities ORDER BY 1").fetchall()
    assert left == [("av:a938dc594dc7e423",)]
    assert con.execute("SELECT count(*) FROM mentions").fetchone()[0] == 1
    assert con.execute("SELECT DISTINCT publisher FROM articles").fetchall() == [("New publisher",)]
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 10


def test_store_nothing(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    assert store_articles(con, read_articles([tmp_path]).articles) == 0


def test_blank_time_is_unknown_not_an_error(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"body": "x", "date": "  "}])
    batch = read_articles([path])
    assert not batch.problems
    assert batch.articles.row(0, named=True)["published_at"] is None


def test_store_refuses_repeated_ids(tmp_path):
    con = store.connect(tmp_path / "t.duckdb")
    frame = read_articles([NEWS]).articles
    with pytest.raises(InputError, match="article id 'av:612b5fade44c9ea6' occurs more than once"):
        store_articles(con, pl.concat([frame, frame]))
    assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 0


def test_chunks_keep_line_numbers(tmp_path):
    records = [r | {"id": f"{r['id']}-{i}"} for i, r in enumerate(news_records() * 3)]
    lines = [json.dumps(r).encode() for r in records]
    lines[11] = b'{"id": "broken", "body": "x"'
    path = tmp_path / "news.jsonl"
    path.write_bytes(b"\n".join(lines[:20]) + b"\n\n" + b"\n".join(lines[20:]))
    whole = read_articles([path])
    batches = list(articles.iter_articles([path], chunk_bytes=3000))
    assert len(batches) > 3
    chunked = pl.concat(batch.articles for batch in batches)
    assert chunked.equals(whole.articles)
    problems = [p for batch in batches for p in batch.problems]
    assert sorted(problems, key=lambda p: p.line) == whole.problems  # the naive-time warning
    assert problems[-1].field == "published_at"  # comes once the file is read
    assert [p.line for batch in batches for p in batch.errors] == [12]
    assert chunked["source_line"].to_list()[-1] == 31


def test_lone_surrogate_escape_is_reported(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"body": "ok"}\n{"body": "bad \\ud800 escape"}\n')
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:2: body: has an invalid \\u escape (a lone surrogate)"
    ]
    assert batch.articles["body"].to_list() == ["ok"]


# Publication times: forms and range ----------------------------------------------------------


def test_times_outside_the_range_are_one_line_each_and_the_store_reads_back(tmp_path):
    times = [
        "0001-01-01",
        "2300-05-10T14:30:00Z",
        "9999-12-31T23:59:59.999999-23:59",
        253402300800000,
    ]
    records = [{"id": f"bad{i}", "body": "x", "published_at": t} for i, t in enumerate(times)]
    records.append({"id": "good", "body": "x", "published_at": "Fri, 10 May 2024 14:30:00 GMT"})
    path = write_jsonl(tmp_path / "t.jsonl", records)
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:1: published_at: '0001-01-01' is out of range: {RANGE}",
        f"{path}:2: published_at: '2300-05-10T14:30:00Z' is out of range: {RANGE}",
        f"{path}:3: published_at: '9999-12-31T23:59:59.999999-23:59' is out of range: {RANGE}",
        f"{path}:4: published_at: 253402300800000 as epoch milliseconds is after 2100-12-31; "
        + RANGE,
    ]
    con = store.connect(tmp_path / "t.duckdb")
    store_articles(con, batch.articles)
    assert con.execute("SELECT article_id, published_at FROM articles").fetchall() == [
        ("good", datetime(2024, 5, 10, 14, 30, tzinfo=UTC))
    ]


RANGE = "publication times must lie in 1900-01-01..2100-12-31 (UTC)"

ISO_TIMES = st.builds(
    "{}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}{}{}".format,
    st.sampled_from(["0001", "1899", "1900", "1970", "2024", "2100", "2101", "9999"]),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(["T", " ", "t", "_"]),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["", ".5", ".123456", ".1234567", "."]),
    st.sampled_from(["", "Z", "z", "+00:00", "-04:00", "+23:59", "+24:00", "-0130", "+05"]),
)


COMPACT_TIMES = st.builds(
    "{}{:02d}{:02d}T{:02d}{:02d}{:02d}".format,
    st.sampled_from(["0001", "1899", "1900", "2024", "2100", "2101", "9999"]),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
)
PADDING = st.sampled_from(["", " ", "\t", "\u200e", "\x1c", "\u2028", "\xa0"])
TIMES = st.builds(
    "{}{}{}".format,
    PADDING,
    st.one_of(ISO_TIMES, ISO_TIMES.map(lambda t: t[:10]), COMPACT_TIMES),
    PADDING,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(TIMES, min_size=1, max_size=8))
def test_file_times_match_parse_published_on_generated_times(texts):
    """polars parses the common forms in a file; it must agree with parse_published on each."""
    records = [{"id": str(i), "body": "x", "published_at": t} for i, t in enumerate(texts)]
    data = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.jsonl"
        path.write_bytes(data)
        batch = read_articles([path])
    read = {r["article_id"]: r for r in batch.articles.iter_rows(named=True)}
    errors = {p.line: p.message for p in batch.errors}
    for i, text in enumerate(texts):
        try:
            instant, day, _ = parse_published(text)
        except ValueError as e:
            assert errors[i + 1] == str(e)
            continue
        assert (read[str(i)]["published_at"], read[str(i)]["published_date"]) == (instant, day)


# One parse per record: the JSON rules -----------------------------------------------------------


def test_json_numbers_become_text_one_way(tmp_path):
    path = tmp_path / "n.jsonl"
    path.write_text(
        '{"id": 1e5, "body": "a"}\n'
        '{"id": 100000.0, "body": "b"}\n'
        '{"id": "x", "title": 0.50, "body": 7, "published_at": 1715351400.0}\n'
        '{"id": -0.0, "body": 12345678901234567890123456789}\n'
    )
    batch = read_articles([path])
    rows = batch.articles.select("article_id", "title", "body", "published_raw").rows()
    assert rows == [
        ("100000", "", "a", None),
        ("x", "0.5", "7", "1715351400"),
        ("0", "", "12345678901234567890123456789", None),
    ]
    assert [str(p) for p in batch.problems] == [
        f"{path}:2: id: id '100000' was already read at {path}:1; kept that one"
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": 1.5, "body": "x"}', "id: 1.5 is not a whole number; give ids as text or whole"),
        ('{"id": NaN, "body": "x"}', "id: expected text, got NaN"),
        ('{"body": true}', "body: expected text, got true"),
        ('{"body": "x", "title": -Infinity}', "title: expected text, got -Infinity"),
        ('{"body": "x", "url": false}', "url: expected text, got false"),
        ('{"body": 1e999999999}', "body: a number of more than 30 digits; write it as text"),
        ('{"body": 1e-31}', "body: a number of more than 30 digits; write it as text"),
        ('{"body": "x", "id": ' + "7" * 31 + "}", "id: a number of more than 30 digits"),
        ('{"body": "x", "n": ' + "7" * 5000 + "}", "a number of more than 4300 digits; write"),
        ('{"body": 1e99999999999999999999999}', "body: a number of more than 30 digits"),
        ('{"body": {"a": 1}}', "body: expected text, got an object"),
        ('{"publisher": {"name": 5}, "body": "x"}', "publisher: expected text, got an object"),
        ("1.5", "expected an article object {...}, got a number"),
        ("null", "expected an article object {...}, got null"),
    ],
)
def test_values_that_are_not_text_are_one_line(tmp_path, line, message):
    path = tmp_path / "v.jsonl"
    path.write_text('{"body": "kept"}\n' + line + "\n")
    batch = read_articles([path])
    assert len(batch.errors) == 1
    assert str(batch.errors[0]).startswith(f"{path}:2: {message}")
    assert batch.articles["body"].to_list() == ["kept"]


def test_a_repeated_key_keeps_its_last_value(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": "a", "body": "first", "body": "last", "Body": "other name"}\n')
    row = read_articles([path]).articles.row(0, named=True)
    assert row["body"] == "other name"  # "Body" sorts before "body"; "body" is "last"
    path.write_text('{"id": "a", "body": "first", "body": "last"}\n')
    assert read_articles([path]).articles["body"].to_list() == ["last"]


def test_nan_outside_the_article_fields_is_ignored(tmp_path):
    path = write_jsonl(tmp_path / "n.jsonl", [b'{"body": "x", "sentiment": NaN, "n": 1e400}'])
    batch = read_articles([path])
    assert not batch.problems and batch.articles["body"].to_list() == ["x"]


# Nesting: a record too deep is one line; never a RecursionError --------------------------------


def test_deeply_nested_json_lines_are_one_line_each(tmp_path):
    deep = "[" * 2000
    lines = [
        b'{"body": "kept 1"}',
        deep.encode(),
        ('{"body": "x", "meta": ' + "[" * 101 + "]" * 101 + "}").encode(),
        ('{"body": "kept 2", "meta": ' + "[" * 99 + "]" * 99 + "}").encode(),
        ('{"body": "' + "[" * 5000 + '"}').encode(),  # brackets inside a string are text
        b"{" * 1_000_000,
    ]
    path = write_jsonl(tmp_path / "deep.jsonl", lines)
    batch = read_articles([path])
    too_deep = "nested more than 100 levels deep; an article is a flat object"
    assert [str(p) for p in batch.errors] == [
        f"{path}:2: {too_deep}",
        f"{path}:3: {too_deep}",
        f"{path}:6: {too_deep}",
    ]
    assert batch.articles["source_line"].to_list() == [1, 4, 5]


def test_deeply_nested_json_document_is_reported(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('[{"body": "x"}, ' + "[" * 100_000 + "]" * 100_000 + "]")
    batch = read_articles([path])
    assert [str(p) for p in batch.problems] == [
        f"{path}: nested more than 100 levels deep; an article is a flat object; "
        "the file was skipped"
    ]


def test_json_document_over_its_size_limit_is_not_read(tmp_path, monkeypatch):
    monkeypatch.setattr(articles, "MAX_JSON_FILE_BYTES", 100)
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"body": "x" * 200}]))
    batch = read_articles([path])
    assert [str(p) for p in batch.problems] == [
        f"{path}: file is 0.0 MB; a .json file is read whole, up to 0.0001 MB: write a larger "
        "one as JSON Lines (.jsonl, one article per line), which is read in chunks"
    ]


# Streaming: iter_articles ------------------------------------------------------------------------


def mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    shutil.copytree(FIXTURES, folder)
    records = [r | {"id": f"{r['id']}-{i}"} for i, r in enumerate(news_records() * 4)]
    records[7]["published_at"] = "2024-13-45"
    records[30] = {"id": records[2]["id"], "body": "a duplicate id"}
    write_jsonl(folder / "more.jsonl", records)
    pl.read_parquet(FIXTURES / "polygon.parquet").write_parquet(
        folder / "zz.parquet", row_group_size=1
    )
    (folder / "zz_copy.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("chunk_articles", "chunk_bytes"), [(1, 10**9), (3, 10**9), (7, 20_000), (10**6, 1)]
)
def test_batches_concatenate_to_read_articles(tmp_path, chunk_articles, chunk_bytes):
    folder = mixed_folder(tmp_path)
    whole = read_articles([folder])
    batches = list(
        articles.iter_articles([folder], chunk_articles=chunk_articles, chunk_bytes=chunk_bytes)
    )
    assert all(b.articles.height <= chunk_articles for b in batches)
    for batch in batches:
        text = batch.articles.select(
            pl.sum_horizontal(pl.col(c).str.len_bytes().fill_null(0) for c in TEXT_COLUMNS)
        )
        assert batch.articles.height <= 1 or text.sum().item() <= chunk_bytes
    assert pl.concat(b.articles for b in batches).equals(whole.articles)
    problems = [p for b in batches for p in b.problems]
    assert sorted(map(str, problems)) == sorted(map(str, whole.problems))
    assert len(whole.problems) == 8  # bad time, 5 duplicate ids, 2 naive-time warnings
    assert list(dict.fromkeys(f for b in batches for f in b.files)) == whole.files


TEXT_COLUMNS = ("title", "body", "published_raw", "publisher", "url")  # and the id as given


def test_duplicate_ids_across_batches_keep_the_first(tmp_path):
    copy = tmp_path / "copy.jsonl"
    shutil.copy(NEWS, copy)
    batches = list(articles.iter_articles([NEWS, copy], chunk_articles=4))
    assert [b.articles.height for b in batches] == [4, 4, 2, 0, 0]
    duplicates = [p for b in batches for p in b.warnings if p.field == "id"]
    assert len(duplicates) == 10
    assert str(duplicates[0]) == (
        f"{copy}:1: id: id 'av:612b5fade44c9ea6' was already read at {NEWS}:1; kept that one"
    )


def test_parquet_and_csv_are_read_in_slices(tmp_path):
    source = pl.read_parquet(FIXTURES / "polygon.parquet")
    path = tmp_path / "p.parquet"
    pl.concat([source] * 5).with_columns(id=pl.int_range(20).cast(pl.String)).write_parquet(
        path, row_group_size=3
    )
    batches = list(articles.iter_articles([path, FIXTURES / "stories.csv"], chunk_articles=2))
    assert [b.articles.height for b in batches] == [2] * 12 + [1]
    records = pl.concat(b.articles for b in batches)
    assert records.equals(read_articles([path, FIXTURES / "stories.csv"]).articles)


def test_reading_a_big_jsonl_file_holds_one_chunk_at_a_time(tmp_path):
    """Python-side memory stays near one chunk's records, far below the file's size."""
    record = news_records()[0]
    path = tmp_path / "big.jsonl"
    with path.open("w") as out:
        for i in range(20_000):
            out.write(json.dumps(record | {"id": str(i), "body": record["body"] * 8}) + "\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = sum(b.articles.height for b in articles.iter_articles([path], chunk_articles=500))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 20_000
    assert size > 20_000_000 and peak < size / 10


def test_iter_articles_yields_one_batch_for_nothing(tmp_path):
    batches = list(articles.iter_articles([tmp_path]))
    assert len(batches) == 1 and batches[0].articles.schema == ARTICLE_SCHEMA
    assert [str(p) for p in batches[0].problems] == [f"{tmp_path}: no article files in this folder"]
    with pytest.raises(ValueError, match="at least 1"):
        next(articles.iter_articles([tmp_path], chunk_articles=0))


def write_one(path: Path, body: str) -> Path:
    if path.suffix == ".txt":
        path.write_text(body)
    elif path.suffix == ".jsonl":
        write_jsonl(path, [{"id": "a", "body": body}])
    elif path.suffix == ".csv":
        path.write_text(f"id,body\na,{body}\n")
    else:
        pl.DataFrame({"id": ["a"], "body": [body]}).write_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".txt", ".jsonl", ".csv", ".parquet"])
def test_an_article_at_the_size_limit_is_read_and_one_byte_more_is_not(tmp_path, suffix):
    limit = articles.MAX_ARTICLE_BYTES
    at_limit = write_one(tmp_path / f"a{suffix}", "x" * limit)
    assert read_articles([at_limit]).articles["body"].str.len_bytes().to_list() == [limit]
    over = write_one(tmp_path / f"b{suffix}", "x" * (limit + 1))
    batch = read_articles([over])
    assert batch.articles.is_empty()
    assert [(p.field, p.message) for p in batch.errors] == [
        ("body", "article is 5.0 MB, over the 5 MB limit per article; split it or leave it out")
    ]


def test_csv_line_over_the_line_limit_stops_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(articles, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "s.csv"
    path.write_text("title,body\nkept,short\nlong," + "x" * 5000 + "\nlater,never read\n")
    limit = csv.field_size_limit()
    try:
        batch = read_articles([path])
    finally:
        csv.field_size_limit(limit)
    assert [str(p) for p in batch.problems] == [
        f"{path}:3: cannot read CSV: a line over the 0.001 MB limit; the rest of the file was "
        "skipped"
    ]
    assert batch.articles["title"].to_list() == ["kept"]
