"""Reports on a store built from the real fixture articles and the bundled real prices."""

import errno
import os
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.stats as st
from matplotlib.figure import Figure

import tagger
from tagger import prices, report, store, study
from tagger.errors import TaggerError
from tagger.events import events_from_articles

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
SEED = "seed_space_espionage"  # no title, no publication time
NO_COMPANIES = "bzcsv:8376a287e3ea4f17"  # names no company
BUFFETT = "fnspid:cb331155c27c5a96"  # names many listed companies, each of low relevance
TOL = {"rtol": 1e-9, "atol": 1e-12}


def tagged_store(path: Path):
    con = store.connect(path)
    batch = tagger.read_articles([FIXTURES / "news.jsonl", FIXTURES / f"{SEED}.txt"])
    tagger.store_articles(con, batch.articles)
    tagger.store_tags(con, *tagger.tag_articles(batch.articles))
    return con


def studied_store(path: Path, min_relevance: int = 50, **options):
    """A tagged store with the bundled prices its events need and a stored study."""
    con = tagged_store(path)
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


def reaction(out: Path, story_id: str) -> pl.DataFrame:
    return pl.read_csv(out / report.story_folder(story_id) / "reaction.csv", infer_schema=False)


def as_float(values) -> list:
    return [None if v in (None, "") else float(v) for v in values]


def measured_ids(result) -> list[str]:
    events = result.events.filter(~pl.col("flags").str.contains("no_prices"))
    return events["event_id"].to_list()


# Files --------------------------------------------------------------------------------------


def test_every_story_gets_a_folder_and_the_shared_files_exist(studied):
    con, result, out, written = studied
    stories = [row[0] for row in con.execute("SELECT article_id FROM articles").fetchall()]
    assert written.stories == len(stories) == 11
    for story_id in stories:
        assert (out / report.story_folder(story_id) / "reaction.csv").is_file()
    charted = {event_id.rsplit(":", 1)[0] for event_id in measured_ids(result)}
    assert charted  # the real prices measure some of the stories
    for story_id in stories:
        chart = out / report.story_folder(story_id) / "car.png"
        assert chart.is_file() == (story_id in charted)
    for name in ("summary.csv", "caar.csv", "index.html"):
        assert (out / name).is_file()
    on_disk = {p for p in out.rglob("*") if p.is_file()}
    assert set(written.files) == on_disk


def test_story_folders_are_safe_readable_and_unique():
    assert report.story_folder(SEED) == SEED
    ids = ["av:612b", "av_612b", "AV:612B", "av-612b", "../etc", "a/b", "..."]
    folders = [report.story_folder(i) for i in ids]
    assert len(set(folders)) == len(ids)
    for folder in folders:
        assert re.fullmatch(r"[a-z0-9._-]+", folder) and folder not in (".", "..")
    assert report.story_folder("av:612b").startswith("av-612b-")


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


def test_reports_before_any_study_list_the_companies(tmp_path):
    con = tagged_store(tmp_path / "t.duckdb")
    out = tmp_path / "reports"
    written = report.write_reports(con, out)
    assert written.stories == 11
    assert not list(out.rglob("car.png"))
    hood = reaction(out, "av:a938dc594dc7e423")
    assert hood["ticker"].to_list() == ["HOOD"]
    assert hood["note"].to_list() == ["not studied: no study run yet"]
    assert hood.columns == report.reaction_columns(study.DEFAULT_WINDOWS)
    assert pl.read_csv(out / "summary.csv").height == 0
    assert pl.read_csv(out / "caar.csv").height == 0
    assert "No study has been run yet" in (out / "index.html").read_text()


def test_a_private_company_is_measured_through_its_listed_parent(studied_all):
    _, _, out, _ = studied_all
    linkedin = reaction(out, BUFFETT).filter(pl.col("name").str.starts_with("LinkedIn"))
    assert linkedin["status"].to_list() == ["private"]
    assert linkedin["ticker"].to_list() == [None]
    assert linkedin["parent_ticker"].to_list() == ["MSFT"]
    assert linkedin["note"].to_list() == ["measured through its listed parent MSFT"]
    summary = pl.read_csv(out / "summary.csv").filter(pl.col("name").str.starts_with("LinkedIn"))
    assert summary["ticker"].to_list() == ["MSFT"]


def test_only_the_chosen_stories(studied, tmp_path):
    con, _, _, _ = studied
    story = "av:a938dc594dc7e423"
    written = report.write_reports(con, tmp_path, article_ids=[story])
    assert written.stories == 1
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [report.story_folder(story)]
    assert pl.read_csv(tmp_path / "summary.csv")["story_id"].to_list() == [story]


# summary.csv and caar.csv ---------------------------------------------------------------------


def test_summary_has_a_row_per_measured_event(studied):
    _, result, out, _ = studied
    summary = pl.read_csv(out / "summary.csv")
    assert sorted(summary["event_id"]) == sorted(measured_ids(result))
    for row in summary.iter_rows(named=True):
        expected = result.events.filter(pl.col("event_id") == row["event_id"]).row(0, named=True)
        for window in result.settings.windows:
            for stat in ("car", "t", "p"):
                column = f"{stat}_{study.window_suffix(window)}"
                assert row[column] == expected[column]


