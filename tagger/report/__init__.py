"""Reports of the stored study: a page and a reaction table per story, an index of the stories
to sort, filter and search, the event study across stories, and the CSV files behind them.

Reads the store only (through `queries/report/*.sql`, see `tables`), so reports can be rewritten
from the database alone. Stories are written in chunks of CHUNK_STORIES (memory stays bounded
whatever their number); the newest `max_charts` stories get a CAR chart on their page. Files are
written whole, only when their bytes change, never through a symbolic link, and a re-run removes
what the previous run wrote and this one did not (`files`: out/manifest.txt); files it did not
write are never touched.

Layout of `out/`:

    index.html                     the stories: sortable, filterable, searchable; opens from disk
    study.html                     the event study across stories: CAAR charts and tests
    summary.csv                    one row per measured event, newest story first (SUMMARY)
    caar.csv                       CAAR and its tests per window: all events, then by relevance
    stories/<story>/index.html     the story: reaction table, CAR chart, text with its mentions
    stories/<story>/reaction.csv   one row per company the story names (REACTION_COLUMNS)
    data/stories-NNNN.js           the index's story data, CHUNK_STORIES stories a file
    assets/                        the pages' style sheet and script
    manifest.txt                   the files above, as this run wrote them

<story> is the article id made safe for file names (`story_folder`); stories live under
stories/ so that no story id can take the name of a report file.

reaction.csv columns (<w> is each event window of the study, e.g. m1_1 for days -1..+1):

    story_id            the article id
    headline            the title, else the first words of the body
    published_at        publication time in UTC (ISO 8601), else its date; empty when unknown
    ticker              the company's primary ticker (empty for a private company)
    name                the company as the story names it
    status              listed | private | unresolved
    role                subject | mentioned | source | boilerplate
    relevance           0..100: how much the story is about the company
    parent_ticker       listed parent of a private subsidiary or brand, where known
    reason              why the tagger resolved it so (brand of, subsidiary of, private: ...)
    event_id            the study's event: article_id:entity_idx (the primary listing, or the
                        listed parent), article_id:entity_idx:us (a non-US company's US line)
    measured_ticker     the listing whose prices were measured (a parent's for a private one)
    currency            that listing's trading currency (returns are in it)
    event_date          day 0: the trading session the story could first move
    rule                how day 0 was found: pre_open, in_session, after_close, closed_day, ...
    market              market proxy of the model (e.g. SPY)
    benchmark           second benchmark: the company's sector ETF (empty when it is the company)
    alpha, beta         market-model estimates over the estimation window
    estimation_days     valid days in the estimation window
    ar_0                abnormal return on day 0
    car_<w>             cumulative abnormal return over window w
    t_<w>, p_<w>        its t statistic and two-sided p-value
    abnormal_volume_0   day-0 ln(1 + volume) as a z-score against the estimation window
    return_0            the stock's return on day 0
    market_return_0     the market proxy's return on day 0
    benchmark_return_0  the sector ETF's return on day 0
    flags               ;-separated: no_prices, short_estimation, thin_trading, confounded,
                        gap_in_window, date_only (docs/conventions.md)
    note                in words, why a row has no numbers ("not studied: no publication time",
                        "not studied: SPY is the market proxy; ...") or what to keep in mind
                        ("measured through its listed parent MSFT")

Returns are fractions (0.012 = 1.2%). A story that names no company gets one row saying so.
Text cells that a spreadsheet would run as a formula are quoted (`tagger.csvfile`).

caar.csv: the `study_caar` columns after `relevance` ("all", or a bucket 90-100, 70-89, 50-69,
0-49 of the events from tagged articles). Buckets have the t, Patell, BMP, sign and generalized
sign tests; kp_t and rank_z need the whole sample's correlation and day ranks, so they are empty.
"""

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

from tagger import csvfile, sql, study
from tagger.report import charts, pages, tables
from tagger.report.files import ReportFolder
from tagger.report.tables import reaction_columns, reaction_table

__all__ = ["ReportFiles", "reaction_columns", "reaction_table", "story_folder", "write_reports"]

