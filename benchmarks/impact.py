"""Benchmark of incident impact on the real NYC Uber pickups (hourly, per borough).

Run:  python benchmarks/impact.py [--data ../shared/data/uber_nyc_enriched.csv]
                                  [--model gbm] [--folds 42] [--level-days 7] [--anchor 1]
                                  [--post] [--refits 0] [--weather] [--controls]
                                  [--places 40] [--tag _x]

About a minute with gbm on a quiet machine (one forecaster fit per case; 56 s
measured, 150 s with other jobs on the 2 cores); --refits 3 fits four.
--controls judges each injected borough with the three other busy boroughs as
controls (``run_impact(controls={"borough": [...]})``; four fits per case,
296 s with other jobs); the blizzard stays without controls (city-wide).

1. Injected losses: at 40 seeded places (borough among the four busy ones, start
   hour between 2015-02-01 and 2015-06-25, 2 to 48 hours, 10% to 60% cut; a
   quarter of them on a day of the shipped calendar: a holiday, parade, race...)
   the pickups are cut and ``run_impact`` must recover the cut. Reported: the
   median absolute error of the recovered cumulative loss as a share of the
   injected loss (target <= 10%), and how often the 95% range of the difference
   covers the injected loss (target 90-98%).
2. Null windows: 40 other seeded places with nothing injected; the 95% range of
   the difference must include zero in >= 90% of them.
3. The blizzard of 26-27 January 2015 (travel ban on the night of the 26th):
   pickups lost per borough with ranges, the blizzard itself left out of the
   counterfactual (``exclude_events=["Blizzard*", "Snowstorm*"]``), only 25 days of history.

Staten Island (about 1.6 pickups an hour), EWR (almost none) and the sparse
``NA`` rows are left out of the injections: a relative loss on a handful of
pickups is noise. They are in the blizzard table.

Results: benchmarks/results/impact_<model>[_post][_weather][<tag>].{json,md} and the
per-case CSV.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from juno_forecast.calendar import Calendar  # noqa: E402
from juno_forecast.data import Dataset, load_data  # noqa: E402
from juno_forecast.impact import impact_summary_markdown, run_impact  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
DATA = ROOT.parent / "shared" / "data" / "uber_nyc_enriched.csv"
BUSY = ("Manhattan", "Brooklyn", "Queens", "Bronx")
FIRST, LAST = pd.Timestamp("2015-02-01"), pd.Timestamp("2015-06-25")


def event_days(cal: Calendar) -> list[pd.Timestamp]:
    """Days in the benchmark period on which the shipped calendar has an occurrence."""
    occ = cal.occurrences(FIRST, LAST, metric="pickups")
    days = set()
    for _, r in occ.iterrows():
        if r["shape"] == "step":
            continue
        days.update(pd.date_range(r["start"], r["end"], freq="D"))
    return sorted(d for d in days if FIRST <= d <= LAST)


def places(n: int, seed: int, cal: Calendar, on_events: float) -> pd.DataFrame:
    """Seeded windows: borough, start, hours, depth, and whether the start is on an event day."""
    rng = np.random.default_rng(seed)
    days = event_days(cal)
    rows = []
    for i in range(n):
        on_event = i < round(n * on_events)
        if on_event:
            day = days[int(rng.integers(len(days)))]
            start = day + pd.Timedelta(hours=int(rng.integers(0, 24)))
        else:
            start = FIRST + pd.Timedelta(
                hours=int(rng.integers(0, int((LAST - FIRST) / pd.Timedelta(hours=1))))
            )
        rows.append({"borough": str(rng.choice(BUSY)), "start": start,
                     "hours": int(rng.integers(2, 49)), "depth": float(rng.uniform(0.1, 0.6)),
                     "event_day": on_event})  # fmt: skip
    return pd.DataFrame(rows)


def one_case(frame: pd.DataFrame, place: pd.Series, inject: bool, args: argparse.Namespace,
             cal: Calendar) -> dict:  # fmt: skip
    """Cut one borough's pickups in the window (or not) and judge it with run_impact."""
    start = pd.Timestamp(place["start"])
    end = start + pd.Timedelta(hours=int(place["hours"]) - 1)
    zone = frame["borough"] == place["borough"]
    mask = zone & (frame["ds"] >= start) & (frame["ds"] <= end)
    injected = float((frame.loc[mask, "y"] * place["depth"]).sum()) if inject else 0.0
    df = frame[frame["borough"].isin(BUSY) if args.controls else zone].copy()
    if inject:
        df.loc[mask[mask].index, "y"] = df.loc[mask[mask].index, "y"] * (1 - place["depth"])
    ds = Dataset.from_frame(df, keys=("borough",), freq="h")
    # the loss is in one borough: the other busy ones are clean controls (judged: that one only;
    # Staten Island, EWR and NA would add three fits and almost nothing to the pooled ratio)
    others = [b for b in BUSY if b != place["borough"]]
    controls = {"borough": others} if args.controls else None
    res = run_impact(ds, start, end, calendar=cal, controls=controls, **settings(args))
    row = res.table.iloc[0]
    assert row["borough"] == place["borough"]
    recovered = -float(row["difference"])
    print(f"  {place['borough']:<9} {start} {int(place['hours']):>2}h injected {injected:>9.0f} "
          f"recovered {recovered:>9.0f}", file=sys.stderr, flush=True)  # fmt: skip
    return {
        **place.to_dict(), "end": end, "injected": injected, "recovered": recovered,
        "expected_total": float(row["expected_total"]), "actual_total": float(row["actual_total"]),
        "loss_lo_95": -float(row["difference_hi_95"]), "loss_hi_95": -float(row["difference_lo_95"]),
        "loss_lo_80": -float(row["difference_hi_80"]), "loss_hi_80": -float(row["difference_lo_80"]),
        "events": row["events"], "folds": int(row["folds"]), "model": row["model"],
        "range_method": row["range_method"], "level": float(row["level"]),
        "control_factor": float(row["control_factor"]),
        "control_weight": float(row["control_weight"]),
    }  # fmt: skip


