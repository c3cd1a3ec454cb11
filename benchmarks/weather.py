"""Weather in forecasts, measured on the real NYC data (a benchmark, not a test).

    nice python benchmarks/weather.py                 # daily ols and gbm (minutes)
    nice python benchmarks/weather.py --freq h --models ols   # hourly (longer)
    nice python benchmarks/weather.py --freq h --models auto --name weather_h_auto

Series: the Uber pickups of the five busiest boroughs (``uber_nyc_enriched.csv``),
as metric ``trips``, with the file's own hourly weather (one NYC station) read by
the shipped calendar's ``weather.hourly`` mapping. Rolling origin: a fold every
``--step`` from 2015-01-15 to 2015-06-24, each forecasting ``--horizon`` ahead.

Three backtests per model:

* ``none``: no weather file;
* ``observed``: ``weather=`` the file, known only up to each cutoff; it must
  give the very same numbers as ``none`` (checked: the script fails otherwise);
* ``perfect``: the same file also given as the weather forecast
  (``weather_forecast=``), i.e. tomorrow's weather known exactly: an **upper
  bound** of what a real weather forecast can bring.

The calendar is the shipped one without its curated weather events (the 2015
blizzard and March snowstorm are listed there by name; a backtest that knew them
would see storms no forecast at its cutoff could list), so the weather comes from
the file alone. ``--history-events`` keeps, fold by fold, the curated weather
events that ended before the cutoff (the history's storms, as a real calendar
lists them: the blizzard's travel ban of 27 January 2015 is then a known event
of the history, not a "Snowstorm (observed)" effect learned for every later
snowfall). Days are split into wet days (precipitation >= 0.25 in, or
snowfall >= 1 in) and dry days. Error: the mean absolute error of the daily
totals (hourly forecasts summed per day) per borough and day, and MASE.

Also measured: the spread of the weather effect per calendar month (the standard
deviation over days of log(perfect / none) of the daily totals), the number the
ranges widen by when the weather ahead is unknown
(:data:`juno_forecast.calendar.weather.UNKNOWN_WEATHER_SPREAD`), and the
coverage of the 80/95% ranges of ``none`` per month and day kind, with that
widening and without it (a fourth run, ranges only).

At hourly grain the models see the weather of each hour (the file's hourly
precipitation and temperature; ols per part of the day), not the day's totals.

Writes ``benchmarks/results/weather.md`` (and ``weather.json``; ``weather_h`` at
hourly grain, or the ``--name`` given).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("JUNO_SHARED_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"
FILE = DATA / "uber_nyc_enriched.csv"
FIRST, LAST = "2015-01-15", "2015-06-24"
WET_PRCP, WET_SNOW = 0.25, 1.0


def dataset(freq: str):
    """The five busiest boroughs' pickups as ``trips`` at grain ``freq``."""
    from juno_forecast.data import Dataset, load_data

    ds = load_data(FILE, time_col="pickup_dt", value_col="pickups", metric="trips",
                   by=["borough"], freq=freq)  # fmt: skip
    top = ds.frame.groupby("borough")["y"].sum().nlargest(5).index
    return Dataset.from_frame(ds.frame[ds.frame["borough"].isin(top)], keys=("borough",), freq=freq)


def calendar(before: pd.Timestamp | None = None):
    """The shipped calendar without its curated weather events (see the module docstring);
    with ``before``, those that ended before that day stay (``--history-events``)."""
    from juno_forecast.calendar import Calendar

    cal = Calendar.load()

    def keep(e) -> bool:
        if e.category != "weather":
            return True
        return before is not None and bool(e.spans) and max(b for _, b in e.spans) < before.date()

    return Calendar(replace(cal.spec, events=tuple(e for e in cal.spec.events if keep(e))))


def run(ds, cal, model: str, args, **weather) -> pd.DataFrame:
    """Backtest predictions of one model with the given weather arguments.

    ``--history-events``: fold by fold, each with the curated weather events that
    ended before its cutoff (the history's storms, as a real calendar lists them).
    """
    from juno_forecast.forecast import backtest_predictions

    if not getattr(args, "history_events", False):
        return backtest_predictions(ds, FIRST, LAST, args.horizon, args.step, model, cal, **weather)
    from juno_forecast.errors import NoSeriesError

    parts = []
    for o in pd.date_range(FIRST, LAST, freq=args.step):
        try:
            parts.append(
                backtest_predictions(
                    ds, o, o, args.horizon, args.step, model, calendar(o), **weather
                )
            )
        except NoSeriesError:  # the first hourly fold: too short, as in the one-call backtest
            continue
    return pd.concat(parts, ignore_index=True)


