"""``manifest.json`` of a nightly run: what ran, with what, how long, and per-series status."""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any

import pandas as pd

from ..detect.incidents import not_explained
from .config import BatchConfig

VERSIONED = (
    "juno_forecast",
    "pandas",
    "numpy",
    "pyarrow",
    "prophet",
    "statsmodels",
    "scikit-learn",
    "holidays",
    "hijridate",
    "dask",
    "distributed",
    "prometheus_client",
)


#: what can become of a series in a nightly run (SPEC "Nightly batch"; see :mod:`.runner`)
STATUSES = ("ok", "short", "stale", "failed")


def series_record(
    label: str,
    metric: str | None,
    keys: dict[str, str],
    status: str,
    cause: str | None = None,
    seconds: float = 0.0,
    n_obs: int = 0,
    cpu_seconds: float = 0.0,
) -> dict[str, Any]:
    """One series' line in the manifest."""
    return {
        "series": label,
        "metric": metric,
        "keys": dict(keys),
        "status": status,
        "cause": cause,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "n_obs": n_obs,
    }


def versions() -> dict[str, str | None]:
    """Installed versions of the package and the libraries that shape its results."""
    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def build_manifest(
    cfg: BatchConfig,
    day: pd.Timestamp,
    records: list[dict[str, Any]],
    forecasts: pd.DataFrame,
    incidents: pd.DataFrame,
    timings: dict[str, float],
    outputs: list[str],
) -> dict[str, Any]:
    """What the run was (versions, config digest, engine), how long it took, what became
    of each series, totals, and the ``outputs`` it wrote (see :mod:`.outputs`)."""
    inc = incidents
    counts = {s: sum(r["status"] == s for r in records) for s in STATUSES}
    unexplained = int(not_explained(inc).sum()) if len(inc) else 0
    return {
        "as_of": f"{day:%Y-%m-%d}",
        "created_utc": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        "config": {"source": cfg.source, "sha256": cfg.digest, "settings": cfg.as_dict()},
        "engine": {
            "name": cfg.engine.name,
            "workers": cfg.engine.workers,
            "scheduler": cfg.engine.scheduler,
        },
        "versions": versions(),
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "totals": {
            "series": len(records),
            **counts,
            "forecast_rows": int(len(forecasts)),
            "incidents": int(len(inc)),
            "unexplained_incidents": unexplained,
        },
        "outputs": list(outputs),
        "series": records,
    }
