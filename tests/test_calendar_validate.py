"""Strict validation: every error class with its message and line, all errors at once,
the CLI's exit codes, and object-constructing YAML tags refused without running anything."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.errors import CalendarError

DATA = Path(__file__).parent / "data" / "calendars"
HEAD = "events:\n  - name: E\n    category: event\n"


def errors_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "cal.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(CalendarError) as info:
        Calendar.load(path)
    return info.value.errors


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        # unknown key
        (
            HEAD + "    date: 2015-05-01\n    colour: red\n",
            5,
            "events[0].colour: expected one of the keys by_hours, by_zone, category, date, dates, "
            "effect, end, hours, hours_like, metrics, name, notes, rule, shape, source, spread, "
            'start, window, window_effect, window_spread, years, zones, got the unknown key "colour"',
        ),
        # wrong type
        (
            HEAD + "    date: 2015-05-01\n    zones: {a: 1}\n",
            5,
            "events[0].zones: expected a list of zone names, got a mapping",
        ),
        (
            HEAD + "    date: 2015-05-01\n    source: [a, b]\n",
            5,
            "events[0].source: expected a non-empty text, got a list",
        ),
        # impossible dates, as a scalar and inside a list
        (
            HEAD + "    date: 2015-02-30\n",
            4,
            'events[0].date: expected a real date written YYYY-MM-DD, got "2015-02-30"',
        ),
        (
            HEAD + "    dates: [2015-01-01, 2015-13-01]\n",
            4,
            'events[0].dates[1]: expected a real date written YYYY-MM-DD, got "2015-13-01"',
        ),
        (
            HEAD + "    date: tomorrow\n",
            4,
            'events[0].date: expected a real date written YYYY-MM-DD, got "tomorrow"',
        ),
        # missing name / category
        (
            "events:\n  - category: event\n    date: 2015-05-01\n",
            2,
            "events[0].name: expected a name, got nothing",
        ),
        (
            "events:\n  - name: E\n    date: 2015-05-01\n",
            2,
            "events[0].category: expected a category, got nothing",
        ),
        # end before start; start without end
        (
            HEAD + "    start: 2015-03-10\n    end: 2015-03-01\n",
            5,
            "events[0].end: expected a date on or after start 2015-03-10, got 2015-03-01",
        ),
        (
            HEAD + "    start: 2015-03-10\n",
            2,
            "events[0].end: expected an end date with start, got nothing",
        ),
        # none / more than one way of saying when
        (
            HEAD + "    source: x\n",
            2,
            "events[0]: expected exactly one of date, start/end, dates, rule, got none of them",
        ),
        (
            HEAD + "    date: 2015-05-01\n    rule: {month: 5, day: 1}\n",
            2,
            "events[0]: expected exactly one of date, start/end, dates, rule, got date and rule",
        ),
        (
            HEAD
            + "    date: 2015-05-01\n    dates: [2015-05-02]\n    start: 2015-05-03\n    end: 2015-05-04\n",
            2,
            "events[0]: expected exactly one of date, start/end, dates, rule, got date, start and dates",
        ),
        ("version: 2\nevents: []\n", 1, "version: expected 1 (the only version so far), got 2"),
        # unknown category
        (
            "events:\n  - name: E\n    category: party\n    date: 2015-05-01\n",
            3,
            'events[0].category: expected one of holiday, religious, event, weather, regulation, market, release, other, got "party"',
        ),
        # bad effect
        (
            HEAD + "    date: 2015-05-01\n    effect: {trips: -1.5}\n",
            5,
            "events[0].effect.trips: expected a relative change above -1 and at most 10 (e.g. -0.3), got -1.5",
        ),
        (
            HEAD + "    date: 2015-05-01\n    effect: {trips: lots}\n",
            5,
            'events[0].effect.trips: expected a relative change above -1 and at most 10 (e.g. -0.3), got "lots"',
        ),
        (
            HEAD + "    date: 2015-05-01\n    effect: -0.3\n",
            5,
            "events[0].effect: expected a mapping of metric: relative change, e.g. {trips: -0.3}, got -0.3",
        ),
        (
            HEAD + "    date: 2015-05-01\n    metrics: [trips]\n    effect: {wait_time: 0.2}\n",
            6,
            'events[0].effect.wait_time: expected a metric listed in metrics (trips), got "wait_time"',
        ),
        # bad shape
        (
            HEAD + "    date: 2015-05-01\n    shape: ramp\n",
            5,
            'events[0].shape: expected one of pulse, step, got "ramp"',
        ),
        # bad hours
        (
            HEAD + "    date: 2015-05-01\n    hours: [17, 24]\n",
            5,
            "events[0].hours[1]: expected an hour from 0 to 23, got 24",
        ),
        (
            HEAD + "    date: 2015-05-01\n    hours: evening\n",
            5,
            'events[0].hours: expected a list of hours 0-23 or {from: H, to: H}, got "evening"',
        ),
        # hours anchored to the sun: a misspelt anchor, an offset beyond 12 hours, a clock 24
        (
            HEAD + "    date: 2015-05-01\n    hours:\n      from: sundown-1\n      to: 22\n",
            6,
            "events[0].hours.from: expected an hour 0-23, or sunrise/sunset with an offset in "
            'hours (sunset-1, sunrise+0.5), got "sundown-1"',
        ),
        (
            HEAD + "    date: 2015-05-01\n    hours: {from: sunset, to: sunset+13}\n",
            5,
            "events[0].hours.to: expected an hour 0-23, or sunrise/sunset with an offset in "
            'hours (sunset-1, sunrise+0.5), got "sunset+13"',
        ),
        (
            HEAD + "    date: 2015-05-01\n    hours: {from: sunset, to: 24}\n",
            5,
            "events[0].hours.to: expected an hour 0-23, or sunrise/sunset with an offset in "
            "hours (sunset-1, sunrise+0.5), got 24",
        ),
        (  # a list names clock hours; only {from, to} may follow the sun
            HEAD + "    date: 2015-05-01\n    hours: [sunset, 22]\n",
            5,
            'events[0].hours[0]: expected an hour from 0 to 23, got "sunset"',
        ),
        (  # by_hours reshapes clock hours
            HEAD + "    date: 2015-05-01\n    hours: {from: sunset-1, to: sunset+2}\n"
            "    by_hours:\n      - {hours: {from: sunset, to: 22}, effect: {trips: -0.5}}\n",
            7,
            'events[0].by_hours[0].hours.from: expected an hour from 0 to 23, got "sunset"',
        ),
        # bad window
        (
            HEAD + "    date: 2015-05-01\n    window: {before: two}\n",
            5,
            'events[0].window.before: expected a whole number of days >= 0, got "two"',
        ),
        (
            HEAD + "    date: 2015-05-01\n    window: {after: -1}\n",
            5,
            "events[0].window.after: expected a whole number of days >= 0, got -1",
        ),
        # bad rules
        (
            HEAD + "    rule: {month: 11, weekday: funday, nth: 1}\n",
            4,
            'events[0].rule.weekday: expected a weekday name (monday ... sunday), got "funday"',
        ),
        (
            HEAD + "    rule: {month: 11, weekday: sunday, nth: 6}\n",
            4,
            "events[0].rule.nth: expected 1 to 5, or last (or -1 to -5 counting from the end), got 6",
        ),
        (
            HEAD + "    rule: {month: 2, day: 30}\n",
            4,
            "events[0].rule.day: expected a day that exists in month 2, got 30",
        ),
        (
            HEAD + "    rule: {month: 13, day: 1}\n",
            4,
            "events[0].rule.month: expected a month number from 1 to 12, got 13",
        ),
        (
            HEAD + "    rule: {every: year}\n",
            4,
            "events[0].rule: expected a yearly rule {hijri_month, hijri_day} or {holiday, country} or {easter} or {month, weekday, nth} or {month, day}, got keys every",
        ),
        (
            HEAD + "    rule: {month: 5, day: 1, days: month}\n",
            4,
            'events[0].rule.days: expected a whole number of days >= 1, got "month"',
        ),
        (
            HEAD + "    rule: {hijri_month: 9, days: 0}\n",
            4,
            'events[0].rule.days: expected a whole number of days >= 1 or "month", got 0',
        ),
        (
            HEAD + "    rule: {easter: 1, hijri_day: 3}\n",
            4,
            'events[0].rule.hijri_day: expected one of the keys days, easter, move_if, offset, got the unknown key "hijri_day"',
        ),
        (
            HEAD + "    date: 2015-05-01\n    years: {from: 2015}\n",
            5,
            "events[0].years: expected years only with a rule, got a dated event",
        ),
        (
            HEAD + "    rule: {month: 5, day: 1}\n    years: {from: 2020, to: 2015}\n",
            5,
            "events[0].years.to: expected a year >= from (2020), got 2015",
        ),
        (
            HEAD + "    rule: {holiday: Hanukkah Day 9, country: IL}\n",
            4,
            "events[0].rule.holiday: expected a holiday name of IL: Independence Day, Pesach",
        ),
        (
            HEAD + "    rule: {holiday: Yom Kippur}\n",
            4,
            "events[0].rule.country: expected a country code with holiday (e.g. IL), got nothing",
        ),
        # YAML-level problems
        (
            "- name: E\n  category: event\n",
            1,
            "(file): expected a mapping with an events list, got a list",
        ),
        (
            "events:\n  - name: E\n    category: event\n    date: 2015-05-01\n    name: F\n",
            5,
            "events[0].name: expected each key once, got 'name' repeated (first on line 2)",
        ),
        ("events:\n  - name: [unclosed\n", 3, "(file): expected valid YAML"),
        ("events: {name: E}\n", 1, "events: expected a list of events, got a mapping"),
        (
            "events: []\nextras: 1\n",
            2,
            "extras: expected one of the keys events, holidays, metric_aliases, metrics, version, weather, "
            'zones_file, zones_unchecked, got the unknown key "extras"',
        ),
        # per-zone effects, window effects, metric aliases
        (
            HEAD + "    date: 2015-05-01\n    window_effect: {trips: -0.1}\n",
            5,
            "events[0].window_effect: expected a window (window: {before: N, after: N}) to apply"
            " to, got none",
        ),
        (
            HEAD + "    date: 2015-05-01\n    by_zone:\n      - {zones: [Bronx]}\n",
            6,
            "events[0].by_zone[0]: expected an effect or a window_effect for these zones, got neither",
        ),
        (
            HEAD
            + "    date: 2015-05-01\n    by_zone:\n      - {zones: [Bronx], effect: {trips: 0.1}}\n"
            "      - {zones: [Queens, Bronx], effect: {trips: 0.2}}\n",
            7,
            'events[0].by_zone[1].zones: expected a zone listed once in by_zone, got "Bronx"',
        ),
        (
            HEAD + "    date: 2015-05-01\n    zones: [Manhattan]\n    by_zone:\n"
            "      - {zones: [Queens], effect: {trips: 0.1}}\n",
            7,
            'events[0].by_zone[0].zones: expected one of the event\'s zones (Manhattan), got "Queens"',
        ),
        (
            HEAD
            + "    date: 2015-05-01\n    by_zone:\n      - {zones: [Bronx], effect: {trips: -1}}\n",
            6,
            "events[0].by_zone[0].effect.trips: expected a relative change above -1",
        ),
        (
            HEAD + "    date: 2015-05-01\n    by_zone: {Bronx: {trips: 0.1}}\n",
            5,
            "events[0].by_zone: expected a list of {zones, effect, window_effect}, got a mapping",
        ),
        (
            HEAD
            + "    date: 2015-05-01\n    by_zone:\n      - {zones: [Bronx], effect: {trips: 0.1}, colour: red}\n",
            6,
            'events[0].by_zone[0].colour: expected one of the keys effect, spread, window_effect, window_spread, zones, got the unknown key "colour"',
        ),
        (
            "metric_aliases: {pickups: trips, trips: rides}\nevents: []\n",
            1,
            'metric_aliases.pickups: expected a metric the calendar\'s effects use (not itself an alias), got "trips"',
        ),
        ("metric_aliases: [pickups]\nevents: []\n", 1, "metric_aliases: expected a mapping"),
        (
            HEAD
            + "    date: 2015-05-01\n    by_hours:\n      - {hours: [7, 8], effect: {trips: -0.5}}\n"
            "      - {hours: {from: 8, to: 9}, effect: {trips: -0.2}}\n",
            7,
            "events[0].by_hours[1].hours: expected an hour listed once in by_hours, got 8",
        ),
        (
            HEAD + "    date: 2015-05-01\n    hours: {from: 17, to: 23}\n    by_hours:\n"
            "      - {hours: [7], effect: {trips: -0.5}}\n",
            7,
            "events[0].by_hours[0].hours: expected one of the event's hours (17, 18, 19, 20, 21, 22, 23), got 7",
        ),
        (
            HEAD + "    date: 2015-05-01\n    by_hours:\n      - {hours: [7]}\n",
            6,
            "events[0].by_hours[0].effect: expected an effect, got nothing",
        ),
        # holidays and weather sections
        (
            "holidays: {country: XX}\n",
            1,
            'holidays.country: expected a country code the holidays package knows (e.g. US), got "XX"',
        ),
        (
            "holidays: {country: US, subdiv: ZZ}\n",
            1,
            'holidays.subdiv: expected a subdivision of US (e.g. NY), got "ZZ"',
        ),
        (
            "holidays:\n  overrides:\n    Festivus: {effect: {trips: 0.1}}\n",
            3,
            "holidays.overrides.Festivus: expected a holiday name of the package",
        ),
        (
            "weather:\n  thresholds:\n    - {name: Wind, field: WIND, at_least: 40}\n",
            3,
            'weather.thresholds[0].field: expected one of PRCP, SNOW, SNWD, TMAX, TMIN, got "WIND"',
        ),
        (
            "weather:\n  thresholds:\n    - {name: Odd, field: SNOW, at_least: 4, at_most: 8}\n",
            3,
            "weather.thresholds[0]: expected exactly one of at_least, at_most, got both",
        ),
        (
            "weather:\n  hourly: {columns: {RAIN: precip}}\n",
            2,
            'weather.hourly.columns.RAIN: expected one of the keys PRCP, SNOW, SNWD, TEMP, got the unknown key "RAIN"',
        ),
    ],
)
def test_each_error_class_has_its_message_and_line(
    tmp_path: Path, text: str, line: int, expected: str
):
    errors = errors_of(tmp_path, text)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"{tmp_path / 'cal.yaml'}:{line}: {expected}"), errors[0]


def test_all_errors_reported_at_once_in_file_order():
    with pytest.raises(CalendarError) as info:
        Calendar.load(DATA / "five_mistakes.yaml")
    errors = info.value.errors
    assert [e.split(": ")[0].rsplit(":", 1)[1] for e in errors] == ["6", "9", "10", "15", "19"]
    assert [e.split(": ")[1] for e in errors] == [
        "events[0].colour",
        "events[1].date",
        "events[2].name",
        "events[3].end",
        "events[4].window.before",
    ]
    assert str(info.value).count("\n") == 4


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "juno_forecast", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_cli_validate_five_mistakes_exit_2_no_traceback():
    res = run_cli("calendar", "validate", str(DATA / "five_mistakes.yaml"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr + res.stdout
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 5
    assert all("five_mistakes.yaml:" in ln for ln in lines)
    assert lines[4].endswith(
        'events[4].window.before: expected a whole number of days >= 0, got "two"'
    )


def test_cli_validate_ok_prints_counts_per_category(tmp_path: Path):
    path = tmp_path / "ok.yaml"
    path.write_text(
        HEAD + "    date: 2015-05-01\n  - {name: W, category: weather, date: 2015-01-27}\n"
    )
    res = run_cli("calendar", "validate", str(path))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"OK: {path}: 2 events (event 1, weather 1)"


def test_cli_validate_counts_a_storm_split_by_hours_once(tmp_path: Path):
    path = tmp_path / "split.yaml"
    path.write_text(
        HEAD
        + "    date: 2015-05-01\n"
        + "  - {name: W, category: weather, date: 2015-01-26, hours: {from: 16, to: 23}}\n"
        + "  - {name: W, category: weather, date: 2015-01-27}\n"
    )
    res = run_cli("calendar", "validate", str(path))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"OK: {path}: 2 events (event 1, weather 1)"


def test_cli_validate_missing_file_is_one_line_exit_2(tmp_path: Path):
    res = run_cli("calendar", "validate", str(tmp_path / "nope.yaml"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: calendar file not found"


def test_object_constructing_tags_are_refused_and_nothing_runs(tmp_path: Path):
    marker = tmp_path / "MARKER"
    text = (DATA / "object_tag.yaml").read_text().replace("MARKER", str(marker))
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    with pytest.raises(CalendarError) as info:
        Calendar.load(path)
    errors = info.value.errors
    assert len(errors) == 2
    assert errors[0].startswith(
        f"{path}:6: events[0].notes: expected plain YAML data, got the tag "
        "!!python/object/apply:os.system"
    )
    assert errors[1].startswith(
        f"{path}:10: events[1].source: expected plain YAML data, got the tag "
        "!!python/object/new:pathlib.Path"
    )
    assert not marker.exists()
    res = run_cli("calendar", "validate", str(path), cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert not marker.exists() and not any(p.name.startswith("MARKER") for p in tmp_path.iterdir())


@pytest.mark.parametrize(
    "tag", ["!!python/name:os.system", "!!python/module:os", "!custom 1", "!!binary aGVsbG8="]
)
def test_other_tags_refused(tmp_path: Path, tag: str):
    errors = errors_of(tmp_path, HEAD + f"    date: 2015-05-01\n    notes: {tag}\n")
    assert len(errors) == 1 and ":5: events[0].notes: expected plain YAML data" in errors[0]


def test_anchors_and_merge_keys_are_plain_yaml(tmp_path: Path):
    path = tmp_path / "anchors.yaml"
    path.write_text(
        textwrap.dedent("""\
        events:
          - &base {name: A, category: event, date: 2015-05-01, zones: [Queens]}
          - {<<: *base, name: B}
        """)
    )
    occ = Calendar.load(path).occurrences("2015-05-01", "2015-05-01")
    assert list(occ["name"]) == ["A", "B"] and list(occ["zones"]) == [("Queens",), ("Queens",)]


def test_no_module_import_through_yaml(tmp_path: Path):
    # a tag naming a module must not import it
    errors = errors_of(
        tmp_path, HEAD + "    date: 2015-05-01\n    notes: !!python/name:antigravity.fly\n"
    )
    assert errors and "antigravity" not in sys.modules


# ----------------------------------------------------------------------------- names, emptiness


@pytest.mark.parametrize(
    ("scope", "message"),
    [
        (
            "zones: [Manhatan]",
            "events[0].zones[0]: expected a zone of New York City (its boroughs and taxi zones) "
            "(for another city: --zones FILE or zones_file:; zones_unchecked: true skips this "
            'check), got "Manhatan" (did you mean "Manhattan"?)',
        ),
        (
            "metrics: [tripz]",
            "events[0].metrics[0]: expected a metric the calendar knows (airport_queue_speed, "
            "drivers_online, riders_online, trips, wait_time; list your own under the top-level "
            'metrics:), got "tripz" (did you mean "trips"?)',
        ),
        ("effect: {trip: -0.3}", "events[0].effect.trip: expected a metric the calendar knows"),
        ("zones: [LaGuardia Airprt]", 'got "LaGuardia Airprt" (did you mean "LaGuardia Airport"?)'),
        ("by_zone: [{zones: [Bronxx], effect: {trips: 0.1}}]", '(did you mean "Bronx"?)'),
    ],
)
def test_misspelt_zone_metric_and_effect_key_are_errors_with_a_hint(
    tmp_path: Path, scope: str, message: str
):
    errors = errors_of(tmp_path, HEAD + f"    date: 2015-05-01\n    {scope}\n")
    assert len(errors) == 1 and errors[0].startswith(f"{tmp_path / 'cal.yaml'}:5: "), errors
    assert message in errors[0]


def test_misspelt_names_in_holiday_overrides_and_thresholds_are_caught(tmp_path: Path):
    errors = errors_of(
        tmp_path,
        """\
        holidays:
          overrides:
            Thanksgiving Day: {effect: {trps: -0.2}}
        weather:
          thresholds:
            - {name: Snow, field: SNOW, at_least: 4, zones: [Quens]}
        """,
    )
    assert [e.split(": ")[1] for e in errors] == [
        "holidays.overrides.Thanksgiving Day.effect.trps",
        "weather.thresholds[0].zones[0]",
    ]
    assert '(did you mean "trips"?)' in errors[0] and '(did you mean "Queens"?)' in errors[1]


def test_own_metrics_aliases_and_unchecked_zones_are_allowed(tmp_path: Path):
    path = tmp_path / "own.yaml"
    path.write_text(
        "metrics: [orders]\nmetric_aliases: {pickups: trips}\nzones_unchecked: true\n"
        + HEAD
        + "    date: 2015-05-01\n    zones: [Centro]\n    effect: {orders: -0.3, pickups: 0.1}\n"
    )
    occ = Calendar.load(path).occurrences("2015-05-01", "2015-05-01")
    assert occ.loc[0, "zones"] == ("Centro",) and occ.loc[0, "effect"]["orders"] == -0.3


def test_another_citys_zones_from_a_file_flag_or_key(tmp_path: Path):
    zones = tmp_path / "zones.txt"
    zones.write_text("Centro\nNorte\n")
    cal = tmp_path / "city.yaml"
    cal.write_text(HEAD + "    date: 2015-05-01\n    zones: [Centr]\n")
    res = run_cli("calendar", "validate", str(cal), "--zones", str(zones))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().endswith(
        "expected a zone of zones.txt (for another city: --zones FILE or zones_file:; "
        'zones_unchecked: true skips this check), got "Centr" (did you mean "Centro"?)'
    )
    cal.write_text("zones_file: zones.txt\n" + HEAD + "    date: 2015-05-01\n    zones: [Norte]\n")
    assert Calendar.load(cal).occurrences("2015-05-01", "2015-05-01").loc[0, "zones"] == ("Norte",)
    res = run_cli("calendar", "validate", str(cal), "--zones", str(zones))
    assert res.returncode == 0 and res.stdout.startswith(f"OK: {cal}: 1 events")


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_file_fails(tmp_path: Path, text: str):
    assert errors_of(tmp_path, text) == [
        f"{tmp_path / 'cal.yaml'}:1: (file): expected a mapping with an events list, "
        "got an empty file"
    ]


def test_a_calendar_with_nothing_in_it_fails(tmp_path: Path):
    assert errors_of(tmp_path, "version: 1\nevents: []\n") == [
        f"{tmp_path / 'cal.yaml'}:1: (file): expected at least one event, a holidays section "
        "or weather thresholds, got none"
    ]


def test_a_rule_that_never_occurs_in_its_years_fails(tmp_path: Path):
    errors = errors_of(
        tmp_path,
        HEAD + "    rule: {month: 2, weekday: monday, nth: 5}\n    years: {from: 2021, to: 2023}\n",
    )
    assert errors == [
        f"{tmp_path / 'cal.yaml'}:4: events[0].rule: expected a rule that occurs at least once "
        "from 2021 to 2023, got none"
    ]


def test_a_non_utf8_file_names_the_line_of_the_bad_byte(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes((HEAD + "    date: 2015-05-01\n    notes: Café\n").encode("latin-1"))
    res = run_cli("calendar", "validate", str(path))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip() == (
        f"error: {path}:5: (file): expected UTF-8 text, got the byte 0xe9 at column 15 "
        "(save the file as UTF-8)"
    )


def test_a_misspelt_holiday_name_gets_a_hint_too(tmp_path: Path):
    errors = errors_of(
        tmp_path, "holidays:\n  overrides:\n    Thanksgiving: {effect: {trips: 0.1}}\n"
    )
    assert len(errors) == 1 and errors[0].startswith(
        f"{tmp_path / 'cal.yaml'}:3: holidays.overrides.Thanksgiving: expected a holiday name"
    )
    assert errors[0].endswith('got "Thanksgiving" (did you mean "Thanksgiving Day"?)')
