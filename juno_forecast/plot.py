"""Figures for people: a series against its expected range, and the calendar's effects.

``plot_forecast`` draws actuals, the expected line and its 80%/95% bands, the calendar
events shaded and labelled (labels stacked in lanes so they never overlap), and
incidents marked (unexplained in red, explained in amber). Times are New York
wall-clock, as in the data. ``plot_effects`` compares, per event, the curated effect
the calendar assumes with the relative deviation observed on its days.

Matplotlib is imported inside the functions, on the non-interactive Agg backend, so
importing this module (or the CLI) stays cheap and works without a display.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

UNEXPLAINED_COLOR = "#d62728"
EXPLAINED_COLOR = "#ff9f1a"
ACTUAL_COLOR = "#1f1f1f"
EXPECTED_COLOR = "#1f77b4"
EVENT_COLORS = ["#9467bd", "#2ca02c", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]


def _pyplot():
    # No backend is forced: notebooks keep their inline backend, and matplotlib
    # falls back to Agg by itself where there is no display.
    import matplotlib.pyplot as plt

    return plt


def _as_series(actual: pd.Series | pd.DataFrame) -> pd.Series:
    if isinstance(actual, pd.DataFrame):
        col = "y" if "y" in actual.columns else "actual"
        idx = actual["ds"] if "ds" in actual.columns else actual.index
        return pd.Series(actual[col].to_numpy(dtype=float), index=pd.DatetimeIndex(idx))
    return actual.astype(float)


def _forecast_frame(fc: pd.DataFrame) -> pd.DataFrame:
    """Forecast columns indexed by time; accepts ``ds`` as a column or the index."""
    out = fc.set_index(pd.DatetimeIndex(fc["ds"])) if "ds" in fc.columns else fc.copy()
    if "yhat" not in out.columns and "expected" in out.columns:
        out = out.rename(columns={"expected": "yhat"})
    return out.sort_index()


def _lanes(spans: list[tuple[float, float]], min_gap: float) -> list[int]:
    """A label lane per span (greedy), so labels of spans closer than ``min_gap`` never collide."""
    lane_end: list[float] = []
    lanes = []
    for x0, x1 in spans:
        for i, end in enumerate(lane_end):
            if x0 >= end + min_gap:
                lane_end[i] = max(x1, x0 + min_gap)
                lanes.append(i)
                break
        else:
            lane_end.append(max(x1, x0 + min_gap))
            lanes.append(len(lane_end) - 1)
    return lanes


def _event_spans(
    events: pd.DataFrame, lo: pd.Timestamp, hi: pd.Timestamp
) -> list[tuple[str, pd.Timestamp, pd.Timestamp, tuple[int, ...]]]:
    """(name, start, end, hours) of each event clipped to the plotted range, in time order."""
    spans = []
    for _, ev in events.iterrows():
        s = pd.Timestamp(ev.get("window_start", ev["start"]))
        e = pd.Timestamp(ev.get("window_end", ev["end"])) + pd.Timedelta(days=1)
        s, e = max(s, lo), min(e, hi)
        hours = ev.get("hours", ())
        hours = tuple(int(h) for h in hours) if isinstance(hours, list | tuple) else ()
        if s < e:
            spans.append((str(ev["name"]), s, e, hours))
    return sorted(spans, key=lambda t: t[1])


def _hour_runs(hours: tuple[int, ...]) -> list[tuple[int, int]]:
    """Contiguous (first, last) hour runs of an event's active hours."""
    runs: list[list[int]] = []
    for h in sorted(set(hours)):
        if runs and h == runs[-1][1] + 1:
            runs[-1][1] = h
        else:
            runs.append([h, h])
    return [(a, b) for a, b in runs]


def _shade(
    ax: Any, s: pd.Timestamp, e: pd.Timestamp, hours: tuple[int, ...], color: str, detailed: bool
) -> None:
    """Shade [s, e); only the active hours of each day when ``detailed`` and hours are set."""
    if not hours or not detailed:
        ax.axvspan(s, e, color=color, alpha=0.12, lw=0)
        return
    for day in pd.date_range(s.normalize(), e, freq="D"):
        for a, b in _hour_runs(hours):
            x0 = max(day + pd.Timedelta(hours=a), s)
            x1 = min(day + pd.Timedelta(hours=b + 1), e)
            if x0 < x1:
                ax.axvspan(x0, x1, color=color, alpha=0.16, lw=0)


