"""CPU seconds per series of ``detect`` and ``check`` over many hourly series.

The series are the nightly benchmark's (``benchmarks/nightly_scale.py``): real hourly
pickups resampled by whole weeks, keyed by real taxi zone names crossed with four
metrics, 120 days ending 2015-06-29, so zone-scoped events of the shipped calendar
apply. ``detect`` scans the last ``--days`` days (one baseline fit per series and
day); ``check`` asks about the last 2 days (one fit per series). Both run in this
process with the shipped calendar, ``--repeat`` times (default 3; the fewest CPU
seconds is the figure, the others show the noise). The machine is shared: the
1-minute load average is printed before and after. ``--profile`` prints the top of a
cProfile of the first ``detect`` by cumulative time. The numbers are written to
``benchmarks/results/<--name>.md`` and ``.json`` (default ``detect_speed``).

Run (from the repository root)::

    nice python benchmarks/detect_speed.py --series 100
"""

from __future__ import annotations

import argparse
import cProfile
import json
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

RESULTS = REPO / "benchmarks" / "results"


def timed(label: str, n: int, run, runs: list[dict]) -> object:
    """Run ``run()``; print its CPU seconds, per series, and the load average around it,
    and append them to ``runs``."""
    load0, cpu0, t0 = os.getloadavg()[0], time.process_time(), time.perf_counter()
    out = run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    load1 = os.getloadavg()[0]
    print(
        f"{label}: {n} series, {cpu:.1f} CPU s ({cpu / n:.3f} per series), {wall:.1f} s wall,"
        f" load {load0:.1f} -> {load1:.1f}",
        flush=True,
    )
    runs.append(
        {
            "what": label,
            "cpu_s": round(cpu, 2),
            "cpu_s_per_series": round(cpu / n, 4),
            "wall_s": round(wall, 2),
            "load_1m": [round(load0, 1), round(load1, 1)],
        }
    )
    return out


def write_results(name: str, args: argparse.Namespace, runs: list[dict], found: str) -> None:
    """``<name>.json`` (every run) and ``<name>.md`` (the command, the best run of each and
    every run) in benchmarks/results."""
    best = {
        what: min(r["cpu_s_per_series"] for r in runs if r["what"] == what)
        for what in ("detect", "check")
    }
    doc = {
        "command": " ".join(sys.argv[1:]),
        "series": args.series,
        "days": args.days,
        "best_cpu_s_per_series": best,
        "found": found,
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        f"`nice python benchmarks/detect_speed.py {doc['command']}`".replace(" `", "`"),
        "",
        f"{args.series} hourly series; `detect` over the last {args.days} days, `check` over "
        "the last 2. CPU seconds per series, the fewest of the runs: "
        f"**detect {best['detect']:.3f}, check {best['check']:.3f}**. {found}.",
        "",
        "| run | what | CPU s | CPU s per series | wall s | load 1m |",
        "| ---: | --- | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {i // 2 + 1} | {r['what']} | {r['cpu_s']} | {r['cpu_s_per_series']} | "
        f"{r['wall_s']} | {r['load_1m'][0]} -> {r['load_1m'][1]} |"
        for i, r in enumerate(runs)
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--days", type=int, default=14, help="days detect scans (default 14)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of detect")
    parser.add_argument("--name", default="detect_speed", help="results file name")
    args = parser.parse_args()
    frame = synthetic_hourly(args.series)
    ds = as_dataset(frame, by=["zone"], freq="h")
    cal = Calendar.load(None)
    last = AS_OF + pd.Timedelta(hours=23)
    start = AS_OF - pd.Timedelta(days=args.days - 1)
    since = AS_OF - pd.Timedelta(days=1)
    prof = cProfile.Profile() if args.profile else None
    runs: list[dict] = []
    for i in range(args.repeat):
        if prof and i == 0:
            prof.enable()
        inc = timed("detect", args.series, lambda: detect(ds, start, last, calendar=cal), runs)
        if prof and i == 0:
            prof.disable()
        res = timed("check", args.series, lambda: check(ds, since, last, calendar=cal), runs)
    verdicts = res.verdicts["verdict"].value_counts().to_dict()
    found = f"{len(inc)} incidents; check verdicts {verdicts}"
    print(found)
    write_results(args.name, args, runs, found)
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
