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

Side by side (``--compare``): the project, statsforecast and a plain Prophet loop
on the same series in the same run (see :func:`compare`)::

    pip install -e ".[bench]"                       # statsforecast: benchmark-only extra
    python benchmarks/batch.py --compare --daily 1000 --hourly 50 --prophet-daily 100 \
        --prophet-hourly 20 --name batch-compare

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
    first_monday = daily.index[daily.index.day_of_week == 0][0]
    daily = daily[daily.index >= first_monday]
    weeks = len(daily) // 7
    return {b: daily[b].to_numpy(float)[: weeks * 7] for b in daily.columns}


def synthetic_series(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` daily series of ``HISTORY_DAYS`` days, tidy ``ds, zone, metric, y``."""
    base = real_daily()
    names = sorted(base)
    days = pd.date_range(end=AS_OF, periods=HISTORY_DAYS, freq="D")
    offset = days[0].day_of_week  # align resampled weeks on the weekday of the first day
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
    from juno_forecast.batch import run_nightly
    from juno_forecast.batch.config import BatchConfig, EngineConfig, SourceConfig

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


# -- side by side ---------------------------------------------------------------------------
#: (history, horizon) per grain: daily 400 days, 14 days ahead; hourly 120 days, 48 hours ahead
COMPARE = {"D": (400, 14), "h": (120 * 24, 48)}
SEASON = {"D": 7, "h": 168}


def real_weeks(freq: str) -> dict[str, np.ndarray]:
    """Whole weeks (Monday first) of the real pickups per borough, at grain ``freq``."""
    if freq == "D":
        return real_daily()
    raw = pd.read_csv(SHARED, usecols=["pickup_dt", "borough", "pickups"], keep_default_na=False)
    raw = raw[raw["borough"].isin(["Bronx", "Brooklyn", "Manhattan", "Queens", "Staten Island"])]
    raw["ds"] = pd.to_datetime(raw["pickup_dt"], format="%m/%d/%Y %H:%M")
    hourly = raw.groupby(["borough", "ds"])["pickups"].sum().unstack(0).sort_index()
    hourly = hourly.asfreq("h").interpolate(limit_direction="both")
    first = hourly.index[(hourly.index.day_of_week == 0) & (hourly.index.hour == 0)][0]
    hourly = hourly[hourly.index >= first]
    weeks = len(hourly) // 168
    return {b: hourly[b].to_numpy(float)[: weeks * 168] for b in hourly.columns}


def synthetic(n: int, freq: str, seed: int = 0) -> pd.DataFrame:
    """``n`` series of history plus horizon at grain ``freq`` (tidy ``ds, zone, metric, y``):
    resampled whole weeks of a real borough, scaled, with a trend and noise."""
    history, horizon = COMPARE[freq]
    total, season = history + horizon, SEASON[freq]
    base = real_weeks(freq)
    names = sorted(base)
    end = AS_OF if freq == "D" else AS_OF + pd.Timedelta(hours=23)
    ds = pd.date_range(end=end, periods=total, freq=freq)
    offset = (ds[0].day_of_week * 24 + ds[0].hour) if freq == "h" else ds[0].day_of_week
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n):
        src = base[names[rng.integers(len(names))]].reshape(-1, season)
        picked = src[rng.integers(len(src), size=total // season + 2)].ravel()
        weeks = picked[offset : offset + total]
        trend = 1.0 + rng.normal(0.0, 0.15) * np.linspace(0.0, 1.0, total)
        noise = np.exp(rng.normal(0.0, 0.05, total))
        y = np.maximum(0.0, np.round(weeks * np.exp(rng.normal(0.0, 1.0)) * trend * noise))
        parts.append(pd.DataFrame({"ds": ds, "zone": f"z{i:04d}", "metric": "pickups", "y": y}))
    return pd.concat(parts, ignore_index=True)


TOOLS = ("juno-auto", "juno-naive", "sf-autoets", "sf-seasonalnaive", "sf-mstl", "prophet")


def run_tool(tool: str, freq: str, history: Path, out: Path) -> None:
    """One tool on the history file, writing ``zone, ds, yhat, lo_80, hi_80, lo_95, hi_95``
    (run in its own process by :func:`measure`; the project through its command line)."""
    h = COMPARE[freq][1]
    if tool.startswith("juno-"):
        import subprocess

        cmd = ["juno-forecast", "forecast", str(history), "--by", "zone", "--freq", freq]
        cmd += ["--model", tool.split("-", 1)[1], "--horizon", f"{h}{'D' if freq == 'D' else 'h'}"]
        subprocess.run([*cmd, "--out", str(out)], check=True, stderr=subprocess.DEVNULL)
        return
    df = pd.read_csv(history, parse_dates=["ds"]).rename(columns={"zone": "unique_id"})
    df = df[["unique_id", "ds", "y"]]
    if tool == "prophet":
        _prophet_loop(df, freq, h).to_csv(out, index=False)
        return
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoETS, SeasonalNaive

    season = 7 if freq == "D" else 24
    model = {
        "sf-autoets": AutoETS(season_length=season),
        "sf-seasonalnaive": SeasonalNaive(season_length=SEASON[freq]),
        "sf-mstl": MSTL(season_length=[24, 168] if freq == "h" else [7]),
    }[tool]
    sf = StatsForecast(models=[model], freq=freq, n_jobs=2)
    fc = sf.forecast(df=df, h=h, level=[80, 95]).reset_index()
    name = next(c for c in fc.columns if c not in ("unique_id", "ds", "index") and "-" not in c)
    fc = fc.rename(columns={"unique_id": "zone", name: "yhat"})
    for lvl in (80, 95):
        fc = fc.rename(columns={f"{name}-lo-{lvl}": f"lo_{lvl}", f"{name}-hi-{lvl}": f"hi_{lvl}"})
    fc[["zone", "ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95"]].to_csv(out, index=False)


def _prophet_loop(df: pd.DataFrame, freq: str, h: int) -> pd.DataFrame:
    """Prophet with its defaults, one series after another (80% and 95% intervals)."""
    import logging

    from prophet import Prophet

    logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
    rows = []
    for uid, g in df.groupby("unique_id", sort=False):
        m = Prophet().fit(g[["ds", "y"]])
        fut = m.make_future_dataframe(periods=h, freq=freq, include_history=False)
        p80 = m.predict(fut)
        m.interval_width = 0.95  # the same fit, its 95% interval
        p95 = m.predict(fut)
        rows.append(
            pd.DataFrame(
                {
                    "zone": uid,
                    "ds": p80["ds"],
                    "yhat": p80["yhat"],
                    "lo_80": p80["yhat_lower"],
                    "hi_80": p80["yhat_upper"],
                    "lo_95": p95["yhat_lower"],
                    "hi_95": p95["yhat_upper"],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def measure(tool: str, freq: str, history: Path, out: Path) -> dict:
    """Run ``tool`` in its own process: wall seconds, CPU seconds (it and its children) and
    peak resident memory (sampled every 0.1 s, all its processes)."""
    import resource
    import subprocess

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [sys.executable, __file__, "--tool", tool, "--freq", freq]
    t0 = time.perf_counter()
    proc = subprocess.Popen([*cmd, "--history", str(history), "--tool-out", str(out)])
    peak, ps = 0, psutil.Process(proc.pid)
    while proc.poll() is None:
        total = 0
        with contextlib.suppress(psutil.Error):
            total = ps.memory_info().rss
            for child in ps.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
        peak = max(peak, total)
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        raise RuntimeError(f"{tool} failed with exit code {proc.returncode}")
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 1), "peak_mem_mb": round(peak / 2**20)}


def accuracy(pred: pd.DataFrame, data: pd.DataFrame, freq: str) -> dict:
    """MASE (scaled by each series' in-sample seasonal naive MAE), coverage of the ranges."""
    history = COMPARE[freq][0]
    season = SEASON[freq]
    scale = {}
    for zone, g in data.groupby("zone", sort=False):
        v = g["y"].to_numpy(float)[:history]
        scale[zone] = max(float(np.mean(np.abs(v[season:] - v[:-season]))), 1e-9)
    pred = pred.assign(ds=pd.to_datetime(pred["ds"]))
    merged = pred.merge(data[["zone", "ds", "y"]], on=["zone", "ds"], how="inner")
    err = np.abs(merged["y"] - merged["yhat"]) / merged["zone"].map(scale)
    cov = {
        f"coverage_{lvl}": float(
            ((merged["y"] >= merged[f"lo_{lvl}"]) & (merged["y"] <= merged[f"hi_{lvl}"])).mean()
        )
        for lvl in (80, 95)
    }
    return {"n": len(merged), "mase": round(float(err.mean()), 3)} | {
        k: round(v, 3) for k, v in cov.items()
    }


def compare(counts: dict[str, int], prophet: dict[str, int], work: Path) -> list[dict]:
    """Every tool on the same series, daily and hourly: series/s, CPU, memory, accuracy.

    The last horizon of each synthetic series is held out: every tool reads the same
    history CSV and forecasts it; the held-out values score the forecasts. Prophet,
    slow, runs on the first ``prophet[freq]`` series (its series/s is comparable, its
    accuracy is on that subset; the other tools' accuracy on the same subset is given too).
    """
    rows = []
    for freq, n in counts.items():
        if not n:
            continue
        data = synthetic(n, freq)
        history = COMPARE[freq][0]
        hist = data.groupby("zone", sort=False).head(history)
        for tool in TOOLS:
            if tool == "sf-mstl" and freq == "D":
                continue
            k = min(n, prophet[freq]) if tool == "prophet" else n
            if not k:
                continue
            zones = hist["zone"].unique()[:k]
            path = work / f"history_{freq}_{k}.csv"
            if not path.exists():
                hist[hist["zone"].isin(zones)].to_csv(path, index=False)
            out = work / f"{tool}_{freq}.csv"
            if tool.startswith("sf-"):  # numba compiles once: measure with warm kernels
                warm = work / f"warm_{freq}.csv"
                hist[hist["zone"].isin(zones[:2])].to_csv(warm, index=False)
                measure(tool, freq, warm, out)
            row = {"grain": freq, "tool": tool, "series": k} | measure(tool, freq, path, out)
            pred = pd.read_csv(out)
            row["series_per_s"] = round(k / row["wall_s"], 2)
            row |= accuracy(pred, data, freq)
            small = pred[pred["zone"].isin(hist["zone"].unique()[: prophet[freq]])]
            if prophet[freq] and k > prophet[freq]:
                row["mase_prophet_subset"] = accuracy(small, data, freq)["mase"]
            row["load_avg_1m"] = round(os.getloadavg()[0], 1)
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def write_compare(rows: list[dict], args: argparse.Namespace) -> None:
    """``benchmarks/results/<name>.json`` and ``.md``: one table row per grain and tool."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/batch.py " + " ".join(sys.argv[1:])
    doc = {
        "command": command,
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version()},
        "grains": {f: {"history": h, "horizon": z} for f, (h, z) in COMPARE.items()},
        "rows": rows,
    }
    (RESULTS / f"{args.name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        "| grain | tool | series | wall s | series/s | CPU s | peak MB | MASE"
        " | MASE on Prophet's series | cov 80 | cov 95 | load 1m |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['grain']} | {r['tool']} | {r['series']} | {r['wall_s']} | {r['series_per_s']}"
        f" | {r['cpu_s']} | {r['peak_mem_mb']} | {r['mase']}"
        f" | {r.get('mase_prophet_subset', r['mase'] if r['tool'] == 'prophet' else '')}"
        f" | {r['coverage_80']} | {r['coverage_95']} | {r['load_avg_1m']} |"
        for r in rows
    ]
    text = f"`{command}`\n\n" + "\n".join(lines) + "\n"
    (RESULTS / f"{args.name}.md").write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000", help="series counts")
    parser.add_argument("--models", default="auto", help="models run at every size (auto: default)")
    parser.add_argument("--prophet", type=int, default=100, help="series for Prophet (0: skip)")
    parser.add_argument("--engines", default="local,dask")
    parser.add_argument("--name", default="batch", help="results file name (no extension)")
    parser.add_argument("--compare", action="store_true", help="the tools side by side")
    parser.add_argument("--daily", type=int, default=1000, help="--compare: daily series")
    parser.add_argument("--hourly", type=int, default=50, help="--compare: hourly series")
    parser.add_argument("--prophet-daily", type=int, default=100, help="--compare: Prophet's")
    parser.add_argument("--prophet-hourly", type=int, default=20, help="--compare: Prophet's")
    parser.add_argument("--tool", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--freq", choices=("D", "h"), help=argparse.SUPPRESS)
    parser.add_argument("--history", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tool-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tool:  # one tool, in its own process (see measure)
        run_tool(args.tool, args.freq, args.history, args.tool_out)
        return
    if not SHARED.exists():
        sys.exit(f"real data not found at {SHARED}")
    if args.compare:
        with tempfile.TemporaryDirectory(prefix="juno-compare-") as work:
            counts = {"D": args.daily, "h": args.hourly}
            prophet = {"D": args.prophet_daily, "h": args.prophet_hourly}
            rows = compare(counts, prophet, Path(work))
        write_compare(rows, args)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="juno-bench-") as work:
        rows = run_grid(
            sizes, args.models.split(","), args.prophet, args.engines.split(","), Path(work)
        )
    write_results(rows, args)


if __name__ == "__main__":
    main()
