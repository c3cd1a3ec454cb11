"""Incident impact: counterfactual totals with ranges, the summary, the plot and the CLI.

Synthetic hourly series (five weeks of a daily and weekly cycle with Poisson
noise) keep these tests fast and their truth known: a loss injected into them
must be recovered within its range, an untouched window must report a range
that includes zero, and a calendar event with a curated effect must lower the
counterfactual of its day.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.cli import main
from juno_forecast.impact import ImpactResult, impact, impact_summary_markdown, run_impact
from juno_forecast.impact.counterfactual import level_ratio, reference_positions
from juno_forecast.impact.ranges import cumulative_ranges
from juno_forecast.intervals import conformal_quantile

START = pd.Timestamp("2024-01-29 00:00")  # a Monday, 5 weeks into the history
WINDOW = (pd.Timestamp("2024-02-07 09:00"), pd.Timestamp("2024-02-07 20:00"))  # 12 h, Wednesday


def synthetic(seed: int = 0, weeks: int = 6, zones: tuple[str, ...] = ("North",)) -> pd.DataFrame:
    """Tidy hourly trips per zone: daily and weekly cycles, Poisson noise, no trend."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=weeks * 168, freq="h")
    hour, dow = ds.hour.to_numpy(), ds.day_of_week.to_numpy()
    daily = 1.0 + 0.8 * np.sin((hour - 9) / 24 * 2 * np.pi) + 0.4 * np.exp(-((hour - 18) ** 2) / 4)
    weekly = np.where(dow >= 5, 0.8, 1.0)
    frames = []
    for i, zone in enumerate(zones):
        lam = (300.0 + 100 * i) * np.clip(daily, 0.1, None) * weekly
        frames.append(
            pd.DataFrame(
                {"zone": zone, "metric": "trips", "ds": ds, "y": rng.poisson(lam).astype(float)}
            )
        )
    return pd.concat(frames, ignore_index=True)


def inject(
    df: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, depth: float, zone: str | None = None
) -> tuple[pd.DataFrame, float]:
    """Cut ``depth`` of the values in ``[start, end]`` (one zone or all); returns the lost amount."""
    out = df.copy()
    mask = (out["ds"] >= start) & (out["ds"] <= end)
    if zone is not None:
        mask &= out["zone"] == zone
    lost = float((out.loc[mask, "y"] * depth).sum())
    out.loc[mask, "y"] = out.loc[mask, "y"] * (1 - depth)
    return out, lost


@pytest.fixture(scope="module")
def base() -> pd.DataFrame:
    return synthetic()


# --------------------------------------------------------------------------- maths


def test_conformal_quantile_has_the_finite_sample_correction() -> None:
    errors = np.arange(1, 41) / 100.0  # 40 errors: 0.01 .. 0.40
    exact = {"interpolate": False}  # impact's ranges: the order statistic itself
    assert conformal_quantile(errors, 0.95, **exact) == pytest.approx(0.39)  # ceil(41 * .95) = 39th
    assert conformal_quantile(errors, 0.80, **exact) == pytest.approx(0.33)  # ceil(41 * .8) = 33rd
    assert conformal_quantile(errors[:10], 0.95, **exact) == float("inf")  # too few for 95%
    assert conformal_quantile([*errors, np.nan], 0.95, **exact) == pytest.approx(0.39)  # NaN: none
    # the forecast ranges' form: linear between order statistics, capped at the largest
    position = 39 * (0.95 * 41 / 40)  # np.quantile's position at the corrected level: 37.98
    assert conformal_quantile(errors, 0.95) == pytest.approx((position + 1) / 100)
    assert conformal_quantile(errors[:10], 0.95) == pytest.approx(0.10)


def test_cumulative_ranges_scale_pseudo_window_errors_by_the_expected_total() -> None:
    yhat, sigma = np.full(4, 100.0), np.full(4, 10.0)
    errors = np.tile(np.linspace(-0.2, 0.2, 41)[:, None], (1, 4))  # 41 windows, 4 prefixes
    r = cumulative_ranges(yhat, sigma, errors)
    assert r["method"] == "conformal(41)" and r["folds"] == 41
    q95 = conformal_quantile(np.abs(errors[:, -1]), 0.95, interpolate=False)
    assert r["cum_hi_95"][-1] == pytest.approx(400 * (1 + q95))
    assert r["cum_lo_95"][-1] == pytest.approx(400 * (1 - q95))
    assert r["cum_lo_95"][-1] < r["cum_lo_80"][-1] < 400 < r["cum_hi_80"][-1] < r["cum_hi_95"][-1]
    # a few windows: Student t on their root mean square, wider than the normal quantile
    few = cumulative_ranges(yhat, sigma, np.full((5, 4), 0.1))
    assert few["method"] == "t(5)"
    assert few["cum_hi_95"][-1] - 400 > 1.96 * 0.1 * 400
    # none: the per-step bands added up (fully correlated)
    r0 = cumulative_ranges(yhat, sigma, None)
    assert r0["method"] == "bands" and r0["folds"] == 0
    assert r0["cum_hi_95"][-1] - 400 == pytest.approx(1.959964 * 40, rel=1e-4)


