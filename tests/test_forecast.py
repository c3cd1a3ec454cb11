"""forecast(), backtest() and their commands: no look-ahead, DST, bad input, calendar knowledge."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.cli import main
from juno_forecast.errors import InputError, JunoWarning, NoSeriesError
from juno_forecast.forecast import SeriesForecaster, backtest, forecast, parse_duration

REPO = Path(__file__).resolve().parents[1]
COLUMNS = ["zone", "metric", "ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95", "events"]


def tidy_hourly(start: str, end: str, zones=("A", "B"), seed: int = 0) -> pd.DataFrame:
    """Hourly counts with a daily and weekly cycle for a few zones, naive wall-clock stamps."""
    idx = pd.date_range(start, end, freq="h")
    rng = np.random.default_rng(seed)
    frames = []
    for i, zone in enumerate(zones):
        mean = (100 + 30 * i) * (1 + 0.7 * np.sin(2 * np.pi * (idx.hour - 6) / 24))
        mean = mean * np.where(idx.day_of_week >= 5, 0.8, 1.0)
        frames.append(
            pd.DataFrame(
                {"ds": idx, "zone": zone, "metric": "trips", "y": rng.poisson(mean).astype(float)}
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def hourly() -> pd.DataFrame:
    return tidy_hourly("2024-01-01", "2024-02-18 23:00")


def test_forecast_columns_and_horizon(hourly):
    out = forecast(hourly, horizon="48h", model="ols", calendar="none")
    assert list(out.columns) == COLUMNS
    assert len(out) == 2 * 48
    first = out.groupby("zone")["ds"].min()
    assert (first == pd.Timestamp("2024-02-19 00:00")).all()
    v = out[["lo_95", "lo_80", "yhat", "hi_80", "hi_95"]].to_numpy()
    assert (np.diff(v, axis=1) >= 0).all() and (v >= 0).all()
    assert out.attrs["problems"] == []


def test_no_look_ahead(hourly):
    """Garbage after the cutoff leaves the forecast from that cutoff unchanged."""
    cutoff = pd.Timestamp("2024-02-11 23:00")
    before = forecast(hourly, horizon="2D", cutoff=cutoff, model="auto")
    spoiled = hourly.copy()
    after = spoiled["ds"] > cutoff
    spoiled.loc[after, "y"] = (
        np.random.default_rng(9).integers(10**6, 10**7, after.sum()).astype(float)
    )
    again = forecast(spoiled, horizon="2D", cutoff=cutoff, model="auto")
    pd.testing.assert_frame_equal(before, again)
    assert before["ds"].min() == cutoff + pd.Timedelta(hours=1)


def _dst_frame(start: str, end: str) -> pd.DataFrame:
    """Hourly wall-clock rows as a real export has them: no 02:00 in spring, 01:00 twice in fall."""
    df = tidy_hourly(start, end, zones=("A",))
    df = df[df["ds"] != pd.Timestamp("2015-03-08 02:00")]
    fall = df[df["ds"] == pd.Timestamp("2015-11-01 01:00")]
    return pd.concat([df, fall], ignore_index=True).sort_values("ds", ignore_index=True)


@pytest.mark.parametrize(
    ("start", "end", "cutoff"),
    [
        ("2015-02-01", "2015-03-12 23:00", "2015-03-06 23:00"),  # spring forward on 03-08
        ("2015-09-25", "2015-11-04 23:00", "2015-10-30 23:00"),  # fall back on 11-01
    ],
)
def test_dst_days_forecast_without_gaps_or_nan(start, end, cutoff):
    df = _dst_frame(start, end)
    out = forecast(df, horizon="4D", cutoff=cutoff, model="auto", calendar="none")
    assert len(out) == 96 and out["ds"].is_unique
    assert out[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]].notna().all().all()
    # history including the DST day forecasts too
    tail = forecast(df, horizon="1D", model="ols", calendar="none")
    assert tail["yhat"].notna().all() and len(tail) == 24


@pytest.mark.parametrize("bad", ["14 days", "0D", "-3D", "D", "1.5D"])
def test_bad_horizon_is_an_input_error(hourly, bad):
    with pytest.raises(InputError, match=r"--horizon: expected a positive duration like 14D"):
        forecast(hourly, horizon=bad, model="naive", calendar="none")


def test_horizon_must_fit_the_grain():
    assert parse_duration("48h", "h") == 48 and parse_duration("2W", "D") == 14
    with pytest.raises(InputError, match="not a whole number of days"):
        parse_duration("36h", "D")


def test_unknown_model_and_early_cutoff_are_input_errors(hourly):
    with pytest.raises(InputError, match="--model: unknown model 'arima'; expected one of"):
        forecast(hourly, model="arima", calendar="none")
    with pytest.raises(
        InputError,
        match="--cutoff 2023-06-01 00:00:00 is before the data, which starts at 2024-01-01",
    ):
        forecast(hourly, cutoff="2023-06-01", model="naive", calendar="none")


def test_a_series_too_short_at_the_cutoff_is_skipped_and_reported():
    long = tidy_hourly("2024-01-01", "2024-02-18 23:00", zones=("A",))
    short = tidy_hourly("2024-02-10", "2024-02-18 23:00", zones=("B",))
    df = pd.concat([long, short], ignore_index=True)
    with pytest.warns(UserWarning, match="metric=trips zone=B: too short to forecast"):
        out = forecast(df, horizon="1D", model="naive", calendar="none", min_length=24)
    assert set(out["zone"]) == {"A"}
    assert any("zone=B" in p and "too short" in p for p in out.attrs["problems"])


def _event_calendar(tmp_path: Path) -> Calendar:
    path = tmp_path / "cal.yaml"
    path.write_text(
        textwrap.dedent("""\
        events:
          - name: Big storm
            category: weather
            start: 2024-02-20
            end: 2024-02-20
            effect: {trips: -0.5}
    """)
    )
    return Calendar.load(path)


def test_curated_prior_applies_to_an_event_never_seen_in_history(tmp_path, hourly):
    cal = _event_calendar(tmp_path)
    y = hourly[hourly["zone"] == "A"].set_index("ds")["y"]
    idx = pd.date_range("2024-02-19", periods=72, freq="h")
    with_cal = SeriesForecaster("naive", cal, "trips", {"zone": "A"}, "h").fit(y).predict(idx)
    without = SeriesForecaster("naive", "none", "trips", {"zone": "A"}, "h").fit(y).predict(idx)
    storm = with_cal.index.normalize() == pd.Timestamp("2024-02-20")
    ratio = with_cal["yhat"] / without["yhat"]
    assert np.allclose(ratio[storm], 0.5) and np.allclose(ratio[~storm], 1.0)
    assert (with_cal.loc[storm, "events"] == "Big storm").all()
    assert (with_cal.loc[~storm, "events"] == "").all()


def test_sample_snowstorm_lowers_expected_trips_when_the_calendar_knows_it():
    """The generator's 2026-01-25 snowstorm (11 in, in data/weather.csv) given as the weather
    forecast: the calendar turns it into a weather event; the model learned earlier
    snowstorms' effect from the observed history."""
    kw = dict(
        horizon="3D", cutoff="2026-01-24", model="ols", metric="trips", by=["borough"], freq="D"
    )
    sample = REPO / "data" / "sample.parquet"
    weather = REPO / "data" / "weather.csv"
    known = forecast(sample, weather=weather, weather_forecast=weather, **kw)
    blind = forecast(sample, calendar="none", **kw)
    day = pd.Timestamp("2026-01-25")
    k = known[known["ds"] == day].set_index("borough")
    b = blind[blind["ds"] == day].set_index("borough")
    assert (k["yhat"] < 0.8 * b["yhat"]).all()
    assert k["events"].str.contains("Snowstorm").all()
    actual = pd.read_parquet(sample)
    actual = actual[(actual["metric"] == "trips") & (actual["ds"].dt.normalize() == day)]
    truth = actual.groupby("borough")["y"].sum()
    assert ((k["yhat"] - truth).abs() < (b["yhat"] - truth).abs()).all()


