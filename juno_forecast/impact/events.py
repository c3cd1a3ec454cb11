"""Calendar events in an impact run: the calendar without the investigated event, and its days."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..core import memo, scope_occurrences


class ExcludingCalendar:
    """A calendar that leaves out some events (the incident itself, e.g. ``Blizzard*``).

    When the event being investigated is in the calendar (a storm already listed),
    its curated effect would otherwise be part of the counterfactual and the
    storm would look like no loss at all. ``patterns`` are case-insensitive
    shell-style names (``fnmatch``). Everything else is delegated.
    """

    def __init__(self, calendar: Any, patterns: Iterable[str] = ()):
        self.calendar = calendar
        self.patterns = tuple(p.lower() for p in patterns)
        self._until: dict[int, ExcludingCalendar] = {}  # see weather_until

    def excluded(self, name: str) -> bool:
        """True when ``name`` matches one of the patterns."""
        return any(fnmatch.fnmatchcase(str(name).lower(), p) for p in self.patterns)

    def occurrences(
        self,
        start: Any,
        end: Any,
        category: Any = None,
        metric: str | None = None,
        keys: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """The wrapped calendar's occurrences (in the series' scope), without the excluded events."""
        occ = self.calendar.occurrences(start, end, category=category, metric=metric, keys=keys)
        if occ.empty or not self.patterns:
            return occ
        keep = np.array([not self.excluded(n) for n in occ["name"]], dtype=bool)
        return occ[keep].reset_index(drop=True)

    def with_weather(self, path: Any) -> ExcludingCalendar:
        """The same exclusions on the wrapped calendar with observed weather."""
        return ExcludingCalendar(self.calendar.with_weather(path), self.patterns)

    def with_weather_forecast(self, path: Any) -> ExcludingCalendar:
        """The same exclusions on the wrapped calendar with a weather forecast."""
        return ExcludingCalendar(self.calendar.with_weather_forecast(path), self.patterns)

    def weather_until(self, end: Any) -> ExcludingCalendar:
        """The same exclusions on the weather known at a cutoff (no look-ahead).

        One object per wrapped calendar it gives (itself when that has no weather), as
        :meth:`~juno_forecast.calendar.Calendar.weather_until` keeps one per day: the
        caches of :mod:`juno_forecast.core` know a calendar by identity, and a new
        wrapper per series made every series compute its scope's features again.
        """
        inner = self.calendar.weather_until(end)
        if inner is self.calendar:
            return self
        if id(inner) not in self._until:  # the wrapper keeps ``inner`` alive: its id stays its own
            self._until[id(inner)] = ExcludingCalendar(inner, self.patterns)
        return self._until[id(inner)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.calendar, name)


def impact_calendar(
    calendar: Any, weather: Any, exclude: Iterable[str] = (), weather_forecast: Any = None
) -> Any:
    """The calendar of :func:`~juno_forecast.inputs.resolve_calendar`, without ``exclude``.

    An empty calendar (``"none"``) becomes ``None``, the forecaster's "no events".
    """
    from ..inputs import resolve_calendar

    cal = resolve_calendar(calendar, weather, weather_forecast)
    if getattr(cal, "is_empty", lambda: False)():
        return None  # no calendar knowledge (SeriesForecaster gets "none")
    return ExcludingCalendar(cal, tuple(exclude or ()))


def window_events(
    cal: Any, start: pd.Timestamp, end: pd.Timestamp, metric: str, keys: dict[str, str]
) -> pd.DataFrame:
    """Calendar occurrences overlapping the window for one series' scope.

    Column ``excluded`` is True for events left out of the counterfactual
    (``exclude_events``): the debrief names them apart. A step (a lasting change,
    e.g. a regulation) that began before the window is part of the history's
    level, not an event of the window: it is not listed.
    """
    cols = ["name", "category", "start", "end"]
    if cal is None:
        return pd.DataFrame(columns=[*cols, "excluded"])
    inner = cal.calendar if isinstance(cal, ExcludingCalendar) else cal
    occ = scope_occurrences(inner, start, end, metric, keys)  # one table per scope

    def compute() -> pd.DataFrame:
        listed = occ
        if not listed.empty and "shape" in listed:
            listed = listed[~((listed["shape"] == "step") & (listed["start"] < start.normalize()))]
        if listed.empty:
            return pd.DataFrame(columns=[*cols, "excluded"])
        out = listed[cols].drop_duplicates().reset_index(drop=True)
        is_out = cal.excluded if isinstance(cal, ExcludingCalendar) else (lambda name: False)
        out["excluded"] = [bool(is_out(n)) for n in out["name"]]
        return out

    # once per scope and window (callers copy it: ``assign``); the exclusions are the run's
    return memo(occ, ("window events", start, end, getattr(cal, "patterns", ())), compute).copy()


def event_steps(
    cal: Any, span: pd.DatetimeIndex, metric: str, keys: dict[str, str]
) -> np.ndarray | None:
    """Which steps of ``span`` fall on a day of a calendar event in the expectation of a series.

    The days the calendar lists for the events of the series' scope count;
    steps (lasting changes such as a new toll, part of the level once begun)
    and the events left out of the counterfactual (``exclude_events``) do not.
    None without a calendar.
    """
    if cal is None:
        return None
    # an ExcludingCalendar's occurrences leave out the excluded events already
    occ = scope_occurrences(cal, span[0], span[-1], metric, keys)  # one table per scope

    def compute() -> np.ndarray:
        listed = occ[occ["shape"] != "step"] if not occ.empty and "shape" in occ else occ
        days = [pd.date_range(r.start, r.end, freq="D") for r in listed.itertuples()]
        on = span.normalize().isin(days[0].append(days[1:]) if days else pd.DatetimeIndex([]))
        on.setflags(write=False)  # shared by the scope's series
        return on

    return memo(occ, ("event steps", span[0], len(span), span.freq), compute)
