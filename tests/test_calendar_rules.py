"""Rule expansion against dates known from published calendars."""

from __future__ import annotations

import datetime as dt
import textwrap

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.calendar.rules import (
    EasterRelative,
    FixedDate,
    HijriDate,
    NthWeekday,
    PackageHoliday,
    Rule,
)
from juno_forecast.calendar.sun import HourMark, span_hours, sun_hours

D = dt.date


def first(rule: Rule, year: int) -> tuple[dt.date, dt.date]:
    spans = rule.spans(year, year)
    assert len(spans) == 1, spans
    return spans[0]


def test_thanksgiving_is_fourth_thursday_of_november():
    assert first(Rule(NthWeekday(11, 3, 4)), 2015) == (D(2015, 11, 26), D(2015, 11, 26))


def test_memorial_day_is_last_monday_of_may():
    assert first(Rule(NthWeekday(5, 0, -1)), 2026)[0] == D(2026, 5, 25)
    assert first(Rule(NthWeekday(5, 0, -1)), 2015)[0] == D(2015, 5, 25)


def test_first_sunday_of_november_is_marathon_day():
    rule = Rule(NthWeekday(11, 6, 1))
    assert [s for s, _ in rule.spans(2015, 2017)] == [
        D(2015, 11, 1),
        D(2016, 11, 6),
        D(2017, 11, 5),
    ]


def test_easter_relative_good_friday():
    assert first(Rule(EasterRelative(-2)), 2015)[0] == D(2015, 4, 3)
    assert first(Rule(EasterRelative(0)), 2024)[0] == D(2024, 3, 31)


def test_offset_and_duration():
    # The Wednesday after Thanksgiving: the Rockefeller tree lighting (2015-12-02).
    assert first(Rule(NthWeekday(11, 3, 4), offset=6), 2015)[0] == D(2015, 12, 2)
    # US Open 2015: Monday a week before Labor Day, two weeks: Aug 31 - Sep 13.
    assert first(Rule(NthWeekday(9, 0, 1), days=14, offset=-7), 2015) == (
        D(2015, 8, 31),
        D(2015, 9, 13),
    )


def test_move_if_sunday_holds_st_patricks_parade_on_saturday():
    rule = Rule(FixedDate(3, 17), move_if=((6, -1),))
    assert first(rule, 2019)[0] == D(2019, 3, 16)  # March 17, 2019 was a Sunday
    assert first(rule, 2015)[0] == D(2015, 3, 17)


def test_feb_29_only_in_leap_years():
    assert [s for s, _ in Rule(FixedDate(2, 29)).spans(2023, 2025)] == [D(2024, 2, 29)]


def test_fifth_weekday_missing_in_short_months_is_skipped():
    # A 5th Monday of February exists only in some years (2016 has one: Feb 29).
    assert [s for s, _ in Rule(NthWeekday(2, 0, 5)).spans(2015, 2017)] == [D(2016, 2, 29)]


def near(day: dt.date, expected: dt.date, tolerance: int = 1) -> bool:
    return abs((day - expected).days) <= tolerance


def test_ramadan_start_2015_and_2026_and_its_length():
    ramadan = Rule(HijriDate(9, 1), days=None)
    s15, e15 = first(ramadan, 2015)
    assert near(s15, D(2015, 6, 18))
    assert 29 <= (e15 - s15).days + 1 <= 30
    assert near(first(ramadan, 2026)[0], D(2026, 2, 18))


def test_ramadan_begins_twice_in_2030():
    starts = [s for s, _ in Rule(HijriDate(9, 1), days=None).spans(2030, 2030)]
    assert len(starts) == 2
    assert near(starts[0], D(2030, 1, 5)) and near(starts[1], D(2030, 12, 26))


def test_eid_al_fitr_2015_and_eid_al_adha_2015():
    s, e = first(Rule(HijriDate(10, 1), days=3), 2015)
    assert near(s, D(2015, 7, 17)) and (e - s).days == 2
    assert near(first(Rule(HijriDate(12, 10)), 2015)[0], D(2015, 9, 23))