def test_backtest_folds_and_summary(hourly):
    res = backtest(
        hourly,
        "2024-02-05",
        "2024-02-12",
        horizon="2D",
        step="7D",
        model=["naive", "ols"],
        calendar="none",
    )
    f = res.folds
    assert list(f.columns) == [
        "zone",
        "metric",
        "model",
        "cutoff",
        "n",
        "mase",
        "smape",
        "coverage_80",
        "coverage_95",
    ]
    assert len(f) == 2 * 2 * 2  # zones x cutoffs x models
    assert set(f["cutoff"]) == {pd.Timestamp("2024-02-04 23:00"), pd.Timestamp("2024-02-11 23:00")}
    assert (f["n"] == 48).all()
    assert f[["coverage_80", "coverage_95"]].stack().between(0, 1).all()
    assert (f["coverage_95"] >= f["coverage_80"]).all()
    s = res.summary.set_index("model")
    assert list(s.index) == ["naive", "ols", "(all)"]
    # on a stable Poisson series a regression averaging weeks beats last week's noisy value
    assert s.loc["ols", "mase"] < s.loc["naive", "mase"]


def test_cli_forecast_and_backtest(tmp_path, hourly, capsys):
    data = tmp_path / "trips.csv"
    hourly.to_csv(data, index=False)
    out = tmp_path / "f.csv"
    with pytest.raises(SystemExit) as e:
        main(
            [
                "forecast",
                str(data),
                "--by",
                "zone",
                "--horizon",
                "24h",
                "--model",
                "naive",
                "--calendar",
                "none",
                "--out",
                str(out),
            ]
        )
    assert e.value.code == 0
    got = pd.read_csv(out)
    assert list(got.columns) == COLUMNS and len(got) == 48
    with pytest.raises(SystemExit) as e:
        main(
            [
                "backtest",
                str(data),
                "--by",
                "zone",
                "--start",
                "2024-02-12",
                "--end",
                "2024-02-12",
                "--horizon",
                "1D",
                "--model",
                "naive,ols",
                "--calendar",
                "none",
                "--format",
                "csv",
            ]
        )
    assert e.value.code == 0
    captured = capsys.readouterr()
    assert (
        captured.out.splitlines()[0]
        == "zone,metric,model,cutoff,n,mase,smape,coverage_80,coverage_95"
    )
    assert "summary:" in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--horizon", "two weeks"],
            "error: --horizon: expected a positive duration like 14D, 48h or 2W, got 'two weeks'",
        ),
        (["--model", "arima"], "error: --model: unknown model 'arima'"),
        (["--cutoff", "2020-01-01"], "error: --cutoff 2020-01-01 00:00:00 is before the data"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, hourly, capsys, args, message):
    data = tmp_path / "trips.csv"
    hourly.to_csv(data, index=False)
    with pytest.raises(SystemExit) as e:
        main(["forecast", str(data), "--by", "zone", "--calendar", "none", *args])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)


