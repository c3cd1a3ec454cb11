"""Weather without look-ahead, the weather-forecast path, numeric weather and events that
do not double-fire (issue 13, items 2-4)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.cli import main
from juno_forecast.forecast import SeriesForecaster, backtest, backtest_predictions

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample.parquet"
WEATHER = REPO / "data" / "weather.csv"  # the sample's weather: 11 in of snow on 2026-01-25
STORM = pd.Timestamp("2026-01-25")
DAILY = dict(metric="trips", by=["borough"], freq="D")


def _forecast_file(path: Path, storm: bool) -> Path:
    """A weather forecast of 24-27 January 2026 (the sample's own weather), with or without
    the snowstorm of the 25th."""
    w = pd.read_csv(WEATHER)
    fc = w[(w["DATE"] >= "2026-01-24") & (w["DATE"] <= "2026-01-27")].copy()
    if not storm:
        fc.loc[fc["DATE"] == "2026-01-25", ["PRCP", "SNOW", "SNWD"]] = 0.0
    fc.to_csv(path, index=False)
    return path


def _ghcn(path: Path, rows: list[tuple[str, float, float, float]]) -> Path:
    """A GHCN-Daily file of ``(DATE, PRCP, SNOW, SNWD)`` rows (mild temperatures)."""
    frame = pd.DataFrame(rows, columns=["DATE", "PRCP", "SNOW", "SNWD"])
    frame.assign(TMAX=40, TMIN=30).to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ item 2: no look-ahead
def test_backtest_is_identical_with_and_without_a_weather_file_holding_a_storm_ahead():
    """The storm of 2026-01-25 lies inside the fold starting on the 24th: observed weather
    after the cutoff must not reach the forecast (it used to cut the 25th by a third)."""
    kw = dict(horizon="3D", step="7D", model="ols", **DAILY)
    plain = backtest_predictions(SAMPLE, "2026-01-24", "2026-01-31", **kw)
    observed = backtest_predictions(SAMPLE, "2026-01-24", "2026-01-31", weather=WEATHER, **kw)
    assert (plain["ds"] == STORM).any()
    pd.testing.assert_frame_equal(plain, observed)
    a = backtest(SAMPLE, "2026-01-24", "2026-01-31", **kw)
    b = backtest(SAMPLE, "2026-01-24", "2026-01-31", weather=WEATHER, **kw)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    # the same file given as a (perfect) forecast does reach the storm day
    ahead = backtest_predictions(
        SAMPLE, "2026-01-24", "2026-01-31", weather=WEATHER, weather_forecast=WEATHER, **kw
    )
    storm = ahead["ds"] == STORM
    assert (ahead.loc[storm, "yhat"] < 0.8 * plain.loc[storm, "yhat"]).all()


def test_a_forecast_does_not_see_the_weather_of_the_day_its_cutoff_cuts(tmp_path):
    """Hourly cutoff at 14:00 on the storm day: that day's snowfall total is not known yet."""
    obs = _ghcn(tmp_path / "obs.csv", [("2026-01-24", 0, 0, 0), ("2026-01-25", 1.1, 11, 11)])
    fc = _ghcn(tmp_path / "fc.csv", [("2026-01-26", 0, 0, 0)])
    cal = Calendar.load().with_weather(obs).with_weather_forecast(fc)
    mid = cal.weather_until(pd.Timestamp("2026-01-25 15:00"))  # data up to 14:00 used
    assert list(mid.weather_daily.index) == [pd.Timestamp("2026-01-24"), pd.Timestamp("2026-01-26")]
    end = cal.weather_until(pd.Timestamp("2026-01-26 00:00"))  # the 25th fully observed
    assert pd.Timestamp("2026-01-25") in end.weather_daily.index
    # without a forecast reaching past the cutoff, no weather at all
    assert Calendar.load().with_weather(obs).weather_until("2026-01-26").weather is None


# ------------------------------------------------------------------ item 3: forecast path
def test_weather_forecast_snowstorm_lowers_expected_trips_on_that_day_only(tmp_path, capsys):
    storm = _forecast_file(tmp_path / "storm.csv", storm=True)
    calm = _forecast_file(tmp_path / "calm.csv", storm=False)
    args = ["forecast", str(SAMPLE), "--metric", "trips", "--by", "borough", "--freq", "D"]
    args += ["--cutoff", "2026-01-23", "--horizon", "4D", "--model", "ols"]
    args += ["--weather", str(WEATHER), "--format", "csv"]
    tables = {}
    for name, path in (("storm", storm), ("calm", calm)):
        with pytest.raises(SystemExit) as e:
            main([*args, "--weather-forecast", str(path)])
        assert e.value.code == 0
        tables[name] = pd.read_csv(io.StringIO(capsys.readouterr().out), parse_dates=["ds"])
    s, c = tables["storm"], tables["calm"]
    on = s["ds"] == STORM
    assert on.sum() == 6 and len(s) == 24  # six boroughs, four days
    ratio = s["yhat"] / c["yhat"]
    assert (ratio[on] < 0.8).all() and (ratio[on] > 0.3).all()
    assert np.allclose(ratio[~on], 1.0, rtol=1e-9)
    assert s.loc[on, "events"].str.contains("Snowstorm").all()
    assert not c["events"].astype(str).str.contains("Snowstorm").any()  # all NaN: floats


def test_forecast_weather_events_name_the_forecast_as_their_source(tmp_path):
    fc = _forecast_file(tmp_path / "storm.csv", storm=True)
    occ = Calendar.load().with_weather_forecast(fc).occurrences(STORM, STORM, category="weather")
    row = occ[occ["name"] == "Snowstorm (observed)"].iloc[0]
    assert row["source"] == "weather forecast storm.csv (SNOW >= 4)"


# ------------------------------------------------------------------ item 4: numeric, no double-fire
def test_a_snow_day_fires_no_rain_event(tmp_path):
    path = _ghcn(
        tmp_path / "w.csv",
        [
            ("2025-01-05", 1.0, 6.0, 6.0),  # 1 in of water as 6 in of snow: a snowstorm only
            ("2025-01-12", 0.6, 2.0, 2.0),  # 0.6 in, a third of it as snow: 0.4 in of rain
            ("2025-01-19", 1.0, 0.0, 0.0),  # 1 in of rain: heavy rain
        ],
    )
    occ = Calendar.load().with_weather(path).occurrences("2025-01-01", "2025-01-31", "weather")
    by_day = occ.groupby("start")["name"].apply(set).to_dict()
    assert by_day[pd.Timestamp("2025-01-05")] == {"Snowstorm (observed)"}
    assert pd.Timestamp("2025-01-12") not in by_day
    assert by_day[pd.Timestamp("2025-01-19")] == {"Heavy rain (observed)"}


def test_real_march_2015_snowstorm_is_not_heavy_rain(shared_data):
    cal = Calendar.load().with_weather(shared_data / "uber_nyc_enriched.csv")
    occ = cal.occurrences("2015-03-05", "2015-03-05", category="weather")
    names = set(occ["name"])
    assert "Snowstorm (observed)" in names and "Heavy rain (observed)" not in names
    rain = cal.occurrences("2015-04-20", "2015-04-20", category="weather")
    assert "Heavy rain (observed)" in set(rain["name"])  # 0.9 in of rain, no snow


def test_numeric_weather_reaches_the_regression_only_with_a_forecast():
    """Temperature and precipitation become ols regressors (observed history, forecast
    ahead); without a forecast, no weather column at all."""
    y = pd.read_parquet(SAMPLE)
    y = y[(y["metric"] == "trips") & (y["borough"] == "Manhattan")]
    y = y.set_index("ds")["y"].resample("D").sum()
    y = y[y.index <= "2026-01-23"]
    obs = Calendar.load().with_weather(WEATHER)
    with_fc = SeriesForecaster("ols", obs.with_weather_forecast(WEATHER), "trips", freq="D").fit(y)
    names = set(with_fc.model_.params_.index)
    assert {"weather: temperature", "weather: precipitation"} <= names
    blind = SeriesForecaster("ols", obs, "trips", freq="D").fit(y)
    assert not any(n.startswith("weather") for n in blind.model_.params_.index)
    # gbm is tagged numeric_columns=False (measured worse with them): only the 0/1 events
    gbm = SeriesForecaster("gbm", obs.with_weather_forecast(WEATHER), "trips", freq="D").fit(y)
    assert not any(c.startswith("weather") for c in gbm.model_.events_)
    assert "Snowstorm (observed)" in gbm.model_.events_


def test_nightly_config_takes_a_weather_forecast_file(tmp_path):
    from juno_forecast.batch.config import load_config
    from juno_forecast.batch.runner import load_calendar
    from juno_forecast.errors import ConfigError

    (tmp_path / "trips.csv").write_text("ds,borough,metric,y\n")
    fc = _forecast_file(tmp_path / "forecast.csv", storm=True)
    cfg_path = tmp_path / "nightly.yaml"
    cfg_path.write_text("data:\n  - path: trips.csv\nweather_forecast: forecast.csv\n")
    cfg = load_config(cfg_path)
    assert cfg.weather_forecast == str(fc)
    cal = load_calendar(cfg.calendar, cfg.weather, cfg.weather_forecast)
    occ = cal.occurrences(STORM, STORM, category="weather")
    assert occ["source"].str.startswith("weather forecast forecast.csv").any()
    cfg_path.write_text("data:\n  - path: trips.csv\nweather_forecast: missing.csv\n")
    with pytest.raises(ConfigError, match="weather_forecast"):
        load_config(cfg_path)


# ------------------------------------------------------------------ ranges and unknown weather
def test_ranges_widen_in_a_snowy_month_without_a_weather_forecast(tmp_path):
    """December with no forecast, calibrated on calm autumn weeks: wider ranges than with
    the weather of those days known (calm), by the month's unknown-weather spread. Calibrated
    on December's and January's own weeks, a January forecast widens far less (its residuals
    hold most of the weather's errors already). July (not snowy) does not widen."""
    y = pd.read_parquet(SAMPLE)
    y = y[(y["metric"] == "trips") & (y["borough"] == "Manhattan")]
    y = y.set_index("ds")["y"].resample("D").sum()
    cal = Calendar.load()
    width = lambda f: np.log(f["hi_95"] / f["lo_95"])  # noqa: E731

    def blind_and_known(last: str, days: pd.DatetimeIndex, calm: Path):
        hist = y[y.index <= last]
        blind = SeriesForecaster("naive", cal, "trips", freq="D").fit(hist).predict(days)
        known = SeriesForecaster("naive", cal.with_weather_forecast(calm), "trips", freq="D")
        return blind, known.fit(hist).predict(days)

    dec = pd.date_range("2025-12-01", periods=4, freq="D")
    calm_dec = _ghcn(tmp_path / "calm_dec.csv", [(str(d.date()), 0.0, 0.0, 0.0) for d in dec])
    blind, known = blind_and_known("2025-11-30", dec, calm_dec)
    assert np.allclose(blind["yhat"], known["yhat"])  # naive ignores the weather itself
    widened = width(blind) - width(known)
    assert (widened > 0.2).all()
    jan = pd.date_range("2026-01-24", periods=4, freq="D")
    blind, known = blind_and_known(
        "2026-01-23", jan, _forecast_file(tmp_path / "calm.csv", storm=False)
    )
    # only by the excess of January's spread over that of the weeks it was calibrated on
    assert (width(blind) - width(known)).max() < widened.min() / 2
    summer = y[y.index <= "2025-07-10"]
    jul = pd.date_range("2025-07-11", periods=4, freq="D")
    a = SeriesForecaster("naive", cal, "trips", freq="D").fit(summer).predict(jul)
    b = SeriesForecaster("naive", None, "trips", freq="D").fit(summer).predict(jul)
    pd.testing.assert_frame_equal(a[["lo_95", "hi_95"]], b[["lo_95", "hi_95"]])


def test_impact_counterfactual_sees_the_window_weather_only_as_a_forecast():
    """impact's counterfactual is a forecast from before the window: the observed storm of
    the window does not lower it, unless the weather is given as --weather-forecast."""
    from juno_forecast.impact import impact

    df = pd.read_parquet(SAMPLE)
    df = df[(df["metric"] == "trips") & (df["borough"] == "Manhattan")]
    df = df[(df["ds"] >= "2025-10-01") & (df["ds"] < "2026-02-10")]
    kw = dict(model="ols", by=["borough"])
    plain = impact(df, "2026-01-25", "2026-01-25", **kw)
    observed = impact(df, "2026-01-25", "2026-01-25", weather=WEATHER, **kw)
    known = impact(df, "2026-01-25", "2026-01-25", weather=WEATHER, weather_forecast=WEATHER, **kw)
    assert observed["expected_total"].iloc[0] == pytest.approx(plain["expected_total"].iloc[0])
    assert known["expected_total"].iloc[0] < 0.8 * plain["expected_total"].iloc[0]
    assert "Snowstorm" in known["events"].iloc[0]


def test_detect_cli_commands_take_weather_forecast(tmp_path, capsys):
    fc = _forecast_file(tmp_path / "storm.csv", storm=True)
    args = ["expect", str(SAMPLE), "--metric", "trips", "--by", "borough", "--freq", "D"]
    args += ["--start", "2026-01-24", "--end", "2026-01-27", "--model", "ols", "--format", "csv"]
    with pytest.raises(SystemExit) as e:
        main([*args, "--weather", str(WEATHER), "--weather-forecast", str(fc)])
    assert e.value.code == 0
    out = pd.read_csv(io.StringIO(capsys.readouterr().out), parse_dates=["ds"])
    assert out.loc[out["ds"] == STORM, "events"].str.contains("Snowstorm").all()
    with pytest.raises(SystemExit) as e:
        main([*args, "--weather-forecast", str(tmp_path / "missing.csv")])
    assert e.value.code == 2
    assert "missing.csv: no such weather forecast file" in capsys.readouterr().err
