"""detect / check / expect on small synthetic hourly series with injected shocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.cli import main
from juno_forecast.dayoff import day_profiles
from juno_forecast.detect import (
    RobustBaseline,
    build_incidents,
    check,
    detect,
    explain,
    find_runs,
    flag_points,
    rolling_expectation,
    run_detection,
)
from juno_forecast.expect import expect

CAL_YAML = """
events:
  - name: Test parade
    category: event
    date: {day}
    zones: [Manhattan]
    effect: {{trips: -0.4}}
  - name: Evening concert
    category: event
    date: {other}
    hours: [19, 20, 21]
"""


def hourly_frame(
    start: str = "2015-10-05", weeks: int = 5, zones=("Manhattan", "Bronx"), seed: int = 0
) -> pd.DataFrame:
    """Tidy hourly trips with a daily and weekly cycle and Poisson noise (naive NY wall-clock)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, periods=weeks * 7 * 24, freq="h")
    hour, dow = ds.hour.to_numpy(), ds.day_of_week.to_numpy()
    shape = 1.0 + 0.8 * np.sin((hour - 9) / 24 * 2 * np.pi) + 0.25 * (dow >= 4)
    frames = []
    for i, z in enumerate(zones):
        lam = (400 if i == 0 else 120) * shape
        frames.append(
            pd.DataFrame(
                {"zone": z, "metric": "trips", "ds": ds, "y": rng.poisson(lam).astype(float)}
            )
        )
    return pd.concat(frames, ignore_index=True)


def shock(df: pd.DataFrame, zone: str, start: str, hours: int, factor: float) -> pd.DataFrame:
    out = df.copy()
    t0 = pd.Timestamp(start)
    m = (out["zone"] == zone) & (out["ds"] >= t0) & (out["ds"] < t0 + pd.Timedelta(hours=hours))
    out.loc[m, "y"] = np.round(out.loc[m, "y"] * factor)
    return out


@pytest.fixture
def calendar_file(tmp_path):
    path = tmp_path / "cal.yaml"
    path.write_text(CAL_YAML.format(day="2015-11-04", other="2015-11-05"))
    return str(path)


def _run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code), out.out, out.err


def _write(df: pd.DataFrame, tmp_path, name: str = "trips.csv") -> str:
    path = tmp_path / name
    df.to_csv(path, index=False)
    return str(path)


# ------------------------------------------------------------------- unit pieces


def _band_points(
    n: int = 48, yhat: float = 50.0, rel: float = 0.4, wscale: float | None = 1.0
) -> pd.DataFrame:
    """Constant expectation with a +-``rel`` 95% band (80%: half as wide), as a model gives it;
    ``wscale``: the window scale of each window length (None: a model that calibrates none)."""
    idx = pd.date_range("2015-03-02", periods=n, freq="h")
    half = yhat * rel
    pts = pd.DataFrame(
        {
            "actual": yhat,
            "yhat": yhat,
            "lo_80": yhat - half / 2,
            "hi_80": yhat + half / 2,
            "lo_95": yhat - half,
            "hi_95": yhat + half,
        },
        index=idx,
    )
    if wscale is not None:
        for k in (3, 4, 6):
            pts[f"wscale_{k}"] = wscale
    return pts


def test_runs_bridge_one_gap_and_split_directions():
    flags = np.array([1, 1, 0, 1, 0, 0, 1, 1], dtype=bool)
    direction = np.array(["below", "below", "", "below", "", "", "above", "above"])
    assert find_runs(flags, direction, max_gap=1) == [(0, 3), (6, 7)]
    assert find_runs(flags, direction, max_gap=0) == [(0, 1), (3, 3), (6, 7)]