def test_errors_on_earlier_event_days_widen_the_ranges_never_narrow_them() -> None:
    yhat, sigma = np.full(4, 100.0), np.full(4, 10.0)
    ordinary = np.tile(np.linspace(-0.1, 0.1, 41)[:, None], (1, 4))
    alone = cumulative_ranges(yhat, sigma, ordinary)
    wide = cumulative_ranges(yhat, sigma, ordinary, event_errors=np.full((4, 4), 0.3))
    assert wide["method"] == "conformal(41) + event days t(4)"
    assert wide["folds"] == 41 and wide["event_folds"] == 4 and alone["event_folds"] == 0
    assert wide["cum_hi_95"][-1] - 400 > 3 * (alone["cum_hi_95"][-1] - 400)
    narrow = cumulative_ranges(yhat, sigma, ordinary, event_errors=np.full((4, 4), 0.001))
    assert narrow["cum_hi_95"] == pytest.approx(alone["cum_hi_95"])  # the larger of the two
    too_few = cumulative_ranges(yhat, sigma, ordinary, event_errors=np.full((2, 4), 0.3))
    assert too_few["event_folds"] == 0 and too_few["cum_hi_95"] == pytest.approx(alone["cum_hi_95"])


def test_prefixes_the_windows_cannot_judge_fall_back_to_the_bands() -> None:
    # night hours with nothing expected: no pseudo-window has a positive total at prefix 0
    errors = np.tile([np.nan, 0.1], (5, 1))
    r = cumulative_ranges(np.array([0.0, 50.0]), np.array([2.0, 5.0]), errors)
    assert r["method"] == "t(5)"
    assert r["cum_hi_95"][0] == pytest.approx(1.959964 * 2.0, rel=1e-4)  # the band
    assert np.isfinite(r["cum_hi_95"]).all() and r["cum_hi_95"][1] > 50


def test_counts_never_get_a_negative_expected_total() -> None:
    r = cumulative_ranges(np.full(4, 1.0), np.full(4, 2.0), None, nonneg=True)
    assert (r["cum_lo_95"] >= 0).all() and (r["cum_lo_80"] >= 0).all()


def test_reference_positions_are_the_same_hours_on_the_days_around_the_window() -> None:
    # a 3-step window at position 50 of a 100-step hourly grid, 2 level days
    before = reference_positions(50, 3, 24, 2, post=False, length=100)
    assert before.tolist() == [2, 3, 4, 26, 27, 28]
    both = reference_positions(50, 3, 24, 2, post=True, length=100)
    assert both.tolist() == [2, 3, 4, 26, 27, 28, 74, 75, 76, 98, 99]  # clipped at the grid end
    # a 30-step window: the shifted copies keep only their part outside the window
    long = reference_positions(50, 30, 24, 1, post=False, length=100)
    assert long.tolist() == list(range(26, 50))


def test_level_ratio_is_shrunk_and_safe() -> None:
    assert level_ratio(np.full(24, 90.0), np.full(24, 100.0)) == pytest.approx(0.9)
    assert level_ratio(np.full(24, 90.0), np.full(24, 100.0), 0.5) == pytest.approx(0.9**0.5)
    assert level_ratio(np.array([90.0, np.nan]), np.array([100.0, 50.0])) == pytest.approx(0.9)
    assert level_ratio(np.zeros(24), np.full(24, 100.0)) == 1.0
    assert level_ratio(np.full(24, 90.0), np.full(24, 100.0), 0.0) == 1.0


# --------------------------------------------------------------------------- impact()


