"""The forecasting hot path on arrays (issue 16) gives what the pandas entry gives.

``SeriesForecaster.fit_arrays``/``predict_arrays`` (values and int64 ns timestamps)
are what ``forecast``, ``backtest`` and the nightly loop call; ``fit(y)``/``predict(index)``
stay the public face. Both must give the very same numbers, and the shared per-scope
arrays must never be written into.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from juno_forecast import core
from juno_forecast.calendar import Calendar
from juno_forecast.compat import epoch_ns
from juno_forecast.forecast import OUTPUT_COLUMNS, SeriesForecaster, backtest_predictions, forecast
from juno_forecast.intervals import ConformalIntervals, occurrence_effects


def daily_frame(zones=("A", "B", "C"), days: int = 120, seed: int = 1) -> pd.DataFrame:
    """Daily trips with a weekly cycle, a trend and noise, spanning two holidays."""
    idx = pd.date_range("2024-09-01", periods=days, freq="D")
    rng = np.random.default_rng(seed)
    weekly = np.array([1.0, 1.05, 1.1, 1.1, 1.25, 1.3, 0.8])[idx.day_of_week]
    frames = []
    for i, zone in enumerate(zones):
        level = (500 + 200 * i) * weekly * np.linspace(1.0, 1.2, days)
        y = rng.poisson(level).astype(float)
        frames.append(pd.DataFrame({"ds": idx, "zone": zone, "metric": "trips", "y": y}))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def calendar() -> Calendar:
    return Calendar.load(None)


@pytest.mark.parametrize("model", ["naive", "ols", "ets", "auto"])
def test_array_entry_gives_what_the_pandas_entry_gives(calendar: Calendar, model: str) -> None:
    """fit_arrays/predict_arrays and fit/predict: the same forecast, ranges, events and
    calibration backtest, missing values included (both leave them out)."""
    frame = daily_frame(zones=("A",))
    y = pd.Series(frame["y"].to_numpy(), index=pd.DatetimeIndex(frame["ds"], name="ds"))
    y.iloc[[20, 21, 60]] = np.nan
    future = pd.date_range(y.index[-1] + pd.Timedelta(days=1), periods=14, freq="D")

    def make() -> SeriesForecaster:
        return SeriesForecaster(model, calendar, "trips", {"zone": "A"}, "D", horizon=14)

    by_pandas = make().fit(y)
    by_arrays = make().fit_arrays(y.to_numpy(), epoch_ns(y.index))
    frame_out = by_pandas.predict(future)
    arrays_out = by_arrays.predict_arrays(epoch_ns(future))
    assert list(frame_out.columns) == OUTPUT_COLUMNS and frame_out.index.equals(future)
    for col in OUTPUT_COLUMNS:
        np.testing.assert_array_equal(frame_out[col].to_numpy(), arrays_out[col], err_msg=col)
    assert "Thanksgiving Day" in ";".join(by_pandas.predict(y.index[80:90])["events"])
    pd.testing.assert_frame_equal(by_pandas.cv_, by_arrays.cv_)
    assert by_pandas.cv_["ds"].max() == y.index[-1], "calibrated on the end of the history"
    assert (by_pandas.learned_, by_pandas.learned_effects_) == (
        by_arrays.learned_,
        by_arrays.learned_effects_,
    )


def test_forecast_over_many_series_equals_each_series_fitted_alone(calendar: Calendar) -> None:
    """forecast()'s loop on grouped arrays, stacked once, gives each series' own forecast."""
    frame = daily_frame()
    out = forecast(frame, horizon="7D", model="auto", calendar=calendar, by=["zone"], freq="D")
    assert list(out.columns) == ["zone", "metric", "ds", *OUTPUT_COLUMNS] and len(out) == 3 * 7
    for zone, g in frame.groupby("zone"):
        y = pd.Series(g["y"].to_numpy(), index=pd.DatetimeIndex(g["ds"], freq="D"))
        f = SeriesForecaster("auto", calendar, "trips", {"zone": zone}, "D", horizon=7).fit(y)
        future = pd.date_range(y.index[-1] + pd.Timedelta(days=1), periods=7, freq="D")
        alone = f.predict(future).reset_index(drop=True)
        mine = out[out["zone"] == zone].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[OUTPUT_COLUMNS], alone, check_dtype=False)
        assert (mine["ds"].to_numpy() == future.to_numpy()).all()


def test_backtest_rows_equal_the_pandas_entry_per_fold(calendar: Calendar) -> None:
    """Each backtest fold: the history strictly before its start, through the array entry,
    gives what fit(history).predict(actual days) gives."""
    frame = daily_frame(zones=("A", "B"))
    pred = backtest_predictions(
        frame, "2024-12-01", "2024-12-15", horizon="7D", model="ols", calendar=calendar,
        by=["zone"], freq="D",
    )  # fmt: skip
    assert len(pred) == 2 * 3 * 7 and set(pred["cutoff"].dt.day) == {30, 7, 14}
    for (zone, cutoff), rows in pred.groupby(["zone", "cutoff"]):
        g = frame[frame["zone"] == zone]
        y = pd.Series(g["y"].to_numpy(), index=pd.DatetimeIndex(g["ds"]))
        f = SeriesForecaster("ols", calendar, "trips", {"zone": zone}, "D", horizon=7)
        alone = f.fit(y[y.index <= cutoff]).predict(pd.DatetimeIndex(rows["ds"]))
        np.testing.assert_array_equal(rows["yhat"].to_numpy(), alone["yhat"].to_numpy())
        np.testing.assert_array_equal(rows["y"].to_numpy(), y[rows["ds"]].to_numpy())


def test_a_scopes_feature_arrays_are_built_once_and_read_only(calendar: Calendar) -> None:
    """Every series of a scope shares one set of arrays; nobody can write into them."""
    core.clear_scopes()
    index = pd.date_range("2024-11-01", "2024-12-31", freq="D")
    feats = core.scope_features(calendar, epoch_ns(index), "D", "trips", {"zone": "A"})
    assert feats is core.scope_features(calendar, index, "D", "trips", {"zone": "B"})
    arrays = core.feature_arrays(feats)
    assert arrays is core.feature_arrays(feats)
    np.testing.assert_array_equal(arrays.X, feats.X.to_numpy(float))
    assert arrays.columns == tuple(feats.X.columns)
    thanksgiving = index.get_loc(pd.Timestamp("2024-11-28"))
    assert arrays.column("X", "Thanksgiving Day")[thanksgiving] == 1.0
    assert arrays.column("effects", "Thanksgiving Day")[thanksgiving] < 0
    assert (arrays.column("X", "no such event") == 0).all()
    for a in (arrays.X, arrays.effects, arrays.spreads, arrays.events):
        with pytest.raises(ValueError, match="read-only"):
            a[0] = 1


def test_conformal_calibration_on_arrays_equals_the_frame(calendar: Calendar) -> None:
    rng = np.random.default_rng(4)
    ds = pd.date_range("2024-01-01", periods=3 * 168, freq="h")
    y = rng.poisson(200, len(ds)).astype(float)
    cv = pd.DataFrame({"ds": ds, "step": np.tile(np.arange(1, 169), 3), "y": y})
    cv["yhat"] = y * np.exp(rng.normal(0, 0.1, len(ds)))
    a = ConformalIntervals(by_hour=True).fit(cv)
    b = ConformalIntervals(by_hour=True).fit_arrays(
        cv["y"].to_numpy(), cv["yhat"].to_numpy(), cv["step"].to_numpy(), epoch_ns(ds)
    )
    assert a.scale_ == b.scale_ and a.quantiles_ == b.quantiles_ and len(a.scale_) == 24
    future = pd.date_range(ds[-1] + pd.Timedelta(hours=1), periods=48, freq="h")
    yhat = pd.Series(np.full(48, 200.0), index=future)
    frame = a.predict(yhat, np.arange(1, 49))
    arrays = b.predict_arrays(yhat.to_numpy(), epoch_ns(future), np.arange(1, 49))
    for col in ("lo_80", "hi_80", "lo_95", "hi_95"):
        np.testing.assert_array_equal(frame[col].to_numpy(), arrays[col])
    assert (frame["lo_95"] < frame["lo_80"]).all() and (frame["hi_80"] < frame["hi_95"]).all()


def test_occurrence_effects_equal_a_groupby_per_event_and_day() -> None:
    """The vectorised measure of learned events: per event, each active hour against the
    same hour a week before and after, averaged per day, then over the days."""
    rng = np.random.default_rng(7)
    ds = pd.date_range("2024-01-01", periods=8 * 168, freq="h")
    y = rng.poisson(300, len(ds)).astype(float)
    active = np.zeros((len(ds), 3), bool)
    weeks = (ds - ds[0]).days // 7
    mondays = (ds.day_of_week == 0) & (ds.hour >= 8) & np.isin(weeks, [1, 3, 5])
    active[mondays, 0] = True  # three Mondays, each with ordinary weeks around it
    active[(ds.month == 1) & (ds.day == 15), 1] = True  # one day: the default spread
    y[active[:, 0]] *= 0.7
    days = epoch_ns(ds.normalize())
    got = occurrence_effects(y, active, days, 168)
    ly = pd.Series(np.log1p(y), index=ds)
    for j in range(2):
        on = pd.Series(active[:, j], index=ds)
        ref = pd.concat(
            [
                ly.shift(168).where(~on.shift(168, fill_value=True)),
                ly.shift(-168).where(~on.shift(-168, fill_value=True)),
            ],
            axis=1,
        )
        r = (ly - ref.mean(axis=1))[on & ref.notna().any(axis=1)]
        daily = r.groupby(r.index.normalize()).mean().to_numpy()
        assert got[j][0] == pytest.approx(np.expm1(daily.mean()), abs=1e-12)
    assert got[0][0] == pytest.approx(-0.3, abs=0.03) and got[0][1] >= 0.05
    assert got[1][1] == pytest.approx(max(0.05, 0.4 * abs(got[1][0])), abs=1e-6)
    assert got[2] is None, "an event never active measures nothing"


def test_backtest_scores_per_group_equal_scoring_each_group_alone() -> None:
    """summarize's scores, summed per fold with numpy, are score() of each fold's rows."""
    from juno_forecast.scoring import score, score_groups

    rng = np.random.default_rng(2)
    n = 60
    y = rng.poisson(100, n).astype(float)
    pred = pd.DataFrame(
        {
            "model": np.repeat(["ols", "naive", "auto"], 20),
            "cutoff": np.tile(np.repeat(pd.to_datetime(["2024-01-07", "2024-01-14"]), 10), 3),
            "y": y,
            "yhat": y * rng.uniform(0.8, 1.2, n),
            "scale": np.where(np.arange(n) == 5, np.nan, 10.0),  # one fold without a scale
        }
    )
    pred["lo_80"], pred["hi_80"] = pred["yhat"] * 0.9, pred["yhat"] * 1.1
    pred["lo_95"], pred["hi_95"] = pred["yhat"] * 0.8, pred["yhat"] * 1.2
    got = score_groups(pred, ["model", "cutoff"], sort=True)
    assert list(got["model"]) == ["auto", "auto", "naive", "naive", "ols", "ols"]
    for row in got.itertuples(index=False):
        alone = score(pred[(pred["model"] == row.model) & (pred["cutoff"] == row.cutoff)])
        assert row.n == alone["n"] == 10
        for col in ("mase", "smape", "coverage_80", "coverage_95"):
            np.testing.assert_allclose(getattr(row, col), alone[col], rtol=1e-12)
    assert np.isnan(got["mase"].iloc[4]) and not np.isnan(got["mase"].iloc[5])
    first_seen = score_groups(pred, ["model"], sort=False)
    assert list(first_seen["model"]) == ["ols", "naive", "auto"]


def test_a_users_model_with_only_fit_and_predict_runs_through_the_array_path() -> None:
    """Not a Forecaster, no array methods: its pandas fit/predict are called with a Series on a
    DatetimeIndex and a frame of the calendar columns, and its forecast is used as is."""
    from sklearn.base import BaseEstimator

    class LastWeekMean(BaseEstimator):
        def fit(self, y, X=None):
            assert isinstance(y.index, pd.DatetimeIndex) and (X is None or len(X) == len(y))
            self.level_ = float(y.iloc[-7:].mean())
            return self

        def predict(self, X):
            return pd.Series(self.level_, index=X.index, name="yhat")

    frame = daily_frame(zones=("A",))
    y = pd.Series(frame["y"].to_numpy(), index=pd.DatetimeIndex(frame["ds"]))
    f = SeriesForecaster(LastWeekMean(), calendar="none", metric="trips", freq="D").fit(y)
    future = pd.date_range(y.index[-1] + pd.Timedelta(days=1), periods=7, freq="D")
    out = f.predict(future)
    assert np.allclose(out["yhat"], y.iloc[-7:].mean())
    assert (out["lo_95"] <= out["yhat"]).all() and (out["yhat"] <= out["hi_95"]).all()
    assert f.cv_["fold"].nunique() == 6 and len(f.cv_) == 6 * 7
