"""The many-series core (juno_forecast.core) gives what the per-series path gives.

The split into grouped arrays must hand every consumer the same series as the
pandas groupby it replaces, and calendar features shared per scope must be the
features each series would have computed for itself: forecasts are identical.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast import core
from juno_forecast.calendar import Calendar
from juno_forecast.data import Dataset, load_data, series_label
from juno_forecast.features import calendar_features

forecast_module = importlib.import_module("juno_forecast.forecast")
BASES = ["B02512", "B02598", "B02617", "B02682", "B02764", "B02765"]


def groupby_series(ds: Dataset) -> Iterator[tuple[str, dict[str, str], pd.Series]]:
    """The split as it was before the core: one pandas groupby, a Series built per group."""
    cols = [*ds.keys, "metric"]
    for group, g in ds.frame.groupby(cols, sort=True, observed=True):
        values = dict(zip(cols, group, strict=True))
        metric = values.pop("metric")
        index = pd.DatetimeIndex(g["ds"], freq=ds.freq, name="ds")
        yield (
            metric,
            values,
            pd.Series(g["y"].to_numpy(float), index=index, name=series_label(metric, values)),
        )


@pytest.fixture(scope="module")
def bases(shared_data: Path) -> Dataset:
    """The real for-hire bases, trips and active vehicles per day: two metrics, six keys."""
    raw = pd.read_csv(shared_data / "Uber-Jan-Feb-FOIL.csv", dtype={"dispatching_base_number": str})
    tidy = raw.melt(
        id_vars=["dispatching_base_number", "date"], var_name="metric", value_name="y"
    ).rename(columns={"date": "ds", "dispatching_base_number": "base"})
    tidy["ds"] = pd.to_datetime(tidy["ds"], format="%m/%d/%Y")
    return Dataset.from_frame(tidy.sample(frac=1.0, random_state=0), keys=("base",), freq="D")


@pytest.fixture(scope="module")
def boroughs(shared_data: Path) -> Dataset:
    """The real hourly pickups per borough (the sparse ``NA`` borough included)."""
    return load_data(
        shared_data / "uber_nyc_enriched.csv",
        time_col="pickup_dt",
        value_col="pickups",
        metric="pickups",
        by=("borough",),
    )


@pytest.mark.parametrize("which", ["bases", "boroughs"])
def test_split_gives_the_groupby_series(which: str, request: pytest.FixtureRequest) -> None:
    ds: Dataset = request.getfixturevalue(which)
    grouped = core.GroupedSeries.from_frame(ds.frame, ds.keys, ds.freq)
    expected = list(groupby_series(ds))
    got = list(grouped)
    assert len(got) == len(expected) == len(grouped) > 1
    assert grouped.is_regular()
    for i, ((metric, keys, y), (m0, k0, y0)) in enumerate(zip(got, expected, strict=True)):
        assert (metric, keys) == (m0, k0)
        pd.testing.assert_series_equal(y, y0, check_freq=True)
        np.testing.assert_array_equal(grouped.values_of(i), y0.to_numpy())
    assert [y.name for _, _, y in ds.series()] == [y.name for _, _, y in expected]


def test_split_positions_cover_every_row_once(bases: Dataset) -> None:
    grouped = core.GroupedSeries.from_frame(bases.frame, bases.keys, bases.freq)
    spans = [grouped.positions(i) for i in range(len(grouped))]
    assert spans[0][0] == 0 and spans[-1][1] == len(bases.frame)
    assert all(
        a_stop == b_start for (_, a_stop), (b_start, _) in zip(spans, spans[1:], strict=False)
    )
    assert {grouped.metrics[i] for i in range(len(grouped))} == {"trips", "active_vehicles"}
    assert [k["base"] for k in grouped.keys[::2]] == BASES  # keys sorted, then metric


def test_a_slice_of_the_arrays_is_the_series_a_pandas_api_gets() -> None:
    """series_of rebuilds a slice of a series' arrays (the nightly's task history) as the
    slice of its pandas Series: same values, index, unit and frequency; its own copy."""
    stamps = pd.date_range("2015-03-01", periods=24 * 20, freq="h", unit="us")
    frame = pd.DataFrame({"metric": "trips", "ds": stamps, "y": np.arange(len(stamps), 0.0, -1)})
    grouped = core.GroupedSeries.from_frame(frame, (), "h")
    whole = grouped.series(0)
    part = core.series_of(grouped.values[100:200], grouped.stamps[100:200], "h", grouped.unit)
    pd.testing.assert_series_equal(part, whole.iloc[100:200].rename(None))
    assert part.index.freq == "h" and part.index.dtype == "datetime64[us]"
    part.iloc[0] = -1.0
    assert grouped.values[100] == whole.iloc[100] != -1.0  # the arrays stay as they were
    with pytest.raises(ValueError):  # a hole in the stamps: not a regular grid
        core.regular_index(np.delete(grouped.stamps, 5), "h", grouped.unit)


def _assert_same_features(a, b) -> None:
    pd.testing.assert_frame_equal(a.X, b.X)
    pd.testing.assert_frame_equal(a.effects, b.effects)
    pd.testing.assert_frame_equal(a.spreads, b.spreads)
    pd.testing.assert_series_equal(a.events, b.events)
    assert (a.kinds, a.priors) == (b.kinds, b.priors)


def test_scope_features_shared_by_series_no_event_names() -> None:
    core.clear_scopes()
    cal = Calendar.load(None)
    index = pd.date_range("2015-01-01", "2015-02-28", freq="h", name="ds")
    first = core.scope_features(cal, index, "h", "trips", {"base": "B02512"})
    second = core.scope_features(cal, index, "h", "trips", {"base": "B02598"})
    assert second is first  # one computation for both bases
    for base in ("B02512", "B02598"):
        _assert_same_features(first, calendar_features(cal, index, "h", "trips", {"base": base}))
    assert "Martin Luther King Jr. Day" in first.kinds


def test_a_zone_the_calendar_names_is_its_own_scope() -> None:
    core.clear_scopes()
    cal = Calendar.load(None)
    index = pd.date_range("2015-01-01", "2015-02-28", freq="D", name="ds")
    base = core.scope_features(cal, index, "D", "trips", {"base": "B02512"})
    manhattan = core.scope_features(cal, index, "D", "trips", {"borough": "Manhattan"})
    city = core.scope_features(cal, index, "D", "trips", {})
    assert manhattan is not base and city is not base
    _assert_same_features(
        manhattan, calendar_features(cal, index, "D", "trips", {"borough": "Manhattan"})
    )
    _assert_same_features(city, calendar_features(cal, index, "D", "trips", {}))
    mlk = pd.Timestamp("2015-01-19")
    col = "Martin Luther King Jr. Day"
    # by_zone: Manhattan's MLK Day is -20% (before by_hours' reshaping at daily grain),
    # a zone the calendar does not name keeps the event's -10%
    assert manhattan.effects.loc[mlk, col] == pytest.approx(-0.2, abs=0.01)
    assert base.effects.loc[mlk, col] == pytest.approx(-0.1, abs=0.01)


@pytest.mark.parametrize("model", ["naive", "auto"])
def test_forecasts_identical_to_the_per_series_path(
    bases: Dataset, model: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    core.clear_scopes()
    shared = forecast_module.forecast(bases, horizon="14D", model=model)
    monkeypatch.setattr(forecast_module, "scope_features", calendar_features)
    core.clear_scopes()
    alone = forecast_module.forecast(bases, horizon="14D", model=model)
    assert len(shared) == 2 * 6 * 14
    pd.testing.assert_frame_equal(shared, alone)


def _per_series_only(work, cols, freq, counts, need):
    """The loader with no vectorised pass: every series through the per-series checks."""
    return work.iloc[:0][[*cols, "ds", "y"]], np.ones(len(work), bool)


def mixed_frame() -> pd.DataFrame:
    """Four daily series: regular; one missing day (interpolated); an identical duplicate
    row (dropped, noted); a negative count (the series dropped, a problem)."""
    days = pd.date_range("2015-01-01", periods=70, freq="D")
    rng = np.random.default_rng(3)
    parts = []
    for name in ("regular", "gap", "duplicate", "negative"):
        y = rng.integers(50, 150, len(days)).astype(float)
        part = pd.DataFrame({"ds": days, "base": name, "y": y})
        if name == "gap":
            part = part.drop(index=30)
        if name == "duplicate":
            part = pd.concat([part, part.iloc[[10]]])
        if name == "negative":
            part.loc[5, "y"] = -1.0
        parts.append(part)
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=1)


def _load(which: str, shared_data: Path) -> Dataset:
    if which == "mixed":
        return Dataset.from_frame(
            mixed_frame(), keys=("base",), freq="D", metric="trips", fill="interpolate"
        )
    if which == "bases":
        return load_data(
            shared_data / "Uber-Jan-Feb-FOIL.csv",
            time_col="date",
            value_col="trips",
            metric="trips",
            by=("dispatching_base_number",),
        )
    return load_data(
        shared_data / "uber_nyc_enriched.csv",
        time_col="pickup_dt",
        value_col="pickups",
        metric="pickups",
        by=("borough",),
    )


@pytest.mark.parametrize("which", ["bases", "boroughs", "mixed"])
def test_vectorised_load_equals_the_per_series_path(
    which: str, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _load(which, shared_data)
    monkeypatch.setattr(core, "regular_rows", _per_series_only)
    slow = _load(which, shared_data)
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    assert (fast.problems, fast.notes) == (slow.problems, slow.notes)
    if which == "mixed":
        assert [p.series for p in fast.problems] == ["metric=trips base=negative"]
        assert {n.series for n in fast.notes} == {
            "metric=trips base=gap",
            "metric=trips base=duplicate",
        }
        assert fast.frame.groupby("base").size().to_dict() == {
            "duplicate": 70,
            "gap": 70,
            "regular": 70,
        }
