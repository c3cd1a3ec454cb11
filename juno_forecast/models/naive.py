"""Seasonal naive: the value one season (a week) earlier. The baseline everything is measured against."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..grain import STEP_NS
from .base import (
    SEASON,
    Forecaster,
    ModelTags,
    check_freq,
)


class SeasonalNaive(Forecaster):
    """Forecast each timestamp with the last observed value a whole number of seasons earlier.

    The season is 168 hours (one week) for hourly data and 7 days for daily
    data. Calendar columns are ignored: this is the baseline. A timestamp
    inside the history gets the value one season before it (the first season
    of the history, which has none, gets the first value).
    """

    def __init__(self, freq: str = "h", season: int | None = None, seed: int = 0):
        self.freq = freq
        self.season = season
        self.seed = seed

    def __juno_tags__(self) -> ModelTags:
        """Calendar columns are ignored."""
        return ModelTags(uses_calendar=False)

    def fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> SeasonalNaive:
        """Remember the history (the last seasons are all a forecast needs)."""
        check_freq(self.freq)
        y, _ = self._check_fit_arrays(y, None, t)
        self.y_ = y.copy()  # kept: independent of the caller's buffer
        self.season_ = int(self.season or SEASON[self.freq])
        self.last_ = pd.Timestamp(int(t[-1]))
        return self

    def predict_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """The value ``k`` seasons back, with ``k`` the fewest that lands inside the history."""
        after = (t - self.last_.value) / STEP_NS[self.freq]
        steps = np.rint(after).astype(int)
        k = np.maximum(1, np.ceil(steps / self.season_)).astype(int)
        sources = after - k * self.season_  # steps after the last value, <= 0
        pos = len(self.y_) - 1 + np.rint(sources).astype(int)
        return self.y_[np.clip(pos, 0, len(self.y_) - 1)]
