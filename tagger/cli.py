"""The `tagger` command line: a thin layer that parses options and calls the library.

Every command's help ends with examples. Problems the user can fix (tagger.errors) are printed
as one line on stderr with exit code 1, never as a traceback.
"""

import functools
import sys
from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tagger.errors import TaggerError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.splitlines()[0])
universe_app = typer.Typer(no_args_is_help=True, help="Build or refresh the company universe.")
prices_app = typer.Typer(no_args_is_help=True, help="Fetch or import daily prices.")
app.add_typer(universe_app, name="universe")
app.add_typer(prices_app, name="prices")

out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)
MAX_PROBLEMS = 20  # input problems printed before "... and N more"

DbOption = typer.Option(
    None, "--db", envvar="TAGGER_DB", help="DuckDB file (default ./tagger.duckdb)"
)
RefreshOption = typer.Option(
    False, help="Ask Yahoo Finance again for prices it had none for, or did not answer, today"
)


def command(group: typer.Typer, name: str | None = None):
    """Register a command whose TaggerErrors become one line on stderr and exit code 1."""

    def register(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except TaggerError as e:
                err.print(f"[red]error:[/red] {escape(str(e))}", highlight=False)
                raise typer.Exit(1) from None

        return group.command(name)(run)

    return register


class Format(StrEnum):
    table = "table"
    jsonl = "jsonl"


@command(app)
def tag(
    paths: list[Path] = typer.Argument(
        ..., help="Article files or folders (.txt .md .json .jsonl .csv .parquet)"
    ),
    format: Format = typer.Option(Format.table, "--format", "-f", help="table or jsonl"),
    published: str | None = typer.Option(
        None, help="Publication time for every article (ISO 8601 or a date), e.g. for .txt files"
    ),
    db: Path | None = typer.Option(
        None, "--db", help="Also store articles and tags in this DuckDB file"
    ),
    universe: Path | None = typer.Option(None, help="Universe folder (default: the bundled one)"),
):
    """Find the companies each article names: listed (ticker, exchange, CIK), private, or
    unresolved, with relevance 0-100 and role (subject, mentioned, source, boilerplate).

    Example:
        tagger tag article.txt
        tagger tag article.txt --published 2024-05-10
        tagger tag news.jsonl --format jsonl > tags.jsonl
        tagger tag news/ --db tagger.duckdb
    """
    from tagger import articles, resolve, store
    from tagger import universe as universe_module

    batch = articles.read_articles(paths)
    _print_problems(batch.problems)
    err.print(batch.summary(), highlight=False)
    frame = batch.articles
    if published is not None:
        frame = _with_published(frame, published)
    known = universe_module.load(universe) if universe else universe_module.load()
    entities, mentions = resolve.tag_articles(frame, known)
    if db is not None:
        con = store.connect(db)
        articles.store_articles(con, frame)
        resolve.store_tags(con, entities, mentions)
        err.print(f"stored {frame.height} articles and {entities.height} entities in {db}")
    records = resolve.nested_records(frame, entities, mentions)
    if format is Format.jsonl:
        records.write_ndjson(sys.stdout)
    else:
        _print_tags(records)


def _with_published(frame: pl.DataFrame, published: str) -> pl.DataFrame:
    from tagger.articles import parse_published

    try:
        instant, day, _ = parse_published(published)
    except ValueError as e:
        raise TaggerError(f"--published: {e}") from None
    return frame.with_columns(
        pl.lit(published).alias("published_raw"),
        pl.lit(instant, pl.Datetime("us", "UTC")).alias("published_at"),
        pl.lit(day, pl.Date).alias("published_date"),
    )


def _print_problems(problems) -> None:
    for problem in problems[:MAX_PROBLEMS]:
        err.print(f"{problem.severity}: {problem}", highlight=False, markup=False)
    if len(problems) > MAX_PROBLEMS:
        err.print(f"... and {len(problems) - MAX_PROBLEMS} more", highlight=False)


def _print_tags(records: pl.DataFrame) -> None:
    for record in records.iter_rows(named=True):
        when = (
            record["published_at"] or f"no publication time (status as of {record['status_as_of']})"
        )
        table = Table(title=f"{record['id']}  [dim]{when}[/dim]", title_justify="left")
        for column in ("rel", "role", "status", "ticker", "exchange", "name", "mentions", "reason"):
            table.add_column(column, overflow="fold")
        for entity in record["entities"]:
            texts = dict.fromkeys(m["text"] for m in entity["mentions"])
            table.add_row(
                str(entity["relevance"]),
                entity["role"],
                entity["status"],
                entity["ticker"]
                or (entity["parent_ticker"] and f"({entity['parent_ticker']})")
                or "",
                entity["exchange"] or "",
                entity["name"],
                f"{len(entity['mentions'])}: {', '.join(texts)}",
                entity["reason"] or "",
            )
        out.print(table)


@command(universe_app, "build")
def universe_build(
    raw: Path | None = typer.Option(None, help="Raw lists folder (default data/universe/raw)"),
    out_dir: Path | None = typer.Option(
        None, "--out", help="Output folder (default data/universe)"
    ),
):
    """Build the company universe (companies, aliases, tickers) from the raw lists and the
    curated files in data/universe/curated.

    Example:
        tagger universe build
        tagger universe build --raw my_raw_lists/ --out /tmp/universe
    """
    from tagger import universe

    counts = universe.build(raw or universe.RAW_DIR, out=out_dir or universe.UNIVERSE_DIR)
    out.print(", ".join(f"{k} {v:,}" for k, v in counts.items()), highlight=False)


@command(universe_app, "update")
def universe_update():
    """Download today's SEC company tickers and Nasdaq Trader symbol lists, then rebuild the
    universe. Offline, it fails with a clear message and changes nothing.

    Example:
        TAGGER_USER_AGENT="Jane Doe jane@example.com" tagger universe update
    """
    from tagger import universe

    counts = universe.update()
    out.print(", ".join(f"{k} {v:,}" for k, v in counts.items()), highlight=False)


@command(prices_app, "fetch")
def prices_fetch(
    tickers: list[str] = typer.Argument(..., help="Tickers, Yahoo style or BRK.B / brk/b"),
    start: datetime = typer.Option(..., "--start", formats=["%Y-%m-%d"], help="First date"),
    end: datetime | None = typer.Option(
        None,
        "--end",
        formats=["%Y-%m-%d"],
        help="Last date, inclusive (default: yesterday in New York)",
    ),
    refresh: bool = RefreshOption,
    db: Path | None = DbOption,
):
    """Fetch daily prices from Yahoo Finance into the store, asking only for dates not cached.

    Tickers Yahoo has no prices for are listed with Yahoo's reason. If Yahoo cannot be reached,
    what was fetched is kept. An empty or failed answer is not asked again for a day unless
    --refresh.

    Example:
        tagger prices fetch AAPL MSFT BRK.B 005930.KS RIO.L --start 2023-01-01
        tagger prices fetch SPY --start 2023-01-01 --end 2023-12-31 --db study.duckdb --refresh
    """
    from tagger import prices, store

    report = prices.fetch_prices(
        store.connect(db), tickers, start.date(), end.date() if end else None, refresh=refresh
    )
    _print_price_report(report)


@command(prices_app, "import")
def prices_import(
    file: Path = typer.Argument(
        ..., help="CSV or Parquet: ticker,date,close|adj_close[,open,high,low,volume]"
    ),
    db: Path | None = DbOption,
):
    """Import daily prices from a long-format CSV or Parquet file.

    Needs ticker, date (YYYY-MM-DD) and close or adj_close; open, high, low, volume are optional.
    Merges: the values given replace the stored ones for that ticker and date, the others are
    kept; with only close, new rows get adj_close = close. A bad file (an unreadable value, a
    price not above 0 and below 1e9, a volume not a whole number up to 1e15) writes nothing and
    the error names the line and field.

    Example:
        tagger prices import my_prices.parquet
        tagger prices import closes.csv --db study.duckdb
    """
    from tagger import prices, store

    _print_price_report(prices.import_prices(store.connect(db), file))


def _print_price_report(report) -> None:
    written = report.written_frame()
    counts = ", ".join(f"{written[c].sum():,} {c}" for c in ("inserted", "updated", "unchanged"))
    out.print(f"{written.height} ticker(s): {counts} rows", highlight=False)
    if written.height:
        out.print(written)
    for note in report.notes:
        out.print(note, highlight=False)
    for gap in report.gaps:
        asked = f" (asked {gap.asked_at:%Y-%m-%d %H:%M %Z})" if gap.asked_at else ""
        out.print(
            f"no prices: {gap.ticker} {gap.start}..{gap.end}: {gap.reason}{asked}", highlight=False
        )


WindowsOption = typer.Option(
    "0:0,0:1,-1:1,-5:5,0:5", "--windows", help="Event windows in trading days, e.g. 0:0,-1:1"
)
ModelOption = typer.Option("market", help="market, market_adjusted or mean_adjusted")
ReturnsOption = typer.Option("simple", help="simple or log returns (from adj_close)")
EstimationOption = typer.Option("-250:-11", help="Estimation window in trading days")
MinDaysOption = typer.Option(120, help="Fewer valid days: event flagged")
MarketOption = typer.Option(
    None,
    help="Market proxy for every event (default: each listing's local index, SPY for US "
    "listings, or the events CSV's market column)",
)
OfflineOption = typer.Option(False, help="Do not ask Yahoo Finance for missing prices")


def _settings(model, returns, estimation, min_estimation_days, windows, market, benchmark=None):
    from tagger import study

    return study.StudySettings(
        model=model,
        returns=returns,
        estimation=study.parse_range(estimation),
        min_estimation_days=min_estimation_days,
        windows=study.parse_windows(windows),
        market=market.upper() if market else None,
        benchmark=benchmark.upper() if benchmark else None,
    )


@command(app)
def study(
    out_dir: Path = typer.Option(..., "--out", help="Folder for events.csv, aar.csv, caar.csv"),
    events: Path | None = typer.Option(
        None, "--events", help="CSV of events (ticker, date or published_at[, event_id])"
    ),
    min_relevance: int = typer.Option(
        50, help="Without --events: tagged companies with at least this relevance"
    ),
    model: str = ModelOption,
    returns: str = ReturnsOption,
    estimation: str = EstimationOption,
    min_estimation_days: int = MinDaysOption,
    windows: str = WindowsOption,
    market: str = MarketOption,
    benchmark: str | None = typer.Option(None, help="Second benchmark for every event (ETF)"),
    name: str | None = typer.Option(
        None, "--name", help="Store as this study (default: default), replacing one of that name"
    ),
    offline: bool = OfflineOption,
    refresh: bool = RefreshOption,
    db: Path | None = DbOption,
):
    """Measure how stocks reacted to events (an event study): abnormal returns against a market
    model, CARs per window with t and p, and tests across events. Prices missing from the store
    come from the bundled snapshot or Yahoo Finance. Writes events.csv, aar.csv and caar.csv.

    Example:
        tagger study --events events.csv --market SPY --out out/
        tagger study --out out/                 # events: tagged articles in the database
        tagger study --out out/ --windows 0:0,-1:1 --model market_adjusted --returns log
        tagger study --events earnings.csv --name earnings --out out/
    """
    from tagger import events as events_module
    from tagger import pipeline, store
    from tagger import study as study_module

    settings = _settings(
        model, returns, estimation, min_estimation_days, windows, market, benchmark
    )
    con = store.connect(db)
    found = (
        events_module.events_from_csv(events)
        if events
        else events_module.events_from_articles(con, min_relevance)
    )
    report = pipeline.ensure_event_prices(con, found, settings, online=not offline, refresh=refresh)
    result = study_module.run_study(con, found, **asdict(settings), name=name)
    paths = result.write_csvs(out_dir)
    flagged = result.events.filter(pl.col("flags") != "")
    out.print(
        f"studied {result.events.height} events ({flagged.height} flagged); wrote "
        + ", ".join(str(p) for p in paths),
        highlight=False,
    )
    if report.gaps:
        out.print(report.gaps_frame())


def _parse_params(params: list[str]) -> dict:
    values = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise TaggerError(f"--param {item!r}: give NAME=VALUE, e.g. --param window=-1:1")
        for cast in (int, float):
            try:
                values[name] = cast(value)
                break
            except ValueError:
                continue
        else:
            values[name] = value
    return values


@command(app)
def query(
    name: str | None = typer.Argument(None, help="Query name (see --list)"),
    list_queries: bool = typer.Option(False, "--list", help="List the named queries"),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE, repeatable"),
    csv: Path | None = typer.Option(None, "--csv", help="Write the result to this CSV file"),
    db: Path | None = DbOption,
):
    """Run a named SQL query from queries/ over the database (the same .sql file you can run in
    the DuckDB shell), with its parameters bound.

    Example:
        tagger query --list
        tagger query car_by_ticker --param window=-1:1 --csv out.csv
        tagger query car_path --param event_id=AAPL@2024-05-03
    """
    from tagger import sql, store

    if list_queries or name is None:
        table = Table("query", "parameters", "returns", title="Named queries (queries/*.sql)")
        for query_name in sql.available():
            table.add_row(
                query_name,
                " ".join(f"--param {p}=..." for p in sql.parameters(query_name)),
                sql.describe(query_name),
            )
        out.print(table)
        return
    import duckdb

    con = store.connect(db, read_only=True)
    try:
        result = sql.frame(con, name, **_parse_params(param))
    except duckdb.Error as e:  # e.g. an unknown --param study=...
        message = str(e).splitlines()[0].removeprefix("Invalid Input Error: ")
        raise TaggerError(f"query {name}: {message}") from None
    if csv:
        result.write_csv(csv)
        out.print(f"wrote {result.height} rows to {csv}", highlight=False)
    else:
        with pl.Config(tbl_rows=50, tbl_cols=30, tbl_width_chars=160):
            out.print(result)


@command(app)
def report(
    out_dir: Path = typer.Option(..., "--out", help="Folder for the reports"),
    min_relevance: int = typer.Option(
        50, help="The relevance threshold the study's events used (for the notes)"
    ),
    db: Path | None = DbOption,
):
    """Write the reports from the database: a reaction table and CAR chart per story,
    summary.csv, caar.csv and index.html.

    Example:
        tagger report --out reports/
    """
    from tagger import report as report_module
    from tagger import store

    written = report_module.write_reports(
        store.connect(db, read_only=True), out_dir, min_relevance=min_relevance
    )
    out.print(f"wrote reports for {written.stories} stories to {out_dir}", highlight=False)


@command(app)
def run(
    paths: list[Path] = typer.Argument(..., help="Article files or folders"),
    out_dir: Path = typer.Option(..., "--out", help="Folder for the reports"),
    min_relevance: int = typer.Option(50, help="Study companies with at least this relevance"),
    model: str = ModelOption,
    returns: str = ReturnsOption,
    estimation: str = EstimationOption,
    min_estimation_days: int = MinDaysOption,
    windows: str = WindowsOption,
    market: str = MarketOption,
    offline: bool = OfflineOption,
    refresh: bool = RefreshOption,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display"),
    db: Path | None = DbOption,
):
    """The main job: read and tag the articles, get the prices their companies need (store,
    bundled snapshot, Yahoo Finance), run the event study and write the reports. A re-run reuses
    what the database already holds.

    Example:
        tagger run data/articles/demo.jsonl --out reports/
        tagger run news/ --out reports/ --db news.duckdb --windows 0:0,-1:1 --offline
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tagger import pipeline, store

    settings = _settings(model, returns, estimation, min_estimation_days, windows, market)
    con = store.connect(db)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=quiet,
    ) as bar:
        task = bar.add_task("starting", total=None)
        summary = pipeline.run(
            con,
            paths,
            out_dir,
            min_relevance=min_relevance,
            online=not offline,
            refresh=refresh,
            settings=settings,
            progress=lambda step: bar.update(task, description=step),
        )
    _print_problems(summary.problems)
    out.print(
        f"{summary.articles} articles, {summary.entities} companies named, "
        f"{summary.events} events, {summary.studied} studied; "
        f"reports in {out_dir}/index.html",
        highlight=False,
    )
    for gap in summary.price_gaps:
        err.print(f"no prices: {gap.ticker} {gap.start}..{gap.end}: {gap.reason}", highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
