"""How close can a counterfactual get? The error floor under the impact accuracy target.

Run:  python benchmarks/impact_floor.py [--data ../shared/data/uber_nyc_enriched.csv]
                                        [--windows 400] [--seed 7]

About a second. No forecaster of the package is involved: this measures the
*data*, to tell whether ``benchmarks/impact.py``'s target (median error of the
recovered loss <= 10% of the injected loss) is within reach of any method.

Why the counterfactual decides it: when a window's pickups ``A`` are cut by a
share ``d`` and an estimator expects ``E`` (computed without the window's own
values), the recovered loss is ``E - (1 - d) A`` and its error is exactly
``E - A``: the error as a share of the injected loss ``d A`` is ``|E / A - 1| / d``.
So the script draws windows exactly like ``benchmarks/impact.py`` (borough,
start, 2-48 hours, cut 10-60%, a quarter on calendar-event days, from its
``places``), judges several simple estimators on the *untouched* data, and
reports for each the median miss of the window total and the median error of
the recovered loss it implies. The estimators use only what an investigation
after the incident has: the borough outside the window (before *and* after it)
and the three other busy boroughs inside it.

* ``weekly``: mean of the same hours 1-4 weeks before, scaled by actual / that
  mean over the same hours of the 7 days before (like ``impact``'s default level).
* ``weekly_post``: weeks 1-4 before and after, levelled on the 7 days before and after.
* ``adjacent``: the weekly_post mean, levelled on the 24 hours just before and
  just after the window.
* ``share``: the other boroughs' actual in the window times the borough's share
  of them at the same hours 1-4 weeks before and after.
* ``controls_adjacent``: ``adjacent`` times the other boroughs' actual / their own
  ``adjacent`` estimate in the window.
* ``best_mix``: the geometric mean of the subset of these five with the lowest
  median miss, chosen on the same windows (optimistic by construction).
* ``poisson_only``: a perfect expectation missed only by Poisson count noise
  (the floor if pickups were not over-dispersed).

Also reported: the median miss a method would need for the 10% target
(``|E / A - 1| / d`` scales with the miss, so it is ``miss * 0.10 / implied``).

Results: benchmarks/results/impact_floor.{json,md}.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from impact import BUSY, DATA, OUT, places  # the benchmark's own windows

from juno_forecast.calendar import Calendar

WEEK, DAY = 168, 24
WEEKS = (1, 2, 3, 4)
Estimator = Callable[[np.ndarray, np.ndarray, int, int], float]


def hourly_boroughs(path: str) -> pd.DataFrame:
    """Pickups per hour (rows, a gap-free grid) and busy borough (columns)."""
    raw = pd.read_csv(path, usecols=["pickup_dt", "borough", "pickups"])
    raw["ds"] = pd.to_datetime(raw["pickup_dt"], format="%m/%d/%Y %H:%M")
    wide = raw[raw["borough"].isin(BUSY)].pivot_table(
        index="ds", columns="borough", values="pickups", aggfunc="sum"
    )
    grid = pd.date_range(wide.index.min(), wide.index.max(), freq="h")
    return wide.reindex(grid)[list(BUSY)]


def _inside(idx: np.ndarray, length: int) -> bool:
    return bool(idx.size) and idx.min() >= 0 and idx.max() < length


def weekly_mean(y: np.ndarray, idx: np.ndarray, post: bool) -> np.ndarray:
    """Mean of ``y`` at the same hours of the week 1-4 weeks before (and after) ``idx``."""
    shifts = [-WEEK * k for k in WEEKS] + ([WEEK * k for k in WEEKS] if post else [])
    rows = [y[idx + s] for s in shifts if _inside(idx + s, len(y))]
    return np.nanmean(rows, axis=0)


def levelled(y: np.ndarray, win: np.ndarray, ref: np.ndarray, post: bool) -> float:
    """Weekly mean over the window times actual / weekly mean over the reference hours."""
    ref = ref[(ref >= 0) & (ref < len(y)) & ~np.isin(ref, win)]
    level = np.nansum(y[ref]) / np.nansum(weekly_mean(y, ref, post))
    return float(np.nansum(weekly_mean(y, win, post)) * level)


def same_hours_days(win: np.ndarray, post: bool) -> np.ndarray:
    """The window's hours on each of the 7 days before (and after) it."""
    days = [-DAY * d for d in range(1, 8)] + ([DAY * d for d in range(1, 8)] if post else [])
    return np.concatenate([win + s for s in days])


def adjacent_hours(win: np.ndarray) -> np.ndarray:
    """The 24 hours just before and the 24 just after the window."""
    return np.r_[np.arange(win[0] - DAY, win[0]), np.arange(win[-1] + 1, win[-1] + 1 + DAY)]


def weekly(y: np.ndarray, others: np.ndarray, i0: int, n: int) -> float:
    win = np.arange(i0, i0 + n)
    return levelled(y, win, same_hours_days(win, post=False), post=False)


def weekly_post(y: np.ndarray, others: np.ndarray, i0: int, n: int) -> float:
    win = np.arange(i0, i0 + n)
    return levelled(y, win, same_hours_days(win, post=True), post=True)


def adjacent(y: np.ndarray, others: np.ndarray, i0: int, n: int) -> float:
    win = np.arange(i0, i0 + n)
    return levelled(y, win, adjacent_hours(win), post=True)


