"""A day off the forecast has not learned takes its hours from the series, as detection does.

At hourly grain an ``hours_like: sunday`` holiday with no earlier occurrence in the
history is forecast with the shape of the series' recent Sundays (the calendar's
``effect`` as the day's level), by the very rule detection uses
(:mod:`juno_forecast.dayoff`); ``by_hours`` stays where the history is too short to
measure it, at daily grain, and a holiday the model learned is left to the model.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.detect.explain import event_expectations, series_past
from juno_forecast.features import series_occurrences
from juno_forecast.forecast import SeriesForecaster

SHIPPED = Path(__file__).resolve().parents[1] / "juno_forecast" / "events_calendar.yaml"
BOROUGHS = ("Manhattan", "Brooklyn", "Queens")


@pytest.fixture(scope="module")
def pickups(shared_data: Path) -> pd.DataFrame:
    """Hourly Uber pickups of 2015, one column per borough."""
    df = pd.read_csv(
        shared_data / "uber_nyc_enriched.csv", usecols=["pickup_dt", "borough", "pickups"]
    )
    df["ds"] = pd.to_datetime(df["pickup_dt"], format="%m/%d/%Y %H:%M")
    return df.pivot_table(index="ds", columns="borough", values="pickups", aggfunc="sum").asfreq(
        "h"
    )


@pytest.fixture(scope="module")
def by_hours_only(tmp_path_factory: pytest.TempPathFactory) -> Calendar:
    """The shipped calendar without ``hours_like``: its Monday holidays by ``by_hours`` alone."""
    path = tmp_path_factory.mktemp("cal") / "no_hours_like.yaml"
    path.write_text(re.sub(r"(?m)^\s+hours_like:.*\n", "", SHIPPED.read_text()))
    return Calendar.load(path)


def _fit(y: pd.Series, calendar: Calendar | None, borough: str, freq: str = "h"):
    return SeriesForecaster("auto", calendar, "trips", {"borough": borough}, freq).fit(y)


def _sunday_shape(y: pd.Series, day: pd.Timestamp) -> np.ndarray:
    """The median of the 8 Sundays before ``day``, hour by hour, over its mean."""
    sundays = [y[day - pd.Timedelta(days=7 * k + 1) :].iloc[:24].to_numpy() for k in range(1, 9)]
    shape = np.median(sundays, axis=0)
    return shape / shape.mean()


def _distance(yhat: np.ndarray, shape: np.ndarray) -> float:
    """RMS log distance of a day's hourly profile (level removed) from ``shape``."""
    return float(np.sqrt(np.mean(np.log(yhat / yhat.mean() / shape) ** 2)))


def test_unseen_memorial_day_follows_the_series_sundays_hour_by_hour(pickups, by_hours_only):
    day = pd.Timestamp("2015-05-25")
    hours = pd.date_range(day, periods=24, freq="h")
    err = {"sunday": 0.0, "by_hours": 0.0}
    for borough in BOROUGHS:
        y = pickups[borough]
        history = y[: day - pd.Timedelta(hours=49)]  # to the Friday before, 23:00
        shape = _sunday_shape(y, day)
        measured = _fit(history, None, borough).predict(hours)["yhat"].to_numpy()
        guessed = _fit(history, by_hours_only, borough).predict(hours)["yhat"].to_numpy()
        # shaped like the Sundays (within 10% rms), where by_hours is 35-70% off them
        assert _distance(measured, shape) < 0.1 < 0.3 < _distance(guessed, shape), borough
        err["sunday"] += np.abs(measured - y[hours].to_numpy()).mean()
        err["by_hours"] += np.abs(guessed - y[hours].to_numpy()).mean()
    # 516 against 613 pickups an hour (Manhattan alone about even: 368 and 350)
    assert err["sunday"] < 0.9 * err["by_hours"]


def test_unseen_presidents_day_is_closer_to_the_actual_in_every_borough(pickups, by_hours_only):
    day = pd.Timestamp("2015-02-16")  # share 0.6: part of the way to a Sunday
    hours = pd.date_range(day, periods=24, freq="h")
    for borough in BOROUGHS:
        y = pickups[borough]
        history = y[: day - pd.Timedelta(hours=49)]
        measured = _fit(history, None, borough).predict(hours)["yhat"].to_numpy()
        guessed = _fit(history, by_hours_only, borough).predict(hours)["yhat"].to_numpy()
        actual = y[hours].to_numpy()
        assert np.abs(measured - actual).mean() < np.abs(guessed - actual).mean(), borough


