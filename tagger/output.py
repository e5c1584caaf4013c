"""How the command line shows and writes what it produces; every command goes through here.

- `safe(value)`: any text that came from data or from the user, made harmless for a terminal
  (rich markup escaped; control characters, ESC and bidirectional overrides shown as escapes).
- `write_frame(frame, fmt, output)`: a frame to stdout or a file as a human table, CSV, JSON,
  JSON lines or Parquet (the format from `--format`, else from the file's extension).
- `human_tables(frame, width)`: tables for people: numbers rounded, returns as percentages,
  p-values to 3 places, wide frames folded into several tables that repeat the first column.
- `messages`: the `tagger` logger, shown on stderr; `--quiet` keeps errors, `--verbose` adds
  each step with its counts and time.

It imports only rich at load time; polars frames arrive from the commands.
"""

import io
import json
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tagger.errors import TaggerError

out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True, highlight=False)
messages = logging.getLogger("tagger")

MAX_TABLE_ROWS = 200  # rows shown in a human table; the other formats write every row
MAX_CELL_WIDTH = 40  # a longer cell wraps inside its column
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PERCENT_WORDS = {"ar", "aar", "car", "caar", "ret", "return", "returns", "share"}
_STATISTIC_WORDS = {"t", "z"}  # test statistics: 2 decimals
_NOT_PERCENT_WORDS = {"var", "n", *_STATISTIC_WORDS}


def safe(value: object) -> str:
    """`value` as text that shows as itself in a terminal and in rich markup.

    >>> safe("[link=https://x.example]AAPL[/link]\\x1b[31m")
    '\\\\[link=https://x.example]AAPL\\\\[/link]\\\\x1b\\\\[31m'
    """
    text = _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))
    return escape(text)


# -- formats ------------------------------------------------------------------------------------


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"
    parquet = "parquet"


_BY_SUFFIX = {
    ".csv": Format.csv,
    ".json": Format.json,
    ".jsonl": Format.jsonl,
    ".ndjson": Format.jsonl,
    ".parquet": Format.parquet,
}


def format_for(fmt: Format | None, output: Path | None) -> Format:
    """The format asked for: `--format`, else the extension of `--output`, else a table."""
    if output is None:
        if fmt is Format.parquet and sys.stdout.isatty():
            raise TaggerError("parquet is binary: give --output FILE.parquet or redirect stdout")
        return fmt or Format.table
    by_suffix = _BY_SUFFIX.get(output.suffix.lower())
    if fmt is None and by_suffix is None:
        raise TaggerError(
            f"--output {output}: cannot tell the format from {output.suffix or 'no extension'!r}; "
            f"use {', '.join(_BY_SUFFIX)} or add --format"
        )
    fmt = fmt or by_suffix
    if fmt is Format.table:
        raise TaggerError("--format table is for the screen; give csv, json, jsonl or parquet")
    return fmt


def write_frame(frame, fmt: Format | None = None, output: Path | None = None) -> None:
    """Write `frame` (a polars DataFrame) in `fmt` to `output`, or to stdout."""
    fmt = format_for(fmt, output)
    if fmt is Format.table:
        print_tables(frame)
    elif output is None:
        sys.stdout.buffer.write(frame_bytes(frame, fmt))
        sys.stdout.flush()
    else:
        write_file(output, frame_bytes(frame, fmt))
        messages.info(f"wrote {frame.height:,} rows to {output}")


