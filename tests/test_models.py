"""Every model behind the one fit/predict protocol, and what each is for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from juno_forecast.forecast import SeriesForecaster
from juno_forecast.models import MODEL_NAMES, make_model
from juno_forecast.models.auto import AutoModel, _combine_cv, inverse_error_weights, mix_label
from juno_forecast.models.base import Forecaster, ModelTags, PastTimestampsError, get_tags
from juno_forecast.models.checks import (
    CHECKS,
    check_clone_is_independent,
    check_init_stores_params,
    check_model,
    check_past_timestamps,
    check_predict_has_no_side_effects,
    sample_data,
)
from juno_forecast.models.naive import SeasonalNaive

INTERVALS = ["lo_95", "lo_80", "yhat", "hi_80", "hi_95"]
SEASON_STEPS = {"h": 168, "D": 7}


def daily_series(
    days: int = 120, seed: int = 1, event_every: int | None = None
) -> tuple[pd.Series, pd.DataFrame]:
    """Weekly cycle, slow growth, noise; optionally a -40% event every ``event_every`` days."""
    idx = pd.date_range("2024-01-01", periods=days, freq="D")
    rng = np.random.default_rng(seed)
    weekly = np.array([1.0, 1.05, 1.1, 1.1, 1.25, 1.3, 0.8])[idx.day_of_week]
    level = 1000 * (1 + 0.001 * np.arange(days)) * weekly * rng.normal(1, 0.02, days)
    X = pd.DataFrame(index=idx)
    if event_every:
        X["Event"] = (np.arange(days) % event_every == event_every - 1).astype(float)
        level = level * (1 - 0.4 * X["Event"].to_numpy())
    return pd.Series(level, index=idx, name="y"), X


def hourly_series(weeks: int = 5, seed: int = 2) -> pd.Series:
    idx = pd.date_range("2024-01-01", periods=weeks * 168, freq="h")
    rng = np.random.default_rng(seed)
    day = 1 + 0.8 * np.sin(2 * np.pi * (idx.hour - 6) / 24)
    week = np.where(idx.day_of_week >= 5, 0.8, 1.0)
    return pd.Series(rng.poisson(200 * day * week).astype(float), index=idx)


def future(y: pd.Series, steps: int, freq: str) -> pd.DatetimeIndex:
    step = pd.Timedelta(hours=1) if freq == "h" else pd.Timedelta(days=1)
    return pd.date_range(y.index[-1] + step, periods=steps, freq=freq)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_registered_model_passes_the_model_checks(name, check):
    """The protocol, checked on every model of the registry (daily data)."""
    check(lambda: make_model(name, freq="D", seed=0), "D")


@pytest.mark.parametrize("name", ["naive", "ols", "ets", "baseline"])
def test_fast_models_pass_the_model_checks_on_hourly_data(name):
    check_model(name, freq="h")


class _MutatingNaive(SeasonalNaive):
    """Counts its predictions on itself: what Prophet did to ``model_.holidays``."""

    def predict(self, X):
        self.calls_ = getattr(self, "calls_", 0) + 1
        return super().predict(X)


class _ValidatingNaive(SeasonalNaive):
    """Turns a parameter into something else in ``__init__`` (breaks get_params and clone)."""

    def __init__(self, freq: str = "h", season: int | None = None, seed: int = 0):
        super().__init__(freq=freq, season=season, seed=seed)
        self.season = int(season or 7)


_SHARED: dict[str, pd.Series] = {}


class _SharedStateNaive(SeasonalNaive):
    """Keeps its history in a module-level store: every copy forecasts from the last fit."""

    def fit(self, y, X=None):
        super().fit(y, X)
        _SHARED["y"] = self.y_
        return self

    def predict(self, X):
        self.y_ = _SHARED["y"]
        return super().predict(X)


class _PastBlindNaive(SeasonalNaive):
    """Claims to predict the past but answers it with zeros."""

    def predict(self, X):
        p = super().predict(X)
        return p.where(p.index > self.last_, 0.0)


class _FutureOnlyNaive(SeasonalNaive):
    """Declares it cannot predict the past, yet does not say so when asked."""

    def __juno_tags__(self) -> ModelTags:
        return ModelTags(predicts_past=False, uses_calendar=False)


@pytest.mark.parametrize(
    "model, check, message",
    [
        (_MutatingNaive, check_predict_has_no_side_effects, "predict changed the model"),
        (_ValidatingNaive, check_init_stores_params, "changes parameter 'season'"),
        (_SharedStateNaive, check_clone_is_independent, "changed the original's forecast"),
        (_PastBlindNaive, check_past_timestamps, "in-sample error"),
        (_FutureOnlyNaive, check_past_timestamps, "answered the past"),
    ],
)
def test_the_model_checks_catch_a_broken_model(model, check, message):
    with pytest.raises(AssertionError, match=message):
        check(lambda: model(freq="D"), "D")


def test_prophet_predict_leaves_the_fitted_holidays_alone():
    """Future event days reach Prophet without touching the fitted model's holidays table."""
    y, X, Xf = sample_data("D")
    m = make_model("prophet", freq="D").fit(y, X)
    before = m.model_.holidays.copy()
    with_event = m.predict(Xf)
    pd.testing.assert_frame_equal(m.model_.holidays, before)
    no_event = m.predict(Xf.assign(Event=0.0))
    on = Xf["Event"].to_numpy() > 0
    assert (with_event[on] < 0.8 * no_event[on]).all(), "the future event days are used"


