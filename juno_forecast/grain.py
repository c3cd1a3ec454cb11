"""The grain of a series: its step, its seasonal cycle and the time zone of its clock.

Every module asks here instead of spelling ``pd.Timedelta(hours=1) if freq == "h" ...``
again. Data are naive New York wall-clock time (see ``data.py``); ``TZ`` is that clock.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the wall clock of every timestamp in the package (naive values are read in it)
TZ = "America/New_York"
#: the grains the package knows: hourly and daily
FREQS = ("h", "D")
#: an hour and a day in nanoseconds: the unit of the int64 timestamps of the array paths
HOUR_NS, DAY_NS = 3_600_000_000_000, 86_400_000_000_000
#: one step of each grain in nanoseconds
STEP_NS = {"h": HOUR_NS, "D": DAY_NS}


def step(freq: str) -> pd.Timedelta:
    """The time between two consecutive values: one hour or one day."""
    return pd.Timedelta(hours=1) if freq == "h" else pd.Timedelta(days=1)


def season(freq: str) -> int:
    """Values in one weekly cycle: 168 hours or 7 days."""
    return 168 if freq == "h" else 7


def per_day(freq: str) -> int:
    """Values in one day: 24 hours, or the day itself."""
    return 24 if freq == "h" else 1


def day_start(t: np.ndarray) -> np.ndarray:
    """Each int64 ns timestamp's day (its midnight), as ``DatetimeIndex.normalize`` gives it."""
    return t - t % DAY_NS


def day_of_week(t: np.ndarray) -> np.ndarray:
    """Monday 0 .. Sunday 6 of int64 nanoseconds (1970-01-01, day 0, was a Thursday)."""
    return (t // DAY_NS + 3) % 7


def hour_of_day(t: np.ndarray) -> np.ndarray:
    """0 .. 23 of int64 nanoseconds (wall clock)."""
    return (t // HOUR_NS) % 24


def to_wall_clock(ts: pd.Timestamp) -> pd.Timestamp:
    """A timestamp as naive New York wall-clock time (aware values are converted)."""
    return ts.tz_convert(TZ).tz_localize(None) if ts.tzinfo is not None else ts
