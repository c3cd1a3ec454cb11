"""The release check: actuals since a release against the expectation from before it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, SeriesError
from ..inputs import (
    check_level,
    check_model,
    parse_range,
    parse_timestamp,
    resolve_calendar,
    resolve_dataset,
)
from .api import _concat_incidents
from .expectation import DETECT_MODELS
from .series import SeriesDetection, detect_series

VERDICT_OK = "ok"

VERDICT_EXPLAINED = "explained deviation"

VERDICT_UNEXPLAINED = "UNEXPLAINED deviation"


@dataclass
class CheckResult:
    """Per-series verdicts of a release check, the incidents behind them, and skipped series."""

    verdicts: pd.DataFrame
    incidents: pd.DataFrame
    problems: list[str]

    @property
    def exit_code(self) -> int:
        """1 when an unexplained deviation exists, else 0."""
        return (
            int((self.verdicts["verdict"] == VERDICT_UNEXPLAINED).any())
            if len(self.verdicts)
            else 0
        )


def _verdict(inc: pd.DataFrame) -> str:
    if inc.empty:
        return VERDICT_OK
    return VERDICT_UNEXPLAINED if (inc["explained_by"] == "").any() else VERDICT_EXPLAINED


def _verdict_row(sd: SeriesDetection) -> dict[str, Any]:
    inc = sd.incidents
    unexplained = inc[inc["explained_by"] == ""]
    worst = unexplained if not unexplained.empty else inc
    worst_row = worst.sort_values("severity", ascending=False).iloc[0] if not worst.empty else None
    pts = sd.points
    return {
        **sd.keys,
        "metric": sd.metric,
        "verdict": _verdict(inc),
        "points": len(pts),
        "outside": int(pts["flag"].sum()),
        "incidents": len(inc),
        "unexplained": len(unexplained),
        "worst_start": worst_row["start"] if worst_row is not None else pd.NaT,
        "worst_deviation_pct": worst_row["deviation_pct"] if worst_row is not None else np.nan,
        "explained_by": ";".join(
            dict.fromkeys(n for s in inc["explained_by"] for n in s.split(";") if n)
        ),
    }


def check(
    data: Any,
    since: Any,
    until: Any = None,
    level: float = 0.95,
    model: str = "baseline",
    calendar: Any = None,
    weather: Any = None,
    **data_kwargs: Any,
) -> CheckResult:
    """Actuals since a release against the expectation from data before ``since``.

    One fit per series on the history before ``since`` predicts the whole period up to
    ``until`` (default: the last timestamp of the data). Verdict per series: ``ok`` (all
    inside the range), ``explained deviation`` (every incident overlaps a calendar event),
    ``UNEXPLAINED deviation``. ``result.exit_code`` is what the CLI exits with.
    """
    s = parse_timestamp(since, "--since")
    ds = resolve_dataset(data, **data_kwargs)
    last = ds.frame["ds"].max() if len(ds.frame) else s
    if s > last:
        raise InputError(f"--since {s} is after the last timestamp of the data ({last})")
    u = parse_range(s, until if until is not None else last, ("--since", "--until"))[1]
    level, model = check_level(level), check_model(model, DETECT_MODELS)
    cal = resolve_calendar(calendar, weather)
    agg = data_kwargs.get("agg") or "sum"
    days = max(1, int(np.ceil((u.normalize() - s.normalize()) / pd.Timedelta(days=1))) + 1)
    rows, parts, problems = [], [], [str(p) for p in ds.problems]
    for metric, keys, y in ds.series():
        try:
            sd = detect_series(
                y[y.index <= u],
                metric,
                keys,
                s,
                u,
                cal,
                level=level,
                model=model,
                freq=ds.freq,
                agg=agg,
                refit=f"{days}D",
            )
        except SeriesError as err:
            problems.append(str(err))
            continue
        rows.append(_verdict_row(sd))
        parts.append(sd.incidents)
    if not rows:
        raise InputError(f"no series could be checked: {problems[0] if problems else 'no data'}")
    verdicts = pd.DataFrame(rows)
    order = verdicts["verdict"].map({VERDICT_UNEXPLAINED: 0, VERDICT_EXPLAINED: 1, VERDICT_OK: 2})
    verdicts = verdicts.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    return CheckResult(verdicts, _concat_incidents(parts, ds.keys), problems)
