"""The shipped calendar, the Calendar API other modules rely on, weather events and `calendar show`."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from juno_forecast.calendar import (
    OCCURRENCE_COLUMNS,
    Calendar,
    default_calendar_path,
    load_calendar,
)
from juno_forecast.errors import InputError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def shipped() -> Calendar:
    return Calendar.load()


def test_shipped_file_validates_and_root_symlink_points_to_it(shipped: Calendar):
    assert Path(shipped.path) == default_calendar_path()
    root = REPO / "events_calendar.yaml"
    assert root.resolve() == default_calendar_path().resolve()
    assert Calendar.load(root).counts() == shipped.counts()


def test_every_event_has_a_source_or_a_rule(shipped: Calendar):
    missing = [e.name for e in shipped.events if not e.source and e.rule is None]
    assert missing == []
    assert shipped.spec.holidays is not None and shipped.spec.holidays.source


def test_shipped_calendar_contents_meet_the_brief(shipped: Calendar):
    counts = shipped.counts()
    events = {e.name for e in shipped.events if e.category == "event"}
    assert len(events) >= 30, sorted(events)
    weather = [e for e in shipped.events if e.category == "weather"]
    assert len(weather) >= 12 and all(e.rule is None and e.source for e in weather)
    assert all(s.year >= 2014 for e in weather for s, _ in e.spans)
    changes = [e for e in shipped.events if e.category in ("regulation", "market")]
    assert len(changes) >= 4 and all(e.source for e in changes)
    assert sum(e.scope.shape == "step" for e in changes) >= 4
    assert counts["holiday"] >= 10 and counts["religious"] >= 3


def test_shipped_covers_2014_to_2030(shipped: Calendar):
    for year in (2014, 2022, 2030):
        occ = shipped.occurrences(f"{year}-01-01", f"{year}-12-31")
        names = set(occ["name"])
        assert {
            "Thanksgiving Day",
            "Ramadan",
            "Eid al-Fitr",
            "Eid al-Adha",
            "NYC Pride March",
            "New Year's Eve in Times Square",
        } <= names, year


def test_occurrence_columns_and_types(shipped: Calendar):
    occ = shipped.occurrences("2015-01-01", "2015-12-31")
    assert tuple(occ.columns) == OCCURRENCE_COLUMNS
    for col in ("start", "end", "window_start", "window_end"):
        assert pd.api.types.is_datetime64_any_dtype(occ[col])
        assert (occ[col] == occ[col].dt.normalize()).all()
    assert (occ["window_start"] <= occ["start"]).all() and (occ["end"] <= occ["window_end"]).all()
    row = occ[occ["name"] == "Thanksgiving Day"].iloc[0]
    assert row["window_start"] == pd.Timestamp("2015-11-25") and row["window_end"] == pd.Timestamp(
        "2015-11-29"
    )
    assert row["effect"] == {"trips": -0.3} and row["shape"] == "pulse"
    assert isinstance(row["hours"], tuple) and isinstance(row["metrics"], tuple)


def test_monday_holidays_empty_manhattan_while_outer_boroughs_hold(shipped: Calendar):
    """The shipped priors by borough: the day itself, and Memorial Day's getaway weekend."""

    def effects(day: str, zone: str | None) -> tuple[dict, dict]:
        keys = {"borough": zone} if zone else None
        occ = shipped.occurrences(day, day, category="holiday", metric="trips", keys=keys)
        row = occ[occ["start"] == pd.Timestamp(day)].iloc[0]
        return row["effect"], row["window_effect"]

    for day in ("2015-01-19", "2015-02-16", "2015-05-25", "2015-09-07"):
        (man, _), (bk, _), (qn, _), (city, _) = (
            effects(day, z) for z in ("Manhattan", "Brooklyn", "Queens", None)
        )
        assert man["trips"] < city["trips"] < 0 < bk["trips"] and qn["trips"] > 0, day
    man_day, man_window = effects("2015-05-25", "Manhattan")
    assert man_window["trips"] < 0 and man_window["trips"] != man_day["trips"]
    assert effects("2015-01-19", None)[1] == {}  # MLK weekend: no window, no window prior