def test_severity_grows_with_size_and_duration():
    pts = _band_points(yhat=100.0, rel=0.2, wscale=None)  # 95%: 80-120, 80%: 90-110
    idx = pts.index
    pts.iloc[2:5, 0] = 50.0  # 3 hours at -50%
    pts.iloc[10:13, 0] = 20.0  # 3 hours at -80%: larger
    pts.iloc[20:28, 0] = 50.0  # 8 hours at -50%: longer
    inc = build_incidents(flag_points(pts, 0.95, "h"), "trips", min_points=3)
    sev = dict(zip(inc["start"].dt.hour.tolist(), inc["severity"], strict=True))
    assert len(inc) == 3
    assert sev[10] > sev[2] and sev[20] > sev[2]
    assert inc.loc[inc["start"] == idx[10], "deviation_pct"].iloc[0] == pytest.approx(-80.0)
    assert set(inc["direction"]) == {"below"}


SCOPE_YAML = """
events:
  - name: Storm
    category: weather
    date: 2015-03-02
    effect: {trips: -0.3}
  - name: Evening only
    category: event
    date: 2015-03-02
    hours: [19, 20]
    effect: {trips: -0.5}
  - name: Manhattan only
    category: event
    date: 2015-03-02
    zones: [Manhattan]
    effect: {trips: -0.8}
  - name: Drivers only
    category: event
    date: 2015-03-02
    metrics: [drivers_online]
    effect: {drivers_online: -0.8}
"""


def test_explanation_respects_hours_zone_and_metric_and_says_what_fell_short(tmp_path):
    pts = _band_points(yhat=100.0, rel=0.2, wscale=None)  # 95%: 80-120, 80%: 90-110
    pts.iloc[8:12, 0] = 20.0  # 08:00-11:00 on 2 March, -80%
    flagged = flag_points(pts, 0.95, "h")
    inc = build_incidents(flagged, "trips", {"zone": "Bronx"}, min_points=3)
    path = tmp_path / "cal.yaml"
    path.write_text(SCOPE_YAML)
    occ = Calendar.load(path).occurrences("2015-03-02", "2015-03-02")
    out = explain(inc, occ, {"zone": "Bronx"}, "h", flagged)
    row = out.iloc[0]
    assert row["explained_by"] == "Storm"  # not the evening, Manhattan or drivers events
    assert row["explanation"] == "partly"
    assert row["note"].startswith("Storm: expected -30% (-54% to -6%); actual -80%: partly")


# ------------------------------------------------------------------- end to end


def test_shock_on_ordinary_date_is_unexplained_and_check_exits_1(tmp_path, calendar_file, capsys):
    df = shock(hourly_frame(), "Manhattan", "2015-11-03 09:00", 5, 0.4)
    inc = detect(df, "2015-11-02", "2015-11-08", calendar=calendar_file, by=["zone"])
    hit = inc[
        (inc["zone"] == "Manhattan")
        & (inc["start"] <= "2015-11-03 13:00")
        & (inc["end"] >= "2015-11-03 09:00")
    ]
    assert len(hit) == 1
    row = hit.iloc[0]
    assert row["direction"] == "below" and row["explained_by"] == ""
    assert -70 < row["deviation_pct"] < -45
    assert inc.index[inc["start"] == row["start"]][0] == 0  # unexplained and most severe: first
    path = _write(df, tmp_path)
    code, out, _ = _run_cli(
        [
            "check",
            path,
            "--by",
            "zone",
            "--since",
            "2015-11-03",
            "--until",
            "2015-11-03 23:00",
            "--calendar",
            calendar_file,
        ],
        capsys,
    )
    assert code == 1
    assert "UNEXPLAINED deviation  metric=trips zone=Manhattan" in out