def daily(pred: pd.DataFrame) -> pd.DataFrame:
    """Forecasts and actuals summed per borough, cutoff and day (hourly -> daily totals)."""
    g = pred.assign(day=pred["ds"].dt.normalize())
    return (
        g.groupby(["borough", "cutoff", "day"])
        .agg(y=("y", "sum"), yhat=("yhat", "sum"), scale=("scale", "mean"), n=("y", "size"))
        .reset_index()
    )


def wet_days() -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    """Days with precipitation >= 0.25 in or snowfall >= 1 in, and the daily weather."""
    from juno_forecast.calendar import Calendar

    w = Calendar.load().with_weather(FILE).weather_daily
    wet = w.index[(w["PRCP"] >= WET_PRCP) | (w["SNOW"] >= WET_SNOW)]
    return wet, w


def errors(d: pd.DataFrame, wet: pd.DatetimeIndex) -> dict[str, dict[str, float]]:
    """MAE of daily totals and MASE, on wet days, dry days and all days."""
    out = {}
    kinds = {"wet": d["day"].isin(wet), "dry": ~d["day"].isin(wet), "all": d["day"].notna()}
    for kind, m in kinds.items():
        sub = d[m]
        err = (sub["y"] - sub["yhat"]).abs()
        out[kind] = {
            "days": int(sub["day"].nunique()),
            "mae": float(err.mean()),
            "mase": float((err / (sub["scale"] * sub["n"])).mean()),
        }
    return out


def coverage(pred: pd.DataFrame, wet: pd.DatetimeIndex) -> pd.DataFrame:
    """Share of actuals inside the 80/95% ranges, per month and wet/dry day."""
    p = pred.assign(month=pred["ds"].dt.month, wet=pred["ds"].dt.normalize().isin(wet))
    p["in80"] = (p["y"] >= p["lo_80"]) & (p["y"] <= p["hi_80"])
    p["in95"] = (p["y"] >= p["lo_95"]) & (p["y"] <= p["hi_95"])
    return p.groupby(["month", "wet"])[["in80", "in95"]].mean().round(3)


def coverage_all(pred: pd.DataFrame) -> dict[str, float]:
    """Share of all actuals (every hour or day) inside the 80% and 95% ranges."""
    return {
        "in80": float(((pred["y"] >= pred["lo_80"]) & (pred["y"] <= pred["hi_80"])).mean()),
        "in95": float(((pred["y"] >= pred["lo_95"]) & (pred["y"] <= pred["hi_95"])).mean()),
    }


def month_spread(none: pd.DataFrame, perfect: pd.DataFrame) -> pd.Series:
    """Per calendar month: the standard deviation over borough-days of log(perfect / none)."""
    a, b = daily(none), daily(perfect)
    diff = np.log(b["yhat"].clip(lower=1.0).to_numpy() / a["yhat"].clip(lower=1.0).to_numpy())
    frame = a.assign(d=diff, month=a["day"].dt.month)
    return frame.groupby("month")["d"].std().round(3)


def _without_widening(make):
    """``make()`` with the unknown-weather widening of the ranges turned off."""
    from juno_forecast.calendar import weather

    saved = dict(weather.UNKNOWN_WEATHER_SPREAD)
    weather.UNKNOWN_WEATHER_SPREAD.clear()
    try:
        return make()
    finally:
        weather.UNKNOWN_WEATHER_SPREAD.update(saved)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--freq", default="D", choices=["D", "h"])
    p.add_argument("--models", default="ols,gbm")
    p.add_argument("--horizon", default="7D")
    p.add_argument("--step", default="7D")
    p.add_argument("--name", default=None, help="results file name (default weather[_h])")
    p.add_argument(
        "--history-events",
        action="store_true",
        help="keep the curated weather events that ended before each fold's cutoff",
    )
    args = p.parse_args()
    ds, cal = dataset(args.freq), calendar()
    wet, w = wet_days()
    report: dict = {"freq": args.freq, "horizon": args.horizon, "step": args.step,
                    "wet_days": [str(d.date()) for d in wet], "models": {}}  # fmt: skip
    for model in args.models.split(","):
        t0 = time.time()
        runs = {
            "none": run(ds, cal, model, args),
            "observed": run(ds, cal, model, args, weather=FILE),
            "perfect": run(ds, cal, model, args, weather=FILE, weather_forecast=FILE),
        }
        narrow = _without_widening(functools.partial(run, ds, cal, model, args))
        same = runs["none"].equals(runs["observed"])
        if not same:
            raise SystemExit(f"{model}: weather known up to the cutoff changed the backtest")
        res = {k: errors(daily(v), wet) for k, v in runs.items()}
        ratio = {k: res["perfect"][k]["mae"] / res["none"][k]["mae"] for k in ("wet", "dry", "all")}
        report["models"][model] = {
            "identical_none_observed": same,
            "errors": res,
            "perfect_over_none": ratio,
            "coverage_all": {k: coverage_all(v) for k, v in runs.items()},
            "month_spread": month_spread(runs["none"], runs["perfect"]).to_dict(),
            "coverage_none": coverage(runs["none"], wet).reset_index().to_dict("records"),
            "coverage_none_narrow": coverage(narrow, wet).reset_index().to_dict("records"),
            "coverage_perfect": coverage(runs["perfect"], wet).reset_index().to_dict("records"),
            "seconds": round(time.time() - t0, 1),
        }
        print(model, json.dumps(report["models"][model]["perfect_over_none"]), flush=True)
    write(report, args)