def test_tags_declare_what_each_model_can_do():
    tags = {n: get_tags(make_model(n, freq="D")) for n in MODEL_NAMES}
    assert [n for n, t in tags.items() if t.self_backtests] == ["auto"]
    assert not tags["naive"].uses_calendar and tags["ols"].uses_calendar
    assert all(t.predicts_past for n, t in tags.items() if n != "baseline")
    assert [n for n, t in tags.items() if t.predicts_ranges] == ["baseline"]
    assert tags["baseline"].handles_gaps and not tags["baseline"].uses_calendar
    assert get_tags(object()) == ModelTags(), "a plain object gets the defaults"


def test_series_forecaster_clones_a_model_object_and_reads_its_tags():
    """A model object is cloned, never fitted itself; a self-backtesting one (auto, given as an
    object with two candidates) supplies the backtest the ranges are calibrated on."""
    y, _ = daily_series()
    model = AutoModel(freq="D", candidates=("naive", "ols"))
    f = SeriesForecaster(model, calendar="none", metric="trips", freq="D").fit(y)
    assert not [k for k in vars(model) if k.endswith("_")], "the given object stays unfitted"
    assert f.model_ is not model and set(f.model_.scores_) == {"naive", "ols"}
    assert f.cv_ is f.model_.cv_ and f.model_.n_folds == 6
    naive = SeriesForecaster(SeasonalNaive(freq="D"), calendar="none", freq="D").fit(y)
    assert naive.cv_["fold"].nunique() == 6, "other models are backtested by the forecaster"


def test_impact_refuses_a_model_that_cannot_predict_the_past():
    """impact's counterfactual lives on past timestamps: the tag, not the name, says no."""
    from juno_forecast import impact
    from juno_forecast.errors import InputError

    y, _ = daily_series()
    df = pd.DataFrame({"ds": y.index, "y": y.to_numpy(), "metric": "trips"})
    with pytest.raises(InputError, match="'baseline' cannot predict past timestamps"):
        impact(df, "2024-04-01", "2024-04-02", model="baseline", calendar="none")


def test_a_model_that_cannot_predict_the_past_says_so():
    y, X, _ = sample_data("D")
    with pytest.raises(PastTimestampsError, match="predicts only timestamps after"):
        from juno_forecast.models.base import past_timestamps_error

        raise past_timestamps_error(SeasonalNaive(freq="D"), y.index[-1])


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_follows_the_protocol(name):
    y, X = daily_series(event_every=10)
    m = make_model(name, freq="D", seed=0)
    assert not [k for k in vars(m) if k.endswith("_")], "no fitted state before fit"
    assert m.fit(y, X) is m
    assert [k for k in vars(m) if k.endswith("_")], "fitted state ends in _"
    idx = future(y, 14, "D")
    Xf = pd.DataFrame({"Event": (np.arange(14) % 10 == 3).astype(float)}, index=idx)
    p = m.predict(Xf)
    assert isinstance(p, pd.Series) and p.index.equals(idx)
    assert np.isfinite(p.to_numpy()).all() and (p > 0).all()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_conformance_through_series_forecaster(name):
    """Shapes, index, finite values, ordered non-negative ranges, same result with the same seed."""
    y, _ = daily_series()
    idx = future(y, 14, "D")
    a = (
        SeriesForecaster(
            name, calendar="none", metric="trips", keys={"zone": "A"}, freq="D", seed=3
        )
        .fit(y)
        .predict(idx)
    )
    b = (
        SeriesForecaster(
            name, calendar="none", metric="trips", keys={"zone": "A"}, freq="D", seed=3
        )
        .fit(y)
        .predict(idx)
    )
    assert list(a.columns) == ["yhat", "lo_80", "hi_80", "lo_95", "hi_95", "events"]
    assert a.index.equals(idx)
    values = a[INTERVALS].to_numpy()
    assert np.isfinite(values).all()
    assert (np.diff(values, axis=1) >= 0).all(), "lo_95 <= lo_80 <= yhat <= hi_80 <= hi_95"
    assert (values >= 0).all()
    assert (a["hi_95"] > a["lo_95"]).all(), "ranges have a width"
    pd.testing.assert_frame_equal(a, b)
    # a sensible forecast: within 15% of the same weekday's level
    expected = y.iloc[-7:].to_numpy()
    assert np.allclose(a["yhat"].iloc[:7], expected, rtol=0.15)


