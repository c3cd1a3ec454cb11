"""Calendar occurrences -> design matrix: windows, hours, steps, scope, priors and labels."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.errors import InputError
from juno_forecast.features import (
    HOUR_SHARE,
    active_at,
    build_features,
    calendar_features,
    empty_occurrences,
    prior_factor,
)
from juno_forecast.forecast import SeriesForecaster

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


# ----------------------------------------------------------------------- per-zone priors

ZONED = textwrap.dedent("""\
    metric_aliases: {pickups: trips}
    holidays:
      country: US
      subdiv: NY
      exclude: [Susan B. Anthony Day]
      overrides:
        Memorial Day:
          window: {before: 3}
          effect: {trips: -0.2, drivers_online: -0.1}
          window_effect: {trips: -0.15}
          by_zone:
            - {zones: [Manhattan], effect: {trips: -0.3}, window_effect: {trips: -0.2}}
            - {zones: [Brooklyn, Queens], effect: {trips: 0.1}}
          by_hours:
            - {hours: {from: 0, to: 3}, effect: {trips: 0.5}}
            - {hours: [6, 7, 8, 9], effect: {trips: -0.5}}
    events:
      - name: Storm
        category: weather
        date: 2015-05-27
        hours: {from: 16, to: 23}
        effect: {trips: -0.5}
      - name: Storm
        category: weather
        date: 2015-05-28
        effect: {trips: -0.6}
