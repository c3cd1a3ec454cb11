"""The typed records a calendar file becomes once validated (all frozen).

* :class:`Scope` (with :class:`ZoneEffect`, :class:`HourEffect`): what an event affects, and by how much;
* :class:`Event`: one entry of ``events`` (or a weather event found in observations);
* :class:`HolidaySource`: the ``holidays`` section (public holidays from the
  ``holidays`` package);
* :class:`Threshold`, :class:`HourlyColumns`, :class:`WeatherConfig`: the
  ``weather`` section;
* :class:`CalendarSpec`: the whole file.

Only :mod:`.validate` builds them from YAML; everything else reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .rules import Rule
from .sun import Hours, SunHours, active_hours

CATEGORIES = (
    "holiday",
    "religious",
    "event",
    "weather",
    "regulation",
    "market",
    "release",
    "other",
)
SHAPES = ("pulse", "step")
WEATHER_FIELDS = ("PRCP", "SNOW", "SNWD", "TMAX", "TMIN")  # GHCN-Daily meanings, per day
HOURLY_MEANINGS = ("PRCP", "SNOW", "SNWD", "TEMP")  # what an hourly table's columns may mean


@dataclass(frozen=True)
class Window:
    """Days the effect spills into before the start and after the end (Prophet's windows)."""

    before: int = 0
    after: int = 0


@dataclass(frozen=True)
class YearBounds:
    """Which years a rule applies to: ``first``..``last`` inclusive, minus ``skip``."""

    first: int | None = None
    last: int | None = None
    skip: tuple[int, ...] = ()

    def allows(self, year: int) -> bool:
        """True when ``year`` is inside the bounds and not skipped."""
        return (
            (self.first is None or year >= self.first)
            and (self.last is None or year <= self.last)
            and year not in self.skip
        )


Effect = tuple[tuple[str, float], ...]  # ((metric, relative change), ...)
Spread = tuple[tuple[str, float], ...]  # ((metric, standard deviation of the relative change), ...)

SPREAD_FLOOR = 0.05  # no prior is surer than +-5%: hours of one day vary that much
SPREAD_SHARE = 0.4  # a curated guess is off by 40% of its size (one standard deviation)


def default_spread(effect: float) -> float:
    """The uncertainty of a curated effect the calendar gives no ``spread`` for.

    The standard deviation of the relative change: ``max(0.05, 0.4 * |effect|)``,
    so a -35% prior has a 80% range of -35% +- 18% (-53% to -17%). Why: a prior
    is a guess from past years or elsewhere; its error grows with its size
    (a -50% guess is off by more points than a -5% one), and even a small effect
    is never known better than the hour-to-hour noise of a day (5%).
    """
    return round(max(SPREAD_FLOOR, SPREAD_SHARE * abs(float(effect))), 6)


#: the uncertainty of an event in a series' scope that gives no effect for its metric (no known
#: direction): 0 +- 10%. Measured on the 2015 hourly pickups (benchmarks/accuracy.py), the hours
#: of Fleet Week, the school recesses and Fashion Week, none with an effect, missed the
#: forecast by 9-13% (log standard deviation) more than ordinary hours. Used by the ranges only.
UNKNOWN_SPREAD = 0.1


def fill_spread(effect: dict[str, float], spread: dict[str, float]) -> dict[str, float]:
    """A spread for every metric of ``effect``: the given one, else :func:`default_spread`."""
    return {m: float(spread.get(m, default_spread(e))) for m, e in effect.items()}


@dataclass(frozen=True)
class ZoneEffect:
    """Curated effects for some zones (an entry of ``by_zone``), replacing the event's own there.

    ``effect`` applies on the event's days, ``window_effect`` on its window days;
    a metric they do not name (or ``None``) keeps the event's own value.
    ``spread``/``window_spread`` override the spreads of these zones' effects.
    """

    zones: tuple[str, ...]
    effect: Effect | None = None
    window_effect: Effect | None = None
    line: int = 0
    spread: Spread | None = None
    window_spread: Spread | None = None


@dataclass(frozen=True)
class HourEffect:
    """An entry of ``by_hours``: the event's effect reshaped in some hours of its days.

    At those hours the change is ``(1 + effect of the day) x (1 + this effect) - 1``:
    a holiday's night before a day off is busier, its morning has no commute.
    """

    hours: tuple[int, ...]
    effect: Effect
    line: int = 0


@dataclass(frozen=True)
class Scope:
    """What an event affects and how: metrics/zones (empty: all), effect priors, hours.

    ``effect`` is the curated change on the event's own days (for the whole city
    and for the zones ``by_zone`` does not list); ``window_effect`` the change on
    its window days (none by default: a window alone carries no prior);
    ``by_zone`` replaces both for the zones it lists (holidays empty Manhattan
    while outer-borough trips hold). :meth:`effects_for` is the one rule.
    ``by_hours`` reshapes the event's days by hour (every zone alike).
    ``spread``/``window_spread``: the standard deviation of a metric's relative
    change, for the metrics whose spread is not :func:`default_spread`.
    ``hours_like``: the weekday whose hours the event's days look like and how far,
    ``("sunday", 1.0)``, measured on the series at hourly grain, by detection and by the
    forecasts of a day off not in the history (:mod:`juno_forecast.dayoff`; ``by_hours``
    where the history is too short, and at daily grain).
    """

    metrics: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    effect: Effect = ()
    hours: Hours = ()
    window: Window = field(default_factory=Window)
    shape: str = "pulse"
    window_effect: Effect = ()
    by_zone: tuple[ZoneEffect, ...] = ()
    by_hours: tuple[HourEffect, ...] = ()
    spread: Spread = ()
    window_spread: Spread = ()
    hours_like: tuple[str, float] | None = None

    def effects_for(self, zone_values: Iterable[str] | None = None) -> tuple[Effect, Effect]:
        """``(effect, window_effect)`` for a series whose key values are ``zone_values``.

        The first ``by_zone`` entry listing one of the values wins, metric by
        metric (a metric it does not name keeps the event's value); a series with
        no keys (``None`` or empty: the whole city) or outside every entry gets the
        event's own effects.
        """
        return zone_effects(self.effect, self.window_effect, self.by_zone, zone_values)

    def runs(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date, Scope]]:
        """The days ``start``..``end`` as runs of days sharing the same clock hours.

        Fixed hours: one run, this scope. Hours anchored to the sun
        (:class:`~.sun.SunHours`): one run per stretch of days with the same
        clock hours (a Ramadan in June is one run; one in February-March,
        when sunset moves by over an hour and the clocks change, three or
        four), each with those hours. The window days before go with the first
        run and those after with the last, at that run's hours.
        """
        if not isinstance(self.hours, SunHours):
            return [(start, end, self)]
        days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
        out: list[tuple[dt.date, dt.date, Scope]] = []
        for day in days:
            hours = active_hours(self.hours, day)
            if out and out[-1][2].hours == hours:
                out[-1] = (out[-1][0], day, out[-1][2])
            else:
                out.append((day, day, replace(self, hours=hours, window=Window())))
        first = out[0]
        out[0] = (first[0], first[1], replace(first[2], window=Window(self.window.before, 0)))
        last = out[-1]
        after = Window(last[2].window.before, self.window.after)
        out[-1] = (last[0], last[1], replace(last[2], window=after))
        return out

    def spreads_for(self, zone_values: Iterable[str] | None = None) -> tuple[Spread, Spread]:
        """``(spread, window_spread)`` for a series, by the rule of :meth:`effects_for`.

        Only the spreads the calendar gives; :func:`fill_spread` adds the defaults.
        """
        return zone_spreads(self.spread, self.window_spread, self.by_zone, zone_values)


