"""Entity rows: the tags of a corpus as one table, one row per entity of each article.

A row holds the article's `id`, `published_at` and `status_as_of`, the entity's place in its
article's list (`entity_idx`, 0 first) and the entity's fields as in `tagger tag --format jsonl`
(components as a struct, mentions as a list of structs), plus `sector_etf`, the second
benchmark a study of the entity uses. `tagger spark tag` writes this table as Parquet (the
schema is `ROW_SCHEMA`); `tagger run ARTICLES --tags TAGS` reads it back into the store's
entities and mentions instead of tagging again.

    import polars as pl
    from tagger import read_articles, tag_articles
    from tagger.entity_rows import entity_rows, split_entity_rows

    batch = read_articles(["news.jsonl"])
    rows = entity_rows(batch.articles, *tag_articles(batch.articles))
    entities, mentions = split_entity_rows(rows)  # as tag_articles gave them, for store_tags

This module converts tables; it does not tag and does not read articles.
"""

from pathlib import Path

import polars as pl
import pyarrow as pa

from tagger.errors import InputError
from tagger.resolve import ENTITY_COLUMNS, MENTION_COLUMNS, nested_records

_TEXT = pa.string()
ROW_SCHEMA = pa.schema(
    [
        ("id", _TEXT),
        ("published_at", _TEXT),
        ("status_as_of", _TEXT),
        ("entity_idx", pa.int32()),
        ("name", _TEXT),
        ("status", _TEXT),
        ("ticker", _TEXT),
        ("exchange", _TEXT),
        ("currency", _TEXT),
        ("us_ticker", _TEXT),
        ("entity_id", _TEXT),
        ("cik", _TEXT),
        ("sector", _TEXT),
        ("sector_etf", _TEXT),
        ("relevance", pa.int32()),
        ("role", _TEXT),
        ("parent_ticker", _TEXT),
        ("reason", _TEXT),
        ("as_of", _TEXT),
        (
            "listings",
            pa.list_(
                pa.struct(
                    [(name, _TEXT) for name in ("ticker", "exchange", "mic", "currency", "role")]
                    + [("from", _TEXT), ("to", _TEXT)]
                )
            ),
        ),
        (
            "components",
            pa.struct(
                [
                    ("title", pa.bool_()),
                    ("lead", pa.bool_()),
                    ("first", pa.bool_()),
                    ("marker", pa.bool_()),
                    ("share", pa.float64()),
                    ("mentions", pa.int32()),
                ]
            ),
        ),
        (
            "mentions",
            pa.list_(
                pa.struct(
                    [
                        ("field", _TEXT),
                        ("start", pa.int64()),
                        ("end", pa.int64()),
                        ("text", _TEXT),
                        ("zone", _TEXT),
                    ]
                )
            ),
        ),
    ]
)
"""The columns of an entity-rows table (Arrow types; Spark's are the same)."""


def entity_rows(
    articles: pl.DataFrame, entities: pl.DataFrame, mentions: pl.DataFrame
) -> pl.DataFrame:
    """The entity rows of `tag_articles`' result on `articles`, by article and `entity_idx`."""
    records = nested_records(articles, entities, mentions)
    rows = (
        records.explode("entities")
        .filter(pl.col("entities").is_not_null())
        .with_columns(pl.int_range(pl.len()).over("id").cast(pl.Int32).alias("entity_idx"))
        .unnest("entities")
    )
    etfs = entities.select(pl.col("article_id").alias("id"), "entity_idx", "sector_etf")
    rows = rows.join(etfs, on=["id", "entity_idx"], how="left", maintain_order="left")
    return rows.select(ROW_SCHEMA.names).cast(
        {"components": _polars_type("components"), "mentions": _polars_type("mentions")}
    )


def split_entity_rows(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Entity rows back into the `(entities, mentions)` frames `tag_articles` returns (columns
    `ENTITY_COLUMNS` and `MENTION_COLUMNS`), e.g. for `store_tags`; `share` is rounded to 3
    places, as in the rows."""
    missing = [name for name in ROW_SCHEMA.names if name not in rows.columns]
    if missing:
        raise InputError(
            f"not a table of entity rows (no column {missing[0]!r}); "
            "give the output of `tagger spark tag`"
        )
    components = pl.col("components").struct
    entities = rows.select(
        pl.col("id").alias("article_id"),
        *ENTITY_COLUMNS[1 : ENTITY_COLUMNS.index("as_of")],
        pl.col("as_of").str.to_date(),
        "listings",
        components.field("title").alias("in_title"),
        components.field("lead").alias("in_lead"),
        components.field("first").alias("first"),
        components.field("marker").alias("marker"),
        components.field("share").alias("share"),
        components.field("mentions").cast(pl.UInt32).alias("n_mentions"),
    ).select(ENTITY_COLUMNS)
    mentions = (
        rows.select(pl.col("id").alias("article_id"), "entity_idx", "mentions")
        .explode("mentions")
        .filter(pl.col("mentions").is_not_null())
        .unnest("mentions")
        .select(MENTION_COLUMNS)
    )
    return entities, mentions


def read_entity_rows(path: str | Path) -> pl.DataFrame:
    """Read entity rows from a Parquet file, or a folder of them as Spark writes it (its
    `part-*.parquet` files; its subfolders are not read)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise InputError(f"{path}: no .parquet files in this folder")
    try:
        return pl.read_parquet(files)
    except pl.exceptions.PolarsError as e:
        first = str(e).strip().splitlines()[0]
        raise InputError(f"{path}: cannot read the entity rows ({first})") from None


def _polars_type(name: str) -> pl.DataType:
    return pl.from_arrow(pa.schema([ROW_SCHEMA.field(name)]).empty_table()).schema[name]


def read_tags(path: str | Path, article_ids: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The `(entities, mentions)` in the entity rows at `path` (see `read_entity_rows`), checked
    against the articles they tag: every row's id must be one of `article_ids`, and no article
    may be tagged twice. Raises InputError with one line otherwise."""
    rows = read_entity_rows(path)
    entities, mentions = split_entity_rows(rows)  # checks the columns
    unknown = rows.filter(~pl.col("id").is_in(article_ids.implode()))["id"].unique(
        maintain_order=True
    )
    if not unknown.is_empty():
        raise InputError(
            f"{path}: {unknown.len():,} tagged article ids are not among the articles read "
            f"(first {unknown[0]!r}); give the files that were tagged"
        )
    twice = rows.filter(pl.struct("id", "entity_idx").is_duplicated())["id"]
    if not twice.is_empty():
        raise InputError(
            f"{path}: article {twice[0]!r} is tagged twice (its id occurs more than once in "
            "the tagged input); give each article one id"
        )
    return entities, mentions
