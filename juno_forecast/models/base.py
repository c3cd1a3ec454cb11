"""The one protocol every forecasting model follows, and helpers they share.

A model is a scikit-learn estimator (:class:`Forecaster` builds on
``sklearn.base.BaseEstimator``): ``__init__`` stores its parameters and
nothing else (so ``get_params``, ``set_params`` and ``sklearn.base.clone``
work); ``fit(y, X=None)`` learns from a series with a regular DatetimeIndex
(and an optional calendar design matrix on the same index) and returns
``self``; ``predict(X)`` returns point forecasts on ``X.index`` as a Series
named ``yhat`` and changes nothing on the model. Fitted state ends in ``_``.
What a model can do beyond that is declared by its tags
(:class:`ModelTags`, read with :func:`get_tags`), never inferred from its
name. Models know nothing of files, calendars or the command line;
:mod:`.checks` verifies all of this for every registered model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..compat import epoch_ns

FREQ_DELTA = {"h": pd.Timedelta(hours=1), "D": pd.Timedelta(days=1)}


class HistoryTooShort(ValueError):
    """A model cannot be fitted on so little history (``auto`` then leaves it out)."""


class PastTimestampsError(ValueError):
    """``predict`` was asked for timestamps inside the history by a model that cannot answer them."""


SEASON = {"h": 168, "D": 7}  # one week, the dominant cycle of ride demand


@dataclass(frozen=True)
class ModelTags:
    """What a model can do, declared by the model (like scikit-learn's ``__sklearn_tags__``).

    * ``predicts_past``: ``predict`` answers timestamps inside the fitted
      history (in-sample values, which ``impact``'s counterfactual span
      needs); otherwise it raises :class:`PastTimestampsError`.
    * ``self_backtests``: ``fit`` runs its own rolling-origin backtest. Such a
      model takes the parameters ``n_folds``, ``fold_len`` and ``fit_predict``
      (how each fold is fitted and predicted) and keeps the backtest's
      forecasts in ``cv_`` (columns ``fold, ds, step, y, yhat``), which the
      ranges are calibrated on without refitting (``auto``).
    * ``uses_calendar``: the calendar columns of ``X`` change the forecast
      (False: they are ignored; ``naive``, ``baseline``).
    * ``handles_gaps``: missing values in ``y`` are left out of the fit
      (False: they are interpolated first, see :func:`check_y`).
    * ``predicts_ranges``: the model calibrates its own 80/95% ranges and
      has ``predict_ranges(X)`` returning ``yhat, lo_80, hi_80, lo_95,
      hi_95`` (``baseline``); otherwise ranges come from conformal
      calibration on a backtest.
    * ``numeric_columns``: columns of ``X`` holding numbers other than 0/1
      (the weather's temperature and precipitation) are used; False: only
      the 0/1 event columns (daily ``gbm``: on the 2015 NYC pickups its daily
      errors grew with them, 1.04x on dry days, benchmarks/weather.py).
    """

    predicts_past: bool = True
    self_backtests: bool = False
    uses_calendar: bool = True
    handles_gaps: bool = False
    predicts_ranges: bool = False
    numeric_columns: bool = True


class Forecaster(BaseEstimator):
    """Base class of every model: scikit-learn parameters and clone, plus forecasting tags.

    Subclasses define ``__init__`` (parameters only), ``fit(y, X=None) ->
    self`` and ``predict(X) -> pd.Series``, and override
    :meth:`__juno_tags__` where their capabilities differ from the defaults
    of :class:`ModelTags`.
    """

    def __juno_tags__(self) -> ModelTags:
        """This model's capabilities (the defaults: a calendar-aware model that predicts the past)."""
        return ModelTags()

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> Forecaster:
        """Learn from the history ``y`` (and calendar columns ``X`` on its index); return self."""
        raise NotImplementedError

    def predict(self, X: pd.DataFrame | pd.DatetimeIndex) -> pd.Series:
        """Point forecasts on ``X.index`` (a Series named ``yhat``), without changing the model."""
        raise NotImplementedError


def get_tags(model: object) -> ModelTags:
    """The tags of ``model``; an object without ``__juno_tags__`` gets the defaults."""
    tags = getattr(model, "__juno_tags__", None)
    return tags() if callable(tags) else ModelTags()


def past_timestamps_error(model: object, last: pd.Timestamp) -> PastTimestampsError:
    """The error of a model that forecasts only after its history (see ``predicts_past``)."""
    return PastTimestampsError(
        f"{type(model).__name__} predicts only timestamps after its fitted history "
        f"(the last is {last}); it does not answer past timestamps (tag predicts_past=False)"
    )


def check_freq(freq: str) -> str:
    """``freq`` if it is a grain the models know (``h`` or ``D``), else ValueError."""
    if freq not in FREQ_DELTA:
        raise ValueError(f"freq: expected 'h' or 'D', got {freq!r}")
    return freq


def check_y(y: pd.Series) -> pd.Series:
    """``y`` as a float Series on a sorted DatetimeIndex with no missing values."""
    if not isinstance(y.index, pd.DatetimeIndex):
        raise TypeError("y must have a DatetimeIndex")
    y = y.astype(float).sort_index()
    if y.isna().any():
        y = y.interpolate(limit_direction="both")
    return y


def informative_columns(X: pd.DataFrame | None) -> list[str]:
    """Columns of ``X`` that vary in the training rows (a constant column teaches nothing)."""
    if X is None or X.shape[1] == 0:
        return []
    values = X.to_numpy(dtype=float)
    return [c for c, v in zip(X.columns, values.T, strict=True) if np.nanmax(v) > np.nanmin(v)]


def future_frame(X: pd.DataFrame | pd.DatetimeIndex) -> pd.DataFrame:
    """Accept a bare DatetimeIndex where a design matrix is expected (no calendar columns)."""
    if isinstance(X, pd.DatetimeIndex):
        return pd.DataFrame(index=X)
    return X


def time_in_days(index: pd.DatetimeIndex, origin: pd.Timestamp) -> np.ndarray:
    """Days since ``origin`` as floats (the time axis of trends)."""
    return (epoch_ns(index).astype(float) - float(pd.Timestamp(origin).value)) / 86_400e9


def recency_weights(index: pd.DatetimeIndex, halflife_days: float) -> np.ndarray:
    """Weights halving every ``halflife_days`` back from the last timestamp."""
    age = time_in_days(index, index.max()) * -1.0
    return np.power(0.5, age / halflife_days)


def log_target(y: pd.Series) -> bool:
    """Whether to model ``y`` on the log1p scale (non-negative data: counts and levels)."""
    return bool((y >= 0).all())


def fourier(index: pd.DatetimeIndex, period_days: float, order: int, prefix: str) -> pd.DataFrame:
    """Sine/cosine pairs of a cycle of ``period_days`` (e.g. 365.25: the year)."""
    values, names = fourier_array(index, period_days, order, prefix)
    return pd.DataFrame(values, index=index, columns=names)


def fourier_array(
    index: pd.DatetimeIndex, period_days: float, order: int, prefix: str
) -> tuple[np.ndarray, list[str]]:
    """:func:`fourier` as a plain array and its column names (cheaper in tight loops)."""
    t = time_in_days(index, pd.Timestamp("2000-01-01"))
    k = np.arange(1, order + 1)
    angle = 2 * np.pi * np.outer(t, k) / period_days
    values = np.column_stack([np.sin(angle), np.cos(angle)])
    names = [f"{prefix}_sin{i}" for i in k] + [f"{prefix}_cos{i}" for i in k]
    return values, names


def spans_a_year(index: pd.DatetimeIndex) -> bool:
    """Whether the history is long enough to learn a yearly cycle (over a year of data)."""
    return (index.max() - index.min()) >= pd.Timedelta(days=371)


_CONTROLLER = None


def single_thread():  # noqa: ANN201 - a context manager from threadpoolctl
    """A context limiting BLAS/OpenMP to one thread.

    Our fits are small and the machines shared: threads only contend (a
    statsmodels fit ran 5x slower with them). The controller is built once.
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1)


class RegressionFitMixin:
    """The start of ``fit`` shared by the calendar regression models (ols, gbm).

    Checks the grain and ``y``, and sets the fitted basics: ``origin_`` (time
    zero of the trend), ``yearly_`` (whether a yearly cycle can be fitted),
    ``events_`` (calendar columns active in the history; only the 0/1 ones
    for a model tagged ``numeric_columns=False``) and ``log_`` (whether
    the target is modelled as log1p).
    """

    freq: str

    def _begin_fit(
        self, y: pd.Series, X: pd.DataFrame | None
    ) -> tuple[pd.Series, pd.DataFrame, np.ndarray]:
        check_freq(self.freq)
        y = check_y(y)
        X = future_frame(X if X is not None else y.index)
        self.origin_ = y.index.min()
        self.yearly_ = spans_a_year(y.index)
        self.events_ = informative_columns(X.reindex(y.index))
        if not get_tags(self).numeric_columns:
            values = X.reindex(y.index)[self.events_]
            self.events_ = [c for c in self.events_ if values[c].isin((0.0, 1.0)).all()]
        self.log_ = log_target(y)
        target = np.log1p(y.to_numpy()) if self.log_ else y.to_numpy()
        return y, X, target
