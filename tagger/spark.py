"""Tagging a corpus on Apache Spark: the local corpus path, run on each partition.

`tag_articles(articles)` takes a Spark DataFrame of articles (columns id, title, body,
published_at, found by the names the local readers accept, or as `columns` names them) and
returns two Spark DataFrames, defined lazily:
- `entities`: one row per entity of each article, the fields of `tagger tag --format jsonl`
  (`tagger.entity_rows.ROW_SCHEMA`: mentions as a list of structs);
- `problems`: one row per record that was skipped (id as given, field, reason), as the local
  readers report them: no text, an unparseable publication time, an article over 5 MB...

Each partition is tagged on its own by `mapInArrow` with `tagger.resolve.tag_articles`, the
same code and answers as `tagger tag`, so the work spreads over the executors. The universe is
the one bundled in the package: each Python worker loads it once (`tagger.universe.load` is
cached per process) and nothing but the date for undated articles is shipped from the driver.
market-tagger must be installed where the executors' Python runs (see the README).

    from pyspark.sql import SparkSession
    from tagger import spark

    session = spark.session("local[2]")
    news = session.read.parquet("news.parquet")
    tags = spark.tag_articles(news, columns={"title": "headline"})
    tags.entities.write.parquet("tags")
    tags.problems.show()

`tag_table` is the job of `tagger spark tag`: read a Parquet or Delta table, write both (the
problems beside the entities, in OUT_problems).
Repeated ids are not detected across partitions: each copy is tagged.
"""

import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial

import polars as pl
import pyarrow as pa

from tagger.articles import articles_from_frame, input_columns
from tagger.entity_rows import ROW_SCHEMA, entity_rows
from tagger.errors import InputError, TaggerError
from tagger.resolve import tag_articles as tag_frame
from tagger.universe import load

FIELDS = ("id", "title", "body", "published_at")
"""The article fields read from a Spark DataFrame (by default from columns of these names)."""

PROBLEM_SCHEMA = pa.schema([("id", pa.string()), ("field", pa.string()), ("reason", pa.string())])
"""The columns of the problems DataFrame: the record's id as given (null if none), the field at
fault (null for the record as a whole) and what is wrong."""

FORMATS = ("parquet", "delta")
INSTALL_SPARK = "pip install 'market-tagger[spark]'"
INSTALL_DELTA = "pip install delta-spark (the release built for your pyspark version)"
_SOURCE = "spark"  # the file name the article checks give; problems carry the id instead


@dataclass(frozen=True)
class SparkTags:
    """The lazily defined results of `tag_articles` (Spark DataFrames)."""

    entities: object
    problems: object


@dataclass(frozen=True)
class TableSummary:
    """What `tag_table` wrote: entity rows, problem rows, and the first problems as lines."""

    entities: int
    problems: int
    first_problems: list[str]


def tag_articles(articles, columns: dict[str, str] | None = None) -> SparkTags:
    """Tag a Spark DataFrame of articles; `columns` maps fields (id, title, body, published_at)
    to other column names. A field whose column is absent is empty (title or body is needed).

    >>> tags = tag_articles(spark.createDataFrame([("a", "Tilray (NASDAQ: TLRY) rose.")],
    ...                                           "id string, body string"))   # doctest: +SKIP
    >>> tags.entities.select("id", "ticker").first()                            # doctest: +SKIP
    Row(id='a', ticker='TLRY')
    """
    from pyspark.sql.pandas.types import from_arrow_schema

    selected = _article_columns(articles, columns)
    with warnings.catch_warnings():  # about pandas 3, which mapInArrow does not use
        warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas")
        entities = selected.mapInArrow(
            partial(_tag_batches, today=date.today()), from_arrow_schema(ROW_SCHEMA)
        )
        problems = selected.mapInArrow(_problem_batches, from_arrow_schema(PROBLEM_SCHEMA))
    return SparkTags(entities, problems)


def tag_table(
    spark, source: str, out: str, *, fmt: str = "parquet", columns: dict[str, str] | None = None
) -> TableSummary:
    """Tag the articles of the Parquet files or Delta table at `source` and write the entity
    rows to `out`, and the problems beside it to `problems_path(out)`, in the same format
    (replacing them).

    Returns a `TableSummary`, counted from what was written. Example (a SparkSession from
    `session()`): `tag_table(spark, "news.parquet", "tags")`.
    """
    from pyspark.errors import AnalysisException

    if fmt not in FORMATS:
        raise TaggerError(f"format {fmt!r}: give one of {', '.join(FORMATS)}")
    try:
        articles = spark.read.format(fmt).load(str(source))
    except AnalysisException as e:
        raise InputError(f"{source}: cannot read it as {fmt} ({_first_line(e)})") from None
    tags = tag_articles(articles, columns)
    problems_out = problems_path(out)
    tags.entities.write.format(fmt).mode("overwrite").save(str(out))
    tags.problems.write.format(fmt).mode("overwrite").save(problems_out)
    written = spark.read.format(fmt).load(problems_out)
    first = [
        f"{row['id'] or '(no id)'}: {row['field'] or 'record'}: {row['reason']}"
        for row in written.limit(20).collect()
    ]
    entities = spark.read.format(fmt).load(str(out)).count()
    return TableSummary(entities, written.count(), first)


