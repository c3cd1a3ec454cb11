"""load_data / Dataset: the real NYC files, DST days, and every bad-input case with its message.

Bad inputs are small files written into ``tmp_path`` by each test, so the test
shows the exact input next to the message it must produce.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.data import Dataset, SeriesProblem, load_data, series_label
from juno_forecast.errors import InputError, JunoWarning

# ---------------------------------------------------------------- helpers


def hourly(start: str, hours: int, value: float | np.ndarray = 10.0, **cols: str) -> pd.DataFrame:
    """A tidy hourly frame of one series."""
    ds = pd.date_range(start, periods=hours, freq="h")
    return pd.DataFrame({**cols, "ds": ds, "y": value})


def write_csv(tmp_path: Path, df: pd.DataFrame, name: str = "in.csv") -> Path:
    path = tmp_path / name
    out = df.copy()
    if "ds" in out and pd.api.types.is_datetime64_any_dtype(out["ds"]):
        out["ds"] = out["ds"].dt.strftime("%Y-%m-%d %H:%M")
    out.to_csv(path, index=False)
    return path


def two_zones(tmp_path: Path, bad_row: dict | None = None, hours: int = 72) -> Path:
    """Zones A and B, hourly trips; ``bad_row`` overrides one row of zone B."""
    a = hourly("2025-01-06", hours, 10.0, zone="A", metric="trips")
    b = hourly("2025-01-06", hours, 20.0, zone="B", metric="trips")
    df = pd.concat([a, b], ignore_index=True)
    df["ds"] = df["ds"].dt.strftime("%Y-%m-%d %H:%M")
    df["y"] = df["y"].map(lambda v: f"{v:g}")
    if bad_row:
        i = hours + 5  # zone B, its sixth hour; CSV line = i + 2
        for k, v in bad_row.items():
            df.loc[i, k] = v
    path = tmp_path / "zones.csv"
    df.to_csv(path, index=False)
    return path


def only_problem(ds: Dataset) -> SeriesProblem:
    assert len(ds.problems) == 1, ds.problems
    return ds.problems[0]


# ---------------------------------------------------------------- real NYC data


@pytest.fixture(scope="module")
def pickups(shared_data: Path) -> Dataset:
    return load_data(
        shared_data / "uber_nyc_enriched.csv",
        time_col="pickup_dt",
        value_col="pickups",
        metric="pickups",
        by=("borough",),
    )


def test_real_hourly_pickups_load_per_borough_including_na(pickups: Dataset) -> None:
    assert pickups.freq == "h"
    assert pickups.keys == ("borough",)
    assert pickups.problems == []
    boroughs = sorted(pickups.frame["borough"].unique())
    assert boroughs == ["Bronx", "Brooklyn", "EWR", "Manhattan", "NA", "Queens", "Staten Island"]
    sizes = pickups.frame.groupby("borough").size()
    # 2015-01-01 01:00 .. 2015-06-30 23:00: 181 days * 24 - the missing first hour
    assert (sizes == 181 * 24 - 1).all()
    first = pickups.frame.groupby("borough")["ds"].min()
    assert (first == pd.Timestamp("2015-01-01 01:00")).all()
    manhattan = pickups.frame.query("borough == 'Manhattan'").set_index("ds")["y"]
    assert manhattan[pd.Timestamp("2015-01-01 01:00")] == 5258


def test_real_na_borough_is_a_sparse_count_series(pickups: Dataset, shared_data: Path) -> None:
    raw = pd.read_csv(shared_data / "uber_nyc_enriched.csv", keep_default_na=False, dtype=str)
    na_rows = raw[raw["borough"] == "NA"]
    assert len(na_rows) == 3043  # only hours with such pickups appear
    na = pickups.frame.query("borough == 'NA'").set_index("ds")["y"]
    present = pd.to_datetime(na_rows["pickup_dt"], format="%m/%d/%Y %H:%M")
    assert na[present].sum() == na_rows["pickups"].astype(int).sum()
    absent = na.index.difference(pd.DatetimeIndex(present))
    assert len(absent) == 4343 - 3043 and (na[absent] == 0).all()
    assert any("counted as 0" in n.message for n in pickups.notes if "borough=NA" in n.series)


def test_real_spring_forward_day_has_24_hours_and_keeps_the_0200_row(pickups: Dataset) -> None:
    day = pickups.frame[pickups.frame["ds"].dt.normalize() == "2015-03-08"]
    assert (day.groupby("borough").size() == 24).all()
    manhattan = day.query("borough == 'Manhattan'").set_index("ds")["y"]
    assert manhattan[pd.Timestamp("2015-03-08 02:00")] == 1423  # the row as written
    for _metric, _keys, y in pickups.series():
        assert y.index.freq == "h" and y.index.is_monotonic_increasing
        assert len(pd.date_range(y.index[0], y.index[-1], freq="h")) == len(y)


@pytest.mark.parametrize("value_col", ["trips", "active_vehicles"])
def test_real_foil_daily_per_base(shared_data: Path, value_col: str) -> None:
    ds = load_data(
        shared_data / "Uber-Jan-Feb-FOIL.csv",
        time_col="date",
        value_col=value_col,
        metric=value_col,
        by=("dispatching_base_number",),
    )
    assert ds.freq == "D" and ds.problems == []
    assert ds.frame["metric"].unique().tolist() == [value_col]
    assert ds.frame.groupby("dispatching_base_number").size().to_dict() == {
        b: 59 for b in ["B02512", "B02598", "B02617", "B02682", "B02764", "B02765"]
    }
    first = ds.frame.query("dispatching_base_number == 'B02512'").iloc[0]
    assert first["ds"] == pd.Timestamp("2015-01-01")
    assert first["y"] == {"trips": 1132, "active_vehicles": 190}[value_col]


# ---------------------------------------------------------------- DST


def fall_back_frame(second_value: float) -> pd.DataFrame:
    """Naive hourly rows over 2015-11-01 with the 01:00 stamp written twice."""
    df = hourly("2015-10-25", 14 * 24, 100.0, metric="trips")
    extra = pd.DataFrame(
        {"metric": ["trips"], "ds": [pd.Timestamp("2015-11-01 01:00")], "y": [second_value]}
    )
    return pd.concat([df, extra], ignore_index=True)


def test_fall_back_naive_repeated_hour_is_averaged_not_doubled(tmp_path: Path) -> None:
    ds = load_data(write_csv(tmp_path, fall_back_frame(120.0)), min_length=24)
    day = ds.frame[ds.frame["ds"].dt.normalize() == "2015-11-01"].set_index("ds")["y"]
    assert len(day) == 24
    assert day[pd.Timestamp("2015-11-01 01:00")] == 110.0  # mean of 100 and 120, not 220
    assert ds.problems == [] and ds.notes == []


def test_fall_back_tz_aware_input_is_averaged(tmp_path: Path) -> None:
    utc = pd.date_range("2015-10-25 04:00", "2015-11-08 04:00", freq="h", tz="UTC")
    local = utc.tz_convert("America/New_York")
    y = np.where((local.hour == 1) & (local.day == 1) & (local.month == 11), 40.0, 100.0)
    y[np.flatnonzero(y == 40.0)[1]] = 60.0  # the two 01:00 hours: 40 (EDT) then 60 (EST)
    df = pd.DataFrame({"metric": "trips", "ds": local.strftime("%Y-%m-%dT%H:%M:%S%z"), "y": y})
    ds = load_data(write_csv(tmp_path, df), min_length=24)
    day = ds.frame[ds.frame["ds"].dt.normalize() == "2015-11-01"].set_index("ds")["y"]
    assert len(day) == 24
    assert day[pd.Timestamp("2015-11-01 01:00")] == 50.0
    # daily grain keeps all 25 real hours of that day
    daily = load_data(write_csv(tmp_path, df, "d.csv"), freq="D", min_length=7)
    total = daily.frame.set_index("ds")["y"][pd.Timestamp("2015-11-01")]
    assert total == 23 * 100 + 40 + 60


def test_fall_back_five_minute_data_aggregate_per_occurrence(tmp_path: Path) -> None:
    stamps = pd.date_range("2015-10-31", "2015-11-02 23:55", freq="5min")
    df = pd.DataFrame({"metric": "trips", "ds": stamps, "y": 1.0})
    repeat = df[(df["ds"] >= "2015-11-01 01:00") & (df["ds"] < "2015-11-01 02:00")]
    ds = load_data(write_csv(tmp_path, pd.concat([df, repeat])), min_length=24)
    y = ds.frame.set_index("ds")["y"]
    assert ds.freq == "h" and len(y) == 72
    assert (y == 12.0).all()  # 12 five-minute counts an hour, the repeated hour too


def test_spring_forward_missing_hour_is_interpolated(tmp_path: Path) -> None:
    utc = pd.date_range("2015-03-01 05:00", "2015-03-15 04:00", freq="h", tz="UTC")
    local = utc.tz_convert("America/New_York")
    df = pd.DataFrame({"metric": "trips", "ds": local, "y": np.arange(len(local), dtype=float)})
    ds = Dataset.from_frame(df, min_length=24)
    y = ds.frame.set_index("ds")["y"]
    assert len(y[y.index.normalize() == "2015-03-08"]) == 24
    one, three = y[pd.Timestamp("2015-03-08 01:00")], y[pd.Timestamp("2015-03-08 03:00")]
    assert three == one + 1  # consecutive real hours
    assert y[pd.Timestamp("2015-03-08 02:00")] == (one + three) / 2
    assert any("spring-forward" in n.message for n in ds.notes)


# ---------------------------------------------------------------- file-level errors


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "trips.xlsx"
    path.write_text("x")
    with pytest.raises(InputError, match=r"trips\.xlsx: unsupported file type '\.xlsx'"):
        load_data(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.csv: file not found"):
        load_data(tmp_path / "nope.csv")


def test_empty_csv(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(InputError, match=r"empty\.csv: file is empty"):
        load_data(path)


def test_header_only_csv(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("ds,metric,y\n")
    with pytest.raises(InputError, match=r"header\.csv: no data rows"):
        load_data(path)


def test_empty_parquet(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.parquet: file is empty"):
        load_data(path)


@pytest.mark.parametrize(
    ("kwargs", "column", "flag"),
    [
        ({"time_col": "when"}, "when", "--time-col"),
        ({"value_col": "count"}, "count", "--value-col"),
        ({"by": ("borough",)}, "borough", "--by"),
        ({"metric_col": "kind"}, "kind", "--metric"),
    ],
)
def test_missing_column_names_column_and_flag(
    tmp_path: Path, kwargs: dict, column: str, flag: str
) -> None:
    path = write_csv(tmp_path, hourly("2025-01-06", 48, metric="trips"))
    with pytest.raises(
        InputError, match=rf"in\.csv: missing column '{column}' \(set {flag}"
    ) as err:
        load_data(path, **kwargs)
    assert "\n" not in str(err.value)


def test_missing_metric_column_suggests_metric_flag(tmp_path: Path) -> None:
    path = write_csv(tmp_path, hourly("2025-01-06", 48))
    with pytest.raises(
        InputError, match=r"missing column 'metric' \(set --metric-col, or --metric NAME"
    ):
        load_data(path)
    assert load_data(path, metric="trips", min_length=24).frame["metric"].unique().tolist() == [
        "trips"
    ]


def test_unparseable_timestamp_names_line_and_value(tmp_path: Path) -> None:
    path = two_zones(tmp_path, {"ds": "2025-01-0x 05:00"})
    with pytest.raises(InputError) as err:
        load_data(path, by=("zone",), min_length=24)
    assert (
        str(err.value)
        == f"{path}: column 'ds': unparseable timestamp '2025-01-0x 05:00' at line {72 + 5 + 2}"
    )


def test_mixed_aware_and_naive_timestamps(tmp_path: Path) -> None:
    path = two_zones(tmp_path, {"ds": "2025-01-06T05:00:00-05:00"})
    with pytest.raises(
        InputError, match=r"zones\.csv: column 'ds': mixes timestamps with and without a UTC offset"
    ):
        load_data(path, by=("zone",), min_length=24)


def test_parquet_with_metric_filter_and_non_string_keys(tmp_path: Path) -> None:
    df = pd.concat(
        [
            hourly("2025-01-06", 48, 5.0, metric="trips").assign(zone=7),
            hourly("2025-01-06", 48, 3.0, metric="drivers_online").assign(zone=7),
        ]
    )
    path = tmp_path / "z.parquet"
    df.to_parquet(path)
    ds = load_data(path, metric="drivers_online", by=("zone",), min_length=24)
    assert ds.frame["zone"].unique().tolist() == ["7"]
    assert ds.frame["metric"].unique().tolist() == ["drivers_online"]
    assert (ds.frame["y"] == 3.0).all()
    with pytest.raises(
        InputError, match=r"z\.parquet: column 'metric' has no rows of metric 'rides'"
    ):
        load_data(path, metric="rides", by=("zone",))


# ---------------------------------------------------------------- series-level problems


def test_non_numeric_value_drops_only_that_series(tmp_path: Path) -> None:
    path = two_zones(tmp_path, {"y": "twelve"})
    ds = load_data(path, by=("zone",), min_length=24)
    p = only_problem(ds)
    assert p.series == "metric=trips zone=B"
    assert p.message == f"{path}: column 'y': non-numeric value 'twelve' at line {72 + 5 + 2}"
    assert ds.frame["zone"].unique().tolist() == ["A"]


def test_missing_value_is_a_short_gap_not_non_numeric(tmp_path: Path) -> None:
    ds = load_data(two_zones(tmp_path, {"y": "NA"}), by=("zone",), min_length=24)
    assert ds.problems == []
    b = ds.frame.query("zone == 'B'").set_index("ds")["y"]
    assert b[pd.Timestamp("2025-01-06 05:00")] == 20.0  # interpolated between 20 and 20
    assert any("interpolated" in n.message and n.series == "metric=trips zone=B" for n in ds.notes)


def test_negative_count_is_a_series_problem_for_sum_only(tmp_path: Path) -> None:
    path = two_zones(tmp_path, {"y": "-3"})
    p = only_problem(load_data(path, by=("zone",), min_length=24))
    assert p.series == "metric=trips zone=B"
    assert p.message.startswith(f"{path}: column 'y': negative count -3 at line 79")
    levels = load_data(path, by=("zone",), agg="mean", min_length=24)
    assert levels.problems == []
    assert (
        levels.frame.set_index(["zone", "ds"])["y"][("B", pd.Timestamp("2025-01-06 05:00"))] == -3
    )


def test_conflicting_duplicate_is_a_series_problem(tmp_path: Path) -> None:
    df = pd.read_csv(two_zones(tmp_path), dtype=str, keep_default_na=False)
    dup = df.iloc[[72 + 5]].assign(y="25")
    path = tmp_path / "dups.csv"
    pd.concat([df, dup], ignore_index=True).to_csv(path, index=False)
    p = only_problem(load_data(path, by=("zone",), min_length=24))
    assert p.series == "metric=trips zone=B"
    assert p.message == (
        f"{path}: column 'ds': duplicate timestamp 2025-01-06 05:00:00 with different values (line 79 and line 146: 20 vs 25)"
    )


def test_identical_duplicate_rows_are_dropped_and_noted(tmp_path: Path) -> None:
    df = pd.read_csv(two_zones(tmp_path), dtype=str, keep_default_na=False)
    path = tmp_path / "dups.csv"
    pd.concat([df, df.iloc[[72 + 5]]], ignore_index=True).to_csv(path, index=False)
    ds = load_data(path, by=("zone",), min_length=24)
    assert ds.problems == []
    b = ds.frame.query("zone == 'B'").set_index("ds")["y"]
    assert len(b) == 72 and b[pd.Timestamp("2025-01-06 05:00")] == 20.0  # not summed to 40
    (note,) = [n for n in ds.notes if n.series == "metric=trips zone=B"]
    assert "1 identical duplicate row(s), first at line 79" in note.message


def drop_hours(df: pd.DataFrame, start: str, n: int) -> pd.DataFrame:
    gone = pd.date_range(start, periods=n, freq="h")
    return df[~df["ds"].isin(gone)]


def test_short_gap_interpolated_long_gap_is_a_problem_for_levels(tmp_path: Path) -> None:
    level = hourly("2025-01-06", 96, np.arange(96, dtype=float), metric="drivers_online")
    short = load_data(
        write_csv(tmp_path, drop_hours(level, "2025-01-07 03:00", 3)), agg="mean", min_length=24
    )
    y = short.frame.set_index("ds")["y"]
    assert len(y) == 96 and y[pd.Timestamp("2025-01-07 04:00")] == 28.0  # linear
    long = write_csv(tmp_path, drop_hours(level, "2025-01-07 03:00", 10), "long.csv")
    with pytest.raises(InputError) as err:  # the only series fails -> whole file
        load_data(long, agg="mean", min_length=24)
    assert str(err.value) == (
        f"{long}: no usable series: metric=drivers_online: {long}: column 'y': gap of 10 hours "
        "from 2025-01-07 03:00:00 to 2025-01-07 12:00:00 (at most 3 are filled)"
    )


def test_absent_steps_are_zero_counts_for_sum_and_gaps_when_asked(tmp_path: Path) -> None:
    counts = drop_hours(hourly("2025-01-06", 96, 4.0, metric="trips"), "2025-01-07 03:00", 10)
    path = write_csv(tmp_path, counts)
    y = load_data(path, min_length=24).frame.set_index("ds")["y"]
    assert len(y) == 96 and (y["2025-01-07 03:00":"2025-01-07 12:00"] == 0).all()
    with pytest.raises(InputError, match="gap of 10 hours"):
        load_data(path, min_length=24, fill="interpolate")


def test_too_short_series_is_dropped_others_go_on(tmp_path: Path) -> None:
    long = hourly("2025-01-01", 15 * 24, 10.0, zone="A", metric="trips")
    short = hourly("2025-01-14", 5 * 24, 10.0, zone="B", metric="trips")
    path = write_csv(tmp_path, pd.concat([long, short]))
    ds = load_data(path, by=("zone",))
    p = only_problem(ds)
    assert p.series == "metric=trips zone=B"
    assert p.message == (
        f"{path}: column 'y': too short to forecast: 120 hours from 2025-01-14 00:00:00 "
        "to 2025-01-18 23:00:00, at least 336 needed (min_length)"
    )
    assert ds.frame["zone"].unique().tolist() == ["A"]
    assert load_data(path, by=("zone",), min_length=100).problems == []


def test_all_series_failing_raises_listing_them(tmp_path: Path) -> None:
    df = pd.concat([hourly("2025-01-06", 24, 1.0, zone=z, metric="trips") for z in "ABCDE"])
    path = write_csv(tmp_path, df)
    with pytest.raises(InputError) as err:
        load_data(path, by=("zone",))
    msg = str(err.value)
    assert msg.startswith(
        f"{path}: no usable series: metric=trips zone=A: {path}: column 'y': too short"
    )
    assert "zone=C" in msg and "zone=D" not in msg and msg.endswith("(and 2 more)")


# ---------------------------------------------------------------- grain


def test_five_minute_data_sum_and_mean_to_hours(tmp_path: Path) -> None:
    stamps = pd.date_range("2025-01-06", periods=12 * 48, freq="5min")
    df = pd.DataFrame({"metric": "x", "ds": stamps, "y": np.tile(np.arange(12.0), 48)})
    path = write_csv(tmp_path, df)
    summed = load_data(path, min_length=24)
    assert summed.freq == "h" and (summed.frame["y"] == 66.0).all()
    averaged = load_data(path, agg="mean", min_length=24)
    assert (averaged.frame["y"] == 5.5).all()
    daily = load_data(path, freq="D", min_length=2)
    assert daily.frame["y"].tolist() == [66.0 * 24, 66.0 * 24]


def test_weekly_data_is_rejected_and_hourly_on_daily_data_too(tmp_path: Path) -> None:
    weekly = pd.DataFrame(
        {"metric": "x", "ds": pd.date_range("2025-01-05", periods=20, freq="W"), "y": 1.0}
    )
    with pytest.raises(InputError, match="coarser than a day"):
        load_data(write_csv(tmp_path, weekly))
    daily = pd.DataFrame(
        {"metric": "x", "ds": pd.date_range("2025-01-05", periods=60, freq="D"), "y": 1.0}
    )
    with pytest.raises(InputError, match="too coarse for --freq h"):
        load_data(write_csv(tmp_path, daily, "d.csv"), freq="h")


def test_bad_flags_are_usage_errors(tmp_path: Path) -> None:
    path = write_csv(tmp_path, hourly("2025-01-06", 48, metric="trips"))
    with pytest.raises(InputError, match="--agg must be one of sum, mean"):
        load_data(path, agg="median")
    with pytest.raises(InputError, match="--freq must be one of h, D"):
        load_data(path, freq="W")


# ---------------------------------------------------------------- Dataset API


def test_series_iterates_regular_named_series_and_round_trips() -> None:
    df = pd.concat(
        [
            hourly("2025-01-06", 48, 1.0, borough="Staten Island", metric="trips"),
            hourly("2025-01-06", 48, 2.0, borough="Bronx", metric="trips"),
        ]
    )
    ds = Dataset.from_frame(df, keys=("borough",), min_length=24)
    got = [(m, k, y.name, len(y), y.index.freqstr) for m, k, y in ds.series()]
    assert got == [
        ("trips", {"borough": "Bronx"}, "metric=trips borough=Bronx", 48, "h"),
        ("trips", {"borough": "Staten Island"}, "metric=trips borough=Staten Island", 48, "h"),
    ]
    again = Dataset.from_frame(ds.frame, min_length=24)  # keys inferred from the columns
    assert again.keys == ("borough",)
    pd.testing.assert_frame_equal(again.frame, ds.frame)
    assert list(ds.frame.columns) == ["borough", "metric", "ds", "y"]


def test_series_label() -> None:
    assert series_label("trips", {"borough": "Bronx"}) == "metric=trips borough=Bronx"
    assert series_label("trips", {"zone": "JFK", "base": "B1"}) == "metric=trips zone=JFK base=B1"
    assert series_label("trips", {}) == "metric=trips"


# ---------------------------------------------------------------- more DST and API cases


def test_fall_back_stamp_three_times_is_a_series_problem(tmp_path: Path) -> None:
    df = pd.concat([fall_back_frame(120.0), fall_back_frame(130.0).tail(1)], ignore_index=True)
    path = write_csv(tmp_path, df)
    with pytest.raises(InputError) as err:
        load_data(path, min_length=24)
    assert str(err.value).endswith(
        "column 'ds': 2015-11-01 01:00:00 appears more than twice (line 171, line 338, line 339); "
        "the repeated fall-back hour can appear at most twice"
    )


def test_naive_spring_forward_without_0200_interpolates_counts_not_zero(tmp_path: Path) -> None:
    df = hourly("2015-03-02", 14 * 24, np.arange(14 * 24, dtype=float), metric="trips")
    df = df[df["ds"] != pd.Timestamp("2015-03-08 02:00")]
    ds = load_data(write_csv(tmp_path, df), min_length=24)  # agg=sum: absent hours are zeros...
    y = ds.frame.set_index("ds")["y"]
    assert y[pd.Timestamp("2015-03-08 02:00")] == 146.0  # ...but not the hour that does not exist
    assert [n.message.split(": ", 1)[1] for n in ds.notes] == [
        "1 nonexistent spring-forward hour(s) interpolated"
    ]


def test_parquet_datetime_columns_naive_and_tz_aware(tmp_path: Path) -> None:
    naive = hourly("2015-10-28", 7 * 24, 5.0, metric="trips")
    naive.to_parquet(tmp_path / "naive.parquet")
    assert load_data(tmp_path / "naive.parquet", min_length=24).frame["y"].eq(5.0).all()
    utc = pd.date_range("2015-10-28 04:00", periods=7 * 24, freq="h", tz="UTC")
    aware = pd.DataFrame({"metric": "trips", "ds": utc, "y": 5.0})
    aware.to_parquet(tmp_path / "aware.parquet")
    y = load_data(tmp_path / "aware.parquet", min_length=24).frame.set_index("ds")["y"]
    assert y.index[0] == pd.Timestamp("2015-10-28 00:00")  # New York wall clock
    assert len(y[y.index.normalize() == "2015-11-01"]) == 24 and (y == 5.0).all()


def test_as_dataset_accepts_dataset_frame_and_path(tmp_path: Path) -> None:
    from juno_forecast.data import as_dataset

    df = pd.concat(
        [hourly("2025-01-06", 48, float(i), zone=z, metric="trips") for i, z in enumerate("AB")]
    )
    path = write_csv(tmp_path, df)
    from_path = as_dataset(path, by=["zone"], freq=None, metric=None, min_length=24)
    from_frame = as_dataset(df, by=("zone",), min_length=24)
    inferred = as_dataset(df, min_length=24)  # keys from the columns
    pd.testing.assert_frame_equal(from_path.frame, from_frame.frame)
    pd.testing.assert_frame_equal(inferred.frame, from_frame.frame)
    assert as_dataset(from_path) is from_path
    assert load_data(path, by="zone", min_length=24).keys == ("zone",)
    with pytest.raises(InputError, match="expected a file path, a Dataset or a DataFrame, got int"):
        as_dataset(3)


def test_from_frame_takes_ds_from_the_index_and_names_rows() -> None:
    df = hourly("2025-01-06", 48, 1.0, metric="trips").set_index("ds")
    assert len(Dataset.from_frame(df, min_length=24).frame) == 48
    bad = hourly("2025-01-06", 48, 1.0, metric="trips").astype({"y": object})
    bad.loc[9, "y"] = "n/a?"
    with pytest.raises(InputError) as err:  # its only series fails
        Dataset.from_frame(bad, min_length=24, source="my frame")
    assert str(err.value) == (
        "my frame: no usable series: metric=trips: my frame: column 'y': non-numeric value 'n/a?' at row 10"
    )


def test_empty_key_value_and_na_key_stay_distinct(tmp_path: Path) -> None:
    df = pd.concat(
        [hourly("2025-01-06", 48, 1.0, borough=b, metric="trips") for b in ("NA", "", "N/A")]
    )
    ds = load_data(write_csv(tmp_path, df), by=("borough",), min_length=24)
    assert sorted(ds.frame["borough"].unique()) == ["", "N/A", "NA"]


def test_repr_is_a_short_summary(tmp_path: Path) -> None:
    path = write_csv(tmp_path, hourly("2025-01-06", 48, metric="trips"))
    assert repr(load_data(path, min_length=24)) == (
        f"Dataset(1 series, freq='h', keys=(), 48 rows, 0 problems, source='{path}')"
    )


def test_csv_with_excel_bom_and_gzip(tmp_path: Path) -> None:
    df = hourly("2025-01-06", 48, 2.0, metric="trips")
    df["ds"] = df["ds"].dt.strftime("%Y-%m-%d %H:%M")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False).encode())
    assert load_data(tmp_path / "bom.csv", min_length=24).frame["y"].sum() == 96.0
    df.to_csv(tmp_path / "z.csv.gz", index=False)
    assert load_data(tmp_path / "z.csv.gz", min_length=24).frame["y"].sum() == 96.0


def test_semicolon_csv_is_a_missing_column_listing_what_was_found(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("ds;metric;y\n2025-01-06 00:00;trips;1\n")
    with pytest.raises(
        InputError,
        match=r"semi\.csv: missing column 'ds' \(set --time-col; columns are ds;metric;y\)",
    ):
        load_data(path)


def test_sparse_hourly_counts_infer_hourly(tmp_path: Path) -> None:
    df = hourly("2025-01-06", 72, 3.0, metric="trips").iloc[::3]  # a count every third hour
    ds = load_data(write_csv(tmp_path, df), min_length=24)
    y = ds.frame.set_index("ds")["y"]
    assert ds.freq == "h" and len(y) == 70 and y.sum() == 72.0 and (y.iloc[1:3] == 0).all()


def test_unreadable_csv_and_parquet(tmp_path: Path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("ds,metric,y\n2025-01-06 00:00,trips,1\n2025-01-06 01:00,trips,1,7,8\n")
    with pytest.raises(InputError, match=r"ragged\.csv: cannot read CSV: .*line 3"):
        load_data(ragged)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not a parquet file at all")
    with pytest.raises(InputError, match=r"garbage\.parquet: cannot read Parquet: "):
        load_data(garbage)


def test_infinite_value_is_non_numeric(tmp_path: Path) -> None:
    p = only_problem(load_data(two_zones(tmp_path, {"y": "inf"}), by=("zone",), min_length=24))
    assert p.series == "metric=trips zone=B" and "non-numeric value 'inf' at line 79" in p.message


# ---------------------------------------------------------------- long holes of absent rows


def test_long_hole_of_absent_rows_uses_the_history_after_it_with_a_warning(
    tmp_path: Path,
) -> None:
    days = 200
    df = hourly("2025-01-01", days * 24, 5.0, metric="trips")
    df = df[(df["ds"] < "2025-02-01") | (df["ds"] >= "2025-05-01")]  # three months without rows
    path = write_csv(tmp_path, df)
    with pytest.warns(JunoWarning) as caught:
        ds = load_data(path)
    y = ds.frame.set_index("ds")["y"]
    assert y.index[0] == pd.Timestamp("2025-05-01") and (y == 5.0).all()  # no invented zeros
    expected = (
        f"{path}: no rows for 2136 hours from 2025-02-01 00:00:00 to 2025-04-30 23:00:00 "
        "(more than a day in a row: a hole, not zeros); using the history from "
        "2025-05-01 00:00:00 on (dropped 2025-01-01 00:00:00 to 2025-04-30 23:00:00)"
    )
    assert [n.message for n in ds.notes] == [expected]
    assert [str(w.message) for w in caught] == [f"metric=trips: {expected}"]


def test_long_hole_with_too_little_history_after_it_skips_the_series(tmp_path: Path) -> None:
    a = hourly("2025-01-01", 60 * 24, 5.0, zone="A", metric="trips")
    b = a.assign(zone="B")
    b = b[(b["ds"] < "2025-01-10") | (b["ds"] >= "2025-02-25")]  # only 5 days after the hole
    ds = load_data(write_csv(tmp_path, pd.concat([a, b])), by=("zone",))
    p = only_problem(ds)
    assert p.series == "metric=trips zone=B"
    assert p.message.endswith(
        "no rows for 1104 hours from 2025-01-10 00:00:00 to 2025-02-24 23:00:00 (more than a "
        "day in a row: a hole, not zeros); the 120 hours after it are too short to forecast, "
        "at least 336 needed (min_length)"
    )
    assert ds.n_series == 1


def test_a_day_of_absent_hours_is_zeros_a_day_and_an_hour_is_a_hole(tmp_path: Path) -> None:
    counts = hourly("2025-01-06", 20 * 24, 4.0, metric="trips")
    day = load_data(write_csv(tmp_path, drop_hours(counts, "2025-01-10 00:00", 24)))
    assert len(day.frame) == 20 * 24 and day.frame["y"].eq(0).sum() == 24
    with pytest.warns(JunoWarning, match="no rows for 25 hours from 2025-01-10 00:00:00"):
        hole = load_data(write_csv(tmp_path, drop_hours(counts, "2025-01-10 00:00", 25), "h.csv"))
    assert hole.frame["ds"].min() == pd.Timestamp("2025-01-11 01:00")


def test_daily_hole_longer_than_a_week_and_fill_zero_keeps_zeros(tmp_path: Path) -> None:
    ds = pd.date_range("2025-01-01", periods=120, freq="D")
    df = pd.DataFrame({"metric": "trips", "ds": ds, "y": 100.0})
    df = df[(df["ds"] < "2025-01-20") | (df["ds"] > "2025-01-27")]  # 8 days absent
    path = write_csv(tmp_path, df)
    with pytest.warns(JunoWarning, match="no rows for 8 days from 2025-01-20 00:00:00 to "):
        auto = load_data(path, freq="D")
    assert auto.frame["ds"].min() == pd.Timestamp("2025-01-28") and auto.frame["y"].eq(100).all()
    zero = load_data(path, freq="D", fill="zero")  # the user says absent rows are zeros
    assert len(zero.frame) == 120 and zero.frame["y"].eq(0).sum() == 8


def test_a_non_utf8_csv_names_the_line_and_column_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("ds,metric,y\n2025-01-01 00:00,café,1\n".encode("latin-1"))
    with pytest.raises(InputError) as err:
        load_data(path)
    assert str(err.value) == (
        f"{path}: cannot read CSV: not UTF-8 text: byte 0xe9 at line 2, column 21 "
        "(save the file as UTF-8)"
    )
