"""An explanation is earned: the event's expected effect, with its spread, must hold the actual."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.cli import main
from juno_forecast.detect import check, detect

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample.parquet"

HOLIDAY_YAML = """
events:
  - name: Founders Day
    category: holiday
    rule: {month: 7, day: 4}
    metrics: [trips]
  - name: Street fair
    category: event
    date: 2025-09-17
    metrics: [trips]
    effect: {trips: -0.3}
"""


def daily_trips(start: str = "2022-01-03", end: str = "2025-12-31", seed: int = 0) -> pd.DataFrame:
    """Daily city trips with a weekly cycle, Poisson noise, and every 4 July 20% low."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, end, freq="D")
    level = 20000 * (1.0 + 0.15 * (ds.day_of_week.to_numpy() >= 4))
    level = np.where((ds.month == 7) & (ds.day == 4), level * 0.8, level)
    return pd.DataFrame({"metric": "trips", "ds": ds, "y": rng.poisson(level).astype(float)})


def on_day(df: pd.DataFrame, day: str, factor: float) -> pd.DataFrame:
    out = df.copy()
    out.loc[out["ds"] == pd.Timestamp(day), "y"] *= factor
    return out


@pytest.fixture
def calendar_file(tmp_path):
    path = tmp_path / "cal.yaml"
    path.write_text(HOLIDAY_YAML)
    return str(path)


def _incident(df: pd.DataFrame, day: str, calendar: str) -> pd.Series:
    inc = detect(df, day, day, calendar=calendar, freq="D")
    assert len(inc) == 1, inc
    return inc.iloc[0]


def test_holiday_dip_of_its_learned_size_is_explained(calendar_file):
    row = _incident(daily_trips(), "2025-07-04", calendar_file)
    assert row["direction"] == "below" and -25 < row["deviation_pct"] < -15
    assert row["explanation"] == "explained"
    assert row["explained_by"] == "Founders Day"
    assert "learned from 3 earlier day(s)" in row["note"]


def test_holiday_dip_three_times_its_learned_size_is_partly(calendar_file):
    df = on_day(daily_trips(), "2025-07-04", 0.4 / 0.8)  # -60% instead of -20%
    row = _incident(df, "2025-07-04", calendar_file)
    assert row["explanation"] == "partly"
    assert "points beyond what the calendar accounts for" in row["note"]
    assert "actual -60%: partly" in row["note"]


def test_rise_on_a_day_whose_event_expects_a_fall_is_unexplained(calendar_file):
    df = on_day(daily_trips(), "2025-07-04", 1.3 / 0.8)  # +30% where it learned -20%
    row = _incident(df, "2025-07-04", calendar_file)
    assert row["direction"] == "above"
    assert row["explanation"] == "unexplained"
    assert row["explained_by"] == "Founders Day"
    assert "the opposite of what the calendar expects" in row["note"]


def test_prior_only_event_explains_its_own_size_and_direction_not_the_opposite(calendar_file):
    # the street fair happens once: its -30% +- 12% prior is all there is
    same = _incident(on_day(daily_trips(), "2025-09-17", 0.7), "2025-09-17", calendar_file)
    assert same["explanation"] == "explained"
    assert same["note"].startswith("Street fair: expected -30% (-54% to -6%)")
    opposite = _incident(on_day(daily_trips(), "2025-09-17", 1.3), "2025-09-17", calendar_file)
    assert opposite["explanation"] == "unexplained"


def test_event_with_no_effect_and_no_history_explains_nothing(tmp_path):
    cal = tmp_path / "cal.yaml"
    cal.write_text("events:\n  - name: Book fair\n    category: event\n    date: 2025-09-17\n")
    row = _incident(on_day(daily_trips(), "2025-09-17", 0.5), "2025-09-17", str(cal))
    assert row["explanation"] == "unexplained"
    assert row["note"] == "Book fair: no expected effect on trips; actual -50%"


def test_check_fails_on_a_partly_explained_deviation_and_names_the_event(calendar_file):
    df = on_day(daily_trips(), "2025-07-04", 0.4 / 0.8)
    res = check(df, "2025-07-04", "2025-07-04", calendar=calendar_file, freq="D")
    assert res.exit_code == 1
    row = res.verdicts.iloc[0]
    assert row["verdict"] == "PARTLY explained deviation" and row["partly"] == 1
    assert re.search(r"Founders Day: expected -2[01]% \(-3\d% to -1\d%, learned", row["note"])
    assert "points beyond what the calendar accounts for" in row["note"]