def test_injected_loss_is_recovered_within_its_range(base: pd.DataFrame) -> None:
    df, lost = inject(base, *WINDOW, depth=0.4)
    table = impact(df, *WINDOW, model="naive", calendar="none", by=("zone",))
    row = table.iloc[0]
    assert row["zone"] == "North" and row["metric"] == "trips"
    assert row["difference_lo_95"] <= -lost <= row["difference_hi_95"]
    assert abs(row["difference"] + lost) < 0.25 * lost  # recovered within 25% of the truth
    assert bool(row["affected"]) and row["direction"] == "below"
    assert row["steps"] == 12 and row["folds"] >= 3
    assert WINDOW[0] <= row["peak_ds"] <= WINDOW[1] and row["peak_difference"] < 0
    assert row["lo_95"] <= row["lo_80"] <= row["expected_total"] <= row["hi_80"] <= row["hi_95"]


def test_window_with_no_change_reports_a_range_that_includes_zero(base: pd.DataFrame) -> None:
    table = impact(base, *WINDOW, model="naive", calendar="none", by=("zone",))
    row = table.iloc[0]
    assert row["difference_lo_95"] <= 0 <= row["difference_hi_95"]
    assert row["lo_95"] <= row["actual_total"] <= row["hi_95"]
    assert not bool(row["affected"]) and row["direction"] == ""
    assert table.attrs["share_affected"] == {"trips": 0.0}


def test_data_columns_are_named_as_in_forecast(base: pd.DataFrame) -> None:
    # the same data keywords as forecast(): a frame whose time and value columns are renamed
    renamed = base.rename(columns={"ds": "ts", "y": "trips_count"})
    kwargs = {"model": "naive", "calendar": "none", "by": ("zone",)}
    table = impact(renamed, *WINDOW, time_col="ts", value_col="trips_count", **kwargs)
    same = impact(base, *WINDOW, **kwargs)
    pd.testing.assert_frame_equal(table, same)


def test_a_bare_end_date_covers_its_whole_day(base: pd.DataFrame) -> None:
    kwargs = {"model": "naive", "calendar": "none", "by": ("zone",)}
    res = run_impact(base, "2024-02-07", "2024-02-07", **kwargs)
    assert res.start == pd.Timestamp("2024-02-07 00:00") and res.end == pd.Timestamp(
        "2024-02-07 23:00"
    )
    assert res.table.iloc[0]["steps"] == 24
    hourly = synthetic(weeks=10)
    daily = hourly.assign(ds=hourly["ds"].dt.floor("D")).groupby(["zone", "metric", "ds"]).sum()
    day = run_impact(daily.reset_index(), "2024-03-01", "2024-03-03", freq="D", **kwargs)
    assert day.end == pd.Timestamp("2024-03-03") and day.table.iloc[0]["steps"] == 3


def test_share_of_zones_affected_and_paths(tmp_path) -> None:  # noqa: ANN001
    df = synthetic(seed=1, zones=("North", "South", "East", "West"))
    df, lost = inject(df, *WINDOW, depth=0.5, zone="South")
    res = run_impact(df, *WINDOW, model="naive", calendar="none", by=("zone",))
    assert isinstance(res, ImpactResult)
    affected = dict(zip(res.table["zone"], res.table["affected"], strict=True))
    assert affected["South"]
    assert res.share_affected["trips"] == pytest.approx(sum(affected.values()) / 4)
    assert res.share_affected["trips"] <= 0.5
    south = res.paths[(res.paths["zone"] == "South") & res.paths["in_window"]]
    assert len(south) == 12
    final = south.iloc[-1]
    assert final["cum_difference"] == pytest.approx(
        res.table.set_index("zone").loc["South", "difference"]
    )
    assert final["cum_lo_95"] <= -lost <= final["cum_hi_95"]
    before = res.paths[(res.paths["zone"] == "South") & (res.paths["ds"] < WINDOW[0])]
    assert len(before) >= 12 and before["yhat"].isna().all() and before["actual"].notna().all()


def test_post_uses_the_data_after_the_window(base: pd.DataFrame) -> None:
    df, lost = inject(base, *WINDOW, depth=0.4)
    pre = impact(df, *WINDOW, model="naive", calendar="none", by=("zone",)).iloc[0]
    post = impact(df, *WINDOW, post=True, model="naive", calendar="none", by=("zone",)).iloc[0]
    assert post["expected_total"] != pytest.approx(pre["expected_total"])
    assert post["difference_lo_95"] <= -lost <= post["difference_hi_95"]


