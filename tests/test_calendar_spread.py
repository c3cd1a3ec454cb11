"""The uncertainty of curated effects (``spread``): the default rule, per-event and
per-zone overrides, aliases, validation with lines, and ``calendar show``."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.calendar.records import default_spread
from juno_forecast.errors import CalendarError

PARADE = """\
version: 1
metric_aliases: {pickups: trips}
events:
  - name: Parade
    category: event
    date: 2026-06-01
    metrics: [trips, drivers_online]
    zones: [Manhattan, Brooklyn, Queens]
    effect: {trips: -0.2, drivers_online: 0.1}
    spread: {trips: 0.1}
    window: {before: 1}
    window_effect: {trips: 0.05}
    window_spread: {trips: 0.02}
    by_zone:
      - zones: [Brooklyn]
        effect: {trips: -0.5}
      - zones: [Manhattan]
        effect: {trips: -0.4}
        spread: {trips: 0.3, drivers_online: 0.07}
"""


def load(tmp_path: Path, text: str) -> Calendar:
    path = tmp_path / "cal.yaml"
    path.write_text(textwrap.dedent(text))
    return Calendar.load(path)


def only_row(cal: Calendar, **kw) -> pd.Series:
    occ = cal.occurrences("2026-05-01", "2026-06-30", **kw)
    assert len(occ) == 1
    return occ.iloc[0]


def test_default_rule_is_a_floor_and_a_share_of_the_effect():
    assert default_spread(-0.35) == pytest.approx(0.14)
    assert default_spread(0.5) == pytest.approx(0.2)
    assert default_spread(-0.03) == pytest.approx(0.05)
    assert default_spread(0.0) == pytest.approx(0.05)


def test_given_spreads_and_defaults_for_every_metric_with_an_effect(tmp_path: Path):
    row = only_row(load(tmp_path, PARADE))
    assert row["spread"] == {"trips": 0.1, "drivers_online": pytest.approx(0.05)}
    assert row["window_spread"] == {"trips": 0.02}


def test_zone_entries_override_and_a_new_effect_gets_its_own_default(tmp_path: Path):
    cal = load(tmp_path, PARADE)
    manhattan = only_row(cal, metric="trips", keys={"borough": "Manhattan"})
    assert manhattan["effect"]["trips"] == -0.4
    assert manhattan["spread"] == {"trips": 0.3, "drivers_online": 0.07}
    brooklyn = only_row(cal, metric="trips", keys={"borough": "Brooklyn"})
    # Brooklyn's -50% replaces the city's -20%: not its 0.1 spread but 0.4 x 0.5
    assert brooklyn["spread"] == {"trips": pytest.approx(0.2), "drivers_online": 0.05}
    queens = only_row(cal, metric="trips", keys={"borough": "Queens"})
    assert queens["spread"]["trips"] == 0.1 and queens["window_spread"] == {"trips": 0.02}


def test_metric_aliases_list_the_spread_under_the_series_metric(tmp_path: Path):
    row = only_row(load(tmp_path, PARADE), metric="pickups", keys={"borough": "Manhattan"})
    assert row["spread"]["pickups"] == 0.3 and row["window_spread"]["pickups"] == 0.02


def test_an_event_without_effect_has_no_spread(tmp_path: Path):
    cal = load(tmp_path, "events:\n  - {name: Fair, category: event, date: 2026-06-02}\n")
    row = only_row(cal)
    assert row["effect"] == {} and row["spread"] == {} and row["window_spread"] == {}


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        (
            "    spread: {trips: -0.1}\n",
            6,
            "events[0].spread.trips: expected a spread from 0 to 10 (e.g. 0.1), got -0.1",
        ),
        (
            "    spread: {rides: 0.1}\n",
            6,
            'events[0].spread.rides: expected a metric with an effect (trips), got "rides"',
        ),
        (
            "    spread: {trips: true}\n",
            6,
            "events[0].spread.trips: expected a spread from 0 to 10 (e.g. 0.1), got true",
        ),
        (
            "    window_spread: {trips: 0.1}\n",
            6,
            "events[0].window_spread.trips: expected a metric with a window_effect (none), "
            'got "trips"',
        ),
        (
            "    zones: [Bronx, Queens]\n    by_zone:\n      - {zones: [Bronx], spread: {trips: -2}}\n",
            8,
            "events[0].by_zone[0].spread.trips: expected a spread from 0 to 10 (e.g. 0.1), got -2",
        ),
    ],
)
def test_bad_spreads_are_errors_with_their_line(tmp_path: Path, extra, line, message):
    text = "events:\n  - name: E\n    category: event\n    date: 2026-06-01\n"
    path = tmp_path / "cal.yaml"
    path.write_text(text + "    effect: {trips: -0.2}\n" + extra)
    with pytest.raises(CalendarError) as info:
        Calendar.load(path)
    assert f"{path}:{line}: {message}" in info.value.errors


def test_calendar_show_lists_the_spreads_last(tmp_path: Path):
    path = tmp_path / "cal.yaml"
    path.write_text(PARADE)
    res = subprocess.run(
        [sys.executable, "-m", "juno_forecast", "calendar", "show", "--start", "2026-06-01",
         "--end", "2026-06-01", "--calendar", str(path), "--format", "csv"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    table = pd.read_csv(StringIO(res.stdout), keep_default_na=False)
    assert list(table.columns[-2:]) == ["spread", "window_spread"]
    assert table.loc[0, "spread"] == "trips=0.1;drivers_online=0.05"
    assert table.loc[0, "window_spread"] == "trips=0.02"
    assert table.loc[0, "zone_effects"] == (
        "Brooklyn: trips=-0.5 | Manhattan: trips=-0.4, spread trips=0.3;drivers_online=0.07"
    )


def test_validate_warns_about_one_off_entries_that_can_explain_nothing(tmp_path: Path):
    path = tmp_path / "cal.yaml"
    path.write_text(
        textwrap.dedent("""\
        events:
          - name: Street fair
            category: event
            date: 2026-06-01
          - {name: Known fair, category: event, date: 2026-06-02, effect: {trips: 0.1}}
          - {name: Yearly fair, category: event, rule: {month: 6, day: 3}}
          - {name: Two fairs, category: event, dates: [2025-06-04, 2026-06-04]}
    """)
    )
    res = subprocess.run(
        [sys.executable, "-m", "juno_forecast", "calendar", "validate", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert res.returncode == 0 and res.stdout.startswith("OK: ")
    assert res.stderr.splitlines() == [
        f"warning: {path}:2: 'Street fair' has no effect and no earlier occurrence to learn one "
        "from: it explains nothing (give it an effect, e.g. effect: {trips: -0.1})"
    ]


def test_every_shipped_entry_says_which_metrics_it_moves():
    """Entries limited to some zones, or with effects on some metrics only, list their metrics
    (the Ramadan and Eid entries excepted: H-SUN's); the shipped file draws no warning."""
    from juno_forecast.calendar.records import unlearnable_events

    cal = Calendar.load()
    assert unlearnable_events(cal.spec.events) == []
    skip = {"Ramadan", "Eid al-Fitr", "Eid al-Adha"}
    for e in cal.spec.events:
        if e.name in skip or e.category == "weather" or e.scope.shape == "step":
            continue
        assert e.scope.metrics, f"{e.name} (line {e.line}) does not say which metrics it moves"
