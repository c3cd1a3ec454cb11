"""Incidents: runs of flagged points of one series, summarised one row each."""

from __future__ import annotations

import numpy as np
import pandas as pd

INCIDENT_COLUMNS = [
    "metric",
    "start",
    "end",
    "peak_ds",
    "direction",
    "actual",
    "expected",
    "lo",
    "hi",
    "deviation_pct",
    "severity",
    "explanation",
    "explained_by",
    "note",
]

#: a run shorter than ``min_points`` is still an incident when it is this many
#: band half-widths beyond the band at its peak (a real one-hour outage).
EXTREME_SCORE = 3.0


def find_runs(flags: np.ndarray, direction: np.ndarray, max_gap: int = 1) -> list[tuple[int, int]]:
    """(first, last) positions of runs of flagged points of one direction.

    Up to ``max_gap`` unflagged points between two flagged points of the same direction
    are bridged, so a shock that dips back inside the band for an hour stays one incident.
    """
    runs: list[tuple[int, int]] = []
    cur: list[int] | None = None
    for i in np.flatnonzero(flags):
        if cur and direction[i] == direction[cur[1]] and i - cur[1] - 1 <= max_gap:
            cur[1] = i
        else:
            if cur:
                runs.append((cur[0], cur[1]))
            cur = [i, i]
    if cur:
        runs.append((cur[0], cur[1]))
    return runs


def _incident_row(cols: dict[str, np.ndarray], index: pd.DatetimeIndex, direction: str) -> dict:
    """One incident's summary from its points (flagged and bridged): ``cols``, the
    :func:`flag_points` columns of its rows as arrays, and their timestamps ``index``."""
    act, exp = cols["actual"], cols["expected"]
    exp_mean, act_mean = _mean(exp), _mean(act)
    dev_pct = 100.0 * (act_mean - exp_mean) / exp_mean if exp_mean > 0 else np.nan
    return {
        "start": index[0],
        "end": index[-1],
        "peak_ds": index[int(np.nanargmax(np.abs(act - exp)))],
        "direction": direction,
        "actual": round(float(act_mean), 2),
        "expected": round(float(exp_mean), 2),
        "lo": round(float(_mean(cols["lo"])), 2),
        "hi": round(float(_mean(cols["hi"])), 2),
        "deviation_pct": round(float(dev_pct), 1),
        "severity": round(float(np.nansum(cols["score"])), 3),
        "_flagged": tuple(index[cols["flag"]]),
    }


def _mean(x: np.ndarray) -> float:
    """The mean of the values that are not missing, as pandas' ``Series.mean`` takes it (the
    missing ones summed as zeros, over the count of the others; NaN if none)."""
    ok = ~np.isnan(x)
    return float(np.where(ok, x, 0.0).sum() / ok.sum()) if ok.any() else np.nan


def _kept(cols: dict[str, np.ndarray], min_points: int, window_points: int | None) -> bool:
    """Whether a run of flagged points is long, extreme or window-tested enough to report."""
    if cols["flag"].sum() >= min_points or np.nanmax(cols["z"]) >= EXTREME_SCORE:
        return True
    return window_points is not None and int(cols["window"].sum()) >= window_points


#: the :func:`~.flagging.flag_points` columns an incident is summarised from
_ROW_COLUMNS = ("actual", "expected", "lo", "hi", "score", "z", "flag", "window")


#: an incident's explanation columns until :func:`~.explain.explain` fills them
_NOT_YET_EXPLAINED = {"explanation": "unexplained", "explained_by": "", "note": ""}


def build_incidents(
    flagged: pd.DataFrame,
    metric: str,
    keys: dict[str, str] | None = None,
    min_points: int = 1,
    max_gap: int = 1,
    window_points: int | None = None,
) -> pd.DataFrame:
    """Incidents of one series from :func:`flag_points` output.

    Runs with fewer than ``min_points`` flagged points are kept only when their peak is
    beyond ``EXTREME_SCORE`` band half-widths, or when ``window_points`` of their hours
    were flagged by the window test (the release check's 2-hour windows). Columns: keys,
    then ``INCIDENT_COLUMNS`` (``explanation`` "unexplained", ``explained_by`` and
    ``note`` empty until :func:`~.explain.explain`), plus ``_flagged``.
    """
    arrays = {c: flagged[c].to_numpy() for c in (*_ROW_COLUMNS, "direction")}
    rows, _, _ = incident_rows(
        arrays, flagged.index, metric, keys, min_points, max_gap, window_points
    )
    return incident_frame(rows, keys)


def incident_rows(
    flagged: dict[str, np.ndarray],
    index: pd.DatetimeIndex,
    metric: str,
    keys: dict[str, str] | None = None,
    min_points: int = 1,
    max_gap: int = 1,
    window_points: int | None = None,
) -> tuple[list[dict], list[np.ndarray], list[tuple[int, int]]]:
    """:func:`build_incidents` on :func:`~.flagging.flag_arrays` columns at ``index``: the
    rows, each one's flagged positions and its run's (first, last) positions."""
    keys = keys or {}
    arrays = {c: flagged[c] for c in _ROW_COLUMNS}
    direction = flagged["direction"]
    rows, flagged_at, runs = [], [], []
    for i0, i1 in find_runs(arrays["flag"], direction, max_gap):
        cols = {c: a[i0 : i1 + 1] for c, a in arrays.items()}
        if not _kept(cols, min_points, window_points):
            continue
        row = _incident_row(cols, index[i0 : i1 + 1], direction[i0])
        rows.append({**keys, "metric": metric, **row, **_NOT_YET_EXPLAINED})
        flagged_at.append(i0 + np.flatnonzero(cols["flag"]))
        runs.append((i0, i1))
    return rows, flagged_at, runs


def incident_frame(rows: list[dict], keys: dict[str, str] | None = None) -> pd.DataFrame:
    """The incidents table of one series from :func:`incident_rows` (columns: keys, then
    ``INCIDENT_COLUMNS``, then ``_flagged``)."""
    cols = [*(keys or {}), *INCIDENT_COLUMNS, "_flagged"]
    if rows:
        return pd.DataFrame(rows, columns=cols)
    out = pd.DataFrame(columns=[c for c in cols if c not in _NOT_YET_EXPLAINED])
    return out.assign(**_NOT_YET_EXPLAINED)[cols]


#: the order incidents are listed in: what someone must look at first
EXPLANATION_ORDER = {"unexplained": 0, "partly": 1, "explained": 2}


def not_explained(incidents: pd.DataFrame) -> pd.Series:
    """True for the incidents the calendar does not fully explain (unexplained or partly)."""
    if "explanation" not in incidents:
        return pd.Series(True, index=incidents.index)
    return incidents["explanation"].fillna("unexplained").astype(str) != "explained"


def sort_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """Unexplained first, then partly, then explained; each by severity (largest first)."""
    if incidents.empty:
        return incidents.reset_index(drop=True)
    rank = incidents["explanation"].map(EXPLANATION_ORDER).fillna(0)
    order = incidents.assign(_rank=rank)
    order = order.sort_values(["_rank", "severity"], ascending=[True, False], kind="stable")
    return order.drop(columns="_rank").reset_index(drop=True)


def is_filled_gap(pts: pd.DataFrame) -> bool:
    """A lone zero hour: how the loader fills one absent hour of counts; not an incident."""
    return len(pts) == 1 and pts["actual"].iloc[0] == 0 and pts["direction"].iloc[0] == "below"
