"""Calendar occurrences turned into model inputs for one series.

A model sees the calendar as a design matrix on the series' timestamps: one
0/1 column per *pulse* event name (active on its days and window, and only in
its ``hours`` at hourly grain) and one 0/1 column per *step* event name
(active from its start onwards). All occurrences of one name (every year's
Thanksgiving) share one column, so a model learns the effect from earlier
years. The curated ``effect`` of each name for the series' metric is kept
aside as a prior, per timestamp (the event's days, its window days, its hours,
the series' zone), used by :class:`~juno_forecast.forecast.SeriesForecaster`
when the history holds no occurrence to learn from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .calendar import OCCURRENCE_COLUMNS
from .calendar.records import SPREAD_SHARE, UNKNOWN_SPREAD
from .compat import epoch_ns

PULSE, STEP = "pulse", "step"


@dataclass
class CalendarFeatures:
    """The calendar as seen by one series on one DatetimeIndex.

    ``X``: one 0/1 float column per event name; ``kinds``: name -> pulse/step;
    ``priors``: name -> curated relative effect on the event's days for the
    series' metric and zone (names without one are absent); ``effects``: the
    curated relative effect at each timestamp, per name (the event's days get
    its ``effect``, its window days its ``window_effect``; 0 elsewhere; see
    :func:`effect_at`); ``events``: the names active at each timestamp,
    ``;``-joined (empty string when none); ``spreads``: the uncertainty of
    ``effects`` (standard deviation of the relative change, the calendar's
    ``spread``; 0 where there is no effect, see :func:`spread_at`).
    """

    X: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)
    priors: dict[str, float] = field(default_factory=dict)
    events: pd.Series | None = None
    effects: pd.DataFrame | None = None
    spreads: pd.DataFrame | None = None


#: Share of a typical day's ride-hailing trips in each hour 0-23 (NYC, Uber pickups of all
#: boroughs, January-June 2015, rounded): how much of a day an hours-limited effect touches
#: in daily data (the evening 16-23 holds about half the trips, the night 0-7 under a fifth).
HOUR_SHARE = np.array(
    [5.0, 3.4, 2.2, 1.5, 1.2, 1.2, 1.6, 2.5, 3.7, 4.3, 3.9, 3.6]
    + [3.7, 3.7, 3.9, 4.3, 4.8, 5.6, 6.5, 7.1, 6.9, 6.6, 6.5, 6.2]
)
HOUR_SHARE = HOUR_SHARE / HOUR_SHARE.sum()

#: the lowest combined effect of one event at one timestamp (-99%: never a forecast of 0)
MIN_EFFECT = -0.99


def empty_occurrences() -> pd.DataFrame:
    """An occurrences table with no rows (what ``calendar=None`` amounts to)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in OCCURRENCE_COLUMNS})


def _is_empty(calendar: Any) -> bool:
    """Whether a Calendar holds no knowledge (``is_empty`` may be a method or a property)."""
    flag = getattr(calendar, "is_empty", False)
    return bool(flag() if callable(flag) else flag)


