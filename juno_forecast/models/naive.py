"""Seasonal naive: the value one season (a week) earlier. The baseline everything is measured against."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..compat import epoch_ns
from .base import (
    FREQ_DELTA,
    SEASON,
    Forecaster,
    ModelTags,
    check_freq,
    check_y,
    future_frame,
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

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> SeasonalNaive:
        """Remember the history (the last seasons are all a forecast needs)."""
        check_freq(self.freq)
        self.y_ = check_y(y)
        self.season_ = int(self.season or SEASON[self.freq])
        self.last_ = self.y_.index.max()
        return self

    def predict(self, X: pd.DataFrame | pd.DatetimeIndex) -> pd.Series:
        """The value ``k`` seasons back, with ``k`` the fewest that lands inside the history."""
        index = future_frame(X).index
        after = (epoch_ns(index) - self.last_.value) / FREQ_DELTA[self.freq].value
        steps = np.rint(after).astype(int)
        k = np.maximum(1, np.ceil(steps / self.season_)).astype(int)
        sources = after - k * self.season_  # steps after the last value, <= 0
        pos = len(self.y_) - 1 + np.rint(sources).astype(int)
        values = self.y_.to_numpy()[np.clip(pos, 0, len(self.y_) - 1)]
        return pd.Series(values, index=index, name="yhat")