def test_blizzard_of_2015_evening_then_the_ban_then_the_day_after(shipped: Calendar):
    occ = shipped.occurrences("2015-01-26", "2015-01-27", category="weather")
    rows = occ[occ["name"] == "Blizzard of January 2015 (travel ban)"]
    assert [(r.start.day, r.hours[0], r.hours[-1]) for r in rows.itertuples()] == [
        (26, 16, 23),
        (27, 0, 7),
        (27, 8, 23),
    ]
    assert [r.effect["trips"] for r in rows.itertuples()] == [-0.5, -0.95, -0.5]


def test_metric_aliases_of_the_shipped_calendar(shipped: Calendar):
    assert shipped.canonical_metric("pickups") == "trips"
    assert shipped.canonical_metric("active_vehicles") == "drivers_online"
    assert shipped.canonical_metric("wait_time") == "wait_time"
    occ = shipped.occurrences("2015-05-25", "2015-05-25", metric="pickups", keys={"b": "Queens"})
    memorial = occ[occ["name"] == "Memorial Day"].iloc[0]
    assert memorial["effect"]["pickups"] == memorial["effect"]["trips"] > 0


def test_window_overlap_includes_spill_over(shipped: Calendar):
    # NYE 2014 spills into Jan 1 2015: the query for Jan 1 sees it
    occ = shipped.occurrences("2015-01-01", "2015-01-01")
    assert "New Year's Eve in Times Square" in set(occ["name"])


def test_steps_last_from_their_start(shipped: Calendar):
    occ = shipped.occurrences("2021-03-01", "2021-03-31", category="regulation")
    names = set(occ["name"])
    assert "NYS congestion surcharge on for-hire trips" in names
    assert "Congestion pricing (Central Business District toll)" not in names
    later = shipped.occurrences("2025-02-01", "2025-02-02", category="regulation")
    assert "Congestion pricing (Central Business District toll)" in set(later["name"])


def test_scope_filters(shipped: Calendar):
    occ = shipped.occurrences("2015-11-01", "2015-11-01", metric="trips", keys={"borough": "Bronx"})
    assert "NYC Marathon" in set(occ["name"])
    occ = shipped.occurrences("2015-06-28", "2015-06-28", keys={"borough": "Bronx"})
    assert "NYC Pride March" not in set(occ["name"])  # Manhattan only
    occ = shipped.occurrences("2015-06-28", "2015-06-28", keys={"borough": "Manhattan"})
    assert "NYC Pride March" in set(occ["name"])
    occ = shipped.occurrences("2019-05-08", "2019-05-08", metric="trips")
    assert "App-based drivers' strike" not in set(occ["name"])  # drivers_online, wait_time only


def test_empty_and_load_calendar_options(shipped: Calendar):
    assert Calendar.empty().occurrences("2015-01-01", "2015-12-31").empty
    assert (
        tuple(Calendar.empty().occurrences("2015-01-01", "2015-01-02").columns)
        == OCCURRENCE_COLUMNS
    )
    assert load_calendar("NONE").is_empty() and load_calendar("none").is_empty()
    assert load_calendar(None).counts() == shipped.counts()
    with pytest.raises(InputError, match="calendar file not found"):
        load_calendar("/nonexistent/cal.yaml")
    with pytest.raises(InputError, match="end 2015-01-01 is before start 2015-02-01"):
        shipped.occurrences("2015-02-01", "2015-01-01")


def write_ghcn(path: Path) -> Path:
    """A small GHCN-Daily style file: a 2-day snowstorm, a heavy-rain day, a hot day."""
    rows = [
        ("2016-01-21", 0.0, 0.0, 0.0, 35, 25),
        ("2016-01-22", 0.4, 3.0, 2.0, 30, 22),
        ("2016-01-23", 2.0, 20.0, 20.0, 28, 20),
        ("2016-01-24", 0.0, 0.0, 22.0, 30, 18),
        ("2016-07-01", 1.5, 0.0, 0.0, 80, 70),
        ("2016-07-22", 0.0, 0.0, 0.0, 96, 80),
    ]
    df = pd.DataFrame(rows, columns=["DATE", "PRCP", "SNOW", "SNWD", "TMAX", "TMIN"])
    df.insert(0, "STATION", "USW00094728")
    df.to_csv(path, index=False)
    return path


