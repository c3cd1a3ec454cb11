"""A scikit-learn model: gradient boosting on calendar and seasonal features around a trend.

``HistGradientBoostingRegressor`` learns log1p(y) minus a recency-weighted
linear trend from features known in advance for any future timestamp: hour of
day, weekday, hour of the week, the yearly cycle (when the history covers a
year) and the calendar's event columns. Trees capture interactions a linear
model misses (a holiday looks like a Sunday; an evening-only event). No lag of
``y`` is used, so the forecast is the same at any horizon and never needs
future actuals; the trend carries the level forward.
"""

from __future__ import annotations

import numpy as np

from ..grain import day_of_week, hour_of_day
from .base import (
    Forecaster,
    ModelTags,
    RegressionFitMixin,
    fourier_array,
    recency_weights,
    select_columns,
    time_in_days,
)

_CONTROLLER = None


def _one_thread():  # noqa: ANN202 - a threadpoolctl context manager
    """OpenMP limited to one thread: the fits are small and the cores shared.

    The controller is built once, after scikit-learn (which loads OpenMP) is
    imported; a fresh ``threadpool_limits`` costs milliseconds per call.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        import sklearn.ensemble  # noqa: F401 - loads OpenMP before the controller looks
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1)


class CalendarBoosting(RegressionFitMixin, Forecaster):
    """Trend (weighted least squares) + ``HistGradientBoostingRegressor`` on the detrended log.

    ``max_iter``, ``learning_rate`` and ``max_bins`` default per grain (hourly: 35 rounds
    at 0.3 on 64 bins; daily: 100 at 0.05 on 255); ``early_stopping=True`` holds out a
    random 10% of the history and stops after 10 rounds without improvement.
    """

    def __juno_tags__(self) -> ModelTags:
        """Numeric columns (the weather's numbers) at hourly grain only. Measured on the 2015
        NYC pickups (benchmarks/weather.py): daily, they made the errors larger (1.04x on dry
        days); hourly, with the weather of each hour, the trees meet rain with the hour of
        day and the errors shrank (gbm alone 0.93x on dry days, ``auto`` on rain and snow
        days 0.89x to 0.84x). Trees do not extrapolate past the history's wettest hour."""
        return ModelTags(numeric_columns=self.freq == "h")

    def __init__(
        self,
        freq: str = "h",
        seed: int = 0,
        max_iter: int | None = None,
        learning_rate: float | None = None,
        halflife_days: float | None = None,
        max_bins: int | None = None,
        early_stopping: bool = False,
    ):
        self.freq = freq
        self.seed = seed
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.halflife_days = halflife_days
        self.max_bins = max_bins
        self.early_stopping = early_stopping

    def _features(
        self, t: np.ndarray, X: np.ndarray | None, columns: tuple[str, ...]
    ) -> np.ndarray:
        """Weekday (hourly: also hour and hour of the week), the yearly cycle, the events."""
        dow = day_of_week(t).astype(float)
        cols = [dow]
        if self.freq == "h":
            hour = hour_of_day(t).astype(float)
            cols += [hour, dow * 24 + hour]
        blocks = [np.column_stack(cols)]
        if self.yearly_:
            blocks.append(fourier_array(t, 365.25, 3, "year")[0])
        if self.events_:
            blocks.append(select_columns(X, columns, self.events_, len(t)))
        return np.hstack(blocks)

    def _trend(self, t: np.ndarray) -> np.ndarray:
        return np.polyval(self.trend_, time_in_days(t, self.origin_))

    def fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> CalendarBoosting:
        """Fit the trend, then the boosted trees on what the trend leaves."""
        from sklearn.ensemble import HistGradientBoostingRegressor

        y, X, target = self._begin_fit(y, X, t, columns)
        halflife = self.halflife_days or (56.0 if self.freq == "h" else 120.0)
        w = recency_weights(t, halflife)
        self.trend_ = np.polyfit(time_in_days(t, self.origin_), target, 1, w=np.sqrt(w))
        hourly = self.freq == "h"
        self.gbm_ = HistGradientBoostingRegressor(
            # hourly: 50 rounds at 0.2 on 64 bins match 100 at 0.1 on 255 (boroughs-h, every
            # other origin: MASE 0.931 vs 0.938) in half the time; sklearn's early stopping
            # (a random 10% held out) rarely stopped before 100 on the busy boroughs and cost
            # 3/4 of the time (0.934). 35 rounds at 0.3 match 50 at 0.2 (boroughs-h: gbm MASE
            # 0.988 vs 0.987, auto 0.947 both; events-h auto 0.822 vs 0.821) at 0.7x the cost,
            # which brings hourly auto under Prophet's fit and predict (benchmarks/results/
            # auto_speed.md). Daily data are small: 100 rounds at 0.05 stay cheap.
            max_iter=self.max_iter or (35 if hourly else 100),
            learning_rate=self.learning_rate or (0.3 if hourly else 0.05),
            max_leaf_nodes=31,
            min_samples_leaf=20 if hourly else 10,
            l2_regularization=1.0,
            max_bins=self.max_bins or (64 if hourly else 255),
            early_stopping=self.early_stopping,
            n_iter_no_change=10,
            validation_fraction=0.1,
            random_state=self.seed,
        )
        with _one_thread():
            self.gbm_.fit(self._features(t, X, columns), target - self._trend(t))
        return self

    def predict_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """Point forecasts at ``t``: trend + boosted seasonal/calendar part."""
        with _one_thread():
            value = self._trend(t) + self.gbm_.predict(self._features(t, X, columns))
        if self.log_:
            value = np.expm1(value)
        return value
