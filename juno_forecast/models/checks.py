"""The checks every registered model must pass: the protocol of :mod:`.base`, verified.

Modelled on scikit-learn's ``check_estimator`` (``check_no_attributes_set_in_init``,
``check_get_params_invariance``, ``check_dont_overwrite_parameters``,
``check_estimators_fit_returns_self``, ``check_dict_unchanged``, ``check_fit_idempotent``)
and on statsforecast's per-model tests (fit then predict equals a fresh forecast,
in-sample values where a model offers them), plus the array protocol: the pandas
façade and ``fit_arrays``/``predict_arrays`` forecast the same
(:func:`check_arrays_match_pandas`). ``check_model(make)`` runs them all on a
factory of fresh, unfitted models; :data:`CHECKS` lists them one by one, so a test can
parametrize over ``(model, check)``::

    for check in CHECKS:
        check(lambda: make_model("ols", freq="D"))

Each check raises ``AssertionError`` with a message naming the model and what broke.
The data are synthetic and small: a daily (or hourly) series with a weekly cycle, slow
growth, noise and a -40% event every ten days, with the event as a calendar column.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..compat import epoch_ns
from .base import FREQ_DELTA, SEASON, PastTimestampsError, get_tags

Make = Callable[[], Any]


def sample_data(freq: str = "D", seed: int = 0) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """``(y, X, X_future)``: 20 weeks of history with an event every 10 days, and 2 weeks ahead."""
    n = 20 * SEASON[freq]
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n + 2 * SEASON[freq], freq=freq)
    day = np.asarray((idx - idx[0]) // pd.Timedelta(days=1))
    weekly = np.array([1.0, 1.05, 1.1, 1.1, 1.25, 1.3, 0.8])[idx.day_of_week]
    hourly = 1 + 0.6 * np.sin(2 * np.pi * (idx.hour - 6) / 24) if freq == "h" else 1.0
    event = (day % 10 == 9).astype(float)
    level = 1000 * (1 + 0.002 * day) * weekly * hourly * rng.normal(1, 0.03, len(idx))
    values = level * (1 - 0.4 * event)
    X_all = pd.DataFrame({"Event": event}, index=idx)
    y = pd.Series(values[:n], index=idx[:n], name="y")
    return y, X_all.iloc[:n], X_all.iloc[n:]


def _name(model: Any) -> str:
    return type(model).__name__


def _fitted_attrs(model: Any) -> list[str]:
    return [k for k in vars(model) if k.endswith("_") and not k.startswith("__")]


def _same(a: Any, b: Any) -> bool:
    """Equal parameter values (estimators and lists of them compare by their parameters)."""
    if hasattr(a, "get_params") and hasattr(b, "get_params"):
        return type(a) is type(b) and _same(a.get_params(), b.get_params())
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a is b or a == b


def _fingerprint(model: Any) -> dict[str, str]:
    """A hash of every attribute of ``model`` (what ``check_dict_unchanged`` compares)."""
    import joblib

    return {k: joblib.hash(v) for k, v in vars(model).items()}


def check_init_stores_params(make: Make, freq: str = "D") -> None:
    """``__init__`` stores its parameters as given and sets nothing else (no fitted state)."""
    model = make()
    params = model.get_params(deep=False)
    assert set(vars(model)) == set(params), (
        f"{_name(model)}.__init__ sets {sorted(set(vars(model)) - set(params))} "
        "besides its parameters"
    )
    defaults = {
        k: p.default
        for k, p in inspect.signature(type(model).__init__).parameters.items()
        if k != "self"
    }
    assert set(defaults) == set(params), f"{_name(model)}: get_params is not __init__'s arguments"
    assert all(d is not inspect.Parameter.empty for d in defaults.values()), (
        f"{_name(model)}: every parameter needs a default (the model is built by name)"
    )
    fresh = type(model)()  # what __init__ stores must be exactly what it was given
    for k, default in defaults.items():
        assert getattr(fresh, k) is default, f"{_name(model)}.__init__ changes parameter {k!r}"
    assert not _fitted_attrs(model), f"{_name(model)} has fitted state before fit"


def check_get_params_round_trip(make: Make, freq: str = "D") -> None:
    """``type(m)(**m.get_params())`` is the same model; ``set_params`` returns the model."""
    model = make()
    params = model.get_params(deep=False)
    again = type(model)(**params)
    assert _same(again.get_params(deep=False), params), (
        f"{_name(model)}: get_params does not round-trip through __init__"
    )
    assert model.set_params(**params) is model, f"{_name(model)}.set_params must return self"


def check_fit_returns_self(make: Make, freq: str = "D") -> None:
    """``fit`` returns the model itself, with fitted state ending in ``_``, and keeps its params."""
    y, X, _ = sample_data(freq)
    model = make()
    before = model.get_params(deep=False)
    assert model.fit(y, X) is model, f"{_name(model)}.fit must return self"
    assert _fitted_attrs(model), f"{_name(model)}: fitted state must end in '_'"
    assert _same(model.get_params(deep=False), before), f"{_name(model)}.fit changed a parameter"


def check_clone_is_independent(make: Make, freq: str = "D") -> None:
    """``clone`` gives an unfitted model with the same parameters; refitting it leaves the
    original's forecast unchanged."""
    from sklearn.base import clone

    y, X, Xf = sample_data(freq)
    model = make().fit(y, X)
    expected = model.predict(Xf).to_numpy()
    twin = clone(model)
    assert not _fitted_attrs(twin), f"clone of {_name(model)} carries fitted state"
    assert _same(twin.get_params(deep=False), model.get_params(deep=False))
    other, X_other, _ = sample_data(freq, seed=1)
    twin.fit(other * 3.0, X_other)
    assert np.array_equal(model.predict(Xf).to_numpy(), expected), (
        f"fitting a clone of {_name(model)} changed the original's forecast"
    )
    assert not np.allclose(twin.predict(Xf).to_numpy(), expected), (
        f"a clone of {_name(model)} fitted on other data forecasts the same: shared state"
    )