def test_hijri_outside_the_supported_range_is_skipped_not_an_error():
    assert Rule(HijriDate(9, 1), days=None).spans(2090, 2091) == []


def test_shipped_calendar_religious_and_holiday_occurrences():
    occ = Calendar.load().occurrences("2015-01-01", "2015-12-31", category=["religious", "holiday"])
    by_name = {n: g for n, g in occ.groupby("name")}
    ramadan = by_name["Ramadan"].iloc[0]
    assert near(ramadan["start"].date(), D(2015, 6, 18))
    assert ramadan["hours"] == (19, 20, 21, 22)  # sunset-1 to sunset+2, sunset near 20:30
    assert near(by_name["Eid al-Fitr"].iloc[0]["start"].date(), D(2015, 7, 17))
    assert by_name["Thanksgiving Day"].iloc[0]["start"] == dt.datetime(2015, 11, 26)
    # observed days come from the holidays package: July 4, 2015 was a Saturday
    assert by_name["Independence Day (observed)"].iloc[0]["start"] == dt.datetime(2015, 7, 3)
    assert "Susan B. Anthony Day" not in by_name  # excluded in the YAML


@pytest.mark.parametrize(
    ("name", "year", "expected"),
    [
        ("NYC Marathon", 2015, D(2015, 11, 1)),
        ("Macy's Thanksgiving Day Parade", 2015, D(2015, 11, 26)),
        ("NYC Pride March", 2015, D(2015, 6, 28)),
        ("St Patrick's Day Parade", 2024, D(2024, 3, 16)),
        ("Rockefeller Center Christmas Tree Lighting", 2024, D(2024, 12, 4)),
        ("Memorial Day", 2026, D(2026, 5, 25)),
        ("West Indian American Day Carnival Parade", 2015, D(2015, 9, 7)),
    ],
)
def test_shipped_calendar_known_dates(name: str, year: int, expected: dt.date):
    occ = Calendar.load().occurrences(f"{year}-01-01", f"{year}-12-31")
    days = [t.date() for t in occ.loc[occ["name"] == name, "start"]]
    assert expected in days


def test_cancelled_years_are_skipped():
    occ = Calendar.load().occurrences("2020-01-01", "2020-12-31", category="event")
    assert "NYC Marathon" not in set(occ["name"])
    occ19 = Calendar.load().occurrences("2019-01-01", "2019-12-31", category="event")
    assert "NYC Marathon" in set(occ19["name"])


def test_years_bounds_dates_ranges_and_hours_from_yaml(tmp_path):
    path = tmp_path / "cal.yaml"
    path.write_text(
        "events:\n"
        "  - name: Late show\n"
        "    category: event\n"
        "    rule: {month: 6, weekday: friday, nth: 1}\n"
        "    years: {from: 2016, to: 2019, except: [2018]}\n"
        "    hours: {from: 22, to: 2}\n"
        "  - name: Festival\n"
        "    category: event\n"
        "    dates: [2016-07-01, {start: 2017-07-01, end: 2017-07-03}]\n"
        "    hours: [8, 7, 8]\n"
        "    window: {before: 1}\n"
    )
    cal = Calendar.load(path)
    occ = cal.occurrences("2014-01-01", "2021-12-31")
    late = occ[occ["name"] == "Late show"]
    assert [t.date() for t in late["start"]] == [D(2016, 6, 3), D(2017, 6, 2), D(2019, 6, 7)]
    assert late.iloc[0]["hours"] == (0, 1, 2, 22, 23)
    fest = occ[occ["name"] == "Festival"]
    assert [(s.date(), e.date()) for s, e in zip(fest["start"], fest["end"], strict=True)] == [
        (D(2016, 7, 1), D(2016, 7, 1)),
        (D(2017, 7, 1), D(2017, 7, 3)),
    ]
    assert fest.iloc[1]["window_start"].date() == D(2017, 6, 30)
    assert fest.iloc[0]["hours"] == (7, 8)