CHUNK_STORIES = 5_000  # stories read, written and held in memory at a time
MAX_CHARTS = 1_000  # the newest stories that get a CAR chart on their page
INDEX_WINDOW = (-1, 1)  # the CAR the index and the study page lead with, when the study has it
ASSETS = ("report.css", "report.js")
_HASHED = re.compile(r"-[0-9a-f]{8}$")  # how story_folder ends a name it made safe
_CSV_RECORD = re.compile(r'[^"\n]*(?:"[^"]*"[^"\n]*)*\n')  # one CSV record, quoted newlines inside


@dataclass(frozen=True)
class ReportFiles:
    """What `write_reports` did: the folder, how many stories (and of them with a chart), how
    many files the folder now holds from this run, how many it changed and how many files of
    an earlier run it removed, and one line per thing it skipped (a symbolic link in the way)."""

    folder: Path
    stories: int
    charts: int
    files: int
    changed: int
    removed: int
    problems: tuple[str, ...]

    @property
    def index(self) -> Path:
        return self.folder / "index.html"


def write_reports(
    con: duckdb.DuckDBPyConnection,
    out: str | Path,
    *,
    article_ids: Sequence[str] | None = None,
    min_relevance: int = 50,
    max_charts: int = MAX_CHARTS,
) -> ReportFiles:
    """Write the reports of the stored study for `article_ids` (default: every article) to `out`.

    `min_relevance` is the relevance the study's events needed (as given to
    `tagger.events.events_from_articles`); the notes use it to say why a company was left out.
    The newest `max_charts` stories get a CAR chart (0 for none). Raises TaggerError with one
    line when a file cannot be written; the files written before it stay, and running again
    completes the reports.
    """
    out = Path(out)
    settings = sql.frame(con, "report/settings")
    windows = study.parse_windows(settings["windows"][0]) if settings.height else None
    windows = windows or study.DEFAULT_WINDOWS
    order = tables.story_order(con, article_ids)
    # the tables across stories first: their queries need the most memory, before the stories
    # fill DuckDB's cache
    caar = tables.caar_table(con)
    buckets = _caar_buckets(caar, tables.caar_paths(con), windows)
    folder = ReportFolder(out)
    try:
        for name in ASSETS:
            folder.write(
                f"assets/{name}", (resources.files(__name__) / "assets" / name).read_bytes()
            )
        totals = _Totals()
        data_files = []
        with folder.stream("summary.csv") as summary:
            for number, start in enumerate(range(0, max(len(order), 1), CHUNK_STORIES), 1):
                chunk = order[start : start + CHUNK_STORIES]
                summary_rows, entries = _write_stories(
                    con,
                    folder,
                    order,
                    start,
                    chunk,
                    windows=windows,
                    min_relevance=min_relevance,
                    charts_left=max(max_charts - start, 0),
                    totals=totals,
                )
                summary.write(csvfile.csv_bytes(summary_rows, include_header=number == 1))
                data_files.append(f"data/stories-{number:04d}.js")
                folder.write(data_files[-1], pages.data_script(entries))
        folder.write("caar.csv", csvfile.csv_bytes(caar))
        lead = INDEX_WINDOW if INDEX_WINDOW in windows else windows[0]
        common = {
            "root": "",
            "settings": _settings_items(settings),
            "windows": windows,
            "lead_window": lead,
            "lead_caar": _lead_caar(caar, lead),
            "min_events": pages.MIN_EVENTS,
        }
        folder.write(
            "study.html",
            pages.render(
                "study.html.j2",
                **common,
                page="study",
                buckets=buckets,
                kp_mean_correlation=settings["kp_mean_correlation"][0] if settings.height else None,
            ),
        )
        folder.write(
            "index.html",
            pages.render(
                "index.html.j2",
                **common,
                page="index",
                totals=totals,
                data_files=data_files,
                window_labels=json.dumps([study.window_label(w) for w in windows]),
            ),
        )
        folder.finish()
    finally:
        folder.close()
    return ReportFiles(
        folder=out,
        stories=len(order),
        charts=totals.charts,
        files=folder.written + 1,  # and the manifest
        changed=folder.changed,
        removed=folder.removed,
        problems=tuple(folder.problems),
    )


