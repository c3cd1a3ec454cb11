"""Forecasts with calibrated ranges: one series (:class:`SeriesForecaster`) and many (:func:`forecast`).

``SeriesForecaster`` is the unit every other part of the package builds on
(detect, impact, the nightly batch): calendar features for one series, a
model from :mod:`juno_forecast.models`, curated priors for events the history
has never seen, and conformal 80/95% ranges from a rolling-origin backtest on
the end of the history.
"""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .compat import epoch_ns
from .core import (
    FeatureArrays,
    GroupedSeries,
    feature_arrays,
    index_key,
    memo,
    scope_features,
    stack_arrays,
)
from .dayoff import HistoryDaysOff
from .errors import InputError, JunoWarning, NoSeriesError, SeriesError, SkippedWarning
from .event_arrays import (
    active_columns,
    event_uncertainty,
    learned_columns,
    learned_effects,
    model_inputs,
    prior_factor,
    with_days_off,
)
from .features import CalendarFeatures
from .grain import day_start
from .inputs import check_model, parse_timestamp, resolve_calendar, resolve_dataset
from .intervals import ConformalIntervals
from .models import make_model
from .models.auto import Design, cv_frame, default_folds, fit_arrays, predict_arrays, rolling_origin
from .models.base import (
    FREQ_DELTA,
    SEASON,
    HistoryTooShort,
    get_tags,
    log_target,
    single_thread,
)
from .scoring import (  # noqa: F401 (public here too)
    mase_scale,
    score,
    score_groups,
    seasonal_naive_mae,
)

OUTPUT_COLUMNS = ["yhat", "lo_80", "hi_80", "lo_95", "hi_95", "events"]


def _label(metric: str | None, keys: dict[str, str] | None) -> str:
    """``metric=trips borough=Bronx``: how messages name a series."""
    from .data import series_label

    return series_label(str(metric), keys or {})


#: fewest steps the training part of a calibration fold must have (a longer horizon is an error)
MIN_FOLD_TRAIN = 2


def known_calendar(calendar: Any, end: pd.Timestamp) -> Any:
    """The calendar as a forecast made with the data before ``end`` may know it.

    The one place of the no-look-ahead rule for weather: every forecast
    (``forecast``, ``backtest``, ``detect``, ``expect``, ``impact``, the nightly
    batch) fits through :class:`SeriesForecaster`, which asks for this at its
    cutoff. Only the weather observed by ``end`` and a weather forecast after it
    remain (:meth:`~juno_forecast.calendar.Calendar.weather_until`); a calendar
    type without that method is used as it is.
    """
    until = getattr(type(calendar), "weather_until", None)
    return calendar.weather_until(end) if until is not None else calendar


def series_calendar(calendar: Any) -> Any:
    """What ``calendar`` means to a forecaster, as to :func:`forecast`: None the shipped
    calendar (loaded once), ``"none"`` no events (None to the features), a path loaded."""
    if calendar is None:
        return _shipped_calendar()
    if isinstance(calendar, str) and calendar.strip().lower() == "none":
        return None
    if isinstance(calendar, str | os.PathLike):
        from .inputs import resolve_calendar

        return resolve_calendar(calendar)
    return calendar


@functools.lru_cache(maxsize=1)
def _shipped_calendar() -> Any:
    from .calendar import Calendar

    return Calendar.load(None)