def test_observed_holiday_takes_its_holiday_settings_and_calendar_pickles():
    import pickle

    cal = Calendar.load()
    occ = pickle.loads(pickle.dumps(cal)).occurrences(
        "2015-07-03", "2015-07-03", category="holiday"
    )
    row = occ[occ["name"] == "Independence Day (observed)"].iloc[0]
    assert row["effect"] == {"trips": -0.2}
    assert row["window_start"] == dt.datetime(2015, 7, 2)


def test_holidays_package_rules_for_other_calendars():
    # Rosh Hashanah 5776 began at sundown on 2015-09-13; Yom Kippur 2015-09-23;
    # Lunar New Year 2015-02-19; Diwali 2015-11-11 (the holidays package's dates)
    assert first(Rule(PackageHoliday("Rosh Hashanah", "IL"), days=2), 2015) == (
        D(2015, 9, 14),
        D(2015, 9, 15),
    )
    assert first(Rule(PackageHoliday("Yom Kippur", "IL")), 2015)[0] == D(2015, 9, 23)
    lny = Rule(PackageHoliday("Chinese New Year (Spring Festival)", "CN"))
    assert [s for s, _ in lny.spans(2015, 2016)] == [D(2015, 2, 19), D(2016, 2, 8)]
    assert first(Rule(PackageHoliday("Diwali", "IN")), 2015)[0] == D(2015, 11, 11)


def test_scoped_occurrences_with_nothing_selected_keep_their_columns(tmp_path):
    # A series outside every event's scope still gets a well-formed, empty frame.
    path = tmp_path / "cal.yaml"
    path.write_text(
        "events:\n"
        "  - name: Bridge closure\n"
        "    category: event\n"
        "    date: 2015-01-26\n"
        "    metrics: [trips]\n"
        "    zones: [Brooklyn]\n"
        "    source: https://example.org/closure\n"
    )
    cal = Calendar.load(path)
    full = cal.occurrences("2015-01-26", "2015-01-27")
    assert list(full["name"]) == ["Bridge closure"]
    for scope in ({"metric": "drivers_online"}, {"keys": {"borough": "Bronx"}}):
        occ = cal.occurrences("2015-01-26", "2015-01-27", **scope)
        assert occ.empty
        assert list(occ.columns) == list(full.columns)


# ----------------------------------------------------------------------------- sun-anchored hours


def hours_on(cal: Calendar, name: str, day: str) -> tuple[int, ...]:
    """The clock hours of the occurrence of ``name`` that holds ``day``."""
    occ = cal.occurrences(day, day)
    rows = occ[(occ["name"] == name) & (occ["start"] <= day) & (occ["end"] >= day)]
    assert len(rows) == 1, rows
    return rows.iloc[0]["hours"]


def test_iftar_hours_of_a_february_ramadan_are_three_hours_earlier_than_june():
    """Sunset in New York: 17:34 EST on 18 Feb 2026, 20:24 EDT on 6 Jun 2016 (astral)."""
    cal = Calendar.load()
    feb, june = hours_on(cal, "Ramadan", "2026-02-18"), hours_on(cal, "Ramadan", "2016-06-06")
    assert feb == (16, 17, 18, 19) and june == (19, 20, 21, 22)
    assert np.mean(june) - np.mean(feb) == pytest.approx(3.0, abs=0.5)
    # the hours hold sunset, whatever the season
    for day in (D(2026, 2, 18), D(2016, 6, 6)):
        sunset = sun_hours(day)[1]
        assert int(sunset) in hours_on(cal, "Ramadan", day.isoformat())


