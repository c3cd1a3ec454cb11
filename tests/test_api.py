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


def _frame(zones=("A",)):  # noqa: ANN001, ANN202
    import numpy as np
    import pandas as pd

    ds = pd.date_range("2025-01-01", periods=60, freq="D")
    return pd.concat(
        [
            pd.DataFrame({"zone": z, "metric": "trips", "ds": ds, "y": 100.0 + np.arange(60) % 7})
            for z in zones
        ],  # fmt: skip
        ignore_index=True,
    )


def test_detect_accepts_keys_for_by_and_names_an_unknown_argument():
    import pytest

    from juno_forecast.errors import InputError

    df = _frame(("A", "B"))
    with_keys = juno_forecast.detect(
        df, "2025-02-20", "2025-02-25", calendar="none", keys=("zone",)
    )
    with_by = juno_forecast.detect(df, "2025-02-20", "2025-02-25", calendar="none", by=("zone",))
    assert list(with_keys.columns) == list(with_by.columns) and with_keys.columns[0] == "zone"
    with pytest.raises(InputError, match="keys and by name the same key columns"):
        juno_forecast.detect(df, "2025-02-20", "2025-02-25", keys=("zone",), by=("zone",))
    with pytest.raises(InputError, match="^zones: not a data argument; expected time_col"):
        juno_forecast.detect(df, "2025-02-20", "2025-02-25", zones=("zone",))


def test_a_missing_key_value_in_a_frame_is_an_error_not_an_empty_zone():
    import pytest

    from juno_forecast.errors import InputError

    df = _frame(("NA", "Bronx"))
    df.loc[3, "zone"] = float("nan")  # what read_csv's defaults make of a borough called NA
    with pytest.raises(InputError) as err:
        juno_forecast.forecast(df, by=("zone",), model="naive", calendar="none")
    assert str(err.value) == (
        "<frame>: column 'zone': missing key value at row 4 (a key is text; pandas' read_csv "
        "turns a borough called NA into a missing value unless keep_default_na=False)"
    )
