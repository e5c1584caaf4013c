"""The event study against independent numpy/scipy computations on the bundled real prices."""

import gc
import re
import weakref
from datetime import UTC, date, datetime

import duckdb
import numpy as np
import polars as pl
import pytest
import scipy.stats as st
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from tagger import pipeline, sql, store, study
from tagger.cli import app
from tagger.errors import InputError
from tagger.events import events_from_articles, events_from_csv
from tagger.paths import DATA
from tagger.sessions import calendar

PRICES = DATA / "prices" / "prices.parquet"
TOL = {"rtol": 1e-9, "atol": 1e-12}
WINDOWS = study.DEFAULT_WINDOWS
SPAN = np.arange(-5, 6)
# Real events, one per ticker and at least a month apart: complete prices around each.
EVENTS = [
    ("AAPL", date(2024, 5, 3)),
    ("NVDA", date(2024, 8, 29)),
    ("MSFT", date(2023, 10, 25)),
    ("TSLA", date(2024, 10, 24)),
    ("AMZN", date(2024, 2, 2)),
    ("META", date(2024, 4, 25)),
    ("JPM", date(2024, 1, 12)),
    ("KO", date(2023, 7, 26)),
    ("BA", date(2024, 1, 8)),
    ("NFLX", date(2024, 7, 19)),
    ("INTC", date(2024, 8, 2)),
    ("LMT", date(2024, 10, 22)),
    ("UNH", date(2024, 4, 16)),
    ("WMT", date(2025, 2, 20)),
    ("NVDA", date(2025, 1, 27)),
    ("AAPL", date(2025, 4, 4)),
    ("GS", date(2025, 4, 14)),
    ("CRM", date(2024, 5, 30)),
    ("PLTR", date(2025, 2, 4)),
    ("CVS", date(2024, 8, 7)),
]


def load_prices(path) -> object:
    con = store.connect(path)
    con.execute(
        "INSERT INTO prices SELECT ticker, date, open, high, low, close, adj_close, volume, "
        "'bundled', now() FROM read_parquet($path)",
        {"path": str(PRICES)},
    )
    return con


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    return load_prices(tmp_path_factory.mktemp("study") / "t.duckdb")


@pytest.fixture(scope="module")
def panel():
    """Independent returns: adj_close per ticker on the file's dates (the SPY calendar)."""
    prices = pl.read_parquet(PRICES)
    wide = prices.pivot(on="ticker", index="date", values="adj_close").sort("date")
    level = wide.drop("date").to_numpy()
    returns = np.full_like(level, np.nan)
    returns[1:] = level[1:] / level[:-1] - 1
    volume = prices.pivot(on="ticker", index="date", values="volume").sort("date")
    names = wide.drop("date").columns
    dates = wide["date"].to_list()
    return {
        "dates": dates,
        "ret": dict(zip(names, returns.T, strict=True)),
        "log_ret": dict(zip(names, np.log1p(returns).T, strict=True)),
        "volume": dict(zip(names, volume.drop("date").to_numpy().T, strict=True)),
    }


def events_frame(rows=EVENTS, **extra) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": [f"{t}@{d}" for t, d in rows],
            "ticker": [t for t, _ in rows],
            "published_date": [d for _, d in rows],
            **extra,
        }
    )


def reference_market_model(r, m, t0, estimation=(-250, -11)):
    """MacKinlay (1997) in matrix form: OLS by lstsq, V = sigma^2 (I + X*(X'X)^-1 X*')."""
    est = t0 + np.arange(estimation[0], estimation[1] + 1)
    x = np.column_stack([np.ones(len(est)), m[est]])
    coef, *_ = np.linalg.lstsq(x, r[est], rcond=None)
    resid = r[est] - x @ coef
    n = len(est)
    sigma2 = resid @ resid / (n - 2)
    xs = np.column_stack([np.ones(len(SPAN)), m[t0 + SPAN]])
    ar = r[t0 + SPAN] - xs @ coef
    v = sigma2 * (np.eye(len(SPAN)) + xs @ np.linalg.inv(x.T @ x) @ xs.T)
    cars = {}
    for w in WINDOWS:
        g = np.isin(SPAN, range(w[0], w[1] + 1)).astype(float)
        car, var = g @ ar, g @ v @ g
        t = car / np.sqrt(var)
        cars[w] = (car, var, t, 2 * st.t.sf(abs(t), n - 2))
    return {
        "alpha": coef[0],
        "beta": coef[1],
        "sigma": np.sqrt(sigma2),
        "n": n,
        "resid": resid,
        "ar": ar,
        "sar": ar / np.sqrt(np.diag(v)),
        "cars": cars,
        "path_var": np.array(
            [np.ones(k + 1) @ v[: k + 1, : k + 1] @ np.ones(k + 1) for k in SPAN + 5]
        ),
    }


@pytest.fixture(scope="module")
def result(con):
    return study.run_study(con, events_frame())


@pytest.fixture(scope="module")
def reference(panel):
    m = panel["ret"]["SPY"]
    out = []
    for ticker, day in EVENTS:
        t0 = panel["dates"].index(day)
        out.append(reference_market_model(panel["ret"][ticker], m, t0) | {"t0": t0})
    return out


def test_per_event_statistics_match_numpy(result, reference, panel):
    ev = result.events
    assert ev["event_id"].to_list() == [f"{t}@{d}" for t, d in EVENTS]
    np.testing.assert_allclose(ev["alpha"], [r["alpha"] for r in reference], **TOL)
    np.testing.assert_allclose(ev["beta"], [r["beta"] for r in reference], **TOL)
    np.testing.assert_allclose(ev["sigma"], [r["sigma"] for r in reference], **TOL)
    assert ev["estimation_days"].to_list() == [240] * len(EVENTS)
    np.testing.assert_allclose(ev["ar_0"], [r["ar"][5] for r in reference], **TOL)
    m = panel["ret"]["SPY"]
    np.testing.assert_allclose(ev["market_return_0"], [m[r["t0"]] for r in reference], **TOL)
    for w in WINDOWS:
        suffix = study.window_suffix(w)
        for k, stat in enumerate(("car", None, "t", "p")):
            if stat:
                expected = [r["cars"][w][k] for r in reference]
                np.testing.assert_allclose(ev[f"{stat}_{suffix}"], expected, **TOL)
    assert set(ev["flags"]) == {"date_only"}