def zone_effects(
    effect: Effect,
    window_effect: Effect,
    by_zone: tuple[ZoneEffect, ...],
    zone_values: Iterable[str] | None,
) -> tuple[Effect, Effect]:
    """The rule of :meth:`Scope.effects_for` (also used on occurrence rows)."""
    values = {str(v) for v in zone_values or ()}
    for entry in by_zone if values else ():
        if values & set(entry.zones):
            return _merge(effect, entry.effect), _merge(window_effect, entry.window_effect)
    return effect, window_effect


def zone_spreads(
    spread: Spread,
    window_spread: Spread,
    by_zone: tuple[ZoneEffect, ...],
    zone_values: Iterable[str] | None,
) -> tuple[Spread, Spread]:
    """The given spreads for ``zone_values``: the first ``by_zone`` entry listing one wins.

    A zone entry that replaces a metric's effect without giving its spread drops
    the event's spread for that metric (the default then follows the zone's effect).
    """
    values = {str(v) for v in zone_values or ()}
    for entry in by_zone if values else ():
        if values & set(entry.zones):
            return (
                _merge(_drop(spread, entry.effect), entry.spread),
                _merge(_drop(window_spread, entry.window_effect), entry.window_spread),
            )
    return spread, window_spread


def _drop(spread: Spread, effect: Effect | None) -> Spread:
    """``spread`` without the metrics whose effect ``effect`` replaces."""
    replaced = {m for m, _ in effect or ()}
    return tuple((m, s) for m, s in spread if m not in replaced)


def _merge(base: Effect, override: Effect | None) -> Effect:
    """``base`` with the metrics ``override`` gives replaced (others kept)."""
    if not override:
        return base
    merged = dict(base)
    merged.update(override)
    return tuple(merged.items())