def problems_path(out: str) -> str:
    """Where `tag_table` writes the problems of a run writing to `out`: `out` + "_problems" (a
    sibling: Spark does not read folders whose name starts with "_", nor mixed folders)."""
    return str(out).rstrip("/") + "_problems"


def session(master: str = "local[*]", conf: dict[str, str] | None = None, *, delta=False):
    """A SparkSession for tagging: `conf` on top of these defaults: polars uses one thread
    per task (`spark.executorEnv.POLARS_MAX_THREADS=1`: Spark runs a task per core), and on a
    local master the workers run this Python (unless PYSPARK_PYTHON says otherwise); Spark logs
    errors only. With `delta`, the Delta Lake extensions (from delta-spark) are configured.

    Raises TaggerError with a one-line fix when PySpark, delta-spark or Java is missing.
    Example: `session("local[2]", {"spark.driver.memory": "4g"})`.
    """
    try:
        from pyspark.errors import PySparkRuntimeError
        from pyspark.sql import SparkSession
    except ImportError:
        raise TaggerError(f"Spark needs PySpark: {INSTALL_SPARK}") from None
    settings = {
        "spark.executorEnv.POLARS_MAX_THREADS": "1",
        "spark.ui.showConsoleProgress": "false",
    }
    if master.startswith("local"):  # pyspark starts the workers with $PYSPARK_PYTHON
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if delta:
        settings["spark.sql.extensions"] = "io.delta.sql.DeltaSparkSessionExtension"
        settings["spark.sql.catalog.spark_catalog"] = (
            "org.apache.spark.sql.delta.catalog.DeltaCatalog"
        )
    builder = SparkSession.builder.master(master).appName("tagger")
    for key, value in (settings | (conf or {})).items():
        builder = builder.config(key, value)
    if delta:
        try:
            from delta import configure_spark_with_delta_pip
        except ImportError:
            raise TaggerError(f"Delta tables need delta-spark: {INSTALL_DELTA}") from None
        builder = configure_spark_with_delta_pip(builder)
    try:
        spark = builder.getOrCreate()
    except PySparkRuntimeError as e:
        raise TaggerError(
            f"Spark did not start ({_first_line(e)}); it needs Java 17 or newer on PATH or in "
            "JAVA_HOME"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")  # a bad path is our one-line error, not a stack
    return spark


def _article_columns(articles, columns: dict[str, str] | None):
    """The columns the article fields are read from: those `columns` names (renamed to their
    field), else those the local readers would read (`input_columns`), and `_problem_id`, the
    record's id as given, to name it in a problem."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    columns = columns or {}
    unknown = sorted(set(columns) - set(FIELDS))
    if unknown:
        raise TaggerError(f"columns: no field {unknown[0]!r}; the fields are {', '.join(FIELDS)}")
    types = {field.name: field.dataType for field in articles.schema.fields}
    absent = [name for name in columns.values() if name not in types]
    if absent:
        raise InputError(f"no column {absent[0]!r}; the columns are {', '.join(types)}")
    picked = {
        field: [columns[field]] if field in columns else input_columns(types, field)
        for field in FIELDS
    }
    if not picked["title"] and not picked["body"]:
        raise InputError(
            f"no body or title column; the columns are {', '.join(types)} "
            "(say which holds the text: columns={'body': NAME}, or --column body=NAME)"
        )
    text_types = (T.StringType, T.NumericType, T.DateType, T.TimestampType, T.TimestampNTZType)
    for field, names in picked.items():
        for name in names:
            if not isinstance(types[name], text_types):
                kind = types[name].simpleString()
                raise InputError(f"column {name!r} ({field}) holds {kind}, expected text")
    ids = [F.col(name).cast("string") for name in picked["id"]]
    problem_id = F.coalesce(*[F.when(i != "", i) for i in ids], F.lit(None).cast("string"))
    return articles.select(
        *[
            F.col(name).alias(field) if field in columns else F.col(name)
            for field, names in picked.items()
            for name in names
        ],
        problem_id.alias("_problem_id"),
    )


def _tag_batches(batches: Iterator[pa.RecordBatch], today: date) -> Iterator[pa.RecordBatch]:
    """Run on the executors: the entity rows of each batch of articles."""
    universe = load()
    for batch in batches:
        articles, _ = articles_from_frame(pl.from_arrow(batch), _SOURCE)
        if articles.is_empty():
            continue
        entities, mentions = tag_frame(articles, universe, today=today)
        rows = entity_rows(articles, entities, mentions)
        yield from rows.to_arrow().cast(ROW_SCHEMA).to_batches()


def _problem_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Run on the executors: a row per bad record of each batch of articles."""
    for batch in batches:
        frame = pl.from_arrow(batch)
        _, problems = articles_from_frame(frame, _SOURCE)
        if problems:
            ids = frame["_problem_id"]
            rows = [[ids[p.record - 1] for p in problems], [p.field for p in problems]]
            rows.append([p.message for p in problems])
            yield pa.RecordBatch.from_arrays(
                [pa.array(r, pa.string()) for r in rows], schema=PROBLEM_SCHEMA
            )


def _first_line(error: object) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
