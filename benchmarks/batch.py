"""Nightly batch at scale: wall time, series per second and peak memory.

Daily series are built from the real shared NYC series (``../shared/data/
uber_nyc_enriched.csv``: Uber pickups per borough per hour, summed per day):
each synthetic series takes a seeded random borough, resamples whole weeks of
it (so weekdays stay weekdays), scales it, adds a small trend and noise, to
400 days of history. The batch then forecasts 14 days ahead for every series
(with the shipped calendar) and checks the last day, exactly as
``juno-forecast nightly`` does, with the local engine (2 worker processes) and
a Dask ``LocalCluster`` (2 worker processes, 1 thread each).

Peak memory is the largest sum of resident memory of this process and all its
children (the workers), sampled every 0.1 s with psutil.

Run (from the repository root)::

    python benchmarks/batch.py                      # the full grid (slow: ~15-30 min on 2 cores)
    python benchmarks/batch.py --sizes 100 --prophet 20 --engines local   # a quick look

Results go to ``benchmarks/results/<name>.json`` and ``<name>.md`` (``--name``, default
``batch``). The machine is shared: each row records the 1-minute load average
before and after the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from juno_forecast.batch import run_nightly  # noqa: E402
from juno_forecast.batch.config import BatchConfig, EngineConfig, SourceConfig  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "uber_nyc_enriched.csv"
RESULTS = REPO / "benchmarks" / "results"
HISTORY_DAYS = 400
HORIZON = "14D"
AS_OF = pd.Timestamp("2016-06-30")


def real_daily() -> dict[str, np.ndarray]:
    """Daily pickups per borough from the real file (full weeks, Monday first)."""
    raw = pd.read_csv(SHARED, usecols=["pickup_dt", "borough", "pickups"], keep_default_na=False)
    raw = raw[raw["borough"].isin(["Bronx", "Brooklyn", "Manhattan", "Queens", "Staten Island"])]
    raw["day"] = pd.to_datetime(raw["pickup_dt"], format="%m/%d/%Y %H:%M").dt.normalize()
    daily = raw.groupby(["borough", "day"])["pickups"].sum().unstack(0).sort_index()
    first_monday = daily.index[daily.index.dayofweek == 0][0]
    daily = daily[daily.index >= first_monday]
    weeks = len(daily) // 7
    return {b: daily[b].to_numpy(float)[: weeks * 7] for b in daily.columns}


def synthetic_series(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` daily series of ``HISTORY_DAYS`` days, tidy ``ds, zone, metric, y``."""
    base = real_daily()
    names = sorted(base)
    days = pd.date_range(end=AS_OF, periods=HISTORY_DAYS, freq="D")
    offset = days[0].dayofweek  # align resampled weeks on the weekday of the first day
    n_weeks = HISTORY_DAYS // 7 + 2
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n):
        src = base[names[rng.integers(len(names))]].reshape(-1, 7)
        weeks = src[rng.integers(len(src), size=n_weeks)].ravel()[offset : offset + HISTORY_DAYS]
        scale = np.exp(rng.normal(0.0, 1.0))
        trend = 1.0 + rng.normal(0.0, 0.15) * np.linspace(0.0, 1.0, HISTORY_DAYS)
        noise = np.exp(rng.normal(0.0, 0.05, HISTORY_DAYS))
        y = np.maximum(0.0, np.round(weeks * scale * trend * noise))
        parts.append(pd.DataFrame({"ds": days, "zone": f"z{i:04d}", "metric": "pickups", "y": y}))
    return pd.concat(parts, ignore_index=True)


class PeakMemory:
    """Samples the resident memory of this process plus its children; ``peak`` in bytes."""

    def __init__(self, every: float = 0.1):
        self.every, self.peak = every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _total(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._total())
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def one_run(path: Path, model: str, engine: str, scheduler: str | None, out: Path) -> dict:
    """One nightly run; returns wall seconds, series/s, peak memory and per-series fit time."""
    cfg = BatchConfig(
        data=(SourceConfig(path=str(path), by=("zone",), freq="D"),),
        horizon=HORIZON,
        model=model,
        engine=EngineConfig(name=engine, workers=2, scheduler=scheduler),
        source=str(path),
    )
    load_before = os.getloadavg()[0]
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        result = run_nightly(cfg, out, progress=False, echo=lambda m: None)
        wall = time.perf_counter() - t0
    m = result.manifest
    secs = [s["seconds"] for s in m["series"] if s["status"] == "ok"]
    cpu = [s.get("cpu_seconds", 0.0) for s in m["series"] if s["status"] == "ok"]
    n = m["totals"]["series"]
    return {
        "model": model,
        "engine": engine,
        "series": n,
        "ok": m["totals"]["ok"],
        "failed": m["totals"]["failed"],
        "wall_s": round(wall, 2),
        "series_per_s": round(n / wall, 2),
        "peak_mem_mb": round(mem.peak / 2**20),
        "median_series_s": round(float(np.median(secs)), 4) if secs else None,
        # CPU seconds spent in the workers: what the series cost, whatever else runs
        "median_series_cpu_s": round(float(np.median(cpu)), 4) if cpu else None,
        "series_cpu_s": round(float(np.sum(cpu)), 1),
        "load_avg_1m": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "timings": m["timings"],
    }