def test_with_weather_ghcn_daily(tmp_path: Path, shipped: Calendar):
    cal = shipped.with_weather(write_ghcn(tmp_path / "ghcn.csv"))
    occ = cal.occurrences("2016-01-01", "2016-12-31", category="weather")
    found = occ[occ["source"].str.startswith("observed weather ghcn.csv")]
    spans = {(r.name, r.start.date(), r.end.date()) for r in found.itertuples()}
    assert (
        "Snowstorm (observed)",
        dt.date(2016, 1, 22),
        dt.date(2016, 1, 23),
    ) in spans  # 3 in joins 20 in
    # 2 in of precipitation fell as 20 in of snow: a snowstorm, not also heavy rain
    assert ("Heavy rain (observed)", dt.date(2016, 7, 1), dt.date(2016, 7, 1)) in spans
    assert ("Heat (observed)", dt.date(2016, 7, 22), dt.date(2016, 7, 22)) in spans
    assert len(spans) == 3
    assert found.loc[found["name"] == "Snowstorm (observed)", "effect"].iloc[0] == {"trips": -0.3}
    assert list(cal.weather_daily.columns) == ["PRCP", "SNOW", "SNWD", "TMAX", "TMIN"]
    assert shipped.occurrences(
        "2016-07-22", "2016-07-22", category="weather"
    ).empty  # original unchanged


def test_with_weather_bad_file_is_one_line_input_error(tmp_path: Path, shipped: Calendar):
    bad = tmp_path / "bad.csv"
    bad.write_text("DATE,PRCP\n2016-01-01,0.1\n2016-01-02,lots\n")
    with pytest.raises(
        InputError, match=r"bad.csv: column PRCP: expected numbers, got 'lots' on data row 2"
    ):
        shipped.with_weather(bad)
    other = tmp_path / "hourly.csv"
    other.write_text("when,rain\n2016-01-01 01:00,0.1\n")
    with pytest.raises(InputError, match="hourly weather: expected columns pickup_dt"):
        shipped.with_weather(other)


def test_hourly_weather_gives_the_january_2015_blizzard(shared_data: Path, shipped: Calendar):
    cal = shipped.with_weather(shared_data / "uber_nyc_enriched.csv")
    occ = cal.occurrences("2015-01-20", "2015-01-31", category="weather")
    observed = occ[occ["name"] == "Snowstorm (observed)"]
    assert len(observed) == 1
    row = observed.iloc[0]
    assert row["start"] == pd.Timestamp("2015-01-26") and row["end"] == pd.Timestamp("2015-01-27")
    daily = cal.weather_daily
    assert daily.loc["2015-01-27", "SNOW"] >= 4 and daily.loc["2015-01-26", "TMAX"] <= 36


def test_hourly_weather_column_mapping_by_options(shared_data: Path):
    cal = Calendar.load(default_calendar_path())
    # the same file read with explicit options instead of the YAML's hourly section
    mapped = cal.with_weather(
        shared_data / "uber_nyc_enriched.csv",
        time_col="pickup_dt",
        columns={"PRCP": "liq_precp_1hr", "SNWD": "snow_depth_in", "TEMP": "temp_F"},
    )
    assert "Snowstorm (observed)" in set(mapped.occurrences("2015-01-26", "2015-01-27")["name"])


