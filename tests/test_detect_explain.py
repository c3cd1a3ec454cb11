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
