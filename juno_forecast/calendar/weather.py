"""Observed weather -> daily observations -> weather events by the calendar's thresholds.

Two inputs are understood:

* a NOAA GHCN-Daily style CSV: ``DATE, PRCP, SNOW, SNWD, TMAX, TMIN`` (extra
  columns such as STATION are ignored; several stations are averaged per day);
* an hourly table (e.g. weather joined to ride counts, with rows repeated per
  zone): its time column and the columns meaning PRCP (precipitation in the
  hour), SNOW (snowfall in the hour), SNWD (snow depth) and TEMP come from
  arguments, the calendar's ``weather.hourly`` section, or are the file's own
  ``DATE``/``ds``, ``PRCP``, ``SNOW``, ``SNWD``, ``TEMP`` columns. Hours are
  reduced to days: PRCP and SNOW summed, SNWD the maximum, TMAX/TMIN from TEMP;
  the hours are kept too, for the regressors of hourly models (the weather of
  the hour: an evening storm is not a dawn one).

Thresholds are compared in the file's own units (GHCN-Daily "standard" units:
inches and degrees Fahrenheit). Precipitation thresholds (rain) see the rain
only: the day's PRCP less the water of its snowfall (SNOW / ``snow_ratio``),
and never fire on a day a snowfall threshold fires (a snow day is not also a
heavy-rain day).

:class:`WeatherKnowledge` holds the observed days and, optionally, a weather
forecast of the days ahead (and their hours, from hourly tables). A forecast
made at a cutoff sees only :meth:`WeatherKnowledge.until` the cutoff: the days
(and hours) observed before it and the forecast after it, or no weather at all when no forecast reaches past it (the
weather of the history alone then cannot move a forecast, so a backtest gives
the same numbers with or without a weather file).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .records import HOURLY_MEANINGS, WEATHER_FIELDS, Event, HourlyColumns, Threshold

DAILY_FIELDS = WEATHER_FIELDS


def read_weather(
    path: str | os.PathLike,
    hourly: HourlyColumns | None = None,
    time_col: str | None = None,
    columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Daily observations (index: midnight Timestamps; columns PRCP SNOW SNWD TMAX TMIN).

    A file whose ``DATE`` column holds days is GHCN-Daily. Anything else is an
    hourly table: its time column and columns come from ``time_col``/``columns``
    when given, else from ``hourly`` (the calendar's section) when the file has
    them, else the file's own ``DATE``/``ds`` and ``PRCP SNOW SNWD TEMP`` columns.
    """
    return read_weather_hours(path, hourly, time_col, columns)[0]


