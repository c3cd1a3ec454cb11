"""A regression with calendar regressors: weighted least squares on log1p(y), by numpy.

Regressors: a linear trend, the weekly cycle (hour-of-week dummies at hourly
grain, weekday dummies at daily grain), a yearly Fourier cycle when the
history covers more than a year, and the calendar's event columns (at hourly
grain each event gets one column per part of the day, because a holiday
changes the shape of the day, not only its level). Recent observations weigh
more (a half-life in days), so the trend and the weekly profile follow the
latest level of a growing or shrinking series.

The fit is the minimum-norm least-squares solution on the weighted design (as
statsmodels' ``WLS(...).fit(method="pinv")`` gave, without its result object),
through the Gram matrix (:func:`min_norm_lstsq`). The calendar-free part of the design (constant, trend, weekly
dummies, yearly cycle) depends only on the timestamps and the trend's origin,
so it is built once per grid and shared (:func:`base_design`): the backtest
folds of a history start where it starts and reuse the rows of its design,
and so do the series of a batch on the same grid.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from ..compat import epoch_ns
from .base import (
    FREQ_DELTA,
    SEASON,
    Forecaster,
    RegressionFitMixin,
    fourier_array,
    future_frame,
    recency_weights,
    single_thread,
    time_in_days,
)

DAY_PARTS = {"night": (0, 6), "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24)}

#: designs kept per (grain, origin, yearly order): a backtest's folds and a batch's series
_DESIGNS: OrderedDict[tuple, np.ndarray] = OrderedDict()
_MAX_DESIGNS = 8


def _build_design(
    index: pd.DatetimeIndex, origin: pd.Timestamp, freq: str, yearly_order: int
) -> np.ndarray:
    """Constant, trend, weekly dummies and (``yearly_order`` > 0) the yearly cycle on ``index``."""
    t = time_in_days(index, origin) / 365.25
    if freq == "h":
        slot, n_slots = index.day_of_week * 24 + index.hour, SEASON["h"]
    else:
        slot, n_slots = index.day_of_week, 7
    dummies = (np.asarray(slot)[:, None] == np.arange(1, n_slots)[None, :]).astype(float)
    blocks = [np.ones((len(index), 1)), t[:, None], dummies]
    if yearly_order:
        blocks.append(fourier_array(index, 365.25, yearly_order, "year")[0])
    return np.hstack(blocks)


def base_design(
    index: pd.DatetimeIndex, origin: pd.Timestamp, freq: str, yearly_order: int
) -> np.ndarray:
    """:func:`_build_design` on ``index``, cut from a cached design of the grid from ``origin``.

    The cached array is read-only; contiguous rows come back as a view (no copy).
    Timestamps off the grid or before ``origin`` are computed directly.
    """
    pos = (epoch_ns(index) - pd.Timestamp(origin).value) / FREQ_DELTA[freq].value
    if not len(pos) or pos.min() < 0 or not np.array_equal(pos, np.rint(pos)):
        return _build_design(index, origin, freq, yearly_order)
    pos = pos.astype(np.int64)
    key = (freq, pd.Timestamp(origin).value, yearly_order)
    cached = _DESIGNS.get(key)
    if cached is None or pos.max() >= len(cached):
        grid = pd.date_range(origin, periods=int(pos.max()) + 1, freq=FREQ_DELTA[freq])
        cached = _build_design(grid, origin, freq, yearly_order)
        cached.flags.writeable = False
        _DESIGNS[key] = cached
        while len(_DESIGNS) > _MAX_DESIGNS:
            _DESIGNS.popitem(last=False)
    _DESIGNS.move_to_end(key)
    if pos[-1] - pos[0] == len(pos) - 1 and (np.diff(pos) == 1).all():
        return cached[pos[0] : pos[-1] + 1]
    return cached[pos]


def min_norm_lstsq(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The minimum-norm least-squares solution of ``A x = b``, through ``A'A`` (a few columns).

    The eigendecomposition of the Gram matrix (directions with eigenvalues
    under 1e-12 of the largest are dropped: collinear columns share their
    effect) costs a third of ``numpy.linalg.lstsq``'s SVD of the tall design;
    on the hourly designs (condition numbers in the hundreds) the two agree to
    1e-12. ``auto`` fits the regression on every backtest fold, so this is most
    of its cost after the boosted trees.
    """
    w, V = np.linalg.eigh(A.T @ A)
    kept = w > max(w.max(initial=0.0), 0.0) * 1e-12
    if not kept.any():
        return np.zeros(A.shape[1])
    return V[:, kept] @ ((V[:, kept].T @ (A.T @ b)) / w[kept])


class CalendarRegression(RegressionFitMixin, Forecaster):
    """Weighted least squares (:func:`min_norm_lstsq`) on trend, weekly cycle and events."""

    def __init__(
        self,
        freq: str = "h",
        seed: int = 0,
        halflife_days: float | None = None,
        yearly_order: int = 4,
    ):
        self.freq = freq
        self.seed = seed
        self.halflife_days = halflife_days
        self.yearly_order = yearly_order

    def _design(self, index: pd.DatetimeIndex, X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """The regressors on ``index`` as a matrix, with their names."""
        order = self.yearly_order if self.yearly_ else 0
        base = base_design(index, self.origin_, self.freq, order)
        tag, n_slots = ("how", SEASON["h"]) if self.freq == "h" else ("dow", 7)
        names = ["const", "trend", *(f"{tag}{i}" for i in range(1, n_slots))]
        if order:
            names += fourier_array(index[:0], 365.25, order, "year")[1]
        ev, ev_names = self._events(index, X)
        if not ev_names:
            return base, names
        return np.hstack([base, ev]), names + ev_names

    def _events(self, index: pd.DatetimeIndex, X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """Event columns; at hourly grain one per event and part of the day."""
        if not self.events_:
            return np.zeros((len(index), 0)), []
        same = X.index.equals(index)
        ev = (X if same else X.reindex(index=index)).reindex(columns=self.events_, fill_value=0.0)
        ev = np.nan_to_num(ev.to_numpy(dtype=float))
        if self.freq != "h" or not self.events_:
            return ev.reshape(len(index), -1), list(self.events_)
        cols, names = [], []
        hour = np.asarray(index.hour)
        for part, (a, b) in DAY_PARTS.items():
            in_part = ((hour >= a) & (hour < b)).astype(float)
            cols.append(ev * in_part[:, None])
            names += [f"{c}@{part}" for c in self.events_]
        return np.hstack(cols), names

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> CalendarRegression:
        """Fit WLS on the design of ``y.index`` and the informative columns of ``X``."""
        y, X, target = self._begin_fit(y, X)
        design, names = self._design(y.index, X)
        keep = np.flatnonzero((np.abs(design).sum(axis=0) > 0) | (np.arange(len(names)) < 2))
        self.keep_ = keep
        halflife = self.halflife_days or (56.0 if self.freq == "h" else 120.0)
        sw = np.sqrt(recency_weights(y.index, halflife))
        with single_thread():  # BLAS threads only contend on small, shared machines
            coef = min_norm_lstsq(design[:, keep] * sw[:, None], target * sw)
        self.params_ = pd.Series(coef, index=[names[i] for i in keep])
        return self

    def predict(self, X: pd.DataFrame | pd.DatetimeIndex) -> pd.Series:
        """Point forecasts on ``X.index`` (back on the original scale)."""
        X = future_frame(X)
        design, _ = self._design(X.index, X)
        value = design[:, self.keep_] @ self.params_.to_numpy()
        if self.log_:
            value = np.expm1(value)
        return pd.Series(value, index=X.index, name="yhat")