def share(y: np.ndarray, others: np.ndarray, i0: int, n: int) -> float:
    win = np.arange(i0, i0 + n)
    ratio = np.nansum(weekly_mean(y, win, True)) / np.nansum(weekly_mean(others, win, True))
    return float(np.nansum(others[win]) * ratio)


def controls_adjacent(y: np.ndarray, others: np.ndarray, i0: int, n: int) -> float:
    controls_ratio = np.nansum(others[i0 : i0 + n]) / adjacent(others, others, i0, n)
    return adjacent(y, others, i0, n) * controls_ratio


ESTIMATORS: dict[str, Estimator] = {
    "weekly": weekly, "weekly_post": weekly_post, "adjacent": adjacent, "share": share,
    "controls_adjacent": controls_adjacent,
}  # fmt: skip


def spans(wide: pd.DataFrame, windows: pd.DataFrame) -> list[tuple[str, int, int]]:
    """``(borough, first position, hours)`` of every window on the grid of ``wide``."""
    pos = {t: i for i, t in enumerate(wide.index)}
    return [(w["borough"], pos[pd.Timestamp(w["start"])], int(w["hours"]))
            for _, w in windows.iterrows()]  # fmt: skip


def window_totals(wide: pd.DataFrame, windows: pd.DataFrame) -> pd.Series:
    """The actual pickups of every window."""
    totals = [np.nansum(wide[b].to_numpy(float)[i0 : i0 + n]) for b, i0, n in spans(wide, windows)]
    return pd.Series(totals, index=windows.index, dtype=float)


def misses(wide: pd.DataFrame, windows: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    """``E / A - 1`` of every estimator on every (untouched) window; ``A`` from ``totals``."""
    rows = []
    for (b, i0, n), actual in zip(spans(wide, windows), totals, strict=True):
        y = wide[b].to_numpy(float)
        others = wide.drop(columns=b).sum(axis=1).to_numpy(float)
        rows.append({name: est(y, others, i0, n) / actual - 1 for name, est in ESTIMATORS.items()})
    return pd.DataFrame(rows, index=windows.index)


def best_mix(miss: pd.DataFrame) -> tuple[tuple[str, ...], pd.Series]:
    """The subset of estimators whose geometric mean misses least (median), and its misses."""
    logs = np.log1p(miss)
    subsets = (c for k in range(2, len(miss.columns) + 1)
               for c in itertools.combinations(miss.columns, k))  # fmt: skip
    scored = ((np.expm1(logs[list(c)].mean(axis=1)), c) for c in subsets)
    mix, names = min(scored, key=lambda pair: float(pair[0].abs().median()))
    return names, mix


def poisson_only(totals: pd.Series, seed: int) -> pd.Series:
    """Misses of a perfect expectation of ``totals`` under Poisson noise alone."""
    draws = np.random.default_rng(seed).poisson(totals.to_numpy())
    return draws / totals - 1


def summarise(miss: pd.DataFrame, depth: pd.Series) -> pd.DataFrame:
    """Per estimator: median miss, implied median error of the recovered loss, miss needed."""
    implied = miss.abs().div(depth, axis=0).median()
    median_miss = miss.abs().median()
    return pd.DataFrame({
        "median_miss_share_of_actual": median_miss,
        "implied_median_error_share_of_injected": implied,
        "median_miss_needed_for_0.10": median_miss * 0.10 / implied,
    })  # fmt: skip


def main() -> None:
    """Draw the windows, judge the estimators, write the results."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--windows", type=int, default=400)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"skipped: real data not found at {args.data}")
    t0 = time.time()
    wide = hourly_boroughs(args.data)
    windows = places(args.windows, args.seed, Calendar.load(), on_events=0.25)
    totals = window_totals(wide, windows)
    miss = misses(wide, windows, totals)
    names, miss["best_mix"] = best_mix(miss)
    miss["poisson_only"] = poisson_only(totals, args.seed)
    table = summarise(miss, windows["depth"])
    write(args, table, names, len(windows), round(time.time() - t0, 1))


def write(args: argparse.Namespace, table: pd.DataFrame, mix: tuple[str, ...], n: int,
          seconds: float) -> None:  # fmt: skip
    """benchmarks/results/impact_floor.{json,md}; the table to stdout."""
    OUT.mkdir(parents=True, exist_ok=True)
    command = " ".join(["python benchmarks/impact_floor.py", *sys.argv[1:]])
    payload = {"command": command, "windows": n, "seed": args.seed, "best_mix": list(mix),
               "seconds": seconds, "estimators": json.loads(table.round(4).to_json(orient="index"))}  # fmt: skip
    (OUT / "impact_floor.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [
        "# Impact accuracy floor", "", f"`{command}`: {n} untouched windows drawn like "
        f"`benchmarks/impact.py`'s, {seconds} s. best_mix = geometric mean of {', '.join(mix)} "
        "(chosen on these windows).", "",
        "| estimator | median miss of the window total | implied median error of the recovered loss "
        "| miss needed for <= 0.10 |", "| --- | ---: | ---: | ---: |",
    ]  # fmt: skip
    for name, r in table.iterrows():
        lines.append(f"| {name} | {r.iloc[0]:.3f} | {r.iloc[1]:.3f} | {r.iloc[2]:.3f} |")
    (OUT / "impact_floor.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