def test_local_level_follows_a_shift_in_the_days_before_the_window(base: pd.DataFrame) -> None:
    # From four days before the window the series runs 30% higher (a busy week): the seasonal
    # naive forecast (a week back) misses it, the local level of the same hours corrects it.
    df = base.copy()
    df.loc[df["ds"] >= WINDOW[0] - pd.Timedelta(days=4), "y"] *= 1.3
    kw = dict(model="naive", calendar="none", by=("zone",), level_days=3)
    raw = impact(df, *WINDOW, anchor=0.0, **kw).iloc[0]
    row = impact(df, *WINDOW, **kw).iloc[0]
    assert raw["difference_pct"] > 20  # without the level it looks like a 30% gain
    assert row["level"] == pytest.approx(1.3, rel=0.05)
    assert abs(row["difference_pct"]) < 5 and not bool(row["affected"])


def test_ranges_come_from_pseudo_windows_a_day_apart(base: pd.DataFrame) -> None:
    # 12-hour window on day 38: pseudo-windows from one day back to the history's third week
    row = impact(base, *WINDOW, model="naive", calendar="none", by=("zone",)).iloc[0]
    assert row["range_method"] == f"conformal({row['folds']})" and 19 <= row["folds"] <= 24
    few = impact(base, *WINDOW, model="naive", calendar="none", by=("zone",), n_folds=5).iloc[0]
    assert few["range_method"] == "t(5)" and few["folds"] == 5
    assert few["expected_total"] == pytest.approx(row["expected_total"])  # same counterfactual


def test_pseudo_windows_of_a_window_over_a_day_do_not_overlap(base: pd.DataFrame) -> None:
    # 36 hours from day 38: copies 2, 4, 6... days back, down to the history's third week;
    # overlapping copies a day apart would share most of their error and narrow the range
    kw = dict(model="naive", calendar="none", by=("zone",))
    day = impact(base, WINDOW[0], WINDOW[0] + pd.Timedelta(hours=23), **kw).iloc[0]
    long = impact(base, WINDOW[0], WINDOW[0] + pd.Timedelta(hours=35), **kw).iloc[0]
    assert day["steps"] == 24 and day["folds"] == 23
    assert long["steps"] == 36 and long["folds"] == 11 and long["range_method"] == "t(11)"


def test_refits_judge_the_pseudo_windows_out_of_sample(base: pd.DataFrame) -> None:
    kw = dict(model="ols", calendar="none", by=("zone",))
    inside = impact(base, *WINDOW, **kw).iloc[0]
    # the block of days 1-21 before the window, judged by an ols fitted before its first day
    # (the second block would need history from before the data start: left out)
    outside = impact(base, *WINDOW, refits=2, **kw).iloc[0]
    assert outside["expected_total"] == pytest.approx(inside["expected_total"])
    assert 3 <= outside["folds"] <= 21 < inside["folds"]
    assert outside["hi_95"] != pytest.approx(inside["hi_95"])
    assert outside["lo_95"] < outside["expected_total"] < outside["hi_95"]
    # auto may pick a weighted mix, which is no model name: the refit runs auto again
    auto = impact(base, *WINDOW, model="auto", calendar="none", by=("zone",), refits=2).iloc[0]
    assert 3 <= auto["folds"] <= 21 and auto["range_method"].startswith(("conformal", "t("))


def test_a_zone_scoped_event_changes_only_its_zone(tmp_path) -> None:  # noqa: ANN001
    cal = tmp_path / "cal.yaml"
    cal.write_text(
        "zones_unchecked: true\n"  # North and South are this test's own zones
        + textwrap.dedent(CALENDAR).replace("source: test", "source: test\n    zones: [South]")
    )
    day = (pd.Timestamp("2024-02-07 00:00"), pd.Timestamp("2024-02-07 23:00"))
    df = synthetic(seed=2, zones=("North", "South"))
    with_cal = impact(df, *day, model="naive", calendar=str(cal), by=("zone",)).set_index("zone")
    without = impact(df, *day, model="naive", calendar="none", by=("zone",)).set_index("zone")
    assert with_cal.loc["South", "expected_total"] < 0.75 * without.loc["South", "expected_total"]
    assert with_cal.loc["North", "expected_total"] == pytest.approx(
        without.loc["North", "expected_total"]
    )
    assert (
        with_cal.loc["North", "events"] == ""
        and "Harbor Festival" in with_cal.loc["South", "events"]
    )


CALENDAR = """\
    events:
      - name: Harbor Festival
        category: event
        date: 2024-02-07
        effect: {trips: -0.4}
        source: test
    """