def test_an_event_under_way_at_the_cutoff_uses_its_prior_not_two_days_of_noise(tmp_path, hourly):
    """Two days of a five-day event are in the history (with no effect yet): the model does
    not extrapolate a coefficient fitted on them; the curated prior applies to the rest."""
    path = tmp_path / "cal.yaml"
    path.write_text(
        textwrap.dedent("""\
        events:
          - name: Week of works
            category: other
            start: 2024-02-17
            end: 2024-02-21
            effect: {trips: -0.3}
    """)
    )
    cal = Calendar.load(path)
    y = hourly[hourly["zone"] == "A"].set_index("ds")["y"]
    y.loc["2024-02-17":] *= 1.5  # the first two days are unusually high: noise, not the event
    idx = pd.date_range("2024-02-19", periods=72, freq="h")
    f = SeriesForecaster("ols", cal, "trips", {"zone": "A"}, "h").fit(y)
    assert "Week of works" in f.seen_ and "Week of works" not in f.learned_
    with_cal = f.predict(idx)
    without = SeriesForecaster("ols", "none", "trips", {"zone": "A"}, "h").fit(y).predict(idx)
    ratio = (with_cal["yhat"] / without["yhat"]).groupby(idx.normalize()).mean()
    # the model fitted without the event column sees the +50% days as a level rise; with it,
    # those days are explained away, so the ratio is below 0.7 (the prior) rather than above 1
    assert ratio.max() < 0.7


