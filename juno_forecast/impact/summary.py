"""The incident debrief: :func:`impact_summary_markdown` turns an impact run into Markdown.

Kept apart from the counterfactual and its ranges, as
:mod:`juno_forecast.impact.plot` keeps the figures: this module only words
a finished result for an operations lead to paste into a debrief.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from .result import ImpactResult
from .window import fmt_time


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


def _signed(x: float) -> str:
    return ("+" if x > 0 else "") + _num(x) if np.isfinite(x) else "n/a"


def _series_name(row: pd.Series, keys: Iterable[str]) -> str:
    parts = [str(row[k]) for k in keys]
    return " / ".join(parts) if parts else str(row["metric"])


def impact_summary_markdown(result: ImpactResult | pd.DataFrame, title: str | None = None) -> str:
    """A short Markdown debrief: window, metric, per-zone loss with ranges, share affected, events.

    Meant to be pasted into an incident debrief by an operations lead.
    """
    res = result if isinstance(result, ImpactResult) else ImpactResult.from_frame(result)
    step = "hours" if res.freq == "h" else "days"
    lines = [f"## {title or 'Incident impact'}: {fmt_time(res.start)} to {fmt_time(res.end)}", ""]
    for metric, table in res.table.groupby("metric", sort=False):
        lines += _metric_section(res, str(metric), table, step)
    lines += _events_lines(res) + _method_lines(res)
    if res.problems:
        lines += ["", "Not judged: " + "; ".join(res.problems)]
    return "\n".join(lines).rstrip() + "\n"


def _metric_section(res: ImpactResult, metric: str, table: pd.DataFrame, step: str) -> list[str]:
    n, k = len(table), int(table["affected"].sum())
    below = int((table["direction"] == "below").sum())
    tot_d = float(table["difference"].sum())
    lo, hi = float(table["difference_lo_95"].sum()), float(table["difference_hi_95"].sum())
    tot_e = float(table["expected_total"].sum())
    pct = 100 * tot_d / tot_e if tot_e else float("nan")
    verdict = "a loss" if hi < 0 else "a gain" if lo > 0 else "no change beyond the normal range"
    lines = [
        f"**Metric `{metric}`**, window of {int(table['steps'].max())} {step}: "
        f"**{k} of {n} zones affected ({100 * k / n:.0f}%)**, {below} of them below expectation.",
        "",
        f"All zones together: actual {_num(float(table['actual_total'].sum()))} against "
        f"{_num(tot_e)} expected, a difference of **{_signed(tot_d)} {metric} ({_signed(pct)}%)**, "
        f"95% range {_signed(lo)} to {_signed(hi)} ({verdict}; zone ranges added up, "
        f"as if zones moved together).",
        "",
        "| zone | actual | expected (95% range) | difference (95% range) | diff % | peak | affected |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for _, r in table.sort_values("difference").iterrows():
        lines.append(
            f"| {_series_name(r, res.keys)} | {_num(r['actual_total'])} | "
            f"{_num(r['expected_total'])} ({_num(r['lo_95'])} to {_num(r['hi_95'])}) | "
            f"{_signed(r['difference'])} ({_signed(r['difference_lo_95'])} to "
            f"{_signed(r['difference_hi_95'])}) | {_signed(r['difference_pct'])}% | "
            f"{pd.Timestamp(r['peak_ds']):%Y-%m-%d %H:%M} | "
            f"{'yes, ' + r['direction'] if r['affected'] else 'no'} |"
        )
    return lines + [""]


def _event_items(ev: pd.DataFrame) -> str:
    """``name (category, first day to last day)``; entries sharing a name are one event."""
    spans = ev.groupby("name", sort=False).agg(
        category=("category", "first"), start=("start", "min"), end=("end", "max")
    )
    items = [
        f"{name} ({r['category']}, {pd.Timestamp(r['start']):%Y-%m-%d}"
        + ("" if r["end"] == r["start"] else f" to {pd.Timestamp(r['end']):%Y-%m-%d}")
        + ")"
        for name, r in spans.iterrows()
    ]
    return "; ".join(items)


def _events_lines(res: ImpactResult) -> list[str]:
    ev = res.events
    if ev is None or ev.empty:
        return ["Calendar events in the window: none."]
    excluded = ev["excluded"].astype(bool) if "excluded" in ev else pd.Series(False, index=ev.index)
    lines = []
    if (~excluded).any():
        lines.append(
            "Calendar events in the window (their usual effect is in the expectation): "
            + _event_items(ev[~excluded])
            + "."
        )
    else:
        lines.append("Calendar events in the window: none in the expectation.")
    if excluded.any():
        lines.append(
            "Left out of the expectation (the incident itself): " + _event_items(ev[excluded]) + "."
        )
    return lines


def _method_lines(res: ImpactResult) -> list[str]:
    days = f"{res.level_days} days before" + (" and after" if res.post else "")
    hours = "the same hours of the " if res.freq == "h" else "the "
    fitted = (
        f"fitted on the data before {fmt_time(res.start)}, levelled on {hours}{days} the window"
    )
    folds = res.table["folds"]
    n = f"{int(folds.min())}" + (f"-{int(folds.max())}" if folds.max() > folds.min() else "")
    how = (
        f"the errors of the same procedure on {n} earlier windows of the same length and hours"
        if folds.max() > 0
        else "the per-step forecast bands added up"
    )
    if res.table.get("event_folds", folds * 0).max() > 0:
        how += (
            ", widened where the window has calendar events by the errors on the earlier "
            "windows that had events too"
        )
    return [
        "",
        f"Expectation: model `{res.model}` {fitted}{_controls_clause(res)}; ranges from {how}.",
    ]


def _controls_clause(res: ImpactResult) -> str:
    """How the control series moved the expectation (empty without controls)."""
    t = res.table
    if "controls" not in t or not t["controls"].fillna("").astype(bool).any():
        return ""
    parts = [
        f"{_series_name(r, res.keys)} against {str(r['controls']).replace(';', ', ')} "
        f"(x{r['control_factor']:.3f}, weight {r['control_weight']:.2f})"
        for _, r in t.iterrows()
        if isinstance(r["controls"], str) and r["controls"]
    ]
    return (
        ", then scaled by how its control series moved against their own forecasts inside "
        "the window: " + "; ".join(parts)
    )
