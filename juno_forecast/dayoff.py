"""A day off at hourly grain, measured on the series itself: its hours look like a Sunday's.

Load forecasters treat a public holiday as a Sunday: the night before goes out like
a Saturday night, the morning has no commute, the afternoon is leisure. A calendar
entry says so with ``hours_like: sunday`` (or ``{day: sunday, share: 0.6}`` for a day
only part of the way from its own weekday to a Sunday: each hour's ratio below is
taken to the power ``share``); the series says what that looks like, so the
expectation at each hour is not a round-number guess:

* **the day itself.** The calendar's prior sets its *level* (``effect`` for the
  series' zone, against a normal same weekday: Manhattan -30% on Memorial Day); the
  recent Sundays share that level out over the hours. At hour h the change is
  ``(1 + effect) x r(h) / R - 1``: ``r(h)`` the median recent Sunday's hour h
  against the median recent same weekday's, ``R`` the same for the day totals.
  Why not a Sunday's own level: a day off is a Sunday in shape, not in size (a
  Sunday in Brooklyn has 50-75% more trips than a Monday; MLK Day 2015 had 21%
  more, and Memorial Day empties Manhattan for the long weekend).
* **the evening before** (from ``EVE_FROM``): the night before a day off goes out
  like the night before a Sunday: the ratio of the recent evenings before the
  like-day (Saturdays) to the eve's own weekday's (Sundays). Not on a getaway
  weekend: where the eve is one of the entry's window days (Memorial Day, Labor
  Day: ``window: {before: 3}``), the calendar says the city has left for the long
  weekend, and the eve keeps its curated ``window_effect`` (in 2015 Manhattan's
  Sunday evening before Memorial Day was 22-40% below its recent Sundays, where a
  Saturday night would have been 50% above: forecasts of it erred 47% high, MASE
  3.58 against 1.67 with the window prior, benchmarks/accuracy.py). Only the evening:
  by day the eve is still its own weekday (a Saturday's daytime shopping is not a
  Sunday's), and it is from the end of the working day that a Saturday evening and
  a Sunday evening part ways in the NYC pickups (their ratio is about 1.1 by day
  and 1.4 at 18:00, 1.5-3 by 22:00, in every borough but Queens, whose Sunday evening
  returns through the airports make a Saturday evening the quieter one).
* **the spread.** The prior's (of the level) combined with how much the shape
  varies from week to week: each recent week's ratio over the incident's hours of
  that day (for the day itself, against that week's ratio of day totals), its log
  standard deviation. A new day off differs from its Sundays by that much.

The weeks: the ``LIKE_WEEKS`` weeks before the incident's first day, each giving the
pair (the like-day, the same weekday) of one week, kept when both days are quiet (no
event with an effect on the metric, nothing missing). With fewer than
``LIKE_MIN_WEEKS`` pairs the calendar's own ``by_hours`` prior stays.

One rule for both sides: detection reads an incident against it
(:func:`days_off`, from ``detect/explain.py``), and
:class:`~juno_forecast.forecast.SeriesForecaster` applies it as the prior of a day off
it has not learned from the history, on the day and its evening before, in its
calibration folds as in its forecasts (:class:`HistoryDaysOff`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .calendar.records import SPREAD_FLOOR
from .calendar.rules import WEEKDAY_INDEX
from .compat import epoch_ns
from .features import metric_prior
from .grain import DAY_NS, HOUR_NS

#: recent weeks whose like-days and same weekdays give the shape (about two months:
#: the detection baseline's own profile uses 8 weeks)
LIKE_WEEKS = 8
#: fewer quiet pairs than this: no measured shape (the median and the dispersion of two
#: weeks say little)
LIKE_MIN_WEEKS = 3
#: the evening of the eve: from this hour the night before a day off is a Saturday night
EVE_FROM = 18
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class DayOff:
    """Where at an incident's points a day off's measured shape applies, and what it expects."""

    where: np.ndarray
    effect: np.ndarray
    spread: np.ndarray


def day_profiles(y: pd.Series) -> dict[pd.Timestamp, np.ndarray]:
    """The 24 hourly values of each day of an hourly series with none missing.

    A sorted series on whole hours (detection's) is laid out as a (day, hour) table at
    once; anything else is grouped by day and hour (several values of one hour: their
    mean, as pandas takes it; one value is its own mean).
    """
    t = epoch_ns(y.index)
    day, within = np.divmod(t, DAY_NS)
    hour, rest = np.divmod(within, HOUR_NS)
    if not len(t) or rest.any() or (np.diff(t) <= 0).any():
        table = y.groupby([y.index.normalize(), y.index.hour]).mean().unstack()
        table = table.reindex(columns=range(24)).dropna()
        return dict(zip(table.index, table.to_numpy(dtype=float), strict=True))
    grid = np.full((day[-1] - day[0] + 1, 24), np.nan)
    grid[day - day[0], hour] = y.to_numpy(dtype=float)
    whole = np.flatnonzero(~np.isnan(grid).any(axis=1))
    stamps = pd.DatetimeIndex((day[0] + whole) * DAY_NS).as_unit(y.index.unit)
    return dict(zip(stamps, grid[whole], strict=True))


def days_off(
    days: dict[pd.Timestamp, np.ndarray],
    busy: frozenset[pd.Timestamp],
    points: pd.DatetimeIndex,
    occurrences: pd.DataFrame | list[Any],
    metric: str,
) -> dict[str, DayOff]:
    """Per event name, the measured expectation of its ``hours_like`` days off at ``points``.

    The one rule detection and the forecasts share: each occurrence with ``hours_like``
    whose days or evening before meet ``points`` (:func:`dayoff_expectation`), measured
    on the complete ``days`` (:func:`day_profiles`) before the first point's day. Names
    whose history gives no shape are absent (their ``by_hours`` prior stays).
    ``occurrences``: a ``Calendar.occurrences`` table, or its rows with ``hours_like``
    (:func:`day_off_rows`).
    """
    if not len(points):
        return {}
    if isinstance(occurrences, pd.DataFrame):
        occurrences = day_off_rows(occurrences)
    cut, last = points.min().normalize(), points.max().normalize()
    rows = [r for r in occurrences if r.start - DAY <= last and r.end >= cut]
    before = {d: v for d, v in days.items() if d < cut} if rows else {}
    out: dict[str, DayOff] = {}
    for row in rows:
        got = dayoff_expectation(before, busy, points, row, metric)
        if got is None:
            continue
        name = str(row.name)
        if name in out:  # two occurrences of one name: each where it applies
            was = out[name]
            got = DayOff(
                was.where | got.where,
                np.where(got.where, got.effect, was.effect),
                np.where(got.where, got.spread, was.spread),
            )
        out[name] = got
    return out


@dataclass(frozen=True)
class HistoryDaysOff:
    """A forecaster's history as the days off see it: its complete days and its scope.

    What :class:`~juno_forecast.forecast.SeriesForecaster` applies to an ``hours_like``
    day off it has not learned (its prior), by the rule detection uses (:func:`days_off`).
    """

    calendar: Any
    metric: str | None
    keys: dict[str, str] | None
    start: pd.Timestamp
    last: pd.Timestamp
    days: dict[pd.Timestamp, np.ndarray]

    @classmethod
    def of(cls, fc: Any, values: np.ndarray, stamps: np.ndarray) -> HistoryDaysOff | None:
        """The days off of forecaster ``fc`` fitted on ``values`` at ``stamps`` (None without
        a calendar)."""
        if fc.calendar_ is None:
            return None
        y = pd.Series(values, index=pd.DatetimeIndex(stamps.view("datetime64[ns]")))
        return cls(fc.calendar_, fc.metric, fc.keys, fc.start_, fc.last_, day_profiles(y))

    def at(self, stamps: np.ndarray, learned: tuple[str, ...] = ()) -> dict[str, DayOff]:
        """:func:`days_off` at ``stamps`` (int64 ns, after the history's days it uses) of the
        events not ``learned`` from the history."""
        from .core import memo, scope_occurrences

        if not self.days or not len(stamps) or self.metric is None:
            return {}
        points = pd.DatetimeIndex(np.asarray(stamps).view("datetime64[ns]"))
        occ = scope_occurrences(self.calendar, points[0], points[-1] + DAY, self.metric, self.keys)
        rows = memo(occ, ("days off",), lambda: day_off_rows(occ))  # per scope
        rows = [r for r in rows if r.name not in learned]
        if not rows:
            return {}
        past = scope_occurrences(self.calendar, self.start, self.last, self.metric, self.keys)
        busy = memo(past, ("busy", self.metric), lambda: busy_days(past, self.metric))
        return days_off(self.days, busy, points, rows, self.metric)


def day_off_rows(occurrences: pd.DataFrame) -> list[Any]:
    """The rows (``itertuples``) of the occurrences with ``hours_like``: the days off."""
    if "hours_like" not in occurrences:
        return []
    like = [isinstance(v, tuple) for v in occurrences["hours_like"]]
    return list(occurrences[like].itertuples(index=False)) if any(like) else []


def busy_days(occurrences: pd.DataFrame, metric: str) -> frozenset[pd.Timestamp]:
    """The days a day off's shape is not measured on: each pulse occurrence with a prior
    effect on ``metric`` (its day, window or hours), over its window days."""
    busy: set[pd.Timestamp] = set()
    for _, o in occurrences.iterrows():
        if o["shape"] != "step" and _moves(o, metric):
            busy.update(pd.date_range(o["window_start"], o["window_end"], freq="D"))
    return frozenset(busy)


def _moves(occ: pd.Series, metric: str) -> bool:
    """Whether an occurrence has a prior effect on ``metric`` (its day, window or hours)."""
    by_hours = occ.get("by_hours") if isinstance(occ.get("by_hours"), dict) else {}
    effects = [occ.get("effect"), occ.get("window_effect"), *by_hours.values()]
    return any(isinstance(e, dict) and e.get(metric, 0.0) != 0.0 for e in effects)


def dayoff_expectation(
    days: dict[pd.Timestamp, np.ndarray],
    busy: frozenset[pd.Timestamp],
    points: pd.DatetimeIndex,
    row: Any,
    metric: str,
) -> DayOff | None:
    """The measured expectation of one ``hours_like`` occurrence at ``points``.

    ``row``: the occurrence (a row of ``Calendar.occurrences``, from ``itertuples``);
    ``days``: the series' complete days before the incident's first day
    (:func:`day_profiles`); ``busy``: the days with an event that has an effect on the
    metric (not compared). None when the entry has no ``hours_like`` or the history
    too few quiet weeks for any of the points.
    """
    like = row.hours_like
    if not isinstance(like, tuple) or not len(points):
        return None
    like_day, share = WEEKDAY_INDEX[like[0]], float(like[1])
    start, end = pd.Timestamp(row.start), pd.Timestamp(row.end)
    level, level_sd = metric_prior(row.effect, row.spread, metric)
    on = points.normalize()
    # a getaway weekend (the eve is one of the entry's window days) keeps its window prior
    getaway = pd.Timestamp(row.window_start) < start
    eve = (on == start - DAY) & (points.hour >= EVE_FROM) & (not getaway)
    where = np.zeros(len(points), dtype=bool)
    effect, spread = np.zeros(len(points)), np.zeros(len(points))
    for day in on.unique():
        at = np.asarray(on == day)
        if start <= day <= end:
            parts = _shape(days, busy, day, like_day, points.hour[at], share, whole_day=True)
            lvl, sd = level, level_sd
        elif eve[at].any():
            at &= eve
            parts = _shape(days, busy, day, like_day - 1, points.hour[at], share, whole_day=False)
            lvl, sd = 0.0, 0.0
        else:
            continue
        if parts is None:
            continue
        ratio, dispersion = parts
        effect[at] = (1.0 + lvl) * ratio - 1.0
        spread[at] = (1.0 + effect[at]) * np.hypot(sd / (1.0 + lvl), dispersion)
        where |= at
    return DayOff(where, effect, spread) if where.any() else None


def _shape(
    days: dict[pd.Timestamp, np.ndarray],
    busy: frozenset[pd.Timestamp],
    day: pd.Timestamp,
    like: int,
    hours: pd.Index,
    share: float,
    whole_day: bool,
) -> tuple[np.ndarray, float] | None:
    """(ratio at each of ``hours``, log dispersion over them) of weekday ``like`` to ``day``'s.

    Each hour's ratio of the medians is taken to the power ``share`` (0.6: that far
    from the day's own weekday to ``like`` on the log scale). ``whole_day``: the ratio
    is shape only, divided by the same over the day (the level comes from the prior),
    and so is each week's ratio in the dispersion.
    """
    own, alike = _recent_pairs(days, busy, day, like % 7)
    if len(own) < LIKE_MIN_WEEKS:
        return None
    hrs = np.asarray(hours)
    mo, ml = np.median(own, axis=0), np.median(alike, axis=0)
    ratio = ((ml + 1.0) / (mo + 1.0)) ** share
    weekly = np.log((alike[:, hrs].sum(1) + 1.0) / (own[:, hrs].sum(1) + 1.0))
    if whole_day:  # counts + 1 throughout: an empty hour or day divides nothing by 0
        ratio = ratio / (np.sum(ratio * (mo + 1.0)) / np.sum(mo + 1.0))
        weekly = weekly - np.log((alike.sum(1) + 1.0) / (own.sum(1) + 1.0))
    return ratio[hrs], max(share * float(np.std(weekly, ddof=1)), SPREAD_FLOOR)


def _recent_pairs(
    days: dict[pd.Timestamp, np.ndarray],
    busy: frozenset[pd.Timestamp],
    day: pd.Timestamp,
    like: int,
) -> tuple[np.ndarray, np.ndarray]:
    """24-hour profiles (weeks x 24) of ``day``'s weekday and of weekday ``like`` in the same
    week (at most 3 days apart), over the quiet weeks of the ``LIKE_WEEKS`` before ``day``."""
    shift = pd.Timedelta(days=(like - day.day_of_week + 3) % 7 - 3)
    own, alike = [], []
    for k in range(1, LIKE_WEEKS + 1):
        pair = [day - pd.Timedelta(weeks=k), day - pd.Timedelta(weeks=k) + shift]
        if all(d in days and d not in busy for d in pair):
            own.append(days[pair[0]])
            alike.append(days[pair[1]])
    return np.asarray(own), np.asarray(alike)
