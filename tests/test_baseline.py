"""The robust baseline on arrays: detection's shortcuts give the very fits they replace.

Detection refits the baseline every day on the days before it. ``fit_rolling`` computes
each one-day-ahead expectation of the calibrations once and shares it between the days'
fits, and the per-hour variances are computed for all hours at once: each fitted model
must be exactly (bit for bit) the one a fresh fit on the same history gives, and the
rolling expectation the one of a model refitted from scratch every day.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.compat import epoch_ns
from juno_forecast.detect.expectation import rolling_expectation
from juno_forecast.models import make_model
from juno_forecast.models.base import PastTimestampsError
from juno_forecast.models.baseline import SLOT_WEIGHT, RobustBaseline, _mad, _median

REPO = Path(__file__).resolve().parents[1]


def sample_series(borough: str = "Bronx", freq: str = "h", holes: bool = False) -> pd.Series:
    """Trips of one sample borough, Jul-Dec 2025 (daily: summed per day)."""
    df = pd.read_parquet(REPO / "data" / "sample.parquet")
    df = df[(df["borough"] == borough) & (df["metric"] == "trips")]
    y = df.set_index("ds")["y"].astype(float).loc["2025-07-01":"2025-12-31"]
    if freq == "D":
        y = y.resample("D").sum()
    y = y.asfreq("h" if freq == "h" else "D")
    if holes:  # missing values in the history and in calibration days (the slow path)
        y = y.copy()
        y.iloc[np.random.default_rng(3).choice(len(y), len(y) // 40, replace=False)] = np.nan
    return y


def fitted_state(m: RobustBaseline) -> tuple:
    return (m.season_, m.c2_, m.quantiles_, m.window_scale_, m.last_ds_)


def assert_same_fit(a: RobustBaseline, b: RobustBaseline) -> None:
    for u, v in zip(fitted_state(a), fitted_state(b), strict=True):
        if isinstance(u, np.ndarray):
            np.testing.assert_array_equal(u, v)
        else:
            assert u == v


@pytest.mark.parametrize(("freq", "holes"), [("h", False), ("h", True), ("D", False), ("D", True)])
def test_rolling_fits_are_the_fits_of_each_history(freq, holes):
    y = sample_series(freq=freq, holes=holes)
    per_day = 24 if freq == "h" else 1
    values, t = y.to_numpy(), epoch_ns(y.index)
    ends = [len(y) - d * per_day for d in range(20, 0, -1)]
    rolled = list(make_model("baseline", freq=freq).fit_rolling(values, t, ends))
    assert len(rolled) == len(ends)
    for n, model in zip(ends, rolled, strict=True):
        alone = RobustBaseline(freq).fit(y.iloc[:n])
        assert_same_fit(model, alone)
        day = t[n : n + per_day]
        np.testing.assert_array_equal(
            model.predict_ranges_arrays(None, day), alone.predict_ranges_arrays(None, day)
        )
    assert not np.array_equal(rolled[0].season_, rolled[-1].season_)  # each day its own fit


@pytest.mark.parametrize("freq", ["h", "D"])
def test_array_methods_answer_what_the_pandas_methods_do(freq):
    y = sample_series(freq=freq)
    model = RobustBaseline(freq).fit(y)
    future = pd.date_range(y.index[-1], periods=200, freq=freq)[1:]
    ranges = model.predict_ranges(future)
    band = model.predict_ranges_arrays(None, epoch_ns(future))
    assert list(ranges.columns) == ["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]
    np.testing.assert_array_equal(ranges.to_numpy().T, band)
    np.testing.assert_array_equal(model.predict(future).to_numpy(), band[0])
    np.testing.assert_array_equal(model.predict_arrays(None, epoch_ns(future)), band[0])
    assert (band[3] <= band[1]).all() and (band[1] <= band[0]).all()  # 95% holds 80% holds yhat
    assert (band[0] <= band[2]).all() and (band[2] <= band[4]).all()
    with pytest.raises(PastTimestampsError, match="only timestamps after its fitted history"):
        model.predict_arrays(None, epoch_ns(y.index[-3:]))


@pytest.mark.parametrize("holes", [False, True])
def test_hour_variances_follow_their_definition(holes):
    """``c2_``: per hour, the multiplicative variance of that hour's and its two
    neighbours' calibration errors (``_mad`` squared less the count noise) shrunk toward
    the pooled one, computed here hour by hour from the model's own errors."""
    y = sample_series("Manhattan", holes=holes)
    model = RobustBaseline("h").fit(y)
    e, v0, slot = model._errors(y.to_numpy())
    pooled = max(_mad(e) ** 2 - float(np.median(v0)), 1e-4)
    for h in range(24):
        sel = np.minimum((slot - h) % 24, (h - slot) % 24) <= 1
        own = max(_mad(e[sel]) ** 2 - float(np.median(v0[sel])), 1e-4)
        assert model.c2_[h] == own**SLOT_WEIGHT * pooled ** (1 - SLOT_WEIGHT)
    assert len(set(model.c2_)) == 24  # every hour its own (none fell back to the pooled value)


class RefittedEachDay(RobustBaseline):
    """The baseline without its rolling shortcut: detection then fits it anew each day."""

    fit_rolling = None


@pytest.mark.parametrize(("freq", "holes"), [("h", False), ("h", True), ("D", True)])
def test_rolling_expectation_is_that_of_a_fresh_fit_each_day(freq, holes):
    y = sample_series("Queens", freq=freq, holes=holes)
    start, end = pd.Timestamp("2025-11-10"), pd.Timestamp("2025-12-20 23:00")
    shared = rolling_expectation(y, start, end, lambda: RobustBaseline(freq))
    fresh = rolling_expectation(y, start, end, lambda: RefittedEachDay(freq))
    assert len(shared) == (41 * 24 if freq == "h" else 41)
    pd.testing.assert_frame_equal(shared, fresh, check_exact=True)
    weekly = rolling_expectation(y, start, end, lambda: RobustBaseline(freq), refit="7D")
    fresh_weekly = rolling_expectation(y, start, end, lambda: RefittedEachDay(freq), refit="7D")
    pd.testing.assert_frame_equal(weekly, fresh_weekly, check_exact=True)


def test_medians_by_partition_are_numpys_bit_for_bit():
    """The baseline's medians (rows, columns, odd and even counts, signed zeros, ties,
    NaN) are exactly ``np.median``'s, so its fits are the ones they always were."""
    rng = np.random.default_rng(5)
    for _ in range(400):
        shape = (int(rng.integers(1, 9)), int(rng.integers(1, 90)))
        x = rng.normal(size=shape) * 10.0 ** rng.integers(-4, 5)
        kind = rng.integers(4)
        if kind == 1:
            x = np.round(x, 1) * 0.0  # signed zeros only
        elif kind == 2:
            x = np.round(x)  # ties
        elif kind == 3:
            x[0, -1] = np.nan
        for axis in (0, 1):
            want, got = np.median(x, axis=axis), _median(x, axis=axis)
            np.testing.assert_array_equal(got, want)
            assert (np.signbit(got) == np.signbit(want)).all()
        want, got = np.median(x[0]), _median(x[0])
        assert isinstance(got, float)
        assert (got == want or np.isnan(want) and np.isnan(got)) and np.signbit(got) == np.signbit(
            want
        )
