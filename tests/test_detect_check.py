"""The release check: it never passes a series it could not judge, and inside its one range
it is finer than detect's scan of months (a 2-hour outage fails it; a quiet range passes)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.cli import main
from juno_forecast.detect import build_incidents, check, detect, flag_points
from juno_forecast.detect.flagging import window_threshold

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample.parquet"


def two_zones(weeks: int = 5, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2015-10-05", periods=weeks * 7 * 24, freq="h")
    shape = 1.0 + 0.8 * np.sin((ds.hour.to_numpy() - 9) / 24 * 2 * np.pi)
    return pd.concat(
        [
            pd.DataFrame({"zone": z, "metric": "trips", "ds": ds, "y": rng.poisson(lam * shape)})
            for z, lam in (("Manhattan", 400), ("Bronx", 120))
        ],
        ignore_index=True,
    ).astype({"y": float})


def test_a_series_dropped_over_one_bad_value_fails_the_check(tmp_path, capsys):
    df = two_zones()
    df.loc[(df["zone"] == "Bronx") & (df["ds"] == "2015-10-12 03:00"), "y"] = np.inf
    path = tmp_path / "trips.csv"
    df.to_csv(path, index=False)
    res = check(str(path), "2015-11-07", by=["zone"], calendar="none")
    verdicts = res.verdicts.set_index("series")["verdict"]
    assert verdicts["metric=trips zone=Manhattan"] == "ok"
    assert verdicts["metric=trips zone=Bronx"] == "NOT CHECKED"
    assert res.exit_code == 1
    argv = ["check", str(path), "--by", "zone", "--since", "2015-11-07", "--calendar", "none"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out = capsys.readouterr().out
    assert exc.value.code == 1
    bronx = next(line for line in out.splitlines() if "zone=Bronx" in line)
    assert bronx.startswith("NOT CHECKED") and "column 'y'" in bronx and "inf" in bronx
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--format", "csv"])
    table = pd.read_csv(io.StringIO(capsys.readouterr().out), keep_default_na=False)
    assert exc.value.code == 1
    assert set(table["verdict"]) == {"ok", "NOT CHECKED"}  # the skipped series is in the table


def test_a_clean_release_passes(capsys):
    res = check(two_zones(), "2015-11-07", by=["zone"], calendar="none")
    assert res.exit_code == 0 and set(res.verdicts["verdict"]) == {"ok"}


def brooklyn_trips(outage: tuple[str, str] | None = None) -> pd.DataFrame:
    """The sample's hourly Brooklyn trips, halved over ``outage`` (first, last hour)."""
    df = pd.read_parquet(SAMPLE)
    df = df[(df["metric"] == "trips") & (df["borough"] == "Brooklyn")].astype({"y": float})
    if outage:
        df.loc[df["ds"].between(*outage), "y"] *= 0.5
    return df.reset_index(drop=True)


def test_a_two_hour_outage_fails_the_check_that_detect_lets_pass(tmp_path, capsys):
    df = brooklyn_trips(("2026-04-15 10:00", "2026-04-15 11:00"))  # a Wednesday, no event
    since, until = "2026-04-15 10:00", "2026-04-15 13:00"
    # detect scans months: 2 hours are below its 3-hour runs and its window test
    assert detect(df, since, until, by=["borough"]).empty
    res = check(df, since, until, by=["borough"])
    assert res.exit_code == 1
    row = res.verdicts.iloc[0]
    assert row["verdict"] == "UNEXPLAINED deviation" and row["unexplained"] == 1
    inc = res.incidents.iloc[0]
    assert inc["start"] == pd.Timestamp(since) and inc["end"] == pd.Timestamp("2026-04-15 11:00")
    assert inc["direction"] == "below" and -55 < inc["deviation_pct"] < -40
    path = tmp_path / "broken.parquet"
    df.to_parquet(path)
    with pytest.raises(SystemExit) as exc:
        main(["check", str(path), "--by", "borough", "--since", since, "--until", until])
    assert exc.value.code == 1
    assert capsys.readouterr().out.startswith(
        "UNEXPLAINED deviation  metric=trips borough=Brooklyn"
    )


@pytest.mark.parametrize("day", ["2026-04-15", "2026-05-13", "2026-06-10"])
def test_the_same_range_without_an_outage_passes(day):
    res = check(brooklyn_trips(), f"{day} 10:00", f"{day} 13:00", by=["borough"])
    assert res.exit_code == 0 and list(res.verdicts["verdict"]) == ["ok"]
    assert res.incidents.empty


def test_the_check_window_threshold_rises_to_the_scan_with_the_range():
    assert window_threshold(0.95) == pytest.approx(4.0)  # detect's scan
    assert window_threshold(0.95, 2) == pytest.approx(1.96, abs=0.01)  # one 2-hour window
    assert window_threshold(0.95, 8) == pytest.approx(3.04, abs=0.01)  # 7+6+5+3 windows
    assert window_threshold(0.95, 24) == pytest.approx(3.44, abs=0.01)
    assert window_threshold(0.95, 24 * 30) == pytest.approx(4.0)  # a month: the scan's
    assert window_threshold(0.8, 8) < window_threshold(0.95, 8) < window_threshold(0.99, 8)


def band_points(hours: int, drop: float) -> pd.DataFrame:
    """``hours`` hours expecting 500 with a +-25% 95% band, hours 1-2 at ``1 - drop``."""
    idx = pd.date_range("2015-03-04", periods=hours, freq="h")
    pts = pd.DataFrame({"actual": 500.0, "yhat": 500.0, "lo_95": 375.0, "hi_95": 625.0}, idx)
    pts[["lo_80", "hi_80"]] = [[410.0, 590.0]] * hours
    pts[["wscale_2", "wscale_3", "wscale_4", "wscale_6"]] = 1.3
    pts.iloc[1:3, 0] = 500.0 * (1 - drop)
    return pts


def test_two_hours_count_in_a_short_range_only_when_their_window_passes():
    def incidents(pts: pd.DataFrame, **check: int) -> pd.DataFrame:
        flagged = flag_points(pts, 0.95, "h", range_hours=check.get("range_hours"))
        return build_incidents(
            flagged, "trips", min_points=3, **{"window_points": 2} if check else {}
        )

    outage = band_points(4, 0.5)  # -50% for 2 hours of a 4-hour range
    assert incidents(outage).empty  # detect: too short, not extreme
    found = incidents(outage, range_hours=4)
    assert len(found) == 1 and found.iloc[0]["deviation_pct"] == -50.0
    assert found.iloc[0]["start"] == outage.index[1] and found.iloc[0]["end"] == outage.index[2]
    # two hours beyond their band (-35%): an incident in a 4-hour range, but such pairs are
    # common over a whole day, whose 80 windows ask for more
    assert len(incidents(band_points(4, 0.35), range_hours=4)) == 1
    day = band_points(24, 0.35)
    assert (day["actual"] < day["lo_95"]).sum() == 2
    assert incidents(day, range_hours=24).empty
