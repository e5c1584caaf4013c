"""Reports of the stored study: per story a reaction table and a CAR chart, across stories a
summary, the CAAR tables and a static index page.

Reads the store only (articles, entities and the stored study, through `queries/report/*.sql`),
so reports can be rewritten from the database alone; computes no statistics beyond grouping the
stored per-event CARs by relevance. Charts are functions of frames that take an axis. Each file is
written whole or not at all (a temporary file, then a rename), so a failed run keeps the files it
finished and a re-run rewrites the rest; unchanged files are left as they are.

Layout of `out/`:

    <story>/reaction.csv   one row per company the story names (REACTION_COLUMNS)
    <story>/car.png        CAR from day -5 to +5 of each measured company, with a 95% band
    summary.csv            one row per measured event, across the stories (SUMMARY_COLUMNS)
    caar.csv               CAAR and its tests per window: all events, then by relevance bucket
    index.html             the stories with their CARs and charts; opens from disk

<story> is the article id made safe for file names (`story_folder`).

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
    event_id            the study's event: article_id:entity_idx
    event_date          day 0: the trading session the story could first move
    rule                how day 0 was found: pre_open, in_session, after_close, closed_day, ...
    market              market proxy of the model (e.g. SPY)
    benchmark           second benchmark: the company's sector ETF
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
    note                in words, why a row has no numbers ("not studied: no publication time")
                        or what to keep in mind ("measured through its listed parent MSFT")

Returns are fractions (0.012 = 1.2%). A story that names no company gets one row saying so.

caar.csv: the `study_caar` columns after `relevance` ("all", or a bucket 0-49, 50-69, 70-89,
90-100 of the events from tagged articles). Buckets have the t, Patell, BMP, sign and generalized
sign tests; kp_t and rank_z need the whole sample's correlation and day ranks, so they are empty.
"""

import contextlib
import errno
import hashlib
import html
import os
import re
import shlex
import textwrap
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from io import BytesIO
from pathlib import Path

import duckdb
import polars as pl

from tagger import sql, study
from tagger.errors import TaggerError

STORY_COLUMNS = ("story_id", "headline", "published_at")
ENTITY_COLUMNS = ("ticker", "name", "status", "role", "relevance", "parent_ticker", "reason")
EVENT_COLUMNS = (
    "event_id",
    "event_date",
    "rule",
    "market",
    "benchmark",
    "alpha",
    "beta",
    "estimation_days",
    "ar_0",
)
DAY0_COLUMNS = ("abnormal_volume_0", "return_0", "market_return_0", "benchmark_return_0")
INDEX_WINDOW = (-1, 1)  # the CAR shown on the index page, when the study has that window
CHART_SIZE = (8.0, 4.5)  # inches
CHART_DPI = 100
SIGNIFICANCE = ((0.01, "***"), (0.05, "**"), (0.10, "*"))


@dataclass(frozen=True)
class ReportFiles:
    """What `write_reports` produced: the folder, the number of stories and every report file."""

    folder: Path
    stories: int
    files: tuple[Path, ...]


def write_reports(
    con: duckdb.DuckDBPyConnection,
    out: str | Path,
    *,
    article_ids: Sequence[str] | None = None,
    min_relevance: int = 50,
) -> ReportFiles:
    """Write the reports of the stored study for `article_ids` (default: every article) to `out`.

    `min_relevance` is the relevance the study's events needed (as given to
    `tagger.events.events_from_articles`); the notes use it to say why a company was left out.
    Raises TaggerError with one line when a file cannot be written; the files written before
    it stay, and running again completes the reports.
    """
    out = Path(out)
    settings = sql.frame(con, "report/settings")
    windows = study.parse_windows(settings["windows"][0]) if settings.height else None
    windows = windows or study.DEFAULT_WINDOWS
    reactions = reaction_table(con, article_ids, min_relevance, windows)
    paths = car_path_table(con, reactions)
    charts = {key[0]: path for key, path in paths.partition_by("story_id", as_dict=True).items()}
    files = []
    for (story_id,), rows in reactions.partition_by("story_id", as_dict=True).items():
        folder = out / story_folder(story_id)
        table = rows.select(reaction_columns(windows))
        files.append(_write(folder / "reaction.csv", _csv(table), out))
        if story_id in charts:
            png = car_chart_png(charts[story_id], rows["headline"][0])
            files.append(_write(folder / "car.png", png, out))
        else:
            _remove_stale(folder / "car.png", out)
    caar = caar_table(con)
    files.append(_write(out / "summary.csv", _csv(summary_table(reactions, windows)), out))
    files.append(_write(out / "caar.csv", _csv(caar), out))
    page = index_html(reactions, set(charts), settings, caar, _index_window(windows), out)
    files.append(_write(out / "index.html", page.encode(), out))
    return ReportFiles(out, reactions["story_id"].n_unique(), tuple(files))