def test_car_path_and_its_variance_match_numpy(result, reference):
    path = result.path.filter(pl.col("event_id") == "AAPL@2024-05-03").sort("day")
    ref = reference[0]
    assert path["day"].to_list() == list(SPAN)
    np.testing.assert_allclose(path["ar"], ref["ar"], **TOL)
    np.testing.assert_allclose(path["car"], np.cumsum(ref["ar"]), **TOL)
    np.testing.assert_allclose(path["car_var"], ref["path_var"], **TOL)


def test_abnormal_volume_is_log_volume_z_score(result, panel):
    ticker, day = EVENTS[0]
    t0 = panel["dates"].index(day)
    lv = np.log1p(panel["volume"][ticker].astype(float))
    est = lv[t0 - 250 : t0 - 10]
    expected = (lv[t0] - est.mean()) / est.std(ddof=1)
    assert result.events["abnormal_volume_0"][0] == pytest.approx(expected, rel=1e-9)


def test_cross_sectional_tests_match_numpy(result, reference):
    check_cross_sectional_tests(result, reference)


def test_events_on_one_ticker_and_day_count_as_separate_events(con, reference):
    """Repeats of a (ticker, day 0) share their windows (the rank pass ranks them once) and
    still count as separate events in every test, the rank and Kolari-Pynnonen ones included."""
    repeats = [0, 0, 0, 4, 4, 11]
    rows = EVENTS + [EVENTS[k] for k in repeats]
    events = events_frame(rows).with_columns(
        pl.Series("event_id", [f"e{i}" for i in range(len(rows))])
    )
    result = study.run_study(con, events, name="repeats")
    check_cross_sectional_tests(result, reference + [reference[k] for k in repeats])


def test_events_prepared_once_are_studied_as_given(con, result):
    """`tagger study` prepares the events once, for the prices and the study: a prepared frame
    is taken as it is and gives the same study."""
    settings = study.StudySettings()
    prepared = study.prepared_events(events_frame(), settings)
    assert study.prepared_events(prepared, settings) is prepared
    again = study.run_study(con, prepared, name="prepared")
    assert again.events.equals(result.events)
    for frame in ("aar", "caar"):  # a second study in the store may move a sum's last bit
        assert_frame_equal(getattr(again, frame), getattr(result, frame), rtol=1e-12)


def test_stored_rows_leave_no_arrays_behind(tmp_path):
    """A study table insert keeps no hold on the inserted arrays, even inside the transaction:
    each batch of a large study is freed once stored."""
    con = store.connect(tmp_path / "s.duckdb")
    days = np.arange(-3, 3, dtype=np.int32)
    alive = weakref.ref(days)
    with store.transaction(con):
        study._insert(con, "study_rank_days_all", {"study_id": 1, "day": days, "n": 1})
        del days
        gc.collect()
        assert alive() is None
    assert con.execute("SELECT count(*) FROM study_rank_days_all").fetchall() == [(6,)]


def test_weighted_rank_sums_are_repeated_rows():
    rng = np.random.default_rng(4)
    values = rng.integers(0, 5, (6, 25)).astype(float)
    values[rng.random(values.shape) < 0.2] = np.nan
    copies = np.array([3.0, 1.0, 2.0, 1.0, 4.0, 1.0])
    weighted = study.centred_rank_sums(values, copies=copies)
    repeated = study.centred_rank_sums(np.repeat(values, copies.astype(int), axis=0))
    for got, want in zip(weighted, repeated, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("events", [0, 1, 7])
def test_window_p_values_are_scipy_t_tails_in_any_split(monkeypatch, threads, events):
    monkeypatch.setattr(study, "_THREADS", threads)
    rng = np.random.default_rng(events)
    df = rng.integers(3, 250, events).astype(float)
    t = rng.standard_normal((events, 2)) * 3
    t[:1, 1] = np.nan
    p = study.two_sided_t_p(df[:, None], t)
    want = 2 * st.t.sf(np.abs(t), df[:, None])
    np.testing.assert_allclose(p, want, rtol=1e-9, atol=1e-15)
    assert p.shape == t.shape and np.isnan(p[:1, 1]).all()


def test_price_moves_follow_the_return_rules_cell_by_cell():
    nan, inf = float("nan"), float("inf")
    price = np.array(
        [
            [10.0, 11.0, nan, 12.0, 13.0, 60.0, 3.0],
            [5.0, 0.0, 5.0, -1.0, inf, 5.0, 5.5],
            [nan, 2.0, 2.0, nan, 1.0, 1.0, 0.09],
        ]
    )
    present = ~np.isnan(price)
    present[2, 0] = True  # a stored NaN price: implausible, no return on either side
    ratio, implausible = study.price_moves(price, present)
    for i, j in np.ndindex(price.shape):
        now, before = price[i, j], price[i, j - 1] if j else nan
        positive = present[i, j] and np.isfinite(now) and now > 0
        both = j > 0 and positive and present[i, j - 1] and np.isfinite(before) and before > 0
        want = now / before if both else nan
        assert ratio[i, j] == want or (np.isnan(want) and np.isnan(ratio[i, j])), (i, j)
        jump = both and not 0.1 <= want <= 4
        assert implausible[i, j] == (present[i, j] and (not positive or jump)), (i, j)


def _cached_table_bytes(con) -> int:
    return con.execute(
        "SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"
    ).fetchall()[0][0]


@pytest.mark.parametrize("where, limit", [("file", None), ("file", "3GB"), ("memory", None)])
def test_the_cache_is_bounded_while_writing_only_in_a_file_under_the_default_limit(
    tmp_path, where, limit
):
    con = duckdb.connect(str(tmp_path / "s.duckdb") if where == "file" else ":memory:")
    if limit:
        con.execute("SET memory_limit = $limit", {"limit": limit})
    shown = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute("CREATE TABLE t (x DOUBLE)")
    with study._bounded_cache(con), store.transaction(con):  # as a study writes
        con.execute("INSERT INTO t SELECT range * 0.5 FROM range(16000000)")
        during = _cached_table_bytes(con)
        inside = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    assert con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] == shown
    after = _cached_table_bytes(con)
    if where == "file" and limit is None:
        assert inside != shown and during <= 256 * 2**20 and after <= 64 * 2**20
    else:
        assert inside == shown  # the limit untouched: a file's cache stays as it was
        assert after > 100e6 if where == "file" else after == during == 0
    assert con.execute("SELECT sum(x) FROM t").fetchall()[0][0] == 0.25 * 15999999 * 16000000


