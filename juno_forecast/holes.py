"""Runs of missing steps in a series, and the long holes that are history lost, not zeros.

A count series (``agg="sum"`` with ``fill="auto"``) reads a timestamp absent
inside its span as "nothing happened": a zero. That is right for short runs
(the borough ``NA`` of the Uber file has no rows for up to 15 night hours in a
row) but not for a long hole: months without a single row are a feed that
stopped, and thousands of invented zeros would pull the forecast down and
widen its ranges. A run of absent steps longer than :data:`LONG_HOLE` (a day
of hours, a week of days) is therefore a *hole*: the series keeps only the
history after its last hole when that is long enough to forecast (the dropped
span is named in a note and a warning), and is skipped with the hole's dates
otherwise. ``fill="zero"`` says that absent rows are zeros however long the
run, and keeps them all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: absent steps in a row that are still zeros: a day of hours, a week of days; more is a hole
LONG_HOLE = {"h": 24, "D": 7}
UNIT = {"h": "hour", "D": "day"}
_WHAT = {"h": "a day", "D": "a week"}


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start positions, lengths) of the runs of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, dtype=int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return starts, ends - starts


@dataclass(frozen=True)
class Hole:
    """A run of absent steps longer than :data:`LONG_HOLE`: ``first``..``last`` inclusive."""

    first: pd.Timestamp
    last: pd.Timestamp
    steps: int
    freq: str

    def describe(self) -> str:
        """``no rows for 2159 hours from A to B (more than a day in a row: a hole, not zeros)``."""
        return (
            f"no rows for {self.steps} {UNIT[self.freq]}s from {self.first} to {self.last} "
            f"(more than {_WHAT[self.freq]} in a row: a hole, not zeros)"
        )


def last_hole(absent: np.ndarray, grid: pd.DatetimeIndex, freq: str) -> Hole | None:
    """The last run of ``absent`` steps longer than ``LONG_HOLE[freq]``, if any."""
    starts, lengths = runs(absent)
    long = np.flatnonzero(lengths > LONG_HOLE[freq])
    if not long.size:
        return None
    i = long[-1]
    return Hole(grid[starts[i]], grid[starts[i] + lengths[i] - 1], int(lengths[i]), freq)
