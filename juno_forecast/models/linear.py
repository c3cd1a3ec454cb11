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
through the Gram matrix (:func:`min_norm_from_gram`), which is built from the
design's structure without building the design (:func:`normal_equations`: the
weekly dummies are one-hot, the event columns zero outside event hours). The
calendar-free part of the design (constant, trend, weekly dummies, yearly
cycle) depends only on the timestamps and the trend's origin, so the rows
``predict`` needs are cut from a design built once per grid
(:func:`base_design`), shared by a backtest's folds and a batch's series.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pandas as pd

from ..grain import STEP_NS, day_of_week, hour_of_day
from .base import (
    SEASON,
    Forecaster,
    RegressionFitMixin,
    as_ns,
    fourier_array,
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
    slot = weekly_slots(t, freq)
    dummies = (slot[:, None] == np.arange(1, SEASON[freq])[None, :]).astype(float)
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
    return min_norm_from_gram(A.T @ A, A.T @ b)


def min_norm_from_gram(G: np.ndarray, r: np.ndarray) -> np.ndarray:
    """:func:`min_norm_lstsq` from the normal equations ``G x = r`` (``G = A'A``, ``r = A'b``)."""
    w, V = np.linalg.eigh(G)
    kept = w > max(w.max(initial=0.0), 0.0) * 1e-12
    if not kept.any():
        return np.zeros(G.shape[1])
    return V[:, kept] @ ((V[:, kept].T @ r) / w[kept])


def weekly_slots(t: np.ndarray, freq: str) -> np.ndarray:
    """The slot of the week of each timestamp: hour of the week (hourly) or weekday (daily)."""
    return day_of_week(t) * 24 + hour_of_day(t) if freq == "h" else day_of_week(t)


def normal_equations(
    t: np.ndarray,
    origin: int,
    freq: str,
    yearly_order: int,
    events: tuple[np.ndarray, np.ndarray],
    target: np.ndarray,
    weights: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(G, r, nonzero)``: the weighted Gram matrix ``A'WA``, ``A'Wb`` and the columns of
    ``A`` that are not all zero, for ``A`` the design of :func:`_build_design` at ``t``
    followed by the event columns, without building ``A``. ``events`` is ``(rows,
    values)``: the rows where some event column is not zero, and the event columns on
    those rows (zero elsewhere).

    The weekly dummies are one-hot (their block of ``G`` is diagonal, their products
    are sums per slot: ``bincount``) and the event columns are zero outside the event
    hours (their products need only those rows): on an hourly history with the
    calendar's events this is a fraction of the cost of ``A'A`` on the dense design
    (~270 columns), and equals it to rounding.
    """
    n_slots = SEASON[freq]
    slot = weekly_slots(t, freq)
    trend = time_in_days(t, origin) / 365.25
    dense = [np.ones(len(t)), trend]  # constant, trend, then the yearly cycle
    if yearly_order:
        dense += list(fourier_array(t, 365.25, yearly_order, "year")[0].T)
    P = np.column_stack(dense)
    Pw, bw = P * weights[:, None], target * weights
    rows, E = events
    p, d, q = P.shape[1], n_slots - 1, E.shape[1]
    pos_p = np.r_[0, 1, 2 + d + np.arange(p - 2)]  # where P's columns sit in the design
    pos_d, pos_e = 2 + np.arange(d), 2 + d + (p - 2) + np.arange(q)
    k = p + d + q
    G, r = np.zeros((k, k)), np.zeros(k)
    G[np.ix_(pos_p, pos_p)] = Pw.T @ P
    per_slot = np.stack([np.bincount(slot, c, minlength=n_slots)[1:] for c in Pw.T])
    G[np.ix_(pos_p, pos_d)], G[np.ix_(pos_d, pos_p)] = per_slot, per_slot.T
    G[pos_d, pos_d] = np.bincount(slot, weights, minlength=n_slots)[1:]
    r[pos_p], r[pos_d] = Pw.T @ target, np.bincount(slot, bw, minlength=n_slots)[1:]
    nonzero = np.zeros(k, dtype=bool)
    nonzero[pos_p] = np.abs(P).sum(axis=0) > 0
    nonzero[pos_d] = np.bincount(slot, minlength=n_slots)[1:] > 0
    if len(rows) and q:
        Ew = E * weights[rows, None]
        onehot = slot[rows, None] == np.arange(1, n_slots)[None, :]
        G[np.ix_(pos_e, pos_e)] = Ew.T @ E
        G[np.ix_(pos_e, pos_p)] = Ew.T @ P[rows]
        G[np.ix_(pos_e, pos_d)] = Ew.T @ onehot
        G[np.ix_(pos_p, pos_e)] = G[np.ix_(pos_e, pos_p)].T
        G[np.ix_(pos_d, pos_e)] = G[np.ix_(pos_e, pos_d)].T
        r[pos_e] = Ew.T @ target[rows]
        nonzero[pos_e] = np.abs(E).sum(axis=0) > 0
    return G, r, nonzero


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

    def _design(self, t: np.ndarray, X: np.ndarray | None, columns: tuple[str, ...]) -> np.ndarray:
        """The regressors at ``t`` as a matrix (named by :meth:`_names`)."""
        order = self.yearly_order if self.yearly_ else 0
        base = base_design(t, self.origin_, self.freq, order)
        ev = self._events(t, X, columns)
        return np.hstack([base, ev]) if ev.shape[1] else base

    def _names(self) -> list[str]:
        """The names of the regressors of :meth:`_design`."""
        tag, n_slots = ("how", SEASON["h"]) if self.freq == "h" else ("dow", 7)
        names = ["const", "trend", *(f"{tag}{i}" for i in range(1, n_slots))]
        if self.yearly_ and self.yearly_order:
            names += fourier_array(np.zeros(0, np.int64), 365.25, self.yearly_order, "year")[1]
        if self.freq != "h":
            return names + list(self.events_)
        return names + [f"{c}@{part}" for part in DAY_PARTS for c in self.events_]

    def _events(self, t: np.ndarray, X: np.ndarray | None, columns: tuple[str, ...]) -> np.ndarray:
        """Event columns; at hourly grain one per event and part of the day."""
        if not self.events_:
            return np.zeros((len(t), 0))
        return self._event_parts(t, np.nan_to_num(select_columns(X, columns, self.events_, len(t))))

    def _event_rows(
        self, t: np.ndarray, X: np.ndarray, columns: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, values)``: the rows of :meth:`_events` with an event, and their columns."""
        if not self.events_:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0))
        ev = np.nan_to_num(select_columns(X, columns, self.events_, len(t)))
        rows = np.flatnonzero(ev.any(axis=1))
        return rows, self._event_parts(t[rows], ev[rows])

    def _event_parts(self, t: np.ndarray, ev: np.ndarray) -> np.ndarray:
        """The event columns ``ev`` at ``t``; at hourly grain one per event and part of the day."""
        if self.freq != "h":
            return ev
        hour = hour_of_day(t)
        parts = [((hour >= a) & (hour < b)).astype(float) for a, b in DAY_PARTS.values()]
        return np.hstack([ev * in_part[:, None] for in_part in parts])

    def fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> CalendarRegression:
        """Fit WLS on the design of ``t`` and the informative columns of ``X`` (through its
        normal equations, :func:`normal_equations`)."""
        y, X, target = self._begin_fit(y, X, t, columns)
        halflife = self.halflife_days or (56.0 if self.freq == "h" else 120.0)
        order = self.yearly_order if self.yearly_ else 0
        events, weights = self._event_rows(t, X, columns), recency_weights(t, halflife)
        with single_thread():  # BLAS threads only contend on small, shared machines
            G, r, nonzero = normal_equations(
                t, self.origin_, self.freq, order, events, target, weights
            )
            keep = np.flatnonzero(nonzero | (np.arange(len(nonzero)) < 2))
            self.coef_ = min_norm_from_gram(G[np.ix_(keep, keep)], r[keep])
        self.keep_ = keep
        return self

    @property
    def params_(self) -> pd.Series:
        """The fitted coefficients by regressor name (built when asked: not on the hot path)."""
        names = self._names()
        return pd.Series(self.coef_, index=[names[i] for i in self.keep_])

    def predict_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """Point forecasts at ``t`` (back on the original scale)."""
        value = self._design(t, X, columns)[:, self.keep_] @ self.coef_
        if self.log_:
            value = np.expm1(value)
        return value