def test_flag_texts_list_each_events_flags_in_order():
    rng = np.random.default_rng(5)
    flags = {f: rng.random(300) < 0.3 for f in study.FLAGS}
    flags = {f: np.r_[False, True, values] for f, values in flags.items()}  # none, then all
    texts = study.flag_texts(flags).to_list()
    want = [";".join(f for f in study.FLAGS if flags[f][i]) for i in range(302)]
    assert texts == want and texts[0] == "" and texts[1] == ";".join(study.FLAGS)


def check_cross_sectional_tests(result, reference):
    n = len(reference)
    df = np.array([r["n"] - 2 for r in reference])
    patell_var = np.sum(df / (df - 2))
    resid = np.array([r["resid"] for r in reference])
    corr = np.corrcoef(resid)
    r_bar = corr[~np.eye(n, dtype=bool)].mean()
    kp = np.sqrt((1 - r_bar) / (1 + (n - 1) * r_bar))
    p_hat = (resid > 0).mean(axis=1).mean()
    combined = np.array([np.concatenate([r["resid"], r["ar"]]) for r in reference])
    ranks = st.rankdata(combined, axis=1)
    u_bar = (ranks / (combined.shape[1] + 1) - 0.5).mean(axis=0)
    s_u = np.sqrt(np.mean(u_bar**2))

    def check(row, values, standardized, rank_z):
        assert row["n"] == n
        np.testing.assert_allclose(row["t_csect"], st.ttest_1samp(values, 0).statistic, **TOL)
        np.testing.assert_allclose(row["patell_z"], standardized.sum() / np.sqrt(patell_var), **TOL)
        bmp = st.ttest_1samp(standardized, 0).statistic
        np.testing.assert_allclose(row["bmp_t"], bmp, **TOL)
        np.testing.assert_allclose(row["kp_t"], bmp * kp, **TOL)
        w = (values > 0).sum()
        np.testing.assert_allclose(row["sign_z"], (w - n / 2) / np.sqrt(n / 4), **TOL)
        gsign = (w - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat))
        np.testing.assert_allclose(row["gsign_z"], gsign, **TOL)
        np.testing.assert_allclose(row["rank_z"], rank_z, **TOL)
        np.testing.assert_allclose(row["p_csect"], 2 * st.t.sf(abs(row["t_csect"]), n - 1), **TOL)
        np.testing.assert_allclose(row["p_patell"], 2 * st.norm.sf(abs(row["patell_z"])), **TOL)

    aar = result.aar.sort("day")
    assert aar["day"].to_list() == list(SPAN)
    for k, row in enumerate(aar.iter_rows(named=True)):
        ars = np.array([r["ar"][k] for r in reference])
        np.testing.assert_allclose(row["aar"], ars.mean(), **TOL)
        check(row, ars, np.array([r["sar"][k] for r in reference]), u_bar[240 + k] / s_u)

    for row in result.caar.iter_rows(named=True):
        w = (row["window_start"], row["window_end"])
        cars = np.array([r["cars"][w][0] for r in reference])
        scars = np.array([r["cars"][w][0] / np.sqrt(r["cars"][w][1]) for r in reference])
        days = np.isin(SPAN, range(w[0], w[1] + 1))
        rank_z = u_bar[240:][days].sum() / (np.sqrt(days.sum()) * s_u)
        np.testing.assert_allclose(row["caar"], cars.mean(), **TOL)
        check(row, cars, scars, rank_z)
    assert result.caar["event_window"].to_list() == ["-5:5", "-1:1", "0:0", "0:1", "0:5"]


@pytest.mark.parametrize("model", ["market_adjusted", "mean_adjusted"])
def test_other_models_match_numpy(con, panel, model):
    res = study.run_study(con, events_frame(EVENTS[:6]), model=model, returns="log")
    m = panel["log_ret"]["SPY"]
    for row, (ticker, day) in zip(res.events.iter_rows(named=True), EVENTS[:6], strict=True):
        r = panel["log_ret"][ticker]
        t0 = panel["dates"].index(day)
        est = slice(t0 - 250, t0 - 10)
        if model == "market_adjusted":
            resid, expected_ar, fec = r[est] - m[est], r[t0] - m[t0], 0.0
            assert (row["alpha"], row["beta"]) == (0.0, 1.0)
        else:
            resid, expected_ar, fec = r[est] - r[est].mean(), r[t0] - r[est].mean(), 1.0
            assert row["beta"] == 0.0
            assert row["alpha"] == pytest.approx(r[est].mean(), rel=1e-9)
        sigma = np.std(resid, ddof=1)
        assert row["sigma"] == pytest.approx(sigma, rel=1e-9)
        assert row["ar_0"] == pytest.approx(expected_ar, rel=1e-9, abs=1e-12)
        car = r[t0 - 1 : t0 + 2].sum() - (
            m[t0 - 1 : t0 + 2].sum() if model == "market_adjusted" else 3 * r[est].mean()
        )
        var = sigma**2 * (3 + fec * 9 / 240)
        assert row["car_m1_1"] == pytest.approx(car, rel=1e-9, abs=1e-12)
        assert row["t_m1_1"] == pytest.approx(car / np.sqrt(var), rel=1e-9)
        assert row["p_m1_1"] == pytest.approx(2 * st.t.sf(abs(car / np.sqrt(var)), 239), rel=1e-9)


