"""Rebuild data/articles/demo.jsonl: the bundled demo stories.

Usage: python scripts/build_demo.py [NEWS_DIR]   (default ../shared/data/news)

Takes the labelled Polygon and Alpha Vantage stories that have a publication time, whose subject
(a listed company the tagger scores >= 50) has bundled prices (data/prices/tickers.txt) with a
full estimation window before the story, keeping at most two stories per subject ticker, up to
48 stories; then adds the seed story without a publication time (its reaction table says why it
is not studied). Fields kept: id, title, body, published_at, publisher, url.
"""

import json
import sys
from pathlib import Path

import polars as pl

from tagger import read_articles, tag_articles

ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT.parent / "shared" / "data" / "news"
SOURCES = ("polygon_reference_news.jsonl", "alphavantage_news_sentiment.jsonl")
FIRST_STUDIED = "2022-01-01"  # bundled prices start 2021-01: 250 trading days of history
MAX_STORIES, PER_TICKER = 48, 2


def main(news: Path) -> None:
    batch = read_articles([news / name for name in SOURCES])
    timed = batch.articles.filter(
        pl.col("published_at").is_not_null(),
        pl.col("published_at") >= pl.lit(FIRST_STUDIED).str.to_datetime(time_zone="UTC"),
    )
    priced = set((ROOT / "data" / "prices" / "tickers.txt").read_text().split())
    entities, _ = tag_articles(timed)
    subjects = entities.filter(
        pl.col("status") == "listed",
        pl.col("relevance") >= 50,
        pl.col("ticker").is_in(list(priced)),
    )
    chosen = (
        subjects.sort("relevance", descending=True)
        .unique("article_id", keep="first", maintain_order=True)
        .join(timed.select("article_id", "published_at"), on="article_id")
        .sort("published_at")
        .filter(pl.int_range(pl.len()).over("ticker") < PER_TICKER)
        .head(MAX_STORIES)
    )
    stories = timed.join(chosen.select("article_id"), on="article_id", how="semi").sort(
        "published_at"
    )
    out = ROOT / "data" / "articles" / "demo.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as f:
        for row in stories.iter_rows(named=True):
            record = {
                "id": row["article_id"],
                "title": row["title"],
                "body": row["body"],
                "published_at": row["published_raw"],
                "publisher": row["publisher"],
                "url": row["url"],
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        seed = (news / "seed_space_espionage.txt").read_text(encoding="utf-8")
        f.write(json.dumps({"id": "seed_space_espionage", "body": seed}, ensure_ascii=False) + "\n")
    print(
        f"{out}: {stories.height} timed stories + the seed story; "
        f"{chosen['ticker'].n_unique()} subject tickers"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else NEWS)
