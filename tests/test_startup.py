"""A fast start: the command line's help and `calendar validate` load no model library.

Each check runs in a fresh interpreter (a subprocess) and reads ``sys.modules``
after the command ran: what was imported, not how long it took.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("prophet", "statsmodels", "sklearn", "matplotlib", "dask", "scipy", "cmdstanpy")

_RUN = """
import json, sys
from juno_forecast.cli import main
try:
    main({argv!r})
except SystemExit as e:
    code = e.code
print(json.dumps({{"code": code, "modules": sorted(m.split(".")[0] for m in sys.modules)}}))
"""


def _run_cli(argv: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _RUN.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [["--help"], ["forecast", "--help"], ["calendar", "validate"]])
def test_cli_commands_that_need_no_model_import_no_model_library(argv):
    got = _run_cli(argv)
    assert got["code"] in (0, None)
    loaded = sorted(set(HEAVY) & set(got["modules"]))
    assert not loaded, f"juno-forecast {' '.join(argv)} imported {loaded}"


def test_help_imports_not_even_pandas():
    got = _run_cli(["--help"])
    assert "pandas" not in got["modules"] and "numpy" not in got["modules"]


def test_a_forecast_does_load_the_model_libraries():
    """The other side: the lazy imports happen when a model is built (the check can fail)."""
    code = (
        "import sys, json, juno_forecast.models as m; m.make_model('ols');"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "sklearn" in json.loads(out.stdout)


def test_package_attributes_stay_the_functions_after_their_submodules_load():
    code = (
        "import juno_forecast as jf, juno_forecast.forecast, juno_forecast.detect,"
        " juno_forecast.impact, juno_forecast.report, juno_forecast.expect;"
        "print(all(callable(getattr(jf, n)) and not isinstance(getattr(jf, n), type(jf))"
        " for n in ('forecast', 'detect', 'impact', 'report', 'expect', 'backtest')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
