"""Calendar occurrences turned into model inputs for one series.

A model sees the calendar as a design matrix on the series' timestamps: one
0/1 column per *pulse* event name (active on its days and window, and only in
its ``hours`` at hourly grain) and one 0/1 column per *step* event name
(active from its start onwards). All occurrences of one name (every year's
Thanksgiving) share one column, so a model learns the effect from earlier
years. The curated ``effect`` of each name for the series' metric is kept
aside as a prior, used by :class:`~juno_forecast.forecast.SeriesForecaster`
when the history holds no occurrence to learn from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

PULSE, STEP = "pulse", "step"


@dataclass
class CalendarFeatures:
    """The calendar as seen by one series on one DatetimeIndex.

    ``X``: one 0/1 float column per event name; ``kinds``: name -> pulse/step;
    ``priors``: name -> curated relative effect on the series' metric (names
    without one are absent); ``events``: the names active at each timestamp,
    ``;``-joined (empty string when none).
    """

    X: pd.DataFrame
    kinds: dict[str, str] = field(default_factory=dict)
    priors: dict[str, float] = field(default_factory=dict)
    events: pd.Series | None = None


def empty_occurrences() -> pd.DataFrame:
    """An occurrences table with no rows (what ``calendar=None`` amounts to)."""
    cols = [
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
    ]
    return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})


def series_occurrences(
    calendar: Any,
    start: pd.Timestamp,
    end: pd.Timestamp,
    metric: str | None = None,
    keys: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Occurrences of ``calendar`` overlapping ``[start, end]`` in the scope of one series.

    ``calendar=None`` means no calendar knowledge: an empty table.
    """
    if calendar is None:
        return empty_occurrences()
    occ = calendar.occurrences(
        pd.Timestamp(start).normalize(),
        pd.Timestamp(end).normalize(),
        metric=metric,
        keys=dict(keys or {}),
    )
    return occ if len(occ) else empty_occurrences()


def _active_mask(
    row: pd.Series, index: pd.DatetimeIndex, days: pd.DatetimeIndex, hourly: bool
) -> np.ndarray:
    """Where one occurrence is active on ``index``: window days (pulse) or start onwards (step)."""
    if row["shape"] == STEP:
        return np.asarray(days >= pd.Timestamp(row["start"]))
    mask = np.asarray(
        (days >= pd.Timestamp(row["window_start"])) & (days <= pd.Timestamp(row["window_end"]))
    )
    hours = tuple(row["hours"] or ())
    if hourly and hours:
        mask &= np.asarray(index.hour.isin(hours))
    return mask


def _label_mask(
    row: pd.Series, index: pd.DatetimeIndex, days: pd.DatetimeIndex, hourly: bool
) -> np.ndarray:
    """Where an occurrence is named in the ``events`` column: a step only on its own days."""
    if row["shape"] == STEP:
        return np.asarray((days >= pd.Timestamp(row["start"])) & (days <= pd.Timestamp(row["end"])))
    return _active_mask(row, index, days, hourly)


def build_features(
    occurrences: pd.DataFrame, index: pd.DatetimeIndex, freq: str = "D", metric: str | None = None
) -> CalendarFeatures:
    """The design matrix, priors and event labels of ``occurrences`` on ``index``.

    ``freq`` is ``"h"`` or ``"D"``; hours-restricted events only narrow their
    columns at hourly grain (at daily grain the whole day counts).
    """
    index = pd.DatetimeIndex(index)
    days = index.normalize()
    hourly = freq == "h"
    columns: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    priors: dict[str, float] = {}
    labels = [[] for _ in range(len(index))]
    for _, row in occurrences.iterrows():
        name = str(row["name"])
        shape = STEP if row.get("shape") == STEP else PULSE
        row = row.copy()
        row["shape"] = shape
        mask = _active_mask(row, index, days, hourly)
        columns[name] = columns.get(name, np.zeros(len(index), dtype=bool)) | mask
        kinds.setdefault(name, shape)
        effect = row.get("effect") or {}
        if metric is not None and isinstance(effect, dict) and metric in effect:
            priors[name] = float(effect[metric])
        for i in np.flatnonzero(_label_mask(row, index, days, hourly)):
            if name not in labels[i]:
                labels[i].append(name)
    X = pd.DataFrame({k: v.astype(float) for k, v in columns.items()}, index=index)
    events = pd.Series([";".join(names) for names in labels], index=index, dtype=object)
    return CalendarFeatures(X=X, kinds=kinds, priors=priors, events=events)


def calendar_features(
    calendar: Any,
    index: pd.DatetimeIndex,
    freq: str = "D",
    metric: str | None = None,
    keys: dict[str, str] | None = None,
    since: pd.Timestamp | None = None,
) -> CalendarFeatures:
    """Features of ``calendar`` for one series on ``index`` (occurrences looked up and built).

    ``since`` widens the look-up backwards (e.g. to the start of the training
    history) so a step that began before ``index`` is still seen as active.
    """
    index = pd.DatetimeIndex(index)
    if len(index) == 0:
        return build_features(empty_occurrences(), index, freq, metric)
    start = min(index.min(), pd.Timestamp(since)) if since is not None else index.min()
    occ = series_occurrences(calendar, start, index.max(), metric=metric, keys=keys)
    return build_features(occ, index, freq, metric)
