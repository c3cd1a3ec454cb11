"""Seconds per series of ``auto`` (fit with its backtest, then predict), hourly and daily.

    python benchmarks/auto_speed.py            # the five busiest boroughs, hourly and daily
    python benchmarks/auto_speed.py --repeat 3 # best of 3 per series

One series at a time in this process, on the real Uber pickups per borough
(``uber_nyc_enriched.csv``), history up to 2015-06-01, 7 days ahead, shipped
calendar. Reports CPU seconds (``time.process_time``: what the series costs,
whatever else runs on a shared machine) and wall seconds, the median over the
series. ``--prophet`` also times Prophet with its defaults (fit, then predict the
same 7 days with its 80% and 95% intervals, as ``benchmarks/batch.py``'s Prophet
loop) on the same hourly histories in the same run; its CPU seconds include
cmdstan's (a child process: ``resource.RUSAGE_CHILDREN``).

    python benchmarks/auto_speed.py --repeat 2 --prophet
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("JUNO_SHARED_DATA", REPO.parent / "shared" / "data"))
CUTOFF = pd.Timestamp("2015-06-01")


def series(freq: str) -> list[tuple[dict[str, str], pd.Series]]:
    """The five busiest boroughs at grain ``freq``, up to the cutoff."""
    from juno_forecast.data import load_data

    ds = load_data(
        DATA / "uber_nyc_enriched.csv",
        time_col="pickup_dt",
        value_col="pickups",
        metric="trips",
        by=["borough"],
        freq=freq,
    )
    top = ds.frame.groupby("borough")["y"].sum().nlargest(5).index
    out = []
    for _metric, keys, y in ds.series():
        if keys["borough"] in top:
            out.append((keys, y[y.index < CUTOFF]))
    return out


def time_one(y: pd.Series, keys: dict[str, str], freq: str, calendar) -> tuple[float, float, str]:
    """CPU and wall seconds of one fit + predict, and what auto chose."""
    from juno_forecast.forecast import SeriesForecaster

    step = pd.Timedelta(hours=1) if freq == "h" else pd.Timedelta(days=1)
    horizon = 168 if freq == "h" else 7
    future = pd.date_range(y.index[-1] + step, periods=horizon, freq=freq)
    c0, w0 = time.process_time(), time.perf_counter()
    f = SeriesForecaster("auto", calendar, "trips", keys, freq, horizon=horizon).fit(y)
    f.predict(future)
    return time.process_time() - c0, time.perf_counter() - w0, f.model_.chosen_


def cpu_with_children() -> float:
    """CPU seconds of this process and its finished children (cmdstan runs as a child)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def time_prophet(y: pd.Series, freq: str) -> tuple[float, float, str]:
    """CPU (with cmdstan's) and wall seconds of Prophet's fit and predict with 80/95% intervals."""
    import logging

    from prophet import Prophet

    logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
    horizon = 168 if freq == "h" else 7
    df = pd.DataFrame({"ds": y.index, "y": y.to_numpy()})
    c0, w0 = cpu_with_children(), time.perf_counter()
    m = Prophet().fit(df)
    fut = m.make_future_dataframe(periods=horizon, freq=freq, include_history=False)
    m.predict(fut)
    m.interval_width = 0.95  # the same fit, its 95% interval
    m.predict(fut)
    return cpu_with_children() - c0, time.perf_counter() - w0, "prophet"


def report(freq: str, label: str, rows: list[tuple[str, float, float, str]]) -> None:
    """Print the median CPU and wall seconds per series and the load average."""
    cpu = np.median([r[1] for r in rows])
    wall = np.median([r[2] for r in rows])
    load = os.getloadavg()[0]
    print(f"{freq} {label} median per series: cpu {cpu:.2f}s, wall {wall:.2f}s, load {load:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs per series (the best is kept)")
    ap.add_argument("--freqs", default="h,D")
    ap.add_argument("--prophet", action="store_true", help="also time Prophet on the same series")
    args = ap.parse_args()
    from juno_forecast.calendar import load_calendar

    calendar = load_calendar(None)
    for freq in args.freqs.split(","):
        rows = []
        for keys, y in series(freq):
            runs = [time_one(y, keys, freq, calendar) for _ in range(args.repeat)]
            cpu, wall, chosen = min(runs)
            rows.append((keys["borough"], cpu, wall, chosen))
            print(f"{freq} {keys['borough']:10s} cpu {cpu:6.2f}s wall {wall:6.2f}s  {chosen}")
        report(freq, "auto", rows)
        if not args.prophet:
            continue
        rows = []
        for keys, y in series(freq):
            cpu, wall, _ = min(time_prophet(y, freq) for _ in range(args.repeat))
            rows.append((keys["borough"], cpu, wall, "prophet"))
            print(f"{freq} {keys['borough']:10s} cpu {cpu:6.2f}s wall {wall:6.2f}s  prophet")
        report(freq, "prophet", rows)


if __name__ == "__main__":
    main()
