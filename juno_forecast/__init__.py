"""juno_forecast: calendar-aware expected ranges and flagged deviations for NYC ride metrics.

The public API (see README): ``Calendar``, ``load_data``, ``forecast``,
``backtest``, ``detect``, ``check``, ``expect``, ``impact``, ``plot_forecast``,
``report``.

Every name loads lazily, on first use, so ``import juno_forecast`` (and the
command line's ``--help``) imports neither pandas nor the model libraries.
``forecast``, ``detect``, ``expect``, ``impact`` and ``report`` are both
submodules and functions: the package's module class keeps the attribute the
function even after the submodule is imported (Python would otherwise set it
to the submodule), see :class:`_Package`.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

_API = {
    "check": "detect",
    "detect": "detect",
    "expect": "expect",
    "SeriesForecaster": "forecast",
    "backtest": "forecast",
    "forecast": "forecast",
    "impact": "impact",
    "report": "report",
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


class _Package(types.ModuleType):
    """The package's module: a submodule named like a function of the API (``forecast``)
    leaves the package attribute the function, not the submodule, once imported."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _API.get(name) == name:
            value = getattr(value, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
