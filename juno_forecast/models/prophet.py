"""Prophet, given the calendar the way Prophet expects it.

Full-day pulse events become Prophet *holidays*: each run of consecutive
active days is one row with ``ds`` at its first day and ``upper_window`` its
length minus one, so every day of an event's window gets its own effect.
Step events, and pulses limited to some hours (an evening-only Ramadan
effect), become extra regressors. The series is modelled on the log1p scale
(effects multiply, as ride demand does) unless ``log=False``. Prophet's own
sampling of uncertainty is off: ranges come from conformal calibration.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import pandas as pd

from .base import (
    Forecaster,
    check_freq,
    check_y,
    future_frame,
    informative_columns,
    log_target,
)


def _quiet() -> None:
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _runs(days: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, int]]:
    """Runs of consecutive days as ``(first day, length)``."""
    runs: list[tuple[pd.Timestamp, int]] = []
    for d in days.sort_values().unique():
        if runs and d - (runs[-1][0] + pd.Timedelta(days=runs[-1][1])) == pd.Timedelta(0):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((d, 1))
    return runs


def _is_full_day(col: pd.Series) -> bool:
    """Whether a 0/1 column is on for whole days only (hourly data) or is daily data."""
    days = col.index.normalize()
    on = col.to_numpy() > 0
    per_day = pd.Series(on).groupby(np.asarray(days)).agg(["any", "all"])
    return bool((per_day["any"] == per_day["all"]).all())


def holidays_frame(X: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Prophet's ``holidays`` table for the pulse columns ``names`` of ``X``."""
    rows = []
    for i, name in enumerate(names):
        days = pd.DatetimeIndex(X.index[X[name].to_numpy() > 0]).normalize().unique()
        for first, length in _runs(days):
            rows.append(
                {
                    "holiday": f"event_{i}",
                    "ds": first,
                    "lower_window": 0,
                    "upper_window": length - 1,
                }
            )
    return pd.DataFrame(rows, columns=["holiday", "ds", "lower_window", "upper_window"])


def _is_step(col: pd.Series) -> bool:
    """A column that, once on, stays on (a lasting level change)."""
    v = col.to_numpy() > 0
    return bool(v.any() and v[np.argmax(v) :].all())


class ProphetModel(Forecaster):
    """``prophet.Prophet`` with the calendar as holidays (pulses) and regressors (steps)."""

    def __init__(
        self,
        freq: str = "h",
        seed: int = 0,
        log: bool = True,
        country_holidays: str | None = None,
        use_calendar: bool = True,
    ):
        self.freq = freq
        self.seed = seed
        self.log = log
        self.country_holidays = country_holidays
        self.use_calendar = use_calendar

    def _frame(self, index: pd.DatetimeIndex, X: pd.DataFrame) -> pd.DataFrame:
        df = pd.DataFrame({"ds": index})
        for i, c in enumerate(self.regressors_):
            df[f"reg_{i}"] = X.reindex(index=index, columns=[c], fill_value=0.0)[c].to_numpy()
        return df

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> ProphetModel:
        """Fit Prophet (MAP, no sampling) on the history and the calendar columns."""
        from prophet import Prophet

        _quiet()
        check_freq(self.freq)
        y = check_y(y)
        X = future_frame(X if X is not None else y.index).reindex(y.index)
        cols = informative_columns(X) if self.use_calendar else []
        self.regressors_ = [c for c in cols if _is_step(X[c]) or not _is_full_day(X[c])]
        self.pulses_ = [c for c in cols if c not in self.regressors_]
        holidays = holidays_frame(X, self.pulses_) if self.pulses_ else None
        self.log_ = self.log and log_target(y)
        model = Prophet(holidays=holidays, uncertainty_samples=0)
        if self.country_holidays:
            model.add_country_holidays(country_name=self.country_holidays)
        for i in range(len(self.regressors_)):
            model.add_regressor(f"reg_{i}", standardize=False)
        df = self._frame(y.index, X)
        df["y"] = np.log1p(y.to_numpy()) if self.log_ else y.to_numpy()
        np.random.seed(self.seed)
        self.model_ = model.fit(df)
        self.train_holidays_ = holidays
        return self

    def predict(self, X: pd.DataFrame | pd.DatetimeIndex) -> pd.Series:
        """Point forecasts on ``X.index``; future event days come from ``X``'s columns.

        Prophet reads event days from its ``holidays`` table, so the days of
        ``X`` join the training ones on a shallow copy of the fitted model:
        the fitted model itself is left unchanged.
        """
        X = future_frame(X)
        model = self.model_
        if self.pulses_:
            future = holidays_frame(X.reindex(columns=self.pulses_, fill_value=0.0), self.pulses_)
            parts = [h for h in (self.train_holidays_, future) if h is not None and len(h)]
            model = copy.copy(self.model_)
            model.holidays = pd.concat(parts, ignore_index=True) if parts else None
        value = model.predict(self._frame(X.index, X))["yhat"].to_numpy()
        if self.log_:
            value = np.expm1(value)
        return pd.Series(value, index=X.index, name="yhat")