@pytest.mark.parametrize(
    "name, day, getaway",
    [("Memorial Day", "2015-05-25", True), ("Washington's Birthday", "2015-02-16", False)],
)
def test_forecast_and_detection_expect_the_same_hours_of_a_day_off(pickups, name, day, getaway):
    day = pd.Timestamp(day)
    y = pickups["Brooklyn"]
    history = y[: day - pd.Timedelta(hours=49)]
    fc = _fit(history, None, "Brooklyn")
    hours = pd.date_range(day - pd.Timedelta(hours=6), periods=30, freq="h")  # eve + day
    forecast_effect = fc.event_effects(hours)[name].to_numpy()
    keys = {"borough": "Brooklyn"}
    occ = series_occurrences(fc.calendar_, hours[0], hours[-1], "trips", keys)
    past = series_past(history, fc.calendar_, "trips", keys, "h")
    detected = {e.name: e for e in event_expectations(hours, occ, "trips", "h", past=past)}
    np.testing.assert_allclose(forecast_effect, detected[name].effect)
    assert np.ptp(forecast_effect[6:]) > 0.05  # the day itself follows the Sundays' hours
    if getaway:  # the city has left for the long weekend: the window's curated -10%
        np.testing.assert_allclose(forecast_effect[:6], -0.1)
    else:  # the Sunday evening before goes out like a Saturday night
        assert forecast_effect[:6].min() > 0.1 and np.ptp(forecast_effect[:6]) > 0.05


def test_too_short_a_history_keeps_by_hours(pickups, by_hours_only):
    day = pd.Timestamp("2015-01-19")  # MLK Day: 2 weeks of 2015 before it, no 3 quiet weeks
    y = pickups["Brooklyn"][: day - pd.Timedelta(hours=49)]
    hours = pd.date_range(day - pd.Timedelta(days=1), periods=48, freq="h")
    measured = _fit(y, None, "Brooklyn").predict(hours)
    guessed = _fit(y, by_hours_only, "Brooklyn").predict(hours)
    pd.testing.assert_frame_equal(measured, guessed)


def test_daily_grain_is_unchanged(pickups, by_hours_only):
    y = pickups["Queens"].resample("D").sum()[:"2015-05-22"]
    days = pd.date_range("2015-05-23", periods=4, freq="D")
    measured = _fit(y, None, "Queens", "D").predict(days)
    guessed = _fit(y, by_hours_only, "Queens", "D").predict(days)
    pd.testing.assert_frame_equal(measured, guessed)


def _weekly(start: str, end: str) -> pd.Series:
    """Hourly counts with a commute on weekdays and a late, flat Sunday."""
    idx = pd.date_range(start, end, freq="h")
    weekday = 300 * (1 + 0.6 * np.sin(2 * np.pi * (idx.hour - 6) / 24))
    sunday = 250 * (1 + 0.3 * np.sin(2 * np.pi * (idx.hour - 10) / 24))
    mean = np.where(idx.dayofweek == 6, sunday, weekday)
    return pd.Series(np.random.default_rng(3).poisson(mean).astype(float), index=idx)


def _day_off(tmp_path: Path, dates: str, hours_like: bool) -> Calendar:
    path = tmp_path / f"day_off_{len(dates)}_{hours_like}.yaml"
    like = "hours_like: sunday" if hours_like else ""
    path.write_text(
        textwrap.dedent(f"""\
        events:
          - name: Day off
            category: holiday
            dates: [{dates}]
            effect: {{trips: -0.2}}
            by_hours:
              - {{hours: {{from: 6, to: 9}}, effect: {{trips: -0.45}}}}
            {like}
    """)
    )
    return Calendar.load(path)


@pytest.mark.parametrize("dates", ["2024-03-11", "2024-02-05, 2024-03-11"])
def test_a_learned_day_off_is_left_to_the_model(tmp_path: Path, dates: str):
    y = _weekly("2024-01-01", "2024-03-08 23:00")
    hours = pd.date_range("2024-03-09", periods=72, freq="h")

    def predict(hours_like: bool) -> pd.DataFrame:
        cal = _day_off(tmp_path, dates, hours_like)
        return SeriesForecaster("ols", cal, "trips", None, "h").fit(y).predict(hours)

    measured, guessed = predict(True), predict(False)
    monday = hours.normalize() == pd.Timestamp("2024-03-11")
    if "," in dates:  # learned from February 5: the model's, whatever the calendar's shape
        pd.testing.assert_frame_equal(measured, guessed)
    else:  # unseen: the Sundays' shape and spread in place of by_hours, from the eve's 18:00
        for column in ("yhat", "lo_95", "hi_95"):
            assert not np.allclose(measured[column][monday], guessed[column][monday])
        eve = (hours >= pd.Timestamp("2024-03-10 18:00")) & ~monday
        assert not np.allclose(measured["yhat"][eve], guessed["yhat"][eve])
        before = hours < pd.Timestamp("2024-03-10 18:00")  # ordinary hours keep their ranges
        pd.testing.assert_frame_equal(measured[before], guessed[before])
