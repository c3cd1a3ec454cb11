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

from ..grain import DAY_NS
from .base import (
    Forecaster,
    check_freq,
    informative_mask,
    log_target,
    select_columns,
    wall_index,
)


def _quiet() -> None:
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _runs(days: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive days (day numbers since the epoch) as ``(first day, length)``."""
    days = np.unique(days)
    if not len(days):
        return []
    starts = np.flatnonzero(np.diff(days, prepend=days[0] - 2) != 1)
    lengths = np.diff(np.append(starts, len(days)))
    return [(int(days[s]), int(n)) for s, n in zip(starts, lengths, strict=True)]


def _is_full_day(on: np.ndarray, t: np.ndarray) -> bool:
    """Whether a 0/1 column (``on``: where it is on, at the sorted timestamps ``t``) is on for
    whole days only (hourly data) or is daily data."""
    day = t // DAY_NS
    starts = np.flatnonzero(np.diff(day, prepend=day[0] - 1) != 0) if len(day) else day
    if not len(starts):
        return True
    any_on = np.maximum.reduceat(on, starts)
    all_on = np.minimum.reduceat(on, starts)
    return bool((any_on == all_on).all())


def holidays_frame(
    X: np.ndarray, t: np.ndarray, columns: tuple[str, ...], names: list[str]
) -> pd.DataFrame:
    """Prophet's ``holidays`` table for the pulse columns ``names`` of ``X`` (named ``columns``,
    at the timestamps ``t``): one row per run of consecutive days the column is on."""
    values = select_columns(X, columns, names, len(t))
    rows = [
        {
            "holiday": f"event_{i}",
            "ds": pd.Timestamp(first * DAY_NS),
            "lower_window": 0,
            "upper_window": length - 1,
        }
        for i in range(len(names))
        for first, length in _runs(t[values[:, i] > 0] // DAY_NS)
    ]
    return pd.DataFrame(rows, columns=["holiday", "ds", "lower_window", "upper_window"])


def _is_step(on: np.ndarray) -> bool:
    """A column (``on``: where it is on, in time order) that, once on, stays on."""
    return bool(on.any() and on[np.argmax(on) :].all())


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

    def _frame(self, t: np.ndarray, X: np.ndarray | None, columns: tuple[str, ...]) -> pd.DataFrame:
        """Prophet's input: ``ds`` and the step regressors' columns."""
        df = pd.DataFrame({"ds": wall_index(t)})
        values = select_columns(X, columns, self.regressors_, len(t))
        for i in range(len(self.regressors_)):
            df[f"reg_{i}"] = values[:, i]
        return df

    def fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> ProphetModel:
        """Fit Prophet (MAP, no sampling) on the history and the calendar columns."""
        from prophet import Prophet

        _quiet()
        check_freq(self.freq)
        y, X = self._check_fit_arrays(y, X, t, columns)
        used = informative_mask(X) if self.use_calendar else np.zeros(X.shape[1], dtype=bool)
        cols = [c for c, u in zip(columns, used, strict=True) if u]
        on = {c: X[:, columns.index(c)] > 0 for c in cols}
        self.regressors_ = [c for c in cols if _is_step(on[c]) or not _is_full_day(on[c], t)]
        self.pulses_ = [c for c in cols if c not in self.regressors_]
        holidays = holidays_frame(X, t, columns, self.pulses_) if self.pulses_ else None
        self.log_ = self.log and log_target(y)
        model = Prophet(holidays=holidays, uncertainty_samples=0)
        if self.country_holidays:
            model.add_country_holidays(country_name=self.country_holidays)
        for i in range(len(self.regressors_)):
            model.add_regressor(f"reg_{i}", standardize=False)
        df = self._frame(t, X, columns)
        df["y"] = np.log1p(y) if self.log_ else y
        np.random.seed(self.seed)
        self.model_ = model.fit(df)
        self.train_holidays_ = holidays
        return self

    def predict_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """Point forecasts at ``t``; future event days come from ``X``'s columns.

        Prophet reads event days from its ``holidays`` table, so the days of
        ``X`` join the training ones on a shallow copy of the fitted model:
        the fitted model itself is left unchanged.
        """
        model = self.model_
        if self.pulses_:
            future = holidays_frame(X, t, columns, self.pulses_)
            parts = [h for h in (self.train_holidays_, future) if h is not None and len(h)]
            model = copy.copy(self.model_)
            model.holidays = pd.concat(parts, ignore_index=True) if parts else None
        value = model.predict(self._frame(t, X, columns))["yhat"].to_numpy()
        if self.log_:
            value = np.expm1(value)
        return value
