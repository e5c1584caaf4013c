"""The `tagger` command line: a thin layer that parses options and calls the library.

Every command's help ends with examples. What a command produces goes to stdout (a table for
people, or `--format csv|json|jsonl|parquet`, or `--output FILE`); messages go to stderr
(`--quiet`: errors only; `--verbose`: each step with counts and time). A problem the user can
fix is one line on stderr, never a traceback. At module level this imports only typer and rich;
each command imports the library modules it needs, so `tagger --help` starts fast.
"""

import functools
import inspect
import os
import sys
from contextlib import closing, nullcontext, suppress
from datetime import datetime
from enum import IntEnum
from pathlib import Path

import typer

from tagger import __version__, output
from tagger.errors import TaggerError
from tagger.output import Format, messages, safe


class ExitCode(IntEnum):
    """What a `tagger` exit status means (also in `tagger --help` and CHANGELOG.md)."""

    OK = 0  # the command did what was asked (a partial result says what is missing)
    ERROR = 1  # a problem the user can fix: bad input, unwritable output, database in use
    USAGE = 2  # a bad option or argument
    NOTHING_DONE = 3  # nothing to work on: no article read, no event found or studied
    INTERRUPTED = 130  # Ctrl-C


EXIT_CODES = (
    "Exit status: 0 done (a partial result says what is missing); 1 an error you can fix (one "
    "line on stderr); 2 a bad option or argument; 3 nothing to do (no article read, no event "
    "studied)."
)


class NothingDone(Exception):
    """The command ran but found nothing to work on (exit status 3); the message says why."""


app = typer.Typer(no_args_is_help=True, epilog=EXIT_CODES)
universe_app = typer.Typer(no_args_is_help=True, help="Build or refresh the company universe.")
prices_app = typer.Typer(no_args_is_help=True, help="Fetch or import daily prices.")
app.add_typer(universe_app, name="universe")
app.add_typer(prices_app, name="prices")
spark_app = typer.Typer(no_args_is_help=True, help="Tag a corpus on Apache Spark.")
app.add_typer(spark_app, name="spark")

MAX_PROBLEMS = 20  # input problems printed before "... and N more"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"tagger (market-tagger) {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit"
    ),
):
    """Which listed companies is this news story about, and how did their stocks react?"""


# -- options shared by several commands ---------------------------------------------------------

DbOption = typer.Option(
    None, "--db", envvar="TAGGER_DB", help="DuckDB file (default ./tagger.duckdb)"
)
RefreshOption = typer.Option(
    False, help="Ask Yahoo Finance again for prices it had none for, or did not answer, today"
)
FormatOption = typer.Option(
    None,
    "--format",
    "-f",
    help="table (for people, the default), csv, json, jsonl or parquet",
    show_default=False,
)
OutputOption = typer.Option(
    None,
    "--output",
    "-o",
    help="Write to this file instead of stdout; the format follows its extension "
    "(.csv .json .jsonl .parquet) unless --format says otherwise",
)
ColumnsOption = typer.Option(
    None, "--columns", help="Keep only these columns, comma-separated (e.g. ticker,car)"
)
_QUIET = inspect.Parameter(
    "quiet",
    inspect.Parameter.KEYWORD_ONLY,
    default=typer.Option(False, "--quiet", "-q", help="Print errors only"),
    annotation=bool,
)
_VERBOSE = inspect.Parameter(
    "verbose",
    inspect.Parameter.KEYWORD_ONLY,
    default=typer.Option(False, "--verbose", "-v", help="Show each step with counts and time"),
    annotation=bool,
)