@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if n != "prophet"])
def test_conformance_hourly(name):
    y = hourly_series()
    idx = future(y, 48, "h")
    out = (
        SeriesForecaster(name, calendar="none", metric="trips", freq="h", seed=0)
        .fit(y)
        .predict(idx)
    )
    values = out[INTERVALS].to_numpy()
    assert out.index.equals(idx) and np.isfinite(values).all()
    assert (np.diff(values, axis=1) >= 0).all() and (values >= 0).all()
    # the daily cycle is kept: afternoon peak above the night trough
    assert out["yhat"].iloc[12] > 2 * out["yhat"].iloc[0]


def test_seasonal_naive_repeats_last_week():
    y = hourly_series(weeks=3)
    idx = future(y, 200, "h")
    p = make_model("naive", freq="h").fit(y).predict(pd.DataFrame(index=idx))
    assert np.array_equal(p.to_numpy()[:168], y.to_numpy()[-168:])
    assert np.array_equal(p.to_numpy()[168:], y.to_numpy()[-168:-136])


@pytest.mark.parametrize("name", ["ols", "gbm", "ets", "prophet"])
def test_models_learn_a_recurring_event(name):
    """An event seen in history (-40% every 10 days) lowers the forecast on its next day."""
    y, X = daily_series(days=140, event_every=10)
    idx = future(y, 14, "D")
    Xf = pd.DataFrame({"Event": np.zeros(14)}, index=idx)
    Xf.iloc[9, 0] = 1.0  # day 150 of the cycle
    p = make_model(name, freq="D").fit(y, X).predict(Xf)
    same_weekday = p.iloc[2]  # a week earlier than the event day
    assert p.iloc[9] < 0.8 * same_weekday


def test_auto_prefers_naive_on_an_exactly_weekly_series_and_a_model_on_a_trend():
    idx = pd.date_range("2024-01-01", periods=120, freq="D")
    weekly = pd.Series(np.array([5.0, 6, 7, 8, 9, 10, 4])[idx.day_of_week] * 100, index=idx)
    exact = AutoModel(freq="D").fit(weekly)
    assert exact.chosen_ == "naive" and exact.weights_ == {"naive": 1.0}
    trend, _ = daily_series(days=120)
    trend = trend * np.exp(
        np.linspace(0, 1.2, 120)
    )  # +1% a day: last week's value is always too low
    auto = AutoModel(freq="D").fit(trend)
    assert auto.scores_["ols"] < auto.scores_["naive"]
    assert "naive" not in auto.weights_, "a model 5x worse in the backtest gets no weight"
    assert max(auto.weights_, key=auto.weights_.get) == "ols"
    assert auto.chosen_.startswith("ols ") and abs(sum(auto.weights_.values()) - 1) < 1e-12
    assert auto.cv_ is not None and len(auto.cv_) == 6 * 7
    assert AutoModel(freq="D", combine="best").fit(trend).chosen_ == "ols"