def test_textbook_case_by_hand(tmp_path):
    """alpha, beta and the residuals are built in, so every number can be checked by hand."""
    con = store.connect(tmp_path / "hand.duckdb")
    sessions = calendar("XNYS").sessions
    first = int(np.searchsorted(sessions, np.datetime64("2024-01-02")))
    t = np.arange(40)
    m = np.where(t % 2 == 0, 0.01, -0.01)
    e = np.where((t // 2) % 2 == 0, 0.002, -0.002)
    m[30], e[30] = 0.02, 0.05  # day 0: a 5% abnormal return
    m[31], e[31] = -0.01, 0.0
    r = 0.001 + 1.5 * m + e
    volume = np.where(t % 2 == 0, 1000, 3000)
    volume[30] = 10_000
    for ticker, rets, vol in (("SPY", m, volume), ("XYZ", r, volume)):
        con.register(
            "rows",
            {
                "date": sessions[first : first + 40].astype("datetime64[s]"),
                "adj_close": 100 * np.cumprod(1 + rets),
                "volume": vol,
            },
        )
        con.execute(
            "INSERT INTO prices SELECT $t, date::DATE, NULL, NULL, NULL, NULL, adj_close, "
            "volume, 'test', now() FROM rows",
            {"t": ticker},
        )
    day0 = sessions[first + 30].astype(object)
    res = study.run_study(
        con,
        pl.DataFrame({"event_id": ["x"], "ticker": ["XYZ"], "published_date": [day0]}),
        estimation=(-24, -5),
        min_estimation_days=20,
        windows=[(0, 0), (0, 1)],
    )
    row = res.events.row(0, named=True)
    sigma2 = 20 * 0.002**2 / 18  # SSR / (L - 2), L = 20
    assert row["alpha"] == pytest.approx(0.001, abs=1e-12)
    assert row["beta"] == pytest.approx(1.5, rel=1e-9)
    assert row["sigma"] ** 2 == pytest.approx(sigma2, rel=1e-9)
    assert row["ar_0"] == pytest.approx(0.05, rel=1e-9)
    # market mean 0, sum of squared deviations 20 * 0.01^2 = 0.002
    assert row["t_0_0"] == pytest.approx(0.05 / np.sqrt(sigma2 * (1 + 1 / 20 + 0.02**2 / 0.002)))
    assert row["car_0_1"] == pytest.approx(0.05, rel=1e-9)
    car_var = sigma2 * (2 + 2**2 / 20 + (0.02 - 0.01) ** 2 / 0.002)
    assert row["t_0_1"] == pytest.approx(0.05 / np.sqrt(car_var), rel=1e-9)
    low, high = np.log(1001), np.log(3001)
    z = (np.log(10_001) - (low + high) / 2) / ((high - low) / 2 * np.sqrt(20 / 19))
    assert row["abnormal_volume_0"] == pytest.approx(z, rel=1e-9)
    assert row["market_return_0"] == pytest.approx(0.02, rel=1e-9)


def test_flags_and_kept_events(tmp_path):
    con = load_prices(tmp_path / "flags.duckdb")
    # a missing price inside a window, and a thin estimation window
    con.execute("DELETE FROM prices WHERE ticker = 'KO' AND date = '2024-03-13'")
    con.execute(
        "UPDATE prices SET volume = 0 WHERE ticker = 'PEP' AND date BETWEEN '2023-06-01' AND "
        "'2023-08-15'"
    )
    events = pl.DataFrame(
        {
            "event_id": ["gap", "thin", "none", "early", "a", "b", "timed"],
            "ticker": ["KO", "PEP", "NOPE", "AAPL", "MSFT", "MSFT", "JPM"],
            "published_date": [
                date(2024, 3, 12),
                date(2024, 1, 10),
                date(2024, 1, 10),
                date(2021, 6, 1),
                date(2024, 6, 3),
                date(2024, 6, 5),
                None,
            ],
            "published_at": [None] * 6 + [datetime(2024, 4, 12, 20, 30)],
            "benchmark": ["XLP", "XLP", None, None, None, None, "XLF"],
        }
    )
    res = study.run_study(con, events)
    flags = dict(zip(res.events["event_id"], res.events["flags"], strict=True))
    assert flags["gap"] == "gap_in_window;date_only"
    assert flags["thin"] == "thin_trading;date_only"
    assert flags["none"] == "no_prices;date_only"
    assert flags["early"] == "short_estimation;date_only"
    assert flags["a"] == flags["b"] == "confounded;date_only"
    assert flags["timed"] == ""
    timed = res.events.filter(pl.col("event_id") == "timed").row(0, named=True)
    assert (timed["event_date"], timed["rule"]) == (date(2024, 4, 15), "after_close")
    assert timed["benchmark_return_0"] is not None
    # the day after the missing price has no return either (never compounded over the gap)
    gap = res.path.filter(pl.col("event_id") == "gap").sort("day")
    assert gap.filter(pl.col("ret").is_null())["day"].to_list() == [1, 2]
    none = res.events.filter(pl.col("event_id") == "none").row(0, named=True)
    assert none["alpha"] is None and none["car_0_1"] is None
    # events without prices or with a short estimation window stay out of the tests
    assert (res.aar["n"].max(), res.aar["n"].min()) == (5, 4)


def test_store_is_replaced_not_duplicated_and_survives_a_failed_run(tmp_path, monkeypatch):
    con = load_prices(tmp_path / "idem.duckdb")

    def counts():
        tables = ["study_events", "study_estimates", "study_abnormal_returns", "study_cars"]
        return [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables] + [
            con.execute("SELECT count(*) FROM study_aar").fetchone()[0]
        ]

    study.run_study(con, events_frame(EVENTS[:5]))
    first = counts()
    assert first == [5, 5, 55, 25, 11]
    study.run_study(con, events_frame(EVENTS[:5]))
    assert counts() == first

    real_insert = study._insert

    def failing_insert(con_, table, columns):
        if table == "study_cars_all":
            raise RuntimeError("disk full")
        real_insert(con_, table, columns)

    monkeypatch.setattr(study, "_insert", failing_insert)
    with pytest.raises(RuntimeError):
        study.run_study(con, events_frame(EVENTS[:8]))
    assert counts() == first


def test_user_queries_run_on_the_stored_study(con):
    study.run_study(con, events_frame())
    assert {"car_by_ticker", "event_reactions", "car_path", "study_summary"} <= set(sql.available())
    rows = sql.frame(con, "car_by_ticker", window="-1:1")
    assert set(rows["ticker"]) == {t for t, _ in EVENTS}
    assert rows["events"].sum() == len(EVENTS)
    assert set(rows["currency"]) == {"USD"}
    path = sql.frame(con, "car_path", event_id="AAPL@2024-05-03")
    assert path["day"].to_list() == list(SPAN)
    reactions = sql.run(con, "event_reactions", window="0:1").fetchall()
    assert len(reactions) == len(EVENTS)
    summary = sql.run(con, "study_summary").fetchall()
    assert len(summary) == len(WINDOWS)


def test_write_csvs(result, tmp_path):
    paths = result.write_csvs(tmp_path / "out")
    assert [p.name for p in paths] == ["events.csv", "aar.csv", "caar.csv"]
    events = pl.read_csv(paths[0])
    assert events.columns[:3] == ["event_id", "ticker", "company"]
    assert {"car_m1_1", "t_m1_1", "p_m1_1", "alpha", "beta", "flags"} <= set(events.columns)
    assert pl.read_csv(paths[1]).columns[:4] == ["day", "n", "aar", "t_csect"]
    assert pl.read_csv(paths[2]).columns[:5] == [
        "event_window",
        "window_start",
        "window_end",
        "n",
        "caar",
    ]


def test_a_study_with_out_writes_what_write_csvs_writes(tmp_path):
    con = load_prices(tmp_path / "o.duckdb")
    res = study.run_study(con, events_frame(), out=tmp_path / "out")
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["aar.csv", "caar.csv", "events.csv"]  # nothing partial left
    again = res.write_csvs(tmp_path / "again")
    for path in again:
        assert (tmp_path / "out" / path.name).read_bytes() == path.read_bytes()


def test_a_study_that_is_not_stored_writes_no_events_csv(tmp_path, monkeypatch):
    con = load_prices(tmp_path / "o.duckdb")

    def failing(*args):
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(study, "_store", failing)
    with pytest.raises(duckdb.IOException):
        study.run_study(con, events_frame(), out=tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"model": "fama_french"}, "unknown model 'fama_french'"),
        ({"returns": "excess"}, "unknown returns"),
        ({"windows": [(-12, 1)]}, "overlaps the estimation window"),
        ({"windows": [(2, 1)]}, "must run forwards"),
        ({"estimation": (-11, -250)}, "estimation window -11:-250 must run forwards"),
        ({"min_estimation_days": 500}, "min estimation days 500"),
        ({"market": "NOPE"}, "market proxy NOPE has no prices"),
    ],
)
def test_bad_options_give_one_clear_line(con, options, message):
    with pytest.raises(InputError, match=message) as error:
        study.run_study(con, events_frame(EVENTS[:1]), **options)
    assert "\n" not in str(error.value)


