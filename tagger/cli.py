"""The `tagger` command line: a thin layer that parses options and calls the library.

Every command's help ends with examples. Problems the user can fix (tagger.errors) are printed
as one line on stderr with exit code 1, never as a traceback.
"""

import functools
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
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


def command(group: typer.Typer, name: str | None = None):
    """Register a command whose TaggerErrors become one line on stderr and exit code 1."""

    def register(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except TaggerError as e:
                err.print(f"[red]error:[/red] {e}", highlight=False)
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
        tagger universe build --raw ../shared/data/universe --out /tmp/universe
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
    db: Path | None = DbOption,
):
    """Fetch daily prices from Yahoo Finance into the store, asking only for dates not cached.

    Tickers Yahoo has no prices for are listed with Yahoo's reason. If Yahoo cannot be reached,
    what was fetched is kept; run the same command again to resume.

    Example:
        tagger prices fetch AAPL MSFT BRK.B --start 2023-01-01
        tagger prices fetch SPY --start 2023-01-01 --end 2023-12-31 --db study.duckdb
    """
    from tagger import prices, store

    report = prices.fetch_prices(
        store.connect(db), tickers, start.date(), end.date() if end else None
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
    With only close, adj_close is set to close. Rows replace stored prices for the same ticker
    and date. A bad file writes nothing and the error names the line and field.

    Example:
        tagger prices import my_prices.parquet
        tagger prices import closes.csv --db study.duckdb
    """
    from tagger import prices, store

    _print_price_report(prices.import_prices(store.connect(db), file))


def _print_price_report(report) -> None:
    tickers = ", ".join(report.tickers_written) or "none"
    out.print(f"wrote {report.rows_written:,} rows for {tickers}", highlight=False)
    for note in report.notes:
        out.print(note, highlight=False)
    if report.gaps:
        out.print(report.gaps_frame())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
