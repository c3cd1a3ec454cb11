"""The generated sample: deterministic, loadable with the default flags, and NYC-shaped.

Shape checks run on the committed ``data/`` files (and a test checks that they
are exactly what the generator regenerates), comparing like with like: the same
hour or weekday a week before and after, or Manhattan against Brooklyn.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.data import Dataset, load_data
from juno_forecast.sample import BOROUGHS, generate_sample, iftar_hours, main, ramadan_days

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def sample() -> Dataset:
    return load_data(DATA / "sample.parquet", by=("borough",))


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    return pd.read_csv(DATA / "weather.csv", parse_dates=["DATE"])


def series(ds: Dataset, borough: str, metric: str) -> pd.Series:
    f = ds.frame
    return f[(f["borough"] == borough) & (f["metric"] == metric)].set_index("ds")["y"]


def daily(ds: Dataset, borough: str, metric: str = "trips") -> pd.Series:
    return series(ds, borough, metric).resample("D").sum()


def vs_neighbour_weeks(days: pd.Series, day: pd.Timestamp) -> float:
    """A day's value over the mean of the same weekday one week before and after."""
    week = pd.Timedelta(days=7)
    return days[day] / ((days[day - week] + days[day + week]) / 2)


# ---------------------------------------------------------------- determinism, files


def test_same_seed_same_tables_other_seed_other_counts() -> None:
    a = generate_sample(start="2025-01-01", end="2025-02-15", seed=3, boroughs=("Bronx", "EWR"))
    b = generate_sample(start="2025-01-01", end="2025-02-15", seed=3, boroughs=("Bronx", "EWR"))
    for name in ("sample", "weather", "incidents"):
        pd.testing.assert_frame_equal(a[name], b[name])
    c = generate_sample(start="2025-01-01", end="2025-02-15", seed=4, boroughs=("Bronx", "EWR"))
    assert not a["sample"]["y"].equals(c["sample"]["y"])
    assert len(a["sample"]) == 46 * 24 * 2 * 2


def test_committed_sample_is_what_the_command_regenerates(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--seed", "0"]) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "sample.parquet"), pd.read_parquet(DATA / "sample.parquet")
    )
    for name in ("weather.csv", "incidents.csv"):
        assert (tmp_path / name).read_text() == (DATA / name).read_text()


def test_files_are_small_and_complete(weather: pd.DataFrame) -> None:
    total = sum(p.stat().st_size for p in DATA.iterdir())
    assert total < 5_000_000
    assert list(weather.columns) == ["DATE", "PRCP", "SNOW", "SNWD", "TMAX", "TMIN"]
    assert weather["DATE"].tolist() == list(pd.date_range("2024-07-01", "2026-06-30"))
    assert (weather["TMIN"] <= weather["TMAX"]).all()
    incidents = pd.read_csv(DATA / "incidents.csv")
    assert list(incidents.columns) == ["name", "borough", "metric", "start", "end", "effect"]
    assert len(incidents) == 3


def test_sample_loads_with_default_flags(sample: Dataset) -> None:
    assert sample.freq == "h" and sample.problems == [] and sample.notes == []
    assert sample.n_series == 2 * len(BOROUGHS)
    sizes = sample.frame.groupby(["borough", "metric"]).size()
    assert (sizes == 730 * 24).all()
    assert sample.frame["ds"].min() == pd.Timestamp("2024-07-01 00:00")
    assert sample.frame["ds"].max() == pd.Timestamp("2026-06-30 23:00")


# ---------------------------------------------------------------- NYC shape


def test_weekday_rush_hour_beats_4am_and_weekend_nights_are_late(sample: Dataset) -> None:
    y = series(sample, "Manhattan", "trips")
    weekday = y[y.index.day_of_week < 5]
    by_hour = weekday.groupby(weekday.index.hour).mean()
    assert by_hour[8] > 3 * by_hour[4] and by_hour[18] > 3 * by_hour[4]
    at_1am = y[y.index.hour == 1]
    sat, wed = (
        at_1am[at_1am.index.day_of_week == 5].mean(),
        at_1am[at_1am.index.day_of_week == 2].mean(),
    )
    assert sat > 2 * wed  # Friday night out