def settings(args: argparse.Namespace) -> dict:
    """The impact settings the command line chose (the same for every case and the blizzard)."""
    return {"post": args.post, "model": args.model, "n_folds": args.folds,
            "anchor": args.anchor, "level_days": args.level_days, "refits": args.refits}  # fmt: skip


def score(cases: pd.DataFrame) -> dict:
    """Accuracy and coverage of injected cases, false alarms of null cases."""
    inj, null = cases[cases["injected"] > 0], cases[cases["injected"] == 0]
    rel_err = (inj["recovered"] - inj["injected"]).abs() / inj["injected"]
    covered = (inj["loss_lo_95"] <= inj["injected"]) & (inj["injected"] <= inj["loss_hi_95"])
    covered80 = (inj["loss_lo_80"] <= inj["injected"]) & (inj["injected"] <= inj["loss_hi_80"])
    zero_in = (null["loss_lo_95"] <= 0) & (null["loss_hi_95"] >= 0)
    ev = inj["event_day"].astype(bool)
    return {
        "injected_cases": len(inj), "null_cases": len(null),
        "median_abs_error_share_of_injected": float(rel_err.median()),
        "median_abs_error_share_event_days": float(rel_err[ev].median()) if ev.any() else None,
        "median_abs_error_share_other_days": float(rel_err[~ev].median()),
        "coverage_95_injected": float(covered.mean()),
        "coverage_80_injected": float(covered80.mean()),
        "null_range_includes_zero": float(zero_in.mean()),
        "median_range_halfwidth_share_of_expected": float(
            ((inj["loss_hi_95"] - inj["loss_lo_95"]) / 2 / inj["expected_total"]).median()),
        "median_counterfactual_error_null_share_of_expected": float(
            (null["recovered"].abs() / null["expected_total"]).median()),
    }  # fmt: skip