def _cv_frame(n: int, seed: int, step_len: int = 7) -> pd.DataFrame:
    """Backtest rows with log-normal errors of 10% around a forecast of 1000 (daily stamps)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=n, freq="D")
    yhat = np.full(n, 1000.0)
    y = np.expm1(np.log1p(yhat) + rng.normal(0, 0.1, n))
    return pd.DataFrame({"ds": ds, "step": np.arange(n) % step_len + 1, "y": y, "yhat": yhat})


@pytest.mark.parametrize("n", [28, 400])
def test_conformal_ranges_cover_their_level_on_exchangeable_errors(n):
    """Fitted on n out-of-sample errors, the ranges cover new errors of the same kind at their level."""
    from juno_forecast.intervals import ConformalIntervals

    coverage = {80: [], 95: []}
    for seed in range(40):
        ci = ConformalIntervals(log=True).fit(_cv_frame(n, seed))
        new = _cv_frame(200, 1000 + seed)
        yhat = pd.Series(new["yhat"].to_numpy(), index=pd.DatetimeIndex(new["ds"]))
        out = ci.predict(yhat, new["step"].to_numpy())
        for level in coverage:
            lo, hi = out[f"lo_{level}"].to_numpy(), out[f"hi_{level}"].to_numpy()
            coverage[level].append(np.mean((new["y"] >= lo) & (new["y"] <= hi)))
        ratio = (out["hi_80"] / yhat).iloc[0]
        assert ratio == pytest.approx(yhat.iloc[0] / out["lo_80"].iloc[0], rel=1e-3), (
            "symmetric in log"
        )
    assert 0.78 <= np.mean(coverage[80]) <= 0.85, coverage[80]
    assert 0.93 <= np.mean(coverage[95]) <= 0.975, coverage[95]


def test_conformal_ranges_widen_beyond_the_calibrated_horizon():
    from juno_forecast.intervals import ConformalIntervals

    ci = ConformalIntervals(log=False).fit(_cv_frame(70, 0))
    yhat = pd.Series(1000.0, index=pd.date_range("2024-06-01", periods=28, freq="D"))
    out = ci.predict(yhat, np.arange(1, 29))
    width = (out["hi_95"] - out["lo_95"]).to_numpy()
    assert np.allclose(width[:7], width[0]), "flat within the 7 calibrated steps"
    assert width[27] == pytest.approx(width[0] * 2.0), "sqrt(28 / 7) = 2 times wider at step 28"
    assert (out["lo_95"] <= out["lo_80"]).all() and (out["hi_80"] <= out["hi_95"]).all()


def test_no_look_ahead_daily_auto_with_smoothing():
    """Daily auto (naive, ols and ets weighed by backtest): garbage after the cutoff changes nothing."""
    idx = pd.date_range("2024-01-01", periods=84, freq="D")
    rng = np.random.default_rng(4)
    weekly = np.array([1.0, 1.05, 1.1, 1.1, 1.25, 1.3, 0.8])[idx.day_of_week]
    y = 1000 * np.exp(0.01 * np.arange(84)) * weekly * rng.normal(1, 0.03, 84)
    daily = pd.DataFrame({"ds": idx, "zone": "A", "metric": "trips", "y": y})
    cutoff = pd.Timestamp("2024-03-10")
    before = forecast(daily, horizon="7D", cutoff=cutoff, model="auto", calendar="none")
    spoiled = daily.assign(y=np.where(daily["ds"] > cutoff, 1e7, daily["y"]))
    again = forecast(spoiled, horizon="7D", cutoff=cutoff, model="auto", calendar="none")
    pd.testing.assert_frame_equal(before, again)
    f = SeriesForecaster("auto", "none", "trips", {"zone": "A"}, "D").fit(
        daily.set_index("ds")["y"][:cutoff]
    )
    assert "ets" in f.model_.scores_ and abs(sum(f.model_.weights_.values()) - 1) < 1e-9


def test_a_ramadan_week_with_no_ramadan_in_history_dips_at_iftar_not_at_midday():
    """Drivers online in Queens (the sample), history from April 2025 (after Ramadan 2025) to
    17 Feb 2026; the week from 18 Feb 2026 is Ramadan. The shipped calendar's prior (-7%)
    applies from the hour holding sunset-1 to the one holding sunset+2 (16-19 in February),
    not at midday; the sample's own drivers dip (-20%, 17-20) is met better than without it."""
    sample = pd.read_parquet(REPO / "data" / "sample.parquet")
    y = sample[(sample["metric"] == "drivers_online") & (sample["borough"] == "Queens")]
    y = y.set_index("ds")["y"].astype(float)
    hist = y["2025-04-01":"2026-02-17 23:00"]
    idx = pd.date_range("2026-02-18", periods=7 * 24, freq="h")
    keys = {"borough": "Queens"}
    cal = Calendar.load()
    assert not cal.occurrences(hist.index[0], hist.index[-1]).query("name == 'Ramadan'").size
    with_cal = SeriesForecaster("naive", cal, "drivers_online", keys, "h").fit(hist).predict(idx)
    without = SeriesForecaster("naive", "none", "drivers_online", keys, "h").fit(hist).predict(idx)
    ratio = (with_cal["yhat"] / without["yhat"]).groupby(idx.hour).mean()
    iftar, midday = [16, 17, 18, 19], [11, 12, 13, 14]
    assert ratio[iftar].max() < 0.95 and ratio[iftar].min() > 0.85
    assert np.allclose(ratio[midday], 1.0)
    assert (with_cal.loc[idx.hour.isin(iftar), "events"] == "Ramadan").all()
    at = idx.hour.isin([17, 18, 19])
    errors = [(f["yhat"] - y.reindex(idx))[at].abs().mean() for f in (with_cal, without)]
    assert errors[0] < errors[1]


