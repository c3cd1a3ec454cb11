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
from .core import index_key, memo, scope_features, stack_series
from .errors import InputError, JunoWarning, NoSeriesError, SeriesError, SkippedWarning
from .features import CalendarFeatures
from .inputs import check_model, parse_timestamp, resolve_calendar, resolve_dataset
from .intervals import ConformalIntervals
from .models import make_model
from .models.auto import default_folds, rolling_origin
from .models.base import (
    FREQ_DELTA,
    SEASON,
    HistoryTooShort,
    check_y,
    get_tags,
    log_target,
    single_thread,
)
from .scoring import mase_scale, score, seasonal_naive_mae  # noqa: F401 (public here too)

OUTPUT_COLUMNS = ["yhat", "lo_80", "hi_80", "lo_95", "hi_95", "events"]


def _label(metric: str | None, keys: dict[str, str] | None) -> str:
    """``metric=trips borough=Bronx``: how messages name a series."""
    from .data import series_label

    return series_label(str(metric), keys or {})


def _active(X: pd.DataFrame) -> list[str]:
    """Columns with at least one active row."""
    return list(X.columns[(X.to_numpy() > 0).any(axis=0)])


#: fewest steps the training part of a calibration fold must have (a longer horizon is an error)
MIN_FOLD_TRAIN = 2

#: an event under way at the cutoff, with no earlier occurrence, is learned only after this many days
MIN_ONGOING_DAYS = 7


def _learned(X: pd.DataFrame, cols: list[str]) -> list[str]:
    """The columns of ``cols`` whose effect the history can teach.

    An event under way at the end of the history (Fleet Week's first two days)
    with no earlier occurrence is not: a coefficient fitted on a day or two of
    noise would be extrapolated over the rest of the event. Such a column is
    still fitted (its days do not distort the usual weekly profile) but is off
    when predicting, where the curated prior, if any, applies instead.
    """
    if not cols:
        return []
    day_on = _day_any(X.to_numpy()[:, X.columns.get_indexer(cols)] > 0, X.index)
    learned = []
    for j, c in enumerate(cols):
        on = day_on[:, j]
        off = np.flatnonzero(~on)
        run_start = off[-1] + 1 if len(off) else 0  # first day of the run reaching the end
        if (
            not on[-1]
            or run_start > 0
            and on[:run_start].any()
            or len(on) - run_start >= MIN_ONGOING_DAYS
        ):
            learned.append(c)
    return learned


def _day_any(active: np.ndarray, index: pd.DatetimeIndex) -> np.ndarray:
    """Per day (rows, in time order) whether each column of ``active`` is on at some step.

    numpy on the sorted index instead of a pandas groupby per call: ``auto`` asks
    this for every calibration fold of every series.
    """
    days = epoch_ns(index.normalize())
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    if len(days) == 0:
        return np.zeros((0, active.shape[1]), bool)
    return np.logical_or.reduceat(active, starts, axis=0)


