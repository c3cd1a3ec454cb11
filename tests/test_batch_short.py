"""The short-history model of the nightly batch: weekly/daily profile, ranges from its own weeks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from juno_forecast.batch.short import SHORT_MIN, WIDEN, replay_errors, short_forecast


def test_daily_short_forecast_follows_the_weekday_profile_and_covers() -> None:
    rng = np.random.default_rng(1)
    ds = pd.date_range("2026-01-01", periods=70, freq="D")
    level = np.where(ds.day_of_week >= 5, 600.0, 1000.0)
    y = pd.Series(rng.normal(level, 40.0), index=ds)
    hist, future = y.iloc[:28], y.iloc[28:]  # four weeks known, six weeks ahead
    fc = short_forecast(hist, future.index, "D", counts=True)
    weekend = future.index.day_of_week >= 5
    assert (
        abs(fc["yhat"][weekend].mean() - 600) < 40 and abs(fc["yhat"][~weekend].mean() - 1000) < 40
    )
    inside = (future >= fc["lo_95"]) & (future <= fc["hi_95"])
    assert inside.mean() >= 0.95  # widened: conservative on a series like its history
    half = (fc["hi_95"] - fc["yhat"]).iloc[0]
    errors = replay_errors(hist.to_numpy(), 7)
    assert half == pytest.approx(WIDEN * 1.96 * np.sqrt(np.mean(errors**2)))


def test_hourly_week_uses_the_hour_of_day_and_never_goes_negative() -> None:
    ds = pd.date_range("2026-03-01", periods=SHORT_MIN["h"], freq="h")
    y = pd.Series(np.where(ds.hour < 6, 0.0, 50.0), index=ds)
    y.iloc[::11] += 20.0  # some noise so the ranges are not zero
    index = pd.date_range(ds[-1] + pd.Timedelta(hours=1), periods=24, freq="h")
    fc = short_forecast(y, index, "h", counts=True)
    night = index.hour < 6
    assert fc.loc[night, "yhat"].max() < 10 and fc.loc[~night, "yhat"].min() > 45
    assert (fc["lo_95"] >= 0).all() and (fc["lo_80"] >= fc["lo_95"]).all()
    assert (fc["hi_95"] > fc["hi_80"]).all()


def test_missing_values_keep_the_weekdays_aligned() -> None:
    ds = pd.date_range("2026-01-05", periods=21, freq="D")  # a Monday, three weeks
    y = pd.Series(np.where(ds.day_of_week >= 5, 10.0, 100.0), index=ds)
    y.iloc[[2, 9, 16]] = np.nan  # every Wednesday missing
    fc = short_forecast(y, pd.date_range(ds[-1] + pd.Timedelta(days=1), periods=7), "D", True)
    weekend = fc.index.day_of_week >= 5
    assert (fc.loc[weekend, "yhat"] == 10).all()
    assert (fc.loc[~weekend & (fc.index.day_of_week != 2), "yhat"] == 100).all()
    assert np.isfinite(fc.to_numpy()).all()  # Wednesday: the mean of the other days
