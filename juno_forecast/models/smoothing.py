"""An exponential-smoothing model with calendar effects: Holt-Winters on log1p(y).

Holt-Winters with a damped additive trend and an additive weekly cycle, on
log1p(y): it follows the latest level and growth of a series and is cheap,
which suits short, trending daily histories (the Uber bases have five to eight
weeks) where a global linear trend or last week's value lag behind. With the
fixed weights (the default) the recursion and its start are statsmodels'
``ExponentialSmoothing(..., initialization_method="estimated")`` run on numpy
(:func:`holt_winters`, :func:`initial_states`; equal to 1e-12, tested), without
its pandas and result objects; ``optimize=True`` fits statsmodels itself.

Smoothing alone would carry a one-off day (the January 2015 blizzard) into
the level and the weekly profile, and could not forecast a known event. So
the calendar is handled in two stages: a least-squares fit of log1p(y) on the
weekly cycle, one level per week and the event columns estimates each event's
effect (against the other days of its week); those effects are removed from
the history before smoothing and added back where the events are active in
the future.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..grain import HOUR_NS, STEP_NS
from .base import (
    SEASON,
    Forecaster,
    HistoryTooShort,
    RegressionFitMixin,
    as_ns,
    select_columns,
    single_thread,
)


def event_effects(
    index: pd.DatetimeIndex | np.ndarray, target: np.ndarray, events: np.ndarray, freq: str
) -> np.ndarray:
    """Effect of each event column on ``target``, net of the weekly cycle and each week's level.

    Least squares on slot-of-the-week dummies, one level per calendar week and
    the event columns: an event is measured against the other days of its own
    week, so growth over the history is not mistaken for an event's effect.
    ``index``: the timestamps of ``target``, or their int64 nanoseconds.
    """
    if events.shape[1] == 0:
        return np.zeros(0)
    hours = as_ns(index) // HOUR_NS  # since 1970-01-01 00:00, a Thursday
    days = hours // 24
    slot = (days + 3) % 7  # Monday 0
    if freq == "h":
        slot = slot * 24 + hours % 24
    weekly = (slot[:, None] == np.arange(SEASON[freq])[None, :]).astype(float)
    week = (days + 3) // 7  # Monday-to-Sunday weeks
    weeks = (week[:, None] == np.unique(week)[None, 1:]).astype(float)
    design = np.hstack([weekly, weeks, events])
    return min_norm_solve(design, target)[-events.shape[1] :]


def min_norm_solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The minimum-norm least-squares solution of ``A x = b``, with numpy's rank cut-off.

    LAPACK's ``gelsy`` (QR with column pivoting) instead of ``numpy.linalg.lstsq``'s
    SVD: a third of the time on these designs, which are mostly rank deficient (an
    event as long as a week); on the real Uber daily series and every cut of them the
    event effects agree with numpy's to 1e-12.
    """
    from scipy.linalg import lstsq

    cond = np.finfo(float).eps * max(A.shape)
    return lstsq(A, b, cond=cond, lapack_driver="gelsy", check_finite=False)[0]


#: fixed smoothing weights (level, trend, season) and trend damping: a local model that follows
#: the last weeks. Fixed, not optimized: an optimizer fitting 4 weights and 9 initial states
#: on six weeks of data over-fits (a trend blown up by one strong week) and costs ~100x more.
SMOOTHING = {"level": 0.4, "trend": 0.1, "seasonal": 0.2, "damping": 0.9}


