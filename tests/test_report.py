"""Reports on a store built from the real fixture articles and the bundled real prices."""

import errno
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import markupsafe
import numpy as np
import polars as pl
import pytest
import scipy.stats as st
from hypothesis import given
from hypothesis import strategies as s

import tagger
from tagger import prices, report, store, study
from tagger.errors import TaggerError
from tagger.events import events_from_articles
from tagger.report import charts, files, pages, tables

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
SEED = "seed_space_espionage"  # no title, no publication time
NO_COMPANIES = "bzcsv:8376a287e3ea4f17"  # names no company
BUFFETT = "fnspid:cb331155c27c5a96"  # names many listed companies, each of low relevance
TOL = {"rtol": 1e-9, "atol": 1e-12}
# Stories whose ids are report file names or formulas, with a hostile headline and addresses.
HOSTILE = [
    {
        "id": "+cmd|' /C calc'!A0",
        "title": "Nvidia Stock Jumps On Data-Centre Demand",
        "body": "Nvidia Corp. (NASDAQ: NVDA) shares rose 5% after the company raised guidance.",
        "published_at": "2024-09-03T22:02:41Z",
        "url": "javascript:alert(1)",
    },
    {
        "id": "summary.csv",
        "title": '=HYPERLINK("http://evil.example") Apple <script>alert(1)</script> rises',
        "body": "Apple Inc. (NASDAQ: AAPL) said its sales rose.\n\nApple shares gained 2%.",
        "published_at": "2024-07-19T13:16:24Z",
        "url": "https://example.com/apple",
    },
    {
        "id": "index.html",
        "title": "SPDR S&P 500 ETF Trust (NYSEARCA: SPY) and State Street Corp. rise in rally",
        "body": "The SPDR S&P 500 ETF Trust (NYSEARCA: SPY) rose 1% on Friday; its sponsor "
        "State Street Corp. (NYSE: STT) gained 2%.",
        "published_at": "2024-05-10",
    },
]


def tagged_store(path: Path, sources=None):
    con = store.connect(path)
    batch = tagger.read_articles(sources or [FIXTURES / "news.jsonl", FIXTURES / f"{SEED}.txt"])
    tagger.store_articles(con, batch.articles)
    tagger.store_tags(con, *tagger.tag_articles(batch.articles))
    return con


def studied_store(path: Path, min_relevance: int = 50, sources=None, **options):
    """A tagged store with the bundled prices its events need and a stored study."""
    con = tagged_store(path, sources)
    events = events_from_articles(con, min_relevance)
    tickers = pl.concat([events["ticker"], events["benchmark"], pl.Series(["SPY"])])
    prices.load_bundled(con, tickers.drop_nulls().unique().to_list())
    return con, study.run_study(con, events, **options)


@pytest.fixture(scope="module")
def studied(tmp_path_factory):
    """The default study (events need relevance 50) and its reports."""
    folder = tmp_path_factory.mktemp("report")
    con, result = studied_store(folder / "t.duckdb")
    out = folder / "reports"
    return con, result, out, report.write_reports(con, out)


