"""Regenerate data/universe/dictionary_words.txt: ordinary English words.

A word is listed when it is a lower-case entry of Webster's Second International dictionary (the
`web2` list shipped by the `english-words` package, public domain) and it is in common use
(wordfreq Zipf frequency >= 3.0, i.e. at least once per million words). Proper nouns such as
Nvidia, Google or Texas are not lower-case dictionary entries, so they are not listed; apple,
target, block and visa are. The tagger uses it to flag single-word company names that are
ordinary words (and so need corroboration in text).

Usage: pip install english-words wordfreq && python scripts/make_dictionary_words.py
"""

from pathlib import Path

import wordfreq
from english_words import get_english_words_set

OUT = Path(__file__).resolve().parent.parent / "data" / "universe" / "dictionary_words.txt"
MIN_ZIPF = 3.0


def main() -> None:
    web2 = get_english_words_set(["web2"], lower=False, alpha=True)
    words = sorted(w for w in web2 if w.islower() and wordfreq.zipf_frequency(w, "en") >= MIN_ZIPF)
    OUT.write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(words)} words (zipf >= {MIN_ZIPF})")


if __name__ == "__main__":
    main()