def series_occurrences(
    calendar: Any,
    start: pd.Timestamp,
    end: pd.Timestamp,
    metric: str | None = None,
    keys: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Occurrences of ``calendar`` overlapping ``[start, end]`` in the scope of one series.

    ``calendar=None`` means no calendar knowledge: an empty table.
    """
    if calendar is None or _is_empty(calendar):
        return empty_occurrences()
    occ = calendar.occurrences(
        pd.Timestamp(start).normalize(),
        pd.Timestamp(end).normalize(),
        metric=metric,
        keys=dict(keys or {}),
    )
    return occ if len(occ) else empty_occurrences()


def _day_ns(value: Any) -> int:
    return pd.Timestamp(value).normalize().value


def _masks(
    row: Any, days: np.ndarray, hours_of: np.ndarray, hourly: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Where one occurrence is active (feature) and where it is named (``events`` label).

    A pulse is active on its window days (and only in its ``hours`` at hourly
    grain); a step is active from its start onwards but named only on its own days.
    """
    start, end = _day_ns(row.start), _day_ns(row.end)
    if row.shape == STEP:
        return days >= start, (days >= start) & (days <= end)
    mask = (days >= _day_ns(row.window_start)) & (days <= _day_ns(row.window_end))
    hours = tuple(row.hours or ())
    if hourly and hours:
        mask &= np.isin(hours_of, hours)
    return mask, mask


def active_at(row: Any, index: pd.DatetimeIndex, freq: str = "h") -> np.ndarray:
    """Whether one occurrence (a row of ``Calendar.occurrences``) is active at each timestamp.

    The rule models and the detector share: its days and window (a step: from
    its start on) and, at hourly grain, its ``hours``. Hours anchored to
    sunrise or sunset are already clock hours in the row: ``occurrences``
    splits such an event into runs of days with the same hours.
    """
    index = pd.DatetimeIndex(index)
    get = row.get if isinstance(row, dict | pd.Series) else (lambda k: getattr(row, k))
    fields = {k: get(k) for k in ("start", "end", "window_start", "window_end", "hours")}
    occ = SimpleNamespace(**fields, shape=STEP if get("shape") == STEP else PULSE)
    active, _ = _masks(occ, epoch_ns(index.normalize()), np.asarray(index.hour), freq == "h")
    return active


def _as_dict(value: Any) -> dict:
    """``value`` if it is a dict (an effect), else an empty one (no effect given)."""
    return value if isinstance(value, dict) else {}


def metric_prior(effect: Any, spread: Any, metric: str) -> tuple[float, float]:
    """An occurrence's curated effect on ``metric`` and its spread, from one of its
    ``effect``/``spread`` or ``window_effect``/``window_spread`` pairs. None given: 0 with
    :data:`~.calendar.records.UNKNOWN_SPREAD` (no known direction)."""
    return (
        float(_as_dict(effect).get(metric, 0.0)),
        float(_as_dict(spread).get(metric, UNKNOWN_SPREAD)),
    )


class Timeline(NamedTuple):
    """A series' timestamps as the calendar effects see them."""

    days: np.ndarray  #: each timestamp's day, in ns since the epoch
    hours_of: np.ndarray  #: each timestamp's hour of day
    hourly: bool  #: hourly grain (else daily: a day counts its hours by HOUR_SHARE)


def _hour_shape(row: Any, metric: str) -> np.ndarray:
    """The ``by_hours`` reshaping of ``metric`` by hour of day (24 relative effects, 0 if none)."""
    shape = np.zeros(24)
    for h, eff in _as_dict(getattr(row, "by_hours", None)).items():
        shape[int(h)] = float(_as_dict(eff).get(metric, 0.0))
    return shape


def _lay_out(
    row: Any, by_hour: np.ndarray, window: float, at: Timeline, active: np.ndarray
) -> np.ndarray:
    """One occurrence's per-hour value (``by_hour``, 24) and ``window`` value on each timestamp.

    The event's own days (a step: from its start on) get the value of their hour;
    its window days get ``window``; 0 where it is not ``active``. In daily data a
    day gets the mean of its hours weighted by :data:`HOUR_SHARE` (only the
    event's ``hours``, if it has some), and the window its hours' share of a day.
    """
    on_days = at.days >= _day_ns(row.start)
    if row.shape != STEP:
        on_days &= at.days <= _day_ns(row.end)
    hours = list(row.hours or ()) if row.shape != STEP else []
    if at.hourly:
        on_day = by_hour[at.hours_of]
    else:
        hrs = hours or list(range(24))
        on_day = np.full(len(at.days), float(np.sum(HOUR_SHARE[hrs] * by_hour[hrs])))
        window *= HOUR_SHARE[hrs].sum()
    out = np.zeros(len(at.days))
    out[active & on_days] = on_day[active & on_days]
    out[active & ~on_days] = window
    return out


def effect_at(row: Any, metric: str | None, at: Timeline, active: np.ndarray) -> np.ndarray:
    """The curated relative effect of one occurrence on ``metric`` at each timestamp.

    The event's own days (a step: from its start on) get ``effect``, reshaped by
    hour with ``by_hours`` (``(1 + effect) x (1 + hour's effect) - 1``); its
    window days get ``window_effect`` (no prior unless the calendar gives one);
    0 where it is not ``active``. In daily data each hour counts for its share
    of a typical day's trips (:data:`HOUR_SHARE`), so an evening-only effect
    moves the day by about half its size.
    """
    if metric is None:
        return np.zeros(len(at.days))
    day_effect = metric_prior(row.effect, None, metric)[0]
    by_hour = (1.0 + day_effect) * (1.0 + _hour_shape(row, metric)) - 1.0
    window = metric_prior(getattr(row, "window_effect", None), None, metric)[0]
    return _lay_out(row, by_hour, window, at, active)


def spread_at(row: Any, metric: str | None, at: Timeline, active: np.ndarray) -> np.ndarray:
    """The uncertainty of :func:`effect_at`: the ``spread`` of one occurrence at each timestamp.

    The event's days get ``spread`` (scaled by an hour's ``by_hours`` reshaping,
    ``(1 + hour's effect) x spread``, and never below the default share of the
    reshaped hour's own effect), its window days ``window_spread``; where
    the metric has no effect (no known direction) the effect is 0 with the
    spread :data:`~.calendar.records.UNKNOWN_SPREAD`. In daily data an
    hours-limited spread counts for those hours' share of the day, like the effect.
    """
    if metric is None:
        return np.zeros(len(at.days))
    day_effect, day_spread = metric_prior(row.effect, getattr(row, "spread", None), metric)
    shape = _hour_shape(row, metric)
    window = metric_prior(None, getattr(row, "window_spread", None), metric)[1]
    # an hour that by_hours makes larger is as uncertain as a guess of that size
    reshaped = SPREAD_SHARE * np.abs((1 + day_effect) * (1 + shape) - 1)
    scaled = day_spread * (1.0 + shape)  # other hours keep the event's own (given) spread
    by_hour = np.where(shape != 0, np.maximum(scaled, reshaped), scaled)
    return _lay_out(row, by_hour, window, at, active)


def build_features(
    occurrences: pd.DataFrame, index: pd.DatetimeIndex, freq: str = "D", metric: str | None = None
) -> CalendarFeatures:
    """The design matrix, priors, effects and event labels of ``occurrences`` on ``index``.

    ``freq`` is ``"h"`` or ``"D"``; hours-restricted events only narrow their
    columns at hourly grain (at daily grain the whole day counts). Occurrences
    sharing a name share a column; their effects add up (two parts of one day,
    e.g. a storm's evening and the travel ban that follows, at daily grain).
    """
    index = pd.DatetimeIndex(index)
    days = epoch_ns(index.normalize())
    hours_of = np.asarray(index.hour)
    hourly = freq == "h"
    at = Timeline(days, hours_of, hourly)
    columns: dict[str, np.ndarray] = {}
    labels: dict[str, np.ndarray] = {}
    effects: dict[str, np.ndarray] = {}
    spreads: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    priors: dict[str, float] = {}
    occ = occurrences.assign(shape=np.where(occurrences["shape"] == STEP, STEP, PULSE))
    for row in occ.itertuples(index=False):
        name = str(row.name)
        active, named = _masks(row, days, hours_of, hourly)
        columns[name] = columns[name] | active if name in columns else active
        labels[name] = labels[name] | named if name in labels else named
        eff = effect_at(row, metric, at, active)
        effects[name] = effects[name] + eff if name in effects else eff
        sd = spread_at(row, metric, at, active)
        spreads[name] = np.hypot(spreads[name], sd) if name in spreads else sd
        kinds.setdefault(name, row.shape)
        effect = _as_dict(row.effect)
        if metric is not None and metric in effect:
            priors.setdefault(name, float(effect[metric]))
    X = pd.DataFrame({k: v.astype(float) for k, v in columns.items()}, index=index)
    E = pd.DataFrame({k: np.maximum(v, MIN_EFFECT) for k, v in effects.items()}, index=index)
    S = pd.DataFrame(spreads, index=index, columns=list(spreads))
    return CalendarFeatures(
        X=X, kinds=kinds, priors=priors, events=_labels(labels, index), effects=E, spreads=S
    )


def prior_factor(
    X: pd.DataFrame,
    effects: pd.DataFrame | None,
    fallback: dict[str, float] | None = None,
    skip: list[str] | tuple[str, ...] = (),
) -> np.ndarray:
    """The multiplier the curated priors put on a forecast at each row of ``X``.

    Every event column of ``X`` not in ``skip`` (the events the model learned
    from history) multiplies by ``1 + effect`` where it is active: the
    per-timestamp ``effects`` (from :func:`build_features`), or, for a name they
    lack, ``fallback[name]`` on every active row. The pandas face of
    :func:`juno_forecast.event_arrays.prior_factor` (the rule, on arrays).
    """
    from .event_arrays import prior_factor as on_arrays

    if effects is None:
        E, names = np.zeros((len(X), 0)), ()
    else:
        if not effects.index.equals(X.index):
            effects = effects.reindex(X.index, fill_value=0.0)
        E, names = effects.to_numpy(dtype=float), tuple(effects.columns)
    columns = tuple(X.columns)
    return on_arrays(X.to_numpy(dtype=float), columns, E, names, fallback or {}, tuple(skip))


def _labels(labels: dict[str, np.ndarray], index: pd.DatetimeIndex) -> pd.Series:
    """The ``;``-joined names active at each timestamp."""
    out = np.full(len(index), "", dtype=object)
    for name, mask in labels.items():
        hit = np.flatnonzero(mask)
        out[hit] = [f"{v};{name}" if v else name for v in out[hit]]
    return pd.Series(out, index=index, dtype=object)


def calendar_features(
    calendar: Any,
    index: pd.DatetimeIndex,
    freq: str = "D",
    metric: str | None = None,
    keys: dict[str, str] | None = None,
    since: pd.Timestamp | None = None,
) -> CalendarFeatures:
    """Features of ``calendar`` for one series on ``index`` (occurrences looked up and built).

    ``since`` widens the look-up backwards (e.g. to the start of the training
    history) so a step that began before ``index`` is still seen as active.
    A calendar with weather adds its numeric weather columns (:func:`with_weather_columns`),
    at hourly grain the weather of each hour.
    """
    index = pd.DatetimeIndex(index)
    if len(index) == 0:
        return build_features(empty_occurrences(), index, freq, metric)
    start = min(index.min(), pd.Timestamp(since)) if since is not None else index.min()
    occ = series_occurrences(calendar, start, index.max(), metric=metric, keys=keys)
    return with_weather_columns(build_features(occ, index, freq, metric), calendar, freq)


def with_weather_columns(
    feats: CalendarFeatures, calendar: Any, freq: str = "D"
) -> CalendarFeatures:
    """``feats`` with the calendar's temperature and precipitation as columns of ``X``.

    At daily grain the day's mean temperature and precipitation; at hourly grain
    the hour's, from an hourly weather table (else the day's spread over its
    hours; see :meth:`~juno_forecast.calendar.weather.WeatherKnowledge.regressors`).
    Numbers, not 0/1: models that regress on their columns (ols, ets) learn how
    demand moves with them (ols per part of the day at hourly grain: rain moves
    the evening more than the night); a model tagged ``numeric_columns=False``
    leaves them out. They carry no prior, so no curated effect applies.
    A calendar without weather (or a forecast made with no weather forecast,
    see :meth:`~juno_forecast.calendar.Calendar.weather_until`) adds none.
    """
    make = getattr(calendar, "weather_regressors", None)
    if make is None or calendar.weather is None:
        return feats
    W = make(feats.X.index, freq)
    if W.shape[1] == 0:
        return feats
    feats.X = pd.concat([feats.X, W], axis=1)
    return feats