@dataclass(frozen=True)
class Event:
    """One calendar event: exactly one of ``spans`` (dated) or ``rule`` (yearly)."""

    name: str
    category: str
    spans: tuple[tuple[dt.date, dt.date], ...] = ()
    rule: Rule | None = None
    years: YearBounds = field(default_factory=YearBounds)
    scope: Scope = field(default_factory=Scope)
    source: str = ""
    notes: str = ""
    line: int = 0

    def occurrences(self, first_year: int, last_year: int) -> list[tuple[dt.date, dt.date]]:
        """Inclusive (start, end) days; a rule is expanded for the years given."""
        if self.rule is None:
            return list(self.spans)
        return [
            (s, e) for s, e in self.rule.spans(first_year, last_year) if self.years.allows(s.year)
        ]


def has_effect(scope: Scope) -> bool:
    """Whether a scope says which way it moves some metric (any effect, anywhere)."""
    zoned = any(z.effect or z.window_effect for z in scope.by_zone)
    return bool(scope.effect or scope.window_effect or scope.by_hours or zoned)


def unlearnable_events(events: Iterable[Event]) -> list[Event]:
    """Entries that explain nothing: no effect, and no earlier occurrence to learn one from.

    An event with no effect is learned by the models from its earlier
    occurrences in the history; a dated event that happens once (all entries
    of its name together hold a single span, e.g. a one-off parade) has none,
    so it never expects anything. Rules recur every year and are not listed.
    """
    events = list(events)
    spans: dict[str, set] = {}
    ruled: set[str] = set()
    for e in events:
        if e.rule is not None:
            ruled.add(e.name)
        spans.setdefault(e.name, set()).update(e.spans)
    return [
        e
        for e in events
        if e.rule is None
        and e.name not in ruled
        and len(spans[e.name]) <= 1
        and not any(has_effect(o.scope) for o in events if o.name == e.name)
    ]


@dataclass(frozen=True)
class HolidayOverride:
    """Settings for one named public holiday (e.g. a longer window around Thanksgiving)."""

    name: str
    scope: Scope


@dataclass(frozen=True)
class HolidaySource:
    """Public holidays from ``holidays.country_holidays(country, subdiv, observed)``."""

    country: str = "US"
    subdiv: str | None = "NY"
    observed: bool = True
    years: YearBounds = field(default_factory=YearBounds)
    scope: Scope = field(default_factory=Scope)
    exclude: tuple[str, ...] = ()
    overrides: tuple[HolidayOverride, ...] = ()
    source: str = ""
    line: int = 0


@dataclass(frozen=True)
class Threshold:
    """Turns observed weather into an event: days where ``field`` crosses the limit.

    ``extend`` (same direction as the limit) lets neighbouring days join the
    event when they cross that milder limit (a storm that spans two days).
    """

    name: str
    field: str
    at_least: float | None = None
    at_most: float | None = None
    extend: float | None = None
    scope: Scope = field(default_factory=Scope)
    line: int = 0

    def hits(self, value: float) -> bool:
        """True when ``value`` crosses the limit."""
        return self._cross(value, self.at_least, self.at_most)

    def joins(self, value: float) -> bool:
        """True when a neighbouring day with ``value`` extends an event."""
        if self.extend is None:
            return False
        if self.at_least is not None:
            return self._cross(value, self.extend, None)
        return self._cross(value, None, self.extend)

    @staticmethod
    def _cross(value: float, lo: float | None, hi: float | None) -> bool:
        if value != value:  # NaN: missing observation
            return False
        return (lo is None or value >= lo) and (hi is None or value <= hi)

    def describe(self) -> str:
        """e.g. ``SNOW >= 4``."""
        return (
            f"{self.field} >= {self.at_least:g}"
            if self.at_least is not None
            else (f"{self.field} <= {self.at_most:g}")
        )


@dataclass(frozen=True)
class HourlyColumns:
    """How to read an hourly weather table (column names and time format).

    ``columns`` maps a meaning to a column: PRCP (liquid precipitation in the
    hour), SNOW (snowfall in the hour, optional), SNWD (snow depth), TEMP
    (temperature). SNOW missing: estimated per day as the larger of the rise of
    the snow depth and ``snow_ratio`` x the precipitation at or below ``freezing``.
    """

    time_col: str = "ds"
    time_format: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    snow_ratio: float = 10.0
    freezing: float = 32.0


@dataclass(frozen=True)
class WeatherConfig:
    """The ``weather`` section: thresholds and how to read an hourly table."""

    thresholds: tuple[Threshold, ...] = ()
    hourly: HourlyColumns = field(default_factory=HourlyColumns)


@dataclass(frozen=True)
class CalendarSpec:
    """A whole validated calendar file."""

    events: tuple[Event, ...] = ()
    holidays: HolidaySource | None = None
    weather: WeatherConfig = field(default_factory=WeatherConfig)
    path: str = ""
    metric_aliases: tuple[tuple[str, str], ...] = ()  # ((your metric, the calendar's), ...)