def check_predict_has_no_side_effects(make: Make, freq: str = "D") -> None:
    """``predict`` returns a ``yhat`` Series on ``X.index``, the same twice, and changes neither
    the model's attributes nor ``X``."""
    y, X, Xf = sample_data(freq)
    model = make().fit(y, X)
    state, X_copy = _fingerprint(model), Xf.copy()
    first = model.predict(Xf)
    second = model.predict(Xf)
    assert isinstance(first, pd.Series) and first.name == "yhat", (
        f"{_name(model)}.predict must return a Series named 'yhat'"
    )
    assert first.index.equals(Xf.index), f"{_name(model)}.predict must keep X's index"
    assert np.isfinite(first.to_numpy()).all(), f"{_name(model)}.predict gave non-finite values"
    pd.testing.assert_series_equal(first, second, obj=f"{_name(model)}.predict twice")
    changed = [k for k, v in _fingerprint(model).items() if state.get(k) != v]
    assert not changed and set(state) == set(vars(model)), (
        f"{_name(model)}.predict changed the model: {changed or 'its attributes'}"
    )
    pd.testing.assert_frame_equal(Xf, X_copy, obj=f"X after {_name(model)}.predict")


def check_fit_is_deterministic(make: Make, freq: str = "D") -> None:
    """Two fresh models fitted on the same data forecast the same (seeds are honoured)."""
    y, X, Xf = sample_data(freq)
    a = make().fit(y, X).predict(Xf)
    b = make().fit(y, X).predict(Xf)
    pd.testing.assert_series_equal(a, b, obj="two fits of the same model")


def check_past_timestamps(make: Make, freq: str = "D") -> None:
    """Timestamps inside the history: close in-sample values where the tag ``predicts_past``
    says so (the whole history, the oldest timestamp too), a clear
    :class:`PastTimestampsError` where it does not."""
    y, X, _ = sample_data(freq)
    model = make().fit(y, X)
    past = X.iloc[-2 * SEASON[freq] :]
    if not get_tags(model).predicts_past:
        try:
            model.predict(past)
        except PastTimestampsError as e:
            assert "past" in str(e), f"{_name(model)}: the error should say why: {e}"
            return
        raise AssertionError(f"{_name(model)} has predicts_past=False but answered the past")
    got = model.predict(past)
    assert got.index.equals(past.index), f"{_name(model)}: past forecast on another index"
    err = np.abs(got.to_numpy() - y.iloc[-len(past) :].to_numpy()).mean()
    assert err < 0.25 * y.mean(), f"{_name(model)}: in-sample error {err:.1f} is not a fit"
    whole = model.predict(X)
    assert np.isfinite(whole.to_numpy()).all(), f"{_name(model)}: no value for the early past"


def check_calendar_tag(make: Make, freq: str = "D") -> None:
    """Calendar columns change the forecast exactly when the tag ``uses_calendar`` says so."""
    y, X, Xf = sample_data(freq)
    with_cal = make().fit(y, X).predict(Xf).to_numpy()
    blind = make().fit(y, X.iloc[:, :0]).predict(Xf.iloc[:, :0]).to_numpy()
    model = make()
    if get_tags(model).uses_calendar:
        assert not np.allclose(with_cal, blind), f"{_name(model)} ignores the calendar columns"
    else:
        assert np.allclose(with_cal, blind), f"{_name(model)} uses_calendar=False but reads X"


