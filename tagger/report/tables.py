"""The frames the reports show, read from the store through `queries/report/*.sql` (every read of
the article and study tables goes through those files) and reshaped; no statistics beyond the
cross-sectional mean and spread of the stored per-event CARs.

    >>> cars = pl.DataFrame({"event_id": ["a:0", "a:0"], "window_start": [0, -1],
    ...     "window_end": [0, 1], "car": [0.01, 0.02], "t": [1.0, 2.0], "p": [0.3, 0.05]})
    >>> cars_by_window(cars, [(-1, 1)]).columns
    ['event_id', 'car_m1_1', 't_m1_1', 'p_m1_1']
"""

from collections.abc import Sequence

import duckdb
import polars as pl

from tagger import sql, study

STORY_COLUMNS = ("story_id", "headline", "published_at")
ENTITY_COLUMNS = ("ticker", "name", "status", "role", "relevance", "parent_ticker", "reason")
EVENT_COLUMNS = (
    "event_id",
    "measured_ticker",
    "currency",
    "event_date",
    "rule",
    "market",
    "benchmark",
    "alpha",
    "beta",
    "estimation_days",
    "ar_0",
)
DAY0_COLUMNS = ("abnormal_volume_0", "return_0", "market_return_0", "benchmark_return_0")
# Relevance buckets of the CAAR tables and charts: (label, lowest, highest relevance).
RELEVANCE_BUCKETS = (("90-100", 90, 100), ("70-89", 70, 89), ("50-69", 50, 69), ("0-49", 0, 49))


def story_order(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str] | None) -> list[str]:
    """The ids of the stories to report (`article_ids`, default every article in the store) in
    the order of the index: newest first, undated last (`queries/report/stories.sql`)."""
    ids = None if article_ids is None else list(article_ids)
    return sql.frame(con, "report/stories", article_ids=ids)["story_id"].to_list()


def reaction_columns(windows: Sequence[tuple[int, int]]) -> list[str]:
    """The columns of reaction.csv, in order, for a study with these event windows."""
    return [
        *STORY_COLUMNS,
        *ENTITY_COLUMNS,
        *EVENT_COLUMNS,
        *window_columns(windows),
        *DAY0_COLUMNS,
        "flags",
        "note",
    ]


def window_columns(windows: Sequence[tuple[int, int]]) -> list[str]:
    """car_<w>, t_<w>, p_<w> for each window, in order."""
    return [f"{stat}_{study.window_suffix(w)}" for w in windows for stat in ("car", "t", "p")]


def reaction_table(
    con: duckdb.DuckDBPyConnection,
    article_ids: Sequence[str] | None,
    min_relevance: int,
    windows: Sequence[tuple[int, int]],
) -> pl.DataFrame:
    """One row per (story, company), from `queries/report/reactions.sql`, with the CAR, t and p
    of each window as columns; ordered by story id and the company's place in the story."""
    ids = None if article_ids is None else list(article_ids)
    rows = sql.frame(con, "report/reactions", article_ids=ids, min_relevance=min_relevance)
    measured = rows.filter(pl.col("measured"))["event_id"].to_list()
    cars = sql.frame(con, "report/cars", event_ids=measured)
    return rows.join(cars_by_window(cars, windows), on="event_id", how="left")


def cars_by_window(cars: pl.DataFrame, windows: Sequence[tuple[int, int]]) -> pl.DataFrame:
    """Long CARs (event_id, window_start, window_end, car, t, p) -> one row per event with
    car_<w>, t_<w>, p_<w> for each window in order."""
    wide = cars.select("event_id").unique(maintain_order=True)
    for start, end in windows:
        suffix = study.window_suffix((start, end))
        one = cars.filter((pl.col("window_start") == start) & (pl.col("window_end") == end))
        wide = wide.join(
            one.select(
                "event_id", *(pl.col(stat).alias(f"{stat}_{suffix}") for stat in ("car", "t", "p"))
            ),
            on="event_id",
            how="left",
        )
    return wide


def car_path_table(con: duckdb.DuckDBPyConnection, reactions: pl.DataFrame) -> pl.DataFrame:
    """The CAR paths (`queries/report/car_paths.sql`) of the measured events of `reactions`, with
    their story_id, in the order of the reaction table."""
    measured = reactions.filter(pl.col("measured")).select("story_id", "entity_idx", "event_id")
    paths = sql.frame(con, "report/car_paths", event_ids=measured["event_id"].to_list())
    order = measured.with_row_index("position")
    return order.join(paths, on="event_id").sort("position", "day").drop("position")


def summary_table(reactions: pl.DataFrame, windows: Sequence[tuple[int, int]]) -> pl.DataFrame:
    """summary.csv rows: one per measured event of `reactions`, in its order (ticker is the
    measured one: a private company's listed parent)."""
    return reactions.filter(pl.col("measured")).select(
        *STORY_COLUMNS,
        pl.col("measured_ticker").alias("ticker"),
        "name",
        "relevance",
        "event_id",
        "event_date",
        *window_columns(windows),
        "flags",
    )


def story_texts(con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]) -> dict[str, dict]:
    """story id -> its title, body, url and publisher (`queries/report/story_texts.sql`)."""
    texts = sql.frame(con, "report/story_texts", article_ids=list(article_ids))
    return {row["story_id"]: row for row in texts.iter_rows(named=True)}


def story_mentions(
    con: duckdb.DuckDBPyConnection, article_ids: Sequence[str]
) -> dict[str, list[dict]]:
    """story id -> its mentions (entity_idx, field, start, end) in text order."""
    found: dict[str, list[dict]] = {}
    for row in sql.frame(con, "report/mentions", article_ids=list(article_ids)).iter_rows(
        named=True
    ):
        found.setdefault(row.pop("story_id"), []).append(row)
    return found


def _buckets() -> list[dict]:
    return [{"bucket": b, "low": low, "high": high} for b, low, high in RELEVANCE_BUCKETS]


def caar_table(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """caar.csv: the stored CAAR rows (relevance "all"), then the rows by relevance bucket, in
    the order of RELEVANCE_BUCKETS."""
    stored = sql.frame(con, "report/study_caar")
    buckets = study.with_p_values(sql.frame(con, "report/caar_by_relevance", buckets=_buckets()))
    order = pl.DataFrame({"relevance": [b for b, _, _ in RELEVANCE_BUCKETS]}).with_row_index()
    buckets = buckets.join(order, on="relevance").sort("index", "window_start", "window_end")
    return pl.concat([stored, buckets.select(stored.columns)], how="vertical_relaxed")


def caar_paths(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The CAAR path over days -5..+5 with its 95% band, for all in-sample events (bucket "all")
    and by relevance bucket (`queries/report/caar_paths.sql`)."""
    return sql.frame(con, "report/caar_paths", buckets=_buckets())
