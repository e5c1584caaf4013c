"""Tagging accuracy against professionally labelled news (precision, recall, F1 per source).

Usage: python bench/eval_tagging.py [NEWS_DIR] [--universe DIR] [--show N]
NEWS_DIR defaults to ../shared/data/news (beside the repo); it holds *.jsonl files with `tickers`
labels (see its PROVENANCE.md: labels are noisy and partial).

Scoring is per company: a label ticker is mapped to the company whose listing had that ticker
on the story's date (GOOG and GOOGL are one company; FB in 2020 is Meta); labels the universe
cannot map (CRYPTO:BTC, FOREX:USD, unlisted OTC symbols) are counted but not scored. Predicted =
entities listed at publication with role subject or mentioned, plus the listed parent of a
subsidiary (Instagram -> META). "Text-supported" labels are those whose symbol or company name
(first word of its listed name, three letters or more) appears in the title or body.
`top1`: of the items with a scored label and a prediction, the share whose most relevant
predicted company is labelled. `gone`: recall of labelled companies that have left the 2026
lists (delisted, acquired, taken private), found as the ticker of the story's date.

`lenient precision` forgives the single-label sources, whose items carry only the feed's ticker:
a predicted company counts as right when it is labelled OR named in the text by the test of
"text-supported", applied to every ticker and name the company had: one of its ticker symbols
(any listing, without an exchange suffix; BRK.B style) as a case-sensitive token of title or
body, or the first word (three letters or more, "The" skipped) of its latest or a former name
as a whole word ignoring case. Only predicted
companies the text does not name at all count as wrong (ETFs are not scored, as above).
`recall_main`: recall of the labels the source itself scores as the story's main companies
(Alpha Vantage `relevance_score` >= 0.5; empty for sources without per-label relevance).
"""

import argparse
import json
import sys
from pathlib import Path

import polars as pl

from tagger.resolve import tag_articles
from tagger.universe import UNIVERSE_DIR, companies_of_tickers, load

ROOT = Path(__file__).resolve().parent.parent
NEWS = ROOT.parent / "shared" / "data" / "news"
SCORED_ROLES = ("subject", "mentioned")


