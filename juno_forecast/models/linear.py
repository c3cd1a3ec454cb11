"""A statsmodels regression with calendar regressors: weighted least squares on log1p(y).

Regressors: a linear trend, the weekly cycle (hour-of-week dummies at hourly
grain, weekday dummies at daily grain), a yearly Fourier cycle when the
history covers more than a year, and the calendar's event columns (at hourly
grain each event gets one column per part of the day, because a holiday
changes the shape of the day, not only its level). Recent observations weigh
more (a half-life in days), so the trend and the weekly profile follow the
latest level of a growing or shrinking series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import (
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


class CalendarRegression(RegressionFitMixin, Forecaster):
    """Weighted least squares (``statsmodels.api.WLS``) on trend, weekly cycle and events."""

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
        t = time_in_days(index, self.origin_) / 365.25
        blocks, names = [np.ones(len(index)), t], ["const", "trend"]
        if self.freq == "h":
            slot, n_slots, tag = index.dayofweek * 24 + index.hour, SEASON["h"], "how"
        else:
            slot, n_slots, tag = index.dayofweek, 7, "dow"
        dummies = (np.asarray(slot)[:, None] == np.arange(1, n_slots)[None, :]).astype(float)
        blocks += list(dummies.T)
        names += [f"{tag}{i}" for i in range(1, n_slots)]
        if self.yearly_:
            year, year_names = fourier_array(index, 365.25, self.yearly_order, "year")
            blocks += list(year.T)
            names += year_names
        ev, ev_names = self._events(index, X)
        blocks += list(ev.T)
        names += ev_names
        return np.column_stack(blocks), names

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
        import statsmodels.api as sm

        y, X, target = self._begin_fit(y, X)
        design, names = self._design(y.index, X)
        keep = np.flatnonzero((np.abs(design).sum(axis=0) > 0) | (np.arange(len(names)) < 2))
        self.keep_ = keep
        halflife = self.halflife_days or (56.0 if self.freq == "h" else 120.0)
        w = recency_weights(y.index, halflife)
        with single_thread():  # BLAS threads only contend on small, shared machines
            self.result_ = sm.WLS(target, design[:, keep], weights=w).fit(method="pinv")
        self.params_ = pd.Series(self.result_.params, index=[names[i] for i in keep])
        return self

    def predict(self, X: pd.DataFrame | pd.DatetimeIndex) -> pd.Series:
        """Point forecasts on ``X.index`` (back on the original scale)."""
        X = future_frame(X)
        design, _ = self._design(X.index, X)
        value = design[:, self.keep_] @ self.params_.to_numpy()
        if self.log_:
            value = np.expm1(value)
        return pd.Series(value, index=X.index, name="yhat")
