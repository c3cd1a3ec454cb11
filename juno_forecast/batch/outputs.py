"""The files of a nightly run, named in one place: each file, its writer, its manifest entry.

An :class:`Output` names the files it writes into the run folder (the names the
manifest lists under ``outputs``), the function that writes them from the run's
:class:`RunTables`, and the manifest timing its seconds count toward.
:func:`write_outputs` writes :data:`OUTPUTS` in order, then the manifest
(:data:`MANIFEST`), last because it lists the others and their timings.

Adding an output format is one writer and one line in :data:`OUTPUTS`; an output
with a setting of its own (as ``bands.prom`` has ``prometheus: {hours}``) also
adds that key to :mod:`.config`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..core import series_of
from ..grain import per_day
from .config import BatchConfig
from .figures import write_report
from .manifest import build_manifest
from .prom import bands_text

MANIFEST = "manifest.json"
#: days of actuals before the checked day that the report's figures show
REPORT_DAYS = 3


@dataclass
class RunTables:
    """What a nightly run hands its writers: tables, per-series outcomes, settings, timings."""

    folder: Path
    forecasts: pd.DataFrame
    incidents: pd.DataFrame
    records: list[dict[str, Any]]
    results: dict[str, dict[str, Any]]
    tasks: list[dict[str, Any]]
    keys: list[str]
    day: pd.Timestamp
    cfg: BatchConfig
    cal: Any
    timings: dict[str, float]


@dataclass(frozen=True)
class Output:
    """Files of a run, the function that writes them, and the timing they count toward."""

    files: tuple[str, ...]
    write: Callable[[RunTables], None]
    timing: str = "write_s"


def task_series(task: dict[str, Any], last: int | None = None) -> pd.Series:
    """The history of a nightly task (its ``last`` steps; all when None) as a ``pd.Series``: for
    the report's figures only (forecasts and detection take the task's arrays)."""
    start = 0 if last is None else max(0, len(task["values"]) - last)
    values, stamps = task["values"][start:], task["stamps"][start:]
    return series_of(values, stamps, task["freq"], task["unit"])


def _forecasts(run: RunTables) -> None:
    """``forecasts.parquet``: ``[*keys, metric, ds, yhat, lo_80, hi_80, lo_95, hi_95, events]``."""
    run.forecasts.to_parquet(run.folder / "forecasts.parquet", index=False)


def _incidents(run: RunTables) -> None:
    """``incidents.csv``: the incidents of the last ``detect.lookback`` (see :mod:`.runner`)."""
    run.incidents.drop(columns=["series"]).to_csv(run.folder / "incidents.csv", index=False)


def _report(run: RunTables) -> None:
    """``report.html`` and ``report.md`` (+ figure PNGs): the last days against their bands."""
    tasks = {t["series"]: t for t in run.tasks}

    def actual(label: str) -> pd.Series:  # built only for the series the report draws
        task = tasks[label]
        return task_series(task, last=REPORT_DAYS * per_day(task["freq"]))

    write_report(
        run.folder,
        run.results,
        actual,
        run.records,
        run.incidents,
        run.cal,
        title=f"Nightly run {run.day:%Y-%m-%d}: flagged deviations of the last day",
        level=run.cfg.detect.level,
    )


def _bands(run: RunTables) -> None:
    """``bands.prom``: Prometheus text of the coming hours' bands (:mod:`.prom`)."""
    text = bands_text(
        run.forecasts,
        run.keys,
        run.day,
        run.cfg.prom_hours,
        model=run.cfg.model,
        run_time=time.time(),
        silent=[r for r in run.records if r["status"] == "stale"],
    )
    (run.folder / "bands.prom").write_text(text, encoding="utf-8")


#: every file of a run but the manifest, in the order the manifest lists them
OUTPUTS = (
    Output(("forecasts.parquet",), _forecasts),
    Output(("incidents.csv",), _incidents),
    Output(("report.html", "report.md"), _report, timing="report_s"),
    Output(("bands.prom",), _bands),
)


def output_files() -> list[str]:
    """The file names a run writes, as its manifest lists them (the manifest last)."""
    return [name for out in OUTPUTS for name in out.files] + [MANIFEST]


def write_outputs(run: RunTables, t_start: float) -> dict[str, Any]:
    """Every output into ``run.folder``, then the manifest (with ``total_s``); returns it."""
    for out in OUTPUTS:
        t0 = time.perf_counter()
        out.write(run)
        run.timings[out.timing] = run.timings.get(out.timing, 0.0) + time.perf_counter() - t0
    run.timings["total_s"] = time.perf_counter() - t_start
    manifest = build_manifest(
        run.cfg, run.day, run.records, run.forecasts, run.incidents, run.timings, output_files()
    )
    (run.folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return manifest