def test_incident_on_an_event_day_is_judged_against_the_event(tmp_path, base: pd.DataFrame) -> None:  # noqa: ANN001
    cal = tmp_path / "cal.yaml"
    cal.write_text(textwrap.dedent(CALENDAR))
    day = (pd.Timestamp("2024-02-07 00:00"), pd.Timestamp("2024-02-07 23:00"))
    df, _ = inject(base, *day, depth=0.4)  # the festival day really was 40% down
    with_cal = impact(df, *day, model="naive", calendar=str(cal), by=("zone",)).iloc[0]
    without = impact(df, *day, model="naive", calendar="none", by=("zone",)).iloc[0]
    assert with_cal["expected_total"] < 0.75 * without["expected_total"]
    assert "Harbor Festival" in with_cal["events"]
    assert bool(without["affected"])  # against an ordinary Wednesday it looks like a loss
    assert not bool(with_cal["affected"])  # against the festival it is what was expected
    assert with_cal["difference_lo_95"] <= 0 <= with_cal["difference_hi_95"]


MARKET = """\
    events:
      - name: Harbor Market
        category: market
        dates: [2024-01-17, 2024-01-24, 2024-01-31, 2024-02-07]
        effect: {trips: -0.4}
        source: test
    """


def test_an_event_whose_past_days_varied_gets_a_wide_range(tmp_path, base) -> None:  # noqa: ANN001
    # the market cut trips by 40% on 17 and 31 January, not at all on the 24th: the expectation
    # of 7 February (learned, about -30%) is uncertain, and a normal day then is no incident
    cal = tmp_path / "cal.yaml"
    cal.write_text(textwrap.dedent(MARKET))
    df = base
    for day in ("2024-01-17", "2024-01-31"):
        df, _ = inject(df, pd.Timestamp(day), pd.Timestamp(f"{day} 23:00"), depth=0.4)
    kw = dict(model="ols", calendar=str(cal), by=("zone",))
    res = run_impact(df, pd.Timestamp("2024-02-07"), pd.Timestamp("2024-02-07 23:00"), **kw)
    market = res.table.iloc[0]
    assert market["event_folds"] == 3 and market["range_method"].endswith("event days t(3)")
    assert market["actual_total"] > 1.3 * market["expected_total"]  # a normal day, above
    assert not bool(market["affected"]) and market["hi_95"] > market["actual_total"]
    assert "widened where the window has calendar events" in impact_summary_markdown(res)
    # the day after, no market: the copies of ordinary days alone, a narrower range
    after = impact(df, pd.Timestamp("2024-02-08"), pd.Timestamp("2024-02-08 23:00"), **kw).iloc[0]
    assert after["event_folds"] == 0 and after["range_method"] == f"conformal({after['folds']})"
    assert _relative_width(market) > 2 * _relative_width(after)


def _relative_width(row: pd.Series) -> float:
    return (row["hi_95"] - row["lo_95"]) / row["expected_total"]


def test_exclude_events_leaves_the_incident_out_of_the_counterfactual(tmp_path, base) -> None:  # noqa: ANN001
    cal = tmp_path / "cal.yaml"
    cal.write_text(textwrap.dedent(CALENDAR))
    day = (pd.Timestamp("2024-02-07 00:00"), pd.Timestamp("2024-02-07 23:00"))
    df, _ = inject(base, *day, depth=0.4)
    row = impact(
        df, *day, model="naive", calendar=str(cal), exclude_events=["harbor*"], by=("zone",)
    ).iloc[0]
    assert row["events"] == "" and bool(row["affected"])
    res = run_impact(
        df, *day, model="naive", calendar=str(cal), exclude_events=["harbor*"], by=("zone",)
    )
    assert res.events[["name", "excluded"]].values.tolist() == [["Harbor Festival", True]]
    assert "Left out of the expectation (the incident itself): Harbor Festival" in (
        impact_summary_markdown(res)
    )


# --------------------------------------------------------------------------- summary and plot


def test_markdown_summary_names_window_metric_and_loss_with_range(base: pd.DataFrame) -> None:
    df, _ = inject(base, *WINDOW, depth=0.4)
    table = impact(df, *WINDOW, model="naive", calendar="none", by=("zone",))
    text = impact_summary_markdown(table)
    row = table.iloc[0]
    assert "2024-02-07 09:00 to 2024-02-07 20:00" in text
    assert "`trips`" in text
    loss, lo, hi = (
        f"{row[c]:+,.0f}" for c in ("difference", "difference_lo_95", "difference_hi_95")
    )
    assert f"{loss} ({lo} to {hi})" in text
    assert "1 of 1 zones affected (100%)" in text
    assert "| North |" in text