def run_grid(
    sizes: list[int], models: list[str], prophet_n: int, engines: list[str], work: Path
) -> list[dict]:
    """Every (engine, model, size), plus Prophet on ``prophet_n`` series."""
    rows = []
    for engine in engines:
        cluster = _cluster() if engine == "dask" else None
        try:
            scheduler = cluster.scheduler_address if cluster else None
            plan = [(m, n) for m in models for n in sizes]
            plan += [("prophet", prophet_n)] if prophet_n else []
            for model, n in plan:
                path = work / f"series_{n}.parquet"
                if not path.exists():
                    synthetic_series(n).to_parquet(path, index=False)
                row = one_run(path, model, engine, scheduler, work / f"runs_{engine}_{model}_{n}")
                print(json.dumps({k: v for k, v in row.items() if k != "timings"}), flush=True)
                rows.append(row)
        finally:
            if cluster is not None:
                cluster.close()
    return rows


def _cluster():
    from dask.distributed import LocalCluster

    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")


def summary(rows: list[dict]) -> dict:
    """Per engine and model: the largest run, the time growth exponent (1.0 = linear),
    the speed-up over Prophet in series/s, and the peak memory.
    Targets: 1,000 series < 60 s; >= 20x Prophet's series/s; < 2 GB; growth <= linear."""
    out: dict = {}
    for engine in sorted({r["engine"] for r in rows}):
        prophet = [r for r in rows if r["engine"] == engine and r["model"] == "prophet"]
        for model in sorted({r["model"] for r in rows if r["engine"] == engine}):
            runs = {r["series"]: r for r in rows if r["engine"] == engine and r["model"] == model}
            big, small = max(runs), min(runs)
            s: dict = {
                "largest": {"series": big, "wall_s": runs[big]["wall_s"]},
                "series_per_s": runs[big]["series_per_s"],
                "peak_mem_mb": max(r["peak_mem_mb"] for r in runs.values()),
            }
            if big > small:
                ratio = runs[big]["wall_s"] / runs[small]["wall_s"]
                s["growth_exponent"] = round(float(np.log(ratio) / np.log(big / small)), 3)
            if prophet and model != "prophet":
                s["x_prophet_series_per_s"] = round(
                    runs[big]["series_per_s"] / prophet[0]["series_per_s"], 1
                )
            out[f"{engine}/{model}"] = s
    return out


def write_results(rows: list[dict], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {
        "command": "python benchmarks/batch.py " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": psutil.cpu_count(),
            "python": platform.python_version(),
            "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        },
        "history_days": HISTORY_DAYS,
        "horizon": HORIZON,
        "rows": rows,
        "summary": summary(rows),
    }
    (RESULTS / f"{args.name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        "| engine | model | series | wall s | series/s | peak MB | median s/series"
        " | median CPU s/series | load 1m |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {r['engine']} | {r['model']} | {r['series']} | {r['wall_s']} | {r['series_per_s']}"
        f" | {r['peak_mem_mb']} | {r['median_series_s']} | {r.get('median_series_cpu_s')}"
        f" | {r['load_avg_1m']} |"
        for r in rows
    ]
    text = f"`{doc['command']}`\n\n" + "\n".join(lines) + "\n\n```json\n"
    text += json.dumps(doc["summary"], indent=2) + "\n```\n"
    (RESULTS / f"{args.name}.md").write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000", help="series counts")
    parser.add_argument("--models", default="auto", help="models run at every size (auto: default)")
    parser.add_argument("--prophet", type=int, default=100, help="series for Prophet (0: skip)")
    parser.add_argument("--engines", default="local,dask")
    parser.add_argument("--name", default="batch", help="results file name (no extension)")
    args = parser.parse_args()
    if not SHARED.exists():
        sys.exit(f"real data not found at {SHARED}")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="juno-bench-") as work:
        rows = run_grid(
            sizes, args.models.split(","), args.prophet, args.engines.split(","), Path(work)
        )
    write_results(rows, args)


if __name__ == "__main__":
    main()
