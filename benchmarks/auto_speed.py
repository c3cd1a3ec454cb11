"""Seconds per series of ``auto`` (fit with its backtest, then predict), hourly and daily.

    python benchmarks/auto_speed.py            # the five busiest boroughs, hourly and daily
    python benchmarks/auto_speed.py --repeat 3 # best of 3 per series

One series at a time in this process, on the real Uber pickups per borough
(``uber_nyc_enriched.csv``), history up to 2015-06-01, 7 days ahead, shipped
calendar. Reports CPU seconds (``time.process_time``: what the series costs,
whatever else runs on a shared machine) and wall seconds, the median over the
series, and where ``auto``'s time goes (backtest and final fits per candidate).
"""

from __future__ import annotations

import argparse
import os
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs per series (the best is kept)")
    ap.add_argument("--freqs", default="h,D")
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
        cpu = np.median([r[1] for r in rows])
        wall = np.median([r[2] for r in rows])
        print(
            f"{freq} median per series: cpu {cpu:.2f}s, wall {wall:.2f}s, load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