def story_folder(story_id: str) -> str:
    """The folder of a story, relative to the report folder: stories/ and the article id when it
    is already safe (lower-case letters, digits, . _ -, not ending in - and 8 hex digits), else a
    safe form of it plus - and 8 hex digits of its hash, so that names stay unique.

    >>> story_folder("seed_space_espionage"), story_folder("av:612b")
    ('stories/seed_space_espionage', 'stories/av-612b-64c4be0b')
    """
    safe = re.sub(r"[^a-z0-9._-]+", "-", story_id.lower()).strip(".-")[:80] or "story"
    if safe != story_id or _HASHED.search(safe):
        safe = f"{safe}-{hashlib.sha256(story_id.encode()).hexdigest()[:8]}"
    return f"stories/{safe}"


# -- stories -----------------------------------------------------------------------------------


@dataclass
class _Totals:
    """Counts across the chunks, for the index's header."""

    stories: int = 0
    companies: int = 0
    measured: int = 0
    charts: int = 0
    first: str | None = None
    last: str | None = None

    def add(self, rows: Sequence[dict], charted: bool) -> None:
        published = rows[0]["published_at"]
        self.stories += 1
        self.companies += sum(row["name"] is not None for row in rows)
        self.measured += sum(row["measured"] for row in rows)
        self.charts += charted
        if published:
            self.first = min(self.first or published, published)
            self.last = max(self.last or published, published)


def _write_stories(
    con: duckdb.DuckDBPyConnection,
    folder: ReportFolder,
    order: Sequence[str],
    start: int,
    chunk: Sequence[str],
    *,
    windows: Sequence[tuple[int, int]],
    min_relevance: int,
    charts_left: int,
    totals: _Totals,
) -> tuple[pl.DataFrame, list[dict]]:
    """Write the page and reaction.csv of each story of `chunk` (positions start.. of `order`);
    returns the chunk's summary.csv rows and index entries, in index order."""
    position = pl.DataFrame(
        {"story_id": list(chunk)}, schema={"story_id": pl.String}
    ).with_row_index("position")
    reactions = (
        tables.reaction_table(con, chunk, min_relevance, windows)
        .join(position, on="story_id")
        .sort("position", "entity_idx", "event_id", nulls_last=True)
    )
    charted = reactions.filter(pl.col("position") < charts_left)
    paths: dict[str, list[dict]] = {}
    for row in tables.car_path_table(con, charted).iter_rows(named=True):
        paths.setdefault(row["story_id"], []).append(row)
    texts = tables.story_texts(con, chunk)
    mentions = tables.story_mentions(con, chunk)
    columns = reaction_columns(windows)
    csv_header = csvfile.csv_bytes(reactions.select(columns).clear()).decode()
    csv_rows = iter(
        _CSV_RECORD.findall(
            csvfile.csv_bytes(reactions.select(columns), include_header=False).decode()
        )
    )
    rows_by_story: dict[str, list[dict]] = {}
    for row in reactions.iter_rows(named=True):
        rows_by_story.setdefault(row["story_id"], []).append(row)
    entries = []
    for offset, story_id in enumerate(chunk):
        rows = rows_by_story[story_id]
        here = story_folder(story_id)
        table = csv_header + "".join(next(csv_rows) for _ in rows)
        folder.write(f"{here}/reaction.csv", table.encode())
        text = texts[story_id]
        story_paths = paths.get(story_id)
        index = start + offset
        folder.write(
            f"{here}/index.html",
            _story_page(
                rows,
                text,
                mentions.get(story_id, []),
                story_paths,
                windows,
                newer=story_folder(order[index - 1]) if index > 0 else None,
                older=story_folder(order[index + 1]) if index + 1 < len(order) else None,
            ),
        )
        totals.add(rows, story_paths is not None)
        entries.append(pages.index_entry(here, rows, text, windows))
    return tables.summary_table(reactions, windows), entries