class SeriesForecaster:
    """Forecast one series: calendar features + model + priors + calibrated ranges.

    ``model`` is a name in ``MODEL_NAMES`` or an unfitted model object following
    the protocol (copied for every fit); ``calendar`` a Calendar, a path, None
    (the shipped calendar, as everywhere) or ``"none"`` (no events); ``metric``
    and ``keys`` scope the calendar (an event limited to
    ``zones: [Manhattan]`` applies when a key value is ``Manhattan``).
    ``horizon`` (steps) sets the length of each calibration fold; default one
    week. ``fit(y)`` uses only ``y`` (the history up to the cutoff).
    """

    def __init__(
        self,
        model: str = "auto",
        calendar: Any = None,
        metric: str | None = None,
        keys: dict[str, str] | None = None,
        freq: str = "h",
        seed: int = 0,
        horizon: int | None = None,
    ):
        self.model = model
        self.calendar = calendar
        self.metric = metric
        self.keys = keys
        self.freq = freq
        self.seed = seed
        self.horizon = horizon

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, y: pd.Series) -> SeriesForecaster:
        """Learn from the history ``y`` (regular DatetimeIndex, up to the cutoff)."""
        if len(y) and not isinstance(y.index, pd.DatetimeIndex):
            raise TypeError("y must have a DatetimeIndex")
        if not y.index.is_monotonic_increasing:
            y = y.sort_index()
        return self.fit_arrays(y.to_numpy(dtype=float), epoch_ns(y.index))

    def fit_arrays(self, values: np.ndarray, stamps: np.ndarray) -> SeriesForecaster:
        """:meth:`fit` on arrays, the entry of the many-series loops (no per-series pandas).

        ``values``: float, NaN where missing (left out, as :meth:`fit` leaves them);
        ``stamps``: int64 nanoseconds (naive wall clock), increasing.
        """
        with single_thread():
            return self._fit(np.asarray(values, dtype=float), np.asarray(stamps, dtype=np.int64))

    def _fit(self, values: np.ndarray, stamps: np.ndarray) -> SeriesForecaster:
        if self.freq not in FREQ_DELTA:
            raise InputError(f"freq: expected 'h' or 'D', got {self.freq!r}")
        if isinstance(self.model, str):
            check_model(self.model)
        self.label_ = _label(self.metric, self.keys)
        self._designs = {}  # the folds' matrices of this fit (see _design)
        keep = ~np.isnan(values)
        if not keep.all():
            values, stamps = values[keep], stamps[keep]
        need = 2 * SEASON[self.freq] + 2
        if len(values) < need:
            raise SeriesError(
                self.label_,
                f"too short to forecast: {len(values)} points, need at least {need}"
                f" ({'two weeks' if need > 0 else ''} of history)",
            )
        self.start_, self.last_ = pd.Timestamp(int(stamps[0])), pd.Timestamp(int(stamps[-1]))
        self.calendar_ = known_calendar(
            series_calendar(self.calendar), self.last_ + FREQ_DELTA[self.freq]
        )
        feats = self._history = self._features(stamps)
        A = feature_arrays(feats)
        self.priors_ = feats.priors
        n_folds, fold_len = default_folds(self.freq, len(values), self.horizon)
        n_folds = max(1, n_folds)
        if len(values) - fold_len < MIN_FOLD_TRAIN:  # not even one calibration fold fits
            unit = "hour" if self.freq == "h" else "day"
            raise SeriesError(
                self.label_,
                f"too short for a horizon of {fold_len} {unit}s: {len(values)} {unit}s of "
                f"history, at least {fold_len + MIN_FOLD_TRAIN} needed (the horizon plus "
                f"{MIN_FOLD_TRAIN} {unit}s, to calibrate the ranges)",
            )
        self._days = memo(feats, ("days",), lambda: day_start(stamps))
        self._days_off = HistoryDaysOff.of(self, values, stamps) if self.freq == "h" else None
        seen, learned = self._fold_columns(A.X, A.columns, len(values))
        self.seen_, self.learned_ = list(seen), list(learned)
        where = [A.columns.index(c) for c in learned]
        self.learned_effects_ = learned_effects(
            values, A.X[:, where], learned, self._days, SEASON[self.freq]
        )
        design = Design(values, self._design(A, seen), stamps, seen)
        est = self._new_model()
        if get_tags(est).self_backtests:  # auto: its own backtest, fitted through our folds
            est.set_params(n_folds=n_folds, fold_len=fold_len, fit_predict=self._fold_predict)
            fit_arrays(est, *design)
            cv = getattr(est, "cv_arrays_", None) or _cv_arrays(est.cv_)
        else:
            try:
                cv = rolling_origin(self._new_model, design, n_folds, fold_len, self._fold_predict)
            except HistoryTooShort as e:  # the model cannot fit a calibration fold's history
                name = self.model if isinstance(self.model, str) else model_label(est)
                raise SeriesError(
                    self.label_,
                    f"too short for the model {name} with this horizon: {e}",
                ) from None
            fit_arrays(est, *design)
        self.model_ = est
        self.cv_arrays_, self._cv_frame = cv, None
        self.intervals_ = ConformalIntervals(log=log_target(values), by_hour=self.freq == "h")
        self.intervals_.fit_arrays(cv["y"], cv["yhat"], cv["step"], cv["ds"])
        self.weather_seen_ = self._weather_seen(cv["ds"])
        self._designs = {}  # the folds' matrices are not needed after the fit
        return self

    @property
    def cv_(self) -> pd.DataFrame:
        """The calibration backtest (columns ``fold, ds, step, y, yhat``; a self-backtesting
        model's own ``cv_``), a frame built once when read."""
        if get_tags(self.model_).self_backtests and hasattr(self.model_, "cv_"):
            return self.model_.cv_
        if self._cv_frame is None:
            self._cv_frame = cv_frame(self.cv_arrays_)
        return self._cv_frame

    def _features(self, stamps: np.ndarray, since: pd.Timestamp | None = None) -> CalendarFeatures:
        """The calendar on ``stamps`` (int64 ns), shared by every series of the same scope."""
        return scope_features(
            getattr(self, "calendar_", self.calendar),
            stamps,
            freq=self.freq,
            metric=self.metric,
            keys=self.keys or {},
            since=since,
        )

    def _fold_columns(
        self, X: np.ndarray, columns: tuple[str, ...], cut: int
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The columns of ``X`` active in the history's rows ``:cut`` and those of them whose
        effect those rows can teach (:func:`~.event_arrays.learned_columns`), per scope."""

        def compute() -> tuple[tuple[str, ...], tuple[str, ...]]:
            seen = active_columns(X[:cut])
            learned = learned_columns(X[:cut, seen], self._days[:cut])
            return tuple(columns[j] for j in seen), tuple(columns[seen[j]] for j in learned)

        return memo(self._history, ("columns", cut, columns), compute)

    def _design(
        self, A: FeatureArrays, names: tuple[str, ...], cut: int | None = None
    ) -> np.ndarray:
        """The history's rows ``:cut`` of the columns ``names``, read-only, made once per fit
        (every candidate of a fold fits on it; a fit keeps no copy after it ends)."""
        designs = self.__dict__.setdefault("_designs", {})
        if (cut, names) not in designs:
            out = A.X[:cut, [A.columns.index(c) for c in names]]
            out.setflags(write=False)
            designs[cut, names] = out
        return designs[cut, names]

    def _fold_predict(self, model: Any, design: Design, cut: int, stop: int) -> np.ndarray:
        """Fit on the rows ``:cut`` with the columns active there; predict rows ``cut:stop``,
        applying priors for events unseen before ``cut``."""
        A = feature_arrays(self._history)
        seen, learned = self._fold_columns(design.X, design.columns, cut)
        fit_arrays(model, design.y[:cut], self._design(A, seen, cut), design.t[:cut], seen)
        rows = slice(cut, stop)
        key = ("days off", cut, stop, learned)
        designs = self.__dict__.setdefault("_designs", {})
        if key not in designs:  # every candidate of the fold shares them
            designs[key] = self._with_days_off(A, rows, design.t[rows], learned)
        own, rows = designs[key]
        return self._predict_with_priors(
            model,
            seen,
            learned,
            own,
            rows,
            design.columns,
            design.t[cut:stop],
            self.priors_,
            own=own is not A,
        )

    def _with_days_off(
        self, A: FeatureArrays, rows: slice, stamps: np.ndarray, learned: tuple[str, ...]
    ) -> tuple[FeatureArrays, slice]:
        """``(A, rows)``, or this series' own copy of those rows where an ``hours_like`` day
        off not ``learned`` from the history has its hours measured on the series
        (:class:`~.dayoff.HistoryDaysOff`, the rule detection uses) in place of ``by_hours``."""
        shapes = self._days_off.at(stamps, learned) if self._days_off else {}
        return (with_days_off(A, rows, shapes), slice(None)) if shapes else (A, rows)

    def _predict_with_priors(
        self,
        model: Any,
        seen: tuple[str, ...],
        learned: tuple[str, ...],
        A: FeatureArrays,
        rows: slice,
        columns: tuple[str, ...],
        stamps: np.ndarray,
        fallback: dict[str, float],
        own: bool = False,
    ) -> np.ndarray:
        """Point forecasts on ``rows`` of ``A``; events active there (among ``columns``) but not
        ``learned`` from training get their prior. ``own``: ``A`` is this series' own
        (:meth:`_with_days_off`), not shared by its scope.

        The prior at each timestamp is the calendar's, for this series' metric and
        zone: the event's days get its ``effect``, its window days its
        ``window_effect`` (see :func:`~juno_forecast.features.effect_at`); a name
        the calendar gives no effect to falls back to ``fallback`` (name -> effect).
        """
        owner = self._history if A is feature_arrays(self._history) else A

        def inputs() -> tuple[np.ndarray, np.ndarray]:
            where = [A.columns.index(c) for c in columns]
            X = A.X[rows][:, where] if where != list(range(len(A.columns))) else A.X[rows]
            factor = prior_factor(
                X, columns, A.effects[rows], A.effect_columns, fallback, skip=learned
            )
            return model_inputs(X, columns, seen, learned), factor

        # every series of the scope shares these (A is the scope's features)
        key = ("priors", rows.start, rows.stop, columns, seen, learned, *sorted(fallback.items()))
        X_model, factor = inputs() if own else memo(owner, key, inputs)
        return predict_arrays(model, X_model, stamps, seen) * factor

    def _new_model(self) -> Any:
        """A fresh, unfitted model: built from its name, or a ``clone`` of the model object."""
        if isinstance(self.model, str):
            return make_model(self.model, freq=self.freq, seed=self.seed)
        from sklearn.base import clone

        return clone(self.model)

    def _weather_seen(self, stamps: np.ndarray) -> float:
        """The unknown-weather spread the backtest's residuals already hold (its RMS over them).

        The conformal ranges are calibrated on those residuals: forecasts made in snowy
        weeks with the weather unknown carry the weather's errors already, so the ranges
        ahead widen only by what the calibration did not see (:meth:`_weather_spread`).
        """
        seen = self._unknown_weather(stamps)
        return float(np.sqrt(np.mean(seen**2))) if len(seen) else 0.0

    # -- predicting ------------------------------------------------------------------------
    def predict(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """Expected values and ranges on ``index`` (future timestamps), with the events active there."""
        index = pd.DatetimeIndex(index)
        out = self.predict_arrays(epoch_ns(index))
        return pd.DataFrame(out, index=index)[OUTPUT_COLUMNS]

    def predict_arrays(self, stamps: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`predict` on int64 ns timestamps: one array per column of ``OUTPUT_COLUMNS``."""
        stamps = np.asarray(stamps, dtype=np.int64)
        feats = self._features(stamps, since=self.start_)
        shared = feature_arrays(feats)
        A = self._with_days_off(shared, slice(None), stamps, tuple(self.learned_))[0]
        fallback = {**self.priors_, **feats.priors}
        yhat = self._predict_with_priors(
            self.model_,
            tuple(self.seen_),
            tuple(self.learned_),
            A,
            slice(None),
            A.columns,
            stamps,
            fallback,
            own=A is not shared,
        )
        if self.intervals_.log:
            yhat = np.clip(yhat, 0.0, None)
        after = (stamps - self.last_.value) / FREQ_DELTA[self.freq].value
        steps = np.maximum(1, np.rint(after).astype(int))
        effect, spread = event_uncertainty(A, feats.kinds, self.learned_, self.learned_effects_)
        spread = np.hypot(spread, (1.0 + effect) * self._weather_spread(stamps))
        bounds = self.intervals_.predict_arrays(yhat, stamps, steps, effect, spread)
        return {"yhat": yhat, **bounds, "events": A.events.copy()}  # the caller's own

    def _weather_spread(self, stamps: np.ndarray) -> np.ndarray:
        """The relative spread of the unknown weather ahead that the ranges do not hold yet.

        A snowy month with no weather forecast has the month's spread, 0 where the weather
        is known; less the spread the calibration's residuals already held (a forecast in
        January calibrated on January's weeks is not widened twice). It widens the
        ranges like an event's spread.
        """
        spread = self._unknown_weather(stamps)
        return np.sqrt(np.maximum(spread**2 - self.weather_seen_**2, 0.0))

    def _unknown_weather(self, stamps: np.ndarray) -> np.ndarray:
        """The month's unknown-weather spread where the weather at ``stamps`` is not known
        (looked up once per calendar, metric and timestamps)."""
        spread = getattr(self.calendar_, "unknown_weather_spread", None)
        if spread is None:
            return np.zeros(len(stamps))
        index = lambda: spread(self.metric, pd.DatetimeIndex(stamps.view("datetime64[ns]")))  # noqa: E731
        key = ("unknown weather", self.metric, *index_key(stamps))
        return memo(self.calendar_, key, index)

    def event_effects(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """The relative effect each active event puts on the forecast at ``index`` (NaN: not on).

        One column per event name: the effect measured on its past occurrences
        (learned events; NaN when no day could be compared), else the calendar's
        effect there (0: no expected effect).
        What ``juno_event_effect`` exports, so a panel can say "expected -20%: Memorial Day".
        """
        index = pd.DatetimeIndex(index)
        stamps = epoch_ns(index)
        feats = self._features(stamps, since=self.start_)
        A = self._with_days_off(feature_arrays(feats), slice(None), stamps, tuple(self.learned_))[0]
        out = {}
        for name in feats.kinds:
            on = A.column("X", name) > 0
            if not on.any():
                continue
            if name in self.learned_:
                # NaN: learned by the model but not measurable on its past days
                eff = np.full(len(index), self.learned_effects_.get(name, (np.nan, 0.0))[0])
            else:
                eff = A.column("effects", name)
            out[name] = np.where(on, eff, np.nan)
        return pd.DataFrame(out, index=index)


def _cv_arrays(cv: pd.DataFrame) -> dict[str, np.ndarray]:
    """A self-backtesting model's ``cv_`` frame as the arrays the ranges are calibrated on."""
    out = {c: cv[c].to_numpy() for c in ("fold", "step", "y", "yhat")}
    return {**out, "ds": epoch_ns(pd.DatetimeIndex(cv["ds"].to_numpy()))}


# -- many series ---------------------------------------------------------------------------
_DURATION = re.compile(r"^\s*(\d+)\s*(h|H|d|D|w|W)\s*$")
_UNIT_HOURS = {"h": 1, "d": 24, "w": 168}


def parse_duration(value: str | int, freq: str, what: str = "--horizon") -> int:
    """Steps at grain ``freq`` in a duration such as ``14D``, ``48h`` or ``2W`` (InputError if bad)."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        if value <= 0:
            raise InputError(
                f"{what}: expected a positive number of steps or a duration like 14D, got {value}"
            )
        hours = int(value) * (1 if freq == "h" else 24)
    else:
        m = _DURATION.match(str(value))
        if not m or int(m.group(1)) <= 0:
            raise InputError(
                f"{what}: expected a positive duration like 14D, 48h or 2W, got {value!r}"
            )
        hours = int(m.group(1)) * _UNIT_HOURS[m.group(2).lower()]
    steps = hours if freq == "h" else hours // 24
    if steps < 1 or (freq == "D" and hours % 24):
        raise InputError(f"{what}: {value!r} is not a whole number of days, the grain of this data")
    return steps


def _cut(stamps: np.ndarray, cutoff: pd.Timestamp | None) -> int:
    """How many of a series' rows (int64 ns, increasing) are at or before ``cutoff``."""
    return len(stamps) if cutoff is None else int(np.searchsorted(stamps, cutoff.value, "right"))


def _as_datetimes(ns: np.ndarray, unit: str) -> pd.DatetimeIndex:
    """int64 nanoseconds as timestamps in the data's unit (the dtype the data's ``ds`` has)."""
    return pd.DatetimeIndex(np.asarray(ns, np.int64).view("datetime64[ns]")).as_unit(unit)


def _check_cutoff(dataset: Any, cutoff: pd.Timestamp | None) -> None:
    """A cutoff outside the data is an error: nothing would start at it (exit 2)."""
    if cutoff is None or not len(dataset.frame):
        return
    first, last = dataset.frame["ds"].min(), dataset.frame["ds"].max()
    if cutoff < first:
        raise InputError(f"--cutoff {cutoff} is before the data, which starts at {first}")
    if cutoff > last:
        raise InputError(
            f"--cutoff {cutoff} is after the data, which ends at {last}: the forecast would "
            "start there, not at the cutoff (leave --cutoff out to forecast from the end)"
        )


def _warn_short_of_cutoff(label: str, hist: np.ndarray, cutoff: pd.Timestamp | None) -> None:
    """A series whose data (``hist``: its timestamps in ns) end before the cutoff is forecast
    from its own end: say so."""
    if cutoff is not None and len(hist) and hist[-1] < cutoff.value:
        warnings.warn(
            f"{label}: its data end at {pd.Timestamp(int(hist[-1]))}, before --cutoff {cutoff}; "
            "its forecast starts after its last timestamp",
            JunoWarning,
            stacklevel=3,
        )


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise InputError(f"--seed: expected a whole number, got {seed!r}")


def _problems(dataset: Any) -> list[str]:
    return [str(p) for p in getattr(dataset, "problems", [])]


def forecast(
    data: Any,
    horizon: str | int = "14D",
    cutoff: Any = None,
    model: str = "auto",
    calendar: Any = None,
    weather: Any = None,
    seed: int = 0,
    weather_forecast: Any = None,
    **data_kwargs: Any,
) -> pd.DataFrame:
    """Expected values with 80/95% ranges for every series of ``data``, ``horizon`` after the cutoff.

    Only data at or before ``cutoff`` (default: each series' last timestamp)
    is used, and only the ``weather`` observed by then: the days after it see
    the ``weather_forecast`` (a file like ``weather``) or no weather. A cutoff
    outside the data is an InputError; a series whose data end before it is
    forecast from its own end, with a ``JunoWarning``. Series that cannot be
    forecast are skipped with a ``SkippedWarning`` and listed in
    ``result.attrs["problems"]``; when every series is, :class:`NoSeriesError`
    lists them all. Columns:
    ``[*keys, metric, ds, yhat, lo_80, hi_80, lo_95, hi_95, events]``.
    """
    check_model(model)
    _check_seed(seed)
    dataset = resolve_dataset(data, **data_kwargs)
    cal = resolve_calendar(calendar, weather, weather_forecast)
    steps = parse_duration(horizon, dataset.freq)
    cut = parse_timestamp(cutoff, "--cutoff") if cutoff is not None else None
    _check_cutoff(dataset, cut)
    groups = GroupedSeries.from_frame(dataset.frame, dataset.keys, dataset.freq)
    ahead = FREQ_DELTA[dataset.freq].value * np.arange(1, steps + 1)
    columns: dict[str, list[np.ndarray]] = {c: [] for c in ["ds", *OUTPUT_COLUMNS]}
    fronts, problems = [], _problems(dataset)
    for i in range(len(groups)):  # arrays and positions: no frame per series
        metric, keys = groups.metrics[i], dict(groups.keys[i])
        a, b = groups.positions(i)
        c = a + _cut(groups.stamps[a:b], cut)
        values, stamps = groups.values[a:c], groups.stamps[a:c]
        try:
            _warn_short_of_cutoff(groups.labels[i], stamps, cut)
            f = SeriesForecaster(model, cal, metric, keys, dataset.freq, seed, horizon=steps)
            out = f.fit_arrays(values, stamps).predict_arrays(stamps[-1] + ahead)
        except SeriesError as e:
            problems.append(str(e))
            warnings.warn(str(e), SkippedWarning, stacklevel=2)
            continue
        for col, value in {"ds": stamps[-1] + ahead, **out}.items():
            columns[col].append(value)
        fronts.append({**{k: keys[k] for k in dataset.keys}, "metric": metric})
    if not fronts and problems:
        raise NoSeriesError("forecast", problems)
    cols = [*dataset.keys, "metric", "ds", *OUTPUT_COLUMNS]
    if fronts:  # one frame for every series, built once
        result = stack_arrays(columns, fronts, [steps] * len(fronts))[cols]
        result["ds"] = _as_datetimes(result["ds"].to_numpy(), groups.unit)
    else:
        result = pd.DataFrame(columns=cols)
    result.attrs["problems"] = problems
    return result


def with_keys(
    frame: pd.DataFrame, key_cols: tuple[str, ...], keys: dict[str, str], metric: str
) -> pd.DataFrame:
    """``frame`` with the series' key columns, in the data's order, then ``metric`` in front."""
    for i, k in enumerate(key_cols):
        frame.insert(i, k, keys[k])
    frame.insert(len(key_cols), "metric", metric)
    return frame


# -- backtest ------------------------------------------------------------------------------
class BacktestResult(NamedTuple):
    """``folds``: one row per cutoff, series and model; ``summary``: one row per model (and overall)."""

    folds: pd.DataFrame
    summary: pd.DataFrame


def _origins(start: Any, end: Any, step: str, freq: str) -> pd.DatetimeIndex:
    lo, hi = parse_timestamp(start, "--start"), parse_timestamp(end, "--end")
    if hi < lo:
        raise InputError(f"--end {hi} is before --start {lo}")
    every = parse_duration(step, freq, "--step") * FREQ_DELTA[freq]
    return pd.date_range(lo, hi, freq=every)


def backtest_predictions(
    data: Any,
    start: Any,
    end: Any,
    horizon: str | int = "7D",
    step: str = "7D",
    model: str | Sequence[str] = "auto",
    calendar: Any = None,
    weather: Any = None,
    seed: int = 0,
    weather_forecast: Any = None,
    **data_kwargs: Any,
) -> pd.DataFrame:
    """Rolling-origin forecasts against actuals, one row per timestamp, series, fold and model.

    Folds start at ``start``, ``start + step``, ... up to ``end``: each one is
    forecast from the history strictly before its start (``cutoff`` is the last
    timestamp used) for ``horizon``, with the ``weather`` observed up to the
    cutoff only and the ``weather_forecast`` after it (none: no weather). Columns: ``[*keys, metric, model, cutoff,
    ds, y, yhat, lo_80, hi_80, lo_95, hi_95, events, scale]`` where ``scale``
    is the in-sample seasonal naive MAE of the fold's history (for MASE).
    ``attrs["problems"]`` lists the series/folds that could not be forecast
    (:class:`NoSeriesError` when none could).
    """
    models = [model] if isinstance(model, str) else list(model)
    for m in models:
        if isinstance(m, str):
            check_model(m)
        if not isinstance(m, str) and not (hasattr(m, "fit") and hasattr(m, "predict")):
            raise InputError(
                f"--model: expected a model name or an object with fit and predict, "
                f"got {type(m).__name__}"
            )
    _check_seed(seed)
    dataset = resolve_dataset(data, **data_kwargs)
    cal = resolve_calendar(calendar, weather, weather_forecast)
    steps = parse_duration(horizon, dataset.freq)
    origins = _origins(start, end, step, dataset.freq)
    groups = GroupedSeries.from_frame(dataset.frame, dataset.keys, dataset.freq)
    names = ["model", "cutoff", "ds", "y", *OUTPUT_COLUMNS, "scale"]
    columns: dict[str, list[np.ndarray]] = {c: [] for c in names}
    fronts, sizes, problems = [], [], _problems(dataset)
    for i in range(len(groups)):  # arrays and positions: no frame per series or fold
        metric, keys = groups.metrics[i], dict(groups.keys[i])
        a, b = groups.positions(i)
        values, stamps = groups.values[a:b], groups.stamps[a:b]
        for origin in origins:
            c = int(np.searchsorted(stamps, origin.value, "left"))
            stop = min(c + steps, len(stamps))
            if c == 0 or stop <= c:
                continue
            scale = mase_scale(values[:c], dataset.freq)
            for m in models:
                try:
                    f = SeriesForecaster(m, cal, metric, keys, dataset.freq, seed, horizon=steps)
                    out = f.fit_arrays(values[:c], stamps[:c]).predict_arrays(stamps[c:stop])
                except SeriesError as e:
                    problems.append(f"{e} (cutoff {pd.Timestamp(int(stamps[c - 1]))})")
                    continue
                n = stop - c
                extra = {
                    "model": np.repeat(model_label(m), n),
                    "cutoff": np.repeat(stamps[c - 1], n),
                }
                extra.update(ds=stamps[c:stop], y=values[c:stop], scale=np.full(n, scale))
                for col in names:
                    columns[col].append(extra[col] if col in extra else out[col])
                fronts.append({**{k: keys[k] for k in dataset.keys}, "metric": metric})
                sizes.append(n)
    if not fronts and problems:
        raise NoSeriesError("backtest", problems)
    cols = [*dataset.keys, "metric", "model", "cutoff", "ds", "y", *OUTPUT_COLUMNS, "scale"]
    if fronts:  # one frame for every series, fold and model, built once
        result = stack_arrays(columns, fronts, sizes)[cols]
        for col in ("cutoff", "ds"):
            result[col] = _as_datetimes(result[col].to_numpy(), groups.unit)
    else:
        result = pd.DataFrame(columns=cols)
    result.attrs["problems"] = problems
    result.attrs["keys"] = tuple(dataset.keys)
    return result


def model_label(model: Any) -> str:
    """How a model is named in results: its name, or an object's ``label``/class name."""
    return model if isinstance(model, str) else getattr(model, "label", type(model).__name__)


def summarize(pred: pd.DataFrame, keys: Sequence[str] = ()) -> BacktestResult:
    """Fold rows (per cutoff, series and model) and the summary per model and overall."""
    group = [*keys, "metric", "model", "cutoff"]
    if pred.empty:
        empty = pd.DataFrame(columns=[*group, "n", "mase", "smape", "coverage_80", "coverage_95"])
        return BacktestResult(empty, empty.drop(columns=[*keys, "metric", "cutoff"]))
    folds = score_groups(pred, group, sort=True)
    per_model = score_groups(pred, ["model"], sort=False)
    if pred["model"].nunique() > 1:
        overall = score(pred).to_frame().T.assign(model="(all)")
        per_model = pd.concat([per_model, overall[per_model.columns]], ignore_index=True)
    per_model["n"] = per_model["n"].astype(int)
    return BacktestResult(folds, per_model)


def backtest(
    data: Any,
    start: Any,
    end: Any,
    horizon: str | int = "7D",
    step: str = "7D",
    model: str | Sequence[str] = "auto",
    calendar: Any = None,
    weather: Any = None,
    seed: int = 0,
    weather_forecast: Any = None,
    **data_kwargs: Any,
) -> BacktestResult:
    """Rolling-origin evaluation with no look-ahead: ``BacktestResult(folds, summary)``.

    See :func:`backtest_predictions` for the folds; MASE is scaled by the
    in-sample seasonal naive MAE of each fold's history, sMAPE is in percent,
    coverages are the share of actuals inside the 80%/95% ranges.
    """
    pred = backtest_predictions(
        data,
        start,
        end,
        horizon,
        step,
        model,
        calendar,
        weather,
        seed,
        weather_forecast=weather_forecast,
        **data_kwargs,
    )
    result = summarize(pred, pred.attrs.get("keys", ()))
    result.folds.attrs["problems"] = pred.attrs.get("problems", [])
    return result
