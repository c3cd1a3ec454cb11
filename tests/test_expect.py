"""expect() on arrays: each series' rows equal its model's pandas face on the same history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from juno_forecast.compat import epoch_ns
from juno_forecast.detect.expectation import expected_arrays, make_expectation
from juno_forecast.errors import InputError
from juno_forecast.expect import expect
from juno_forecast.forecast import OUTPUT_COLUMNS, SeriesForecaster
from juno_forecast.models.baseline import RANGE_COLUMNS, RobustBaseline

START, END = pd.Timestamp("2015-11-04"), pd.Timestamp("2015-11-05 23:00")


def _frame() -> pd.DataFrame:
    """Hourly trips of two zones with a daily cycle (five weeks) and one of four days."""
    rng = np.random.default_rng(3)
    parts = []
    for zone, first in (
        ("Manhattan", "2015-10-01"),
        ("Bronx", "2015-10-01"),
        ("EWR", "2015-11-01"),
    ):
        ds = pd.date_range(first, "2015-11-03 23:00", freq="h")
        lam = 100 * (1.2 + np.sin(2 * np.pi * ds.hour / 24))
        parts.append(
            pd.DataFrame({"zone": zone, "metric": "trips", "ds": ds, "y": rng.poisson(lam)})
        )
    return pd.concat(parts, ignore_index=True).astype({"y": float})


def _history(df: pd.DataFrame, zone: str) -> pd.Series:
    return df[df["zone"] == zone].set_index("ds")["y"].sort_index()


@pytest.mark.parametrize("model", ["naive", "baseline"])
def test_expect_rows_equal_each_models_pandas_face(model: str) -> None:
    df = _frame()
    out = expect(df, START, END, model=model, calendar="none", by=["zone"])
    index = pd.date_range(START, END, freq="h", name="ds")
    # EWR has four days of history: too short, named in problems, the others go on
    assert out["zone"].unique().tolist() == ["Bronx", "Manhattan"]
    assert len(out.attrs["problems"]) == 1 and "zone=EWR" in out.attrs["problems"][0]
    assert list(out.columns) == ["zone", "metric", "ds", *RANGE_COLUMNS, "events"]
    for zone in ("Bronx", "Manhattan"):
        keys = {"zone": zone}
        f = make_expectation(model, "h", "trips", keys, calendar="none").fit(_history(df, zone))
        face = f.predict_ranges(index) if model == "baseline" else f.predict(index)
        rows = out[out["zone"] == zone].set_index("ds")
        assert rows.index.equals(index)
        for col in RANGE_COLUMNS:
            np.testing.assert_array_equal(rows[col].to_numpy(), face[col].to_numpy())
        assert (rows["events"] == "").all()


def test_expected_arrays_of_both_kinds_of_model() -> None:
    y = _history(_frame(), "Manhattan")
    ahead = epoch_ns(pd.date_range(START, periods=30, freq="h"))
    values, stamps = y.to_numpy(), epoch_ns(y.index)
    base = expected_arrays(RobustBaseline(freq="h"), values, stamps, ahead)
    assert list(base) == list(RANGE_COLUMNS) and len(base["yhat"]) == 30
    face = RobustBaseline(freq="h").fit(y).predict_ranges(pd.DatetimeIndex(ahead.view("M8[ns]")))
    np.testing.assert_array_equal(base["hi_95"], face["hi_95"].to_numpy())
    f = SeriesForecaster("naive", calendar="none", metric="trips", freq="h")
    fc = expected_arrays(f, values, stamps, ahead)
    assert list(fc) == list(OUTPUT_COLUMNS) and (fc["lo_95"] <= fc["hi_95"]).all()


def test_expect_with_no_series_that_can_be_forecast_is_an_input_error() -> None:
    df = _frame()  # two weeks of EWR: enough to load, two hours short of a forecast
    ewr = df[(df["zone"] == "Manhattan") & (df["ds"] >= "2015-10-21")].assign(zone="EWR")
    with pytest.raises(InputError, match="no series could be forecast: .*EWR.*too short"):
        expect(ewr, START, END, model="naive", calendar="none", by=["zone"])