def test_shock_on_event_date_is_explained_and_check_exits_0(tmp_path, calendar_file, capsys):
    df = shock(hourly_frame(), "Manhattan", "2015-11-04 09:00", 5, 0.4)
    inc = detect(df, "2015-11-02", "2015-11-08", calendar=calendar_file, by=["zone"])
    hit = inc[
        (inc["zone"] == "Manhattan") & (inc["start"].dt.date == pd.Timestamp("2015-11-04").date())
    ]
    assert len(hit) == 1 and hit.iloc[0]["explained_by"] == "Test parade"
    assert hit.iloc[0]["explanation"] == "explained"  # -60% against the parade's -40% +- 16%
    res = check(df, "2015-11-04", "2015-11-04 23:00", calendar=calendar_file, by=["zone"])
    verdict = res.verdicts.set_index("zone")["verdict"]
    assert verdict["Manhattan"] == "explained deviation"
    path = _write(df, tmp_path)
    code, out, _ = _run_cli(
        [
            "check",
            path,
            "--by",
            "zone",
            "--since",
            "2015-11-04",
            "--until",
            "2015-11-04 23:00",
            "--calendar",
            calendar_file,
            "--format",
            "json",
        ],
        capsys,
    )
    assert code == 0
    assert '"verdict": "explained deviation"' in out and "Test parade" in out


def test_shock_in_other_zone_is_not_explained_by_scoped_event(calendar_file):
    df = shock(hourly_frame(), "Bronx", "2015-11-04 09:00", 5, 0.3)
    inc = detect(df, "2015-11-04", "2015-11-04", calendar=calendar_file, by=["zone"])
    bronx = inc[inc["zone"] == "Bronx"]
    assert len(bronx) == 1 and bronx.iloc[0]["explained_by"] == ""


def test_event_hours_limit_explanation(calendar_file):
    # a morning shock on the evening-concert day is not explained by the concert
    df = shock(hourly_frame(), "Bronx", "2015-11-05 08:00", 4, 0.3)
    inc = detect(df, "2015-11-05", "2015-11-05", calendar=calendar_file, by=["zone"])
    assert len(inc) == 1 and inc.iloc[0]["explained_by"] == ""
    df = shock(hourly_frame(), "Bronx", "2015-11-05 18:00", 4, 0.3)
    inc = detect(df, "2015-11-05", "2015-11-05", calendar=calendar_file, by=["zone"])
    assert len(inc) == 1 and inc.iloc[0]["explained_by"] == "Evening concert"
    # overlap alone explains nothing: the concert has no known effect on trips
    assert inc.iloc[0]["explanation"] == "unexplained"
    assert inc.iloc[0]["note"].startswith("Evening concert: no expected effect on trips; actual -")


def test_no_look_ahead():
    y = hourly_frame(zones=("Manhattan",)).set_index("ds")["y"].asfreq("h")
    start, end = pd.Timestamp("2015-11-02"), pd.Timestamp("2015-11-05 23:00")
    clean = rolling_expectation(y, start, end, lambda: RobustBaseline("h"))
    for day in pd.date_range(start, end.normalize(), freq="D"):
        garbage = y.copy()
        after = garbage.index >= day + pd.Timedelta(days=1)
        garbage[after] = np.random.default_rng(1).uniform(0, 1e6, after.sum())
        got = rolling_expectation(garbage, start, end, lambda: RobustBaseline("h"))
        sel = clean.index.normalize() == day
        pd.testing.assert_frame_equal(
            got.loc[sel, ["yhat", "lo_95", "hi_95"]], clean.loc[sel, ["yhat", "lo_95", "hi_95"]]
        )
        later = clean.index >= day + pd.Timedelta(days=1)
        assert (got.loc[later, "actual"] != clean.loc[later, "actual"]).all()
    # the same garbage in the weeks *before* a day does move it: the test can fail
    garbage = y.copy()
    before = (garbage.index >= start - pd.Timedelta(days=15)) & (garbage.index < start)
    garbage[before] = garbage[before] * 3
    got = rolling_expectation(garbage, start, end, lambda: RobustBaseline("h"))
    assert not np.allclose(got["yhat"], clean["yhat"])


