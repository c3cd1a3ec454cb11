"""Detection on the many-series core: what is shared per scope changes no result.

``detect`` looks up the calendar's occurrences once per scope
(:func:`juno_forecast.core.scope_occurrences`) and shares what explanation derives from
them (the events at the flagged timestamps, when each event was on in the history)
between the series of a scope. Each series detected on its own, with a calendar object
of its own and every cache cleared, must give the very same incidents, column by column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.core import clear_scopes
from juno_forecast.detect import detect, detect_series, run_detection
from juno_forecast.detect.api import _concat_incidents
from juno_forecast.detect.explain import event_table, explain

REPO = Path(__file__).resolve().parents[1]
FOIL = Path("/work/shared/data/Uber-Jan-Feb-FOIL.csv")
#: sample boroughs under taxi zone names no calendar event names: one scope per metric
RENAMED = {"Bronx": "Astoria", "Brooklyn": "Harlem", "Queens": "Midtown Center"}


def zone_frame() -> pd.DataFrame:
    """The shipped sample, Jul-Dec 2025, with three boroughs renamed to unnamed zones."""
    df = pd.read_parquet(REPO / "data" / "sample.parquet")
    df = df[(df["ds"] >= "2025-07-01") & (df["ds"] < "2025-12-08")]
    df = df[df["borough"].isin([*RENAMED, "Manhattan", "EWR"])]
    return df.assign(borough=df["borough"].replace(RENAMED)).rename(columns={"borough": "zone"})


def one_by_one(frame: pd.DataFrame, keys: list[str], start: str, end: str, **kw) -> pd.DataFrame:
    """Each series detected alone: its own calendar object, every cache cleared before it."""
    parts = []
    for _, g in frame.groupby([*keys, *(["metric"] if "metric" in frame else [])], sort=True):
        clear_scopes()
        parts.append(detect(g, start, end, calendar=Calendar.load(None), by=keys, **kw))
    return _concat_incidents(parts, tuple(keys))


def shared(frame: pd.DataFrame, keys: list[str], start: str, end: str, **kw) -> pd.DataFrame:
    clear_scopes()
    return detect(frame, start, end, calendar=Calendar.load(None), by=keys, **kw)


def test_hourly_zones_sharing_a_scope_give_the_incidents_of_each_alone():
    frame = zone_frame()
    together = shared(frame, ["zone"], "2025-11-17", "2025-12-07 23:00", freq="h")
    alone = one_by_one(frame, ["zone"], "2025-11-17", "2025-12-07 23:00", freq="h")
    assert len(together) > 5 and set(together["explanation"]) >= {"explained", "unexplained"}
    pd.testing.assert_frame_equal(together, alone)


def test_series_of_one_scope_share_one_occurrences_table():
    clear_scopes()
    res = run_detection(
        zone_frame(), "2025-11-24", "2025-11-30 23:00", calendar=Calendar.load(None), by=["zone"]
    )
    s = res.series
    same = s["metric=trips zone=Astoria"].occurrences
    assert same is s["metric=trips zone=Harlem"].occurrences  # neither zone is named: one scope
    assert same is not s["metric=trips zone=Manhattan"].occurrences  # Manhattan is named
    assert same is not s["metric=drivers_online zone=Astoria"].occurrences  # another metric
    assert "Thanksgiving Day" in set(same["name"])


def test_an_incident_gets_the_events_of_its_own_timestamps():
    """The event table of a series' flagged timestamps, cut at an incident's, is the table
    built on the incident's timestamps alone (what each incident used to build)."""
    clear_scopes()
    res = run_detection(
        zone_frame(), "2025-11-17", "2025-12-07 23:00", calendar=Calendar.load(None), by=["zone"]
    )
    checked = 0
    for sd in res.series.values():
        whole = event_table(sd.occurrences, sd.points.index, "h", sd.metric)
        for stamps in sd.incidents.get("_flagged", []):
            stamps = pd.DatetimeIndex(stamps)
            cut = whole.at(sd.points.index.get_indexer(stamps))
            alone = event_table(sd.occurrences, stamps, "h", sd.metric)
            assert cut.steps == alone.steps
            for part in ("active", "effects", "spreads"):
                a, b = getattr(cut, part), getattr(alone, part)
                assert list(a) == list(b)
                assert all(np.array_equal(a[n], b[n]) for n in a)
            checked += 1
    assert checked > 5


@pytest.mark.skipif(not FOIL.exists(), reason=f"real NYC data not found at {FOIL}")
def test_real_daily_bases_give_the_incidents_of_each_alone():
    raw = pd.read_csv(FOIL)
    frame = pd.DataFrame(
        {
            "ds": pd.to_datetime(raw["date"], format="%m/%d/%Y"),
            "base": raw["dispatching_base_number"],
            "metric": "trips",
            "y": raw["trips"].astype(float),
        }
    )
    together = shared(frame, ["base"], "2015-01-15", "2015-02-28", freq="D")
    alone = one_by_one(frame, ["base"], "2015-01-15", "2015-02-28", freq="D")
    assert len(together) > 5
    pd.testing.assert_frame_equal(together, alone)


def test_the_pandas_face_gives_what_the_array_entry_gives_the_many_series_loop():
    """``detect_series`` on a series' ``pd.Series`` (explained with ``explain`` on frames
    when called on its own) gives the incidents and points ``run_detection`` found for it
    on arrays, ``_flagged`` timestamps included; a series given out of order too. The run's
    table is the series' tables concatenated."""
    clear_scopes()
    cal = Calendar.load(None)
    start, end = pd.Timestamp("2025-11-17"), pd.Timestamp("2025-12-07 23:00")
    res = run_detection(zone_frame(), start, end, calendar=cal, by=["zone"])
    compared = 0
    for (zone, metric), g in zone_frame().groupby(["zone", "metric"], sort=True):
        y = g.set_index("ds")["y"].astype(float).rename_axis("ds")
        if compared == 0:
            y = y.sample(frac=1.0, random_state=0)  # shuffled: the face sorts it
        alone = detect_series(y, metric, {"zone": zone}, start, end, cal)
        found = res.series[f"metric={metric} zone={zone}"]
        pd.testing.assert_frame_equal(alone.incidents, found.incidents, check_freq=False)
        pd.testing.assert_frame_equal(alone.points, found.points, check_freq=False)
        compared += len(found.incidents)
    assert compared > 5
    # the run's one table, stacked from the rows: the series' tables concatenated
    tables = [sd.incidents for sd in res.series.values()]
    pd.testing.assert_frame_equal(res.incidents, _concat_incidents(tables, ("zone",)))


def test_explain_on_frames_matches_the_incidents_explained_on_positions():
    """The pandas ``explain`` (an incidents table, its flagged points as a frame, the
    history as a ``pd.Series``) fills the same explanations the array path gave."""
    clear_scopes()
    cal = Calendar.load(None)
    res = run_detection(zone_frame(), "2025-11-17", "2025-12-07 23:00", calendar=cal, by=["zone"])
    outcomes = set()
    history = {
        f"metric={m} zone={z}": g.set_index("ds")["y"].astype(float)
        for (z, m), g in zone_frame().groupby(["zone", "metric"])
    }
    for label, sd in res.series.items():
        if sd.incidents.empty:
            continue
        blank = sd.incidents.assign(explanation="unexplained", explained_by="", note="")
        y = history[label]
        again = explain(blank, sd.occurrences, sd.keys, "h", sd.points, history=y, calendar=cal)
        pd.testing.assert_frame_equal(again, sd.incidents, check_dtype=False)
        outcomes |= set(again["explanation"])
    assert {"explained", "unexplained"} <= outcomes