def blizzard(ds: Dataset, args: argparse.Namespace, cal: Calendar) -> tuple[pd.DataFrame, str]:
    """Pickups lost per borough in the blizzard of 26-27 January 2015, with ranges."""
    # (controls stay off: a city-wide storm hits every borough, no borough is a clean control)
    res = run_impact(ds, "2015-01-26", "2015-01-27", calendar=cal,
                     exclude_events=["Blizzard*", "Snowstorm*"], **settings(args))  # fmt: skip
    cols = ["borough", "actual_total", "expected_total", "lo_95", "hi_95", "difference",
            "difference_lo_95", "difference_hi_95", "difference_pct", "affected", "folds",
            "range_method", "level"]  # fmt: skip
    return res.table[cols], impact_summary_markdown(res, title="Blizzard of 26-27 January 2015")


def main() -> None:
    """Run the three parts, print the numbers, write the results."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DATA))
    p.add_argument("--model", default="gbm")
    p.add_argument("--folds", type=int, default=42)
    p.add_argument("--level-days", type=int, default=7)
    p.add_argument("--anchor", type=float, default=1.0)
    p.add_argument("--refits", type=int, default=0)
    p.add_argument("--places", type=int, default=40)
    p.add_argument("--post", action="store_true")
    p.add_argument(
        "--controls",
        action="store_true",
        help="the other boroughs as controls (controls='auto' for the blizzard)",
    )
    p.add_argument("--weather", action="store_true", help="observed weather events in the calendar")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--tag", default="", help="suffix of the result files (for variants)")
    args = p.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"skipped: real data not found at {args.data}")
    t0 = time.time()
    ds = load_data(args.data, time_col="pickup_dt", value_col="pickups", metric="pickups",
                   by=("borough",))  # fmt: skip
    cal = Calendar.load()
    if args.weather:  # the observed weather of the same file, by the calendar's thresholds
        cal = cal.with_weather(args.data)
    inj = places(args.places, args.seed, cal, on_events=0.25)
    null = places(args.places, args.seed + 1, cal, on_events=0.25)
    cases = [one_case(ds.frame, r, True, args, cal) for _, r in inj.iterrows()]
    cases += [one_case(ds.frame, r, False, args, cal) for _, r in null.iterrows()]
    table = pd.DataFrame(cases)
    scores = score(table)
    bliz, bliz_md = blizzard(ds, args, cal)
    scores["seconds"] = round(time.time() - t0, 1)
    write(args, table, scores, bliz, bliz_md)


def write(args: argparse.Namespace, cases: pd.DataFrame, scores: dict, bliz: pd.DataFrame,
          bliz_md: str) -> None:  # fmt: skip
    """Results to benchmarks/results/impact_<model>[_post].*; the numbers to stdout."""
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"impact_{args.model}" + ("_post" if args.post else "")
    tag += ("_weather" if args.weather else "") + ("_controls" if args.controls else "")
    tag += args.tag or ""
    cases.to_csv(OUT / f"{tag}_cases.csv", index=False)
    payload = {"command": " ".join(["python benchmarks/impact.py", *sys.argv[1:]]),
               **settings(args), **scores,
               "blizzard": json.loads(bliz.to_json(orient="records"))}  # fmt: skip
    (OUT / f"{tag}.json").write_text(json.dumps(payload, indent=2) + "\n")
    lines = [f"# Impact benchmark ({args.model}{', post' if args.post else ''}"
             f"{', observed weather' if args.weather else ''}"
             f"{', controls' if args.controls else ''})", "",
             f"`{payload['command']}`", "", "| measure | value | target |", "| --- | ---: | --- |"]  # fmt: skip
    targets = {"median_abs_error_share_of_injected": "<= 0.10", "coverage_95_injected": "0.90-0.98",
               "null_range_includes_zero": ">= 0.90"}  # fmt: skip
    for k, v in scores.items():
        lines.append(
            f"| {k} | {v if not isinstance(v, float) else round(v, 3)} | {targets.get(k, '')} |"
        )
    lines += ["", bliz_md]
    (OUT / f"{tag}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