# -- silent or misleading results (issue 14) ----------------------------------------------


def test_a_cutoff_after_the_data_is_an_input_error(hourly):
    with pytest.raises(InputError) as err:
        forecast(hourly, cutoff="2030-01-01", model="naive", calendar="none")
    assert str(err.value) == (
        "--cutoff 2030-01-01 00:00:00 is after the data, which ends at 2024-02-18 23:00:00: the "
        "forecast would start there, not at the cutoff (leave --cutoff out to forecast from the end)"
    )


def test_a_series_ending_before_the_cutoff_is_forecast_from_its_end_with_a_warning():
    a = tidy_hourly("2024-01-01", "2024-02-18 23:00", zones=("A",))
    b = tidy_hourly("2024-01-01", "2024-02-16 23:00", zones=("B",))
    df = pd.concat([a, b], ignore_index=True)
    with pytest.warns(JunoWarning) as caught:
        out = forecast(df, horizon="1D", cutoff="2024-02-18 23:00", model="naive", calendar="none")
    assert [str(w.message) for w in caught if w.category is JunoWarning] == [
        "metric=trips zone=B: its data end at 2024-02-16 23:00:00, before --cutoff "
        "2024-02-18 23:00:00; its forecast starts after its last timestamp"
    ]
    assert out.groupby("zone")["ds"].min().to_dict() == {
        "A": pd.Timestamp("2024-02-19 00:00"),
        "B": pd.Timestamp("2024-02-17 00:00"),
    }


def test_every_series_skipped_is_an_error_listing_each_reason(hourly):
    with pytest.raises(NoSeriesError) as err:
        forecast(hourly, cutoff="2024-01-03", model="naive", calendar="none")
    assert err.value.errors == [
        "forecast: no series could be used (2 skipped)",
        "skipped: metric=trips zone=A: too short to forecast: 49 points, need at least 338 "
        "(two weeks of history)",
        "skipped: metric=trips zone=B: too short to forecast: 49 points, need at least 338 "
        "(two weeks of history)",
    ]