def _shade_events(ax: Any, events: pd.DataFrame | None, lo: pd.Timestamp, hi: pd.Timestamp) -> int:
    """Shade event days (only their hours when zoomed in) and label them in non-overlapping
    lanes above the plot; returns the number of lanes used."""
    import matplotlib.dates as mdates

    if events is None or len(events) == 0:
        return 0
    spans = _event_spans(events, lo, hi)
    if not spans:
        return 0
    width = mdates.date2num(hi) - mdates.date2num(lo)
    nums = [(mdates.date2num(s), mdates.date2num(e)) for _, s, e, _ in spans]
    detailed = (hi - lo) <= pd.Timedelta(days=31)  # hours are visible at this zoom
    char = width / 110.0  # roughly one character of label at the figure's width
    lanes = _lanes(
        [
            (x0, x0 + char * (len(name) + 2))
            for (name, _, _, _), (x0, _) in zip(spans, nums, strict=True)
        ],
        0.0,
    )
    for i, ((name, s, e, hours), lane) in enumerate(zip(spans, lanes, strict=True)):
        color = EVENT_COLORS[i % len(EVENT_COLORS)]
        _shade(ax, s, e, hours, color, detailed)
        ax.annotate(
            name,
            xy=(s, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(2, 3 + 11 * lane),
            textcoords="offset points",
            fontsize=7.5,
            color=color,
            ha="left",
            va="bottom",
            annotation_clip=False,
        )
    return max(lanes) + 1


def _mark_incidents(ax: Any, incidents: pd.DataFrame | None, actual: pd.Series) -> None:
    if incidents is None or len(incidents) == 0:
        return
    for _, inc in incidents.iterrows():
        unexplained = inc.get("explanation", "unexplained") != "explained"
        color = UNEXPLAINED_COLOR if unexplained else EXPLAINED_COLOR
        seg = actual.loc[inc["start"] : inc["end"]]
        ax.plot(seg.index, seg.to_numpy(), color=color, lw=2.4, zorder=4)
        ax.axvspan(inc["start"], inc["end"], color=color, alpha=0.10, lw=0, zorder=0)
        if inc["peak_ds"] in actual.index:
            ax.plot(
                [inc["peak_ds"]],
                [actual.loc[inc["peak_ds"]]],
                "o",
                color=color,
                ms=6,
                zorder=5,
                mec="white",
            )


def _legend(ax: Any) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D([], [], color=ACTUAL_COLOR, lw=1.2, label="actual"),
        Line2D([], [], color=EXPECTED_COLOR, lw=1.2, ls="--", label="expected"),
        Patch(color=EXPECTED_COLOR, alpha=0.35, label="80% range"),
        Patch(color=EXPECTED_COLOR, alpha=0.15, label="95% range"),
        Line2D([], [], color=UNEXPLAINED_COLOR, lw=2.4, label="unexplained incident"),
        Line2D([], [], color=EXPLAINED_COLOR, lw=2.4, label="explained incident"),
    ]
    ax.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False
    )


def _time_axis(ax: Any, lo: pd.Timestamp, hi: pd.Timestamp) -> None:
    import matplotlib.dates as mdates

    days = (hi - lo) / pd.Timedelta(days=1)
    if days <= 4:
        ax.xaxis.set_major_locator(mdates.HourLocator(byhour=[0, 6, 12, 18]))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b\n%H:%M"))
    elif days <= 21:
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, int(np.ceil(days / 9)))))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a\n%d %b"))
    else:
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=10))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b\n%Y"))
    ax.set_xlim(lo, hi)
    ax.set_xlabel("New York local time")


def plot_forecast(
    actual: pd.Series | pd.DataFrame | None,
    forecast_frame: pd.DataFrame,
    events: pd.DataFrame | None = None,
    incidents: pd.DataFrame | None = None,
    title: str = "",
    ylabel: str = "value",
) -> Any:
    """A series against its expected range; returns a matplotlib Figure.

    ``actual``: a Series indexed by time (or a tidy frame with ``ds``/``y``), may be None
    for a pure forecast. ``forecast_frame``: ``yhat, lo_80, hi_80, lo_95, hi_95`` indexed
    by time or with a ``ds`` column (the output of ``SeriesForecaster.predict`` or of
    ``forecast``/``expect`` for one series). ``events``: calendar occurrences (``name``,
    ``start``, ``end``, optional ``window_start``/``window_end``) to shade and label.
    ``incidents``: rows of a ``detect`` table for this series, marked on the actuals.
    ``title`` should name the series and metric, e.g. ``trips, borough=Bronx``.
    """
    plt = _pyplot()
    fc = _forecast_frame(forecast_frame)
    act = _as_series(actual) if actual is not None else None
    lo, hi = fc.index.min(), fc.index.max()
    if act is not None and len(act):
        act = act.loc[lo:hi]
    fig, ax = plt.subplots(figsize=(11, 4.2), dpi=100)
    ax.fill_between(
        fc.index, fc["lo_95"], fc["hi_95"], color=EXPECTED_COLOR, alpha=0.15, lw=0, step=None
    )
    ax.fill_between(fc.index, fc["lo_80"], fc["hi_80"], color=EXPECTED_COLOR, alpha=0.30, lw=0)
    ax.plot(fc.index, fc["yhat"], color=EXPECTED_COLOR, lw=1.1, ls="--")
    if act is not None and len(act):
        ax.plot(act.index, act.to_numpy(), color=ACTUAL_COLOR, lw=1.0)
        _mark_incidents(ax, incidents, act)
    step = fc.index.to_series().diff().median() if len(fc) > 1 else pd.Timedelta(hours=1)
    lanes = _shade_events(ax, events, lo, hi + step)
    _time_axis(ax, lo, hi)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(fc["lo_95"]))) if len(fc) else 0)
    ax.grid(alpha=0.25)
    ax.set_title(title, loc="left", fontsize=11, pad=8 + 11 * lanes)
    _legend(ax)
    fig.tight_layout()
    return fig