def command(group: typer.Typer, name: str | None = None):
    """Register a command, with --quiet and --verbose, whose failures become one line on stderr:
    TaggerError and OSError exit 1, NothingDone exits 3 (see `ExitCode`)."""

    def register(function):
        @functools.wraps(function)
        def run(*args, quiet: bool = False, verbose: bool = False, **kwargs):
            output.configure_messages(quiet=quiet, verbose=verbose)
            try:
                return function(*args, **kwargs)
            except NothingDone as e:
                _fail(str(e), ExitCode.NOTHING_DONE)
            except TaggerError as e:
                _fail(str(e), ExitCode.ERROR)
            except BrokenPipeError:
                _stdout_closed()
            except OSError as e:
                where = f"{e.filename}: " if e.filename else ""
                _fail(f"{where}{e.strerror or e}", ExitCode.ERROR)
            except KeyboardInterrupt:
                _fail("interrupted", ExitCode.INTERRUPTED)

        signature = inspect.signature(function)
        run.__signature__ = signature.replace(
            parameters=[*signature.parameters.values(), _QUIET, _VERBOSE]
        )
        run.__annotations__ = {**function.__annotations__, "quiet": bool, "verbose": bool}
        return group.command(name, short_help=_first_sentence(function.__doc__))(run)

    return register


def _first_sentence(doc: str) -> str:
    """The first sentence of a command's docstring: its line in `tagger --help`."""
    return " ".join(doc.split()).split(". ")[0].rstrip(".")


def _fail(message: str, code: ExitCode):
    messages.error(message)
    raise typer.Exit(code)


def _stdout_closed():
    """The reader of our stdout went away (`tagger ... | head`): stop quietly."""
    with suppress(OSError, ValueError):  # ValueError: not a real file (a test's)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise typer.Exit(ExitCode.OK)


def _columns(frame, columns: str | None):
    """`frame` with only the `--columns` asked for, in that order."""
    if not columns:
        return frame
    wanted = [name.strip() for name in columns.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in frame.columns]
    if unknown:
        raise TaggerError(
            f"--columns: no column {unknown[0]!r}; the columns are {', '.join(frame.columns)}"
        )
    return frame.select(wanted)


def _print_problems(problems) -> None:
    for problem in problems[:MAX_PROBLEMS]:
        log = messages.error if problem.severity == "error" else messages.warning
        log(str(problem))
    if len(problems) > MAX_PROBLEMS:
        messages.warning(f"... and {len(problems) - MAX_PROBLEMS} more problems")


# -- tag ----------------------------------------------------------------------------------------


@command(app)
def tag(
    paths: list[Path] = typer.Argument(
        ..., help="Article files or folders (.txt .md .json .jsonl .csv .parquet)"
    ),
    format: Format | None = FormatOption,
    output_file: Path | None = OutputOption,
    published: str | None = typer.Option(
        None, help="Publication time for every article (ISO 8601 or a date), e.g. for .txt files"
    ),
    db: Path | None = typer.Option(
        None, "--db", help="Also store articles and tags in this DuckDB file"
    ),
    universe: Path | None = typer.Option(None, help="Universe folder (default: the bundled one)"),
):
    """Find the companies each article names. Each is listed (ticker, exchange, CIK), private,
    or unresolved, with relevance 0-100 and role (subject, mentioned, source, boilerplate). The
    output is a table per article; with --format json or jsonl one object per article with its
    entities and mentions; csv and parquet have one row per entity.

    Example:
        tagger tag article.txt
        tagger tag article.txt --published 2024-05-10
        tagger tag news.jsonl --format jsonl > tags.jsonl
        tagger tag news.jsonl --output entities.csv
        tagger tag news/ --db tagger.duckdb
    """
    from tagger import corpus, resolve, store

    fmt = output.format_for(format, output_file)
    known = _load_universe(universe)
    tally, shown = corpus.Tally(), 0
    prepare = functools.partial(_with_published, published=published) if published else None

    def tagged(con, status):  # each chunk's records, as the format wants them
        nonlocal shown
        for frame, entities, mentions in corpus.tag_chunks(
            paths, known, con=con, prepare=prepare, tally=tally
        ):
            status(f"tagged {tally.articles:,} articles, {tally.entities:,} entities")
            records = resolve.nested_records(frame, entities, mentions)
            if fmt is Format.table:
                _print_tags(records.head(output.MAX_TABLE_ROWS - shown))
                shown += min(records.height, output.MAX_TABLE_ROWS - shown)
            else:
                yield records if fmt in (Format.json, Format.jsonl) else _entity_rows(records)

    with (
        closing(store.connect(db)) if db is not None else nullcontext() as con,
        output.progress("reading articles") as status,
    ):
        output.write_frames(tagged(con, status), fmt, output_file)
    summary = tally.summary()
    messages.debug(f"reading articles: {summary} ({tally.reading_seconds:.2f} s)")
    messages.debug(
        f"tagging: {tally.entities:,} entities, {tally.mentions:,} mentions "
        f"({tally.tagging_seconds:.2f} s)"
    )
    _print_problems(tally.problems)
    if tally.articles == 0:
        raise NothingDone(f"no article to tag: {summary}")
    messages.info(summary)
    if db is not None:
        messages.info(f"stored {tally.articles:,} articles and {tally.entities:,} entities in {db}")


