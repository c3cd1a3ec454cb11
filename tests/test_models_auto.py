"""``auto``'s backtest: sized to what the choice needs, deterministic, sensible weights."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.models.auto import MIN_RESIDUALS, AutoModel, plain_fit_predict
from juno_forecast.models.linear import min_norm_lstsq

DATA = Path(os.environ.get("JUNO_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared/data"))


def seasonal_hourly(weeks: int = 8, seed: int = 3) -> pd.Series:
    """Pickups with a strong daily and weekly shape (rush hours, quiet nights and weekends)."""
    idx = pd.date_range("2024-01-01", periods=weeks * 168, freq="h")
    rng = np.random.default_rng(seed)
    day = 1 + 0.8 * np.sin(2 * np.pi * (idx.hour - 6) / 24) + 0.5 * (idx.hour == 18)
    week = np.where(idx.day_of_week >= 5, 0.6, 1.0)
    return pd.Series(rng.poisson(300 * day * week).astype(float), index=idx)


class FitLog:
    """A ``fit_predict`` that records which candidate was fitted on which history."""

    def __init__(self):
        self.fits: list[tuple[str, int]] = []

    def __call__(self, model, design, cut, stop):
        self.fits.append((type(model).__name__, cut))  # fitted on rows :cut
        return plain_fit_predict(model, design, cut, stop)


def test_seasonal_hourly_series_weighs_the_seasonal_models_and_stops_when_settled():
    """Two weekly folds settle the weights: the third (oldest) fold is never fitted."""
    y = seasonal_hourly()
    log = FitLog()
    auto = AutoModel(freq="h", fit_predict=log).fit(y)
    assert auto.folds_ == 2 and MIN_RESIDUALS <= 2 * 168
    assert len(auto.cv_) == 2 * 168 and sorted(auto.cv_["fold"].unique()) == [0, 1]
    assert auto.cv_["ds"].min() == y.index[-2 * 168], "the two most recent weeks"
    cuts = sorted({n for _, n in log.fits})
    assert cuts == [len(y) - 2 * 168, len(y) - 168], "no fit at the third origin"
    # the regression and the trees learn the weekly shape; last week's value carries its noise
    assert set(auto.weights_) >= {"ols", "gbm"}
    assert auto.weights_["ols"] + auto.weights_["gbm"] > 0.6
    assert auto.weights_.get("naive", 0.0) < auto.weights_["ols"]
    assert sum(auto.weights_.values()) == pytest.approx(1.0)
    # the weighted mix backtests better than seasonal naive
    cv_mae = float(np.mean(np.abs(auto.cv_["y"] - auto.cv_["yhat"])))
    assert cv_mae < auto.scores_["naive"]


def test_short_hourly_folds_run_every_fold_for_the_ranges():
    """48-hour folds: three folds give 144 residuals, too few to stop early."""
    auto = AutoModel(freq="h", n_folds=3, fold_len=48).fit(seasonal_hourly(weeks=5))
    assert auto.folds_ == 3 and len(auto.cv_) == 3 * 48


def test_a_candidate_out_of_contention_gets_no_further_fold_and_no_weight():
    """Hourly, growing 40% a week: last week's value misses by far more than 4.5x the models."""
    y = seasonal_hourly(weeks=6)
    y = y.mean() * np.exp(0.002 * np.arange(len(y))) * (y / y.mean())
    log = FitLog()
    auto = AutoModel(freq="h", fit_predict=log).fit(y)
    naive_fits = [n for name, n in log.fits if name == "SeasonalNaive"]
    assert naive_fits == [len(y) - 168], "naive fitted on the most recent fold only"
    assert auto.scores_["naive"] > 4.5 * min(auto.scores_["ols"], auto.scores_["gbm"])
    assert "naive" not in auto.weights_ and set(auto.weights_) <= {"ols", "gbm"}
    assert auto.folds_ >= 2 and len(auto.cv_) == auto.folds_ * 168


def test_daily_backtest_keeps_every_candidate_on_every_fold():
    """Daily folds are cheap and few: nobody leaves early, all six weeks are run."""
    idx = pd.date_range("2024-01-01", periods=120, freq="D")
    weekly = np.array([1.0, 1.05, 1.1, 1.1, 1.25, 1.3, 0.8])[idx.day_of_week]
    y = pd.Series(1000 * np.exp(0.02 * np.arange(120)) * weekly, index=idx)
    log = FitLog()
    auto = AutoModel(freq="D", candidates=("naive", "ols"), fit_predict=log).fit(y)
    naive_fits = [n for name, n in log.fits if name == "SeasonalNaive"]
    assert sorted(naive_fits) == [120 - 7 * k for k in range(6, 0, -1)]
    assert auto.folds_ == 6 and len(auto.cv_) == 6 * 7
    assert auto.scores_["naive"] > 4.5 * auto.scores_["ols"]
    assert auto.weights_ == {"ols": 1.0} and auto.chosen_ == "ols"


def test_same_data_and_seed_same_weights_backtest_and_forecast():
    y = seasonal_hourly(weeks=6, seed=5)
    future = pd.date_range(y.index[-1] + pd.Timedelta(hours=1), periods=48, freq="h")
    a = AutoModel(freq="h", seed=7).fit(y)
    b = AutoModel(freq="h", seed=7).fit(y)
    assert a.weights_ == b.weights_ and a.folds_ == b.folds_
    pd.testing.assert_frame_equal(a.cv_, b.cv_)
    pd.testing.assert_series_equal(a.predict(future), b.predict(future))


def test_min_norm_lstsq_matches_numpy_lstsq_with_collinear_and_empty_columns():
    """The regression's solver: numpy's minimum-norm answer, also when columns repeat."""
    rng = np.random.default_rng(0)
    A = rng.normal(size=(400, 12))
    A[:, 5] = A[:, 4]  # an event always on with another: they share its effect
    A[:, 7] = 0.0
    b = A @ rng.normal(size=12) + rng.normal(0, 0.1, 400)
    expected = np.linalg.lstsq(A, b, rcond=None)[0]
    assert np.allclose(min_norm_lstsq(A, b), expected, atol=1e-10)
    assert np.allclose(min_norm_lstsq(np.zeros((5, 2)), np.ones(5)), 0.0)


@pytest.mark.skipif(
    not (DATA / "uber_nyc_enriched.csv").exists(), reason=f"real NYC data not found at {DATA}"
)
def test_real_hourly_borough_keeps_both_models_and_ranges_have_two_weeks_of_residuals():
    """Manhattan's hourly pickups to June 2015, a week ahead: ols and gbm share the weight."""
    from juno_forecast.calendar import load_calendar
    from juno_forecast.forecast import SeriesForecaster

    raw = pd.read_csv(DATA / "uber_nyc_enriched.csv", usecols=["pickup_dt", "borough", "pickups"])
    raw = raw[raw["borough"] == "Manhattan"]
    y = raw.groupby(pd.to_datetime(raw["pickup_dt"]))["pickups"].sum().asfreq("h", fill_value=0)
    y = y[y.index < "2015-06-01"].astype(float)
    keys = {"borough": "Manhattan"}
    f = SeriesForecaster("auto", load_calendar(None), "trips", keys, "h", horizon=168)
    auto = f.fit(y).model_
    assert auto.folds_ in (2, 3) and len(f.cv_) == auto.folds_ * 168
    assert auto.weights_["ols"] > 0.2 and auto.weights_["gbm"] > 0.2
    mix = float(np.mean(np.abs(f.cv_["y"] - f.cv_["yhat"])))
    assert mix < min(auto.scores_.values()), "the mix beats each candidate in its backtest"
