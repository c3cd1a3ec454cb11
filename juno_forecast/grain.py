"""The grain of a series: its step, its seasonal cycle and the time zone of its clock.

Every module asks here instead of spelling ``pd.Timedelta(hours=1) if freq == "h" ...``
again. Data are naive New York wall-clock time (see ``data.py``); ``TZ`` is that clock.
"""

from __future__ import annotations

import pandas as pd

#: the wall clock of every timestamp in the package (naive values are read in it)
TZ = "America/New_York"
#: the grains the package knows: hourly and daily
FREQS = ("h", "D")


def step(freq: str) -> pd.Timedelta:
    """The time between two consecutive values: one hour or one day."""
    return pd.Timedelta(hours=1) if freq == "h" else pd.Timedelta(days=1)


def season(freq: str) -> int:
    """Values in one weekly cycle: 168 hours or 7 days."""
    return 168 if freq == "h" else 7


def per_day(freq: str) -> int:
    """Values in one day: 24 hours, or the day itself."""
    return 24 if freq == "h" else 1


def to_wall_clock(ts: pd.Timestamp) -> pd.Timestamp:
    """A timestamp as naive New York wall-clock time (aware values are converted)."""
    return ts.tz_convert(TZ).tz_localize(None) if ts.tzinfo is not None else ts