def test_ramadan_does_not_explain_a_release_that_halved_trips(tmp_path, capsys):
    # the case: trips halved 18:00-21:00 on a Ramadan evening in every borough
    df = pd.read_parquet(SAMPLE)
    hit = (df["metric"] == "trips") & df["ds"].between("2026-03-05 18:00", "2026-03-05 20:00")
    df["y"] = df["y"].astype(float)
    df.loc[hit, "y"] *= 0.5
    path = tmp_path / "broken.parquet"
    df[df["metric"] == "trips"].to_parquet(path)
    argv = ["check", str(path), "--by", "borough", "--since", "2026-03-05 18:00"]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--until", "2026-03-05 23:00"])
    out = capsys.readouterr().out
    assert exc.value.code == 1
    manhattan = next(line for line in out.splitlines() if "borough=Manhattan" in line)
    assert manhattan.startswith("UNEXPLAINED deviation")
    assert "Ramadan" in manhattan and "actual -5" in manhattan and ": unexplained" in manhattan


# ------------------------------------------------------------ a day off at hourly grain

#: an hourly profile per day type: a Monday commutes (07-09), a Sunday sleeps in after a
#: Saturday night out (00-04 busy, 06-10 empty)
WEEKDAY = np.array(
    [3, 2, 1, 1, 1, 3, 8, 16, 18, 12, 9, 9, 10, 10, 10, 11, 12, 14, 12, 10, 9, 8, 6, 4]
)
SUNDAY = np.array(
    [14, 13, 11, 8, 4, 2, 2, 3, 4, 6, 9, 12, 13, 13, 13, 12, 12, 11, 10, 9, 8, 7, 5, 3]
)
SATURDAY = np.array(
    [6, 4, 3, 2, 1, 2, 3, 5, 7, 9, 11, 13, 13, 13, 13, 13, 13, 13, 13, 14, 15, 17, 18, 17]
)
HOLIDAY = "2025-06-02"  # a Monday

DAY_OFF_YAML = """
events:
  - name: Founders Monday
    category: holiday
    date: 2025-06-02
    metrics: [trips]
    effect: {trips: -0.1}
    hours_like: sunday
"""


