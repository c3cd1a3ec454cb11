"""What a user passes, turned into what the core needs: one place for every entry point.

The API, the CLI and the nightly batch all read their data, calendar, weather, model
name, level and time windows through these functions, so a rule (what a bare end date
means, which calendar ``None`` is) is written once. Errors name the argument the way the
command line spells it (``--start``); the library's callers pass their own names.

**Time windows.** A timestamp is naive New York wall-clock time (an aware one is
converted). An *end* given as a bare date (``2026-03-05``) covers that whole day: it
ends at 23:59:59, so hourly data include the 23:00 value and daily data the day itself.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from .errors import InputError
from .grain import to_wall_clock


def parse_timestamp(value: Any, name: str) -> pd.Timestamp:
    """``value`` as a naive New York wall-clock Timestamp, or an InputError naming ``name``."""
    if isinstance(value, pd.Timestamp):
        ts = value
    else:
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError) as e:
            raise InputError(
                f"{name}: expected a date or timestamp like 2015-02-01, got {value!r}"
            ) from e
    if ts is pd.NaT or pd.isna(ts):
        raise InputError(f"{name}: expected a date or timestamp like 2015-02-01, got {value!r}")
    return to_wall_clock(ts)


def parse_range(
    start: Any, end: Any, names: tuple[str, str] = ("--start", "--end")
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Both ends parsed; an end given as a bare date covers that whole day; start <= end."""
    s = parse_timestamp(start, names[0])
    e = parse_timestamp(end, names[1])
    if _is_bare_date(end, e):
        e = e + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    if s > e:
        raise InputError(f"{names[0]} {s} is after {names[1]} {e}")
    return s, e


def _is_bare_date(raw: Any, ts: pd.Timestamp) -> bool:
    return isinstance(raw, str) and len(raw.strip()) <= 10 and ts == ts.normalize()


def check_level(level: float) -> float:
    """The detection level as a float in [0.5, 0.999]."""
    try:
        level = float(level)
    except (TypeError, ValueError) as e:
        raise InputError(f"--level: expected a number between 0.5 and 0.999, got {level!r}") from e
    if not 0.5 <= level <= 0.999:
        raise InputError(f"--level: expected a number between 0.5 and 0.999, got {level}")
    return level


def resolve_dataset(data: Any, **data_kwargs: Any):
    """A :class:`juno_forecast.data.Dataset` from a path, a Dataset or a tidy DataFrame.

    A missing file is reported here (one line naming it); the rest is ``data.as_dataset``.
    """
    from .data import as_dataset

    if isinstance(data, str | os.PathLike) and not os.path.exists(data):
        raise InputError(f"{data}: no such file")
    return as_dataset(data, **data_kwargs)


def resolve_calendar(calendar: Any = None, weather: Any = None, weather_forecast: Any = None):
    """A Calendar: None -> the shipped one, ``"none"`` -> empty, a path -> loaded, a Calendar
    (anything with ``occurrences``) as it is; plus the observed ``weather`` and the
    ``weather_forecast`` of the days ahead. Wrong types and missing files name the argument.
    """
    from .calendar import load_calendar

    if not (calendar is None or isinstance(calendar, str | os.PathLike)) and not hasattr(
        calendar, "occurrences"
    ):
        raise InputError(
            f"calendar: expected a path, 'none' or a Calendar, got {type(calendar).__name__}"
        )
    off = isinstance(calendar, str) and calendar.strip().lower() == "none"
    if isinstance(calendar, str | os.PathLike) and not off and not os.path.exists(calendar):
        raise InputError(f"{calendar}: no such calendar file")
    for name, value in (("weather", weather), ("weather_forecast", weather_forecast)):
        if value is not None and not isinstance(value, str | os.PathLike):
            raise InputError(f"{name}: expected a file path, got {type(value).__name__}")
        if value is not None and not os.path.exists(value):
            raise InputError(f"{value}: no such {name.replace('_', ' ')} file")
    return load_calendar(calendar, weather, weather_forecast)


def check_model(model: Any, flag: str = "--model") -> str:
    """``model`` if it names a registered model, else an InputError."""
    from .models import MODEL_NAMES

    if not isinstance(model, str) or model not in MODEL_NAMES:
        raise InputError(
            f"{flag}: unknown model {model!r}; expected one of {', '.join(MODEL_NAMES)}"
        )
    return model
