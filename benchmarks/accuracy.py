"""Forecast accuracy on the real NYC data (a benchmark, not a test).

    python benchmarks/accuracy.py            # full run, a few tens of minutes on 2 cores
    python benchmarks/accuracy.py --quick    # without Prophet (minutes)

Suites (rolling origin, horizon 7 days, weekly steps, no look-ahead):

* ``boroughs-h`` / ``boroughs-D``: hourly and daily Uber pickups of the five
  busiest boroughs (``uber_nyc_enriched.csv``), origins over the last 8 weeks;
* ``bases-D``: daily trips and active vehicles of the Uber bases
  (``Uber-Jan-Feb-FOIL.csv``), origins over the last 3 weeks;
* ``events-h`` / ``events-D`` / ``events-bases``: origins placed just before the
  calendar's event weeks in the data (MLK Day, the January 2015 blizzard,
  Presidents Day, Memorial Day), because the last 8 weeks hold only one holiday.

Models: ``naive`` (seasonal naive), ``ols``, ``gbm``, ``prophet`` and ``auto``
with the shipped calendar; ``auto`` with ``--calendar none``; and the reference
``prophet-us``: Prophet with default settings plus ``add_country_holidays("US")``
and no calendar. MASE is scaled by the in-sample seasonal naive MAE of each
fold's history. Prints markdown tables and writes them to
``benchmarks/results/accuracy.md``, with the coverage of the 80%/95% ranges on
event hours (a calendar event in the series' scope is on) against ordinary
hours, and on the Memorial Day weekend 2015 with Fleet Week:

    python benchmarks/accuracy.py --suites boroughs-h,events-h --models auto
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("JUNO_SHARED_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"
EVENT_ORIGINS = ["2015-01-17", "2015-01-24", "2015-02-14", "2015-05-21"]


@dataclass(frozen=True)
class Suite:
    """One set of series and fold origins."""

    name: str
    loader: str
    freq: str
    origins: tuple[str, ...]


def load(loader: str, freq: str):
    """The Dataset of a suite (boroughs: the five busiest; bases: trips and active vehicles)."""
    from juno_forecast.data import Dataset, load_data

    if loader == "boroughs":
        ds = load_data(
            DATA / "uber_nyc_enriched.csv",
            time_col="pickup_dt",
            value_col="pickups",
            metric="trips",  # pickups are trips: the calendar's curated effects are per metric
            by=["borough"],
            freq=freq,
        )
        top = ds.frame.groupby("borough")["y"].sum().nlargest(5).index
        return Dataset.from_frame(
            ds.frame[ds.frame["borough"].isin(top)], keys=("borough",), freq=freq
        )
    raw = pd.read_csv(DATA / "Uber-Jan-Feb-FOIL.csv")
    # active vehicles stand for drivers online (the data README): the calendar's metric name
    raw = raw.rename(columns={"active_vehicles": "drivers_online"})
    tidy = raw.melt(
        id_vars=["dispatching_base_number", "date"],
        value_vars=["trips", "drivers_online"],
        var_name="metric",
        value_name="y",
    ).rename(columns={"date": "ds"})
    tidy["ds"] = pd.to_datetime(tidy["ds"], format="%m/%d/%Y")
    return Dataset.from_frame(tidy, keys=("dispatching_base_number",), freq="D")


def last_weeks(end: str, weeks: int) -> tuple[str, ...]:
    """Weekly origins so that ``weeks`` full weeks end at ``end`` (exclusive)."""
    stop = pd.Timestamp(end)
    return tuple(str((stop - pd.Timedelta(days=7 * k)).date()) for k in range(weeks, 0, -1))


SUITES = [
    Suite("boroughs-h", "boroughs", "h", last_weeks("2015-07-01", 8)),
    Suite("boroughs-D", "boroughs", "D", last_weeks("2015-07-01", 8)),
    Suite("bases-D", "bases", "D", last_weeks("2015-03-01", 3)),
    Suite("events-h", "boroughs", "h", tuple(EVENT_ORIGINS)),
    Suite("events-D", "boroughs", "D", tuple(EVENT_ORIGINS)),
    Suite("events-bases", "bases", "D", tuple(EVENT_ORIGINS[:3])),
]


def model_spec(label: str, freq: str):
    """``(model, calendar)`` for a benchmark label."""
    from juno_forecast.models.prophet import ProphetModel

    if label == "prophet-us":
        m = ProphetModel(freq=freq, log=False, country_holidays="US", use_calendar=False)
        m.label = "prophet-us"
        return m, "none"
    if label == "auto/none":
        return "auto", "none"
    return label, None


def run_job(suite: Suite, label: str) -> tuple[pd.DataFrame, float, int]:
    """Backtest one model on one suite: predictions, seconds and number of fits (series x folds)."""
    from juno_forecast.forecast import backtest_predictions

    ds = load(suite.loader, suite.freq)
    model, calendar = model_spec(label, suite.freq)
    t0 = time.perf_counter()
    pred = pd.DataFrame()
    for origin in suite.origins:
        p = backtest_predictions(ds, origin, origin, "7D", "7D", model=[model], calendar=calendar)
        pred = pd.concat([pred, p], ignore_index=True)
    seconds = time.perf_counter() - t0
    pred["model"] = label
    pred["suite"] = suite.name
    n_fits = pred.groupby([*ds.keys, "metric", "cutoff"]).ngroups if len(pred) else 0
    return pred, seconds, n_fits


def suite_models(suite: Suite, quick: bool) -> list[str]:
    """Every model on the rolling suites; on the event suites only what the event table needs."""
    if suite.name.startswith("events"):
        return ["naive", "auto", "auto/none"]
    return ["naive", "ols", "gbm", "ets", "auto", "auto/none"] + (
        [] if quick else ["prophet", "prophet-us"]
    )


def _progress(suite: Suite, label: str, fut, t0: float) -> None:
    """One line on stderr per finished job."""
    if fut.exception() is not None:
        print(
            f"[{time.perf_counter() - t0:6.0f}s] {suite.name} {label}: FAILED {fut.exception()!r}",
            file=sys.stderr,
        )
        return
    pred, seconds, n = fut.result()
    s = scores(pred)
    print(
        f"[{time.perf_counter() - t0:6.0f}s] {suite.name:13s} {label:10s} mase={s['mase']:.3f} "
        f"smape={s['smape']:.2f} cov80={s['coverage_80']:.3f} cov95={s['coverage_95']:.3f} "
        f"{seconds / max(n, 1):.2f}s/fit",
        file=sys.stderr,
        flush=True,
    )


def event_names(start: str, end: str) -> dict[pd.Timestamp, str]:
    """Days of public holidays and weather events of the shipped calendar, with their names."""
    from juno_forecast.calendar import load_calendar

    occ = load_calendar(None).occurrences(start, end, category=["holiday", "weather"])
    days: dict[pd.Timestamp, str] = {}
    for row in occ.itertuples():
        for d in pd.date_range(row.start, row.end, freq="D"):
            if row.name not in days.get(d, "").split("; "):  # one event may span entries
                days[d] = f"{days[d]}; {row.name}" if d in days else row.name
    return days


def days_off(start: str, end: str) -> list[pd.Timestamp]:
    """Days of the shipped calendar's ``hours_like`` days off (the Monday holidays)."""
    from juno_forecast.calendar import load_calendar

    occ = load_calendar(None).occurrences(start, end)
    rows = occ[occ["hours_like"].map(lambda v: isinstance(v, tuple))]
    return sorted({d for r in rows.itertuples() for d in pd.date_range(r.start, r.end)})


