"""Aho-Corasick automata of a universe's alias keys, built once per universe and reused.

polars' `str.find_many` builds its automaton on every call: for the ~70k alias keys that is
about half a second, four times per tagging call. Here the two automata (exact-case keys, and the
lower-case keys of case-insensitive aliases) are built on a universe's first use and kept while
the universe lives. Matching is leftmost-longest and non-overlapping: what `find_many(keys,
leftmost=True)` gives with the keys longest first (the rust `aho-corasick` crate under both).

Holds no rules: which matches count is decided in `tagger.mentions`.
"""

from itertools import chain

import ahocorasick_rs
import numpy as np
import polars as pl

from tagger.universe.lookup import Universe, per_universe

_SEPARATOR = "\x00"  # joins texts into one haystack; no key holds it, so no match spans two


class KeyAutomaton:
    """One automaton of distinct keys; `find` scans many texts in one call."""

    def __init__(self, keys: list[str]):
        self.keys = pl.Series("key", sorted(set(keys)), dtype=pl.String)
        self._automaton = ahocorasick_rs.BytesAhoCorasick(
            [key.encode() for key in self.keys],
            matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
            implementation=ahocorasick_rs.Implementation.ContiguousNFA,
        )

    def find(self, texts: pl.Series) -> pl.DataFrame:
        """Matches in ASCII `texts`: row (index into texts, UInt32), start (byte = character
        offset, Int64) and key, in row and start order."""
        lengths = texts.fill_null("").str.len_bytes().cast(pl.Int64).to_numpy()
        haystack = _SEPARATOR.join(texts.fill_null("").to_list()).encode()
        found = self._automaton.find_matches_as_indexes(haystack)
        flat = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=3 * len(found))
        flat = flat.reshape(-1, 3)
        row_starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
        rows = np.searchsorted(row_starts, flat[:, 1], side="right") - 1
        return pl.DataFrame(
            {
                "row": rows.astype(np.uint32),
                "start": flat[:, 1] - row_starts[rows],
                "key": self.keys.gather(flat[:, 0]),
            }
        )


class AliasAutomata:
    """The exact-case and the case-insensitive (lower-case keys) automata of one universe."""

    def __init__(self, aliases: pl.DataFrame):
        self.exact = KeyAutomaton(aliases.filter(pl.col("exact"))["key"].to_list())
        self.folded = KeyAutomaton(aliases.filter(~pl.col("exact"))["key"].to_list())


@per_universe
def alias_automata(universe: Universe) -> AliasAutomata:
    """The automata of `universe`, built on first use, dropped with the universe."""
    return AliasAutomata(universe.aliases)