def test_auto_weights_follow_inverse_squared_backtest_error():
    """Weights are 1 / MAE^2, normalized; the mix's backtest is the weighted candidates' one."""
    idx = pd.date_range("2024-01-01", periods=14, freq="D")
    y = np.full(14, 100.0)
    cvs = {
        "a": pd.DataFrame({"y": y, "yhat": y + 1.0}),  # MAE 1
        "b": pd.DataFrame({"y": y, "yhat": y - 2.0}),  # MAE 2
        "c": pd.DataFrame({"y": y, "yhat": y + 10.0}),  # MAE 10: weight 1/100, dropped
    }
    w = inverse_error_weights(cvs)
    assert list(w) == ["a", "b"]
    assert w["a"] == pytest.approx(0.8) and w["b"] == pytest.approx(0.2)
    mixed = _combine_cv(cvs, w)
    assert np.allclose(mixed["yhat"], 100 + 0.8 * 1 - 0.2 * 2)
    assert mix_label(w) == "a 0.80 + b 0.20" and mix_label({"a": 1.0}) == "a"
    with pytest.raises(ValueError, match="combine"):
        AutoModel(freq="D", combine="vote").fit(pd.Series(y, index=idx))


def test_smoothing_follows_a_short_growing_series_better_than_last_week():
    """Six weeks growing 3% a day (a new base): Holt-Winters keeps up, seasonal naive lags a week."""
    idx = pd.date_range("2015-01-01", periods=49, freq="D")
    weekly = np.array([1.0, 1.05, 1.1, 1.1, 1.25, 1.3, 0.8])[idx.day_of_week]
    rng = np.random.default_rng(0)
    full = pd.Series(
        1000 * np.exp(0.03 * np.arange(49)) * weekly * rng.normal(1, 0.02, 49), index=idx
    )
    hist, actual = full.iloc[:42], full.iloc[42:]
    future_X = pd.DataFrame(index=actual.index)
    ets = make_model("ets", freq="D").fit(hist).predict(future_X)
    naive = make_model("naive", freq="D").fit(hist).predict(future_X)
    err = {k: float(np.mean(np.abs(actual - p))) for k, p in {"ets": ets, "naive": naive}.items()}
    assert err["ets"] < 0.5 * err["naive"], err
    assert abs(ets.iloc[0] / actual.iloc[0] - 1) < 0.08


def test_smoothing_removes_a_known_one_off_event_from_the_level():
    """A -60% storm day in the history neither drags the level down nor repeats next week."""
    y, _ = daily_series(days=56)
    X = pd.DataFrame({"Storm": np.zeros(56)}, index=y.index)
    X.iloc[-3, 0] = 1.0
    y_storm = y.copy()
    y_storm.iloc[-3] *= 0.4
    idx = future(y, 7, "D")
    Xf = pd.DataFrame({"Storm": np.zeros(7)}, index=idx)
    with_cal = make_model("ets", freq="D").fit(y_storm, X).predict(Xf)
    clean = make_model("ets", freq="D").fit(y, X).predict(Xf)
    blind = make_model("ets", freq="D").fit(y_storm).predict(Xf)
    assert np.allclose(with_cal, clean, rtol=0.03)
    assert blind.iloc[4] < 0.9 * clean.iloc[4], (
        "without the calendar the storm leaks into next week"
    )
    m = make_model("ets", freq="D").fit(y_storm, X)
    assert m.effects_[0] == pytest.approx(np.log(0.4), abs=0.1)


def test_unknown_model_is_an_error():
    with pytest.raises(ValueError, match="unknown model 'arima'"):
        make_model("arima")


def test_smoothing_on_less_than_two_weeks_starts_from_the_first_week():
    """An early backtest fold of a short daily history (9 days): a forecast, not an error."""
    idx = pd.date_range("2015-01-01", periods=9, freq="D")
    week = np.array([1.0, 1.1, 1.2, 1.2, 1.3, 1.3, 0.8])
    y = pd.Series(1000 * np.r_[week, week[:2]], index=idx)
    p = make_model("ets", freq="D").fit(y).predict(pd.date_range("2015-01-10", periods=7))
    assert np.allclose(p.to_numpy(), 1000 * np.roll(week, -2), rtol=0.02)
    with pytest.raises(ValueError, match="at least one season"):
        make_model("ets", freq="D").fit(y.iloc[:5])
    # auto with a 14-day fold on 20 days: ets cannot fit 6 days, auto goes on without it
    y20 = pd.Series(1000 * np.tile(week, 3)[:20], index=pd.date_range("2015-01-01", periods=20))
    auto = AutoModel(freq="D", n_folds=1, fold_len=14).fit(y20)
    assert "ets" not in auto.scores_ and set(auto.scores_) == {"naive", "ols"}
    assert np.isfinite(auto.predict(pd.date_range("2015-01-21", periods=14))).all()


