"""juno_forecast: calendar-aware expected ranges and flagged deviations for NYC ride metrics.

The public API (see README): ``Calendar``, ``load_data``, ``forecast``,
``backtest``, ``detect``, ``check``, ``expect``, ``impact``, ``plot_forecast``,
``report``. Imports are lazy so ``import juno_forecast`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "Calendar": "calendar",
    "load_data": "data",
    "Dataset": "data",
    "generate_sample": "sample",
    "forecast": "forecast",
    "backtest": "forecast",
    "SeriesForecaster": "forecast",
    "detect": "detect",
    "check": "detect",
    "expect": "detect",
    "impact": "impact",
    "plot_forecast": "plot",
    "report": "report",
    "run_nightly": "batch",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'juno_forecast' has no attribute {name!r}")
