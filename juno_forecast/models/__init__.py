"""Forecasting models behind one fit/predict protocol (see :mod:`.base`).

``make_model(name, freq, seed)`` builds any of ``MODEL_NAMES``:

* ``naive``: seasonal naive (same hour last week / same weekday last week), the baseline;
* ``ols``: weighted least squares (numpy) on log1p(y) with trend, weekly cycle and
  calendar regressors (:mod:`.linear`);
* ``gbm``: scikit-learn gradient boosting on calendar and seasonal features around a
  trend (:mod:`.boosting`);
* ``prophet``: Prophet with the calendar as holidays with windows and steps as
  regressors (:mod:`.prophet`);
* ``ets``: Holt-Winters (damped trend, weekly cycle; statsmodels' recursion on numpy) on
  log1p(y) around least-squares calendar effects (:mod:`.smoothing`): follows short,
  growing series;
* ``auto``: the fast models per series, weighted by their errors in a rolling-origin
  backtest (:mod:`.auto`);
* ``baseline``: detection's robust normal-day expectation, a level-adjusted median of
  the same slot of past weeks with its own calibrated ranges (:mod:`.baseline`).

Models work on numpy arrays (``fit_arrays``/``predict_arrays``) behind the pandas
``fit``/``predict``; what each can do beyond that is declared by its tags
(:func:`.base.get_tags`); :mod:`.checks` verifies the protocol for every one of them.

Heavy libraries (Prophet, statsmodels, scikit-learn) are imported only when
their model is built.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the base imports scikit-learn: only when a model is built
    from .base import Forecaster

#: every model by name: (module, class). Adding a model is one line here (see ARCHITECTURE.md).
_REGISTRY: dict[str, tuple[str, str]] = {
    "naive": ("naive", "SeasonalNaive"),
    "ols": ("linear", "CalendarRegression"),
    "gbm": ("boosting", "CalendarBoosting"),
    "prophet": ("prophet", "ProphetModel"),
    "ets": ("smoothing", "SmoothingModel"),
    "auto": ("auto", "AutoModel"),
    "baseline": ("baseline", "RobustBaseline"),
}
#: what ``auto`` tries, per grain: gradient boosting is left out at daily grain, where a
#: nightly batch of a thousand series must stay within a minute on two cores (Holt-Winters
#: with fixed weights costs a few milliseconds a fit; at hourly grain ols and gbm do better).
AUTO_CANDIDATES: dict[str, tuple[str, ...]] = {
    "h": ("naive", "ols", "gbm"),
    "D": ("naive", "ols", "ets"),
}
MODEL_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def model_class(name: str) -> type:
    """The class registered as ``name`` (ValueError naming the known models otherwise)."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
    return _registered_class(name)


@cache
def _registered_class(name: str) -> type:
    """The class of a registered name, imported once."""
    module, cls = _REGISTRY[name]
    return getattr(importlib.import_module(f".{module}", __name__), cls)


@cache
def _takes_seed(cls: type) -> bool:
    """Whether ``cls.__init__`` has a ``seed`` parameter (read once per class: a signature
    costs more than building the model)."""
    return "seed" in cls._get_param_names()


def make_model(name: str, freq: str = "h", seed: int = 0) -> Forecaster:
    """A fresh, unfitted model called ``name`` for data at grain ``freq`` (``h`` or ``D``).

    ``seed`` is passed to models that take one (a deterministic model has none).
    """
    cls = model_class(name)
    kwargs = {"seed": seed} if _takes_seed(cls) else {}
    return cls(freq=freq, **kwargs)


__all__ = ["AUTO_CANDIDATES", "MODEL_NAMES", "make_model", "model_class"]