def run_show(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "juno_forecast", "calendar", "show", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_show_2015_lists_holidays_ramadan_eids_events_and_blizzard():
    res = run_show("--start", "2015-01-01", "--end", "2015-12-31", "--format", "csv")
    assert res.returncode == 0, res.stderr
    from io import StringIO

    table = pd.read_csv(StringIO(res.stdout), keep_default_na=False)
    assert list(table.columns) == [
        "name",
        "category",
        "start",
        "end",
        "window_start",
        "window_end",
        "metrics",
        "zones",
        "effect",
        "source",
        "hours",
        "window_effect",
        "zone_effects",
        "hour_effects",
        "spread",
        "window_spread",
    ]
    names = set(table["name"])
    assert {
        "Thanksgiving Day",
        "Independence Day",
        "Ramadan",
        "Eid al-Fitr",
        "Eid al-Adha",
        "NYC Marathon",
        "Macy's Thanksgiving Day Parade",
        "Blizzard of January 2015 (travel ban)",
    } <= names
    blizzard = table[table["name"] == "Blizzard of January 2015 (travel ban)"]
    assert list(zip(blizzard["start"], blizzard["hours"], blizzard["effect"], strict=True)) == [
        ("2015-01-26", "16-23", "trips=-0.5"),
        ("2015-01-27", "0-7", "trips=-0.95;drivers_online=-0.9"),
        ("2015-01-27", "8-23", "trips=-0.5;drivers_online=-0.4"),
    ]
    memorial = table[table["name"] == "Memorial Day"].iloc[0]
    assert memorial["window_start"] == "2015-05-22" and memorial["window_effect"] == "trips=-0.15"
    assert memorial["zone_effects"].startswith("Manhattan: trips=-0.3, window trips=-0.2 | ")
    assert memorial["hour_effects"] == "0-3: trips=0.5 | 6-9: trips=-0.45"
    marathon = table[table["name"] == "NYC Marathon"].iloc[0]
    assert marathon["start"] == "2015-11-01"
    assert marathon["zones"] == "Staten Island;Brooklyn;Queens;Bronx;Manhattan"
    assert marathon["effect"] == "trips=-0.1;wait_time=0.25"


def test_cli_show_category_json_and_out(tmp_path: Path):
    res = run_show(
        "--start",
        "2015-01-01",
        "--end",
        "2015-12-31",
        "--category",
        "weather,regulation",
        "--format",
        "json",
    )
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert rows and {r["category"] for r in rows} == {"weather"}
    out = tmp_path / "occ.csv"
    res = run_show(
        "--start", "2015-01-01", "--end", "2015-01-31", "--calendar", "none", "--out", str(out)
    )
    assert res.returncode == 0 and pd.read_csv(out).empty
    res = run_show("--start", "2015-01-01", "--end", "2015-12-31", "--category", "parties")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().startswith("error: --category: expected one of holiday")


def test_unknown_category_in_api_is_an_input_error(shipped: Calendar):
    with pytest.raises(InputError, match="category: expected one of holiday"):
        shipped.occurrences("2015-01-01", "2015-01-31", category="parade")
    assert load_calendar(shipped) is shipped


def test_hourly_table_with_ghcn_names_even_on_the_empty_calendar(tmp_path: Path):
    # an hourly table "with the same meaning": DATE with hours, PRCP per hour, TEMP
    times = pd.date_range("2016-01-23 00:00", periods=48, freq="h")
    df = pd.DataFrame({"DATE": times.strftime("%Y-%m-%d %H:%M"), "PRCP": 0.05, "TEMP": 25.0})
    path = tmp_path / "hourly.csv"
    df.to_csv(path, index=False)
    daily = Calendar.empty().with_weather(path).weather_daily
    assert daily.loc["2016-01-23", "PRCP"] == pytest.approx(1.2)  # 24 x 0.05: summed, not averaged
    assert daily.loc["2016-01-24", "SNOW"] == pytest.approx(12.0)  # 1.2 in at 25 F x 10
    assert daily.loc["2016-01-23", "TMAX"] == 25.0
    shipped = Calendar.load().with_weather(
        path
    )  # the YAML's pickup_dt mapping does not fit: own names
    found = shipped.occurrences("2016-01-23", "2016-01-24", category="weather")
    assert "Snowstorm (observed)" in set(found["name"])
    assert "Heavy rain (observed)" not in set(found["name"])  # at 25 F it all fell as snow


def test_cli_show_with_hourly_weather(shared_data: Path):
    res = run_show(
        "--start",
        "2015-01-20",
        "--end",
        "2015-01-31",
        "--category",
        "weather",
        "--weather",
        str(shared_data / "uber_nyc_enriched.csv"),
        "--format",
        "json",
    )
    assert res.returncode == 0, res.stderr
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert rows["Snowstorm (observed)"]["start"] == "2015-01-26"
    assert rows["Snowstorm (observed)"]["end"] == "2015-01-27"
    assert rows["Snowstorm (observed)"]["effect"] == "trips=-0.3"
    assert "Blizzard of January 2015 (travel ban)" in rows
