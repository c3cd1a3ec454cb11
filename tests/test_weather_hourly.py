"""Hourly models see the weather of the hour (issue 13): an hourly weather table's
precipitation and temperature per hour as regressors, with the same no-look-ahead rule
as daily weather, and bad hourly rows named by file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.cli import main
from juno_forecast.forecast import SeriesForecaster, backtest_predictions

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample.parquet"
EVENING = pd.date_range("2015-05-05 18:00", "2015-05-05 21:00", freq="h")  # a Tuesday


def _hourly_file(path: Path, start: str, end: str, rain: dict | None = None) -> Path:
    """An hourly weather table (``ds, PRCP, SNWD, TEMP``): dry and mild (60 F) every hour of
    ``start``-``end``, with ``rain`` (timestamp -> inches in that hour) where given."""
    hours = pd.date_range(start, end, freq="h")
    frame = pd.DataFrame({"ds": hours, "PRCP": 0.0, "SNWD": 0.0, "TEMP": 60.0})
    for ts, inches in (rain or {}).items():
        frame.loc[frame["ds"] == ts, "PRCP"] = inches
    frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M")
    return path


def _manhattan_hourly(shared_data: Path) -> pd.Series:
    from juno_forecast.data import load_data

    ds = load_data(
        shared_data / "uber_nyc_enriched.csv",
        time_col="pickup_dt",
        value_col="pickups",
        metric="trips",
        by=["borough"],
        freq="h",
    )
    y = next(y for _, keys, y in ds.series() if keys["borough"] == "Manhattan")
    return y[y.index < "2015-05-01"]


# ------------------------------------------------------------------ the weather of the hour
def test_reader_keeps_the_hours_of_an_hourly_table(tmp_path):
    """An hourly table gives the hour's values to hourly models; the days stay the sums."""
    rain = {ts: 0.1 for ts in EVENING}
    path = _hourly_file(tmp_path / "fc.csv", "2015-05-04", "2015-05-06 23:00", rain)
    cal = Calendar.empty().with_weather_forecast(path)
    idx = pd.date_range("2015-05-05", periods=24, freq="h")
    hourly = cal.weather_regressors(idx, "h")["weather: precipitation"]
    assert hourly[EVENING].tolist() == [0.1] * 4
    assert (hourly.drop(EVENING) == 0.0).all()
    daily = cal.weather_regressors(idx, "D")["weather: precipitation"]
    assert daily.tolist() == pytest.approx([0.4] * 24)  # the day's total on every hour


def test_a_daily_file_spreads_the_day_over_its_hours(tmp_path):
    """A GHCN-Daily forecast for an hourly series: a 0.48 in day is 0.02 in an hour."""
    path = tmp_path / "daily.csv"
    path.write_text("DATE,PRCP,SNOW,SNWD,TMAX,TMIN\n2015-05-05,0.48,0,0,70,50\n")
    cal = Calendar.empty().with_weather_forecast(path)
    idx = pd.date_range("2015-05-05", periods=24, freq="h")
    w = cal.weather_regressors(idx, "h")
    assert w["weather: precipitation"].tolist() == pytest.approx([0.02] * 24)
    assert w["weather: temperature"].tolist() == pytest.approx([60.0] * 24)