def scores(pred: pd.DataFrame) -> pd.Series:
    """MASE, sMAPE and coverage of backtest rows."""
    from juno_forecast.forecast import score

    return score(pred)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="skip Prophet")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=str(RESULTS / "accuracy.md"))
    ap.add_argument("--predictions", default=None, help="also save every forecast row (.parquet)")
    ap.add_argument(
        "--suites", default=None, help="comma-separated suite names (default: all), e.g. bases-D"
    )
    ap.add_argument(
        "--models",
        default=None,
        help="comma-separated model labels (default: all), e.g. naive,auto",
    )
    args = ap.parse_args()
    if not (DATA / "uber_nyc_enriched.csv").exists():
        sys.exit(f"real NYC data not found at {DATA} (set JUNO_SHARED_DATA)")
    jobs = [
        (s, m)
        for s in SUITES
        if not args.suites or s.name in args.suites.split(",")
        for m in suite_models(s, args.quick)
        if not args.models or m in args.models.split(",")
    ]
    if not jobs:
        sys.exit(f"no job left; suites are {', '.join(s.name for s in SUITES)}")
    jobs.sort(key=lambda j: j[1].startswith("prophet"))  # the slow ones last
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_job, s, m) for s, m in jobs]
        for (s, m), fut in zip(jobs, futures, strict=True):
            fut.add_done_callback(lambda f, s=s, m=m: _progress(s, m, f, t0))
        results = [f.result() for f in futures]
    wall = time.perf_counter() - t0
    if args.predictions:
        pd.concat([r[0] for r in results], ignore_index=True).to_parquet(
            args.predictions, index=False
        )
    report = render(jobs, results, wall, args)
    print(report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report)