""")


@pytest.fixture(scope="module")
def zoned(tmp_path_factory) -> Calendar:
    path = tmp_path_factory.mktemp("zoned") / "cal.yaml"
    path.write_text(ZONED)
    return Calendar.load(path)


DAYS = pd.date_range("2015-05-18", "2015-05-31")


def _effect(f, name: str, day: str) -> float:
    return float(f.effects.loc[pd.Timestamp(day), name])


def test_a_holiday_prior_differs_by_zone_on_the_day(zoned):
    man = calendar_features(zoned, DAYS, "D", metric="trips", keys={"borough": "Manhattan"})
    bk = calendar_features(zoned, DAYS, "D", metric="trips", keys={"borough": "Brooklyn"})
    bx = calendar_features(zoned, DAYS, "D", metric="trips", keys={"borough": "Bronx"})
    city = calendar_features(zoned, DAYS, "D", metric="trips")
    assert _effect(man, "Memorial Day", "2015-05-25") == pytest.approx(-0.3)
    assert _effect(bk, "Memorial Day", "2015-05-25") == pytest.approx(0.1)
    # a zone that by_zone does not list, and the whole city, get the event's own effect
    assert _effect(bx, "Memorial Day", "2015-05-25") == pytest.approx(-0.2)
    assert _effect(city, "Memorial Day", "2015-05-25") == pytest.approx(-0.2)
    assert man.priors["Memorial Day"] == pytest.approx(-0.3)
    # a metric the zone entry does not name keeps the event's value
    drv = calendar_features(zoned, DAYS, "D", metric="drivers_online", keys={"borough": "Brooklyn"})
    assert _effect(drv, "Memorial Day", "2015-05-25") == pytest.approx(-0.1)


def test_the_window_has_its_own_prior_not_the_days(zoned):
    man = calendar_features(zoned, DAYS, "D", metric="trips", keys={"borough": "Manhattan"})
    bk = calendar_features(zoned, DAYS, "D", metric="trips", keys={"borough": "Brooklyn"})
    for day in ("2015-05-22", "2015-05-23", "2015-05-24"):
        assert man.X.loc[pd.Timestamp(day), "Memorial Day"] == 1.0
        assert _effect(man, "Memorial Day", day) == pytest.approx(-0.2)
        # Brooklyn's entry gives no window_effect: the event's own -0.15
        assert _effect(bk, "Memorial Day", day) == pytest.approx(-0.15)
    assert _effect(man, "Memorial Day", "2015-05-21") == 0.0
    # no window_effect at all: window days carry no prior (the day's effect stays on the day)
    drv = calendar_features(zoned, DAYS, "D", metric="drivers_online", keys={"borough": "Bronx"})
    assert _effect(drv, "Memorial Day", "2015-05-23") == 0.0


def test_hours_limited_effect_same_name_parts_and_daily_share(zoned):
    hours = pd.date_range("2015-05-27", "2015-05-28 23:00", freq="h")
    f = calendar_features(zoned, hours, "h", metric="trips", keys={"borough": "Queens"})
    storm = f.effects["Storm"]
    assert (storm["2015-05-27 16:00":"2015-05-27 23:00"] == -0.5).all()
    assert (storm["2015-05-27 00:00":"2015-05-27 15:00"] == 0.0).all()
    assert (storm["2015-05-28"] == -0.6).all()
    assert list(f.X.columns).count("Storm") == 1
    # in daily data the evening counts for its share of a typical day's trips
    d = calendar_features(zoned, DAYS, "D", metric="trips", keys={"borough": "Queens"})
    share = HOUR_SHARE[16:24].sum()
    assert 0.4 < share < 0.6
    assert _effect(d, "Storm", "2015-05-27") == pytest.approx(-0.5 * share)
    assert _effect(d, "Storm", "2015-05-28") == pytest.approx(-0.6)


def test_a_metric_alias_gets_the_calendars_effects(zoned):
    f = calendar_features(zoned, DAYS, "D", metric="pickups", keys={"borough": "Manhattan"})
    assert _effect(f, "Memorial Day", "2015-05-25") == pytest.approx(-0.3)
    occ = zoned.occurrences("2015-05-25", "2015-05-25", metric="pickups", keys={"b": "Manhattan"})
    assert occ.loc[0, "effect"] == {"trips": -0.3, "drivers_online": -0.1, "pickups": -0.3}
    assert zoned.canonical_metric("pickups") == "trips"
    other = zoned.with_metric_aliases({"rides": "trips"})
    assert (
        other.canonical_metric("rides") == "trips" and other.canonical_metric("pickups") == "trips"
    )
    g = calendar_features(other, DAYS, "D", metric="rides", keys={"borough": "Brooklyn"})
    assert _effect(g, "Memorial Day", "2015-05-25") == pytest.approx(0.1)
    # without an alias a metric the effects do not name gets no prior
    h = calendar_features(zoned, DAYS, "D", metric="wait_time", keys={"borough": "Manhattan"})
    assert (h.effects.to_numpy() == 0).all() and h.priors == {}


def test_with_metric_aliases_refuses_a_chain(zoned):
    with pytest.raises(InputError, match="must not be an alias"):
        zoned.with_metric_aliases({"trips": "rides"})


def test_prior_factor_multiplies_unlearned_events_only():
    idx = pd.date_range("2015-05-24", periods=3)
    X = pd.DataFrame({"A": [1.0, 1.0, 0.0], "B": [0.0, 1.0, 1.0], "C": [1.0, 0.0, 0.0]}, idx)
    E = pd.DataFrame({"A": [-0.2, -0.3, 0.0], "B": [0.0, 0.5, 0.5]}, idx)
    f = prior_factor(X, E, fallback={"C": -0.1})
    np.testing.assert_allclose(f, [0.8 * 0.9, 0.7 * 1.5, 1.5])
    np.testing.assert_allclose(prior_factor(X, E, {"C": -0.1}, skip=["A", "C"]), [1.0, 1.5, 1.5])


def test_forecaster_applies_the_zones_day_and_window_priors(zoned):
    # a flat history: the seasonal naive forecast is 100 every day, so what the priors do shows
    y = pd.Series(100.0, index=pd.date_range("2015-03-01", "2015-05-20"))
    future = pd.date_range("2015-05-21", "2015-05-26")
    got = {}
    for zone in ("Manhattan", "Brooklyn"):
        f = SeriesForecaster("naive", zoned, "trips", {"borough": zone}, freq="D").fit(y)
        got[zone] = f.predict(future)["yhat"].round(6).tolist()
    #            Thu    Fri(window) Sat    Sun    Mon(day) Tue
    assert got["Manhattan"] == [100.0, 80.0, 80.0, 80.0, 70.0, 100.0]
    assert got["Brooklyn"] == [100.0, 85.0, 85.0, 85.0, 110.0, 100.0]


def test_real_memorial_day_2015_pickups_forecast_per_borough(shared_data):
    """Real daily pickups (metric ``pickups``: the shipped alias of ``trips``): with the shipped
    calendar Memorial Day comes out below a normal Monday in Manhattan and above it in
    Brooklyn, as it was, and closer to the actual day than without the calendar."""
    from juno_forecast.data import load_data

    ds = load_data(
        shared_data / "uber_nyc_enriched.csv",
        time_col="pickup_dt",
        value_col="pickups",
        metric="pickups",
        by=["borough"],
        freq="D",
    )
    series = {k["borough"]: y for _, k, y in ds.series()}
    day = pd.Timestamp("2015-05-25")
    future = pd.date_range("2015-05-21", "2015-05-27")
    shipped = Calendar.load()
    for zone, sign in (("Manhattan", -1), ("Brooklyn", 1)):
        y = series[zone][:"2015-05-20"]
        keys = {"borough": zone}
        on = SeriesForecaster("naive", shipped, "pickups", keys, freq="D").fit(y).predict(future)
        off = SeriesForecaster("naive", "none", "pickups", keys, freq="D").fit(y).predict(future)
        assert np.sign(on.loc[day, "yhat"] - off.loc[day, "yhat"]) == sign, zone
        actual = series[zone][day]
        assert abs(on.loc[day, "yhat"] - actual) < abs(off.loc[day, "yhat"] - actual), zone
        assert "Memorial Day" in on.loc[day, "events"]


def test_by_hours_reshapes_the_day_in_every_zone(zoned):
    hours = pd.date_range("2015-05-25", periods=24, freq="h")
    man = calendar_features(zoned, hours, "h", metric="trips", keys={"borough": "Manhattan"})
    bk = calendar_features(zoned, hours, "h", metric="trips", keys={"borough": "Brooklyn"})
    m, b = man.effects["Memorial Day"].to_numpy(), bk.effects["Memorial Day"].to_numpy()
    np.testing.assert_allclose(
        m[[0, 3, 6, 9, 12, 23]], [0.7 * 1.5 - 1, 0.05, -0.65, -0.65, -0.3, -0.3]
    )
    np.testing.assert_allclose(b[[2, 7, 15]], [1.1 * 1.5 - 1, 1.1 * 0.5 - 1, 0.1])
    # a day in daily data: each hour weighted by its share of a typical day's trips
    d = calendar_features(zoned, DAYS, "D", metric="trips", keys={"borough": "Manhattan"})
    shape = np.zeros(24)
    shape[0:4], shape[6:10] = 0.5, -0.5
    expected = float(np.sum(HOUR_SHARE * (0.7 * (1 + shape) - 1)))
    assert _effect(d, "Memorial Day", "2015-05-25") == pytest.approx(expected)
    assert abs(expected - -0.3) < 0.02  # a reshaping, not a new level
    # the window days are not reshaped
    assert _effect(d, "Memorial Day", "2015-05-23") == pytest.approx(-0.2)


# ----------------------------------------------------------------------- hours following the sun


def test_ramadan_evenings_follow_sunset_in_features_and_priors():
    """The shipped Ramadan: active from the hour holding sunset-1 to the one holding sunset+2,
    with its drivers_online prior there only; a February day's hours are three earlier than
    a June day's, and in daily data the evening counts for its share of the day."""
    cal = Calendar.load()
    feb = pd.date_range("2026-02-18", "2026-02-18 23:00", freq="h")
    june = pd.date_range("2016-06-06", "2016-06-06 23:00", freq="h")
    for index, hours in ((feb, [16, 17, 18, 19]), (june, [19, 20, 21, 22])):
        f = calendar_features(cal, index, "h", metric="drivers_online", keys={"borough": "Queens"})
        assert list(_on(f.X, "Ramadan").hour) == hours
        eff = f.effects["Ramadan"]
        assert np.allclose(eff[eff.index.hour.isin(hours)], -0.07)
        assert (eff[~eff.index.hour.isin(hours)] == 0.0).all()
        assert (f.events[f.events.index.hour.isin(hours)] == "Ramadan").all()
    days = pd.DatetimeIndex(["2026-02-18", "2016-06-06"])
    d = calendar_features(cal, days, "D", metric="drivers_online")
    assert d.effects["Ramadan"].to_numpy() == pytest.approx(
        [-0.07 * HOUR_SHARE[16:20].sum(), -0.07 * HOUR_SHARE[19:23].sum()]
    )