def test_caar_holds_the_stored_study_then_relevance_buckets(studied_all):
    con, result, out, _ = studied_all
    caar = pl.read_csv(out / "caar.csv")
    stored = caar.filter(pl.col("relevance") == "all").drop("relevance")
    assert stored.columns == result.caar.columns
    for column in result.caar.columns:
        assert stored[column].to_list() == result.caar[column].to_list(), column

    # Each bucket again from the per-event numbers (t = CAR / sd(CAR) is the standardised CAR).
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
    buckets = events.with_columns(
        pl.when(pl.col("relevance") >= 90)
        .then(pl.lit("90-100"))
        .when(pl.col("relevance") >= 70)
        .then(pl.lit("70-89"))
        .when(pl.col("relevance") >= 50)
        .then(pl.lit("50-69"))
        .otherwise(pl.lit("0-49"))
        .alias("bucket")
    )
    found = caar.filter(pl.col("relevance") != "all")
    assert set(found["relevance"]) == set(buckets["bucket"])
    for (bucket,), group in buckets.partition_by("bucket", as_dict=True).items():
        for window in result.settings.windows:
            suffix = study.window_suffix(window)
            row = found.filter(
                (pl.col("relevance") == bucket)
                & (pl.col("event_window") == study.window_label(window))
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


# Charts ---------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_charts_are_pngs_of_the_set_size(studied_all):
    _, _, _, written = studied_all
    charts = [p for p in written.files if p.name == "car.png"]
    assert charts
    width, height = (round(inches * report.CHART_DPI) for inches in report.CHART_SIZE)
    for chart in charts:
        assert png_size(chart.read_bytes()) == (width, height)


def test_chart_draws_one_line_per_measured_company(studied_all):
    con, _, _, _ = studied_all
    table = report.reaction_table(con, [BUFFETT], 0, study.DEFAULT_WINDOWS)
    paths = report.car_path_table(con, table)
    measured = table.filter(pl.col("measured"))
    assert measured.height > 5
    ax = report.plot_car_paths(paths, Figure().add_subplot(), title="A headline")
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert len(lines) == measured.height
    assert [line.get_label() for line in lines] == [
        report.company_label(*row)
        for row in measured.select("measured_ticker", "name", "status").rows()
    ]
    assert "LinkedIn Corporation via MSFT" in [line.get_label() for line in lines]
    first = paths.filter(pl.col("event_id") == measured["event_id"][0])
    np.testing.assert_allclose(lines[0].get_xdata(), list(range(-5, 6)))
    np.testing.assert_allclose(lines[0].get_ydata(), first["car"].to_numpy() * 100, **TOL)
    assert ax.get_title() == "A headline"
    assert "trading days relative to day 0" in ax.get_xlabel()
    assert "%" in ax.get_ylabel()


def test_chart_title_wraps_and_shortens_the_headline():
    title = report.chart_title("word " * 60)
    assert len(title.splitlines()) == 2 and title.endswith(" …")
    assert all(len(line) <= 75 for line in title.splitlines())
    assert report.chart_title("Short headline") == "Short headline"


def test_car_path_is_the_stored_path_with_its_band(studied):
    con, result, _, _ = studied
    table = report.reaction_table(con, None, 50, result.settings.windows)
    paths = report.car_path_table(con, table).sort("event_id", "day")
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
    paths = report.car_path_table(con, table).sort("event_id", "day")
    expected = default.path.sort("event_id", "day")
    assert paths["event_id"].to_list() == expected["event_id"].to_list()
    np.testing.assert_allclose(paths["car"], expected["car"], **TOL)
    np.testing.assert_allclose(paths["car_sd"] ** 2, expected["car_var"], **TOL)


# index.html -----------------------------------------------------------------------------------


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.rows = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [attrs[k] for k in ("href", "src") if k in attrs]
        self.rows += tag == "tr"


def test_index_links_resolve_to_the_report_files(studied):
    _, result, out, _ = studied
    page = (out / "index.html").read_text(encoding="utf-8")
    parser = Links()
    parser.feed(page)
    assert parser.links
    for link in parser.links:
        assert not link.startswith(("/", "http")), link
        assert (out / link).is_file(), link
    reactions = [link for link in parser.links if link.endswith("reaction.csv")]
    assert len(reactions) == 11
    charts = {link for link in parser.links if link.endswith("car.png")}
    assert len(charts) == len({e.rsplit(":", 1)[0] for e in measured_ids(result)})
    assert "Buffett Bot&#x27;s Best Bets" in page  # text is escaped
    assert "no companies found in the story" in page


# Re-runs and faults ---------------------------------------------------------------------------


def snapshot(out: Path) -> dict[Path, bytes]:
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_rerun_writes_identical_files_and_leaves_them_untouched(studied):
    con, _, out, _ = studied
    before = snapshot(out)
    mtimes = {p: (out / p).stat().st_mtime_ns for p in before}
    report.write_reports(con, out)
    assert snapshot(out) == before
    assert {p: (out / p).stat().st_mtime_ns for p in before} == mtimes


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

    monkeypatch.setattr(report.os, "replace", disk_full_on_the_fifth_file)
    with pytest.raises(TaggerError) as failure:
        report.write_reports(con, out)
    message = str(failure.value)
    assert message == (
        f"cannot write {calls[4]}: No space left on device; "
        f"free some space and run `tagger report --out {out}` again"
    )
    assert "\n" not in message
    written = snapshot(out)
    assert set(written) == {p.relative_to(out) for p in calls[:4]}
    assert all(written[p] == (complete / p).read_bytes() for p in written)  # whole files only
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]

    monkeypatch.setattr(report.os, "replace", replace)
    report.write_reports(con, out)
    assert snapshot(out) == snapshot(complete)


def test_an_unwritable_folder_is_explained(studied, tmp_path):
    con, _, _, _ = studied
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(TaggerError, match=r"^cannot write .*reaction\.csv: .*run `tagger report"):
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
