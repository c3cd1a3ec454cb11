"""The public API a notebook user imports from the package."""

from __future__ import annotations

import importlib

import juno_forecast


def test_functions_stay_functions_after_their_submodules_are_imported():
    # forecast/detect/impact/report are both submodules and functions: the function wins.
    for module in ("forecast", "detect", "impact", "report"):
        importlib.import_module(f"juno_forecast.{module}")
    assert callable(juno_forecast.forecast)
    assert callable(juno_forecast.detect)
    assert callable(juno_forecast.impact)
    assert callable(juno_forecast.report)
    assert juno_forecast.forecast.__module__ == "juno_forecast.forecast"


def test_every_public_name_resolves():
    for name in juno_forecast.__all__:
        assert getattr(juno_forecast, name) is not None, name
