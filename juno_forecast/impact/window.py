"""The incident window: timestamps from what the user wrote, and whether the data can judge it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import InputError
from ..grain import step
from ..inputs import parse_range


def resolve_window(start: Any, end: Any, freq: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ``[start, end]`` as steps of the grid, both inclusive.

    The shared rule of :func:`~juno_forecast.inputs.parse_range`: an ``end``
    written as a date alone (``2015-01-27``) covers that whole day, so
    ``--start 2015-01-26 --end 2015-01-27`` is two full days. Both ends are
    then floored to the grid (the hour, or the day).
    """
    s, e = parse_range(start, end)
    rule = "h" if freq == "h" else "D"
    return s.floor(rule), e.floor(rule)


def fmt_time(ts: pd.Timestamp) -> str:
    """A timestamp for messages: the date alone at midnight, else date and minute."""
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
    window = f"impact window {fmt_time(start)} to {fmt_time(end)}"
    if end < first:
        raise InputError(f"{window} is before the history starts ({span})")
    if start <= first:
        raise InputError(
            f"impact window starts at {fmt_time(start)}, at or before the start of the history "
            f"({span}): there is no history before it to fit the counterfactual on"
        )
    if start > last:
        raise InputError(f"{window} has no data ({span})")
    one = step(freq)
    window_steps = int((end - start) / one) + 1
    history_steps = int((start - first) / one)
    if window_steps > history_steps:
        unit = "hours" if freq == "h" else "days"
        raise InputError(
            f"{window} is {window_steps} {unit} long, longer than the history before it "
            f"({history_steps} {unit} from {fmt_time(first)})"
        )