def _with_published(frame, published: str):
    import polars as pl

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


def _load_universe(folder: Path | None):
    """The bundled universe, or the one built in `folder` (one line when there is none)."""
    import polars as pl

    from tagger import universe

    if folder is None:
        return universe.load()
    if not (folder / "companies.parquet").is_file():
        raise TaggerError(
            f"--universe {folder}: no universe there (no companies.parquet); "
            f"build one with `tagger universe build --out {folder}`"
        )
    try:
        return universe.load(folder)
    except pl.exceptions.PolarsError as e:
        first = str(e).strip().splitlines()[0]
        raise TaggerError(f"--universe {folder}: cannot read the universe ({first})") from None


def _entity_rows(records):
    """One row per entity (for csv and parquet): the article's id and time, the entity, its
    relevance components, and its mentions as a count and their distinct texts."""
    import polars as pl

    components = pl.col("components").struct
    return (
        records.explode("entities")
        .filter(pl.col("entities").is_not_null())
        .unnest("entities")
        .select(
            "id",
            "published_at",
            "status_as_of",
            "entity_id",
            "name",
            "status",
            "ticker",
            "exchange",
            "currency",
            "us_ticker",
            "cik",
            "sector",
            "relevance",
            "role",
            "parent_ticker",
            "reason",
            components.field("title").alias("in_title"),
            components.field("lead").alias("in_lead"),
            components.field("first"),
            components.field("marker"),
            components.field("share"),
            pl.col("mentions").list.len().alias("mentions"),
            pl.col("mentions")
            .list.eval(pl.element().struct.field("text"))
            .list.unique(maintain_order=True)
            .list.join("; ")
            .alias("mention_texts"),
        )
    )


def _print_tags(records) -> None:
    from rich.table import Table

    for record in records.head(output.MAX_TABLE_ROWS).iter_rows(named=True):
        when = (
            record["published_at"] or f"no publication time (status as of {record['status_as_of']})"
        )
        table = Table(title=f"{safe(record['id'])}  [dim]{safe(when)}[/dim]", title_justify="left")
        for column in ("rel", "role", "status", "ticker", "exchange", "name", "mentions", "reason"):
            table.add_column(column, overflow="fold")
        for entity in record["entities"]:
            texts = dict.fromkeys(m["text"] for m in entity["mentions"])
            ticker = entity["ticker"] or (
                f"({entity['parent_ticker']})" if entity["parent_ticker"] else ""
            )
            cells = (
                entity["relevance"],
                entity["role"],
                entity["status"],
                ticker,
                entity["exchange"] or "",
                entity["name"],
                f"{len(entity['mentions'])}: {', '.join(texts)}",
                entity["reason"] or "",
            )
            table.add_row(*map(safe, cells))
        output.out.print(table)
    if records.height > output.MAX_TABLE_ROWS:
        messages.warning(
            f"showing {output.MAX_TABLE_ROWS} of {records.height:,} articles; "
            "--format jsonl or --output FILE gives them all"
        )