def test_backtest_folds_cover_about_six_weeks_daily_and_three_hourly():
    from juno_forecast.models.auto import default_folds

    assert default_folds("D", 400) == (6, 7)
    assert default_folds("D", 400, 14) == (3, 14), "a 14-day horizon: 3 folds, not 6"
    assert default_folds("D", 400, 28) == (3, 28), "at least 3 folds"
    assert default_folds("D", 38) == (3, 7), "as many as the history holds"
    assert default_folds("h", 4000, 48) == (3, 48) and default_folds("h", 4000, 336) == (3, 336)


# --- the array protocol (issue 16): numpy in, numpy out, behind the pandas façade ---


def _uber(shared_data, borough: str, freq: str) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """Real pickups of one borough (hourly or daily), the shipped calendar with the observed
    weather as ``X`` on the history, and the next 48 hours / 14 days as ``X_future``."""
    from juno_forecast.calendar.model import load_calendar
    from juno_forecast.features import calendar_features

    path = shared_data / "uber_nyc_enriched.csv"
    df = pd.read_csv(path, usecols=["pickup_dt", "borough", "pickups"])
    df = df[df["borough"] == borough]
    y = df.groupby(pd.to_datetime(df["pickup_dt"], format="%m/%d/%Y %H:%M"))["pickups"].sum()
    y = y.resample(freq).sum(min_count=1).astype(float)
    steps = 48 if freq == "h" else 14
    history, ahead = y.index[:-steps], y.index[-steps:]
    cal = load_calendar(None, weather=path)
    X = calendar_features(cal, y.index, freq=freq, metric="trips").X
    return y.loc[history], X.loc[history], X.loc[ahead]