def test_window_parsing():
    assert study.parse_windows("0:0, -1:1") == ((0, 0), (-1, 1))
    assert study.parse_range("-250:-11") == (-250, -11)
    with pytest.raises(InputError, match="not START:END"):
        study.parse_windows("0-1")


def test_rank_sums_match_scipy_with_ties_and_gaps():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 6, (300, 40)).astype(float)
    values[rng.random(values.shape) < 0.15] = np.nan
    values[7] = np.nan
    values[9, :5] = [-0.0, 0.0, 1e-300, -1e-300, 0.0]
    sums, counts = study.centred_rank_sums(values)
    ranks = st.rankdata(values, axis=1, nan_policy="omit")
    valid = (~np.isnan(values)).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(sums, np.nansum(ranks / (valid + 1) - 0.5, axis=0), atol=1e-12)
    np.testing.assert_array_equal(counts, (~np.isnan(values)).sum(axis=0))


def test_events_from_csv(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "ticker,date,published_at,benchmark\n"
        "aapl,2024-05-03,,xlk\n"
        "MSFT,,2024-05-02T16:05:00-04:00,\n"
        "MSFT,,2024-05-02 20:05:00,\n"
        "AAPL,2024-05-03,,\n"
    )
    events = events_from_csv(path)
    assert events["event_id"].to_list() == [
        "AAPL@2024-05-03",
        "MSFT@2024-05-02T20:05:00Z",
        "MSFT@2024-05-02T20:05:00Z#2",
        "AAPL@2024-05-03#2",
    ]
    assert events["benchmark"].to_list() == ["XLK", None, None, None]
    assert events["published_at"][1] == events["published_at"][2]  # offset vs naive UTC


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("symbol,date\nAAPL,2024-05-03\n", "no 'ticker' column"),
        ("ticker,when\nAAPL,2024-05-03\n", "no 'date' or 'published_at' column"),
        ("ticker,date\nAAPL,2024-05-03\nMSFT,03/05/2024\n", "line 3: date '03/05/2024'"),
        ("ticker,published_at\nAAPL,yesterday\n", "line 2: published_at 'yesterday'"),
        ("ticker,date\n,2024-05-03\n", "line 2: empty ticker"),
        ("event_id,ticker,date\nx,AAPL,2024-05-03\nx,MSFT,2024-05-03\n", "'x' appears more"),
    ],
)
def test_bad_csv_gives_one_clear_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        events_from_csv(path)


def test_events_from_articles(tmp_path):
    con = store.connect(tmp_path / "articles.duckdb")
    con.execute(
        "INSERT INTO articles (article_id, body, published_at, published_date) VALUES "
        "('a1', 'x', '2024-05-02 20:30:00+00', NULL), ('a2', 'y', NULL, '2024-05-03')"
    )
    con.execute(
        "INSERT INTO entities (article_id, entity_idx, name, status, ticker, sector, "
        "sector_etf, parent_ticker, relevance, role) VALUES "
        "('a1', 0, 'Apple', 'listed', 'AAPL', 'Information Technology', 'XLK', NULL, 90, "
        "'subject'),"
        "('a1', 1, 'Microsoft', 'listed', 'MSFT', 'Technology', 'XLK', NULL, 30, 'mentioned'),"
        "('a1', 2, 'Waymo', 'private', NULL, NULL, NULL, 'GOOGL', 70, 'subject'),"
        "('a2', 0, 'SpaceX', 'private', NULL, NULL, NULL, NULL, 80, 'subject'),"
        "('a2', 1, 'Acme', 'unresolved', NULL, NULL, NULL, NULL, 99, 'subject')"
    )
    events = events_from_articles(con)
    assert events.select("event_id", "ticker", "status", "benchmark").rows() == [
        ("a1:0", "AAPL", "listed", "XLK"),
        ("a1:2", "GOOGL", "private", None),
        ("a2:0", None, "private", None),
    ]
    assert events["published_at"][0] == datetime(2024, 5, 2, 20, 30, tzinfo=UTC)
    assert len(events_from_articles(con, min_relevance=20)) == 4
    con.execute(
        "INSERT INTO prices SELECT ticker, date, open, high, low, close, adj_close, volume, "
        "'bundled', now() FROM read_parquet($path) WHERE ticker IN ('AAPL', 'SPY', 'XLK')",
        {"path": str(PRICES)},
    )
    res = study.run_study(con, events)
    assert res.events["flags"].to_list() == ["", "no_prices", "no_prices;date_only"]
    assert res.events["event_date"][0] == date(2024, 5, 3)