# -- spark --------------------------------------------------------------------------------------


@command(spark_app, "tag")
def spark_tag(
    source: str = typer.Argument(
        ...,
        help="Parquet file or folder (or a Delta table with --format delta), any path Spark reads",
    ),
    out: str = typer.Option(
        ..., "--out", help="Folder for the entity rows; the skipped records go to OUT_problems"
    ),
    fmt: str = typer.Option("parquet", "--format", help="parquet or delta, for input and output"),
    master: str = typer.Option("local[*]", help="Spark master URL"),
    conf: list[str] = typer.Option([], "--conf", help="Spark setting KEY=VALUE, repeatable"),
    column: list[str] = typer.Option(
        [], "--column", help="FIELD=COLUMN: read id, title, body or published_at from COLUMN"
    ),
):
    """Tag a corpus on Apache Spark: each partition is tagged on its own, with the same answers as
    `tagger tag`. The output has one row per entity (the fields of `tagger tag --format jsonl`,
    mentions nested) and feeds `tagger run ARTICLES --tags OUT`; DuckDB reads it as
    'OUT/*.parquet'. A bad record is a row in OUT_problems (id, field, reason), not a failure.
    Needs PySpark (pip install 'market-tagger[spark]') and Java 17+.

    Example:
        tagger spark tag news.parquet --out tags
        tagger spark tag news/ --out tags --master local[2] --conf spark.driver.memory=4g
        tagger spark tag s3a://bucket/news --out s3a://bucket/tags --column title=headline
        tagger spark tag news_delta --out tags_delta --format delta
    """
    from tagger import spark

    settings = _parse_params(conf, "--conf", "spark.driver.memory=4g")
    columns = _parse_params(column, "--column", "title=headline")
    session = spark.session(master, settings, delta=fmt == "delta")
    with output.step("tagging on Spark") as done:
        summary = spark.tag_table(session, source, out, fmt=fmt, columns=columns)
        done(f"{summary.entities:,} entity rows, {summary.problems:,} problems")
    for line in summary.first_problems:
        messages.error(line)
    if summary.problems > len(summary.first_problems):
        messages.warning(f"... and {summary.problems - len(summary.first_problems)} more problems")
    rows, bad = summary.entities, summary.problems
    skipped = f"; skipped {bad:,} bad record{'s' * (bad != 1)} (in {spark.problems_path(out)})"
    output.result(f"wrote {rows:,} entity row{'s' * (rows != 1)} to {out}{skipped * (bad > 0)}")


# -- universe -----------------------------------------------------------------------------------


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
    output.result(", ".join(f"{k} {v:,}" for k, v in counts.items()))


@command(universe_app, "update")
def universe_update():
    """Download today's SEC company tickers and Nasdaq Trader symbol lists, then rebuild the
    universe. Offline, it fails with a clear message and changes nothing.

    Example:
        TAGGER_USER_AGENT="Jane Doe jane@example.com" tagger universe update
    """
    from tagger import universe

    counts = universe.update()
    output.result(", ".join(f"{k} {v:,}" for k, v in counts.items()))


