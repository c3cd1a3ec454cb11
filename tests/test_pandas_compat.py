"""Results that must not depend on the pandas version (2.2 or 3.x).

pandas 3 parses timestamps at microsecond resolution (``datetime64[us]``) and,
with copy-on-write always on, hands back read-only arrays. A user's forecasts,
calendar features, incidents and impacts must be the same whatever the
resolution of their timestamps, and no step may write into an array pandas lent
it. On pandas 2 the copy-on-write tests switch it on, so both versions are checked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from juno_forecast import Calendar, detect, forecast, impact
from juno_forecast.compat import epoch_ns
from juno_forecast.features import calendar_features
from juno_forecast.models import make_model

UNITS = ("s", "ms", "us", "ns")
WINDOW = (pd.Timestamp("2024-02-07 09:00"), pd.Timestamp("2024-02-07 20:00"))  # a Wednesday


def hourly(weeks: int = 6, seed: int = 0) -> pd.Series:
    """Hourly counts with daily and weekly cycles from 2024-01-01 (a Monday)."""
    ds = pd.date_range("2024-01-01", periods=weeks * 168, freq="h")
    hour, dow = ds.hour.to_numpy(), ds.day_of_week.to_numpy()
    lam = 300.0 * (1.2 + np.sin((hour - 9) / 24 * 2 * np.pi)) * np.where(dow >= 5, 0.8, 1.0)
    return pd.Series(np.random.default_rng(seed).poisson(lam).astype(float), index=ds)


@contextlib.contextmanager
def copy_on_write() -> Iterator[None]:
    """pandas 3's copy-on-write (read-only arrays from ``to_numpy``), also on pandas 2."""
    if int(pd.__version__.split(".")[0]) >= 3:
        yield  # always on; the option is deprecated there
        return
    with pd.option_context("mode.copy_on_write", True):
        yield


def test_epoch_ns_counts_nanoseconds_in_every_unit() -> None:
    stamps = pd.DatetimeIndex(["1970-01-01 00:00", "2015-11-01 01:00", "2024-02-29 23:00"])
    want = [pd.Timestamp(t).value for t in stamps]
    for unit in UNITS:
        assert epoch_ns(stamps.as_unit(unit)).tolist() == want, unit
    assert epoch_ns(pd.Series(stamps.as_unit("us"))).tolist() == want


@pytest.mark.parametrize("name", ["naive", "ols", "gbm", "ets", "baseline"])
def test_a_model_forecasts_the_same_from_any_timestamp_resolution(name: str) -> None:
    y = hourly()
    history, future = y.iloc[:-168], y.index[-168:]
    got = {}
    for unit in ("us", "ns"):
        hist = history.set_axis(history.index.as_unit(unit))
        model = make_model(name, "h").fit(hist)
        got[unit] = np.asarray(model.predict(future.as_unit(unit)), dtype=float)
    assert np.isfinite(got["ns"]).all()
    np.testing.assert_allclose(got["us"], got["ns"], rtol=1e-9)
    # and the forecast is a forecast: within a third of the held-out week's mean error
    assert np.mean(np.abs(got["ns"] - y.iloc[-168:].to_numpy())) < y.mean() / 3


def test_calendar_features_are_the_same_at_any_resolution() -> None:
    cal = Calendar.load()
    index = pd.date_range("2024-07-01", "2024-07-10 23:00", freq="h")
    feats = {u: calendar_features(cal, index.as_unit(u), "h", "trips", {}) for u in UNITS}
    july4 = feats["ns"].X.loc["2024-07-04"]
    assert (july4 != 0).any().any()  # Independence Day is in the shipped calendar
    for unit in UNITS:
        pd.testing.assert_frame_equal(
            feats[unit].X.reset_index(drop=True), feats["ns"].X.reset_index(drop=True)
        )


def test_forecast_detect_and_impact_never_write_into_read_only_arrays() -> None:
    y = hourly(weeks=6)
    lost_mask = (y.index >= WINDOW[0]) & (y.index <= WINDOW[1])
    lost = float(y[lost_mask].sum() * 0.4)
    y[lost_mask] *= 0.6
    df = pd.DataFrame({"zone": "North", "metric": "trips", "ds": y.index, "y": y.to_numpy()})
    with copy_on_write():
        fc = forecast(df, horizon="2D", model="naive", calendar="none", by=["zone"])
        inc = detect(df, "2024-02-07", "2024-02-07", calendar="none", by=["zone"])
        table = impact(df, *WINDOW, model="naive", calendar="none", by=("zone",))
    assert len(fc) == 48 and np.isfinite(fc["yhat"]).all()
    assert len(inc) >= 1 and (inc["direction"] == "below").all()
    row = table.iloc[0]
    assert row["difference_lo_95"] <= -lost <= row["difference_hi_95"]