# -- tables ------------------------------------------------------------------------------------


def reaction_columns(windows: Sequence[tuple[int, int]]) -> list[str]:
    """The columns of reaction.csv, in order, for a study with these event windows."""
    per_window = [f"{stat}_{study.window_suffix(w)}" for w in windows for stat in ("car", "t", "p")]
    return [
        *STORY_COLUMNS,
        *ENTITY_COLUMNS,
        *EVENT_COLUMNS,
        *per_window,
        *DAY0_COLUMNS,
        "flags",
        "note",
    ]


def reaction_table(
    con: duckdb.DuckDBPyConnection,
    article_ids: Sequence[str] | None,
    min_relevance: int,
    windows: Sequence[tuple[int, int]],
) -> pl.DataFrame:
    """One row per (story, company), from `queries/report/reactions.sql`, with the CAR, t and p
    of each window as columns."""
    ids = None if article_ids is None else list(article_ids)
    rows = sql.frame(con, "report/reactions", article_ids=ids, min_relevance=min_relevance)
    cars = sql.frame(
        con, "report/cars", event_ids=rows.filter(pl.col("measured"))["event_id"].to_list()
    )
    return rows.join(cars_by_window(cars, windows), on="event_id", how="left")


def cars_by_window(cars: pl.DataFrame, windows: Sequence[tuple[int, int]]) -> pl.DataFrame:
    """Long CARs (event_id, window_start, window_end, car, t, p) -> one row per event with
    car_<w>, t_<w>, p_<w> for each window in order."""
    wide = cars.select("event_id").unique(maintain_order=True)
    for start, end in windows:
        suffix = study.window_suffix((start, end))
        one = cars.filter((pl.col("window_start") == start) & (pl.col("window_end") == end))
        wide = wide.join(
            one.select(
                "event_id", *(pl.col(stat).alias(f"{stat}_{suffix}") for stat in ("car", "t", "p"))
            ),
            on="event_id",
            how="left",
        )
    return wide


def car_path_table(con: duckdb.DuckDBPyConnection, reactions: pl.DataFrame) -> pl.DataFrame:
    """The CAR paths (`queries/report/car_paths.sql`) of the measured events of `reactions`, with
    their story_id, in the order of the reaction table."""
    measured = reactions.filter(pl.col("measured")).select("story_id", "entity_idx", "event_id")
    paths = sql.frame(con, "report/car_paths", event_ids=measured["event_id"].to_list())
    return measured.join(paths, on="event_id").sort("story_id", "entity_idx", "day")


def summary_table(reactions: pl.DataFrame, windows: Sequence[tuple[int, int]]) -> pl.DataFrame:
    """summary.csv: one row per measured event (ticker is the measured one: a private company's
    listed parent), ordered by publication time."""
    per_window = [f"{stat}_{study.window_suffix(w)}" for w in windows for stat in ("car", "t", "p")]
    return (
        reactions.filter(pl.col("measured"))
        .sort("published_at", "story_id", "entity_idx", nulls_last=True)
        .select(
            *STORY_COLUMNS,
            pl.col("measured_ticker").alias("ticker"),
            "name",
            "relevance",
            "event_id",
            "event_date",
            *per_window,
            "flags",
        )
    )


