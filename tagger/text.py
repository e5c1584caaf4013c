"""Text folding for matching: every character maps to exactly one ASCII character.

Because the fold is one character to one character, an offset in folded text is the same offset
in the original text, and, the folded text being ASCII, polars' byte offsets are character
offsets. Typographic apostrophes, quotes and dashes become their ASCII forms, accented Latin
letters lose their accents (Nestlé -> Nestle), other letters and digits become "_" (a word
character, so no match starts inside a foreign word) and any other symbol becomes a space.
"""

import unicodedata
from functools import cache

import polars as pl

_PUNCTUATION = {
    "'": "\u2018\u2019\u201a\u201b\u2032\u02bc\u00b4\u0060",
    '"': "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb",
    "-": "\u2010\u2011\u2012\u2013\u2014\u2015\u2212",
    " ": "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f",
    ".": "\u2026\u00b7",
    "&": "\uff06",
}
_LATIN_RANGES = [(0x00C0, 0x024F), (0x1E00, 0x1EFF)]
_EXTRA_LETTERS = {
    "ß": "s",
    "ø": "o",
    "Ø": "O",
    "æ": "a",
    "Æ": "A",
    "œ": "o",
    "Œ": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ı": "i",
    "þ": "t",
    "Þ": "T",
}


@cache
def fold_table() -> dict[str, str]:
    """The explicit character map: punctuation to ASCII, accented Latin letters to their base."""
    table = {c: ascii_char for ascii_char, chars in _PUNCTUATION.items() for c in chars}
    for lo, hi in _LATIN_RANGES:
        for code in range(lo, hi + 1):
            ch = chr(code)
            base = unicodedata.normalize("NFKD", ch)[:1]
            if base.isascii() and base.isalpha():
                table[ch] = base
    table.update(_EXTRA_LETTERS)
    return table


def fold(expr: pl.Expr) -> pl.Expr:
    """Fold a string expression to ASCII, one character for one character."""
    table = fold_table()
    return (
        expr.str.replace_many(list(table), list(table.values()))
        .str.replace_all(r"[\p{L}\p{N}&&[^\x00-\x7F]]", "_")
        .str.replace_all(r"[^\x00-\x7F]", " ")
    )


def fold_str(text: str) -> str:
    """`fold` for one Python string."""
    return pl.select(fold(pl.lit(text))).item()
