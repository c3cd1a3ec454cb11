"""The release check: actuals since a release against the expectation from before it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..data import SeriesProblem
from ..errors import InputError
from ..inputs import (
    check_level,
    check_model,
    parse_range,
    parse_timestamp,
    resolve_calendar,
    resolve_dataset,
)
from .api import stack_incidents
from .series import SeriesDetection, detect_each

VERDICT_OK = "ok"
VERDICT_EXPLAINED = "explained deviation"
VERDICT_PARTLY = "PARTLY explained deviation"
VERDICT_UNEXPLAINED = "UNEXPLAINED deviation"
#: a series the check could not judge (dropped at loading, too short, a model failure)
VERDICT_NOT_CHECKED = "NOT CHECKED"
#: verdicts that fail the release check (exit 1), in the order they are listed
FAILING = (VERDICT_UNEXPLAINED, VERDICT_PARTLY, VERDICT_NOT_CHECKED)
VERDICT_ORDER = {v: i for i, v in enumerate((*FAILING, VERDICT_EXPLAINED, VERDICT_OK))}

#: hourly, the release check keeps runs of this many hours flagged by its window test
#: (detect: 3 flagged hours, or one extreme hour)
CHECK_MIN_HOURS = 2


@dataclass
class CheckResult:
    """Per-series verdicts of a release check, the incidents behind them, and skipped series.

    Every series of the data has a verdict row, the skipped ones too (``NOT CHECKED``,
    with the reason in ``note``): a series that could not be judged never passes.
    """

    verdicts: pd.DataFrame
    incidents: pd.DataFrame
    problems: list[str]

    @property
    def exit_code(self) -> int:
        """1 when a deviation is not fully explained or a series could not be checked."""
        return int(self.verdicts["verdict"].isin(FAILING).any()) if len(self.verdicts) else 0


def _verdict_row(sd: SeriesDetection) -> dict[str, Any]:
    """A checked series' verdict row, from its incidents' rows (no frame of them)."""
    rows = sd.rows
    outcomes = [r["explanation"] for r in rows]
    failing = [r for r, o in zip(rows, outcomes, strict=True) if o != "explained"]
    worst = failing or rows
    worst_row = worst[_most_severe([r["severity"] for r in worst])] if worst else None
    pts = sd.points
    return {
        **sd.keys,
        "metric": sd.metric,
        "series": sd.label,
        "verdict": _verdict_of(outcomes),
        "points": len(pts),
        "outside": int(pts["flag"].sum()),
        "incidents": len(rows),
        "unexplained": outcomes.count("unexplained"),
        "partly": outcomes.count("partly"),
        "worst_start": worst_row["start"] if worst_row is not None else pd.NaT,
        "worst_deviation_pct": worst_row["deviation_pct"] if worst_row is not None else np.nan,
        "explained_by": ";".join(
            dict.fromkeys(n for r in rows for n in r["explained_by"].split(";") if n)
        ),
        "note": worst_row["note"] if worst_row is not None else "",
    }


def _verdict_of(outcomes: list[str]) -> str:
    """The verdict of a checked series from its incidents' ``explanation`` values."""
    if not outcomes:
        return VERDICT_OK
    if "unexplained" in outcomes:
        return VERDICT_UNEXPLAINED
    return VERDICT_PARTLY if "partly" in outcomes else VERDICT_EXPLAINED


def _most_severe(severity: list[float]) -> int:
    """The position of the largest severity: the first row of pandas' descending
    ``sort_values("severity")`` (its order of ties, reproduced)."""
    values = np.asarray(severity, dtype=float)[::-1]
    order = np.arange(len(values))[::-1][values.argsort(kind="quicksort")][::-1]
    return int(order[0])


def _not_checked_row(problem: SeriesProblem) -> dict[str, Any]:
    """The verdict of a series the check skipped; the reason is its note."""
    return {"series": problem.series, "verdict": VERDICT_NOT_CHECKED, "note": problem.message}


def release_sensitivity(since: pd.Timestamp, until: pd.Timestamp, freq: str) -> dict[str, int]:
    """What the release check tests more finely than ``detect`` (hourly), and why.

    ``detect`` scans months of history: it keeps runs of 3 flagged hours (or one extreme
    hour), and its window test (3, 4 and 6 hours) has a threshold set for thousands of
    windows, so false alarms stay rare over the whole scan. A 2-hour outage passes
    both. The check asks about one range the user names (since a release): far fewer
    hypotheses, so it can afford a finer test inside that range only. Its window test
    also sums 2 hours, with a threshold that holds the chance of any false window in
    the range at ``1 - level`` (:func:`.flagging.window_threshold`: lower for a range
    of hours, the scan's again for 8 days or more), and a run of ``CHECK_MIN_HOURS`` (2)
    hours flagged by it is an incident. Two hours merely outside their bands are not:
    over a long range, such pairs are common. Measured on the real hourly pickups
    (``benchmarks/explanations.py``).
    """
    if freq != "h":
        return {}
    hours = int((until - since) / pd.Timedelta(hours=1)) + 1
    return {"range_hours": hours, "window_points": CHECK_MIN_HOURS}


def check(
    data: Any,
    since: Any,
    until: Any = None,
    level: float = 0.95,
    model: str = "baseline",
    calendar: Any = None,
    weather: Any = None,
    weather_forecast: Any = None,
    **data_kwargs: Any,
) -> CheckResult:
    """Actuals since a release against the expectation from data before ``since``.

    One fit per series on the history before ``since`` predicts the whole period up to
    ``until`` (default: the last timestamp of the data). Verdict per series: ``ok`` (all
    inside the range), ``explained deviation`` (every incident fully explained by the
    calendar's events, see :mod:`.explain`), ``PARTLY explained deviation``,
    ``UNEXPLAINED deviation``, or ``NOT CHECKED`` (skipped, the reason in ``note``).
    ``result.exit_code`` is what the CLI exits with: 1 unless every series passed.
    Hourly, the check is more sensitive inside its range than ``detect`` over months
    (a window test for this range, 2 hours too: :func:`release_sensitivity`).
    """
    s = parse_timestamp(since, "--since")
    ds = resolve_dataset(data, **data_kwargs)
    last = ds.frame["ds"].max() if len(ds.frame) else s
    if s > last:
        raise InputError(f"--since {s} is after the last timestamp of the data ({last})")
    u = parse_range(s, until if until is not None else last, ("--since", "--until"))[1]
    level, model = check_level(level), check_model(model)
    cal = resolve_calendar(calendar, weather, weather_forecast)
    agg = data_kwargs.get("agg") or "sum"
    days = max(1, int(np.ceil((u.normalize() - s.normalize()) / pd.Timedelta(days=1))) + 1)
    rows, parts = [], []
    skipped: list[SeriesProblem] = list(ds.problems)
    finer = release_sensitivity(s, u, ds.freq)
    options = dict(level=level, model=model, agg=agg, refit=f"{days}D", **finer)
    for sd in detect_each(ds, s, u, cal, **options):
        if isinstance(sd, SeriesProblem):
            skipped.append(sd)
        else:
            rows.append(_verdict_row(sd))
            parts.append(sd)
    if not rows:
        first = str(skipped[0]) if skipped else "no data"
        raise InputError(f"no series could be checked: {first}")
    verdicts = pd.DataFrame([*rows, *(_not_checked_row(p) for p in skipped)])
    order = verdicts["verdict"].map(VERDICT_ORDER)
    verdicts = verdicts.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    return CheckResult(verdicts, stack_incidents(parts, ds.keys), [str(p) for p in skipped])