def _as_arrays(X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    from juno_forecast.compat import epoch_ns

    return X.to_numpy(float), epoch_ns(X.index), tuple(X.columns)


@pytest.mark.parametrize(
    "freq, names",
    [("h", ["naive", "ols", "gbm", "ets"]), ("D", list(MODEL_NAMES))],
)
def test_a_model_fitted_on_arrays_forecasts_what_the_pandas_path_forecasts(
    shared_data, freq, names
):
    """Real Manhattan pickups with the shipped calendar and the observed weather: numpy
    values, int64 nanosecond timestamps and column names in, the same forecast out."""
    y, X, Xf = _uber(shared_data, "Manhattan", freq)
    assert X.shape[1] > 5 and any(c.startswith("weather") for c in X.columns)
    values, t, columns = _as_arrays(X)
    for name in names:
        by_pandas = make_model(name, freq=freq).fit(y, X).predict(Xf)
        model = make_model(name, freq=freq).fit_arrays(y.to_numpy(float), values, t, columns)
        by_arrays = model.predict_arrays(*_as_arrays(Xf))
        assert isinstance(by_arrays, np.ndarray) and by_arrays.shape == (len(Xf),)
        np.testing.assert_allclose(by_arrays, by_pandas.to_numpy(), rtol=1e-9, err_msg=name)
        assert np.isfinite(by_arrays).all() and (by_arrays > 0).all(), name


def test_the_facade_sorts_y_and_fills_its_gaps_once_for_every_model():
    """``fit`` on a shuffled history with missing values is ``fit_arrays`` on the sorted one:
    check_y's rules (sorted, float, gaps interpolated unless the model handles gaps) hold on
    both paths; a model that handles gaps (baseline) sees them."""
    from juno_forecast.models.base import check_y, check_y_array, fill_gaps

    y, X, Xf = sample_data("D")
    y.iloc[[5, 6, 40]] = np.nan
    shuffled = y.sample(frac=1.0, random_state=0)
    values, t, columns = _as_arrays(X)
    for name in ["naive", "ols", "ets"]:
        a = make_model(name, freq="D").fit(shuffled, X).predict(Xf)
        b = make_model(name, freq="D").fit_arrays(y.to_numpy(), values, t, columns)
        np.testing.assert_array_equal(a.to_numpy(), b.predict_arrays(*_as_arrays(Xf)))
    filled = fill_gaps(y.to_numpy())
    assert filled[5] == pytest.approx(y.iloc[4] + (y.iloc[7] - y.iloc[4]) / 3)
    np.testing.assert_array_equal(check_y(shuffled).to_numpy(), filled)
    np.testing.assert_array_equal(check_y_array(y.to_numpy(), t), filled)
    assert np.isnan(check_y_array(y.to_numpy(), t, handles_gaps=True)[5])
    with pytest.raises(ValueError, match="increasing timestamps"):
        make_model("ols", freq="D").fit_arrays(y.to_numpy(), values, t[::-1].copy(), columns)
    with pytest.raises(ValueError, match=r"X: expected shape \(140, 1\)"):
        make_model("ols", freq="D").fit_arrays(y.to_numpy(), values[:-1], t, columns)


def test_a_tz_aware_history_is_read_on_its_wall_clock_and_dst_fall_back_is_a_clear_error():
    """A New York-aware index is the wall clock models work on; the night the clocks go
    back repeats 01:00, which the naive 24-hour grid cannot hold: one clear error."""
    summer = pd.date_range("2025-06-02", periods=24 * 21, freq="h", tz="America/New_York")
    y = pd.Series(np.arange(len(summer), dtype=float) % 168, summer)
    aware = make_model("naive", freq="h").fit(y).predict(summer[-24:] + pd.Timedelta(days=7))
    naive = make_model("naive", freq="h").fit(y.tz_localize(None))
    expected = naive.predict(summer[-24:].tz_localize(None) + pd.Timedelta(days=7))
    np.testing.assert_array_equal(aware.to_numpy(), expected.to_numpy())
    autumn = pd.date_range("2025-10-20", "2025-11-10", freq="h", tz="America/New_York")
    with pytest.raises(ValueError, match=r"repeats a wall-clock hour .*2025-11-02 01:00"):
        make_model("naive", freq="h").fit(pd.Series(1.0, autumn))


def test_calendar_terms_come_from_the_int64_timestamps():
    """Day of week and hour from nanoseconds since the epoch (day 0, 1970-01-01, a Thursday),
    as pandas gives them, before 1970 too."""
    from juno_forecast.grain import day_of_week, hour_of_day

    idx = pd.date_range("1969-12-25", "2027-01-01", freq="37h")
    t = idx.as_unit("ns").asi8
    np.testing.assert_array_equal(day_of_week(t), idx.day_of_week)
    np.testing.assert_array_equal(hour_of_day(t), idx.hour)


class _WeekdayMean(Forecaster):
    """A user's own model written the pandas way: the mean of each weekday (fit/predict only)."""

    def __init__(self, freq: str = "D"):
        self.freq = freq

    def __juno_tags__(self) -> ModelTags:
        return ModelTags(uses_calendar=False)

    def fit(self, y, X=None):
        y = y.sort_index().interpolate(limit_direction="both")
        self.means_ = y.groupby(y.index.day_of_week).mean()
        return self

    def predict(self, X):
        index = X if isinstance(X, pd.DatetimeIndex) else X.index
        return pd.Series(self.means_.reindex(index.day_of_week).to_numpy(), index, name="yhat")


def test_a_model_written_the_pandas_way_works_through_the_array_methods():
    """Old style (fit/predict on pandas): every model check passes (the arrays one through the
    base class's fallbacks), and it forecasts through SeriesForecaster."""
    check_model(lambda: _WeekdayMean(freq="D"), "D")
    y, _ = daily_series()
    model = _WeekdayMean().fit_arrays(y.to_numpy(), None, y.index.as_unit("ns").asi8)
    idx = future(y, 7, "D")
    expected = y.groupby(y.index.day_of_week).mean().reindex(idx.day_of_week).to_numpy()
    np.testing.assert_allclose(model.predict_arrays(None, idx.as_unit("ns").asi8), expected)
    out = SeriesForecaster(_WeekdayMean(), calendar="none", freq="D").fit(y).predict(idx)
    np.testing.assert_allclose(out["yhat"].to_numpy(), expected)


def test_a_subclass_overriding_only_predict_is_reached_through_predict_arrays():
    """A user's subclass of a registered model that overrides ``predict`` (pandas) is not
    bypassed by callers of ``predict_arrays``; its ``super().predict`` reaches the array core."""
    y, X, Xf = sample_data("D")
    m = _MutatingNaive(freq="D").fit(y, X)
    got = m.predict_arrays(*_as_arrays(Xf))
    assert m.calls_ == 1, "predict_arrays went through the subclass's predict"
    np.testing.assert_array_equal(got, SeasonalNaive(freq="D").fit(y).predict(Xf).to_numpy())
    shared = _SharedStateNaive(freq="D").fit_arrays(y.to_numpy(), None, _as_arrays(X)[1])
    assert _SHARED["y"] is shared.y_, "fit_arrays went through the subclass's fit"


def test_a_model_overriding_neither_side_is_a_clear_error():
    class Empty(Forecaster):
        def __init__(self, freq: str = "D"):
            self.freq = freq

    y, X, Xf = sample_data("D")
    with pytest.raises(NotImplementedError, match="Empty implements neither fit_arrays"):
        Empty().fit(y, X)
    with pytest.raises(NotImplementedError, match="neither fit_arrays .* nor fit"):
        Empty().fit_arrays(y.to_numpy(), None, _as_arrays(X)[1])
    with pytest.raises(NotImplementedError, match="neither predict_arrays .* nor predict"):
        Empty().predict_arrays(None, _as_arrays(Xf)[1])


def test_ets_smoothing_on_numpy_is_statsmodels_holt_winters(shared_data):
    """ets runs the Holt-Winters recursion itself (no statsmodels result per fit): on real
    daily and hourly pickups (log1p), from every start statsmodels uses (heuristic, simple,
    two seasons exactly), its fitted values and final states are statsmodels' to 1e-12."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    from juno_forecast.models.smoothing import SMOOTHING, holt_winters, initial_states

    weights = tuple(SMOOTHING[k] for k in ("level", "trend", "seasonal", "damping"))
    for freq, m, lengths in [("D", 7, (14, 15, 16, 40, 114)), ("h", 168, (336, 1346))]:
        y, _, _ = _uber(shared_data, "Brooklyn", freq)
        for n in lengths:
            values = np.log1p(y.to_numpy()[-n:])
            ref = ExponentialSmoothing(
                values, trend="add", damped_trend=True, seasonal="add", seasonal_periods=m
            ).fit(
                smoothing_level=weights[0],
                smoothing_trend=weights[1],
                smoothing_seasonal=weights[2],
                damping_trend=weights[3],
                optimized=False,
            )
            fitted, level, trend, season = holt_winters(
                values, m, weights, initial_states(values, m)
            )
            np.testing.assert_allclose(fitted, ref.fittedvalues, rtol=1e-12, err_msg=f"{freq} {n}")
            np.testing.assert_allclose(
                [level, trend, *season],
                [ref.level[-1], ref.trend[-1], *ref.season[-m:]],
                rtol=1e-12,
                atol=1e-13,
            )


@pytest.mark.parametrize("freq, weeks", [("D", 60), ("h", 56)])
def test_ols_normal_equations_are_the_dense_designs(freq, weeks):
    """ols builds A'WA from the design's structure (one-hot weekly dummies, event columns only
    on event rows): it equals the product on the dense design it predicts with, over a year
    (the yearly cycle's columns) with an event and a numeric column, and the fit is the
    minimum-norm least-squares solution numpy gives."""
    from juno_forecast.models.base import recency_weights
    from juno_forecast.models.linear import normal_equations

    n = weeks * SEASON_STEPS[freq]
    idx = pd.date_range("2023-01-02", periods=n, freq=freq)
    rng = np.random.default_rng(0)
    y = pd.Series(1000 * rng.lognormal(0, 0.1, n), index=idx)
    X = pd.DataFrame(
        {"Event": (np.arange(n) % 97 < 5).astype(float), "temp": rng.normal(50, 20, n)},
        index=idx,
    )
    m = make_model("ols", freq=freq).fit(y, X)
    assert m.yearly_ and m.events_ == ["Event", "temp"]
    values, t, columns = _as_arrays(X)
    w = recency_weights(t, 56.0 if freq == "h" else 120.0)
    target = np.log1p(y.to_numpy())
    G, r, nonzero = normal_equations(
        t, m.origin_, freq, 4, m._event_rows(t, values, columns), target, w
    )
    A = m._design(t, values, columns)
    np.testing.assert_allclose(G, (A * w[:, None]).T @ A, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(r, (A * w[:, None]).T @ target, rtol=1e-9)
    assert np.array_equal(nonzero, np.abs(A).sum(axis=0) > 0)
    sw = np.sqrt(w)
    expected = np.linalg.lstsq(A[:, m.keep_] * sw[:, None], target * sw, rcond=None)[0]
    np.testing.assert_allclose(m.coef_, expected, rtol=1e-6, atol=1e-9)
    assert list(m.params_.index[:3]) == ["const", "trend", "how1" if freq == "h" else "dow1"]