@pytest.fixture(scope="module")
def studied_all(tmp_path_factory):
    """Every named company is an event (relevance 0 and up): one story has many measured."""
    folder = tmp_path_factory.mktemp("report_all")
    con, result = studied_store(folder / "t.duckdb", min_relevance=0)
    out = folder / "reports"
    return con, result, out, report.write_reports(con, out, min_relevance=0)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The HOSTILE stories, studied, and their reports."""
    folder = tmp_path_factory.mktemp("hostile")
    news = folder / "hostile.jsonl"
    news.write_text("".join(json.dumps(s) + "\n" for s in HOSTILE), encoding="utf-8")
    con, result = studied_store(folder / "t.duckdb", sources=[news])
    out = folder / "reports"
    return con, result, out, report.write_reports(con, out)


def reaction(out: Path, story_id: str) -> pl.DataFrame:
    return pl.read_csv(out / report.story_folder(story_id) / "reaction.csv", infer_schema=False)


def story_page(out: Path, story_id: str) -> str:
    return (out / report.story_folder(story_id) / "index.html").read_text(encoding="utf-8")


def index_data(out: Path) -> list[dict]:
    """The stories of the index, as its data scripts hand them to the page."""
    entries = []
    for script in sorted((out / "data").glob("stories-*.js")):
        text = script.read_text(encoding="utf-8")
        assert text.startswith("taggerStories(") and text.endswith(");\n")
        entries += json.loads(text.removeprefix("taggerStories(").removesuffix(");\n"))
    return entries


def as_float(values) -> list:
    return [None if v in (None, "") else float(v) for v in values]


def measured_ids(result) -> list[str]:
    events = result.events.filter(~pl.col("flags").str.contains("no_prices"))
    return events["event_id"].to_list()


def on_disk(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def manifest(out: Path) -> set[str]:
    lines = (out / files.MANIFEST).read_text(encoding="utf-8").splitlines()
    return {line for line in lines if not line.startswith("#")}


class Page(HTMLParser):
    """Links, marks (with their text) and the texts of a page."""

    def __init__(self, text: str):
        super().__init__()
        self.links, self.marks, self.tags, self._mark = [], [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        self.links += [attrs[k] for k in ("href", "src") if k in attrs]
        if tag == "mark" and "title" in attrs:
            self._mark = [attrs["class"], ""]

    def handle_data(self, data):
        if self._mark is not None:
            self._mark[1] += data

    def handle_endtag(self, tag):
        if tag == "mark" and self._mark is not None:
            self.marks.append(tuple(self._mark))
            self._mark = None


# Files --------------------------------------------------------------------------------------


def test_every_story_gets_a_page_and_a_table_and_the_folder_holds_only_report_files(studied):
    con, result, out, written = studied
    stories = [row[0] for row in con.execute("SELECT article_id FROM articles").fetchall()]
    assert written.stories == len(stories) == 11
    charted = {event_id.rsplit(":", 1)[0] for event_id in measured_ids(result)}
    assert charted  # the real prices measure some of the stories
    for story_id in stories:
        assert (out / report.story_folder(story_id) / "reaction.csv").is_file()
        page = story_page(out, story_id)
        assert ('<svg class="chart' in page) == (story_id in charted)
    assert written.charts == len(charted)
    top = {"index.html", "study.html", "summary.csv", "caar.csv", "manifest.txt"}
    assert top | {"assets", "data", "stories"} == {p.name for p in out.iterdir()}
    assert manifest(out) | {"manifest.txt"} == on_disk(out)
    assert written.files == len(on_disk(out))


def test_story_folders_are_safe_readable_unique_and_never_a_report_file():
    assert report.story_folder(SEED) == f"stories/{SEED}"
    ids = ["av:612b", "av_612b", "AV:612B", "av-612b", "../etc", "a/b", "...", "index.html"]
    ids += ["summary.csv", "caar.csv", "manifest.txt", "stories", "assets", "data", "study.html"]
    folders = [report.story_folder(i) for i in ids]
    assert len(set(folders)) == len(ids)
    for folder in folders:
        parent, name = folder.split("/")
        assert parent == "stories"
        assert re.fullmatch(r"[a-z0-9._-]+", name) and name not in (".", "..")
    assert report.story_folder("av:612b").startswith("stories/av-612b-")
    # an id that looks like a made-safe name gets a hash of its own
    made_safe = report.story_folder("av:612b").removeprefix("stories/")
    assert report.story_folder(made_safe) != report.story_folder("av:612b")


def test_stories_named_like_report_files_and_formulas_get_their_own_folders(hostile):
    con, _, out, written = hostile
    assert written.stories == 3
    for story in HOSTILE:
        table = reaction(out, story["id"])
        assert table["story_id"].to_list()[0] == "'" * story["id"].startswith("+") + story["id"]
    assert (out / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    report.write_reports(con, out)  # and the folder stays usable
    assert (out / "index.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(hostile):
    _, _, out, _ = hostile
    apple = reaction(out, "summary.csv")
    assert apple["headline"][0].startswith("'=HYPERLINK(")
    summary = pl.read_csv(out / "summary.csv", infer_schema=False)
    assert "'=HYPERLINK(" in summary["headline"].str.slice(0, 12).to_list()
    for table in (summary, reaction(out, HOSTILE[0]["id"])):
        for column in table.select(pl.col(pl.String)).columns:
            cells = table[column].drop_nulls()
            assert not cells.str.contains(r"^[=+@\t\r]").any(), column
            assert not cells.str.contains(r"^-[^0-9.]").any(), column  # numbers keep their sign


# reaction.csv ---------------------------------------------------------------------------------


def test_reaction_columns_follow_the_study_windows(studied):
    _, result, out, _ = studied
    table = reaction(out, SEED)
    assert table.columns == report.reaction_columns(result.settings.windows)
    assert {"car_m1_1", "t_m1_1", "p_m1_1", "car_0_5"} <= set(table.columns)
    assert table.columns[-2:] == ["flags", "note"]


def test_reaction_values_are_the_stored_study_values(studied):
    _, result, out, _ = studied
    ids = measured_ids(result)
    numbers = ["alpha", "beta", "ar_0", "abnormal_volume_0", "market_return_0"]
    numbers += ["benchmark_return_0"]
    numbers += [c for c in result.events.columns if re.match(r"(car|t|p)_", c)]
    day0 = result.path.filter(pl.col("day") == 0)
    for event_id in ids:
        row = reaction(out, event_id.rsplit(":", 1)[0]).filter(pl.col("event_id") == event_id)
        expected = result.events.filter(pl.col("event_id") == event_id)
        assert row.height == 1
        for column in numbers:
            assert as_float(row[column]) == expected[column].to_list(), column
        for column in ("ticker", "rule", "market", "benchmark"):
            assert row[column].to_list() == expected[column].to_list(), column
        assert row["event_date"][0] == str(expected["event_date"][0])
        assert int(row["estimation_days"][0]) == expected["estimation_days"][0]
        assert (row["flags"][0] or "") == expected["flags"][0]
        ret = day0.filter(pl.col("event_id") == event_id)["ret"]
        assert as_float(row["return_0"]) == ret.to_list()
        assert row["note"][0] is None


def test_every_company_a_story_names_has_a_row_in_entity_order(studied):
    con, _, out, _ = studied
    entities = pl.DataFrame(con.sql("SELECT * FROM entities ORDER BY article_id, entity_idx"))
    for (story_id,), named in entities.partition_by("article_id", as_dict=True).items():
        table = reaction(out, story_id)
        assert table["name"].to_list() == named["name"].to_list()
        assert table["relevance"].to_list() == [str(r) for r in named["relevance"]]
        assert table["event_id"].to_list() == [
            f"{story_id}:{i}" if relevance >= 50 and status != "unresolved" else None
            for i, relevance, status in named.select("entity_idx", "relevance", "status").rows()
        ]


def test_stories_that_cannot_be_studied_say_why(studied):
    _, _, out, _ = studied
    seed = reaction(out, SEED)
    assert seed.height > 1
    assert all(note.startswith("not studied: no publication time") for note in seed["note"])
    assert seed["headline"][0].startswith("China’s Ministry of State Security")
    assert seed["headline"][0].endswith(" …")

    nobody = reaction(out, NO_COMPANIES)
    assert nobody.height == 1
    assert nobody["note"].to_list() == ["no companies found in the story"]
    assert nobody["ticker"].to_list() == [None]

    buffett = reaction(out, BUFFETT).to_dicts()
    for row in buffett:
        assert f"relevance {row['relevance']} below 50" in row["note"]
        if row["role"] == "boilerplate":
            assert row["note"].endswith("(boilerplate mention)")
        if row["status"] == "private" and row["parent_ticker"] is None:
            assert "private, no listed parent" in row["note"]

    # A listed company the bundled prices lack: Agilent (A) on a date-only story.
    agilent = reaction(out, "bzcsv:a4252150780da56a")
    assert agilent["note"].to_list() == ["not studied: no prices for A"]
    assert agilent["flags"].to_list() == ["no_prices;date_only"]


def test_the_market_proxy_is_not_studied_against_itself(hostile):
    _, result, out, _ = hostile
    stored = result.events.filter(pl.col("ticker") == "SPY")
    assert stored.height == 1  # the study has the event (alpha 0, beta 1, sigma 0) ...
    spy = reaction(out, HOSTILE[2]["id"]).filter(pl.col("ticker") == "SPY").row(0, named=True)
    assert spy["note"] == (
        "not studied: SPY is the market proxy; a study against itself measures nothing"
    )
    assert spy["event_date"] == str(stored["event_date"][0])
    for column in ("alpha", "beta", "ar_0", "car_m1_1", "p_m1_1", "return_0"):
        assert spy[column] is None, column
    # ... the report shows no numbers, no chart and no summary row for it
    assert stored["event_id"][0] not in pl.read_csv(out / "summary.csv")["event_id"].to_list()
    page = story_page(out, HOSTILE[2]["id"])
    assert "STT, day +1" in page and "SPY, day" not in page  # in the chart, STT only
    entry = next(e for e in index_data(out) if e["f"] == report.story_folder(HOSTILE[2]["id"]))
    assert [event[0] for event in entry["r"]] == ["STT"]
    assert entry["c"][0][1] == "SPY" and entry["c"][0][6].startswith("SPY is the market proxy")


def test_reports_before_any_study_list_the_companies(tmp_path):
    con = tagged_store(tmp_path / "t.duckdb")
    out = tmp_path / "reports"
    written = report.write_reports(con, out)
    assert written.stories == 11
    assert written.charts == 0
    hood = reaction(out, "av:a938dc594dc7e423")
    assert hood["ticker"].to_list() == ["HOOD"]
    assert hood["note"].to_list() == ["not studied: no study run yet"]
    assert hood.columns == report.reaction_columns(study.DEFAULT_WINDOWS)
    assert pl.read_csv(out / "summary.csv").height == 0
    assert pl.read_csv(out / "caar.csv").height == 0
    assert "No study has been run yet" in (out / "index.html").read_text()
    assert "No measured events yet" in (out / "study.html").read_text()


def test_a_private_company_is_measured_through_its_listed_parent(studied_all):
    _, _, out, _ = studied_all
    linkedin = reaction(out, BUFFETT).filter(pl.col("name").str.starts_with("LinkedIn"))
    assert linkedin["status"].to_list() == ["private"]
    assert linkedin["ticker"].to_list() == [None]
    assert linkedin["parent_ticker"].to_list() == ["MSFT"]
    assert linkedin["note"].to_list() == ["measured through its listed parent MSFT"]
    summary = pl.read_csv(out / "summary.csv").filter(pl.col("name").str.starts_with("LinkedIn"))
    assert summary["ticker"].to_list() == ["MSFT"]
    assert "LinkedIn Corporation via MSFT" in story_page(out, BUFFETT)


def test_only_the_chosen_stories(studied, tmp_path):
    con, _, _, _ = studied
    story = "av:a938dc594dc7e423"
    written = report.write_reports(con, tmp_path, article_ids=[story])
    assert written.stories == 1
    assert [p.name for p in (tmp_path / "stories").iterdir()] == [
        report.story_folder(story).split("/")[1]
    ]
    assert pl.read_csv(tmp_path / "summary.csv")["story_id"].to_list() == [story]


# summary.csv and caar.csv ---------------------------------------------------------------------


def test_summary_has_a_row_per_measured_event_newest_story_first(studied):
    con, result, out, _ = studied
    summary = pl.read_csv(out / "summary.csv")
    assert sorted(summary["event_id"]) == sorted(measured_ids(result))
    for row in summary.iter_rows(named=True):
        expected = result.events.filter(pl.col("event_id") == row["event_id"]).row(0, named=True)
        for window in result.settings.windows:
            for stat in ("car", "t", "p"):
                column = f"{stat}_{study.window_suffix(window)}"
                assert row[column] == expected[column]
    order = tables.story_order(con, None)
    positions = [order.index(s) for s in summary["story_id"]]
    assert positions == sorted(positions)


def test_story_order_is_newest_first_undated_last(studied):
    con, _, _, _ = studied
    times = pl.DataFrame(
        con.sql(
            "SELECT article_id, coalesce(published_at, published_date::TIMESTAMP AT TIME ZONE "
            "'UTC') AS t FROM articles"
        )
    )
    order = tables.story_order(con, None)
    expected = times.sort(["t", "article_id"], descending=[True, False], nulls_last=True)
    assert order == expected["article_id"].to_list()
    assert order[-1] == SEED


def test_caar_holds_the_stored_study_then_relevance_buckets(studied_all):
    con, result, out, _ = studied_all
    caar = pl.read_csv(out / "caar.csv")
    stored = caar.filter(pl.col("relevance") == "all").drop("relevance")
    assert stored.columns == result.caar.columns
    for column in result.caar.columns:
        expected = result.caar[column]
        assert stored[column].to_list() == expected.to_list(), column

    # Each bucket again from the per-event numbers (t = CAR / sd(CAR) is the standardised CAR).
    events = in_sample_events(con, result)
    found = caar.filter(pl.col("relevance") != "all")
    order = [b for b, _, _ in tables.RELEVANCE_BUCKETS]
    assert found["relevance"].unique(maintain_order=True).to_list() == [
        b for b in order if b in set(events["bucket"])
    ]
    for (bucket,), group in events.partition_by("bucket", as_dict=True).items():
        for window in result.settings.windows:
            suffix = study.window_suffix(window)
            row = found.filter(
                (pl.col("relevance") == bucket)
                & (pl.col("window_start") == window[0])
                & (pl.col("window_end") == window[1])
            ).row(0, named=True)
            car, scar = group[f"car_{suffix}"].to_numpy(), group[f"t_{suffix}"].to_numpy()
            df = group["estimation_days"].to_numpy() - 2.0
            n = len(car)
            assert row["n"] == n
            np.testing.assert_allclose(row["caar"], car.mean(), **TOL)
            np.testing.assert_allclose(
                row["patell_z"], scar.sum() / np.sqrt(np.sum(df / (df - 2))), **TOL
            )
            w = (car > 0).sum()
            np.testing.assert_allclose(row["sign_z"], (w - n / 2) / np.sqrt(n / 4), **TOL)
            p_hat = group["positive_share"].mean()
            gsign = (w - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat))
            np.testing.assert_allclose(row["gsign_z"], gsign, **TOL)
            np.testing.assert_allclose(row["p_sign"], 2 * st.norm.sf(abs(row["sign_z"])), **TOL)
            if n > 1:
                t_csect = st.ttest_1samp(car, 0).statistic
                np.testing.assert_allclose(row["t_csect"], t_csect, **TOL)
                np.testing.assert_allclose(row["bmp_t"], st.ttest_1samp(scar, 0).statistic, **TOL)
                p = 2 * st.t.sf(abs(t_csect), n - 1)
                np.testing.assert_allclose(row["p_csect"], p, **TOL)
            else:
                assert row["t_csect"] is None and row["bmp_t"] is None
            assert row["kp_t"] is None and row["rank_z"] is None
    assert found.filter(pl.col("relevance") == "0-49")["n"][0] > 5


def in_sample_events(con, result) -> pl.DataFrame:
    """The in-sample events of the stored study with their relevance bucket (by hand)."""
    relevance = pl.DataFrame(
        con.sql("SELECT article_id || ':' || entity_idx AS event_id, relevance FROM entities")
    )
    shares = pl.DataFrame(
        con.sql(
            "SELECT event_id, positive_share FROM study_estimates JOIN study_events "
            "USING (event_key) WHERE in_sample"
        )
    )
    events = result.events.join(relevance, on="event_id").join(shares, on="event_id")
    return events.with_columns(
        pl.when(pl.col("relevance") >= 90)
        .then(pl.lit("90-100"))
        .when(pl.col("relevance") >= 70)
        .then(pl.lit("70-89"))
        .when(pl.col("relevance") >= 50)
        .then(pl.lit("50-69"))
        .otherwise(pl.lit("0-49"))
        .alias("bucket")
    )


def test_caar_paths_are_the_mean_car_path_with_a_cross_sectional_band(studied_all):
    con, result, _, _ = studied_all
    events = in_sample_events(con, result)
    path = result.path.filter(pl.col("day").is_between(-5, 5)).sort("event_id", "day")
    found = tables.caar_paths(con)
    groups = {
        "all": events,
        **{b: g for (b,), g in events.partition_by("bucket", as_dict=True).items()},
    }
    assert set(found["bucket"]) == set(groups)
    for bucket, group in groups.items():
        ar = np.array(
            [
                path.filter(pl.col("event_id") == e)["ar"].fill_null(np.nan).to_numpy()
                for e in group["event_id"]
            ]
        )
        seen = np.cumsum(~np.isnan(ar), axis=1) > 0
        car = np.where(seen, np.nancumsum(ar, axis=1), np.nan)
        rows = found.filter(pl.col("bucket") == bucket).sort("day")
        assert rows["day"].to_list() == list(range(-5, 6))
        for j, row in enumerate(rows.iter_rows(named=True)):
            values = car[:, j][~np.isnan(car[:, j])]
            assert row["n"] == len(values)
            np.testing.assert_allclose(row["caar"], values.mean(), **TOL)
            if len(values) > 1:
                sd = values.std(ddof=1)
                np.testing.assert_allclose(row["sd"], sd, **TOL)
                half = 1.96 * sd / np.sqrt(len(values))
                np.testing.assert_allclose(row["caar_high"] - row["caar"], half, **TOL)
                np.testing.assert_allclose(row["caar"] - row["caar_low"], half, **TOL)
    # with every path complete, the CAAR on day +5 is the stored CAAR over -5:5
    stored = result.caar.filter(pl.col("event_window") == "-5:5").row(0, named=True)
    last = found.filter((pl.col("bucket") == "all") & (pl.col("day") == 5)).row(0, named=True)
    if last["n"] == stored["n"]:
        np.testing.assert_allclose(last["caar"], stored["caar"], **TOL)


# Pages ----------------------------------------------------------------------------------------


def test_pages_link_only_to_report_files_and_open_without_the_network(studied):
    con, _, out, _ = studied
    pages_ = [out / "index.html", out / "study.html", *(out / "stories").glob("*/index.html")]
    articles = 0
    for page in pages_:
        parsed = Page(page.read_text(encoding="utf-8"))
        for tag, attrs in parsed.tags:
            link = attrs.get("href") or attrs.get("src")
            if not link:
                continue
            if link.startswith("http"):  # only the article itself, opened as an outside page
                assert tag == "a" and "noopener" in attrs["rel"], link
                articles += 1
                continue
            assert not link.startswith(("/", "//", "javascript:", "file:")), link
            assert (page.parent / link).resolve().is_file(), (page, link)
    with_address = "SELECT count(*) FROM articles WHERE url LIKE 'http%'"
    assert articles == con.execute(with_address).fetchall()[0][0] > 0


def test_index_title_names_the_report_not_the_folder(studied):
    _, _, out, _ = studied
    page = (out / "index.html").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*)</title>", page).group(1)
    assert title == "News stories and market reactions · market-tagger"


def test_index_data_has_every_story_in_order_with_all_its_companies(studied):
    con, result, out, _ = studied
    entries = index_data(out)
    order = tables.story_order(con, None)
    assert [e["f"] for e in entries] == [report.story_folder(s) for s in order]
    windows = result.settings.windows
    for entry, story_id in zip(entries, order, strict=True):
        table = reaction(out, story_id)
        named = table.filter(pl.col("name").is_not_null())
        assert [c[0] for c in entry["c"]] == named["name"].to_list()
        assert [str(c[3]) for c in entry["c"]] == named["relevance"].to_list()
        measured = named.filter(pl.col("car_m1_1").is_not_null())
        assert len(entry["r"]) == measured.height
        for event, row in zip(entry["r"], measured.iter_rows(named=True), strict=True):
            for j, window in enumerate(windows):
                suffix = study.window_suffix(window)
                assert event[1 + 2 * j] == pytest.approx(float(row[f"car_{suffix}"]), abs=1e-6)
                assert event[2 + 2 * j] == pytest.approx(float(row[f"p_{suffix}"]), abs=1e-6)
        if table["note"][0] == "no companies found in the story":
            assert entry["n"] == "no companies found in the story"
    # a company that was an event but has no numbers keeps its reason next to the measured ones
    agilent = next(e for e in entries if e["f"] == report.story_folder("bzcsv:a4252150780da56a"))
    assert agilent["c"][0][6] == "no prices for A"


def test_index_links_only_web_addresses(hostile):
    _, _, out, _ = hostile
    entries = {e["f"]: e for e in index_data(out)}
    assert entries[report.story_folder(HOSTILE[0]["id"])]["u"] == ""  # javascript: is not linked
    assert entries[report.story_folder("summary.csv")]["u"] == "https://example.com/apple"
    assert "javascript:" not in story_page(out, HOSTILE[0]["id"])


def test_story_page_highlights_every_mention_by_role(studied):
    con, _, out, _ = studied
    mentions = pl.DataFrame(
        con.sql(
            "SELECT m.article_id, m.text, e.role FROM mentions AS m "
            "JOIN entities AS e USING (article_id, entity_idx)"
        )
    )
    for (story_id,), expected in mentions.partition_by("article_id", as_dict=True).items():
        marks = Page(story_page(out, story_id)).marks
        assert sorted(marks) == sorted(
            (f"role-{role}", text) for text, role in expected.select("text", "role").rows()
        ), story_id


def test_story_page_escapes_the_text_and_keeps_its_paragraphs(hostile):
    _, _, out, _ = hostile
    page = story_page(out, "summary.csv")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count('<p class="body">') == 2
    assert 'href="https://example.com/apple"' in page


def test_story_page_has_a_row_per_company_with_the_reason_when_not_studied(studied):
    _, _, out, _ = studied
    for story_id in (BUFFETT, "bzcsv:a4252150780da56a", SEED):
        page = story_page(out, story_id)
        for row in reaction(out, story_id).iter_rows(named=True):
            for text in (row["name"], row["note"]):
                assert text is None or str(markupsafe.escape(text)) in page


def test_story_pages_link_to_their_neighbours_in_index_order(studied):
    con, _, out, _ = studied
    order = tables.story_order(con, None)
    for i, story_id in enumerate(order):
        page = story_page(out, story_id)
        for rel, j in (("prev", i - 1), ("next", i + 1)):
            link = re.search(rf'href="([^"]+)" rel="{rel}"', page)
            if 0 <= j < len(order):
                assert link.group(1) == f"../../{report.story_folder(order[j])}/index.html"
            else:
                assert link is None


def test_only_the_newest_stories_get_a_chart(studied, tmp_path):
    con, result, _, _ = studied
    written = report.write_reports(con, tmp_path, max_charts=2)
    order = tables.story_order(con, None)
    measured = {event_id.rsplit(":", 1)[0] for event_id in measured_ids(result)}
    for position, story_id in enumerate(order):
        page = story_page(tmp_path, story_id)
        assert ('<svg class="chart' in page) == (position < 2 and story_id in measured)
        if position >= 2 and story_id in measured:
            assert "No chart: only the newest stories" in page
    assert written.charts == len([s for s in order[:2] if s in measured])


def test_study_page_shows_too_few_events_instead_of_a_test(studied):
    _, _, out, _ = studied
    caar = pl.read_csv(out / "caar.csv")
    page = (out / "study.html").read_text(encoding="utf-8")
    few = caar.filter(pl.col("n") < pages.MIN_EVENTS)
    assert few.height  # the fixture's buckets are small
    expected = few.height + few.filter(pl.col("relevance") == "all").height
    assert page.count("too few events for a test") == expected
    assert page.count('<svg class="chart') == caar["relevance"].n_unique()


# Charts ---------------------------------------------------------------------------------------


def test_car_chart_draws_each_path_on_a_linear_scale(studied_all):
    con, _, _, _ = studied_all
    table = report.reaction_table(con, [BUFFETT], 0, study.DEFAULT_WINDOWS)
    paths = tables.car_path_table(con, table)
    events = paths["event_id"].unique(maintain_order=True).to_list()
    assert len(events) > 5
    labels = {e: f"label {i}" for i, e in enumerate(events)}
    colors = {e: charts.PALETTE[i % len(charts.PALETTE)] for i, e in enumerate(events)}
    chart = charts.car_chart(paths.to_dicts(), labels, colors)
    assert [s.label for s in chart.series] == list(labels.values())
    left, top, right, bottom = chart.plot
    assert [x for x, _ in chart.x_ticks] == pytest.approx(np.linspace(left, right, 11), abs=0.05)
    (y0, t0), (y1, t1) = chart.y_ticks[0], chart.y_ticks[-1]
    low, high = (float(t.replace("−", "-").rstrip("%")) / 100 for t in (t0, t1))
    assert y0 == pytest.approx(bottom) and y1 == pytest.approx(top)
    for series, event in zip(chart.series, events, strict=True):
        path = paths.filter(pl.col("event_id") == event).sort("day")
        assert len(series.markers) == path["car"].drop_nulls().len()
        for (_, y, tip), car in zip(series.markers, path["car"].drop_nulls(), strict=True):
            assert y == pytest.approx(
                bottom - (car - low) / (high - low) * (bottom - top), abs=0.06
            )
            assert tip.startswith(f"{series.label}, day ")
        assert len(series.band.split()) == 2 * path["car_low"].drop_nulls().len()
        assert series.color == colors[event]
        # the band stays inside the plot
        ys = [float(p.split(",")[1]) for p in series.band.split()]
        assert top - 0.06 <= min(ys) and max(ys) <= bottom + 0.06


@given(s.floats(-5, 5), s.floats(0.0001, 5))
def test_nice_ticks_cover_the_range_in_round_steps(low, width):
    ticks = charts.nice_ticks(low, low + width)
    assert ticks[0] <= low + 1e-9 and ticks[-1] >= low + width - 1e-9
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
    assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5, 10))
    assert 2 <= len(ticks) <= 12


def test_car_path_is_the_stored_path_with_its_band(studied):
    con, result, _, _ = studied
    table = report.reaction_table(con, None, 50, result.settings.windows)
    paths = tables.car_path_table(con, table).sort("event_id", "day")
    stored = result.path.sort("event_id", "day")
    assert paths["event_id"].to_list() == stored["event_id"].to_list()
    np.testing.assert_allclose(paths["car"], stored["car"], **TOL)
    np.testing.assert_allclose(paths["car_sd"] ** 2, stored["car_var"], **TOL)
    np.testing.assert_allclose(paths["car_high"] - paths["car"], 1.96 * paths["car_sd"], **TOL)


def test_car_path_starts_at_day_minus_5_when_a_window_starts_earlier(studied, tmp_path):
    _, default, _, _ = studied
    con, wide = studied_store(tmp_path / "t.duckdb", windows=[(-10, 10), (0, 1)])
    assert wide.settings.span[0] == -10
    table = report.reaction_table(con, None, 50, wide.settings.windows)
    paths = tables.car_path_table(con, table).sort("event_id", "day")
    expected = default.path.sort("event_id", "day")
    assert paths["event_id"].to_list() == expected["event_id"].to_list()
    np.testing.assert_allclose(paths["car"], expected["car"], **TOL)
    np.testing.assert_allclose(paths["car_sd"] ** 2, expected["car_var"], **TOL)


# Re-runs, links and faults --------------------------------------------------------------------


def snapshot(out: Path) -> dict[str, bytes]:
    return {p: (out / p).read_bytes() for p in sorted(on_disk(out))}


def test_a_rerun_writes_identical_files_and_leaves_them_untouched(studied):
    con, _, out, _ = studied
    before = snapshot(out)
    mtimes = {p: (out / p).stat().st_mtime_ns for p in before if p != files.MANIFEST}
    written = report.write_reports(con, out)
    assert snapshot(out) == before
    assert {p: (out / p).stat().st_mtime_ns for p in mtimes} == mtimes
    assert (written.changed, written.removed) == (0, 0)


def test_a_rerun_removes_what_it_wrote_before_and_nothing_else(studied, tmp_path):
    con, _, _, _ = studied
    out = tmp_path / "reports"
    report.write_reports(con, out)
    ours = report.story_folder(BUFFETT)
    (out / "notes.txt").write_text("the analyst's own notes")
    (out / ours / "remarks.txt").write_text("kept")
    keep = "av:a938dc594dc7e423"
    written = report.write_reports(con, out, article_ids=[keep])
    assert written.removed == 2 * 10  # the other ten stories' pages and tables
    assert {p.name for p in (out / "stories").iterdir()} == {
        report.story_folder(keep).split("/")[1],
        ours.split("/")[1],  # it still holds a file the tool did not write
    }
    assert on_disk(out) == manifest(out) | {"manifest.txt", "notes.txt", f"{ours}/remarks.txt"}


def test_a_run_that_stopped_half_way_is_cleaned_by_the_next(studied, tmp_path, monkeypatch):
    con, _, _, _ = studied
    out = tmp_path / "reports"
    render = report.pages.render

    def fail_on_the_index(template, **context):
        if template == "index.html.j2":
            raise TaggerError("stopped")
        return render(template, **context)

    monkeypatch.setattr(report.pages, "render", fail_on_the_index)
    with pytest.raises(TaggerError, match="stopped"):
        report.write_reports(con, out)
    assert (out / files.JOURNAL).is_file() and not (out / files.MANIFEST).exists()
    monkeypatch.setattr(report.pages, "render", render)
    keep = "av:a938dc594dc7e423"
    report.write_reports(con, out, article_ids=[keep])
    assert not (out / files.JOURNAL).exists()
    assert on_disk(out) == manifest(out) | {"manifest.txt"}
    assert len(list((out / "stories").iterdir())) == 1


def test_a_manifest_cannot_remove_files_outside_the_folder(studied, tmp_path):
    con, _, _, _ = studied
    out = tmp_path / "reports"
    outside = tmp_path / "outside.txt"
    outside.write_text("not the tool's")
    out.mkdir()
    (out / files.MANIFEST).write_text(f"../outside.txt\n{outside}\nstories\n")
    (out / "stories").mkdir()
    report.write_reports(con, out)
    assert outside.read_text() == "not the tool's"


def test_symbolic_links_in_the_folder_are_never_written_through(studied, tmp_path):
    con, _, _, _ = studied
    out = tmp_path / "reports"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "stories").mkdir(parents=True)
    linked = out / report.story_folder(BUFFETT)
    linked.symlink_to(elsewhere, target_is_directory=True)
    outside_csv = tmp_path / "outside.csv"
    outside_csv.write_text("theirs")
    (out / "caar.csv").symlink_to(outside_csv)

    written = report.write_reports(con, out)
    assert list(elsewhere.iterdir()) == []
    assert outside_csv.read_text() == "theirs"
    assert linked.is_symlink() and (out / "caar.csv").is_symlink()
    assert len(written.problems) == 2
    for problem in written.problems:
        assert problem.startswith("skipped ") and "symbolic link" in problem
        assert "\n" not in problem
    assert (out / report.story_folder(SEED) / "index.html").is_file()  # the rest is written
    report.write_reports(con, out, article_ids=[SEED])  # and a re-run removes nothing of theirs
    assert outside_csv.read_text() == "theirs" and linked.is_symlink()


def test_disk_full_says_so_in_one_line_keeps_what_was_written_and_the_rerun_completes(
    studied, tmp_path, monkeypatch
):
    con, _, complete, _ = studied
    out = tmp_path / "reports"
    replace, calls = os.replace, []

    def disk_full_on_the_fifth_file(source, target):
        calls.append(Path(target))
        if len(calls) == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        replace(source, target)

    monkeypatch.setattr(files.os, "replace", disk_full_on_the_fifth_file)
    with pytest.raises(TaggerError) as failure:
        report.write_reports(con, out)
    message = str(failure.value)
    assert message == (
        f"cannot write {calls[4]}: No space left on device; "
        f"free some space and run `tagger report --out {out}` again"
    )
    assert "\n" not in message
    written = snapshot(out)
    assert set(written) == {p.relative_to(out).as_posix() for p in calls[:4]} | {files.JOURNAL}
    assert all(written[p] == (complete / p).read_bytes() for p in written if p != files.JOURNAL)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]

    monkeypatch.setattr(files.os, "replace", replace)
    report.write_reports(con, out)
    assert snapshot(out) == snapshot(complete)


def test_an_unwritable_folder_is_explained(studied, tmp_path):
    con, _, _, _ = studied
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(TaggerError, match=r"^cannot write .*reports.*: .*run `tagger report"):
        report.write_reports(con, blocker)


def test_a_short_estimation_window_is_explained(tmp_path):
    # The bundled prices start in January 2021: 500 sessions before November 2022 reach past it.
    con, result = studied_store(
        tmp_path / "t.duckdb", estimation=(-500, -11), min_estimation_days=480
    )
    short = result.events.filter(pl.col("flags").str.contains("short_estimation"))
    assert short.height
    out = tmp_path / "reports"
    report.write_reports(con, out)
    for event in short.iter_rows(named=True):
        row = reaction(out, event["event_id"].rsplit(":", 1)[0]).filter(
            pl.col("event_id") == event["event_id"]
        )
        assert row["note"].to_list() == [
            f"short estimation: {event['estimation_days']} days, fewer than 480; "
            "left out of the cross-sectional tests"
        ]


def test_cli_report_writes_the_reports_and_warns_about_links(tmp_path):
    from typer.testing import CliRunner

    from tagger.cli import app

    con, _ = studied_store(tmp_path / "t.duckdb")
    con.close()
    out = tmp_path / "reports"
    (out / "stories").mkdir(parents=True)
    (out / report.story_folder(SEED)).symlink_to(tmp_path, target_is_directory=True)
    result = CliRunner().invoke(
        app, ["report", "--out", str(out), "--db", str(tmp_path / "t.duckdb"), "--max-charts", "0"]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote reports for 11 stories to {out}" in result.stdout
    assert result.stderr.startswith(f"warning: skipped {out / report.story_folder(SEED)}: a sym")
    assert not [p for p in (out / "stories").glob("*/index.html") if "<svg" in p.read_text()]
