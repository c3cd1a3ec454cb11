"""CPU seconds per series of ``detect`` and ``check`` over many hourly series.

The series are the nightly benchmark's (``benchmarks/nightly_scale.py``): real hourly
pickups resampled by whole weeks, keyed by real taxi zone names crossed with four
metrics, 120 days ending 2015-06-29, so zone-scoped events of the shipped calendar
apply. ``detect`` scans the last ``--days`` days (one baseline fit per series and
day); ``check`` asks about the last 2 days (one fit per series). Both run in this
process with the shipped calendar. The machine is shared: the 1-minute load average
is printed before and after. ``--profile`` prints the top of a cProfile by
cumulative time.

Run (from the repository root)::

    nice python benchmarks/detect_speed.py --series 100
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import pandas as pd  # noqa: E402
from nightly_scale import AS_OF, synthetic_hourly  # noqa: E402

from juno_forecast import check, detect  # noqa: E402
from juno_forecast.calendar import Calendar  # noqa: E402
from juno_forecast.data import as_dataset  # noqa: E402


def timed(label: str, n: int, run) -> object:
    """Run ``run()``; print its CPU seconds, per series, and the load average around it."""
    load0, cpu0, t0 = os.getloadavg()[0], time.process_time(), time.perf_counter()
    out = run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    print(
        f"{label}: {n} series, {cpu:.1f} CPU s ({cpu / n:.3f} per series), {wall:.1f} s wall,"
        f" load {load0:.1f} -> {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--days", type=int, default=14, help="days detect scans (default 14)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of detect")
    args = parser.parse_args()
    frame = synthetic_hourly(args.series)
    ds = as_dataset(frame, by=["zone"], freq="h")
    cal = Calendar.load(None)
    last = AS_OF + pd.Timedelta(hours=23)
    start = AS_OF - pd.Timedelta(days=args.days - 1)
    prof = cProfile.Profile() if args.profile else None
    if prof:
        prof.enable()
    inc = timed("detect", args.series, lambda: detect(ds, start, last, calendar=cal))
    if prof:
        prof.disable()
    since = AS_OF - pd.Timedelta(days=1)
    res = timed("check", args.series, lambda: check(ds, since, last, calendar=cal))
    print(
        f"{len(inc)} incidents; check verdicts {res.verdicts['verdict'].value_counts().to_dict()}"
    )
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