# -- prices -------------------------------------------------------------------------------------


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

    with closing(store.connect(db)) as con:
        report = prices.fetch_prices(
            con, tickers, start.date(), end.date() if end else None, refresh=refresh
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

    with closing(store.connect(db)) as con:
        _print_price_report(prices.import_prices(con, file))


def _print_price_report(report) -> None:
    written = report.written_frame()
    counts = ", ".join(f"{written[c].sum():,} {c}" for c in ("inserted", "updated", "unchanged"))
    output.result(f"{written.height} ticker(s): {counts} rows")
    if written.height:
        output.write_frame(written, output.Format.table, None)
    for note in report.notes:
        messages.info(note)
    _print_gaps(report.gaps)


GAPS_SHOWN = 10  # "no prices" lines shown; --verbose shows every one


def _print_gaps(gaps) -> None:
    """A warning for each ticker range without prices: the first `GAPS_SHOWN`, then a count of
    the rest (each of them under --verbose)."""
    for number, gap in enumerate(gaps):
        asked = f" (asked {gap.asked_at:%Y-%m-%d %H:%M %Z})" if gap.asked_at else ""
        line = f"no prices: {gap.ticker} {gap.start}..{gap.end}: {gap.reason}{asked}"
        if number < GAPS_SHOWN:
            messages.warning(line)
        else:
            messages.debug(line)
    if len(gaps) > GAPS_SHOWN:
        more = len(gaps) - GAPS_SHOWN
        messages.warning(f"no prices for {more:,} more ticker ranges (--verbose lists each)")


# -- study --------------------------------------------------------------------------------------

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
OfflineOption = typer.Option(
    False, envvar="TAGGER_OFFLINE", help="Do not ask Yahoo Finance for missing prices"
)


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
    out_dir: Path | None = typer.Option(
        None, "--out", help="Also write events.csv, aar.csv and caar.csv into this folder"
    ),
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
    format: Format | None = FormatOption,
    output_file: Path | None = OutputOption,
    columns: str | None = ColumnsOption,
    db: Path | None = DbOption,
):
    """Measure how stocks reacted to events (an event study): abnormal returns against a market
    model, CARs per window with t and p, and tests across events. Prices missing from the store
    come from the bundled snapshot or Yahoo Finance. The study is stored in the database; the
    output is its CAAR per window with the tests across events.

    Example:
        tagger study --events events.csv --market SPY --out out/
        tagger study --out out/                 # events: tagged articles in the database
        tagger study --windows 0:0,-1:1 --model market_adjusted --returns log --format csv
        tagger study --events earnings.csv --name earnings --out out/
    """
    from dataclasses import asdict

    from tagger import pipeline, store
    from tagger import study as study_module

    fmt = output.format_for(format, output_file)
    settings = _settings(
        model, returns, estimation, min_estimation_days, windows, market, benchmark
    )
    if out_dir is not None:
        _make_folder(out_dir)
    with closing(store.connect(db)) as con:
        found = _study_events(con, events, min_relevance, db)
        with output.step("getting prices") as done:
            found = study_module.prepared_events(found, settings)  # once, for both steps
            report = pipeline.ensure_event_prices(
                con, found, settings, online=not offline, refresh=refresh
            )
            done(f"{report.rows_written:,} rows added, {len(report.gaps)} gaps")
        with output.step("running the study") as done:
            try:
                result = study_module.run_study(
                    con, found, **asdict(settings), name=name, out=out_dir
                )
            except OSError as e:  # only the files: raised once the study is stored
                raise TaggerError(
                    f"the study is stored in {db or 'the database'} (`tagger query "
                    f"study_summary`), but {e.filename or out_dir} could not be written "
                    f"({e.strerror or e}); fix the folder and run again"
                ) from None
            done(f"{result.events.height:,} events")
    _print_gaps(report.gaps)
    for note in report.notes:
        messages.info(note)
    if out_dir is not None:
        paths = [out_dir / f"{csv}.csv" for csv in study_module.CSVS]
        messages.info("wrote " + ", ".join(str(p) for p in paths))
    studied = _studied(result.events)
    messages.info(_study_summary(result.events, studied))
    output.write_frame(_columns(result.caar, columns), fmt, output_file)
    if studied == 0:
        raise NothingDone("studied no event: none has prices and enough estimation days")