def test_plot_impact_draws_actual_band_window_and_cumulative_difference(base: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    from juno_forecast.impact import plot_impact

    df, _ = inject(base, *WINDOW, depth=0.4)
    res = run_impact(df, *WINDOW, model="naive", calendar="none", by=("zone",))
    fig = plot_impact(res, {"zone": "North"})
    top, bottom = fig.axes
    labels = [t.get_text() for t in top.get_legend().get_texts()]
    assert {"actual", "expected (no incident)", "incident window"} <= set(labels)
    cum_line = [ln for ln in bottom.get_lines() if ln.get_label().startswith("cumulative")][0]
    assert np.nanmin(cum_line.get_ydata()) == pytest.approx(res.paths["cum_difference"].min())
    assert "trips zone=North" in fig._suptitle.get_text()
    plt.close(fig)


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def data_file(tmp_path_factory, base: pd.DataFrame):  # noqa: ANN001, ANN201
    df, _ = inject(base, *WINDOW, depth=0.4)
    path = tmp_path_factory.mktemp("impact") / "trips.csv"
    df.to_csv(path, index=False)
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:  # noqa: ANN001
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code), out.out, out.err


# the flags most CLI tests share: zones as keys, the naive model, no calendar, the 12-hour window
NAIVE = ["--by", "zone", "--model", "naive", "--calendar", "none"]
WINDOW_FLAGS = ["--start", "2024-02-07T09:00", "--end", "2024-02-07T20:00"]


def test_cli_writes_table_summary_and_plots(data_file, tmp_path, capsys) -> None:  # noqa: ANN001
    out, md, plots = tmp_path / "impact.csv", tmp_path / "debrief.md", tmp_path / "plots"
    flags = f"--out {out} --summary {md} --plots {plots} --level-days 5 --folds 30 --refits 0"
    code, _, err = run_cli(
        ["impact", str(data_file), *NAIVE, *WINDOW_FLAGS, *flags.split()], capsys
    )
    assert code == 0, err
    table = pd.read_csv(out)
    assert list(table.columns[:11]) == [
        "zone",
        "metric",
        "actual_total",
        "expected_total",
        "lo_95",
        "hi_95",
        "difference",
        "difference_pct",
        "peak_ds",
        "affected",
        "lo_80",
    ]
    assert bool(table.loc[0, "affected"])
    assert table.loc[0, "range_method"] == f"conformal({table.loc[0, 'folds']})"
    assert table.loc[0, "folds"] <= 30
    assert "trips: 1 of 1 zones affected (100%)" in err
    assert "same hours of the 5 days before the window" in md.read_text()
    assert "2024-02-07 09:00" in md.read_text()
    pngs = list(plots.glob("*.png"))
    assert [p.name for p in pngs] == ["impact_North_trips.png"] and pngs[0].stat().st_size > 10_000


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (
            "2024-02-08",
            "2024-02-07",
            "--start 2024-02-08 00:00:00 is after --end 2024-02-07 23:59:59",
        ),
        ("2024-03-01", "2024-03-02", "impact window 2024-03-01 to 2024-03-02 23:00 has no data"),
        (
            "2023-06-01",
            "2023-06-02",
            "impact window 2023-06-01 to 2023-06-02 23:00 is before the history starts",
        ),
        ("2023-12-31", "2024-01-02", "at or before the start of the history"),
        (
            "2024-01-10",
            "2024-01-30",
            "is 504 hours long, longer than the history before it (216 hours",
        ),
        (
            "yesterday-ish",
            "2024-01-30",
            "--start: expected a date or timestamp like 2015-02-01, got 'yesterday-ish'",
        ),
    ],
)
def test_cli_bad_windows_exit_2_with_one_line(data_file, capsys, start, end, message) -> None:  # noqa: ANN001
    argv = ["impact", str(data_file), *NAIVE, "--start", start, "--end", end]
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert "Traceback" not in err and out == ""


def test_the_returned_table_prints_and_keeps_its_paths(base: pd.DataFrame) -> None:
    # A notebook prints the table (pandas compares attrs then); plots rebuild from it.
    table = impact(base, *WINDOW, model="naive", calendar="none", by=("zone",))
    with pd.option_context("display.width", 40):
        assert "expected_total" in repr(table) or "..." in repr(table)
    assert isinstance(repr(table[["zone", "difference"]]), str)
    rebuilt = ImpactResult.from_frame(table)
    direct = run_impact(base, *WINDOW, model="naive", calendar="none", by=("zone",))
    pd.testing.assert_frame_equal(rebuilt.paths, direct.paths, check_index_type=False)