def write(report: dict, args) -> None:
    """``weather[_h].md`` (or ``--name``) and ``.json`` under benchmarks/results."""
    name = args.name or ("weather" if args.freq == "D" else "weather_h")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=1, default=str))
    lines = [
        f"# Weather in forecasts ({'daily' if args.freq == 'D' else 'hourly'} trips, 5 boroughs)",
        "",
        f"`nice python benchmarks/weather.py --freq {args.freq} --models "
        f"{','.join(report['models'])} --horizon {args.horizon} --step {args.step}"
        + (" --history-events" if args.history_events else "")
        + (f" --name {args.name}`" if args.name else "`"),
        "",
        f"Folds every {args.step} from {FIRST} to {LAST}, {args.horizon} ahead; shipped calendar"
        + (
            " with only the curated weather events that ended before each cutoff."
            if args.history_events
            else " without its curated weather events."
        )
        + " Wet days: precipitation >= 0.25 in or snowfall"
        f" >= 1 in ({len(report['wet_days'])} days). MAE of daily totals per borough and day.",
        "",
        "| model | run | wet MAE | dry MAE | all MAE | wet MASE | dry MASE | all MASE |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    label = {"none": "no weather", "observed": "weather up to each cutoff",
             "perfect": "perfect forecast (upper bound)"}  # fmt: skip
    for model, r in report["models"].items():
        for run_name, e in r["errors"].items():
            lines.append(
                f"| {model} | {label[run_name]} | {e['wet']['mae']:.0f} | {e['dry']['mae']:.0f} "
                f"| {e['all']['mae']:.0f} | {e['wet']['mase']:.3f} | {e['dry']['mase']:.3f} "
                f"| {e['all']['mase']:.3f} |"
            )
        q = r["perfect_over_none"]
        lines.append(
            f"| {model} | perfect / none | {q['wet']:.2f}x | {q['dry']:.2f}x | {q['all']:.2f}x "
            "| | | |"
        )
    lines += ["", "`none` and `observed` are identical in every fold (checked by the script).", ""]
    lines += ["Coverage of the 80% / 95% ranges, all timestamps:", ""]
    for model, r in report["models"].items():
        c = r["coverage_all"]
        lines.append(
            f"* {model}: no weather {c['none']['in80']:.3f} / {c['none']['in95']:.3f}; "
            f"perfect forecast {c['perfect']['in80']:.3f} / {c['perfect']['in95']:.3f}"
        )
    lines.append("")
    lines += ["## Spread of the weather effect per month (std of log(perfect / none))", ""]
    lines += ["| model | " + " | ".join(f"m{m}" for m in range(1, 7)) + " |"]
    lines += ["| --- |" + " ---: |" * 6]
    for model, r in report["models"].items():
        s = {int(k): v for k, v in r["month_spread"].items()}
        lines.append(
            f"| {model} | "
            + " | ".join(f"{s.get(m, float('nan')):.3f}" for m in range(1, 7))
            + " |"
        )
    lines += ["", "## Coverage of the ranges, no weather forecast (month, wet day)", ""]
    lines += ["Widened: with the unknown-weather spread of the month (December-March);"]
    lines += ["plain: the same forecasts with that widening turned off.", ""]
    lines += [
        "| model | month | wet | cov 80 widened | cov 95 widened | cov 80 plain | cov 95 plain |"
    ]
    lines += ["| --- | ---: | --- | ---: | ---: | ---: | ---: |"]
    for model, r in report["models"].items():
        for c, n in zip(r["coverage_none"], r["coverage_none_narrow"], strict=True):
            lines.append(
                f"| {model} | {c['month']} | {c['wet']} | {c['in80']:.3f} | {c['in95']:.3f} "
                f"| {n['in80']:.3f} | {n['in95']:.3f} |"
            )
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