def test_sun_hours_follow_the_clock_change_inside_one_ramadan():
    """Ramadan 2026 spans the spring clock change (8 March): sunset jumps from about 18:00
    to 19:00 on the clock, so the event comes as runs of days, each with its own hours."""
    occ = Calendar.load().occurrences("2026-02-18", "2026-03-19")
    runs = occ[occ["name"] == "Ramadan"]
    assert runs["start"].min() == pd.Timestamp("2026-02-18")
    assert runs["end"].max() == pd.Timestamp("2026-03-19")
    days = sum((r.end - r.start).days + 1 for r in runs.itertuples())
    assert days == 30  # every day once, no gap and no overlap
    before = hours_on(Calendar.load(), "Ramadan", "2026-03-07")
    after = hours_on(Calendar.load(), "Ramadan", "2026-03-08")
    assert after[0] == before[0] + 1


def test_anchored_hours_from_yaml_mixed_fractional_wrapping_and_windows(tmp_path):
    path = tmp_path / "cal.yaml"
    path.write_text(
        textwrap.dedent("""\
        events:
          - name: Suhoor
            category: religious
            start: 2015-06-18
            end: 2015-06-20
            hours: {from: sunrise-2.5, to: sunrise}
          - name: Sunset to late
            category: event
            date: 2015-06-18
            hours: {from: sunset, to: 23}
          - name: Late night
            category: event
            date: 2015-06-18
            hours: {from: sunset+2, to: sunset+5}
          - name: Evening with window
            category: event
            start: 2015-06-18
            end: 2015-06-20
            window: {before: 1, after: 2}
            hours: {from: sunset - 1, to: sunset + 1}
        """)
    )
    cal = Calendar.load(path)
    # sunrise 05:24 EDT: 02:54 to 05:24 is the hours 2-5
    assert hours_on(cal, "Suhoor", "2015-06-19") == (2, 3, 4, 5)
    assert hours_on(cal, "Sunset to late", "2015-06-18") == (20, 21, 22, 23)
    # 22:29 to 01:29 wraps past midnight onto the same day's first hours
    assert hours_on(cal, "Late night", "2015-06-18") == (0, 1, 22, 23)
    occ = cal.occurrences("2015-06-01", "2015-06-30")
    ev = occ[occ["name"] == "Evening with window"]
    assert len(ev) == 1  # the same clock hours on all three days: one run
    row = ev.iloc[0]
    assert row["hours"] == (19, 20, 21)
    assert row["window_start"] == pd.Timestamp("2015-06-17")
    assert row["window_end"] == pd.Timestamp("2015-06-22")


def test_the_holiday_section_takes_anchored_hours_too(tmp_path):
    path = tmp_path / "cal.yaml"
    path.write_text(
        textwrap.dedent("""\
        holidays:
          country: US
          overrides:
            Independence Day: {hours: {from: sunset, to: sunset+2}}
        """)
    )
    occ = Calendar.load(path).occurrences("2015-07-04", "2015-07-04")
    row = occ[occ["name"] == "Independence Day"].iloc[0]
    assert row["hours"] == (20, 21, 22)  # sunset 20:31: the fireworks


def test_span_rule_wraps_past_midnight_and_a_day_or_more_is_the_whole_day():
    assert span_hours(17, 23) == tuple(range(17, 24))  # fixed hours as before
    assert span_hours(22, 2) == (0, 1, 2, 22, 23)
    assert span_hours(22.5, 25.5) == (0, 1, 22, 23)  # sunset+2 to sunset+5 in June
    assert span_hours(-0.6, 26.5) == tuple(range(24))  # sunrise-6 to sunset+6 in June
    assert span_hours(19.5, 19.9) == (19,)
    assert HourMark.read("Sunset - 1.5") == HourMark("sunset", -1.5)
    assert HourMark.read("sunrise") == HourMark("sunrise", 0.0)
    for wrong in ("sunset+12.5", "dusk", "17", 24, -1, True, 17.5):
        assert HourMark.read(wrong) is None
