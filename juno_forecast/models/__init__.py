"""Forecasting models behind one fit/predict protocol (see :mod:`.base`).

``make_model(name, freq, seed)`` builds any of ``MODEL_NAMES``:

* ``naive``: seasonal naive (same hour last week / same weekday last week), the baseline;
* ``auto``: the best of the fast models per series, chosen by a rolling-origin backtest.

Heavy libraries (Prophet, statsmodels, scikit-learn) are imported only when
their model is built.
"""

from __future__ import annotations

import importlib

from .base import Forecaster

_REGISTRY: dict[str, tuple[str, str]] = {
    "naive": ("naive", "SeasonalNaive"),
}
AUTO_CANDIDATES: tuple[str, ...] = ("naive",)
MODEL_NAMES: tuple[str, ...] = (*_REGISTRY, "auto")


def make_model(name: str, freq: str = "h", seed: int = 0) -> Forecaster:
    """A fresh, unfitted model called ``name`` for data at grain ``freq`` (``h`` or ``D``)."""
    if name == "auto":
        from .auto import AutoModel

        return AutoModel(freq=freq, seed=seed)
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
    module, cls = _REGISTRY[name]
    return getattr(importlib.import_module(f".{module}", __name__), cls)(freq=freq, seed=seed)


__all__ = ["AUTO_CANDIDATES", "MODEL_NAMES", "Forecaster", "make_model"]