def _story_page(
    rows: list[dict],
    text: dict,
    mentions: list[dict],
    paths: list[dict] | None,
    windows: Sequence[tuple[int, int]],
    *,
    newer: str | None,
    older: str | None,
) -> bytes:
    """stories/<story>/index.html: the story's companies, reaction table and chart, and its text
    with every mention highlighted by the role of its company."""
    measured = [row for row in rows if row["measured"]]
    colors = {
        row["event_id"]: charts.PALETTE[i % len(charts.PALETTE)] for i, row in enumerate(measured)
    }
    labels = {
        row["event_id"]: pages.company_label(row["measured_ticker"], row["name"], row["status"])
        for row in measured
    }
    chart = None if paths is None else charts.car_chart(paths, labels, colors)
    volumes = [row for row in measured if row["abnormal_volume_0"] is not None]
    volume = (
        charts.volume_chart(
            [labels[row["event_id"]] for row in volumes],
            [colors[row["event_id"]] for row in volumes],
            [row["abnormal_volume_0"] for row in volumes],
        )
        if paths is not None and volumes
        else None
    )
    entities = {row["entity_idx"]: row for row in rows if row["entity_idx"] is not None}
    days0 = {row["event_date"] for row in measured}
    by_field: dict[str, list[dict]] = {"title": [], "body": []}
    for mention in mentions:
        by_field.setdefault(mention["field"], []).append(mention)
    first = rows[0]
    return pages.render(
        "story.html.j2",
        page="story",
        root="../../",
        story=first,
        url=pages.safe_url(text["url"]),
        publisher=text["publisher"],
        rows=rows,
        colors=colors,
        labels=labels,
        chart=chart,
        volume=volume,
        suffixes=[study.window_suffix(w) for w in windows],
        windows=windows,
        day0=days0.pop() if len(days0) == 1 else None,
        entities=entities,
        title=pages.highlighted(text["title"] or "", by_field["title"]),
        body=pages.paragraphs(pages.highlighted(text["body"] or "", by_field["body"])),
        newer=newer and f"../../{newer}/index.html",
        older=older and f"../../{older}/index.html",
        why_not_studied=pages.why_not_studied,
    )


# -- the study across stories ------------------------------------------------------------------


def _settings_items(settings: pl.DataFrame) -> dict[str, str]:
    """The study's settings in words, for the pages; empty before any study."""
    if not settings.height:
        return {}
    s = settings.row(0, named=True)
    return {
        "model": f"{s['model']} model ({s['returns']} returns)",
        "estimation window": f"days {s['estimation_start']} to {s['estimation_end']} "
        f"(at least {s['min_estimation_days']} valid days)",
        "event windows": ", ".join(
            study.window_label(w) for w in study.parse_windows(s["windows"])
        ),
        "market proxy": s["market"],
        "second benchmark": s["benchmark"] or "each company's sector ETF",
        "events": f"{s['events']:,}",
        "run at": s["run_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _lead_caar(caar: pl.DataFrame, window: tuple[int, int]) -> dict | None:
    """The stored CAAR row (all events) of `window`, or None."""
    rows = caar.filter(
        (pl.col("relevance") == "all") & (pl.col("event_window") == study.window_label(window))
    )
    return rows.row(0, named=True) if rows.height else None


def _caar_buckets(
    caar: pl.DataFrame, paths: pl.DataFrame, windows: Sequence[tuple[int, int]]
) -> list[dict]:
    """Per relevance bucket ("all" first): its CAAR chart and its rows of caar.csv."""
    names = [b for b, _, _ in tables.RELEVANCE_BUCKETS]
    drawn = charts.caar_charts(paths, names)
    return [
        {
            "name": name,
            "chart": drawn.get(name),
            "rows": caar.filter(pl.col("relevance") == name).to_dicts(),
            "events": int(paths.filter(pl.col("bucket") == name)["n"].max() or 0),
        }
        for name in ("all", *names)
        if name in caar["relevance"] or name in drawn
    ]