# -- listings on other venues: the KRX sample ----------------------------------------------

KRX = {"005930.KS": "Samsung Electronics", "000660.KS": "SK hynix"}
KRX_INDEX = "^KSEW"  # a test index: equal-weighted Samsung and SK hynix
KRX_EVENTS = [  # (event_id, ticker, instant UTC, day 0 on XKRX, rule)
    (
        "samsung",
        "005930.KS",
        datetime(2024, 5, 2, 10, 0, tzinfo=UTC),
        date(2024, 5, 3),
        "after_close",
    ),
    (
        "hynix",
        "000660.KS",
        datetime(2024, 7, 25, 7, 0, tzinfo=UTC),
        date(2024, 7, 26),
        "after_close",
    ),
    (
        "samsung_open",
        "005930.KS",
        datetime(2025, 1, 8, 0, 30, tzinfo=UTC),
        date(2025, 1, 8),
        "in_session",
    ),
    (
        "hynix_early",
        "000660.KS",
        datetime(2024, 11, 13, 23, 0, tzinfo=UTC),
        date(2024, 11, 14),
        "pre_open",
    ),
]


def krx_panel():
    """Adjusted closes of the KRX sample on the XKRX sessions (NaN where missing), and the
    equal-weighted index of the two stocks' returns."""
    cal = calendar("XKRX")
    sessions = cal.sessions[cal.sessions <= np.datetime64("2026-05-29")]
    closes = {}
    for ticker in KRX:
        rows = pl.read_csv(DATA / "prices" / "samples" / f"{ticker}.csv.gz", try_parse_dates=True)
        where = np.searchsorted(sessions, rows["Date"].to_numpy().astype("datetime64[D]"))
        on_session = sessions[np.minimum(where, len(sessions) - 1)] == rows["Date"].to_numpy()
        level = np.full(len(sessions), np.nan)
        level[where[on_session]] = rows["Close"].to_numpy()[on_session]
        closes[ticker] = level
    returns = {t: np.r_[np.nan, c[1:] / c[:-1] - 1] for t, c in closes.items()}
    index_return = np.nan_to_num((returns["005930.KS"] + returns["000660.KS"]) / 2)
    closes[KRX_INDEX] = 1000 * np.cumprod(1 + index_return)
    return sessions, closes


def load_krx(con) -> None:
    sessions, closes = krx_panel()
    for ticker, level in closes.items():
        keep = ~np.isnan(level)
        con.register(
            "rows",
            {"date": sessions[keep].astype("datetime64[s]"), "adj_close": level[keep]},
        )
        con.execute(
            "INSERT INTO prices SELECT $t, date::DATE, NULL, NULL, NULL, adj_close, adj_close, "
            "NULL, 'test', now() FROM rows",
            {"t": ticker},
        )
        con.unregister("rows")


@pytest.fixture(scope="module")
def krx_con(tmp_path_factory):
    con = load_prices(tmp_path_factory.mktemp("krx") / "krx.duckdb")
    load_krx(con)
    return con


def krx_events(market=KRX_INDEX) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "event_id": [e[0] for e in KRX_EVENTS] + ["apple_same_instant"],
            "ticker": [e[1] for e in KRX_EVENTS] + ["AAPL"],
            "published_at": [e[2] for e in KRX_EVENTS] + [KRX_EVENTS[0][2]],
            "market": [market] * len(KRX_EVENTS) + [None],
        }
    )


def test_a_seoul_story_after_the_close_moves_the_next_krx_session(krx_con):
    res = study.run_study(krx_con, krx_events())
    rows = res.events.rows_by_key("event_id", named=True, unique=True)
    for event_id, ticker, _, day0, rule in KRX_EVENTS:
        row = rows[event_id]
        assert (row["event_date"], row["rule"]) == (day0, rule)
        assert (row["calendar"], row["currency"], row["market"]) == ("XKRX", "KRW", KRX_INDEX)
        assert row["ticker"] == ticker and row["flags"] == ""
    apple = rows["apple_same_instant"]  # 10:00 UTC is 06:00 in New York: before the open
    assert (apple["event_date"], apple["rule"]) == (date(2024, 5, 2), "pre_open")
    assert (apple["calendar"], apple["currency"], apple["market"]) == ("XNYS", "USD", "SPY")


def test_krx_events_match_numpy_on_krx_sessions(krx_con):
    res = study.run_study(krx_con, krx_events())
    sessions, closes = krx_panel()
    returns = {t: np.r_[np.nan, c[1:] / c[:-1] - 1] for t, c in closes.items()}
    market = returns[KRX_INDEX]
    rows = res.events.rows_by_key("event_id", named=True, unique=True)
    for event_id, ticker, _, day0, _ in KRX_EVENTS:
        t0 = int(np.searchsorted(sessions, np.datetime64(day0)))
        window = slice(t0 - 250, t0 + 6)
        assert not np.isnan(returns[ticker][window]).any()  # complete data around the event
        ref = reference_market_model(returns[ticker], market, t0)
        row = rows[event_id]
        for name in ("alpha", "beta", "sigma"):
            np.testing.assert_allclose(row[name], ref[name], **TOL)
        np.testing.assert_allclose(row["ar_0"], ref["ar"][5], **TOL)
        np.testing.assert_allclose(row["market_return_0"], market[t0], **TOL)
        for w in WINDOWS:
            car, _, t, p = ref["cars"][w]
            suffix = study.window_suffix(w)
            np.testing.assert_allclose(
                [row[f"car_{suffix}"], row[f"t_{suffix}"], row[f"p_{suffix}"]], [car, t, p], **TOL
            )