def test_dst_days_and_a_missing_hour_are_not_incidents(tmp_path):
    # fall back 2015-11-01: 01:00 appears twice; spring forward 2016-03-13: 02:00 absent
    fall = hourly_frame("2015-09-07", weeks=9, zones=("Manhattan",))
    fall = pd.concat([fall, fall[fall["ds"] == "2015-11-01 01:00"]], ignore_index=True)
    spring = hourly_frame("2016-01-11", weeks=10, zones=("Manhattan",), seed=3)
    spring = spring[spring["ds"] != "2016-03-13 02:00"]
    for df, day in ((fall, "2015-11-01"), (spring, "2016-03-13")):
        path = _write(df, tmp_path)
        inc = detect(path, day, day, calendar="none", by=["zone"], freq="h")
        assert inc.empty, inc
        week_before = str((pd.Timestamp(day) - pd.Timedelta(days=6)).date())
        inc = detect(path, week_before, day, calendar="none", by=["zone"], freq="D")
        # 25- and 23-hour days: band widened by the hour (an ordinary day of the week
        # before may still be one of the band's 5% false alarms: only the change day counts)
        assert not (inc["start"] == pd.Timestamp(day)).any(), inc
    # one hour missing inside an hourly series of counts
    gap = hourly_frame("2015-09-07", weeks=9, zones=("Manhattan",))
    path = _write(gap[gap["ds"] != "2015-10-30 15:00"], tmp_path)
    assert detect(path, "2015-10-30", "2015-10-30", calendar="none", by=["zone"], freq="h").empty
    # ...while a real three-hour drop the same day is found
    path = _write(shock(gap, "Manhattan", "2015-10-30 14:00", 3, 0.4), tmp_path)
    assert (
        len(detect(path, "2015-10-30", "2015-10-30", calendar="none", by=["zone"], freq="h")) == 1
    )


def test_expect_carries_events_and_ranges(calendar_file):
    df = hourly_frame()
    out = expect(
        df, "2015-11-04", "2015-11-05 23:00", model="naive", calendar=calendar_file, by=["zone"]
    )
    assert len(out) == 2 * 48
    assert (out["lo_95"] <= out["yhat"]).all() and (out["yhat"] <= out["hi_95"]).all()
    man = out[out["zone"] == "Manhattan"].set_index("ds")
    assert "Test parade" in man.loc["2015-11-04 10:00", "events"]
    assert "Test parade" not in out[out["zone"] == "Bronx"]["events"].str.cat()
    base = expect(
        df, "2015-11-04", "2015-11-04 23:00", model="baseline", calendar=calendar_file, by=["zone"]
    )
    assert base[base["zone"] == "Manhattan"]["events"].str.contains("Test parade").all()


def test_detect_with_a_forecasting_model_finds_the_shock(calendar_file):
    df = shock(hourly_frame(), "Manhattan", "2015-11-04 09:00", 5, 0.4)
    inc = detect(df, "2015-11-04", "2015-11-04", model="naive", calendar=calendar_file, by=["zone"])
    man = inc[inc["zone"] == "Manhattan"]
    assert len(man) >= 1 and man.iloc[0]["explained_by"] == "Test parade"
    assert (man["start"] <= pd.Timestamp("2015-11-04 13:00")).all()


