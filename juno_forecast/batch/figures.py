"""The nightly report: per-series figures handed to :func:`juno_forecast.report.report`.

Each figure shows a series' last days of actuals against the detection band of
the checked day, then the expected path and 80/95% ranges of the coming
horizon, with calendar events shaded and incidents marked. Plotting costs
about a fifth of a second per series, so only the most useful ones are drawn
(``MAX_FIGURES``): series with unexplained incidents first, then explained
ones, then, when room is left, the first series in name order. File names of
figures are sanitized by the report module; data values never become paths.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..detect.incidents import not_explained

MAX_FIGURES = 8
BANDS = ["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]


def pick_series(records: list[dict[str, Any]], incidents: pd.DataFrame) -> list[str]:
    """Labels of the series to draw: unexplained incidents, explained ones, then the rest."""
    ok = [r["series"] for r in records if r["status"] in ("ok", "short")]
    ranked: list[str] = []
    if len(incidents):
        failing = not_explained(incidents)
        for mask in (failing, ~failing):
            ranked += [s for s in incidents.loc[mask, "series"] if s not in ranked]
    ranked += [s for s in sorted(ok) if s not in ranked]
    return ranked[:MAX_FIGURES]


def status_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """``series, status, note`` of the series that did not run as usual, stale ones first.

    A stale series "went silent since" its last data (a deviation operations
    must see); a short one was forecast from a short history; a failed one says why.
    """
    order = {"stale": 0, "failed": 1, "short": 2}
    rows = []
    for r in sorted((r for r in records if r["status"] in order), key=lambda r: order[r["status"]]):
        if r["status"] == "stale":
            note = f"went silent since {r.get('last_data', '?')}"
        else:
            note = str(r.get("cause") or "")
        rows.append({"series": r["series"], "status": r["status"], "note": note})
    return pd.DataFrame(rows, columns=["series", "status", "note"])


def _band_frame(result: dict[str, Any], level: float) -> pd.DataFrame:
    """The checked day's detection band followed by the forecast.

    Detection gives one band (at the ``detect.level``); it is drawn as the 95%
    range when the level is 0.9 or more, else as the 80% range, the other left empty.
    """
    pts = result["points"]  # arrays: ds, actual, expected, lo, hi (see runner._points)
    # explicit dtypes: an unchecked series' empty points must not turn the bands into objects
    day = pd.DataFrame(
        {"ds": pd.DatetimeIndex(pts["ds"]), "yhat": np.asarray(pts["expected"], dtype=float)}
    )
    drawn = "95" if level >= 0.9 else "80"
    for width in ("80", "95"):
        same = width == drawn
        day[f"lo_{width}"] = np.asarray(pts["lo"], dtype=float) if same else np.nan
        day[f"hi_{width}"] = np.asarray(pts["hi"], dtype=float) if same else np.nan
    fc = pd.DataFrame({c: result["forecast"][c] for c in ["ds", *BANDS]})  # arrays of the worker
    return pd.concat([day[["ds", *BANDS]], fc], ignore_index=True)


def series_figure(
    result: dict[str, Any], y: pd.Series, cal: Any, incidents: pd.DataFrame, level: float
) -> Any:
    """One series' figure (a matplotlib Figure)."""
    from ..features import series_occurrences
    from ..plot import plot_forecast

    frame = _band_frame(result, level)
    lo, hi = frame["ds"].min(), frame["ds"].max()
    events = series_occurrences(cal, lo, hi, result["metric"], result["keys"])
    title = f"{result['series']}: checked day (detection band), then the forecast"
    return plot_forecast(
        y, frame, events=events, incidents=incidents, title=title, ylabel=result["metric"]
    )


def write_report(
    folder: Path,
    results: dict[str, dict[str, Any]],
    actual: Callable[[str], pd.Series],
    records: list[dict[str, Any]],
    incidents: pd.DataFrame,
    cal: Any,
    title: str,
    level: float = 0.95,
) -> None:
    """``report.html`` and ``report.md`` (+ figure PNGs) in ``folder``.

    ``actual(label)``: the actuals a series' figure shows, asked only for the series drawn.
    """
    import matplotlib.pyplot as plt

    from ..report import report

    figures = {}
    for label in pick_series(records, incidents):
        own = incidents[incidents["series"] == label] if len(incidents) else incidents
        figures[label] = series_figure(results[label], actual(label), cal, own, level)
    table = incidents.drop(columns=["series"], errors="ignore")
    try:
        report(table, figures, folder, title=title, status=status_table(records))
    finally:
        for fig in figures.values():
            plt.close(fig)
