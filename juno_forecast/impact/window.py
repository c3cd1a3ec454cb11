"""The incident window: timestamps from what the user wrote, and whether the data can judge it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import InputError


def step_offset(freq: str) -> pd.Timedelta:
    """One step of the grid: an hour for ``h``, a day for ``D``."""
    return pd.Timedelta(hours=1) if freq == "h" else pd.Timedelta(days=1)


def _as_timestamp(value: Any, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as e:
        raise InputError(
            f"impact --{what}: expected a timestamp like 2015-01-26 or 2015-01-26T18:00, got {value!r}"
        ) from e  # noqa: E501
    if ts is pd.NaT or pd.isna(ts):
        raise InputError(f"impact --{what}: expected a timestamp, got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("America/New_York").tz_localize(None)
    return ts


def _is_date_only(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value.strip()) <= 10
        and ":" not in value
        and "T" not in value
    )


def resolve_window(start: Any, end: Any, freq: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ``[start, end]`` as timestamps, both inclusive.

    An ``end`` written as a date alone (``2015-01-27``) means the whole day (its
    last step), so ``--start 2015-01-26 --end 2015-01-27`` is two full days.
    """
    s, e = _as_timestamp(start, "start"), _as_timestamp(end, "end")
    if _is_date_only(end) and freq == "h":
        e = e.normalize() + pd.Timedelta(days=1) - step_offset(freq)
    if s > e:
        raise InputError(f"impact window: start {fmt_time(s)} is after end {fmt_time(e)}")
    return s.floor(_floor_rule(freq)), e.floor(_floor_rule(freq))


def _floor_rule(freq: str) -> str:
    return "h" if freq == "h" else "D"


def fmt_time(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if (ts.hour or ts.minute) else ts.strftime("%Y-%m-%d")


def check_window(
    first: pd.Timestamp, last: pd.Timestamp, start: pd.Timestamp, end: pd.Timestamp, freq: str
) -> None:
    """Raise :class:`InputError` for a window the data cannot judge.

    A window before (or starting at) the history's first timestamp leaves nothing
    to fit on; a window past the data has no actuals; a window longer than the
    history before it cannot be backtested even once.
    """
    span = f"the data run from {fmt_time(first)} to {fmt_time(last)}"
    if end < first:
        raise InputError(
            f"impact window {fmt_time(start)} to {fmt_time(end)} is before the history starts ({span})"
        )
    if start <= first:
        raise InputError(
            f"impact window starts at {fmt_time(start)}, at or before the start of the history "
            f"({span}): there is no history before it to fit the counterfactual on"
        )
    if start > last:
        raise InputError(f"impact window {fmt_time(start)} to {fmt_time(end)} has no data ({span})")
    step = step_offset(freq)
    window_steps = int((end - start) / step) + 1
    history_steps = int((start - first) / step)
    if window_steps > history_steps:
        unit = "hours" if freq == "h" else "days"
        raise InputError(
            f"impact window {fmt_time(start)} to {fmt_time(end)} is {window_steps} {unit} long, longer than "
            f"the history before it ({history_steps} {unit} from {fmt_time(first)})"
        )