def write_frames(frames: Iterable, fmt: Format, output: Path | None = None) -> int:
    """Write frames as they come (a corpus tagged chunk by chunk) as one output in `fmt` (not a
    table), to stdout or, whole or not at all, to `output`: the bytes `write_frame` gives for
    their concatenation (Parquet: the same rows, a row group per frame). Returns the rows
    written; with no rows, nothing is written."""
    rows, parquet, temporary = 0, None, None
    sink = sys.stdout.buffer
    try:
        for frame in frames:
            if frame.is_empty():
                continue
            if sink is sys.stdout.buffer and output is not None:
                temporary = _temporary_beside(output)
                sink = open(temporary, "wb")  # noqa: SIM115 (closed in finally)
            if fmt is Format.parquet:
                import pyarrow.parquet as pq

                table = frame.to_arrow()
                parquet = parquet or pq.ParquetWriter(sink, table.schema, compression="zstd")
                parquet.write_table(table)
            elif fmt is Format.json:
                inner = frame.write_json().encode()[1:-1]
                sink.write((b"[" if rows == 0 else b",") + inner)
            elif fmt is Format.csv:
                sink.write(frame.write_csv(include_header=rows == 0).encode())
            else:
                encoded = io.BytesIO()  # polars' bytes, not decoded to a str and encoded again
                frame.write_ndjson(encoded)
                sink.write(encoded.getbuffer())
            sink.flush()
            rows += frame.height
        if parquet is not None:
            parquet.close()
        elif fmt is Format.json and rows:
            sink.write(b"]\n")
            sink.flush()
        if temporary is not None:
            sink.close()
            os.replace(temporary, output)
            temporary = None
            messages.info(f"wrote {rows:,} rows to {output}")
    except OSError as e:
        raise TaggerError(f"cannot write {output or 'stdout'}: {e.strerror or e}") from None
    finally:
        if temporary is not None:
            sink.close()
            Path(temporary).unlink(missing_ok=True)
    return rows


def _temporary_beside(path: Path) -> str:
    folder = path.parent
    if not folder.is_dir():
        raise TaggerError(f"cannot write {path}: folder {folder}/ does not exist; create it first")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise TaggerError(f"cannot write {path}: {e.strerror or e}") from None
    os.close(handle)
    return temporary