def test_a_sun_anchored_event_split_into_runs_keeps_one_column_and_one_window(tmp_path):
    """Over the clock change the event comes as several rows; the features see one event:
    one column, the window days before the first day and after the last only, no double
    prior where two rows meet, and ``active_at`` (what the detector asks) agrees."""
    path = tmp_path / "cal.yaml"
    path.write_text(
        textwrap.dedent("""\
        events:
          - name: Evenings
            category: religious
            start: 2026-03-05
            end: 2026-03-10
            window: {before: 1, after: 1}
            hours: {from: sunset-1, to: sunset+2}
            effect: {drivers_online: -0.1}
            window_effect: {drivers_online: -0.05}
        """)
    )
    cal = Calendar.load(path)
    occ = cal.occurrences("2026-03-01", "2026-03-15")
    assert len(occ) == 2  # the clocks change on 8 March
    index = pd.date_range("2026-03-03", "2026-03-12 23:00", freq="h")
    f = calendar_features(cal, index, "h", metric="drivers_online")
    assert list(f.X.columns) == ["Evenings"]
    on_days = _on(f.X, "Evenings").normalize().unique()
    assert list(on_days) == list(pd.date_range("2026-03-04", "2026-03-11"))
    eff = f.effects["Evenings"]
    assert set(np.round(eff[eff != 0].unique(), 6)) == {-0.1, -0.05}
    assert np.allclose(eff["2026-03-05":"2026-03-10 23:00"][eff != 0], -0.1)
    assert list(_on(f.X, "Evenings")[_on(f.X, "Evenings").normalize() == "2026-03-07"].hour) == [
        16,
        17,
        18,
        19,
    ]
    assert list(_on(f.X, "Evenings")[_on(f.X, "Evenings").normalize() == "2026-03-08"].hour) == [
        17,
        18,
        19,
        20,
    ]
    either = np.zeros(len(index), dtype=bool)
    for _, row in occ.iterrows():
        either |= active_at(row, index, "h")
    assert (either == (f.X["Evenings"].to_numpy() > 0)).all()
