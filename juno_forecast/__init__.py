"""juno_forecast: calendar-aware expected ranges and flagged deviations for NYC ride metrics.

The public API (see README): ``Calendar``, ``load_data``, ``forecast``,
``backtest``, ``detect``, ``check``, ``expect``, ``impact``, ``plot_forecast``,
``report``.

``forecast``, ``detect``, ``impact`` and ``report`` are both submodules and
functions; they are imported here so that the package attribute is always the
function (a lazy lookup would be shadowed by the submodule once it is imported).
The other names load lazily, on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .detect import check, detect
from .expect import expect
from .forecast import SeriesForecaster, backtest, forecast
from .impact import impact
from .report import report

__version__ = "0.1.0"

_API = {
    "Calendar": "calendar",
    "load_data": "data",
    "Dataset": "data",
    "generate_sample": "sample",
    "plot_forecast": "plot",
    "run_nightly": "batch",
}

__all__ = [
    "Calendar",
    "Dataset",
    "SeriesForecaster",
    "backtest",
    "check",
    "detect",
    "expect",
    "forecast",
    "generate_sample",
    "impact",
    "load_data",
    "plot_forecast",
    "report",
    "run_nightly",
]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'juno_forecast' has no attribute {name!r}")