def _study_events(con, events: Path | None, min_relevance: int, db: Path | None):
    """The events to study: from the --events CSV, else the tagged articles in the database."""
    from tagger import events as events_module
    from tagger import store

    with output.step("finding events") as done:
        found = (
            events_module.events_from_csv(events)
            if events
            else events_module.events_from_articles(con, min_relevance)
        )
        done(f"{found.height:,} events")
    if found.is_empty():
        where = (
            f"{events} has no rows"
            if events
            else f"no tagged company with relevance >= {min_relevance} in "
            f"{db or store.default_path()} (tag articles with `tagger tag FILES --db DB`, "
            "or give --events)"
        )
        raise NothingDone(f"no events to study: {where}")
    return found


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TaggerError(f"--out {folder}: cannot create the folder ({e.strerror or e})") from None


def _studied(events) -> int:
    """Events measured and counted in the tests (not flagged no_prices or short_estimation)."""
    return int(events["flags"].str.contains("no_prices|short_estimation").not_().sum())


def _study_summary(events, studied: int) -> str:
    """One line: how many events were studied, and which were not and why."""
    import polars as pl

    line = f"studied {studied} of {events.height} events"
    left_out = events.filter(pl.col("flags").str.contains("no_prices|short_estimation"))
    if left_out.height:
        reasons = [
            f"{ticker} ({'no prices' if 'no_prices' in flags else 'short estimation'})"
            for ticker, flags in left_out.head(10).select("ticker", "flags").iter_rows()
        ]
        more = f" and {left_out.height - 10} more" if left_out.height > 10 else ""
        line += f"; not studied: {', '.join(reasons)}{more}"
    flagged = events.filter(pl.col("flags") != "").height
    return f"{line}; {flagged} flagged (see the flags column)" if flagged else line


# -- query --------------------------------------------------------------------------------------


def _parse_params(
    params: list[str], option: str = "--param", example: str = "window=-1:1"
) -> dict[str, str]:
    values = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise TaggerError(f"{option} {item!r}: give NAME=VALUE, e.g. {option} {example}")
        values[name] = value
    return values


@command(app)
def query(
    name: str | None = typer.Argument(None, help="Query name (see --list)"),
    list_queries: bool = typer.Option(False, "--list", help="List the named queries"),
    param: list[str] = typer.Option([], "--param", "-p", help="NAME=VALUE, repeatable"),
    queries: Path | None = typer.Option(
        None,
        "--queries",
        help="Folder of your own .sql queries, after the bundled ones (default $TAGGER_QUERIES)",
        show_default=False,
    ),
    format: Format | None = FormatOption,
    output_file: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        "--csv",
        help="Write to this file instead of stdout; the format follows its extension "
        "(.csv .json .jsonl .parquet) unless --format says otherwise",
    ),
    columns: str | None = ColumnsOption,
    db: Path | None = DbOption,
):
    """Run a named SQL query over the database, read-only, with its parameters bound. The
    queries are the bundled queries/*.sql (the same files you can run in the DuckDB shell), then
    those in --queries DIR. A name is lower case letters, digits and _; a parameter whose type
    the query declares (a line `-- param: min_relevance INTEGER`) is parsed as that type.

    Example:
        tagger query --list
        tagger query car_by_ticker --param window=-1:1 --output car.csv
        tagger query study_summary --columns event_window,n,caar,p_csect
        tagger query car_path --param event_id=AAPL@2024-05-03 --format json
    """
    from tagger import sql, store

    if list_queries or name is None:
        output.write_frame(_query_list(queries), format, output_file)
        return
    named = sql.find(name, queries)
    values = _parse_params(param)
    with closing(store.connect(db, read_only=True)) as con, output.step(f"query {name}") as done:
        result = sql.run_query(con, named, values)
        done(f"{result.height:,} rows")
    output.write_frame(_columns(result, columns), format, output_file)


def _query_list(folder: Path | None):
    import polars as pl

    from tagger import sql

    rows = []
    for name in sql.available(folder):
        named = sql.find(name, folder)
        rows.append(
            {
                "query": name,
                "parameters": " ".join(
                    f"{p}={named.types.get(p, 'VARCHAR')}" for p in named.parameters
                ),
                "returns": named.description,
            }
        )
    return pl.DataFrame(rows, schema=dict.fromkeys(("query", "parameters", "returns"), pl.String))


