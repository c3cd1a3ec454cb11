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

from .base import (
    SEASON,
    STEP_NS,
    Forecaster,
    RegressionFitMixin,
    as_ns,
    day_of_week,
    fourier_array,
    hour_of_day,
    recency_weights,
    select_columns,
    single_thread,
    time_in_days,
)

DAY_PARTS = {"night": (0, 6), "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24)}

#: designs kept per (grain, origin, yearly order): a backtest's folds and a batch's series
_DESIGNS: OrderedDict[tuple, np.ndarray] = OrderedDict()
_MAX_DESIGNS = 8


def _build_design(t: np.ndarray, origin: int, freq: str, yearly_order: int) -> np.ndarray:
    """Constant, trend, weekly dummies and (``yearly_order`` > 0) the yearly cycle at ``t``
    (int64 nanoseconds, wall clock; ``origin`` likewise)."""
    trend = time_in_days(t, origin) / 365.25
    if freq == "h":
        slot, n_slots = day_of_week(t) * 24 + hour_of_day(t), SEASON["h"]
    else:
        slot, n_slots = day_of_week(t), 7
    dummies = (slot[:, None] == np.arange(1, n_slots)[None, :]).astype(float)
    blocks = [np.ones((len(t), 1)), trend[:, None], dummies]
    if yearly_order:
        blocks.append(fourier_array(t, 365.25, yearly_order, "year")[0])
    return np.hstack(blocks)


def base_design(
    index: pd.DatetimeIndex | np.ndarray,
    origin: pd.Timestamp | int,
    freq: str,
    yearly_order: int,
) -> np.ndarray:
    """:func:`_build_design` at ``index``, cut from a cached design of the grid from ``origin``
    (timestamps or int64 nanoseconds).

    The cached array is read-only; contiguous rows come back as a view (no copy).
    Timestamps off the grid or before ``origin`` are computed directly.
    """
    t, origin = as_ns(index), as_ns(origin)
    pos = (t - origin) / STEP_NS[freq]
    if not len(pos) or pos.min() < 0 or not np.array_equal(pos, np.rint(pos)):
        return _build_design(t, origin, freq, yearly_order)
    pos = pos.astype(np.int64)
    key = (freq, origin, yearly_order)
    cached = _DESIGNS.get(key)
    if cached is None or pos.max() >= len(cached):
        grid = origin + STEP_NS[freq] * np.arange(int(pos.max()) + 1, dtype=np.int64)
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

    def _design(
        self, t: np.ndarray, X: np.ndarray | None, columns: tuple[str, ...]
    ) -> tuple[np.ndarray, list[str]]:
        """The regressors at ``t`` as a matrix, with their names."""
        order = self.yearly_order if self.yearly_ else 0
        base = base_design(t, self.origin_, self.freq, order)
        tag, n_slots = ("how", SEASON["h"]) if self.freq == "h" else ("dow", 7)
        names = ["const", "trend", *(f"{tag}{i}" for i in range(1, n_slots))]
        if order:
            names += fourier_array(t[:0], 365.25, order, "year")[1]
        ev, ev_names = self._events(t, X, columns)
        if not ev_names:
            return base, names
        return np.hstack([base, ev]), names + ev_names

    def _events(
        self, t: np.ndarray, X: np.ndarray | None, columns: tuple[str, ...]
    ) -> tuple[np.ndarray, list[str]]:
        """Event columns; at hourly grain one per event and part of the day."""
        if not self.events_:
            return np.zeros((len(t), 0)), []
        ev = np.nan_to_num(select_columns(X, columns, self.events_, len(t)))
        if self.freq != "h":
            return ev, list(self.events_)
        cols, names = [], []
        hour = hour_of_day(t)
        for part, (a, b) in DAY_PARTS.items():
            in_part = ((hour >= a) & (hour < b)).astype(float)
            cols.append(ev * in_part[:, None])
            names += [f"{c}@{part}" for c in self.events_]
        return np.hstack(cols), names

    def fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> CalendarRegression:
        """Fit WLS on the design of ``t`` and the informative columns of ``X``."""
        y, X, target = self._begin_fit(y, X, t, columns)
        design, names = self._design(t, X, columns)
        keep = np.flatnonzero((np.abs(design).sum(axis=0) > 0) | (np.arange(len(names)) < 2))
        self.keep_ = keep
        halflife = self.halflife_days or (56.0 if self.freq == "h" else 120.0)
        sw = np.sqrt(recency_weights(t, halflife))
        with single_thread():  # BLAS threads only contend on small, shared machines
            self.coef_ = min_norm_lstsq(design[:, keep] * sw[:, None], target * sw)
        self.names_ = tuple(names[i] for i in keep)
        return self

    @property
    def params_(self) -> pd.Series:
        """The fitted coefficients by regressor name (built when asked: not on the hot path)."""
        return pd.Series(self.coef_, index=list(self.names_))

    def predict_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """Point forecasts at ``t`` (back on the original scale)."""
        design, _ = self._design(t, X, columns)
        value = design[:, self.keep_] @ self.coef_
        if self.log_:
            value = np.expm1(value)
        return value
