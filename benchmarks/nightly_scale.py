"""The nightly at its target scale: 1,000 hourly series (zone x metric), 48 hours ahead.

Issue 16's target: ``juno-forecast nightly`` over 1,000 hourly series with 120 days
of history, 48 hours ahead, in at most 10 minutes and 2 GB of peak memory on the
2-core machine. The series are built from the real hourly pickups of the shared NYC
file (``../shared/data/uber_nyc_enriched.csv``) the way ``benchmarks/batch.py`` builds
its synthetic ones: each takes a seeded random borough, resamples whole weeks of it
(so an hour of a weekday stays that hour of that weekday), scales it, and adds a
small trend and noise. Keys are real taxi zone names (the shipped ``nyc_zones.csv``,
so zone-scoped calendar events apply) crossed with four calendar metrics
(``trips``, ``drivers_online``, ``riders_online``, ``wait_time``): 250 zones x 4 metrics.

The run is the real nightly (:func:`juno_forecast.batch.run_nightly`, the function
behind ``juno-forecast nightly``) with the shipped calendar, the local engine and 2
workers: every series forecast 48 hours ahead, its last day checked for incidents,
every run file written. Reported: wall seconds, CPU seconds (this process and its
worker processes, and the workers' per-series sum from the manifest), series per
second, and peak memory (the largest sum of resident memory of this process and its
children, sampled every 0.1 s with psutil). The machine is shared: the 1-minute load
average is recorded before and after.

Run (from the repository root)::

    python benchmarks/nightly_scale.py --series 100            # an estimate
    nice python benchmarks/nightly_scale.py --series 1000      # the target

Results go to ``benchmarks/results/<name>.json`` and ``.md`` (``--name``, default
``nightly_scale_<series>``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from batch import SHARED, PeakMemory, real_weeks  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
ZONES = REPO / "juno_forecast" / "calendar" / "nyc_zones.csv"
METRICS = ("trips", "drivers_online", "riders_online", "wait_time")
HISTORY_DAYS = 120
HORIZON = "48h"
#: the as-of day: the history ends at its last hour
AS_OF = pd.Timestamp("2015-06-29")
WEEK = 168


def zone_names(n: int) -> list[str]:
    """The first ``n`` real taxi zone names (the shipped list, unknown and unnamed left out)."""
    zones = pd.read_csv(ZONES, keep_default_na=False)["Zone"]
    names = [z for z in dict.fromkeys(zones) if z and z not in ("NV", "Unknown")]
    if n > len(names):
        raise SystemExit(f"--zones {n}: the shipped list has {len(names)} zone names")
    return names[:n]


def synthetic_hourly(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` hourly series (zone x metric) of ``HISTORY_DAYS`` days ending on the as-of day.

    Tidy ``ds, zone, metric, y``; ``n`` is split over the four metrics, zones first.
    """
    base = real_weeks("h")
    sources = sorted(base)
    total = HISTORY_DAYS * 24
    ds = pd.date_range(end=AS_OF + pd.Timedelta(hours=23), periods=total, freq="h")
    offset = ds[0].day_of_week * 24 + ds[0].hour  # resampled weeks start on Monday 00:00
    zones = zone_names(-(-n // len(METRICS)))
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n):
        src = base[sources[rng.integers(len(sources))]].reshape(-1, WEEK)
        picked = src[rng.integers(len(src), size=total // WEEK + 2)].ravel()[
            offset : offset + total
        ]
        trend = 1.0 + rng.normal(0.0, 0.15) * np.linspace(0.0, 1.0, total)
        noise = np.exp(rng.normal(0.0, 0.05, total))
        y = np.maximum(0.0, np.round(picked * np.exp(rng.normal(-1.0, 1.0)) * trend * noise))
        zone, metric = zones[i // len(METRICS)], METRICS[i % len(METRICS)]
        parts.append(pd.DataFrame({"ds": ds, "zone": zone, "metric": metric, "y": y}))
    return pd.concat(parts, ignore_index=True)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(path: Path, out: Path, model: str, workers: int) -> dict:
    """The real nightly over ``path``: wall and CPU seconds, series/s, peak memory."""
    from juno_forecast.batch import run_nightly
    from juno_forecast.batch.config import BatchConfig, EngineConfig, SourceConfig

    cfg = BatchConfig(
        data=(SourceConfig(path=str(path), by=("zone",), freq="h"),),
        horizon=HORIZON,
        model=model,
        engine=EngineConfig(name="local", workers=workers),
        source=str(path),
    )
    load_before = os.getloadavg()
    cpu0 = cpu_seconds()
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        result = run_nightly(cfg, out, as_of=AS_OF, progress=False, echo=lambda m: None)
        wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    m = result.manifest
    n = m["totals"]["series"]
    return {
        "model": model,
        "workers": workers,
        "series": n,
        "ok": m["totals"]["ok"],
        "failed": m["totals"]["failed"],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "series_per_s": round(n / wall, 2),
        "peak_mem_mb": round(mem.peak / 2**20),
        "timings": {k: round(v, 1) for k, v in m["timings"].items() if isinstance(v, float)},
        "load_avg": {
            "before": [round(x, 1) for x in load_before],
            "after": [round(x, 1) for x in os.getloadavg()],
        },
    }


def write(row: dict, name: str) -> None:
    """``benchmarks/results/<name>.json`` and ``.md``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/nightly_scale.py " + " ".join(sys.argv[1:])
    doc = {
        "command": command,
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version()},
        "history_days": HISTORY_DAYS,
        "horizon": HORIZON,
        "row": row,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    text = (
        f"`{command}`\n\n| series | model | wall s | CPU s | series/s | peak MB | load 1/5/15m"
        " before -> after |\n| ---: | --- | ---: | ---: | ---: | ---: | --- |\n"
        f"| {row['series']} | {row['model']} | {row['wall_s']} | {row['cpu_s']}"
        f" | {row['series_per_s']} | {row['peak_mem_mb']}"
        f" | {row['load_avg']['before']} -> {row['load_avg']['after']} |\n\n"
        f"timings: `{json.dumps(row['timings'])}`\n"
    )
    (RESULTS / f"{name}.md").write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000, help="hourly series (default 1000)")
    parser.add_argument("--model", default="auto", help="the nightly's model (default auto)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--name", help="results file name (default nightly_scale_<series>)")
    args = parser.parse_args()
    if not SHARED.exists():
        sys.exit(f"real data not found at {SHARED}")
    with tempfile.TemporaryDirectory(prefix="juno-nightly-") as work:
        path = Path(work) / "hourly.parquet"
        synthetic_hourly(args.series).to_parquet(path, index=False)
        row = run(path, Path(work) / "runs", args.model, args.workers)
    print(json.dumps(row), flush=True)
    write(row, args.name or f"nightly_scale_{args.series}")


if __name__ == "__main__":
    main()
