"""The :class:`Calendar`: a validated calendar file (plus observed weather) and its
concrete occurrences over any date range, as a pandas DataFrame.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import CalendarError, InputError
from ..grain import to_wall_clock
from .holidays import expand_holidays
from .names import read_zones
from .records import CATEGORIES, CalendarSpec, Event, Scope, fill_spread, zone_effects, zone_spreads
from .validate import load_spec
from .weather import WeatherKnowledge, read_weather_hours, unknown_weather_spread
from .yamlio import file_size_problem

OCCURRENCE_COLUMNS = (
    "name",
    "category",
    "start",
    "end",
    "window_start",
    "window_end",
    "hours",
    "metrics",
    "zones",
    "effect",
    "shape",
    "source",
    "window_effect",
    "by_zone",
    "by_hours",
    "spread",
    "window_spread",
    "hours_like",
)
HOLIDAY_SOURCE = "holidays package: {country}{subdiv}, observed days {observed}"


def default_calendar_path() -> Path:
    """The calendar shipped inside the package (``juno_forecast/events_calendar.yaml``)."""
    return Path(str(resources.files("juno_forecast").joinpath("events_calendar.yaml")))


class Calendar:
    """Events that move ride metrics, expanded on demand to concrete occurrences.

    Build it with :meth:`load` (a YAML file, validated strictly) or :meth:`empty`;
    :meth:`with_weather` adds weather events found in observations,
    :meth:`with_weather_forecast` those of a weather forecast of the days ahead;
    :meth:`weather_until` is what a forecast made at a cutoff may know. Instances
    are treated as immutable: methods return new calendars.
    """

    def __init__(
        self,
        spec: CalendarSpec,
        extra_events: tuple[Event, ...] = (),
        weather: WeatherKnowledge | None = None,
    ):
        self.spec = spec
        self.extra_events = tuple(extra_events)
        self.weather = weather
        cfg = spec.weather
        self.weather_events = (
            tuple(weather.events(cfg.thresholds, cfg.hourly.snow_ratio)) if weather else ()
        )
        self._cache: dict[tuple[int, int], pd.DataFrame] = {}
        self._until: dict[pd.Timestamp, Calendar] = {}

    # ------------------------------------------------------------------ building
    @classmethod
    def load(
        cls, path: str | os.PathLike | None = None, zones: str | os.PathLike | None = None
    ) -> Calendar:
        """Read and validate a calendar file; ``None`` is the shipped one, ``"none"`` is empty.

        ``zones``: a file of the zone names the calendar may use (another city's;
        default New York City's boroughs and taxi zones, see :mod:`.names`).
        Raises :class:`~juno_forecast.errors.CalendarError` listing every problem.
        """
        if path is None:
            path = default_calendar_path()
        elif str(path).strip().lower() == "none":
            return cls.empty()
        p = Path(path)
        too_big = file_size_problem(p)  # refused before it is read into memory
        if too_big is not None:
            raise CalendarError([too_big.message(str(path))])
        known = (read_zones(zones), Path(zones).name) if zones is not None else None
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{p}: calendar file not found") from None
        except (IsADirectoryError, PermissionError) as e:
            raise InputError(f"{p}: cannot read the calendar ({type(e).__name__})") from None
        return cls(load_spec(_utf8(data, str(path)), str(path), known))

    @classmethod
    def empty(cls) -> Calendar:
        """A calendar with no knowledge at all (no holidays, events or thresholds)."""
        return cls(CalendarSpec(path="none"))

    def with_weather(
        self,
        path: str | os.PathLike,
        time_col: str | None = None,
        columns: dict[str, str] | None = None,
    ) -> Calendar:
        """A copy with weather events from observations, by this calendar's thresholds.

        ``path``: a GHCN-Daily CSV or an hourly table (see :mod:`.weather`);
        ``time_col``/``columns`` override the calendar's ``weather.hourly`` mapping
        (e.g. ``columns={"PRCP": "liq_precp_1hr", "SNWD": "snow_depth_in", "TEMP": "temp_F"}``).
        The daily observations are in ``weather_daily`` for models to use (an
        hourly table's hours too, for hourly models).
        """
        daily, hours = read_weather_hours(path, self.spec.weather.hourly, time_col, columns)
        known = (self.weather or WeatherKnowledge()).with_observed(daily, Path(path).name, hours)
        return Calendar(self.spec, self.extra_events, known)

    def with_weather_forecast(
        self,
        path: str | os.PathLike,
        time_col: str | None = None,
        columns: dict[str, str] | None = None,
    ) -> Calendar:
        """A copy with a weather forecast of the days ahead (same formats as :meth:`with_weather`).

        A forecast made at a cutoff uses it for the days after the cutoff: its
        weather events (by the same thresholds, ``source`` naming the forecast)
        and its temperature and precipitation as regressors (of the hour, for
        hourly models and an hourly table).
        """
        daily, hours = read_weather_hours(path, self.spec.weather.hourly, time_col, columns)
        known = (self.weather or WeatherKnowledge()).with_forecast(daily, Path(path).name, hours)
        return Calendar(self.spec, self.extra_events, known)

    def weather_until(self, end: object) -> Calendar:
        """This calendar as a forecast made with the data before ``end`` may know it.

        The weather of the days observed by ``end`` (a day that ``end`` cuts is
        not yet observed) and the forecast after; no weather at all when no
        forecast reaches past ``end`` (see :meth:`.WeatherKnowledge.until`). The
        events of the file, forecast storms declared there included, all stay.
        """
        if self.weather is None:
            return self
        day = pd.Timestamp(end).floor("D")
        if day not in self._until:
            self._until[day] = Calendar(self.spec, self.extra_events, self.weather.until(day))
        return self._until[day]

    @property
    def weather_daily(self) -> pd.DataFrame | None:
        """The known daily weather (observed days, then forecast ones), or None."""
        return self.weather.daily() if self.weather is not None else None

    def unknown_weather_spread(self, metric: str | None, index: pd.DatetimeIndex) -> np.ndarray:
        """The relative spread the unknown weather adds to ``metric`` at each timestamp
        (0 where the weather is known); see :func:`.weather.unknown_weather_spread`."""
        return unknown_weather_spread(
            self.weather, self.spec.weather.thresholds, self.canonical_metric(metric), index
        )

    def weather_regressors(self, index: pd.DatetimeIndex, freq: str = "D") -> pd.DataFrame:
        """Temperature and precipitation on ``index`` at grain ``freq`` (hourly: the hour's,
        see :meth:`.WeatherKnowledge.regressors`); no columns without weather."""
        if self.weather is None:
            return pd.DataFrame(index=index)
        return self.weather.regressors(index, freq)

    # ------------------------------------------------------------------ reading
    @property
    def events(self) -> tuple[Event, ...]:
        """The file's events and the weather events found in observations (and a forecast)."""
        return self.spec.events + self.extra_events + self.weather_events

    @property
    def path(self) -> str:
        """The file this calendar was read from (``none`` for the empty calendar)."""
        return self.spec.path

    def is_empty(self) -> bool:
        """True when the calendar holds no knowledge (``--calendar none``)."""
        return not self.events and self.spec.holidays is None

    def counts(self) -> dict[str, int]:
        """Distinct events per category in the file (+ weather found): entries sharing a
        name (one storm split by hours) count once; public holidays are counted once per
        distinct name they take in 2014-2030 (the years the shipped file covers)."""
        names: dict[str, set[str]] = {}
        for e in self.events:
            names.setdefault(e.category, set()).add(e.name)
        out = {cat: len(n) for cat, n in names.items()}
        if self.spec.holidays is not None:
            names = {n for n, *_ in expand_holidays(self.spec.holidays, 2014, 2030)}
            out["holiday"] = out.get("holiday", 0) + len(
                {n.removesuffix(" (observed)") for n in names}
            )
        return dict(sorted(out.items()))

    def occurrences(
        self,
        start: object,
        end: object,
        category: str | Iterable[str] | None = None,
        metric: str | None = None,
        keys: dict[str, object] | None = None,
    ) -> pd.DataFrame:
        """Occurrences overlapping ``[start, end]`` (event days or window; a step from its start on).

        ``category`` keeps one or several categories; ``metric`` and ``keys`` (a
        series' key values) keep the events whose scope covers that series: an
        event with zones applies when one of the key values is among them (a
        series with no keys, the whole city, gets every event).
        Columns: see ``OCCURRENCE_COLUMNS`` (ARCHITECTURE.md, "Calendar").
        """
        lo, hi = _day(start, "start"), _day(end, "end")
        if hi < lo:
            raise InputError(f"end {hi.date()} is before start {lo.date()}")
        rows = self._rows(lo.year - 1, hi.year + 1)
        keep = (rows["window_start"] <= hi) & (
            (rows["window_end"] >= lo) | (rows["shape"] == "step")
        )
        out = rows[keep]
        if category is not None:
            cats = {category} if isinstance(category, str) else set(category)
            unknown = sorted(cats - set(CATEGORIES))
            if unknown:
                raise InputError(
                    f"category: expected one of {', '.join(CATEGORIES)}, got {unknown[0]!r}"
                )
            out = out[out["category"].isin(cats)]
        if metric is not None:
            target = self.canonical_metric(metric)
            out = out[out["metrics"].map(lambda m: not m or target in m).astype(bool)]
        if keys:  # a series without keys is the whole city: every zone's events apply
            values = {str(v) for v in keys.values()}
            out = out[out["zones"].map(lambda z: not z or bool(values & set(z))).astype(bool)]
        out = out.reset_index(drop=True)
        return _for_series(out, metric, self.canonical_metric(metric), keys) if len(out) else out

    # ------------------------------------------------------------------ metric names
    @property
    def metric_aliases(self) -> dict[str, str]:
        """Your metric name -> the calendar's (``metric_aliases`` in the file, or added)."""
        return dict(self.spec.metric_aliases)

    def canonical_metric(self, metric: str | None) -> str | None:
        """The calendar's name for ``metric`` (``pickups`` -> ``trips`` with an alias)."""
        return self.metric_aliases.get(metric, metric) if metric is not None else None

    def with_metric_aliases(self, aliases: dict[str, str]) -> Calendar:
        """A copy where each ``{your metric: calendar metric}`` pair counts as the same metric,
        e.g. ``{"pickups": "trips"}`` so a pickups series gets the curated trips effects."""
        merged = {**self.metric_aliases, **{str(k): str(v) for k, v in aliases.items()}}
        bad = sorted(k for k, v in merged.items() if v in merged or k == v)
        if bad:
            raise InputError(f"metric alias {bad[0]!r}: its target must not be an alias itself")
        spec = replace(self.spec, metric_aliases=tuple(merged.items()))
        return Calendar(spec, self.extra_events, self.weather)

    def _rows(self, first_year: int, last_year: int) -> pd.DataFrame:
        """Every occurrence of the years (cached per year range)."""
        key = (first_year, last_year)
        if key not in self._cache:
            rows = [
                _row(e.name, e.category, s, en, scope, e.source)
                for e in self.events
                for s0, en0 in e.occurrences(first_year, last_year)
                for s, en, scope in e.scope.runs(s0, en0)  # sun-anchored hours: per run of days
            ]
            rows += self._holiday_rows(first_year, last_year)
            frame = pd.DataFrame(rows, columns=list(OCCURRENCE_COLUMNS))
            for col in ("start", "end", "window_start", "window_end"):
                frame[col] = pd.to_datetime(frame[col])
            self._cache[key] = frame.sort_values(["start", "name"], kind="stable").reset_index(
                drop=True
            )
        return self._cache[key]

    def _holiday_rows(self, first_year: int, last_year: int) -> list[dict]:
        src = self.spec.holidays
        if src is None:
            return []
        source = src.source or HOLIDAY_SOURCE.format(
            country=src.country,
            subdiv=f"/{src.subdiv}" if src.subdiv else "",
            observed="included" if src.observed else "not included",
        )
        return [
            _row(name, "holiday", day, day, run, source)
            for name, day, scope, _ in expand_holidays(src, first_year, last_year)
            for _, _, run in scope.runs(day, day)
        ]

    def __repr__(self) -> str:
        return f"Calendar({self.path!r}, {len(self.events)} events, holidays={self.spec.holidays is not None})"


def _row(name: str, category: str, start: dt.date, end: dt.date, scope: Scope, source: str) -> dict:
    w = scope.window
    return {
        "name": name,
        "category": category,
        "start": pd.Timestamp(start),
        "end": pd.Timestamp(end),
        "window_start": pd.Timestamp(start - dt.timedelta(days=w.before)),
        "window_end": pd.Timestamp(end + dt.timedelta(days=w.after)),
        "hours": scope.hours,
        "metrics": scope.metrics,
        "zones": scope.zones,
        "effect": dict(scope.effect),
        "shape": scope.shape,
        "source": source,
        "window_effect": dict(scope.window_effect),
        "by_zone": scope.by_zone,
        "by_hours": {h: dict(e.effect) for e in scope.by_hours for h in e.hours},
        "spread": fill_spread(dict(scope.effect), dict(scope.spread)),
        "window_spread": fill_spread(dict(scope.window_effect), dict(scope.window_spread)),
        "hours_like": scope.hours_like,
    }


def _for_series(
    occ: pd.DataFrame, metric: str | None, target: str | None, keys: dict[str, object] | None
) -> pd.DataFrame:
    """Occurrences as one series sees them: its zone's effects, and its metric name.

    With ``keys``, ``effect``/``window_effect`` and their ``spread``/``window_spread``
    become those of the series' zone (``by_zone``, see :func:`.records.zone_effects`);
    when ``metric`` is an alias of ``target``, the effects and spreads (``by_hours``
    too) and ``metrics`` also list it under its own name.
    """
    out = occ.copy()
    if keys:
        pairs = [
            zone_effects(tuple(e.items()), tuple(w.items()), bz, keys.values())
            for e, w, bz in zip(out["effect"], out["window_effect"], out["by_zone"], strict=True)
        ]
        spreads = [
            zone_spreads(tuple(s.items()), tuple(w.items()), bz, keys.values())
            for s, w, bz in zip(out["spread"], out["window_spread"], out["by_zone"], strict=True)
        ]
        out["effect"] = [dict(e) for e, _ in pairs]
        out["window_effect"] = [dict(w) for _, w in pairs]
        out["spread"] = [
            fill_spread(dict(e), dict(s)) for (e, _), (s, _) in zip(pairs, spreads, strict=True)
        ]
        out["window_spread"] = [
            fill_spread(dict(w), dict(s)) for (_, w), (_, s) in zip(pairs, spreads, strict=True)
        ]
    if metric is not None and target != metric:
        for col in ("effect", "window_effect", "spread", "window_spread"):
            out[col] = [{**d, metric: d[target]} if target in d else d for d in out[col]]
        out["metrics"] = [(*m, metric) if target in m else m for m in out["metrics"]]
        out["by_hours"] = [
            {h: ({**d, metric: d[target]} if target in d else d) for h, d in bh.items()}
            for bh in out["by_hours"]
        ]
    return out


def _day(value: object, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"{what}: expected a date YYYY-MM-DD, got {value!r}") from None
    if ts is pd.NaT:
        raise InputError(f"{what}: expected a date YYYY-MM-DD, got {value!r}")
    ts = to_wall_clock(ts)
    if not FIRST_DAY <= ts <= LAST_DAY:  # occurrences are expanded a year either side
        raise InputError(
            f"{what}: expected a date from {FIRST_DAY.date()} to {LAST_DAY.date()}, got {ts.date()}"
        )
    return ts.normalize()


#: the days the calendar answers for (pandas timestamps end in 2262; rules expand a year around)
FIRST_DAY, LAST_DAY = pd.Timestamp("1800-01-01"), pd.Timestamp("2200-12-31 23:59:59")


def _utf8(data: bytes, file: str) -> str:
    """The file's text; a byte that is not UTF-8 is an error naming its line and column."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise CalendarError(
            [
                f"{file}:{line}: (file): expected UTF-8 text, got the byte "
                f"0x{data[e.start]:02x} at column {column} (save the file as UTF-8)"
            ]
        ) from None


def load_calendar(
    option: str | os.PathLike | Calendar | None,
    weather: str | os.PathLike | None = None,
    weather_forecast: str | os.PathLike | None = None,
) -> Calendar:
    """What ``--calendar``/``--weather``/``--weather-forecast`` mean: None = shipped,
    ``none`` = empty, a Calendar as it is, else a path; the observed weather and the
    weather forecast are applied when given."""
    cal = option if hasattr(option, "occurrences") else Calendar.load(option)
    cal = cal.with_weather(weather) if weather else cal
    return cal.with_weather_forecast(weather_forecast) if weather_forecast else cal


__all__ = ["Calendar", "load_calendar", "default_calendar_path", "OCCURRENCE_COLUMNS"]