def caar_table(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """caar.csv: the stored CAAR rows (relevance "all"), then the rows by relevance bucket."""
    stored = sql.frame(con, "report/study_caar")
    buckets = study.with_p_values(sql.frame(con, "report/caar_by_relevance"))
    return pl.concat([stored, buckets.select(stored.columns)], how="vertical_relaxed")


# -- charts ------------------------------------------------------------------------------------


def plot_car_paths(paths: pl.DataFrame, ax, *, title: str = ""):
    """Draw each event's CAR path (paths: event_id, ticker, company, status, event_date, day, car,
    car_low, car_high; returns as fractions) on `ax` in percent: a line and a shaded 95% band per
    event, day 0 marked. Returns `ax`."""
    events = paths.partition_by("event_id", as_dict=True)
    band_alpha = 0.15 if len(events) <= 3 else 0.07  # many overlapping bands stay readable
    for (event_id,), path in events.items():
        path = path.sort("day")
        day = path["day"].to_numpy()
        color = ax.plot(
            day,
            path["car"].to_numpy() * 100,
            marker="o",
            markersize=3,
            label=company_label(path["ticker"][0], path["company"][0], path["status"][0]),
            gid=event_id,
        )[0].get_color()
        ax.fill_between(
            day,
            path["car_low"].to_numpy() * 100,
            path["car_high"].to_numpy() * 100,
            color=color,
            alpha=band_alpha,
            linewidth=0,
        )
    ax.axhline(0, color="0.6", linewidth=0.8)
    ax.axvline(0, color="0.3", linewidth=1, linestyle="--")
    ax.set_xticks(range(-5, 6))
    ax.set_xlim(-5.3, 5.3)
    dates = paths["event_date"].drop_nulls().unique()
    day0 = f" = {dates[0]}" if len(dates) == 1 else ""
    ax.set_xlabel(f"trading days relative to day 0{day0} (the session the story could first move)")
    ax.set_ylabel("cumulative abnormal return (%)")
    ax.set_title(chart_title(title), fontsize=11, parse_math=False)
    ax.grid(alpha=0.3)
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize=8,
        title="95% band shaded",
        title_fontsize=8,
    )
    return ax


def chart_title(headline: str) -> str:
    """The headline on at most two lines of 75 characters, shortened with … beyond that."""
    lines = textwrap.wrap(headline, 75)
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), 75, placeholder=" …")]
    return "\n".join(lines)


def car_chart_png(paths: pl.DataFrame, headline: str) -> bytes:
    """car.png: `plot_car_paths` on a figure of CHART_SIZE at CHART_DPI, as PNG bytes."""
    from matplotlib.figure import Figure  # Agg canvas; imported here to keep the CLI start fast

    figure = Figure(figsize=CHART_SIZE, dpi=CHART_DPI)
    # fixed margins (a layout engine costs a third of the time): the legend sits on the right
    figure.subplots_adjust(left=0.08, right=0.80, top=0.86, bottom=0.12)
    plot_car_paths(paths, figure.add_subplot(), title=headline)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()


def company_label(ticker: str, name: str, status: str) -> str:
    """How charts and the index name a measured company: its ticker, or for a private company
    measured through its listed parent, "LinkedIn via MSFT"."""
    return f"{name} via {ticker}" if status == "private" else ticker


# -- index page --------------------------------------------------------------------------------


def index_html(
    reactions: pl.DataFrame,
    charts: set[str],
    settings: pl.DataFrame,
    caar: pl.DataFrame,
    window: tuple[int, int],
    out: Path,
) -> str:
    """index.html: the study settings, the CAAR table and one row per story (newest first) with
    its measured tickers and their CAR over `window`, and links to its reaction table and, for
    the stories in `charts`, its chart (relative paths, so the page opens from disk)."""
    stories = reactions.sort(
        "published_at", "story_id", "entity_idx", descending=[True, False, False], nulls_last=True
    )
    rows = [
        _story_row(story, window, story_id in charts)
        for (story_id,), story in stories.partition_by("story_id", as_dict=True).items()
    ]
    return _PAGE.format(
        title=html.escape(f"market-tagger reports: {out.name or out}"),
        settings=_settings_html(settings),
        caar=_caar_html(caar) if caar.height else "",
        window=html.escape(study.window_label(window)),
        stories="\n".join(rows),
    )


def _story_row(story: pl.DataFrame, window: tuple[int, int], has_chart: bool) -> str:
    first = story.row(0, named=True)
    href = urllib.parse.quote(story_folder(first["story_id"]))
    suffix = study.window_suffix(window)
    tickers = [
        f"<li>{html.escape(company_label(row['measured_ticker'], row['name'], row['status']))} "
        f"{_car_text(row[f'car_{suffix}'])}"
        f"{_stars(row[f'p_{suffix}'])}</li>"
        for row in story.filter(pl.col("measured")).iter_rows(named=True)
    ]
    if not tickers:  # the note of its most relevant company says why
        tickers = [f'<li class="note">{html.escape(first["note"] or "")}</li>']
    chart = (
        f'<a href="{href}/car.png"><img src="{href}/car.png" alt="CAR chart" width="320"></a>'
        if has_chart
        else ""
    )
    return (
        "<tr>"
        f"<td>{html.escape(first['published_at'] or 'no date')}</td>"
        f"<td>{html.escape(first['headline'])}<br>"
        f'<a class="small" href="{href}/reaction.csv">reaction.csv</a></td>'
        f"<td><ul>{''.join(tickers)}</ul></td>"
        f"<td>{chart}</td>"
        "</tr>"
    )


