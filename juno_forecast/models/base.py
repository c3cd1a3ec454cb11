"""The one protocol every forecasting model follows, and helpers they share.

A model is a scikit-learn estimator (:class:`Forecaster` builds on
``sklearn.base.BaseEstimator``): ``__init__`` stores its parameters and
nothing else (so ``get_params``, ``set_params`` and ``sklearn.base.clone``
work). Its work is done on numpy arrays, as statsforecast's models do:
``fit_arrays(y, X, t, columns)`` learns from the values ``y`` at the
timestamps ``t`` (int64 nanoseconds, naive wall clock, a regular grid) with an
optional calendar design matrix ``X`` whose columns are named ``columns``, and
returns ``self``; ``predict_arrays(X, t, columns)`` returns the point forecasts
at ``t`` and changes nothing on the model. The pandas methods are the public
face: ``fit(y, X=None)`` (a Series on a DatetimeIndex) and ``predict(X)`` (a
Series named ``yhat`` on ``X.index``) convert once (:func:`frame_arrays`) and
call the array methods. A model written the pandas way (overriding only
``fit``/``predict``, a user's own) still works through the array methods: the
base class then builds the pandas objects for it. Fitted state ends in ``_``.
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
from ..grain import DAY_NS

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
    """Base class of every model: scikit-learn parameters and clone, forecasting tags, and the
    pandas façade over the array methods.

    Subclasses define ``__init__`` (parameters only), ``fit_arrays(y, X, t,
    columns) -> self`` and ``predict_arrays(X, t, columns) -> np.ndarray``
    (start ``fit_arrays`` with :meth:`_check_fit_arrays`: the rules on ``y``
    hold there), and override :meth:`__juno_tags__` where their capabilities
    differ from the defaults of :class:`ModelTags`. ``fit``/``predict`` then
    come for free. A subclass written the pandas way (``fit``/``predict``
    only, also a subclass of a model that has array methods) is served by
    :meth:`_fit_arrays_via_pandas`/:meth:`_predict_arrays_via_pandas`, so
    every caller of the array methods reaches its code.
    """

    #: the array methods the pandas façade calls (set per class by ``__init_subclass__``)
    _fit_core = None
    _predict_core = None

    def __init_subclass__(cls, **kwargs: object) -> None:
        """Wire the array methods of a subclass: its own, inherited ones, or the pandas fallbacks.

        A class defining ``fit`` (``predict``) without ``fit_arrays``
        (``predict_arrays``) is an old-style model: its array method is the
        fallback through its pandas one, even when a parent has array methods
        (its own ``fit`` must not be bypassed). The façade keeps calling the
        nearest real array method, so an old-style ``fit`` may call
        ``super().fit(...)``.
        """
        super().__init_subclass__(**kwargs)
        for pandas_name, array_name, fallback in (
            ("fit", "fit_arrays", Forecaster._fit_arrays_via_pandas),
            ("predict", "predict_arrays", Forecaster._predict_arrays_via_pandas),
        ):
            if pandas_name in cls.__dict__ and array_name not in cls.__dict__:
                setattr(cls, array_name, fallback)
            core = next(
                (
                    k.__dict__[array_name]
                    for k in cls.__mro__
                    if array_name in k.__dict__ and k.__dict__[array_name] is not fallback
                ),
                None,
            )
            setattr(cls, f"_{pandas_name}_core", core)

    def __juno_tags__(self) -> ModelTags:
        """This model's capabilities (the defaults: a calendar-aware model that predicts the past)."""
        return ModelTags()

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> Forecaster:
        """Learn from the history ``y`` (and calendar columns ``X`` on its index); return self.

        Converts once (:func:`frame_arrays`: sorted, float, ``X`` on ``y``'s
        index) and calls ``fit_arrays``.
        """
        core = type(self)._fit_core
        if core is None:
            raise NotImplementedError(_neither(self, "fit"))
        return core(self, *frame_arrays(y, X))

    def predict(self, X: pd.DataFrame | pd.DatetimeIndex) -> pd.Series:
        """Point forecasts on ``X.index`` (a Series named ``yhat``), without changing the model.

        ``X`` may be a bare DatetimeIndex (no calendar columns).
        """
        core = type(self)._predict_core
        if core is None:
            raise NotImplementedError(_neither(self, "predict"))
        index, values, t, columns = future_arrays(X)
        return pd.Series(core(self, values, t, columns), index=index, name="yhat")

    def _fit_arrays_via_pandas(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> Forecaster:
        """Learn from the values ``y`` (float64 ``(n,)``, NaN where missing) at ``t`` (int64
        nanoseconds, naive wall clock, increasing on the model's grid) and the calendar
        matrix ``X`` (float64 ``(n, k)`` or None) whose columns are named ``columns``;
        return self.

        What a model overrides. This version is the fallback of a model written the
        pandas way: its ``fit`` on a Series and a frame built from the arrays."""
        if type(self).fit is Forecaster.fit:
            raise NotImplementedError(_neither(self, "fit"))
        index = wall_index(t)
        frame = None if X is None else pd.DataFrame(X, index=index, columns=list(columns))
        return self.fit(pd.Series(y, index=index), frame)

    def _predict_arrays_via_pandas(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """Point forecasts (float64 ``(m,)``) at ``t`` with the calendar matrix ``X`` (columns
        named ``columns``, matched by name to the fitted ones; None: no calendar), without
        changing the model.

        What a model overrides. This version is the fallback of a model written the
        pandas way: its ``predict`` on a frame built from the arrays."""
        if type(self).predict is Forecaster.predict:
            raise NotImplementedError(_neither(self, "predict"))
        index = wall_index(t)
        frame = pd.DataFrame(X, index=index, columns=list(columns)) if X is not None else None
        return np.asarray(
            self.predict(pd.DataFrame(index=index) if frame is None else frame), float
        )

    fit_arrays = _fit_arrays_via_pandas
    predict_arrays = _predict_arrays_via_pandas

    def _check_fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(y, X)`` ready to fit: :func:`check_y_array` by this model's ``handles_gaps`` tag, and
        ``X`` a ``(n, len(columns))`` float matrix (no columns when ``X`` is None)."""
        y = check_y_array(y, t, handles_gaps=get_tags(self).handles_gaps)
        return y, design_array(X, len(y), columns)


def _neither(model: object, method: str) -> str:
    """The error of a Forecaster subclass that implements neither side of ``method``."""
    return (
        f"{type(model).__name__} implements neither {method}_arrays (numpy) nor {method} "
        f"(pandas): a Forecaster overrides fit_arrays/predict_arrays or fit/predict"
    )


def wall_index(t: np.ndarray) -> pd.DatetimeIndex:
    """The DatetimeIndex (naive, nanoseconds) of the int64 timestamps ``t``."""
    return pd.DatetimeIndex(np.asarray(t, dtype=np.int64).view("datetime64[ns]"))


def wall_ns(index: pd.DatetimeIndex) -> np.ndarray:
    """``index`` as int64 nanoseconds of its wall clock (a tz-aware index loses its zone).

    A tz-aware index that repeats a wall-clock hour (the night the clocks go back) has no
    such grid: ValueError, pointing to the naive 24-hours-a-day grid ``load_data`` builds.
    """
    if index.tz is not None:
        wall = index.tz_localize(None)
        if wall.has_duplicates:
            raise ValueError(
                f"the index (time zone {index.tz}) repeats a wall-clock hour where the clocks "
                f"go back ({wall[wall.duplicated()][0]}); models take naive wall-clock "
                "timestamps, 24 hours a day: load the data with load_data/Dataset.from_frame"
            )
        index = wall
    return epoch_ns(index)


def frame_arrays(
    y: pd.Series, X: pd.DataFrame | pd.DatetimeIndex | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, tuple[str, ...]]:
    """``fit``'s pandas input as the array methods take it: ``(y, X, t, columns)``.

    ``y`` sorted by time and as float (TypeError without a DatetimeIndex);
    ``X`` on ``y``'s index (rows it lacks are NaN) or None.
    """
    if not isinstance(y.index, pd.DatetimeIndex):
        raise TypeError("y must have a DatetimeIndex")
    if not y.index.is_monotonic_increasing:
        y = y.sort_index()
    values = y.to_numpy(dtype=float)
    if X is None or isinstance(X, pd.DatetimeIndex):
        return values, None, wall_ns(y.index), ()
    if not X.index.equals(y.index):
        X = X.reindex(y.index)
    return values, X.to_numpy(dtype=float), wall_ns(y.index), tuple(X.columns)


def future_arrays(
    X: pd.DataFrame | pd.DatetimeIndex,
) -> tuple[pd.DatetimeIndex, np.ndarray | None, np.ndarray, tuple[str, ...]]:
    """``predict``'s pandas input as ``(index, X, t, columns)`` (``X`` None for a bare index)."""
    if isinstance(X, pd.DatetimeIndex):
        return X, None, wall_ns(X), ()
    return X.index, X.to_numpy(dtype=float), wall_ns(X.index), tuple(X.columns)


def design_array(X: np.ndarray | None, n: int, columns: tuple[str, ...] = ()) -> np.ndarray:
    """``X`` as a float ``(n, len(columns))`` matrix; None is a matrix of no columns."""
    if X is None:
        return np.zeros((n, 0))
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape != (n, len(columns)):
        raise ValueError(
            f"X: expected shape ({n}, {len(columns)}) (rows of y, one column per name), "
            f"got {X.shape}"
        )
    return X


def select_columns(
    X: np.ndarray | None, columns: tuple[str, ...], names: list[str] | tuple[str, ...], n: int
) -> np.ndarray:
    """The columns ``names`` of ``X`` (named ``columns``) as an ``(n, len(names))`` matrix; a name
    ``X`` lacks is a column of zeros (an event the future does not hold)."""
    out = np.zeros((n, len(names)))
    if X is None or not len(names):
        return out
    where = {c: i for i, c in enumerate(columns)}
    for j, name in enumerate(names):
        if name in where:
            out[:, j] = X[:, where[name]]
    return out


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
    """``y`` as a float Series on a sorted DatetimeIndex with no missing values
    (:func:`check_y_array`'s rule on the pandas side)."""
    if not isinstance(y.index, pd.DatetimeIndex):
        raise TypeError("y must have a DatetimeIndex")
    y = y.astype(float).sort_index()
    values = y.to_numpy()
    if np.isnan(values).any():
        y = pd.Series(fill_gaps(values), index=y.index, name=y.name)
    return y


def check_y_array(y: np.ndarray, t: np.ndarray, handles_gaps: bool = False) -> np.ndarray:
    """``y`` as float64 ready to fit: one value per timestamp of ``t`` (increasing), and
    missing values interpolated (:func:`fill_gaps`) unless the model ``handles_gaps``."""
    y = np.asarray(y, dtype=float)
    t = np.asarray(t)
    if y.ndim != 1 or t.shape != y.shape:
        raise ValueError(
            f"y and t: expected two 1-d arrays of one length, got {y.shape}, {t.shape}"
        )
    if len(t) > 1 and not (t[1:] > t[:-1]).all():
        raise ValueError("t: expected increasing timestamps (sorted, no duplicates)")
    if not handles_gaps and np.isnan(y).any():
        y = fill_gaps(y)
    return y


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """Missing values linearly interpolated between their neighbours, the ends held flat
    (pandas' ``interpolate(limit_direction="both")``); all missing stays missing."""
    missing = np.isnan(values)
    if not missing.any() or missing.all():
        return values
    pos = np.arange(len(values))
    out = values.copy()
    out[missing] = np.interp(pos[missing], pos[~missing], values[~missing])
    return out


def informative_mask(X: np.ndarray) -> np.ndarray:
    """Which columns of the matrix ``X`` vary in its rows (a constant column teaches nothing)."""
    if X.shape[1] == 0:
        return np.zeros(0, dtype=bool)
    return np.nanmax(X, axis=0) > np.nanmin(X, axis=0)


def as_ns(times: object) -> np.ndarray | int:
    """Timestamps as int64 nanoseconds: an int64 array (the array methods' ``t``) or an int as
    is; a DatetimeIndex (:func:`wall_ns`), Timestamp or date string converted."""
    if isinstance(times, np.ndarray) and times.dtype.kind in "iu":
        return times
    if isinstance(times, int | np.integer):
        return int(times)
    if isinstance(times, pd.DatetimeIndex | pd.Series | np.ndarray | list):
        return wall_ns(pd.DatetimeIndex(times))
    return pd.Timestamp(times).value


def time_in_days(
    index: pd.DatetimeIndex | np.ndarray, origin: pd.Timestamp | int | np.integer
) -> np.ndarray:
    """Days since ``origin`` as floats (the time axis of trends); ``index`` and ``origin`` are
    timestamps or int64 nanoseconds."""
    return (as_ns(index).astype(float) - float(as_ns(origin))) / DAY_NS


def recency_weights(index: pd.DatetimeIndex | np.ndarray, halflife_days: float) -> np.ndarray:
    """Weights halving every ``halflife_days`` back from the last timestamp (``index``:
    timestamps or int64 nanoseconds)."""
    t = as_ns(index)
    age = time_in_days(t, t.max()) * -1.0
    return np.power(0.5, age / halflife_days)


def log_target(y: pd.Series | np.ndarray) -> bool:
    """Whether to model ``y`` on the log1p scale (non-negative data: counts and levels)."""
    return bool((np.asarray(y) >= 0).all())


#: time zero of the Fourier cycles (2000-01-01) in nanoseconds
FOURIER_ORIGIN_NS = pd.Timestamp("2000-01-01").value


def fourier_array(
    index: pd.DatetimeIndex | np.ndarray, period_days: float, order: int, prefix: str
) -> tuple[np.ndarray, list[str]]:
    """Sine/cosine pairs of a cycle of ``period_days`` (e.g. 365.25: the year) and their column
    names (``index``: timestamps or int64 nanoseconds)."""
    t = time_in_days(index, FOURIER_ORIGIN_NS)
    k = np.arange(1, order + 1)
    angle = 2 * np.pi * np.outer(t, k) / period_days
    values = np.column_stack([np.sin(angle), np.cos(angle)])
    names = [f"{prefix}_sin{i}" for i in k] + [f"{prefix}_cos{i}" for i in k]
    return values, names


#: a history spanning more than this can learn a yearly cycle (over a year of data)
YEAR_NS = pd.Timedelta(days=371).value


def spans_a_year(index: pd.DatetimeIndex | np.ndarray) -> bool:
    """Whether the history is long enough to learn a yearly cycle (over a year of data);
    ``index``: timestamps or int64 nanoseconds."""
    t = as_ns(index)
    return bool(len(t)) and int(t.max() - t.min()) >= YEAR_NS


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
    """The start of ``fit_arrays`` shared by the calendar regression models (ols, gbm, ets).

    Checks the grain and ``y`` (:meth:`Forecaster._check_fit_arrays`), and sets
    the fitted basics: ``origin_`` (time zero of the trend, int64 nanoseconds),
    ``yearly_`` (whether a yearly cycle can be fitted), ``events_`` (calendar
    columns active in the history; only the 0/1 ones for a model tagged
    ``numeric_columns=False``) and ``log_`` (whether the target is modelled as
    log1p).
    """

    freq: str

    def _begin_fit(
        self, y: np.ndarray, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(y, X, target)``: the checked history, its ``(n, k)`` design and the modelled target."""
        check_freq(self.freq)
        y, X = self._check_fit_arrays(y, X, t, columns)
        self.origin_ = int(t[0]) if len(t) else 0
        self.yearly_ = spans_a_year(t)
        keep = informative_mask(X)
        if not get_tags(self).numeric_columns:
            keep &= np.isin(X, (0.0, 1.0)).all(axis=0)
        self.events_ = [c for c, k in zip(columns, keep, strict=True) if k]
        self.log_ = log_target(y)
        target = np.log1p(y) if self.log_ else y
        return y, X, target