def test_summary_names_an_event_split_over_entries_once_with_its_whole_span(tmp_path, base) -> None:  # noqa: ANN001
    cal = tmp_path / "cal.yaml"
    second = textwrap.dedent(CALENDAR).split("events:\n", 1)[1].replace("2024-02-07", "2024-02-08")
    cal.write_text(textwrap.dedent(CALENDAR) + second)
    res = run_impact(
        base, "2024-02-07", "2024-02-08", model="naive", calendar=str(cal), by=("zone",)
    )
    text = impact_summary_markdown(res)
    assert "Harbor Festival (event, 2024-02-07 to 2024-02-08)" in text
    assert text.count("Harbor Festival") == 1


STEPS = """\
    events:
      - name: Old fare rule
        category: regulation
        date: 2024-01-03
        shape: step
        effect: {trips: -0.03}
        source: test
      - name: New fare rule
        category: regulation
        date: 2024-02-07
        shape: step
        effect: {trips: -0.03}
        source: test
    """


def test_only_steps_that_begin_in_the_window_are_its_events(tmp_path, base) -> None:  # noqa: ANN001
    cal = tmp_path / "cal.yaml"
    cal.write_text(textwrap.dedent(STEPS))
    res = run_impact(base, *WINDOW, model="naive", calendar=str(cal), by=("zone",))
    assert res.events["name"].tolist() == [
        "New fare rule"
    ]  # the old rule is in the history's level
    assert "Old fare rule" not in impact_summary_markdown(res)


# --------------------------------------------------------------------------- controls


def shared_days(
    df: pd.DataFrame, seed: int = 3, sd: float = 0.12, shock: float | None = None
) -> pd.DataFrame:
    """Multiply every zone by the same random factor per day: shocks the zones share (weather...).

    ``shock``: the factor of the window's day instead of a random one.
    """
    out = df.copy()
    days = out["ds"].dt.normalize()
    unique = days.unique()
    factor = dict(
        zip(unique, np.exp(np.random.default_rng(seed).normal(0, sd, len(unique))), strict=True)
    )
    if shock is not None:
        factor[WINDOW[0].normalize()] = shock
    out["y"] = np.round(out["y"] * days.map(factor).to_numpy())
    return out


def test_controls_remove_a_shock_the_zones_share_from_a_local_loss() -> None:
    # a city-wide shock on the window's day (-30%) ...
    df = shared_days(synthetic(seed=1, zones=("North", "South")), shock=0.7)
    df, lost = inject(df, *WINDOW, depth=0.25, zone="North")  # plus a local outage in North
    kw = dict(model="naive", calendar="none", by=("zone",))
    alone = impact(df, *WINDOW, **kw).set_index("zone").loc["North"]
    ctl = impact(df, *WINDOW, controls="zone=South", **kw)
    assert list(ctl["zone"]) == ["North"] and ctl.loc[0, "controls"] == "South"
    row = ctl.iloc[0]
    err_alone = abs(-alone["difference"] - lost) / lost
    err_ctl = abs(-row["difference"] - lost) / lost
    assert err_alone > 0.5  # the shock is taken for part of the loss
    assert err_ctl < 0.25 and err_ctl < err_alone / 3
    assert 0.5 < row["control_weight"] <= 1.0  # the zones tracked each other on the pseudo-windows
    south = impact(df, *WINDOW, **kw).set_index("zone").loc["South"]  # South's own deviation
    ratio = south["actual_total"] / south["expected_total"]
    assert row["control_factor"] == pytest.approx(ratio ** row["control_weight"], rel=1e-9)
    assert row["expected_total"] == pytest.approx(alone["expected_total"] * row["control_factor"])
    assert row["difference_lo_95"] <= -lost <= row["difference_hi_95"]
    assert np.isnan(alone["control_weight"]) and alone["control_factor"] == 1.0
    md = impact_summary_markdown(ctl)
    assert f"North against South (x{row['control_factor']:.3f}, weight" in md


def test_controls_that_never_tracked_the_zone_get_no_weight() -> None:
    north = shared_days(synthetic(seed=1, zones=("North",)), seed=3)
    south = shared_days(synthetic(seed=2, zones=("South",)), seed=4)  # its own days
    df = pd.concat([north, south], ignore_index=True)
    row = impact(df, *WINDOW, model="naive", calendar="none", by=("zone",), controls="auto")
    row = row.set_index("zone").loc["North"]
    assert row["control_weight"] < 0.3
    assert row["controls"] == "South"


