"""Calendar occurrences -> design matrix: windows, hours, steps, scope, priors and labels."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.features import build_features, calendar_features, empty_occurrences

YAML = textwrap.dedent("""\
    events:
      - name: Street fair
        category: event
        date: 2024-03-06
        window: {before: 1, after: 1}
        effect: {trips: 0.2}
      - name: Evening concert
        category: event
        date: 2024-03-08
        hours: [18, 19, 20]
      - name: New toll
        category: regulation
        date: 2024-03-10
        shape: step
        effect: {trips: -0.1, drivers_online: -0.05}
      - name: Manhattan parade
        category: event
        date: 2024-03-07
        zones: [Manhattan]
""")


@pytest.fixture(scope="module")
def cal(tmp_path_factory) -> Calendar:
    path = tmp_path_factory.mktemp("cal") / "cal.yaml"
    path.write_text(YAML)
    return Calendar.load(path)


@pytest.fixture(scope="module")
def hourly() -> pd.DatetimeIndex:
    return pd.date_range("2024-03-01", "2024-03-14 23:00", freq="h")


def _on(X: pd.DataFrame, col: str) -> pd.DatetimeIndex:
    return X.index[X[col].to_numpy() > 0]


def test_pulse_covers_its_window_days(cal, hourly):
    f = calendar_features(cal, hourly, freq="h", metric="trips", keys={"borough": "Bronx"})
    days = _on(f.X, "Street fair").normalize().unique()
    assert list(days) == list(pd.date_range("2024-03-05", "2024-03-07"))
    assert len(_on(f.X, "Street fair")) == 3 * 24


def test_hours_narrow_an_event_at_hourly_grain_only(cal, hourly):
    f = calendar_features(cal, hourly, freq="h", metric="trips")
    on = _on(f.X, "Evening concert")
    assert list(on) == list(pd.date_range("2024-03-08 18:00", "2024-03-08 20:00", freq="h"))
    daily = calendar_features(
        cal, pd.date_range("2024-03-01", "2024-03-14"), freq="D", metric="trips"
    )
    assert list(_on(daily.X, "Evening concert")) == [pd.Timestamp("2024-03-08")]


def test_step_is_on_from_its_start_and_named_only_on_its_day(cal, hourly):
    f = calendar_features(cal, hourly, freq="h", metric="trips")
    on = _on(f.X, "New toll")
    assert on.min() == pd.Timestamp("2024-03-10") and on.max() == hourly.max()
    assert f.kinds["New toll"] == "step"
    named = f.events[f.events.str.contains("New toll")].index.normalize().unique()
    assert list(named) == [pd.Timestamp("2024-03-10")]
    # seen from a later window, a step that began earlier is still on (``since``)
    later = pd.date_range("2024-03-12", periods=48, freq="h")
    g = calendar_features(cal, later, freq="h", metric="trips", since=hourly.min())
    assert (g.X["New toll"] == 1.0).all()


def test_scope_by_zone_and_priors_by_metric(cal, hourly):
    bronx = calendar_features(cal, hourly, freq="h", metric="trips", keys={"borough": "Bronx"})
    manhattan = calendar_features(
        cal, hourly, freq="h", metric="trips", keys={"borough": "Manhattan"}
    )
    assert "Manhattan parade" not in bronx.X.columns
    assert len(_on(manhattan.X, "Manhattan parade")) == 24
    assert bronx.priors == {"Street fair": 0.2, "New toll": -0.1}
    drivers = calendar_features(cal, hourly, freq="h", metric="drivers_online")
    assert drivers.priors == {"New toll": -0.05}


def test_events_column_joins_the_active_names(cal, hourly):
    f = calendar_features(cal, hourly, freq="h", metric="trips", keys={"borough": "Manhattan"})
    at = f.events.loc[pd.Timestamp("2024-03-07 12:00")]
    assert set(at.split(";")) == {"Street fair", "Manhattan parade"}
    assert f.events.loc[pd.Timestamp("2024-03-02 12:00")] == ""


def test_no_calendar_means_no_columns(hourly):
    for cal in (None, Calendar.empty()):
        f = calendar_features(cal, hourly, freq="h", metric="trips", keys={"borough": "Bronx"})
        assert f.X.shape == (len(hourly), 0) and f.priors == {}
        assert (f.events == "").all()
    assert build_features(empty_occurrences(), hourly).X.shape[1] == 0


def test_features_are_binary_floats(cal, hourly):
    X = calendar_features(cal, hourly, freq="h", metric="trips").X
    assert X.dtypes.eq(float).all()
    assert set(np.unique(X.to_numpy())) <= {0.0, 1.0}