def plot_detection(sd: Any, title: str | None = None) -> Any:
    """:func:`plot_forecast` for one series of a detection run (a ``SeriesDetection``)."""
    pts = sd.points
    fc = pd.DataFrame(
        {"yhat": pts["expected"], "lo_95": pts["lo"], "hi_95": pts["hi"]}, index=pts.index
    )
    # the detection band is the chosen level's; the inner band is drawn halfway to it
    fc["lo_80"] = fc["yhat"] - (fc["yhat"] - fc["lo_95"]) * 0.654
    fc["hi_80"] = fc["yhat"] + (fc["hi_95"] - fc["yhat"]) * 0.654
    keys = " ".join(f"{k}={v}" for k, v in sd.keys.items())
    return plot_forecast(
        pts["actual"],
        fc,
        events=sd.occurrences,
        incidents=sd.incidents,
        title=title or f"{sd.metric}{', ' + keys if keys else ''}: actual vs expected range",
        ylabel=sd.metric,
    )


def observed_effects(points: pd.DataFrame, occurrences: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per event: curated effect and observed mean relative deviation on its days.

    ``points`` has ``actual`` and ``expected`` (or ``yhat``) indexed by time (the normal-day
    expectation of ``detect``); the observed effect is ``sum(actual)/sum(expected) - 1``
    over the event's days (without its window). Columns: ``name, curated, observed, days``.
    """
    exp_col = "expected" if "expected" in points.columns else "yhat"
    rows = []
    for name, occ in occurrences.groupby("name", sort=False):
        mask = np.zeros(len(points), dtype=bool)
        day = points.index.normalize()
        for _, o in occ.iterrows():
            mask |= (day >= pd.Timestamp(o["start"])) & (day <= pd.Timestamp(o["end"]))
        sel = points[mask]
        exp = sel[exp_col].sum()
        observed = float(sel["actual"].sum() / exp - 1.0) if len(sel) and exp > 0 else np.nan
        eff = occ["effect"].iloc[0] if "effect" in occ.columns else None
        curated = float(eff[metric]) if isinstance(eff, dict) and metric in eff else np.nan
        rows.append(
            {
                "name": name,
                "curated": curated,
                "observed": observed,
                "days": int(sel.index.normalize().nunique()),
            }
        )
    return pd.DataFrame(rows, columns=["name", "curated", "observed", "days"])


def plot_effects(
    effects: pd.DataFrame, title: str = "Calendar effects: assumed vs observed"
) -> Any:
    """Horizontal bars per event: the curated effect (assumed) and the observed deviation.

    ``effects`` has ``name``, ``curated`` and ``observed`` (relative changes, e.g. -0.35),
    as returned by :func:`observed_effects`; NaN bars are left out (no curated effect, or
    the event fell outside the data).
    """
    plt = _pyplot()
    eff = effects.dropna(subset=["curated", "observed"], how="all").reset_index(drop=True)
    n = max(len(eff), 1)
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.42 * n), dpi=100)
    y = np.arange(len(eff))
    ax.barh(
        y - 0.2,
        100 * eff["curated"].fillna(0),
        height=0.38,
        color="#9467bd",
        label="assumed (calendar)",
    )
    ax.barh(
        y + 0.2,
        100 * eff["observed"].fillna(0),
        height=0.38,
        color=EXPECTED_COLOR,
        label="observed vs normal day",
    )
    for yi, (c, o) in enumerate(zip(eff["curated"], eff["observed"], strict=True)):
        if pd.isna(c):
            ax.text(0, yi - 0.2, " no curated effect", va="center", fontsize=7, color="#555")
        if pd.isna(o):
            ax.text(0, yi + 0.2, " no data", va="center", fontsize=7, color="#555")
    ax.set_yticks(y, eff["name"], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("change vs a normal day (%)")
    ax.grid(axis="x", alpha=0.25)
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    fig.tight_layout()
    return fig