@pytest.mark.parametrize("model", ["ols", "gbm"])
def test_an_evening_of_rain_moves_those_hours_and_no_others(shared_data, tmp_path, model):
    """Manhattan, real pickups and hourly weather up to 2015-04-30: a weather forecast with
    rain 18:00-21:00 on 5 May (0.1 in an hour; 0.4 in all day, under the heavy-rain
    threshold, so no day-long event) against a dry one. The rain of those evening hours
    raises them (the history taught the model that rain adds evening trips) and no other
    hour moves at all (ols: per part of the day; gbm: trees on the hour and its rain)."""
    y = _manhattan_hourly(shared_data)
    observed = Calendar.load().with_weather(shared_data / "uber_nyc_enriched.csv")
    idx = pd.date_range("2015-05-01", periods=7 * 24, freq="h")
    out = {}
    for name, rain in (("dry", None), ("wet", dict.fromkeys(EVENING, 0.1))):
        fc = _hourly_file(tmp_path / f"{name}.csv", "2015-05-01", "2015-05-07 23:00", rain)
        cal = observed.with_weather_forecast(fc)
        f = SeriesForecaster(model, cal, "trips", {"borough": "Manhattan"}, freq="h").fit(y)
        out[name] = f.predict(idx)
    ratio = out["wet"]["yhat"] / out["dry"]["yhat"]
    least = {"ols": 1.1, "gbm": 1.002}[model]  # measured: ols +16% each hour, gbm +0.4 to 2%
    assert (ratio[EVENING] > least).all() and (ratio[EVENING] < 1.5).all()
    assert np.allclose(ratio.drop(EVENING), 1.0, rtol=1e-9)
    assert not out["wet"]["events"].astype(str).str.contains("rain").any()


# ------------------------------------------------------------------ no look-ahead
def test_hourly_backtest_is_identical_with_and_without_an_hourly_storm_ahead(tmp_path):
    """An hourly weather table with a storm (2 in of snow an hour, 20 F) on 2026-01-25,
    inside the first fold: observed weather after each cutoff changes nothing. Given as
    the weather forecast too, the same table does reach the storm hours."""
    storm = pd.date_range("2026-01-25 06:00", "2026-01-25 18:00", freq="h")
    path = _hourly_file(tmp_path / "obs.csv", "2025-12-01", "2026-01-31 23:00")
    frame = pd.read_csv(path)
    hit = pd.to_datetime(frame["ds"]).isin(storm)
    frame.loc[hit, ["PRCP", "TEMP"]] = [0.2, 20.0]
    frame.loc[pd.to_datetime(frame["ds"]) >= storm[0], "SNWD"] = 10.0
    frame.to_csv(path, index=False)
    df = pd.read_parquet(SAMPLE)
    df = df[(df["metric"] == "trips") & (df["borough"] == "Manhattan") & (df["ds"] >= "2025-10-01")]
    kw = dict(horizon="2D", step="7D", model="ols", by=["borough"], freq="h")
    plain = backtest_predictions(df, "2026-01-24", "2026-01-31", **kw)
    observed = backtest_predictions(df, "2026-01-24", "2026-01-31", weather=path, **kw)
    assert plain["ds"].isin(storm).sum() == len(storm)
    pd.testing.assert_frame_equal(plain, observed)
    ahead = backtest_predictions(
        df, "2026-01-24", "2026-01-31", weather=path, weather_forecast=path, **kw
    )
    on = ahead["ds"].isin(storm).to_numpy()
    ratio = ahead["yhat"].to_numpy() / plain["yhat"].to_numpy()
    assert (ratio[on] < 0.95).all()  # the snowstorm event (1 in+ of water as snow) and the hours


# ------------------------------------------------------------------ bad rows
@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("PRCP", "lots", "column PRCP: expected numbers, got 'lots' on data row 3 (line 4)"),
        ("PRCP", "-0.2", "column PRCP: expected amounts >= 0, got -0.2 on data row 3 (line 4)"),
        ("ds", "tuesday", "column ds: expected timestamps, got 'tuesday' on data row 3 (line 4)"),
    ],
)
def test_bad_hourly_weather_row_is_one_line_naming_file_and_line(
    tmp_path, capsys, column, value, expected
):
    path = _hourly_file(tmp_path / "bad.csv", "2026-01-24", "2026-01-24 05:00")
    frame = pd.read_csv(path, dtype=str)
    frame.loc[2, column] = value
    frame.to_csv(path, index=False)
    args = ["forecast", str(SAMPLE), "--metric", "trips", "--by", "borough", "--freq", "h"]
    args += ["--cutoff", "2026-01-23 23:00", "--horizon", "1D", "--model", "naive"]
    with pytest.raises(SystemExit) as e:
        main([*args, "--weather-forecast", str(path)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"bad.csv: {expected}")
    assert len(err.splitlines()) == 1