def test_a_constant_series_has_a_finite_backtest_mase():
    idx = pd.date_range("2024-01-01", periods=90, freq="D")
    flat = pd.DataFrame({"metric": "trips", "ds": idx, "y": 50.0})
    summary = backtest(flat, "2024-03-01", "2024-03-15", model="naive", calendar="none").summary
    assert summary.loc[0, "mase"] == 0.0  # the seasonal naive is exact: no error, not NaN
    off = flat.assign(y=np.where(idx >= "2024-03-01", 50.5, 50.0))
    one = backtest(off, "2024-03-01", "2024-03-01", model="naive", calendar="none").summary
    assert one.loc[0, "mase"] == pytest.approx(1.0)  # 1% of the level off: the floor's unit


def test_calendar_none_means_the_shipped_calendar_for_the_forecaster_too():
    idx = pd.date_range("2024-05-01", "2024-07-01", freq="D")
    y = pd.Series(100.0 + (idx.day_of_week == 5) * 10, index=idx)
    july = pd.date_range("2024-07-02", "2024-07-06", freq="D")
    shipped = SeriesForecaster("naive", None, "trips", freq="D").fit(y).predict(july)
    off = SeriesForecaster("naive", "none", "trips", freq="D").fit(y).predict(july)
    api = forecast(y.rename("y").rename_axis("ds").reset_index().assign(metric="trips"),
                   horizon="5D", model="naive")  # fmt: skip
    assert "Independence Day" in shipped.loc["2024-07-04", "events"]
    assert list(api["events"]) == list(shipped["events"]) and set(off["events"]) == {""}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": -3}, "--horizon: expected a positive number of steps or a duration"),
        ({"seed": "x"}, "--seed: expected a whole number, got 'x'"),
        ({"calendar": 5}, "calendar: expected a path, 'none' or a Calendar, got int"),
        ({"weather": 5}, "weather: expected a file path, got int"),
        ({"by": 5}, "--by: expected column names, e.g. ('zone',) or 'zone', got 5"),
        ({"min_length": "a"}, "min_length: expected a whole number of steps, got 'a'"),
        ({"bogus": 1}, "bogus: not a data argument; expected time_col, value_col"),
        ({"cutoff": [1]}, "--cutoff: expected a date or timestamp like 2015-02-01, got [1]"),
    ],
)
def test_wrong_argument_types_name_the_argument(hourly, kwargs, message):
    kw = {"model": "naive", "calendar": "none", **kwargs}
    with pytest.raises(InputError) as err:
        forecast(hourly, **kw)
    assert str(err.value).startswith(message)


def test_backtest_names_a_bad_start_and_a_model_that_is_no_model(hourly):
    with pytest.raises(InputError, match="--start: expected a date or timestamp"):
        backtest(hourly, "x", "2024-02-10", model="naive", calendar="none")
    with pytest.raises(InputError, match="--model: expected a model name or an object with fit"):
        backtest(hourly, "2024-02-01", "2024-02-10", model=[3], calendar="none")


def test_a_horizon_the_history_cannot_hold_is_a_series_error_naming_both() -> None:
    """Issue 14: a horizon as long as the history was an IndexError deep in the backtest."""
    from juno_forecast.errors import SeriesError
    from juno_forecast.forecast import SeriesForecaster

    idx = pd.date_range("2015-01-01", periods=16, freq="D")
    y = pd.Series(1000.0 + 100 * (idx.day_of_week >= 5), index=idx)
    with pytest.raises(SeriesError) as info:
        SeriesForecaster("naive", "none", "trips", {}, "D", horizon=16).fit(y)
    assert str(info.value) == (
        "metric=trips: too short for a horizon of 16 days: 16 days of history, at least 18 "
        "needed (the horizon plus 2 days, to calibrate the ranges)"
    )
    with pytest.raises(SeriesError) as info:  # ets cannot fit the 2 days before its fold
        SeriesForecaster("ets", "none", "trips", {}, "D", horizon=14).fit(y)
    assert str(info.value).startswith(
        "metric=trips: too short for the model ets with this horizon: ets needs at least"
    )
    SeriesForecaster("naive", "none", "trips", {}, "D", horizon=14).fit(y)  # 2 days: enough
