"""Which calendar events explain an incident, and what they expected."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

#: an incident is "larger than" an event's effect when it exceeds it by this factor
#: and by at least this many percentage points.
LARGER_FACTOR = 1.25

LARGER_MIN_PP = 10.0


def _as_tuple(v: Any) -> tuple:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ()
    if isinstance(v, str):
        return tuple(s for s in v.split(";") if s) if v else ()
    return tuple(v)


def in_scope(occ: pd.Series, metric: str, keys: dict[str, str]) -> bool:
    """Whether an occurrence applies to the series (metric, and zone = any key value).

    The calendar's rule: a series without keys (the whole city) gets every zone's events.
    """
    metrics = _as_tuple(occ.get("metrics"))
    zones = _as_tuple(occ.get("zones"))
    if metrics and metric not in metrics:
        return False
    return not zones or not keys or bool(set(zones) & {str(v) for v in keys.values()})


def overlaps(occ: pd.Series, stamps: Iterable[pd.Timestamp], freq: str) -> bool:
    """Whether any flagged timestamp falls on the occurrence's days/window and hours."""
    w0 = pd.Timestamp(occ["window_start"]).normalize()
    w1 = pd.Timestamp(occ["window_end"]).normalize()
    hours = {int(h) for h in _as_tuple(occ.get("hours"))}
    for ts in stamps:
        if not w0 <= ts.normalize() <= w1:
            continue
        if freq != "h" or not hours or ts.hour in hours:
            return True
    return False


def effect_note(name: str, effect: Any, metric: str, deviation_pct: float) -> str:
    """A note when the incident is larger than, or opposite to, the event's curated effect."""
    if not isinstance(effect, dict) or metric not in effect or not np.isfinite(deviation_pct):
        return ""
    eff = 100.0 * float(effect[metric])
    if eff == 0:
        return ""
    if np.sign(eff) != np.sign(deviation_pct):
        return f"{name}: opposite to its expected effect ({deviation_pct:+.0f}% vs {eff:+.0f}%)"
    if abs(deviation_pct) > LARGER_FACTOR * abs(eff) and abs(deviation_pct - eff) >= LARGER_MIN_PP:
        return f"{name}: larger than expected ({deviation_pct:+.0f}% vs {eff:+.0f}%)"
    return ""


def explain(
    incidents: pd.DataFrame, occurrences: pd.DataFrame, keys: dict[str, str], freq: str = "h"
) -> pd.DataFrame:
    """Fill ``explained_by`` (';'-joined overlapping event names) and ``note`` for one series."""
    out = incidents.copy()
    if out.empty or occurrences is None or occurrences.empty:
        return out
    for i, inc in out.iterrows():
        names, notes = [], []
        for _, occ in occurrences.iterrows():
            if occ["name"] in names or not in_scope(occ, inc["metric"], keys):
                continue
            if overlaps(occ, inc["_flagged"], freq):
                names.append(occ["name"])
                note = effect_note(
                    occ["name"], occ.get("effect"), inc["metric"], inc["deviation_pct"]
                )
                if note:
                    notes.append(note)
        out.at[i, "explained_by"] = ";".join(names)
        out.at[i, "note"] = "; ".join(notes)
    return out