def hourly_trips(
    start: str = "2025-03-10", holidays: tuple[str, ...] = (HOLIDAY,), seed: int = 1
) -> pd.DataFrame:
    """Hourly trips to 3 June 2025 (x 60 per unit, Poisson); each of ``holidays`` (Mondays)
    has a Sunday's hours at 90% of a Monday's day total."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, "2025-06-03 23:00", freq="h")
    profile = {5: SATURDAY, 6: SUNDAY}
    unit = np.array(
        [profile.get(d, WEEKDAY)[h] for d, h in zip(ds.day_of_week, ds.hour, strict=True)]
    )
    level = 60.0 * unit.astype(float)
    for day in holidays:
        on = ds.normalize() == pd.Timestamp(day)
        level[on] = 60.0 * 0.9 * SUNDAY[ds.hour[on]] * WEEKDAY.sum() / SUNDAY.sum()
    return pd.DataFrame({"metric": "trips", "ds": ds, "y": rng.poisson(level).astype(float)})


def _day_off_incidents(df: pd.DataFrame, yaml: str, tmp_path) -> pd.DataFrame:
    cal = tmp_path / "cal.yaml"
    cal.write_text(yaml)
    return detect(df, HOLIDAY, f"{HOLIDAY} 23:00", calendar=str(cal), freq="h")


def test_a_day_off_shaped_like_a_sunday_is_explained_hour_by_hour(tmp_path):
    inc = _day_off_incidents(hourly_trips(), DAY_OFF_YAML, tmp_path)
    # a Monday's baseline flags the Sunday-like night (up) and the missing commute (down)
    night = inc[(inc["direction"] == "above") & (inc["start"].dt.hour <= 1)]
    morning = inc[(inc["direction"] == "below") & inc["start"].dt.hour.between(5, 8)]
    assert len(night) == 1 and night["deviation_pct"].iloc[0] > 100
    assert len(morning) == 1 and morning["deviation_pct"].iloc[0] < -50
    assert set(inc["explanation"]) == {"explained"}, inc[["start", "end", "note"]]
    assert set(inc["explained_by"]) == {"Founders Monday"}
    # the expectation is the Sunday shape, not the flat -10% prior
    assert re.match(r"Founders Monday: expected \+[1-9]\d\d%", night["note"].iloc[0])
    assert re.match(r"Founders Monday: expected -[5-8]\d%", morning["note"].iloc[0])


def test_without_hours_like_the_flat_prior_does_not_explain_the_sunday_shape(tmp_path):
    yaml = DAY_OFF_YAML.replace("    hours_like: sunday\n", "")
    inc = _day_off_incidents(hourly_trips(), yaml, tmp_path)
    assert len(inc) >= 2 and "explained" not in set(inc["explanation"])


def test_earlier_occurrences_update_the_measured_shape(tmp_path):
    # the same day off in 2023 and 2024: their days, at the incident's hours, update the
    # Sunday shape (the prior) instead of the flat -10%
    df = hourly_trips("2023-03-06", ("2023-06-05", "2024-06-03", HOLIDAY))
    yaml = DAY_OFF_YAML.replace("date: 2025-06-02", "rule: {month: 6, weekday: monday, nth: 1}")
    inc = _day_off_incidents(df, yaml, tmp_path)
    assert len(inc) >= 2 and set(inc["explanation"]) == {"explained"}
    assert inc["note"].str.contains("learned from 2 earlier day").all()
    night = inc[(inc["direction"] == "above") & (inc["start"].dt.hour <= 1)].iloc[0]
    assert re.match(r"Founders Monday: expected \+[3-5]\d\d%", night["note"])


def test_an_outage_beyond_the_sunday_shape_on_a_day_off_is_not_explained(tmp_path):
    df = hourly_trips()
    hit = df["ds"].between(f"{HOLIDAY} 10:00", f"{HOLIDAY} 14:00")
    df.loc[hit, "y"] = np.round(df.loc[hit, "y"] * 0.5)
    inc = _day_off_incidents(df, DAY_OFF_YAML, tmp_path)
    over = inc[(inc["start"] <= f"{HOLIDAY} 14:00") & (inc["end"] >= f"{HOLIDAY} 10:00")]
    assert len(over) == 1, inc
    row = over.iloc[0]
    assert row["direction"] == "below" and row["explanation"] != "explained"
    assert row["explained_by"] == "Founders Monday"
    assert "Founders Monday: expected" in row["note"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "sundai",
            'events[0].hours_like: expected a weekday name (monday ... sunday), got "sundai"',
        ),
        (
            "{day: sunday, share: 1.5}",
            "events[0].hours_like.share: expected a share above 0, at most 1, got 1.5",
        ),
        ("{share: 0.5}", "events[0].hours_like.day: expected a day, got nothing"),
    ],
)
def test_a_bad_hours_like_is_one_line_naming_file_and_line(tmp_path, capsys, value, message):
    cal = tmp_path / "cal.yaml"
    cal.write_text(DAY_OFF_YAML.replace("hours_like: sunday", f"hours_like: {value}"))
    with pytest.raises(SystemExit) as exc:
        main(["calendar", "validate", str(cal)])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2
    assert err == f"error: {cal}:8: {message}"


def test_memorial_day_2015_hours_in_queens_are_explained_by_the_sunday_shape(shared_data):
    # the shipped calendar's Memorial Day (hours_like: sunday) on the real hourly pickups:
    # the missing commute and the leisure afternoon were +-10% guesses, now measured
    df = pd.read_csv(
        shared_data / "uber_nyc_enriched.csv", usecols=["pickup_dt", "borough", "pickups"]
    )
    df = df[df["borough"] == "Queens"]
    ds = pd.to_datetime(df["pickup_dt"], format="%m/%d/%Y %H:%M")
    y = df["pickups"].astype(float)
    frame = pd.DataFrame({"metric": "trips", "borough": "Queens", "ds": ds, "y": y})
    inc = detect(frame, "2015-05-25", "2015-05-25 23:00", freq="h", by=["borough"])
    morning = inc[inc["start"] == pd.Timestamp("2015-05-25 06:00")].iloc[0]
    afternoon = inc[inc["start"] == pd.Timestamp("2015-05-25 13:00")].iloc[0]
    assert morning["deviation_pct"] < -50 and afternoon["deviation_pct"] > 50
    assert morning["explanation"] == afternoon["explanation"] == "explained"
    assert re.match(r"Memorial Day: expected -5\d%", morning["note"])
    assert re.match(r"Memorial Day: expected \+[3-4]\d%", afternoon["note"])
