import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

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


def test_article_over_the_size_limit_is_skipped(tmp_path):
    records = news_records()[:3]
    records[1]["body"] = "x" * 50_000_000
    path = write_jsonl(tmp_path / "big.jsonl", records)
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:2: body: article is 50.0 MB, over the 5 MB limit per article; "
        "split it or leave it out"
    ]
    assert batch.articles.height == 2


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
    ],
)
def test_parse_published(text, expected):
    assert parse_published(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-13-45", "cannot parse '2024-13-45' as ISO 8601"),
        ("May 10, 2024", "cannot parse 'May 10, 2024' as ISO 8601"),
        ("1715351400000", "after 2100 as epoch seconds (milliseconds? divide by 1000)"),
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


def test_chunks_keep_line_numbers(tmp_path, monkeypatch):
    records = [r | {"id": f"{r['id']}-{i}"} for i, r in enumerate(news_records() * 3)]
    lines = [json.dumps(r).encode() for r in records]
    lines[11] = b'{"id": "broken", "body": "x"'
    path = tmp_path / "news.jsonl"
    path.write_bytes(b"\n".join(lines[:20]) + b"\n\n" + b"\n".join(lines[20:]))
    whole = read_articles([path])
    monkeypatch.setattr(articles, "_CHUNK_BYTES", 3000)
    chunked = read_articles([path])
    assert chunked.articles.equals(whole.articles)
    assert messages(chunked) == messages(whole)
    assert [p.line for p in chunked.errors] == [12]
    assert chunked.articles["source_line"].to_list()[-1] == 31


def test_lone_surrogate_escape_is_reported(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text('{"body": "ok"}\n{"body": "bad \\ud800 escape"}\n')
    batch = read_articles([path])
    assert [str(p) for p in batch.errors] == [
        f"{path}:2: body: has an invalid \\u escape (a lone surrogate)"
    ]
    assert batch.articles["body"].to_list() == ["ok"]