def _settings_html(settings: pl.DataFrame) -> str:
    if not settings.height:
        return "<p>No study has been run yet: the tables list the companies only.</p>"
    s = settings.row(0, named=True)
    items = {
        "model": f"{s['model']} ({s['returns']} returns)",
        "estimation window": f"days {s['estimation_start']} to {s['estimation_end']} "
        f"(at least {s['min_estimation_days']} valid days)",
        "event windows": s["windows"],
        "market": s["market"],
        "second benchmark": s["benchmark"] or "each company's sector ETF",
        "events": s["events"],
        "run at": s["run_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in items.items()
    )
    return f"<table class='settings'>{cells}</table>"


def _caar_html(caar: pl.DataFrame) -> str:
    head = "".join(
        f"<th>{h}</th>"
        for h in ("relevance", "window", "N", "CAAR", "t", "p", "BMP t", "p", "sign z", "p")
    )
    body = []
    for row in caar.iter_rows(named=True):
        cells = [
            html.escape(row["relevance"]),
            html.escape(row["event_window"]),
            str(row["n"]),
            _car_text(row["caar"]),
            *(
                _number(row[k])
                for k in ("t_csect", "p_csect", "bmp_t", "p_bmp", "sign_z", "p_sign")
            ),
        ]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        "<h2>CAAR across events</h2>"
        f"<table class='caar'><tr>{head}</tr>{''.join(body)}</table>"
        "<p class='small'>With the Patell, Kolari-Pynnönen, generalized sign and rank tests in "
        "<a href='caar.csv'>caar.csv</a>; every measured event in "
        "<a href='summary.csv'>summary.csv</a>.</p>"
    )


def _car_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.2f}%"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _stars(p: float | None) -> str:
    return next((mark for level, mark in SIGNIFICANCE if p is not None and p < level), "")


def _index_window(windows: Sequence[tuple[int, int]]) -> tuple[int, int]:
    return INDEX_WINDOW if INDEX_WINDOW in windows else windows[0]


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.3em 0.6em; text-align: left;
         vertical-align: top; }}
table.caar td {{ text-align: right; }}
ul {{ margin: 0; padding-left: 1em; }}
.note, .small {{ color: #666; font-size: 0.9em; }}
</style>
</head>
<body>
<h1>{title}</h1>
{settings}
{caar}
<h2>Stories</h2>
<p class="small">CAR over days {window} of each measured company;
* p &lt; 0.10, ** p &lt; 0.05, *** p &lt; 0.01 (two-sided t test of the event's CAR).</p>
<table class="stories">
<tr><th>published (UTC)</th><th>headline</th><th>CAR</th><th>chart</th></tr>
{stories}
</table>
</body>
</html>
"""


# -- files -------------------------------------------------------------------------------------


def story_folder(story_id: str) -> str:
    """A folder name for a story: the article id when it is already safe (lower-case letters,
    digits, . _ -), else a safe form of it plus 8 hex digits of its hash, so names stay unique."""
    safe = re.sub(r"[^a-z0-9._-]+", "-", story_id.lower()).strip(".-")[:80] or "story"
    if safe == story_id:
        return safe
    return f"{safe}-{hashlib.sha256(story_id.encode()).hexdigest()[:8]}"


def _csv(frame: pl.DataFrame) -> bytes:
    return frame.write_csv().encode()


def _write(path: Path, data: bytes, out: Path) -> Path:
    """Write `data` to `path` atomically (unless the file already holds exactly that)."""
    try:
        if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_bytes(data)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            raise
    except OSError as e:
        raise TaggerError(_cannot_write(path, e, out)) from None
    return path


def _remove_stale(path: Path, out: Path) -> None:
    """Remove a chart left by an earlier run for a story that now has none."""
    try:
        path.unlink(missing_ok=True)
    except OSError as e:
        raise TaggerError(_cannot_write(path, e, out)) from None


def _cannot_write(path: Path, error: OSError, out: Path) -> str:
    again = f"`tagger report --out {shlex.quote(str(out))}`"
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = f"free some space and run {again} again"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"make {out} writable, or write the reports elsewhere with `tagger report --out DIR`"
    else:
        fix = f"fix that and run {again} again"
    return f"cannot write {path}: {error.strerror or error}; {fix}"
