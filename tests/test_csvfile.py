"""CSV cells a spreadsheet would run as formulas are quoted; numbers and window labels are not."""

import polars as pl
import pytest

from tagger import csvfile


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://x","y")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "\t=1",
        "-1:1+A1",
        "-A1",
    ],
)
def test_a_formula_cell_is_quoted(cell):
    written = csvfile.csv_bytes(pl.DataFrame({"headline": [cell]}))
    assert pl.read_csv(written)["headline"][0] == "'" + cell


@pytest.mark.parametrize("cell", ["-5:5", "-1:1", "0:5", "+5", "-0.25", "Apple rises"])
def test_numbers_and_window_labels_stay_as_they_are(cell):
    written = csvfile.csv_bytes(pl.DataFrame({"event_window": [cell], "car": [-0.5]}))
    read = pl.read_csv(written, schema={"event_window": pl.String, "car": pl.Float64})
    assert read.row(0) == (cell, -0.5)