def test_holidays_are_lower_and_lose_the_commute(sample: Dataset) -> None:
    days = daily(sample, "Manhattan")
    for holiday in ["2024-11-28", "2024-12-25", "2025-07-04", "2025-11-27", "2025-12-25"]:
        assert vs_neighbour_weeks(days, pd.Timestamp(holiday)) < 0.8, holiday
    y = series(sample, "Manhattan", "trips")
    mlk = y[pd.Timestamp("2025-01-20 08:00")]
    other_mondays = [y[pd.Timestamp("2025-01-13 08:00")], y[pd.Timestamp("2025-01-27 08:00")]]
    assert mlk < 0.85 * np.mean(other_mondays)


def test_snow_days_in_weather_lower_trips(sample: Dataset, weather: pd.DataFrame) -> None:
    storms = weather.loc[weather["SNOW"] >= 4, "DATE"]
    assert 3 <= len(storms) <= 5
    for borough in ("Manhattan", "Queens"):
        days = daily(sample, borough)
        for day in storms:
            assert 0.45 <= vs_neighbour_weeks(days, day) <= 0.75, (borough, day)


def test_congestion_pricing_step_lowers_manhattan_trips(sample: Dataset) -> None:
    toll = pd.Timestamp("2025-01-05")
    before = slice(toll - pd.Timedelta(days=35), toll - pd.Timedelta(days=1))
    after = slice(toll + pd.Timedelta(days=14), toll + pd.Timedelta(days=48))
    ratio = {
        b: daily(sample, b)[after].mean() / daily(sample, b)[before].mean()
        for b in ("Manhattan", "Brooklyn")
    }
    relative = ratio["Manhattan"] / ratio["Brooklyn"]
    assert 0.88 <= relative <= 0.96  # -8 % against the borough without the toll
    manhattan, brooklyn = daily(sample, "Manhattan"), daily(sample, "Brooklyn")
    late = slice("2026-04-01", "2026-05-31")  # the step lasts more than a year later
    share_before = manhattan[before].sum() / brooklyn[before].sum()
    assert 0.88 <= (manhattan[late].sum() / brooklyn[late].sum()) / share_before <= 0.96


def test_ramadan_evenings_lower_drivers_online(sample: Dataset) -> None:
    ramadan = ramadan_days("2026-01-01", "2026-06-30")
    assert ramadan[0] == pd.Timestamp("2026-02-18") and len(ramadan) in (29, 30)
    y = series(sample, "Brooklyn", "drivers_online")
    iftar = iftar_hours(y.index)  # sunset-1 to sunset+2: 16-19 in February, 18-21 in March
    assert set(y.index[iftar & (y.index.normalize() == "2026-02-20")].hour) == {16, 17, 18, 19}
    assert set(y.index[iftar & (y.index.normalize() == "2026-03-15")].hour) == {18, 19, 20, 21}
    noon = y[y.index.hour.isin([12, 13, 14, 15])].resample("D").mean()

    def evening_over_noon(day: pd.Timestamp, hours: list[int]) -> float:
        return y[day : day + pd.Timedelta(hours=23)].iloc[hours].mean() / noon[day]

    five_weeks = pd.Timedelta(days=35)  # the same weekday after Ramadan, same clock hours
    ratios = [
        evening_over_noon(d, h) / evening_over_noon(d + five_weeks, h)
        for d in ramadan
        for h in [list(y.index[iftar & (y.index.normalize() == d)].hour)]
    ]
    assert 0.75 < np.mean(ratios) < 0.88  # the generator's -20%, in the iftar hours
    trips = series(sample, "Brooklyn", "trips")
    t_ratio = trips[trips.index.hour.isin([17, 18, 19, 20])].resample("D").mean() / (
        trips[trips.index.hour.isin([12, 13, 14, 15])].resample("D").mean()
    )
    assert (
        t_ratio[ramadan].mean() > 0.95 * t_ratio["2026-04-01":"2026-05-15"].mean()
    )  # trips keep their evening


def test_incidents_are_in_the_data(sample: Dataset) -> None:
    incidents = pd.read_csv(DATA / "incidents.csv", parse_dates=["start", "end"])
    for row in incidents.itertuples():
        y = series(sample, row.borough, row.metric)
        window = y[row.start : row.end]
        week_before = y[row.start - pd.Timedelta(days=7) : row.end - pd.Timedelta(days=7)]
        ratio = window.sum() / week_before.sum()
        assert abs(ratio - (1 + row.effect)) < 0.12, row.name


def test_unknown_borough_and_single_borough_string() -> None:
    one = generate_sample(start="2025-01-01", end="2025-01-03", boroughs="Bronx")
    assert one["sample"]["borough"].unique().tolist() == ["Bronx"]
    with pytest.raises(ValueError, match="unknown borough 'Harlem'"):
        generate_sample(boroughs=("Harlem",))