def test_us_results_are_the_same_next_to_foreign_events(krx_con, reference, panel):
    """A US event measures the same alone and in a study with KRX events (SPY, XNYS)."""
    mixed = study.run_study(
        krx_con, pl.concat([events_frame(EVENTS[:3]), krx_events()], how="diagonal")
    )
    alone = study.run_study(krx_con, events_frame(EVENTS[:3]))
    columns = [
        c for c in alone.events.columns if re.match(r"(alpha|beta|sigma|ar_0|car_|t_|p_)", c)
    ]
    ids = alone.events["event_id"]
    assert (
        mixed.events.filter(pl.col("event_id").is_in(ids.implode()))
        .select(columns)
        .equals(alone.events.select(columns))
    )
    np.testing.assert_allclose(alone.events["beta"], [r["beta"] for r in reference[:3]], **TOL)
    # the tests pool events by relative day: 3 US and 5 KRX-calendar events (Apple included)
    assert mixed.aar["n"].to_list() == [8] * len(SPAN)


def test_the_default_market_of_a_korean_listing_is_its_local_index(krx_con):
    res = study.run_study(krx_con, krx_events(market=None).head(2))
    assert res.events["market"].to_list() == ["^KS11", "^KS11"]
    assert res.events["flags"].to_list() == ["no_prices", "no_prices"]
    assert res.events["note"][0] == "no prices for 005930.KS or its market proxy ^KS11"
    forced = study.run_study(krx_con, krx_events(market=None).head(2), market=KRX_INDEX)
    assert forced.events["market"].to_list() == [KRX_INDEX] * 2
    assert forced.events["flags"].to_list() == ["", ""]


def test_a_venue_without_a_calendar_is_flagged_not_studied(krx_con):
    events = pl.DataFrame(
        {
            "event_id": ["doha", "apple"],
            "ticker": ["QNBK.QA", "AAPL"],
            "published_date": [date(2024, 5, 2), date(2024, 5, 2)],
        }
    )
    res = study.run_study(krx_con, events)
    doha = res.events.row(0, named=True)
    assert doha["flags"] == "no_prices;no_calendar;date_only"
    assert doha["calendar"] is None and doha["currency"] == "QAR"
    assert doha["note"] == "no trading calendar for the venue of QNBK.QA; not studied"
    assert res.events["flags"][1] == "date_only"


# -- events outside the calendar, implausible prices -----------------------------------------


@pytest.mark.parametrize(
    "days",
    [
        [date(2030, 1, 2), date(1985, 3, 1), date(1, 1, 1)],
        [date(2030, 1, 2), date(2024, 5, 3), date(1, 1, 1), date(9999, 12, 31), date(1990, 3, 1)],
    ],
)
def test_events_outside_the_calendar_are_flagged_whatever_the_mix(con, days):
    events = pl.DataFrame(
        {
            "event_id": [f"e{k}" for k in range(len(days))],
            "ticker": ["AAPL"] * len(days),
            "published_date": days,
        }
    )
    res = study.run_study(con, events)
    for day, flags, note in zip(days, res.events["flags"], res.events["note"], strict=True):
        if day.year in (1, 1985, 2030, 9999):
            assert flags == "no_prices;outside_calendar;date_only"
            assert note.startswith(f"{day.isoformat()} is outside the XNYS calendar (1990-01-02..")
        elif day.year == 1990:  # day 0 exists, its estimation window does not (nor prices)
            assert flags == "short_estimation;gap_in_window;date_only"
        else:
            assert flags == "date_only"


def test_an_instant_outside_the_calendar_is_flagged(con):
    events = pl.DataFrame(
        {
            "event_id": ["far", "near"],
            "ticker": ["AAPL", "AAPL"],
            "published_at": [
                datetime(2099, 1, 5, 15, tzinfo=UTC),
                datetime(2024, 5, 2, 15, tzinfo=UTC),
            ],
        }
    )
    res = study.run_study(con, events)
    assert res.events["flags"].to_list() == ["no_prices;outside_calendar", ""]


def test_implausible_prices_are_flagged_and_left_out_of_the_tests(tmp_path):
    con = load_prices(tmp_path / "jump.duckdb")
    # KO: a 10x price for one day inside the estimation window; PEP: a zero price on day 0;
    # SPY stays clean, so every other event is measured as usual
    con.execute(
        "UPDATE prices SET adj_close = adj_close * 10 WHERE ticker = 'KO' AND date = '2023-05-10'"
    )
    con.execute("UPDATE prices SET adj_close = 0 WHERE ticker = 'PEP' AND date = '2023-07-13'")
    rows = [("KO", date(2023, 7, 26)), ("PEP", date(2023, 7, 13)), *EVENTS[:4]]
    for returns in ("simple", "log"):
        res = study.run_study(con, events_frame(rows), returns=returns)
        flags = res.events["flags"].to_list()
        assert flags[:2] == ["price_jump;date_only", "price_jump;gap_in_window;date_only"]
        assert set(flags[2:]) == {"date_only"}
        assert res.events["note"][0].startswith("implausible price")
        assert res.events["in_sample"].to_list() == [False, False, True, True, True, True]
        assert set(res.aar["n"]) == {4}


# -- reproducible outputs, stored studies, spreadsheet-safe CSVs ---------------------------


def test_a_rerun_writes_the_same_bytes_whatever_the_threads(con, tmp_path, monkeypatch):
    events = events_frame(EVENTS * 1).vstack(
        events_frame(EVENTS).with_columns(pl.col("event_id") + "_again")
    )
    written = []
    for run, threads in enumerate((1, 2, 4)):
        monkeypatch.setattr(study, "_THREADS", threads)
        monkeypatch.setattr(study, "_CHUNK", 7)  # several chunks, summed in a fixed order
        con.execute(f"SET threads = {threads}")
        res = study.run_study(con, events)
        paths = res.write_csvs(tmp_path / str(run))
        written.append([p.read_bytes() for p in paths])
    con.execute("RESET threads")
    assert written[0] == written[1] == written[2]