def read_labelled(news: Path) -> pl.DataFrame:
    rows = []
    for path in sorted(news.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            item = json.loads(line)
            published = item.get("published_at") or ""
            rows.append(
                {
                    "article_id": item["id"],
                    "source": item["source_dataset"],
                    "title": item.get("title") or "",
                    "body": item.get("body") or "",
                    "published_date": published[:10] or None,
                    "labels": [t.upper().replace(".", "-") for t in item.get("tickers", [])],
                    "label_relevance": [
                        (item.get("labels_extra") or {}).get("relevance_score", {}).get(t)
                        for t in item.get("tickers", [])
                    ],
                }
            )
    return pl.DataFrame(
        rows, schema_overrides={"label_relevance": pl.List(pl.Float64)}
    ).with_columns(pl.col("published_date").str.to_date(strict=False))


def _named_in_text(symbol: pl.Expr) -> pl.Expr:
    """`symbol` is a case-sensitive token of title + body, or the `first_word` column a whole
    word of it ignoring case."""
    text = pl.col("title") + " " + pl.col("body")
    return text.str.contains(
        pl.lit(r"\b") + symbol + pl.lit(r"\b")
    ) | text.str.to_lowercase().str.contains(
        pl.lit(r"\b") + pl.col("first_word").str.to_lowercase().fill_null("@@") + pl.lit(r"\b")
    )


def evaluate(news: Path, universe_dir: Path, show: int, source: str = "") -> pl.DataFrame:
    universe = load(universe_dir)
    items = read_labelled(news).filter(pl.col("source").str.contains(source, literal=True))
    entities, _ = tag_articles(items.drop("labels", "label_relevance", "source"), universe)

    def company_of(frame: pl.DataFrame, ticker: str) -> pl.DataFrame:
        dated = frame.rename({ticker: "ticker"}).with_columns(pl.col("as_of").cast(pl.Date))
        return companies_of_tickers(universe, dated).rename({"ticker": ticker})

    dates = items.select("article_id", pl.col("published_date").alias("as_of"))
    names = universe.companies.select(
        "company_id",
        pl.col("fate").is_not_null().alias("gone"),
        pl.col("name")
        .str.replace(r"^The\s+", "")
        .str.extract(r"^([A-Za-z][\w&'-]{2,})")
        .alias("first_word"),
    )
    labels = (
        items.select(
            "article_id",
            "source",
            "title",
            "body",
            pl.col("labels").alias("label"),
            pl.col("label_relevance").alias("label_relevance"),
        )
        .explode("label", "label_relevance")
        .drop_nulls("label")
        .join(dates, on="article_id")
        .pipe(company_of, "label")
    )
    labels = labels.join(names, on="company_id", how="left").with_columns(
        _named_in_text(pl.col("label").str.replace(r"^.*:", "")).alias("supported")
    )
    gold = labels.filter(pl.col("company_id").is_not_null()).unique(["article_id", "company_id"])

    entity_company = universe.companies.select("entity_id", "company_id")
    listed = entities.filter(pl.col("role").is_in(SCORED_ROLES))
    funds = universe.listings.filter(pl.col("security_type") == "ETF").select("company_id")
    direct = (
        listed.filter(pl.col("status") == "listed")
        .join(entity_company, on="entity_id")
        .join(funds, on="company_id", how="anti")  # the labels never name ETFs
        .select("article_id", "company_id", "name", "relevance")
    )
    parents = (
        listed.filter(pl.col("parent_ticker").is_not_null())
        .select("article_id", "parent_ticker", "name", "relevance")
        .join(dates, on="article_id")
        .pipe(company_of, "parent_ticker")
        .select("article_id", "company_id", "name", "relevance")
    )
    predicted = pl.concat([direct, parents]).sort("relevance", descending=True)
    top = predicted.unique("article_id", keep="first").join(
        gold.select("article_id").unique(), on="article_id"
    )
    predicted = predicted.unique(["article_id", "company_id"])
    # lenient: a predicted company the text names counts as right (see the module doc)
    first_word = r"^(?:The\s+)?([A-Za-z][\w&'-]{2,})"
    any_name = pl.concat(  # every ticker and name (latest or former) the company had
        [
            universe.listings.select(
                "company_id",
                pl.col("ticker").str.replace(r"\..*$", "").str.replace("-", "."),
                pl.lit(None, pl.String).alias("first_word"),
            ),
            universe.companies.select(
                "company_id",
                pl.col("ticker"),
                pl.col("name").str.extract(first_word).alias("first_word"),
            ),
            universe.names.select(
                "company_id",
                pl.lit("@@").alias("ticker"),
                pl.col("name").str.extract(first_word).alias("first_word"),
            ),
        ]
    ).unique()
    named = (
        predicted.select("article_id", "company_id")
        .join(any_name, on="company_id")
        .join(items.select("article_id", "title", "body"), on="article_id")
        .filter(_named_in_text(pl.col("ticker").fill_null("@@")))
        .select("article_id", "company_id")
        .unique()
    )
    lenient_hits = pl.concat(
        [
            predicted.join(gold, on=["article_id", "company_id"], how="semi").select(
                "article_id", "company_id"
            ),
            named,
        ]
    ).unique()
    company_ticker = universe.companies.select("company_id", pl.col("ticker").alias("primary"))

    hits = predicted.join(gold, on=["article_id", "company_id"], how="semi")
    found_gold = gold.join(
        predicted.select("article_id", "company_id", pl.lit(True).alias("found")),
        on=["article_id", "company_id"],
        how="left",
    ).with_columns(pl.col("found").fill_null(False))
    # every article counts for its source and for "all sources"
    source_of = pl.concat(
        [
            items.select("article_id", "source"),
            items.select("article_id", pl.lit("all sources").alias("source")),
        ]
    )

    def per_source(frame: pl.DataFrame, *aggs: pl.Expr) -> pl.DataFrame:
        return (
            frame.select(pl.exclude("source"))
            .join(source_of, on="article_id")
            .group_by("source")
            .agg(*aggs)
        )

    rows = (
        per_source(items, pl.len().alias("items"))
        .join(
            per_source(
                labels,
                pl.len().alias("labels"),
                pl.col("company_id").is_null().sum().alias("unmapped"),
            ),
            on="source",
            how="left",
        )
        .join(
            per_source(
                found_gold,
                pl.len().alias("gold"),
                pl.col("found").sum().alias("gold_found"),
                pl.col("supported").sum().alias("supported"),
                (pl.col("supported") & pl.col("found")).sum().alias("supported_found"),
                pl.col("gone").sum().alias("gone_labels"),
                (pl.col("label_relevance") >= 0.5).sum().alias("main_labels"),
                ((pl.col("label_relevance") >= 0.5) & pl.col("found")).sum().alias("main_found"),
                (pl.col("gone") & pl.col("found")).sum().alias("gone_found"),
            ),
            on="source",
            how="left",
        )
        .join(per_source(predicted, pl.len().alias("predicted")), on="source", how="left")
        .join(per_source(hits, pl.len().alias("correct")), on="source", how="left")
        .join(per_source(lenient_hits, pl.len().alias("named")), on="source", how="left")
        .join(
            per_source(
                top.join(gold, on=["article_id", "company_id"], how="left")
                .with_columns(pl.col("source").is_not_null().alias("right"))
                .drop("source"),
                pl.len().alias("top_items"),
                pl.col("right").sum().alias("top_right"),
            ),
            on="source",
            how="left",
        )
        .fill_null(0)
        .with_columns(
            (pl.col("correct") / pl.col("predicted")).alias("precision"),
            (pl.col("gold_found") / pl.col("gold")).alias("recall"),
            (pl.col("supported_found") / pl.col("supported")).alias("recall_supported"),
            (pl.col("top_right") / pl.col("top_items")).alias("top1"),
            (pl.col("gone_found") / pl.col("gone_labels")).alias("gone"),
            (pl.col("named") / pl.col("predicted")).alias("lenient_precision"),
            (pl.col("main_found") / pl.col("main_labels")).alias("recall_main"),
        )
        .with_columns(
            (
                2
                * pl.col("precision")
                * pl.col("recall")
                / (pl.col("precision") + pl.col("recall"))
            ).alias("f1")
        )
        .sort(pl.col("source") == "all sources", "source")
    )
    if show:
        _show_errors(items, predicted, found_gold, lenient_hits, company_ticker, show)
    return rows


def _show_errors(items, predicted, found_gold, hits, company_ticker, show: int) -> None:
    wrong = predicted.join(hits, on=["article_id", "company_id"], how="anti").join(
        company_ticker, on="company_id"
    )
    missed = found_gold.filter(pl.col("supported") & ~pl.col("found"))
    titles = items.select("article_id", "source", "title", "body")
    print("\n-- predicted, neither labelled nor named in the text (false positives)")
    for r in wrong.join(titles, on="article_id").head(show).iter_rows(named=True):
        print(f"{r['source'][:8]} {r['primary']:6} {r['name'][:30]:30} | {r['title'][:90]}")
    print("\n-- text-supported labels missed")
    for r in (
        missed.join(titles.drop("title", "body"), on="article_id").head(show).iter_rows(named=True)
    ):
        print(f"{r['source'][:8]} {r['label']:6} | {(r['title'] + ' || ' + r['body'])[:150]!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("news", nargs="?", type=Path, default=NEWS)
    parser.add_argument("--universe", type=Path, default=UNIVERSE_DIR)
    parser.add_argument("--show", type=int, default=0, help="print N errors of each kind")
    parser.add_argument("--source", default="", help="only sources whose name contains this")
    args = parser.parse_args()
    if not args.news.is_dir():
        sys.exit(f"{args.news}: no labelled news folder; pass its path (see ../shared/data/news)")
    rows = evaluate(args.news, args.universe, args.show, args.source)
    with pl.Config(tbl_rows=20, tbl_cols=20, tbl_width_chars=250, float_precision=3):
        print(
            rows.select(
                "source",
                "items",
                "labels",
                "unmapped",
                "gold",
                "predicted",
                "correct",
                "precision",
                "lenient_precision",
                "recall",
                "f1",
                "supported",
                "recall_supported",
                "top1",
                "recall_main",
                "gone_labels",
                "gone",
            )
        )


if __name__ == "__main__":
    main()