# -- report and run -----------------------------------------------------------------------------


@command(app)
def report(
    out_dir: Path = typer.Option(..., "--out", help="Folder for the reports"),
    min_relevance: int = typer.Option(
        50, help="The relevance threshold the study's events used (for the notes)"
    ),
    max_charts: int | None = typer.Option(
        None, help="Draw a CAR chart on the pages of the newest N stories (default 1,000)"
    ),
    db: Path | None = DbOption,
):
    """Write the reports from the database: index.html (the stories, to sort and filter),
    study.html, a page and a reaction table per story, summary.csv and caar.csv.

    Example:
        tagger report --out reports/
        tagger report --out reports/ --max-charts 0
    """
    from tagger import report as report_module
    from tagger import store

    charts = {} if max_charts is None else {"max_charts": max_charts}
    with closing(store.connect(db, read_only=True)) as con:
        written = report_module.write_reports(con, out_dir, min_relevance=min_relevance, **charts)
    _print_report_problems(written.problems)
    if written.stories == 0:
        raise NothingDone(
            f"no stories in {db or store.default_path()}; "
            "run `tagger run` or `tagger tag --db` first"
        )
    output.result(f"wrote reports for {written.stories} stories to {out_dir}")


def _print_report_problems(problems) -> None:
    for problem in problems:
        messages.warning(str(problem))


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
    tags: Path | None = typer.Option(
        None, "--tags", help="Tags of these articles from `tagger spark tag`: used, not re-tagged"
    ),
    db: Path | None = DbOption,
):
    """The main job: read and tag the articles, get the prices their companies need (store,
    bundled snapshot, Yahoo Finance), run the event study and write the reports. A re-run reuses
    what the database already holds.

    Example:
        tagger run news.jsonl --out reports/
        tagger run news/ --out reports/ --db news.duckdb --windows 0:0,-1:1 --offline
        tagger run news.parquet --tags tags/ --out reports/   # tags from `tagger spark tag`
    """
    from tagger import pipeline, store

    settings = _settings(model, returns, estimation, min_estimation_days, windows, market)

    with output.progress("starting") as status:

        def progress(step: str) -> None:
            messages.debug(step)
            status(step)

        with closing(store.connect(db)) as con:
            summary = pipeline.run(
                con,
                paths,
                out_dir,
                min_relevance=min_relevance,
                online=not offline,
                refresh=refresh,
                settings=settings,
                tags=tags,
                progress=progress,
            )
            left_out = _left_out(con) if summary.studied < summary.events else ""
    _print_problems(summary.problems)
    _print_report_problems(summary.reports.problems)
    _print_gaps(summary.price_gaps)
    if summary.articles == 0:
        raise NothingDone(f"no article read from {', '.join(map(str, paths))}")
    output.result(
        f"{summary.articles} articles, {summary.entities} companies named, "
        f"{summary.events} events, {summary.studied} studied{left_out}; "
        f"reports in {out_dir / 'index.html'}"
    )
    if summary.studied == 0:
        why = (
            f"no company with relevance >= {min_relevance}"
            if summary.events == 0
            else "no event has prices and enough estimation days"
        )
        raise NothingDone(f"studied no event: {why}")


def _left_out(con) -> str:
    """Why the stored study left events out, e.g. " (3 without prices, 1 with too short a
    history)", from the study_summary query."""
    from tagger import sql

    stored = sql.frame(con, "study_summary")
    if stored.is_empty():
        return ""
    summary = stored.row(0, named=True)
    reasons = [
        f"{summary['no_prices']} without prices" if summary["no_prices"] else "",
        f"{summary['short_estimation']} with too short a history"
        if summary["short_estimation"]
        else "",
    ]
    return f" ({', '.join(r for r in reasons if r)})"


def main() -> None:
    app()


if __name__ == "__main__":
    main()