def test_studies_are_kept_by_name_and_queries_pick_one(tmp_path):
    con = load_prices(tmp_path / "many.duckdb")
    first = study.run_study(con, events_frame(EVENTS[:4]), name="tech")
    second = study.run_study(con, events_frame(EVENTS[4:10]), name="mixed", windows=[(0, 1)])
    assert (first.study_id, second.study_id) == (1, 2)
    studies = sql.frame(con, "studies")
    assert studies.select("study_id", "name", "events").rows() == [(2, "mixed", 6), (1, "tech", 4)]
    # the views without _all show the latest study; the named queries take one by name or id
    assert con.execute("SELECT count(*) FROM study_events").fetchall() == [(6,)]
    assert sql.frame(con, "study_summary")["name"].unique().to_list() == ["mixed"]
    assert sql.frame(con, "study_summary", study="tech")["event_window"].len() == len(WINDOWS)
    tech = sql.frame(con, "event_reactions", window="0:1", study=1)
    assert sorted(tech["event_id"]) == sorted(first.events["event_id"])
    np.testing.assert_allclose(
        tech.sort("event_id")["car"], first.events.sort("event_id")["car_0_1"], **TOL
    )
    assert sql.frame(con, "car_by_ticker", window="0:1", study="tech")["events"].sum() == 4
    path = sql.frame(con, "car_path", event_id=EVENTS[0][0] + "@" + str(EVENTS[0][1]), study="tech")
    assert path["day"].to_list() == list(SPAN)
    with pytest.raises(duckdb.InvalidInputException, match="no stored study nope"):
        sql.frame(con, "study_summary", study="nope")
    # re-running a name replaces that study only, under a new id (now the latest)
    again = study.run_study(con, events_frame(EVENTS[:2]), name="tech")
    assert again.study_id == 3
    assert sql.frame(con, "studies").select("study_id", "name").rows() == [
        (3, "tech"),
        (2, "mixed"),
    ]
    counts = con.execute(
        "SELECT study_id, count(*) FROM study_events_all GROUP BY ALL ORDER BY 1"
    ).fetchall()
    assert counts == [(2, 6), (3, 2)]
    keys = con.execute(
        "SELECT count(DISTINCT event_key), count(*) FROM study_events_all"
    ).fetchall()
    assert keys[0][0] == keys[0][1]  # event keys never repeat across studies
    with pytest.raises(InputError, match="study name '12'"):
        study.run_study(con, events_frame(EVENTS[:2]), name="12")


def test_events_from_articles_carry_their_article_and_entity(tmp_path):
    con = load_prices(tmp_path / "ids.duckdb")
    con.execute(
        "INSERT INTO articles (article_id, body, published_date) VALUES ('a1', 'x', '2024-05-03')"
    )
    con.execute(
        "INSERT INTO entities (article_id, entity_idx, name, status, ticker, relevance, role) "
        "VALUES ('a1', 3, 'Apple', 'listed', 'AAPL', 90, 'subject')"
    )
    study.run_study(con, events_from_articles(con))
    stored = con.execute("SELECT event_id, article_id, entity_idx, entity_id FROM study_events")
    assert stored.fetchall() == [("a1:3", "a1", 3, None)]


def test_csvs_are_safe_to_open_in_a_spreadsheet(con, tmp_path):
    events = events_frame(EVENTS[:3]).with_columns(
        pl.Series("company", ['=HYPERLINK("http://x")', "+SUM(1)", "Apple"])
    )
    res = study.run_study(con, events)
    text = res.write_csvs(tmp_path)[0].read_text()
    assert "'=HYPERLINK" in text and ",'+SUM(1)," in text
    assert pl.read_csv(tmp_path / "events.csv")["car_0_1"].dtype == pl.Float64


def test_prices_are_asked_for_each_event_on_its_own_calendar(tmp_path):
    """pipeline.ensure_event_prices asks for each event's ticker and market proxy over its own
    calendar's estimation and event days (offline: what is missing comes back as gaps)."""
    con = store.connect(tmp_path / "ask.duckdb")
    events = krx_events(market=None)  # Korean events: ^KS11; Apple: SPY
    settings = study.StudySettings()
    report = pipeline.ensure_event_prices(con, events, settings, online=False)
    gaps = {gap.ticker: gap for gap in report.gaps}
    assert "^KS11" in gaps  # no licensed copy of the KOSPI index is bundled
    # from the bundled snapshots (US and KRX)
    assert not {"SPY", "AAPL", "005930.KS", "000660.KS"} & set(gaps)
    xkrx = calendar("XKRX")
    first_day0 = np.searchsorted(xkrx.sessions, np.datetime64(date(2024, 5, 3)))
    last_day0 = np.searchsorted(xkrx.sessions, np.datetime64(date(2025, 1, 8)))
    margin = pipeline.PRICE_MARGIN
    start = xkrx.sessions[first_day0 - 250 - 1 - margin].astype(object)
    end = xkrx.sessions[last_day0 + 5 + margin].astype(object)
    assert (gaps["^KS11"].start, gaps["^KS11"].end) == (start, end)
    spy = con.execute("SELECT min(date), max(date) FROM prices WHERE ticker = 'SPY'").fetchall()
    assert spy[0][0] <= date(2023, 4, 1) and spy[0][1] >= date(2024, 5, 9)


def test_study_command_keeps_named_studies_and_queries_pick_one(tmp_path):
    """`tagger study --name` stores a study beside the others; `tagger query` reads the latest
    or the one asked for, and an unknown one is one line."""
    runner = CliRunner()
    events = tmp_path / "events.csv"
    events.write_text(
        "ticker,published_at,market\n"
        "AAPL,2024-05-02T10:00:00Z,\n"
        "brk.b,2024-05-02T21:00:00Z,\n"
        "MSFT,2024-05-02T10:00:00Z,QQQ\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "s.duckdb")
    for name in ("first", "second"):
        out = tmp_path / name
        result = runner.invoke(
            app,
            ["study", "--events", str(events), "--out", str(out), "--db", db, "--name", name],
        )
        assert result.exit_code == 0, result.output
    written = pl.read_csv(tmp_path / "first" / "events.csv")
    assert written["ticker"].to_list() == ["AAPL", "BRK-B", "MSFT"]
    assert written["market"].to_list() == ["SPY", "SPY", "QQQ"]
    assert written["currency"].to_list() == ["USD"] * 3
    assert written["event_date"].to_list() == ["2024-05-02", "2024-05-03", "2024-05-02"]
    listed = runner.invoke(app, ["query", "studies", "--db", db, "--csv", str(tmp_path / "s.csv")])
    assert listed.exit_code == 0, listed.output
    assert pl.read_csv(tmp_path / "s.csv")["name"].to_list() == ["second", "first"]
    unknown = runner.invoke(app, ["query", "study_summary", "--db", db, "--param", "study=nope"])
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == (
        "error: query study_summary: no stored study nope; `tagger query studies` lists them"
    )