def test_auto_controls_judge_every_series_against_the_others() -> None:
    df = shared_days(synthetic(seed=1, zones=("North", "South", "East")))
    res = run_impact(df, *WINDOW, model="naive", calendar="none", by=("zone",), controls="auto")
    assert res.table.set_index("zone")["controls"].to_dict() == {
        "East": "North;South",
        "North": "East;South",
        "South": "East;North",
    }


@pytest.fixture(scope="module")
def two_metric_file(tmp_path_factory):  # noqa: ANN001, ANN201
    df = synthetic(seed=1, zones=("North", "South"))
    df.loc[df["zone"] == "South", "metric"] = "rides"
    path = tmp_path_factory.mktemp("impact") / "two_metrics.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("controls", "message"),
    [
        ("region=South", "--controls: unknown key 'region'; the series keys are zone, metric"),
        ("zone=West", "--controls zone=West: no series matches"),
        ("zone=North,zone=South", "every series is a control, none is left to judge"),
        ("zone=South", "metric=trips zone=North has no control series of the same metric 'trips'"),
        ("auto", "--controls: metric=trips zone=North has no control series of the same metric"),
        ("zone", "--controls: expected 'auto' or KEY=VALUE[,KEY=VALUE...], got 'zone'"),
    ],
)
def test_cli_bad_controls_exit_2_with_one_line(two_metric_file, capsys, controls, message) -> None:  # noqa: ANN001
    argv = ["impact", str(two_metric_file), *NAIVE, *WINDOW_FLAGS, "--controls", controls]
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert "Traceback" not in err and out == ""


def test_cli_controls_judge_the_other_series_against_them(tmp_path, capsys) -> None:  # noqa: ANN001
    df = shared_days(synthetic(seed=1, zones=("North", "South")), shock=0.7)
    df, _ = inject(df, *WINDOW, depth=0.25, zone="North")
    path, out, md = tmp_path / "two.csv", tmp_path / "out.csv", tmp_path / "debrief.md"
    df.to_csv(path, index=False)
    flags = f"--controls zone=South --out {out} --summary {md}".split()
    code, _, err = run_cli(["impact", str(path), *NAIVE, *WINDOW_FLAGS, *flags], capsys)
    assert code == 0, err
    table = pd.read_csv(out)
    assert list(table["zone"]) == ["North"] and list(table["controls"]) == ["South"]
    assert bool(table.loc[0, "affected"]) and table.loc[0, "control_factor"] < 0.95
    assert "North against South" in md.read_text()


def test_plot_names_the_controls_in_its_title() -> None:
    import matplotlib.pyplot as plt

    from juno_forecast.impact import plot_impact

    df = shared_days(synthetic(seed=1, zones=("North", "South")), shock=0.7)
    res = run_impact(df, *WINDOW, model="naive", calendar="none", by=("zone",), controls="auto")
    fig = plot_impact(res, {"zone": "North"})
    factor = res.table.set_index("zone").loc["North", "control_factor"]
    assert f"against controls South (x{factor:.3f})" in fig._suptitle.get_text()
    plt.close(fig)


def test_the_excluding_calendar_at_a_cutoff_is_one_object_so_scopes_are_shared() -> None:
    """Every series of an impact run fits with the calendar known at the same cutoff: it is
    one object (as Calendar.weather_until keeps one per day), so the features of a scope,
    cached by calendar identity, are computed once, not once per series."""
    from juno_forecast.core import clear_scopes, scope_features
    from juno_forecast.impact.events import impact_calendar

    repo = Path(__file__).resolve().parents[1]
    plain = impact_calendar(None, None, ["Blizzard*"])
    assert plain.weather_until("2026-01-10") is plain  # no weather: nothing to cut
    cal = impact_calendar(None, str(repo / "data" / "weather.csv"), ["Blizzard*"])
    first = cal.weather_until("2026-01-10 05:00")
    assert first is cal.weather_until("2026-01-10 23:00")  # the same day: the same object
    assert first is not cal.weather_until("2026-01-11") and first.patterns == cal.patterns
    assert first.excluded("Blizzard of 2026")
    assert first.calendar is cal.calendar.weather_until("2026-01-10")  # the day's own calendar
    clear_scopes()
    index = pd.date_range("2026-01-01", periods=24 * 7, freq="h")
    a = scope_features(cal.weather_until("2026-01-08"), index, "h", "trips", {"zone": "A"})
    b = scope_features(cal.weather_until("2026-01-08"), index, "h", "trips", {"zone": "B"})
    assert a is b  # two series of one scope: computed once