def _flags(args) -> str:
    """The command-line flags that changed what ran, as typed."""
    out = " --quick" if args.quick else ""
    out += f" --suites {args.suites}" if args.suites else ""
    return out + (f" --models {args.models}" if args.models else "")


def render(jobs, results, wall: float, args) -> str:
    """The markdown report: per suite and model, targets, event days."""
    rows, preds = [], []
    for (suite, label), (pred, seconds, n_fits) in zip(jobs, results, strict=True):
        s = scores(pred)
        rows.append(
            {
                "suite": suite.name,
                "model": label,
                "n": int(s["n"]),
                "MASE": s["mase"],
                "sMAPE %": s["smape"],
                "cov 80": s["coverage_80"],
                "cov 95": s["coverage_95"],
                "fit s/series": seconds / max(n_fits, 1),
            }
        )
        preds.append(pred)
    table = pd.DataFrame(rows)
    allp = pd.concat(preds, ignore_index=True)
    lines = [
        "# Forecast accuracy on the real NYC data",
        "",
        f"Command: `python benchmarks/accuracy.py{_flags(args)}` "
        f"(wall {wall / 60:.1f} min, {args.jobs} processes).",
        "",
        "## Per suite and model",
        "",
        _md(table),
        "",
    ]
    lines += targets(table) + event_table(allp) + coverage_table(allp)
    return "\n".join(lines) + "\n"


def targets(table: pd.DataFrame) -> list[str]:
    """The issue's targets on the rolling suites (the last weeks of each file)."""
    rolling = table[~table["suite"].str.startswith("events")]
    out = ["## Targets (rolling suites)", ""]
    rows = []
    for suite, g in rolling.groupby("suite", sort=False):
        m = g.set_index("model")
        if not {"auto", "naive"} <= set(m.index):
            continue
        auto = m.loc["auto"]
        row = {
            "suite": suite,
            "auto MASE": auto["MASE"],
            "auto / naive (<= 0.85)": auto["MASE"] / m.loc["naive", "MASE"],
        }
        if "prophet-us" in m.index:
            row["auto / prophet-us (<= 0.9)"] = auto["MASE"] / m.loc["prophet-us", "MASE"]
        row["auto cov 80 (0.75-0.85)"] = auto["cov 80"]
        row["auto cov 95 (0.92-0.97)"] = auto["cov 95"]
        rows.append(row)
    return out + ([_md(pd.DataFrame(rows)), ""] if rows else [])


