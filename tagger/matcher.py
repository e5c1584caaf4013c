"""Aho-Corasick automata of a universe's alias keys, built once per universe and reused.

polars' `str.find_many` builds its automaton on every call: for the ~70k alias keys that is
about half a second, four times per tagging call. Here the two automata (exact-case keys, and the
lower-case keys of case-insensitive aliases) are built on a universe's first use and kept while
the universe lives, each with its aliases sorted by key, so that a match reaches the companies
its key may name by position (no join with the whole alias table). Matching is leftmost-longest
and non-overlapping: what `find_many(keys, leftmost=True)` gives with the keys longest first (the
rust `aho-corasick` crate under both).

Holds no rules: which matches count is decided in `tagger.mentions`.
"""

from itertools import chain

import ahocorasick_rs
import numpy as np
import polars as pl
from ahocorasick_rs import Implementation

from tagger.universe.lookup import Universe, per_universe

_SEPARATOR = "\x00"  # joins texts into one haystack; no key holds it, so no match spans two


class KeyAutomaton:
    """One automaton of the distinct keys of `rows` (a frame with a key column); `find` scans
    many texts in one call and gives each match with its key's rows."""

    def __init__(self, rows: pl.DataFrame, implementation: Implementation):
        self.rows = rows.sort("key", maintain_order=True)
        keys = self.rows["key"]
        self.keys = keys.unique(maintain_order=True)
        self._first = keys.search_sorted(self.keys, side="left").to_numpy().astype(np.int64)
        self._count = keys.search_sorted(self.keys, side="right").to_numpy() - self._first
        self._automaton = ahocorasick_rs.BytesAhoCorasick(
            [key.encode() for key in self.keys],
            matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
            implementation=implementation,
        )

    def find(self, texts: pl.Series) -> pl.DataFrame:
        """Matches in ASCII `texts`, one row per match and row of its key: row (index into
        texts, UInt32), start (byte = character offset, Int64) and the key's row's columns, in
        text, start and key-row order."""
        lengths = texts.fill_null("").str.len_bytes().cast(pl.Int64).to_numpy()
        haystack = _SEPARATOR.join(texts.fill_null("").to_list()).encode()
        found = self._automaton.find_matches_as_indexes(haystack)
        flat = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=3 * len(found))
        flat = flat.reshape(-1, 3)
        row_starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
        rows = np.searchsorted(row_starts, flat[:, 1], side="right") - 1
        # each match repeated once per row of its key (most keys have one)
        counts = self._count[flat[:, 0]]
        match = np.repeat(np.arange(len(flat)), counts)
        offsets = np.arange(len(match)) - np.repeat(np.cumsum(counts) - counts, counts)
        return pl.DataFrame(
            {
                "row": rows[match].astype(np.uint32),
                "start": (flat[:, 1] - row_starts[rows])[match],
            }
        ).hstack(self.rows[self._first[flat[match, 0]] + offsets])


class AliasAutomata:
    """The exact-case and the case-insensitive (lower-case keys) automata of one universe.

    The few thousand exact keys make a DFA (built in ~0.05 s, scans ~1.5x as fast as an NFA);
    the ~66k lower-case keys a contiguous NFA (their DFA takes ~3 s to build, scans ~1.2x)."""

    def __init__(self, aliases: pl.DataFrame):
        self.exact = KeyAutomaton(aliases.filter(pl.col("exact")), Implementation.DFA)
        self.folded = KeyAutomaton(aliases.filter(~pl.col("exact")), Implementation.ContiguousNFA)


@per_universe
def alias_automata(universe: Universe) -> AliasAutomata:
    """The automata of `universe`, built on first use, dropped with the universe."""
    return AliasAutomata(universe.aliases)