# ------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["detect", "{data}", "--start", "2015-02-30", "--end", "2015-11-05"], "--start"),
        (["detect", "{data}", "--start", "2015-11-06", "--end", "2015-11-05"], "after --end"),
        (["detect", "{missing}", "--start", "2015-11-04", "--end", "2015-11-05"], "no such file"),
        (
            [
                "detect",
                "{data}",
                "--start",
                "2015-11-04",
                "--end",
                "2015-11-05",
                "--model",
                "magic",
            ],
            "unknown model",
        ),
        (
            ["detect", "{data}", "--start", "2015-11-04", "--end", "2015-11-05", "--level", "1.5"],
            "--level",
        ),
        (["check", "{data}", "--since", "2031-01-01"], "after the last timestamp"),
        (
            ["detect", "{data}", "--start", "2031-01-01", "--end", "2031-01-02"],
            "after the last timestamp",
        ),
        (
            ["detect", "{data}", "--start", "2015-10-06", "--end", "2015-10-08"],
            "two weeks of history",
        ),
        (["check", "{data}", "--since", "yesterday-ish"], "--since"),
        (["expect", "{data}", "--start", "2015-11-10", "--end", "2015-11-09"], "after --end"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, needle):
    data = _write(hourly_frame(weeks=3, zones=("Bronx",)), tmp_path)
    args = [a.format(data=data, missing=str(tmp_path / "nope.csv")) for a in argv]
    code, out, err = _run_cli([*args, "--by", "zone", "--calendar", "none"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err


def test_real_blizzard_flagged_without_calendar_and_explained_with_it(shared_data):
    path = str(shared_data / "uber_nyc_enriched.csv")
    kw = dict(time_col="pickup_dt", value_col="pickups", metric="trips", by=["borough"])
    off = detect(path, "2015-01-26", "2015-01-27", calendar="none", **kw)
    on = detect(path, "2015-01-26", "2015-01-27", **kw)
    for inc in (off, on):
        man = inc[(inc["borough"] == "Manhattan") & (inc["direction"] == "below")]
        assert len(man) >= 1 and man["deviation_pct"].min() < -50
    assert (off["explained_by"] == "").all() and (off["explanation"] == "unexplained").all()
    man_on = on[(on["borough"] == "Manhattan") & (on["direction"] == "below")]
    assert man_on["explained_by"].str.contains("Blizzard of January 2015").all()
    # the curated -50%/-95%/-50% of the storm's evening, ban and day after hold the -71%
    assert (man_on["explanation"] == "explained").all()
    assert "Blizzard of January 2015 (travel ban): expected -5" in man_on.iloc[0]["note"]


# ------------------------------------------------------------------- window test, nights, DST


def test_window_test_finds_a_sustained_drop_inside_every_hourly_band():
    pts = _band_points()
    pts.iloc[10:16, 0] = 32.0  # 6 hours at -36%: each hour inside its -40% band
    assert (pts["actual"].iloc[10:16] > pts["lo_95"].iloc[10:16]).all()
    inc = build_incidents(flag_points(pts, 0.95, "h"), "trips", min_points=3)
    assert len(inc) == 1
    row = inc.iloc[0]
    assert row["direction"] == "below" and row["severity"] > 0
    assert row["start"] == pts.index[10] and row["end"] == pts.index[15]
    assert row["deviation_pct"] == pytest.approx(-36.0)
    # a stricter level asks for a stronger window too
    assert not flag_points(pts, 0.99, "h")["flag"].any()
    # the same drop for one hour, or for three (too short to be sure), is not flagged
    for hours in (1, 3):
        short = _band_points()
        short.iloc[10 : 10 + hours, 0] = 32.0
        assert not flag_points(short, 0.95, "h")["flag"].any()


def test_window_test_uses_the_series_window_scale():
    pts = _band_points()
    pts.iloc[10:16, 0] = 32.0
    assert flag_points(pts, 0.95, "h")["flag"].sum() == 6
    # errors of neighbouring hours that usually move together: the same run is ordinary
    correlated = pts.assign(wscale_3=2.0, wscale_4=2.0, wscale_6=2.0)
    assert not flag_points(correlated, 0.95, "h")["flag"].any()
    # a model that calibrates no window scale gets the conservative default (1.5)
    plain = pts.drop(columns=["wscale_3", "wscale_4", "wscale_6"])
    assert not flag_points(plain, 0.95, "h")["flag"].any()


def test_quiet_hours_next_to_a_strong_shock_do_not_join_it():
    pts = _band_points(yhat=500.0, rel=0.15)
    pts.iloc[10:15, 0] = 200.0  # a 5-hour -60% shock
    pts.iloc[15:18, 0] = 480.0  # then three slightly low, ordinary hours
    inc = build_incidents(flag_points(pts, 0.95, "h"), "trips", min_points=3)
    assert len(inc) == 1
    assert inc.iloc[0]["end"] == pts.index[14] and inc.iloc[0]["deviation_pct"] == -60.0


def small_zone(seed: int = 4, weeks: int = 7) -> pd.DataFrame:
    """A small zone: about 45 trips an hour by day, Poisson noise (30% is within its noise)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2015-09-07", periods=weeks * 7 * 24, freq="h")
    hour = ds.hour.to_numpy()
    lam = 8 + 40 * np.exp(-((hour - 13) ** 2) / 18)
    return pd.DataFrame({"zone": "Bronx", "metric": "trips", "ds": ds, "y": rng.poisson(lam)})


def test_three_hour_drop_in_a_small_zone_found_where_hourly_bands_miss_it():
    df = shock(small_zone(seed=6), "Bronx", "2015-10-21 12:00", 3, 0.65)  # -35% for 3 hours
    res = run_detection(df, "2015-10-19", "2015-10-25", calendar="none", by=["zone"])
    pts = res.series["metric=trips zone=Bronx"].points
    shocked = pts.loc["2015-10-21 12:00":"2015-10-21 14:00"]
    assert (shocked["actual"] < shocked["lo"]).sum() == 2  # too few for an incident alone
    assert shocked["flag"].all()  # the 3-hour window flags all three
    inc = res.incidents
    assert len(inc) == 1  # and nothing else that week
    assert inc.iloc[0]["direction"] == "below"
    assert inc.iloc[0]["start"] == pd.Timestamp("2015-10-21 12:00")


def test_a_one_hour_night_blip_is_not_an_incident():
    df = small_zone()
    t = pd.Timestamp("2015-10-22 03:00")
    df.loc[df["ds"] == t, "y"] = np.round(df.loc[df["ds"] == t, "y"] * 1.8)  # +80% at 3 am
    inc = detect(df, "2015-10-22", "2015-10-22", calendar="none", by=["zone"])
    assert inc.empty


def test_baseline_night_ranges_follow_noisier_nights():
    rng = np.random.default_rng(1)
    ds = pd.date_range("2015-03-02", periods=10 * 7 * 24, freq="h")
    night = np.asarray(ds.hour < 5)
    noise = rng.normal(0, np.where(night, 0.35, 0.04))
    y = pd.Series(1000 * np.exp(noise), index=ds)
    model = RobustBaseline("h").fit(y)
    assert model.c2_[2] > 10 * model.c2_[13]  # 2 am vs 1 pm: the variance of that hour
    nxt = pd.date_range(ds[-1] + pd.Timedelta(hours=1), periods=24, freq="h")
    pred = model.predict_ranges(nxt)
    width = (pred["hi_95"] - pred["lo_95"]) / pred["yhat"]
    assert width.iloc[2] > 2.5 * width.iloc[13]


def test_spring_forward_night_shift_is_not_an_incident():
    # on 2016-03-13 the wall clock jumps from 2 to 3 am: the hours after it carry the
    # night's tail an hour late (here +60% from 3 to 6 am), which is no incident
    df = hourly_frame("2016-01-11", weeks=10, zones=("Manhattan",), seed=3)
    df = df[df["ds"] != "2016-03-13 02:00"]
    m = (df["ds"] >= "2016-03-13 03:00") & (df["ds"] <= "2016-03-13 06:00")
    df.loc[m, "y"] = np.round(df.loc[m, "y"] * 1.6)
    assert detect(df, "2016-03-13", "2016-03-13", calendar="none", by=["zone"]).empty
    # the same shift a week later is flagged
    later = hourly_frame("2016-01-11", weeks=10, zones=("Manhattan",), seed=3)
    m = (later["ds"] >= "2016-03-06 03:00") & (later["ds"] <= "2016-03-06 06:00")
    later.loc[m, "y"] = np.round(later.loc[m, "y"] * 1.6)
    assert len(detect(later, "2016-03-06", "2016-03-06", calendar="none", by=["zone"])) == 1


def test_real_rainy_day_explained_by_observed_weather(shared_data):
    # 2015-04-20: 0.9 in of rain; Brooklyn's pickups ran well above a normal Monday
    path = str(shared_data / "uber_nyc_enriched.csv")
    kw = dict(time_col="pickup_dt", value_col="pickups", metric="trips", by=["borough"])
    kw["freq"] = "D"
    plain = detect(path, "2015-04-20", "2015-04-20", **kw)
    rainy = detect(path, "2015-04-20", "2015-04-20", weather=path, **kw)
    bk = lambda d: d[(d["borough"] == "Brooklyn") & (d["direction"] == "above")]  # noqa: E731
    assert len(bk(plain)) == 1 and bk(plain).iloc[0]["explained_by"] == ""
    row = bk(rainy).iloc[0]
    assert row["explained_by"] == "Heavy rain (observed)"
    assert row["deviation_pct"] > 20  # rain raises demand, here more than its +10% prior
    # the prior, updated by the one earlier heavy-rain day, with its spread holds it
    assert row["explanation"] == "explained"
    assert "Heavy rain (observed): expected +" in row["note"]
    assert bk(plain).iloc[0]["explanation"] == "unexplained"


def test_weeks_after_christmas_are_judged_by_normal_weeks():
    # Christmas and New Year weeks 40% low: two of the four weeks before mid-January;
    # the 8-week median profile still expects a normal Thursday on 21 January
    df = hourly_frame("2015-10-26", weeks=13, zones=("Manhattan",), seed=5)
    low = (df["ds"] >= "2015-12-24") & (df["ds"] < "2016-01-02")
    df.loc[low, "y"] = np.round(df.loc[low, "y"] * 0.6)
    res = run_detection(df, "2016-01-21", "2016-01-21", calendar="none", by=["zone"])
    pts = res.series["metric=trips zone=Manhattan"].points
    assert abs(pts["actual"].sum() / pts["expected"].sum() - 1) < 0.05
    assert res.incidents.empty


@pytest.mark.parametrize("freq", ["D", "h"])
def test_a_series_that_doubles_and_stays_doubled_is_flagged_for_at_most_2_days(freq):
    # a new base taking off, or a lasting step: followed within days, not flagged for weeks
    df = hourly_frame("2015-09-07", weeks=12, zones=("Manhattan",), seed=3)
    df.loc[df["ds"] >= "2015-11-02", "y"] *= 2
    inc = detect(df, "2015-11-02", "2015-11-29", calendar="none", by=["zone"], freq=freq)
    step = inc[(inc["direction"] == "above") & (inc["deviation_pct"] > 30)]
    flagged_days = set()
    for _, row in step.iterrows():
        flagged_days |= set(pd.date_range(row["start"].normalize(), row["end"].normalize()))
    assert pd.Timestamp("2015-11-02") in flagged_days  # the step itself is seen
    assert len(flagged_days) <= 2, sorted(flagged_days)
    # what else is flagged is the band's ordinary false-alarm rate, a few points off
    assert (inc.drop(step.index)["deviation_pct"].abs() < 15).all()


def test_day_profiles_are_the_days_with_all_their_hours():
    """A day off's shape is measured on the series' complete days: each day with all 24
    hours, as grouping by day and hour gives them; a day with a missing or absent hour is
    left out."""
    idx = pd.date_range("2025-07-01", "2025-08-31 23:00", freq="h")
    y = pd.Series(np.random.default_rng(2).poisson(40, len(idx)).astype(float), index=idx)
    y.loc["2025-07-09 03:00"] = np.nan
    y = y.drop(pd.date_range("2025-07-20 05:00", periods=3, freq="h"))  # absent hours
    got = day_profiles(y)
    want = y.groupby([y.index.normalize(), y.index.hour]).mean().unstack().dropna()
    assert list(got) == list(want.index) and len(got) == 62 - 2
    assert pd.Timestamp("2025-07-09") not in got and pd.Timestamp("2025-07-20") not in got
    for day, row in want.iterrows():
        np.testing.assert_array_equal(got[day], row.to_numpy())