def initial_states(values: np.ndarray, season: int) -> tuple[float, float, np.ndarray]:
    """``(level, trend, seasonal)`` the smoothing starts from, as statsmodels starts it.

    Two seasons or more: statsmodels' ``initialization_method="estimated"`` with fixed
    weights, which is its heuristic start (:func:`_heuristic_start`: Hyndman et al.
    2008, section 2.6), or, on fewer than ``10 + 2 * (season // 2)`` values, its
    simple one (the first season's mean and deviations, the trend from the second
    season's difference). With less than two seasons (a backtest fold early in a
    short history) the seasonal pattern cannot be estimated: flat in trend from the
    first season's mean and its deviations. Under one season: :class:`HistoryTooShort`.
    """
    if len(values) < season:
        raise HistoryTooShort(f"ets needs at least one season ({season} steps) of history")
    first = np.asarray(values[:season], dtype=float)
    if len(values) < 2 * season:
        return float(first.mean()), 0.0, first - first.mean()
    if len(values) < 10 + 2 * (season // 2):
        level = np.mean(first)
        return level, np.mean((values[season : 2 * season] - first) / season), first - level
    return _heuristic_start(np.asarray(values, dtype=float), season)


def _heuristic_start(values: np.ndarray, m: int) -> tuple[float, float, np.ndarray]:
    """statsmodels' ``_initialization_heuristic`` (additive trend and season) on numpy.

    The seasonal start is the mean deviation of the first cycles (up to five) from their
    centred moving average of one season; level and trend are the least-squares line
    through the first ten values of that moving average.
    """
    n = len(values)
    k = max(min(5, n // m), int(np.ceil((10 + 2 * (m // 2)) / m)))
    series = values[: m * k]
    trend = np.full(len(series), np.nan)
    offset = m - 1 - (m - 1) // 2  # pandas' rolling(m, center=True): label i ends at i + m // 2
    windows = np.lib.stride_tricks.sliding_window_view(series, m).mean(axis=1)
    trend[offset : offset + len(windows)] = windows
    if m % 2 == 0:  # an even season: the centred mean of two neighbouring windows
        trend = np.append((trend[:-1] + trend[1:]) / 2, np.nan)
    cycles = np.full(k * m, np.nan)
    cycles[: len(series)] = series - trend
    seasonal = np.nanmean(cycles.reshape(k, m).T, axis=1)
    seasonal -= np.mean(seasonal)
    beta = _line_through_ten() @ trend[~np.isnan(trend)][:10, None]
    return float(beta[0, 0]), float(beta[1, 0]), seasonal


_LINE: list[np.ndarray] = []


def _line_through_ten() -> np.ndarray:
    """The pseudo-inverse of ``[1, i]`` for ``i`` in 1..10 (a straight line through ten values)."""
    if not _LINE:
        _LINE.append(np.linalg.pinv(np.c_[np.ones(10), np.arange(10) + 1]))
    return _LINE[0]


def holt_winters(
    values: np.ndarray,
    season: int,
    weights: tuple[float, float, float, float],
    start: tuple[float, float, np.ndarray],
) -> tuple[np.ndarray, float, float, np.ndarray]:
    """Additive Holt-Winters with a damped additive trend over ``values``, on numpy.

    ``weights``: ``(level, trend, seasonal, damping)``; ``start``: ``(level, trend,
    seasonal)`` (:func:`initial_states`). Returns the one-step-ahead fitted values and
    the final level, trend and last season of seasonal states: statsmodels'
    ``ExponentialSmoothing(..., trend="add", damped_trend=True, seasonal="add")``
    fitted with these weights (``optimized=False``), the same recursion in the same
    order, without its pandas and result objects (a few hundred microseconds for a
    daily series instead of milliseconds).
    """
    alpha, beta, gamma, phi = weights
    m, n = season, len(values)
    y = values.tolist()
    lvl, b = [0.0] * (n + 1), [0.0] * (n + 1)
    s = [0.0] * (n + m)
    lvl[0], b[0] = start[0], start[1]
    s[:m] = np.asarray(start[2], dtype=float).tolist()
    ac, bc, gc = 1 - alpha, 1 - beta, 1 - gamma
    for i in range(1, n + 1):
        damped = lvl[i - 1] + b[i - 1] * phi
        lvl[i] = alpha * y[i - 1] - alpha * s[i - 1] + ac * damped
        b[i] = beta * (lvl[i] - lvl[i - 1]) + bc * (b[i - 1] * phi)
        s[i + m - 1] = gamma * y[i - 1] - gamma * damped + gc * s[i - 1]
    level, trend = np.asarray(lvl), np.asarray(b)
    fitted = level[:n] + trend[:n] * phi + np.asarray(s[:n])
    return fitted, lvl[n], b[n], np.asarray(s[n : n + m])


def _damped(steps: np.ndarray, phi: float) -> np.ndarray:
    """``phi + phi^2 + ... + phi^h`` for each ``h`` in ``steps``: how far a damped trend goes."""
    h = np.asarray(steps, dtype=float)
    return h if phi == 1 else phi * (1 - phi**h) / (1 - phi)


#: weeks of history the smoothing runs over (plus two steps): with these weights the states
#: forget anything older (a level weight of 0.4 halves an old value's say in under two steps,
#: a seasonal weight of 0.2 in about three seasons), so a longer run only costs time, and a
#: nightly batch fits thousands of series.
WINDOW_WEEKS = {"h": 8, "D": 16}


class SmoothingModel(RegressionFitMixin, Forecaster):
    """Damped-trend Holt-Winters on log1p(y) around calendar effects estimated by least squares.

    ``level``, ``trend``, ``seasonal`` and ``damping`` are the smoothing
    weights (default :data:`SMOOTHING`); ``optimize=True`` lets statsmodels
    estimate them instead (slower, and less stable on short histories).
    ``window_weeks`` limits the history the smoothing sees (default
    :data:`WINDOW_WEEKS`); event effects are estimated on all of it.
    """

    def __init__(
        self,
        freq: str = "D",
        seed: int = 0,
        level: float = SMOOTHING["level"],
        trend: float = SMOOTHING["trend"],
        seasonal: float = SMOOTHING["seasonal"],
        damping: float = SMOOTHING["damping"],
        optimize: bool = False,
        window_weeks: int | None = None,
    ):
        self.freq = freq
        self.seed = seed
        self.level = level
        self.trend = trend
        self.seasonal = seasonal
        self.damping = damping
        self.optimize = optimize
        self.window_weeks = window_weeks

    def fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> SmoothingModel:
        """Estimate event effects, remove them, and smooth what is left."""
        y, X, target = self._begin_fit(y, X, t, columns)
        season = SEASON[self.freq]
        keep = max(self.window_weeks or WINDOW_WEEKS[self.freq], 2) * season + 2
        ev = np.nan_to_num(select_columns(X, columns, self.events_, len(t)))
        with single_thread():
            # effects from the whole history (a holiday a year ago), smoothing on the recent part
            self.effects_ = event_effects(t, target, ev, self.freq)
            self.clean_ = target - ev @ self.effects_
            window = self.clean_[-keep:]
            fitted, *state = self._smooth(window, initial_states(window, season), self.optimize)
        self.fitted_, self.state_ = fitted, tuple(state)
        self.last_ = pd.Timestamp(int(t[-1]))
        return self

    def _smooth(
        self, clean: np.ndarray, start: tuple[float, float, np.ndarray], optimize: bool = False
    ) -> tuple[np.ndarray, float, float, float, np.ndarray]:
        """Holt-Winters on ``clean`` from ``start``: ``(fitted, level, trend, damping, season)``
        (fitted one step ahead; the final states). Fixed weights: :func:`holt_winters`;
        ``optimize``: statsmodels estimates weights and start."""
        season = SEASON[self.freq]
        if not optimize:
            weights = (self.level, self.trend, self.seasonal, self.damping)
            fitted, level, trend, states = holt_winters(clean, season, weights, start)
            return fitted, level, trend, self.damping, states
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        if len(clean) >= 2 * season:
            init = {"initialization_method": "estimated"}
        else:
            level, trend, seasonal = start
            init = {
                "initialization_method": "known",
                "initial_level": level,
                "initial_trend": trend,
                "initial_seasonal": seasonal,
            }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter from the optimizer
            result = ExponentialSmoothing(
                clean,
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=season,
                **init,
            ).fit()
        return (
            np.asarray(result.fittedvalues, dtype=float),
            float(result.level[-1]),
            float(result.trend[-1]),
            float(result.params["damping_trend"]),
            np.asarray(result.season[-season:], dtype=float),
        )

    def _fitted_before_window(self) -> np.ndarray:
        """One-step-ahead fitted values over the whole history (for timestamps older than the
        smoothing window): the same smoothing run from the first season of the history."""
        first = self.clean_[: SEASON[self.freq]]
        start = (float(first.mean()), 0.0, first - first.mean())
        with single_thread():
            return self._smooth(self.clean_, start, self.optimize)[0]

    def _path(self, steps: np.ndarray) -> np.ndarray:
        """The Holt-Winters forecast ``steps`` (>= 1) ahead from the final states.

        ``level + (phi + ... + phi^h) * trend + season[T + h - m]``: the textbook
        closed form from the final states, cheap for any horizon. (statsmodels'
        own ``forecast`` re-runs the filter and, at h = m, 2m, ..., reuses the
        seasonal state of a season earlier instead of the last one.)
        """
        level, trend, phi, season = self.state_
        return level + _damped(steps, phi) * trend + season[(steps - 1) % len(season)]

    def predict_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """Point forecasts at ``t``; past timestamps get the one-step-ahead fitted values
        (older than the smoothing window: from a run of the smoothing over the whole history)."""
        steps = np.rint((t - self.last_.value) / STEP_NS[self.freq]).astype(int)
        fitted = self.fitted_
        if len(steps) and steps.min() <= -len(fitted):
            fitted = self._fitted_before_window()
        past = fitted[np.clip(len(fitted) - 1 + steps, 0, len(fitted) - 1)]
        value = np.where(steps > 0, self._path(np.maximum(steps, 1)), past)
        if len(self.effects_):
            ev = select_columns(X, columns, self.events_, len(t))
            value = value + np.nan_to_num(ev) @ self.effects_
        if self.log_:
            value = np.expm1(value)
        return value
