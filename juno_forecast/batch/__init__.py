"""The nightly batch: config, engines (local processes | Dask), atomic runs, Prometheus bands.

``run_nightly(config, out, as_of=None)`` is what ``juno-forecast nightly`` runs;
``load_config(path)`` validates a batch config; ``demo_config()`` is ``--demo``'s.
"""

from __future__ import annotations

from .config import BatchConfig, load_config, parse_config
from .demo import demo_config
from .runner import NightlyResult, forecast_series, run_nightly

__all__ = [
    "BatchConfig",
    "NightlyResult",
    "demo_config",
    "forecast_series",
    "load_config",
    "parse_config",
    "run_nightly",
]