def read_weather_hours(
    path: str | os.PathLike,
    hourly: HourlyColumns | None = None,
    time_col: str | None = None,
    columns: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``(days, hours)``: :func:`read_weather`'s days and, for an hourly table, its hours.

    ``hours`` (None for a GHCN-Daily file): one row per clock hour (rows repeated
    per zone averaged), columns the meanings the file maps (PRCP SNOW SNWD TEMP),
    in the file's units. Hourly models take the weather of the hour from it.
    """
    path = Path(path)
    raw = _read_csv(path)
    if time_col is None and "DATE" in raw.columns and _holds_days(raw["DATE"]):
        return _daily_from_ghcn(raw, path), None
    hourly = hourly or HourlyColumns()
    tcol, fmt, mapping = _hourly_layout(raw, hourly, time_col, columns)
    hours = _hours(raw, path, tcol, fmt, mapping)
    return _days_from_hours(hours, hourly.snow_ratio, hourly.freezing), hours


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"{path}: weather file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a readable CSV ({str(e).splitlines()[0]})") from None


def _holds_days(values: pd.Series) -> bool:
    """True when every parsable value is a date at midnight (a daily file)."""
    ts = pd.to_datetime(values, errors="coerce")
    ts = ts[ts.notna()]
    return ts.empty or bool((ts == ts.dt.normalize()).all())


def _hourly_layout(
    raw: pd.DataFrame,
    hourly: HourlyColumns,
    time_col: str | None,
    columns: dict[str, str] | None,
) -> tuple[str, str | None, dict[str, str]]:
    """(time column, its format, meaning -> column) for an hourly table."""
    configured = dict(hourly.columns)
    use_config = bool(configured) and all(c in raw.columns for c in configured.values())
    if columns:
        mapping = {**(configured if use_config else {}), **columns}
    elif use_config:
        mapping = configured
    else:
        mapping = {m: m for m in HOURLY_MEANINGS if m in raw.columns}
    if time_col:
        return time_col, None, mapping
    if hourly.time_col in raw.columns:
        return hourly.time_col, hourly.time_format, mapping
    fallback = next((c for c in ("DATE", "ds") if c in raw.columns), hourly.time_col)
    return fallback, None, mapping


#: meanings that are amounts (precipitation, snowfall, snow depth): never below 0
AMOUNTS = ("PRCP", "SNOW", "SNWD")


def _where(row: int) -> str:
    """A data row (0-based) as the file's line (the header is line 1)."""
    return f"data row {row + 1} (line {row + 2})"


def _numeric(raw: pd.DataFrame, col: str, path: Path, meaning: str | None = None) -> pd.Series:
    """Column ``col`` as numbers (blank: missing); an amount (:data:`AMOUNTS`) is >= 0."""
    values = pd.to_numeric(raw[col], errors="coerce")
    bad = values.isna() & raw[col].notna() & (raw[col].astype(str).str.strip() != "")
    expected = "numbers"
    if (meaning or col) in AMOUNTS and not bad.any():
        bad, expected = (values < 0).fillna(False), "amounts >= 0"
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = raw[col].iloc[row]
        value = value.item() if isinstance(value, np.generic) else value  # -0.2, not np.float64
        raise InputError(
            f"{path}: column {col}: expected {expected}, got {value!r} on {_where(row)}"
        )
    return values


def _daily_from_ghcn(raw: pd.DataFrame, path: Path) -> pd.DataFrame:
    present = [c for c in DAILY_FIELDS if c in raw.columns]
    if not present:
        raise InputError(
            f"{path}: expected GHCN-Daily columns (some of {', '.join(DAILY_FIELDS)}) "
            f"besides DATE, got {', '.join(map(str, raw.columns))}"
        )
    days = pd.to_datetime(raw["DATE"], errors="coerce")
    if days.isna().any():
        row = int(np.flatnonzero(days.isna().to_numpy())[0])
        raise InputError(
            f"{path}: column DATE: expected dates, got {raw['DATE'].iloc[row]!r} on {_where(row)}"
        )
    frame = pd.DataFrame({c: _numeric(raw, c, path) for c in present})
    frame["day"] = days.dt.normalize()
    daily = frame.groupby("day").mean()
    return daily.reindex(columns=list(DAILY_FIELDS))


def _hours(
    raw: pd.DataFrame,
    path: Path,
    time_col: str,
    time_format: str | None,
    mapping: dict[str, str],
) -> pd.DataFrame:
    """An hourly table's values per clock hour (meanings as columns, sorted hours as index)."""
    _check_hourly_columns(raw, path, time_col, mapping)
    ts = _timestamps(raw, path, time_col, time_format)
    hours = pd.DataFrame({m: _numeric(raw, c, path, m) for m, c in mapping.items()})
    hours["ts"] = ts.dt.floor("h")
    return hours.groupby("ts").mean()  # rows repeated per zone -> one value per hour


def _check_hourly_columns(
    raw: pd.DataFrame, path: Path, time_col: str, mapping: dict[str, str]
) -> None:
    missing = [c for c in [time_col, *mapping.values()] if c not in raw.columns]
    if not missing and mapping:
        return
    what = (
        f"columns {', '.join(missing)} (named in the calendar's weather.hourly section or the options)"
        if missing
        else "a mapping of PRCP/SNOW/SNWD/TEMP to its columns"
    )
    have = ", ".join(map(str, raw.columns))
    raise InputError(f"{path}: hourly weather: expected {what}; the file has {have}")


def _timestamps(raw: pd.DataFrame, path: Path, time_col: str, time_format: str | None) -> pd.Series:
    ts = pd.to_datetime(raw[time_col], format=time_format, errors="coerce")
    if ts.isna().any():
        row = int(np.flatnonzero(ts.isna().to_numpy())[0])
        fmt = f" as {time_format}" if time_format else ""
        raise InputError(
            f"{path}: column {time_col}: expected timestamps{fmt}, "
            f"got {raw[time_col].iloc[row]!r} on {_where(row)}"
        )
    return ts


def _days_from_hours(hours: pd.DataFrame, snow_ratio: float, freezing: float) -> pd.DataFrame:
    """Hourly PRCP/SNOW/SNWD/TEMP -> daily GHCN meanings (sums, max depth, high/low)."""
    g = hours.groupby(hours.index.normalize())
    daily = pd.DataFrame(index=g.size().index)
    if "PRCP" in hours:
        daily["PRCP"] = g["PRCP"].sum(min_count=1)
    if "SNWD" in hours:
        daily["SNWD"] = g["SNWD"].max()
    if "TEMP" in hours:
        daily["TMAX"], daily["TMIN"] = g["TEMP"].max(), g["TEMP"].min()
    if "SNOW" in hours:
        daily["SNOW"] = g["SNOW"].sum(min_count=1)
    else:
        daily["SNOW"] = _estimated_snowfall(hours, daily, snow_ratio, freezing)
    daily.index.name = "day"
    return daily.reindex(columns=list(DAILY_FIELDS))


def _estimated_snowfall(
    hours: pd.DataFrame, daily: pd.DataFrame, ratio: float, freezing: float
) -> pd.Series:
    """Snowfall per day where none is measured: the larger of the rise of the snow
    depth since the day before and ``ratio`` x the precipitation at or below freezing."""
    parts = []
    if "SNWD" in daily:
        parts.append(daily["SNWD"].diff().clip(lower=0).fillna(0))
    if "PRCP" in hours and "TEMP" in hours:
        frozen = hours["PRCP"].where(hours["TEMP"] <= freezing, 0.0)
        parts.append(frozen.groupby(hours.index.normalize()).sum().reindex(daily.index) * ratio)
    if not parts:
        return pd.Series(np.nan, index=daily.index)
    return pd.concat(parts, axis=1).max(axis=1)


def weather_events(
    daily: pd.DataFrame,
    thresholds: tuple[Threshold, ...],
    label: str = "observed weather",
    snow_ratio: float = 10.0,
) -> list[Event]:
    """One weather event per run of consecutive days crossing a threshold.

    Days next to a run join it while they cross the threshold's milder
    ``extend`` limit. ``label`` (the file name) goes into each event's source.
    PRCP thresholds see the rain only (:func:`rain_only`): precipitation that
    fell as snow does not make a heavy-rain day.
    """
    events = []
    rain = rain_only(daily, thresholds, snow_ratio)
    for t in thresholds:
        if t.field not in daily or daily[t.field].isna().all():
            continue
        values = (rain if t.field == "PRCP" else daily[t.field]).asfreq("D")
        for start, end in _runs(values, t):
            peak = (
                values.loc[start:end].max()
                if t.at_least is not None
                else values.loc[start:end].min()
            )
            events.append(
                Event(
                    name=t.name,
                    category="weather",
                    spans=((start.date(), end.date()),),
                    scope=t.scope,
                    source=f"{label} ({t.describe()})",
                    notes=f"{t.field} {'peak' if t.at_least is not None else 'low'} {peak:g}",
                    line=t.line,
                )
            )
    return events


def _runs(values: pd.Series, t: Threshold) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    hit = values.map(t.hits).to_numpy(dtype=bool)
    join = values.map(t.joins).to_numpy(dtype=bool) | hit
    active = hit.copy()
    for i in np.flatnonzero(hit):  # grow each hit both ways over joining days
        j = i - 1
        while j >= 0 and join[j] and not active[j]:
            active[j] = True
            j -= 1
        j = i + 1
        while j < len(active) and join[j] and not active[j]:
            active[j] = True
            j += 1
    runs, start = [], None
    idx = values.index
    for i, on in enumerate(active):
        if on and start is None:
            start = i
        if not on and start is not None:
            runs.append((idx[start], idx[i - 1]))
            start = None
    if start is not None:
        runs.append((idx[start], idx[len(active) - 1]))
    return runs


def rain_only(
    daily: pd.DataFrame, thresholds: tuple[Threshold, ...], snow_ratio: float = 10.0
) -> pd.Series:
    """The day's precipitation that fell as rain, what PRCP thresholds are compared with.

    PRCP less the water of the day's snowfall (SNOW / ``snow_ratio``, at least 0),
    and missing (no rain event) on the days a SNOW threshold fires: on 5 March
    2015 0.82 in of precipitation came as 4.2 in of snow, a snowstorm, not heavy rain.
    """
    prcp = daily["PRCP"] if "PRCP" in daily else pd.Series(np.nan, index=daily.index)
    if "SNOW" not in daily:
        return prcp
    snow = daily["SNOW"]
    rain = (prcp - snow.fillna(0.0) / snow_ratio).clip(lower=0.0).where(prcp.notna())
    snow_day = np.zeros(len(daily), dtype=bool)
    for t in thresholds:
        if t.field == "SNOW":
            snow_day |= snow.map(t.hits).to_numpy(dtype=bool)
    return rain.mask(snow_day)


#: the weather the models take as numbers: name -> (the day's value from the daily frame,
#: the hourly meaning, the day's value's share of one hour). At daily grain a day's value;
#: at hourly grain the hour's own value where an hourly table gives it, else the day's
#: value x the share (a day's precipitation spread evenly: 1/24 of it per hour; a day's
#: mean temperature at each hour): the same units in the history and ahead.
#: Snow depth is left out: measured on the 2015 NYC pickups (benchmarks/weather.py), as a
#: regressor it made the daily ols errors on wet days 4.3x larger (weeks of 8-19 in of
#: depth in February-March, far outside what January taught; log or 0/1 forms did not help).
REGRESSORS: dict[str, tuple[Callable[[pd.DataFrame], pd.Series], str, float]] = {
    "weather: temperature": (lambda d: (d["TMAX"] + d["TMIN"]) / 2.0, "TEMP", 1.0),
    "weather: precipitation": (lambda d: d["PRCP"], "PRCP", 1.0 / 24.0),
}


def _known_or_usual(values: pd.Series, at: pd.DatetimeIndex) -> np.ndarray:
    """``values`` at ``at``; where unknown, the mean of the calendar month over the known
    values, else of all of them: the usual weather, not a made-up storm or heat wave."""
    filled = values.reindex(at).to_numpy(dtype=float)
    usual = values.groupby(values.index.month).mean().reindex(at.month).fillna(values.mean())
    return np.where(np.isnan(filled), usual.to_numpy(dtype=float), filled)


def _hour_values(hours: pd.DataFrame | None, meaning: str) -> pd.Series:
    """One hourly meaning's known values (empty when the table lacks it)."""
    if hours is None or meaning not in hours:
        return pd.Series(dtype=float)
    return hours[meaning].astype(float).dropna()


@dataclass(frozen=True)
class WeatherKnowledge:
    """The weather a calendar knows: observed days and a forecast of days ahead.

    ``observed`` and ``forecast`` are daily frames as :func:`read_weather` returns
    them; ``*_hours`` their hourly tables (:func:`read_weather_hours`; None for a
    daily file); ``*_label`` name their files in the events' ``source``. On a day
    in both, the observation wins (an hour in both: the observed hour).
    """

    observed: pd.DataFrame | None = None
    observed_label: str = ""
    forecast: pd.DataFrame | None = None
    forecast_label: str = ""
    observed_hours: pd.DataFrame | None = None
    forecast_hours: pd.DataFrame | None = None

    def with_observed(
        self, daily: pd.DataFrame, label: str, hours: pd.DataFrame | None = None
    ) -> WeatherKnowledge:
        """A copy with these observations (and their hours, from an hourly table)."""
        return replace(self, observed=daily, observed_label=label, observed_hours=hours)

    def with_forecast(
        self, daily: pd.DataFrame, label: str, hours: pd.DataFrame | None = None
    ) -> WeatherKnowledge:
        """A copy with this forecast of the days ahead (and its hours)."""
        return replace(self, forecast=daily, forecast_label=label, forecast_hours=hours)

    def parts(self) -> list[tuple[pd.DataFrame, str]]:
        """``(days, label)``: the observed days, then the forecast days not observed."""
        out = []
        if self.observed is not None:
            out.append((self.observed, f"observed weather {self.observed_label}"))
        if self.forecast is not None:
            fc = self.forecast
            if self.observed is not None:
                fc = fc[~fc.index.isin(self.observed.index)]
            out.append((fc, f"weather forecast {self.forecast_label}"))
        return [(d, label) for d, label in out if len(d)]

    def daily(self) -> pd.DataFrame:
        """Every known day, observed or forecast, in date order."""
        parts = [d for d, _ in self.parts()]
        if not parts:
            return pd.DataFrame(columns=list(DAILY_FIELDS), dtype=float)
        return pd.concat(parts).sort_index()

    def hours(self) -> pd.DataFrame | None:
        """Every known hour of the hourly tables (observed, then forecast hours not
        observed), in time order; None when neither is hourly."""
        parts = [h for h in (self.observed_hours, self.forecast_hours) if h is not None]
        if not parts:
            return None
        if len(parts) == 2:
            parts[1] = parts[1][~parts[1].index.isin(parts[0].index)]
        return pd.concat(parts).sort_index()

    def events(self, thresholds: tuple[Threshold, ...], snow_ratio: float) -> list[Event]:
        """The weather events of the known days (sources name the observation or the forecast)."""
        return [
            e
            for daily, label in self.parts()
            for e in weather_events(daily, thresholds, label, snow_ratio)
        ]

    def until(self, day: pd.Timestamp) -> WeatherKnowledge | None:
        """What a forecast made with the data before ``day`` knows of the weather.

        The days (and hours) observed before ``day`` and the forecast from ``day``
        on; None (no weather at all) when no forecast reaches ``day``: the weather
        ahead is unknown, and the past weather alone does not move a forecast.
        """
        day = pd.Timestamp(day).normalize()
        if self.forecast is None or not (self.forecast.index >= day).any():
            return None

        def before(f: pd.DataFrame | None) -> pd.DataFrame | None:
            return None if f is None else f[f.index < day]

        def after(f: pd.DataFrame | None) -> pd.DataFrame | None:
            return None if f is None else f[f.index >= day]

        return WeatherKnowledge(
            before(self.observed),
            self.observed_label,
            after(self.forecast),
            self.forecast_label,
            observed_hours=before(self.observed_hours),
            forecast_hours=after(self.forecast_hours),
        )

    def regressors(self, index: pd.DatetimeIndex, freq: str = "D") -> pd.DataFrame:
        """:data:`REGRESSORS` on ``index``, at grain ``freq``.

        Daily (``D``): the day's value. Hourly (``h``): the hour's value where an
        hourly table gives it, else the day's value x its share of an hour (see
        :data:`REGRESSORS`). A day with no known value (past the forecast, a gap)
        gets the usual weather of its calendar month over the known days.
        """
        index = pd.DatetimeIndex(index)
        daily, hours = self.daily(), self.hours()
        days = index.normalize()
        out = {}
        for name, (make, meaning, share) in REGRESSORS.items():
            values = make(daily).astype(float).dropna()
            if values.empty:
                continue
            column = _known_or_usual(values, days)
            if freq == "h":
                column = column * share
                by_hour = _hour_values(hours, meaning).reindex(index).to_numpy(dtype=float)
                column = np.where(np.isnan(by_hour), column, by_hour)
            out[name] = column
        return pd.DataFrame(out, index=index)

    def covers(self, index: pd.DatetimeIndex) -> np.ndarray:
        """Whether the weather of each timestamp's day is known (observed or forecast)."""
        known = self.daily().dropna(how="all").index
        return np.asarray(pd.DatetimeIndex(index).normalize().isin(known))


#: How uncertain the weather makes a day when no forecast covers it, per calendar month:
#: the standard deviation of the weather's relative effect on the metrics the thresholds
#: move (``trips``). Measured by benchmarks/weather.py on the 2015 NYC pickups: the spread
#: over borough-days of log(forecast with the observed weather / forecast without) of daily
#: ols. Only the snowy months (December-March) widen: from April on the measured spread is
#: small and the recent weeks the ranges are calibrated on hold such weather already.
#: December is not in the data; it takes the smallest of January-March.
UNKNOWN_WEATHER_SPREAD: dict[int, float] = {12: 0.16, 1: 0.19, 2: 0.17, 3: 0.16}


def unknown_weather_spread(
    weather: WeatherKnowledge | None,
    thresholds: tuple[Threshold, ...],
    metric: str | None,
    index: pd.DatetimeIndex,
) -> np.ndarray:
    """The relative spread the unknown weather adds at each timestamp of ``index``.

    :data:`UNKNOWN_WEATHER_SPREAD` of the month on days whose weather is not known
    (no observation, no forecast); 0 on known days, and for a ``metric`` no
    weather threshold of the calendar has an effect on.
    """
    index = pd.DatetimeIndex(index)
    moved = {m for t in thresholds for m, _ in t.scope.effect}
    if metric is None or metric not in moved:
        return np.zeros(len(index))
    spread = np.array([UNKNOWN_WEATHER_SPREAD.get(m, 0.0) for m in index.month])
    if weather is not None:
        spread[weather.covers(index)] = 0.0
    return spread
