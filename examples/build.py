"""Rebuild the example inputs in this folder from the data bundled with the repository.

Every file is cut from real data: stories from `data/articles/demo.jsonl`, prices from
`data/prices/prices.parquet`, whose provenance and licences are in `data/articles/PROVENANCE.md`
and `data/prices/PROVENANCE.md`. A re-run writes the same bytes.

    python examples/build.py
"""

import csv
import json
from pathlib import Path

import polars as pl

EXAMPLES = Path(__file__).resolve().parent
DATA = EXAMPLES.parent / "data"

NEWS = [  # examples/news.jsonl: the main job's input
    "av:348c325215e0778b",  # Amazon tests AI chips (AMZN subject, NVDA mentioned)
    "av:3f54b8bbc95b552c",  # American Airlines, Allegiant Travel (ALGT: no bundled prices)
    "av:62a5eba4bccd277f",  # Meta's Q1 earnings
    "polygon:c5485d588906f13b",  # Intel scores an AI chip customer
    "polygon:bbba9a231649719d",  # Micron falls 8%
]
ARTICLE = "av:f907be6970fadaf6"  # examples/article.txt: Tilray, a plain-text story
FOLDER_JSONL = ["av:3d64999463e905c4", "polygon:88ad87ba9ab6d369"]  # news/buffett.jsonl
FOLDER_CSV = ["polygon:f8a305b38d1494ce", "polygon:3bfd08b8aae86dd2"]  # news/chips.csv
FOLDER_TEXT = "seed_space_espionage"  # news/space.txt: undated, so not studied
EVENTS = [  # examples/events.csv: an event list of your own
    {"ticker": "AAPL", "date": "2024-05-03", "published_at": "", "event_id": "aapl-q2"},
    {"ticker": "MSFT", "date": "", "published_at": "2024-04-25T20:05:00Z", "event_id": ""},
    {"ticker": "NVDA", "date": "", "published_at": "2024-05-22T16:20:00-04:00", "event_id": ""},
    {"ticker": "TSLA", "date": "2024-07-24", "published_at": "", "event_id": ""},
]
PRICES = ("TLRY", "2024-06-03", "2024-08-30")  # examples/prices.csv: one ticker, one summer


def main() -> None:
    stories = {
        story["id"]: story
        for story in map(json.loads, (DATA / "articles" / "demo.jsonl").open(encoding="utf-8"))
    }
    _jsonl(EXAMPLES / "news.jsonl", [stories[i] for i in NEWS])
    tilray = stories[ARTICLE]
    _text(EXAMPLES / "article.txt", f"{tilray['title']}\n\n{tilray['body']}\n")

    folder = EXAMPLES / "news"
    folder.mkdir(exist_ok=True)
    _jsonl(folder / "buffett.jsonl", [stories[i] for i in FOLDER_JSONL])
    rows = [stories[i] for i in FOLDER_CSV]
    with (folder / "chips.csv").open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    _text(folder / "space.txt", stories[FOLDER_TEXT]["body"] + "\n")

    with (EXAMPLES / "events.csv").open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(EVENTS[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(EVENTS)

    ticker, first, last = PRICES
    prices = (
        pl.read_parquet(DATA / "prices" / "prices.parquet")
        .filter(
            pl.col("ticker") == ticker,
            pl.col("date").is_between(pl.lit(first).str.to_date(), pl.lit(last).str.to_date()),
        )
        .sort("date")
    )
    prices.write_csv(EXAMPLES / "prices.csv", float_precision=6)


def _jsonl(path: Path, records: list[dict]) -> None:
    _text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def _text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", newline="\n")


if __name__ == "__main__":
    main()
