"""Plots of an incident's impact: one figure per series.

Top panel: the actual path against the counterfactual (expected value with its
80% and 95% per-step bands), the incident window shaded. Bottom panel: the
cumulative difference (actual minus expected) inside the window with its 80%
and 95% ranges, and the zero line: where the band leaves zero, the loss is
beyond what normal variation explains.

matplotlib is imported inside the functions (it is heavy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .result import ImpactResult
from .window import fmt_time

ACTUAL, EXPECTED, LOSS = "#222222", "#1f77b4", "#d62728"


def _result(result: ImpactResult | pd.DataFrame) -> ImpactResult:
    return result if isinstance(result, ImpactResult) else ImpactResult.from_frame(result)


def _select(res: ImpactResult, series: dict[str, str] | None) -> tuple[pd.Series, pd.DataFrame]:
    """The table row and path of one series (the first when ``series`` is None)."""
    table, paths = res.table, res.paths
    mask = pd.Series(True, index=table.index)
    for key, value in (series or {}).items():
        mask &= table[key].astype(str) == str(value)
    if not mask.any():
        raise KeyError(f"no series matching {series} in the impact result")
    row = table[mask].iloc[0]
    ident = [*res.keys, "metric"]
    pmask = pd.Series(True, index=paths.index)
    for col in ident:
        pmask &= paths[col].astype(str) == str(row[col])
    return row, paths[pmask]


def _title(res: ImpactResult, row: pd.Series) -> str:
    who = " ".join(f"{k}={row[k]}" for k in res.keys)
    head = f"{row['metric']} {who}".strip()
    verdict = f"affected ({row['direction']})" if row["affected"] else "within the normal range"
    controls = row.get("controls")
    against = (
        f"\nagainst controls {str(controls).replace(';', ', ')} (x{row['control_factor']:.3f})"
        if isinstance(controls, str) and controls
        else ""
    )
    return (
        f"{head}: {row['difference']:+,.0f} ({row['difference_pct']:+.1f}%), "
        f"95% range {row['difference_lo_95']:+,.0f} to {row['difference_hi_95']:+,.0f}; {verdict}"
        + against
    )


def _top(ax: Any, path: pd.DataFrame, res: ImpactResult, row: pd.Series) -> None:
    ds = path["ds"]
    for level, alpha in ((95, 0.15), (80, 0.25)):
        lo, hi = path[f"lo_{level}"], path[f"hi_{level}"]
        label = f"expected, {level}% range"
        ax.fill_between(ds, lo, hi, color=EXPECTED, alpha=alpha, lw=0, label=label)
    ax.plot(ds, path["yhat"], color=EXPECTED, lw=1.2, ls="--", label="expected (no incident)")
    ax.plot(ds, path["actual"], color=ACTUAL, lw=1.4, label="actual")
    ax.axvspan(
        res.start - _step(res) / 2,
        res.end + _step(res) / 2,
        color="#9e9e9e",
        alpha=0.15,
        label="incident window",
    )
    ax.set_ylabel(str(row["metric"]))
    ax.set_ylim(bottom=min(0.0, float(path[["actual", "lo_95"]].min().min())))
    ax.legend(loc="upper left", fontsize=8, ncol=3, frameon=False)
    if row.get("events"):
        ax.text(
            0.99,
            0.98,
            "events: " + str(row["events"]).replace(";", ", "),
            ha="right",
            va="top",
            transform=ax.transAxes,
            fontsize=8,
            color="#555555",
        )


def _bottom(ax: Any, path: pd.DataFrame, res: ImpactResult) -> None:
    win = path[path["in_window"]]
    ds = win["ds"]
    ax.fill_between(
        ds, win["cum_lo_95"], win["cum_hi_95"], color=LOSS, alpha=0.15, lw=0, label="95% range"
    )
    ax.fill_between(
        ds, win["cum_lo_80"], win["cum_hi_80"], color=LOSS, alpha=0.25, lw=0, label="80% range"
    )
    ax.plot(ds, win["cum_difference"], color=LOSS, lw=1.5, label="cumulative actual - expected")
    ax.axhline(0, color=ACTUAL, lw=0.8)
    ax.axvspan(res.start - _step(res) / 2, res.end + _step(res) / 2, color="#9e9e9e", alpha=0.15)
    ax.set_ylabel("cumulative difference")
    ax.legend(loc="lower left", fontsize=8, ncol=3, frameon=False)


def _step(res: ImpactResult) -> pd.Timedelta:
    return pd.Timedelta(hours=1) if res.freq == "h" else pd.Timedelta(days=1)


def plot_impact(result: ImpactResult | pd.DataFrame, series: dict[str, str] | None = None) -> Any:
    """One figure for one series of an impact result (the first series when ``series`` is None).

    ``result``: what :func:`~juno_forecast.impact.run_impact` or
    :func:`~juno_forecast.impact.impact` returned; ``series``: key values (and
    optionally ``metric``) picking the series, e.g. ``{"borough": "Queens"}``.
    Returns the matplotlib Figure.
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    res = _result(result)
    row, path = _select(res, series)
    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    _top(ax1, path, res, row)
    _bottom(ax2, path, res)
    fig.suptitle(_title(res, row), fontsize=10)
    ax1.set_title(
        f"window {fmt_time(res.start)} to {fmt_time(res.end)}", fontsize=9, color="#555555"
    )
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax2.xaxis.set_major_locator(locator)
    ax2.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def safe_name(text: str) -> str:
    """A file name from data values, never a path and never shared (see :func:`..io.safe_name`)."""
    from ..io import safe_name as unique_safe_name

    return unique_safe_name(text, default="series")


def save_impact_plots(result: ImpactResult | pd.DataFrame, directory: str | Path) -> list[Path]:
    """Write one PNG per series under ``directory`` (created); returns the paths.

    File names come from the metric and key values, sanitized so a zone called
    ``../../etc`` cannot escape ``directory``.
    """
    import matplotlib.pyplot as plt

    from ..io import atomic_write

    res = _result(result)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for _, row in res.table.iterrows():
        ident = {k: row[k] for k in (*res.keys, "metric")}
        fig = plot_impact(res, ident)
        name = safe_name("impact_" + "_".join(str(v) for v in ident.values())) + ".png"
        written.append(
            atomic_write(out / name, lambda p, f=fig: f.savefig(p, dpi=110, format="png"))
        )
        plt.close(fig)
    return written