def _slice_features(feats: CalendarFeatures, a: int, b: int) -> CalendarFeatures:
    """Rows ``a:b`` of calendar features (the names, kinds and priors stay)."""
    return CalendarFeatures(
        X=feats.X.iloc[a:b],
        kinds=feats.kinds,
        priors=feats.priors,
        events=None if feats.events is None else feats.events.iloc[a:b],
        effects=None if feats.effects is None else feats.effects.iloc[a:b],
        spreads=None if feats.spreads is None else feats.spreads.iloc[a:b],
    )


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
    def _features(
        self, index: pd.DatetimeIndex, since: pd.Timestamp | None = None
    ) -> CalendarFeatures:
        """The calendar on ``index``, memoized: every ``auto`` candidate asks for the same folds.

        A backtest fold inside the history is a slice of the history's features
        (they are built timestamp by timestamp from occurrences looked up from
        the history's start), so it is cut from them instead of looked up again.
        """
        key = (*index_key(index), since)
        cache = self.__dict__.setdefault("_memo", {})
        history = cache.get("history")
        if key not in cache and history is not None and since == self.start_ and len(index):
            rows = history.X.index.get_indexer(index)
            if (rows >= 0).all() and (np.diff(rows) == 1).all():  # shared like the history
                a, b = rows[0], rows[-1] + 1
                cache[key] = memo(history, ("rows", a, b), lambda: _slice_features(history, a, b))
        if key not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[key] = scope_features(  # shared by every series of the same scope
                getattr(self, "calendar_", self.calendar),
                index,
                freq=self.freq,
                metric=self.metric,
                keys=self.keys or {},
                since=since,
            )
        return cache[key]

    def _fit_predict(
        self, model: Any, y: pd.Series, X: pd.DataFrame | None, X_future: pd.DataFrame
    ) -> pd.Series:
        """Fit on columns active in ``X``; predict, applying priors for events unseen in ``y``."""
        # X is a fold of the history's features: what the fold can learn is the same for
        # every candidate of the fold and every series sharing those features (core.memo)
        owner = self.__dict__.get("_memo", {}).get("history", self)
        fold = (len(X), y.index[-1], tuple(X.columns)) if X is not None else ()
        seen = [] if X is None else memo(owner, ("active", *fold), lambda: _active(X))
        model.fit(y, X[seen] if X is not None else None)
        learned = memo(owner, ("learned", *fold, *seen), lambda: _learned(X, seen))
        return self._predict_with_priors(model, seen, X_future, learned=learned)

    def _predict_with_priors(
        self,
        model: Any,
        seen: list[str],
        X_future: pd.DataFrame,
        priors: dict[str, float] | None = None,
        learned: list[str] | None = None,
    ) -> pd.Series:
        """Point forecasts; events active in ``X_future`` but not learned from training get their prior.

        The prior at each timestamp is the calendar's, for this series' metric and
        zone: the event's days get its ``effect``, its window days its
        ``window_effect`` (see :func:`~juno_forecast.features.effect_at`); a name
        the calendar gives no effect to falls back to ``priors`` (name -> effect).
        """
        from .features import prior_factor

        fallback = {**getattr(self, "priors_", {}), **(priors or {})}
        learned = seen if learned is None else learned
        feats = self._features(X_future.index, since=getattr(self, "start_", None))

        def inputs() -> tuple[pd.DataFrame, np.ndarray]:
            X_model = X_future.reindex(columns=seen, fill_value=0.0)
            X_model[[c for c in seen if c not in learned]] = 0.0
            return X_model, prior_factor(X_future, feats.effects, fallback, skip=learned)

        # X_future is (a column subset of) feats.X: every series of the scope shares these
        key = (tuple(X_future.columns), tuple(seen), tuple(learned), *sorted(fallback.items()))
        X_model, factor = memo(feats, ("priors", *key), inputs)
        yhat = model.predict(X_model).astype(float)
        return pd.Series(yhat.to_numpy() * factor, index=X_future.index, name="yhat")

    def _new_model(self) -> Any:
        """A fresh, unfitted model: built from its name, or a ``clone`` of the model object."""
        if isinstance(self.model, str):
            return make_model(self.model, freq=self.freq, seed=self.seed)
        from sklearn.base import clone

        return clone(self.model)

    def fit(self, y: pd.Series) -> SeriesForecaster:
        """Learn from the history ``y`` (regular DatetimeIndex, up to the cutoff)."""
        with single_thread():
            return self._fit(y)

    def _fit(self, y: pd.Series) -> SeriesForecaster:
        if self.freq not in FREQ_DELTA:
            raise InputError(f"freq: expected 'h' or 'D', got {self.freq!r}")
        if isinstance(self.model, str):
            check_model(self.model)
        self.label_ = _label(self.metric, self.keys)
        self._memo = {}  # features and learned columns per fold, for this fit only
        y = check_y(y.dropna()) if len(y.dropna()) else y
        need = 2 * SEASON[self.freq] + 2
        if len(y) < need:
            raise SeriesError(
                self.label_,
                f"too short to forecast: {len(y)} points, need at least {need}"
                f" ({'two weeks' if need > 0 else ''} of history)",
            )
        self.start_, self.last_ = y.index.min(), y.index.max()
        self.calendar_ = known_calendar(
            series_calendar(self.calendar), self.last_ + FREQ_DELTA[self.freq]
        )
        feats = self._memo["history"] = self._features(y.index)
        self.priors_ = feats.priors
        X = feats.X
        n_folds, fold_len = default_folds(self.freq, len(y), self.horizon)
        n_folds = max(1, n_folds)
        if len(y) - fold_len < MIN_FOLD_TRAIN:  # not even one calibration fold fits
            unit = "hour" if self.freq == "h" else "day"
            raise SeriesError(
                self.label_,
                f"too short for a horizon of {fold_len} {unit}s: {len(y)} {unit}s of history, "
                f"at least {fold_len + MIN_FOLD_TRAIN} needed (the horizon plus "
                f"{MIN_FOLD_TRAIN} {unit}s, to calibrate the ranges)",
            )
        self.seen_ = _active(X)
        self.learned_ = _learned(X, self.seen_)
        self.learned_effects_ = _learned_effects(y, X, self.learned_, self.freq)
        Xs = X[self.seen_]
        est = self._new_model()
        if get_tags(est).self_backtests:  # auto: its own backtest, fitted through our folds
            est.set_params(n_folds=n_folds, fold_len=fold_len, fit_predict=self._fit_predict)
            cv = est.fit(y, Xs).cv_
        else:
            try:
                cv = rolling_origin(self._new_model, y, Xs, n_folds, fold_len, self._fit_predict)
            except HistoryTooShort as e:  # the model cannot fit a calibration fold's history
                name = self.model if isinstance(self.model, str) else model_label(est)
                raise SeriesError(
                    self.label_,
                    f"too short for the model {name} with this horizon: {e}",
                ) from None
            est.fit(y, Xs)
        self.model_ = est
        self.cv_ = cv
        self.intervals_ = ConformalIntervals(log=log_target(y), by_hour=self.freq == "h").fit(cv)
        self.weather_seen_ = self._weather_seen(cv)
        return self

    def _weather_seen(self, cv: pd.DataFrame) -> float:
        """The unknown-weather spread the backtest's residuals already hold (its RMS over them).

        The conformal ranges are calibrated on those residuals: forecasts made in snowy
        weeks with the weather unknown carry the weather's errors already, so the ranges
        ahead widen only by what the calibration did not see (:meth:`_weather_spread`).
        """
        ds = pd.DatetimeIndex(cv["ds"].to_numpy())
        seen = self._unknown_weather(ds)
        return float(np.sqrt(np.mean(seen**2))) if len(seen) else 0.0

    # -- predicting ------------------------------------------------------------------------
    def predict(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """Expected values and ranges on ``index`` (future timestamps), with the events active there."""
        index = pd.DatetimeIndex(index)
        feats = self._features(index, since=self.start_)
        yhat = self._predict_with_priors(
            self.model_, self.seen_, feats.X, feats.priors, learned=self.learned_
        )
        if self.intervals_.log:
            yhat = yhat.clip(lower=0.0)
        steps = np.maximum(1, np.rint((index - self.last_) / FREQ_DELTA[self.freq]).astype(int))
        effect, spread = self._event_uncertainty(feats)
        spread = np.hypot(spread, (1.0 + effect) * self._weather_spread(index))
        out = self.intervals_.predict(yhat, steps, effect, spread)
        out.insert(0, "yhat", yhat.to_numpy())
        out["events"] = feats.events.to_numpy() if feats.events is not None else ""
        return out[OUTPUT_COLUMNS]

    def _weather_spread(self, index: pd.DatetimeIndex) -> np.ndarray:
        """The relative spread of the unknown weather ahead that the ranges do not hold yet.

        A snowy month with no weather forecast has the month's spread, 0 where the weather
        is known; less the spread the calibration's residuals already held (a forecast in
        January calibrated on January's weeks is not widened twice). It widens the
        ranges like an event's spread.
        """
        spread = self._unknown_weather(index)
        return np.sqrt(np.maximum(spread**2 - self.weather_seen_**2, 0.0))

    def _unknown_weather(self, index: pd.DatetimeIndex) -> np.ndarray:
        """The month's unknown-weather spread where the weather at ``index`` is not known."""
        spread = getattr(self.calendar_, "unknown_weather_spread", None)
        return np.zeros(len(index)) if spread is None else spread(self.metric, index)

    def event_effects(self, index: pd.DatetimeIndex) -> pd.DataFrame:
        """The relative effect each active event puts on the forecast at ``index`` (NaN: not on).

        One column per event name: the effect measured on its past occurrences
        (learned events; NaN when no day could be compared), else the calendar's
        effect there (0: no expected effect).
        What ``juno_event_effect`` exports, so a panel can say "expected -20%: Memorial Day".
        """
        index = pd.DatetimeIndex(index)
        feats = self._features(index, since=self.start_)
        out = {}
        for name in feats.kinds:
            on = feats.X[name].to_numpy() > 0 if name in feats.X else np.zeros(len(index), bool)
            if not on.any():
                continue
            if name in self.learned_:
                # NaN: learned by the model but not measurable on its past days
                eff = np.full(len(index), self.learned_effects_.get(name, (np.nan, 0.0))[0])
            else:
                eff = _column(feats.effects, name, len(index))
            out[name] = np.where(on, eff, np.nan)
        return pd.DataFrame(out, index=index)

    def _event_uncertainty(self, feats: CalendarFeatures) -> tuple[np.ndarray, np.ndarray]:
        """The events' combined relative effect and its spread at each timestamp of ``feats``.

        A learned event carries the effect and spread measured on its past
        occurrences (:func:`~juno_forecast.intervals.occurrence_effect`); any
        other active event its calendar effect and ``spread`` (an event with no
        effect for this metric: 0 +- the default spread). Several events
        multiply: ``1 + e = prod(1 + e_i)``, relative spreads add in quadrature.
        """
        n = len(feats.X)
        factor, rel_var = np.ones(n), np.zeros(n)
        for name in feats.kinds:
            on = feats.X[name].to_numpy() > 0 if name in feats.X else np.zeros(n, bool)
            if not on.any():
                continue
            if name in self.learned_:
                if name not in self.learned_effects_:
                    continue
                e_val, s_val = self.learned_effects_[name]
                e, s = np.full(n, e_val), np.full(n, s_val)
            else:
                e = _column(feats.effects, name, n)
                s = _column(feats.spreads, name, n)
            m = np.maximum(1.0 + e, MIN_FACTOR)
            factor = np.where(on, factor * m, factor)
            rel_var = np.where(on, rel_var + (s / m) ** 2, rel_var)
        return factor - 1.0, np.sqrt(rel_var) * factor


def _column(frame: pd.DataFrame | None, name: str, n: int) -> np.ndarray:
    """A column of per-timestamp effects/spreads as an array (zeros when absent)."""
    if frame is None or name not in frame:
        return np.zeros(n)
    return frame[name].to_numpy(float)


#: the lowest multiplier one event puts on a forecast when its uncertainty is combined
MIN_FACTOR = 0.01


def _learned_effects(
    y: pd.Series, X: pd.DataFrame, learned: list[str], freq: str
) -> dict[str, tuple[float, float]]:
    """``name -> (effect, spread)`` measured on the history for each learned event column."""
    from .intervals import occurrence_effects

    if not learned:
        return {}
    days = epoch_ns(y.index.normalize())
    active = X.to_numpy()[:, X.columns.get_indexer(learned)] > 0
    got = occurrence_effects(y.to_numpy(float), active, days, SEASON[freq])
    return {name: g for name, g in zip(learned, got, strict=True) if g is not None}


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


def _history(y: pd.Series, cutoff: pd.Timestamp | None) -> pd.Series:
    return y if cutoff is None else y[y.index <= cutoff]


def _future_index(last: pd.Timestamp, steps: int, freq: str) -> pd.DatetimeIndex:
    return pd.date_range(last + FREQ_DELTA[freq], periods=steps, freq=freq)


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


def _warn_short_of_cutoff(label: str, hist: pd.Series, cutoff: pd.Timestamp | None) -> None:
    """A series whose data end before the cutoff is forecast from its own end: say so."""
    if cutoff is not None and len(hist) and hist.index.max() < cutoff:
        warnings.warn(
            f"{label}: its data end at {hist.index.max()}, before --cutoff {cutoff}; "
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
    frames, fronts, problems = [], [], _problems(dataset)
    for metric, keys, y in dataset.series():
        try:
            hist = _history(y, cut)
            _warn_short_of_cutoff(str(y.name), hist, cut)
            f = SeriesForecaster(model, cal, metric, keys, dataset.freq, seed, horizon=steps).fit(
                hist
            )
            out = f.predict(_future_index(hist.index.max(), steps, dataset.freq))
        except SeriesError as e:
            problems.append(str(e))
            warnings.warn(str(e), SkippedWarning, stacklevel=2)
            continue
        frames.append(out)
        fronts.append({**{k: keys[k] for k in dataset.keys}, "metric": metric})
    if not frames and problems:
        raise NoSeriesError("forecast", problems)
    cols = [*dataset.keys, "metric", "ds", *OUTPUT_COLUMNS]
    result = stack_series(frames, fronts)[cols] if frames else pd.DataFrame(columns=cols)
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
    rows, problems = [], _problems(dataset)
    for metric, keys, y in dataset.series():
        for origin in origins:
            hist = y[y.index < origin]
            actual = y[(y.index >= origin)].iloc[:steps]
            if actual.empty or hist.empty:
                continue
            scale = mase_scale(hist, dataset.freq)
            for m in models:
                try:
                    f = SeriesForecaster(
                        m, cal, metric, keys, dataset.freq, seed, horizon=steps
                    ).fit(hist)
                    out = f.predict(actual.index)
                except SeriesError as e:
                    problems.append(f"{e} (cutoff {hist.index.max()})")
                    continue
                out = out.rename_axis("ds").reset_index()
                out.insert(0, "model", model_label(m))
                out.insert(1, "cutoff", hist.index.max())
                out["y"] = actual.to_numpy()
                out["scale"] = scale
                rows.append(with_keys(out, dataset.keys, keys, metric))
    if not rows and problems:
        raise NoSeriesError("backtest", problems)
    cols = [*dataset.keys, "metric", "model", "cutoff", "ds", "y", *OUTPUT_COLUMNS, "scale"]
    result = pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)
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
    folds = pred.groupby(group, sort=True).apply(score, include_groups=False).reset_index()
    folds["n"] = folds["n"].astype(int)
    per_model = pred.groupby("model", sort=False).apply(score, include_groups=False).reset_index()
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
