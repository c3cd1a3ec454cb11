"""A statsmodels exponential-smoothing model with calendar effects: Holt-Winters on log1p(y).

Holt-Winters (``statsmodels.tsa.holtwinters.ExponentialSmoothing``) with a
damped additive trend and an additive weekly cycle, on log1p(y): it follows
the latest level and growth of a series and is cheap, which suits short,
trending daily histories (the Uber bases have five to eight weeks) where a
global linear trend or last week's value lag behind.

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

from .base import (
    HOUR_NS,
    SEASON,
    STEP_NS,
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
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    return coef[-events.shape[1] :]


#: fixed smoothing weights (level, trend, season) and trend damping: a local model that follows
#: the last weeks. Fixed, not optimized: an optimizer fitting 4 weights and 9 initial states
#: on six weeks of data over-fits (a trend blown up by one strong week) and costs ~100x more.
SMOOTHING = {"level": 0.4, "trend": 0.1, "seasonal": 0.2, "damping": 0.9}


def _initial_states(values: np.ndarray, season: int) -> dict:
    """How statsmodels starts the states: estimated from two seasons or more, else from the first.

    With less than two seasons of data (a backtest fold early in a short
    history) statsmodels cannot estimate the starting seasonal pattern; it then
    starts flat in trend from the first season's mean and its deviations.
    """
    if len(values) >= 2 * season:
        return {"initialization_method": "estimated"}
    if len(values) < season:
        raise HistoryTooShort(f"ets needs at least one season ({season} steps) of history")
    first = np.asarray(values[:season], dtype=float)
    return {
        "initialization_method": "known",
        "initial_level": float(first.mean()),
        "initial_trend": 0.0,
        "initial_seasonal": first - first.mean(),
    }


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
            self.result_ = self._smooth(
                self.clean_[-keep:], _initial_states(self.clean_[-keep:], season)
            )
        self.fitted_ = np.asarray(self.result_.fittedvalues, dtype=float)
        self.state_ = (
            float(self.result_.level[-1]),
            float(self.result_.trend[-1]),
            float(self.result_.params["damping_trend"]),
            np.asarray(self.result_.season[-season:], dtype=float),
        )
        self.last_ = pd.Timestamp(int(t[-1]))
        return self

    def _smooth(self, clean: np.ndarray, init: dict):  # noqa: ANN202 - a statsmodels results object
        """Holt-Winters on ``clean`` with the fixed weights (or optimized ones)."""
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter from the optimizer
            model = ExponentialSmoothing(
                clean,
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=SEASON[self.freq],
                **init,
            )
            if self.optimize:
                return model.fit()
            weights = {
                "smoothing_level": self.level,
                "smoothing_trend": self.trend,
                "smoothing_seasonal": self.seasonal,
                "damping_trend": self.damping,
            }
            return model.fit(**weights, optimized=False)

    def _fitted_before_window(self) -> np.ndarray:
        """One-step-ahead fitted values over the whole history (for timestamps older than the
        smoothing window): the same smoothing run from the first season of the history."""
        season = SEASON[self.freq]
        first = self.clean_[:season]
        init = {
            "initialization_method": "known",
            "initial_level": float(first.mean()),
            "initial_trend": 0.0,
            "initial_seasonal": first - first.mean(),
        }
        with single_thread():
            return np.asarray(self._smooth(self.clean_, init).fittedvalues, dtype=float)

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