def frame_bytes(frame, fmt: Format) -> bytes:
    """`frame` encoded as `fmt` (not a table), values as they are: this output feeds other tools,
    so a CSV cell such as `-1:1` is not quoted for spreadsheets (the reports' CSVs are)."""
    if fmt is Format.csv:
        return frame.write_csv().encode()
    if fmt is Format.json:
        return frame.write_json().encode() + b"\n"
    if fmt is Format.jsonl:
        return frame.write_ndjson().encode()
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (a temporary file renamed into place)."""
    temporary = _temporary_beside(path)
    try:
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except OSError as e:
        Path(temporary).unlink(missing_ok=True)
        raise TaggerError(f"cannot write {path}: {e.strerror or e}") from None


# -- human tables -------------------------------------------------------------------------------


def print_tables(frame, title: str | None = None) -> None:
    """Show `frame` to people on stdout (see `human_tables`)."""
    shown = frame.head(MAX_TABLE_ROWS)
    for table in human_tables(shown, out.width, title=title):
        out.print(table)
    if frame.height > shown.height:
        messages.warning(
            f"showing {shown.height} of {frame.height:,} rows; "
            "--format csv or --output FILE gives them all"
        )


def human_tables(frame, width: int, *, title: str | None = None) -> list[Table]:
    """Tables of `frame` for a terminal `width` characters wide: cells formatted per column
    (`cell_texts`), and columns folded into several tables that repeat the first column when
    they do not fit side by side."""
    texts = {name: cell_texts(frame[name]) for name in frame.columns}
    widths = {
        name: min(max([len(name), *map(len, cells)]), MAX_CELL_WIDTH) + 3
        for name, cells in texts.items()
    }
    groups = _fold(frame, widths, width)
    tables = []
    for number, group in enumerate(groups, start=1):
        caption = f"columns {number} of {len(groups)}" if len(groups) > 1 else None
        table = Table(title=title if number == 1 else None, title_justify="left", caption=caption)
        for name in group:
            numeric = frame.schema[name].is_numeric()
            table.add_column(safe(name), justify="right" if numeric else "left", overflow="fold")
        for row in zip(*(texts[name] for name in group), strict=True):
            table.add_row(*map(safe, row))
        tables.append(table)
    return tables


def _fold(frame, widths: dict[str, int], width: int) -> list[list[str]]:
    """The columns in groups that fit `width`. When there is more than one group, each starts
    with the key: the first column whose values tell the rows apart (else the first column)."""
    columns = list(frame.columns)
    if not columns or sum(widths.values()) + 1 <= width:
        return [columns]
    key = next((c for c in columns if frame[c].n_unique() == frame.height), columns[0])
    groups, group, used = [], [key], widths[key] + 1
    for name in columns:
        if name == key:
            continue
        if len(group) > 1 and used + widths[name] > width:
            groups.append(group)
            group, used = [key], widths[key] + 1
        group.append(name)
        used += widths[name]
    return [*groups, group]


def cell_texts(column) -> list[str]:
    """The values of a polars Series as people read them.

    Returns (columns named ar, car, caar, ret, return, share... ) as percentages with 2
    decimals; p-values (p, p_*) with 3 decimals; test statistics (t, *_t, *_z) with 2; other
    numbers with 4 significant digits; whole-number decimals as integers; missing values as
    empty cells.
    """
    kind = _kind(column.name, column.dtype)
    return [_text(value, kind) for value in column.to_list()]


def _kind(name: str, dtype) -> str:
    if not dtype.is_numeric():
        return "text"
    if dtype.is_decimal() and dtype.scale == 0:
        return "integer"
    words = set(name.lower().split("_"))
    if name.lower().split("_")[0] == "p":
        return "p"
    if dtype.is_float() or dtype.is_decimal():
        if words & _PERCENT_WORDS and not words & _NOT_PERCENT_WORDS:
            return "percent"
        return "statistic" if words & _STATISTIC_WORDS else "number"
    return "integer"


def _text(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == "text":
        return _plain(value)
    value = float(value) if kind != "integer" else int(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if kind == "p":
        return "<0.001" if 0 <= value < 0.001 else f"{value:.3f}"
    if kind == "percent":
        return f"{value * 100:.2f}%"
    if kind == "statistic":
        return f"{value:.2f}"
    if kind == "integer" or (abs(value) >= 1e4 and value == int(value)):
        return f"{int(value):,}" if abs(value) >= 1e4 else str(int(value))
    return _significant(value)


def _significant(value: float, digits: int = 4) -> str:
    """`value` in fixed notation with about `digits` significant digits (1.532, 0.01235)."""
    if value == 0 or not math.isfinite(value):
        return str(value)
    decimals = min(max(digits - 1 - math.floor(math.log10(abs(value))), 0), 8)
    return f"{value:,.{decimals}f}"


def _plain(value) -> str:
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + (" UTC" if value.utcoffset() is not None and not value.utcoffset() else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


# -- messages -----------------------------------------------------------------------------------


class _MessageHandler(logging.Handler):
    """Log records as lines on stderr: `error: ...`, `warning: ...`, plain info, and debug steps
    with the seconds since the command started."""

    def __init__(self, level: int):
        super().__init__(level)
        self.started = time.perf_counter()

    def emit(self, record: logging.LogRecord) -> None:
        text = safe(record.getMessage())
        if record.levelno >= logging.ERROR:
            err.print(f"[red]error:[/red] {text}")
        elif record.levelno >= logging.WARNING:
            err.print(f"[yellow]warning:[/yellow] {text}")
        elif record.levelno >= logging.INFO:
            err.print(text)
        else:
            err.print(f"[dim]{time.perf_counter() - self.started:7.2f}s[/dim] {text}")


def configure_messages(*, quiet: bool = False, verbose: bool = False) -> None:
    """Show the `tagger` logger on stderr: errors only when `quiet`, each step when `verbose`."""
    level = logging.ERROR if quiet else logging.DEBUG if verbose else logging.INFO
    messages.handlers = [_MessageHandler(level)]
    messages.setLevel(level)
    messages.propagate = False


def result(text: str) -> None:
    """Print a command's one-line result (e.g. "wrote 12 rows") on stdout, unless --quiet."""
    if showing(logging.INFO):
        out.print(safe(text))


def showing(level: int) -> bool:
    """Whether messages of `level` are shown (e.g. to skip a progress display when quiet)."""
    return messages.isEnabledFor(level)


@contextmanager
def progress(first: str):
    """A live status line on stderr (spinner, text, time elapsed), shown only on a terminal and
    when neither --quiet nor --verbose; yields the function that sets its text."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    shown = err.is_terminal and showing(logging.INFO) and not showing(logging.DEBUG)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not shown,
    ) as bar:
        task = bar.add_task(first, total=None)
        yield lambda text: bar.update(task, description=text)


@contextmanager
def step(what: str):
    """Log `what` with its time when the block ends (at debug level: shown by --verbose).

    The block may call the yielded function with a detail, e.g. `done("12 entities")`.
    """
    started = time.perf_counter()
    detail: list[str] = []
    yield detail.append
    seconds = time.perf_counter() - started
    messages.debug(f"{what}: {'; '.join(detail) or 'done'} ({seconds:.2f} s)")