def event_table(allp: pd.DataFrame) -> list[str]:
    """Mean absolute scaled error on event days against other days, with and without the calendar."""
    names = event_names(str(allp["ds"].min().date()), str(allp["ds"].max().date()))
    allp = allp.assign(
        day=allp["ds"].dt.normalize(), err=(allp["y"] - allp["yhat"]).abs() / allp["scale"]
    )
    allp["event"] = allp["day"].isin(list(names))
    rows, ratios = [], []
    for suite, g in allp.groupby("suite", sort=False):
        by_model = {}
        for model in ("naive", "auto", "auto/none"):
            m = g[g["model"] == model]
            if m.empty:
                continue
            by_model[model] = m.loc[m["event"], "err"].mean()
            rows.append(
                {
                    "suite": suite,
                    "model": model,
                    "event rows": int(m["event"].sum()),
                    "MASE event days": by_model[model],
                    "MASE other days": m.loc[~m["event"], "err"].mean(),
                }
            )
        if {"auto", "auto/none"} <= set(by_model) and g["event"].any():
            ratios.append(
                {
                    "suite": suite,
                    "calendar / none on event days (<= 0.8)": by_model["auto"]
                    / by_model["auto/none"],
                }
            )
    per_day = []
    ev = allp[allp["event"] & allp["model"].isin(["auto", "auto/none"])]
    for (day, model), g in ev.groupby(["day", "model"]):
        per_day.append(
            {"day": str(day.date()), "event": names[day], "model": model, "MASE": g["err"].mean()}
        )
    if not per_day or set(ev["model"]) != {"auto", "auto/none"}:
        return [_md(pd.DataFrame(rows)), ""]
    daily = (
        pd.DataFrame(per_day)
        .pivot(index=["day", "event"], columns="model", values="MASE")
        .reset_index()
    )
    daily["calendar / none"] = daily["auto"] / daily["auto/none"]
    return [
        "## Event days (holidays and weather events of the shipped calendar)",
        "",
        _md(pd.DataFrame(rows)),
        "",
        _md(pd.DataFrame(ratios)),
        "",
        "Per event day, all suites pooled (auto with the calendar against auto with none):",
        "",
        _md(daily),
        "",
    ]


#: the Memorial Day weekend of 2015 (Friday to Monday), inside Fleet Week (May 20-26)
MEMORIAL_WEEKEND = ("2015-05-22", "2015-05-25")


def coverage_table(allp: pd.DataFrame) -> list[str]:
    """Coverage of the 80%/95% ranges on event hours against ordinary hours, per model.

    An event hour is a row whose ``events`` label is not empty: some calendar
    event in the series' scope (metric, zone, hours, window days) is on. The
    Memorial Day weekend with Fleet Week is shown on its own, and so are the days
    off (``hours_like``: the Monday holidays) and their evenings before (18-23).
    Hourly and daily suites are pooled separately.
    """
    off = days_off(str(allp["ds"].min().date()), str(allp["ds"].max().date()))
    day = allp["ds"].dt.normalize()
    allp = allp.assign(
        err=(allp["y"] - allp["yhat"]).abs() / allp["scale"],
        day_off=day.isin(off),
        eve=day.isin([d - pd.Timedelta(days=1) for d in off]) & (allp["ds"].dt.hour >= 18),
        freq=np.where(allp["suite"].str.endswith("-h"), "hourly", "daily"),
        event=allp["events"].fillna("").astype(str) != "",
        hit80=(allp["y"] >= allp["lo_80"]) & (allp["y"] <= allp["hi_80"]),
        hit95=(allp["y"] >= allp["lo_95"]) & (allp["y"] <= allp["hi_95"]),
    )
    lo, hi = (pd.Timestamp(d) for d in MEMORIAL_WEEKEND)
    memorial = (allp["ds"] >= lo) & (allp["ds"] < hi + pd.Timedelta(days=1))
    rows = []
    for (freq, model), g in allp.groupby(["freq", "model"], sort=False):
        for label, mask in (
            ("ordinary", ~g["event"]),
            ("with a calendar event", g["event"]),
            ("Memorial Day weekend with Fleet Week", memorial[g.index]),
            ("Monday holidays (hours_like)", g["day_off"]),
            ("their evenings before (18-23)", g["eve"]),
        ):
            m = g[mask]
            if len(m):
                rows.append(
                    {
                        "grain": freq,
                        "model": model,
                        "rows": label,
                        "n": len(m),
                        "MASE": m["err"].mean(),
                        "80% range holds (>= 0.75 on events)": m["hit80"].mean(),
                        "95% range holds (>= 0.90 on events)": m["hit95"].mean(),
                    }
                )
    if not rows:
        return []
    return [
        "## Ranges on event hours (all suites of a grain pooled)",
        "",
        _md(pd.DataFrame(rows)),
        "",
    ]


def _md(df: pd.DataFrame) -> str:
    """A markdown table with 3 decimals."""
    cols = list(df.columns)
    fmt = [
        [f"{v:.3f}" if isinstance(v, float | np.floating) else str(v) for v in r]
        for r in df.itertuples(index=False)
    ]
    return "\n".join(
        ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        + ["| " + " | ".join(r) + " |" for r in fmt]
    )


if __name__ == "__main__":
    main()
