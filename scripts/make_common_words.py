"""Regenerate data/universe/common_words.txt from the wordfreq package.

The list holds the most frequent English words: every entry of
wordfreq.top_n_list("en", 100_000) whose Zipf frequency is at least 3.0
(about once per million words) and that contains at least one letter.
Words are lower-case (as wordfreq returns them), one per line, in
descending frequency order.  With wordfreq 3.1.1 this gives about 29,000
words.

The file is used to flag single-word company aliases that are also ordinary
words ("target", "block", "shell").  It is a frequency list, not a
dictionary: frequent proper nouns (google, nvidia, disney) are in it too.

wordfreq: code Apache-2.0; word-frequency data CC BY-SA 4.0 (see
data/universe/curated/README.md).

Usage (from the repository root):
    python scripts/make_common_words.py [--min-zipf 3.0] [--out PATH]
"""

from __future__ import annotations

import argparse
from importlib.metadata import version
from pathlib import Path

import wordfreq

LANG = "en"
POOL = 100_000  # candidates taken from top_n_list before the Zipf cut
DEFAULT_MIN_ZIPF = 3.0
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "data" / "universe" / "common_words.txt"


def common_words(min_zipf: float = DEFAULT_MIN_ZIPF) -> list[str]:
    words: list[str] = []
    seen: set[str] = set()
    for w in wordfreq.top_n_list(LANG, POOL):
        if wordfreq.zipf_frequency(w, LANG) < min_zipf:
            # top_n_list is sorted by frequency, so nothing later can pass.
            break
        w = w.strip().lower()
        if not w or w in seen or not any(c.isalpha() for c in w):
            continue
        seen.add(w)
        words.append(w)
    return words


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-zipf", type=float, default=DEFAULT_MIN_ZIPF)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()
    words = common_words(args.min_zipf)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(words) + "\n", encoding="utf-8")
    source = f"wordfreq {version('wordfreq')}, zipf >= {args.min_zipf}"
    print(f"wrote {len(words)} words ({source}) to {args.out}")


if __name__ == "__main__":
    main()