def check_gaps(make: Make, freq: str = "D") -> None:
    """A history with missing values still gives finite forecasts (left out of the fit where
    the tag ``handles_gaps`` says so, interpolated otherwise)."""
    y, X, Xf = sample_data(freq)
    holed = y.copy()
    holed.iloc[[10, 11, len(y) // 2, len(y) - 5]] = np.nan
    got = make().fit(holed, X).predict(Xf)
    assert np.isfinite(got.to_numpy()).all(), f"{_name(make())}: a gap in y broke the forecast"


def check_horizon_steps(make: Make, freq: str = "D") -> None:
    """A forecast of the first week equals the first week of a two-week forecast (as
    statsforecast's tests compare ``forecast`` with ``fit`` then ``predict``): each timestamp
    is forecast on its own, whatever else is asked."""
    y, X, Xf = sample_data(freq)
    model = make().fit(y, X)
    week = Xf.iloc[: SEASON[freq]]
    np.testing.assert_allclose(
        model.predict(week).to_numpy(),
        model.predict(Xf).to_numpy()[: len(week)],
        rtol=1e-9,
        err_msg=f"{_name(model)}: a forecast depends on the other timestamps asked",
    )
    assert (Xf.index[0] - y.index[-1]) == FREQ_DELTA[freq]


def check_ranges_tag(make: Make, freq: str = "D") -> None:
    """A model with the tag ``predicts_ranges`` has ``predict_ranges(X)``: its ``yhat`` and
    ordered 80/95% ranges on ``X.index``, the ``yhat`` being ``predict``'s."""
    y, X, Xf = sample_data(freq)
    model = make().fit(y, X)
    if not get_tags(model).predicts_ranges:
        return
    ranges = model.predict_ranges(Xf)
    cols = ["lo_95", "lo_80", "yhat", "hi_80", "hi_95"]
    assert sorted(ranges.columns) == sorted(cols), f"{_name(model)}: columns {list(ranges)}"
    assert ranges.index.equals(Xf.index), f"{_name(model)}.predict_ranges must keep X's index"
    assert (np.diff(ranges[cols].to_numpy(), axis=1) >= 0).all(), "ranges out of order"
    np.testing.assert_allclose(ranges["yhat"].to_numpy(), model.predict(Xf).to_numpy())


def _arrays(X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """A frame as the array methods take it: ``(values, int64 ns timestamps, column names)``."""
    return X.to_numpy(dtype=float), epoch_ns(X.index), tuple(X.columns)


def check_arrays_match_pandas(make: Make, freq: str = "D") -> None:
    """``fit_arrays``/``predict_arrays`` (numpy values, int64 nanosecond timestamps, column
    names) forecast what ``fit``/``predict`` forecast, on a history with missing values, for
    the future, a bare timestamp index and (where the tag ``predicts_past`` says so) the
    past; ``predict_arrays`` gives a float array, one value per timestamp. A model written
    the pandas way passes through the base class's fallbacks."""
    y, X, Xf = sample_data(freq)
    y.iloc[[3, len(y) // 2]] = np.nan
    by_pandas = make().fit(y, X)
    values, t, columns = _arrays(X)
    by_arrays = make().fit_arrays(y.to_numpy(dtype=float), values, t, columns)
    assert isinstance(by_arrays, type(by_pandas)), f"{_name(by_pandas)}.fit_arrays must return self"
    targets = [Xf] + ([X.iloc[-SEASON[freq] :]] if get_tags(by_pandas).predicts_past else [])
    for target in targets:
        expected = by_pandas.predict(target).to_numpy()
        got = by_arrays.predict_arrays(*_arrays(target))
        assert isinstance(got, np.ndarray) and got.dtype == float and got.shape == expected.shape, (
            f"{_name(by_pandas)}.predict_arrays must give a float array, one value per timestamp"
        )
        np.testing.assert_allclose(
            got, expected, rtol=1e-9, err_msg=f"{_name(by_pandas)}: arrays and pandas differ"
        )
        np.testing.assert_allclose(
            by_arrays.predict(target).to_numpy(),
            expected,
            rtol=1e-9,
            err_msg=f"{_name(by_pandas)} fitted on arrays predicts otherwise through pandas",
        )
    blind = make().fit(y, X.iloc[:, :0]).predict(Xf.index).to_numpy()
    got = (
        make().fit_arrays(y.to_numpy(dtype=float), None, t).predict_arrays(None, epoch_ns(Xf.index))
    )
    np.testing.assert_allclose(
        got, blind, rtol=1e-9, err_msg=f"{_name(by_pandas)}: arrays without X differ from pandas"
    )


CHECKS: tuple[Callable[[Make, str], None], ...] = (
    check_init_stores_params,
    check_get_params_round_trip,
    check_fit_returns_self,
    check_clone_is_independent,
    check_predict_has_no_side_effects,
    check_fit_is_deterministic,
    check_past_timestamps,
    check_calendar_tag,
    check_gaps,
    check_horizon_steps,
    check_ranges_tag,
    check_arrays_match_pandas,
)


def check_model(make: Make | str, freq: str = "D") -> None:
    """Run every check in :data:`CHECKS` on ``make`` (a factory of fresh models, or a
    registered model name); the first failure raises ``AssertionError``."""
    if isinstance(make, str):
        from . import make_model

        name = make
        make = lambda: make_model(name, freq=freq)  # noqa: E731
    for check in CHECKS:
        check(make, freq)
