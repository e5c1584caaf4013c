"""CSV files that spreadsheets open safely.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula ("CSV injection"). As OWASP recommends, such a cell is
written with a leading single quote (`'=HYPERLINK(...)`), which spreadsheets show as text.
Only text columns are touched: numbers (a CAR of -0.012) are written as numbers, and a text
cell made only of digits, signs, points and colons (an event window "-5:5") stays as it is: it
holds no function or reference for a spreadsheet to run.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"headline": ["=1+1", "Apple rises"], "window": ["-1:1", "+5"]})
    >>> csv_bytes(frame)
    b"headline,window\\n'=1+1,-1:1\\nApple rises,+5\\n"
"""

from pathlib import Path

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"
INERT = r"^[-+]?[0-9.]+(:[-+]?[0-9.]+)?$"


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every text cell that a spreadsheet would run as a formula quoted."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if text:  # only the columns with a formula-like cell are rewritten
        starts = frame.select(pl.col(text).str.contains(FORMULA_START).any()).row(0)
        text = [name for name, found in zip(text, starts, strict=True) if found]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START) & ~pl.col(name).str.contains(INERT))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )


def csv_bytes(frame: pl.DataFrame, **options) -> bytes:
    """The frame as CSV bytes, formula cells neutralised (`options` go to `write_csv`)."""
    return neutralised(frame).write_csv(**options).encode()


def write_csv(frame: pl.DataFrame, path: str | Path, **options) -> Path:
    """Write the frame as CSV to `path`, formula cells neutralised; returns the path."""
    path = Path(path)
    neutralised(frame).write_csv(path, **options)
    return path
