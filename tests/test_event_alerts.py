"""Alerts on event days: the example rules do not mute on events, and the nightly run
exports each active event's expected effect (``juno_event_effect``)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from prometheus_client.parser import text_string_to_metric_families

from juno_forecast.batch.prom import bands_text, current_hour_text, effects_json
from juno_forecast.batch.runner import _forecast as nightly_forecast
from juno_forecast.batch.runner import _forecast_table
from juno_forecast.calendar import Calendar
from juno_forecast.compat import epoch_ns

REPO = Path(__file__).resolve().parents[1]
AS_OF = pd.Timestamp("2026-05-24")


def test_example_alert_rules_parse_and_do_not_mute_on_events():
    text = (REPO / "examples" / "prometheus" / "juno_alerts.yml").read_text()
    rules = [r for g in yaml.safe_load(text)["groups"] for r in g["rules"]]
    alerts = {r["alert"]: r["expr"] for r in rules}
    assert {"RideMetricUnexplainedExcess", "RideMetricUnexplainedDrop"} <= set(alerts)
    for expr in alerts.values():
        assert "juno_event_active" not in expr
        assert not re.search(r"\bunless\b", expr)
    assert 'juno_expected{band="hi_95"}' in alerts["RideMetricUnexplainedExcess"]
    assert 'juno_expected{band="lo_95"}' in alerts["RideMetricUnexplainedDrop"]


def _hourly(start: str, end: str, seed: int = 0) -> pd.Series:
    idx = pd.date_range(start, end, freq="h")
    mean = 200 * (1 + 0.6 * np.sin(2 * np.pi * (idx.hour - 6) / 24))
    y = np.random.default_rng(seed).poisson(mean).astype(float)
    return pd.Series(y, index=idx)


def _calendar(tmp_path: Path) -> Calendar:
    path = tmp_path / "cal.yaml"
    path.write_text(
        textwrap.dedent("""\
        events:
          - name: Memorial Day
            category: holiday
            date: 2026-05-25
            zones: [Manhattan]
            effect: {trips: -0.2}
          - name: Fleet Week
            category: event
            start: 2026-05-25
            end: 2026-05-26
            zones: [Manhattan]
    """)
    )
    return Calendar.load(path)


def test_nightly_exports_the_expected_effect_of_each_active_event(tmp_path: Path):
    """The nightly worker's forecast of one series, then the bands.prom writer: the
    holiday's prior is exported with its value, an event with no effect as 0, nothing on
    other hours."""
    y = _hourly("2026-04-01", "2026-05-24 23:00")
    task = {
        "metric": "trips",
        "keys": {"borough": "Manhattan"},
        "values": y.to_numpy(),  # a task carries its history as arrays
        "stamps": epoch_ns(y.index),
        "model": "naive",
        "freq": "h",
        "seed": 0,
        "forecast_start": "2026-05-25",
        "steps": 72,
    }
    arrays = nightly_forecast(task, _calendar(tmp_path))
    fc = _forecast_table([{**task, "forecast": arrays}], [])  # the run's forecasts table
    text = bands_text(fc, ["borough"], AS_OF, hours=72)
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    samples = fams["juno_event_effect"].samples
    by_event = {}
    for s in samples:
        assert s.labels["metric"] == "trips" and s.labels["zone"] == "Manhattan"
        by_event.setdefault(s.labels["event"], set()).add((s.labels["hour"][:10], s.value))
    assert by_event["Memorial Day"] == {("2026-05-25", -0.2)}
    assert by_event["Fleet Week"] == {("2026-05-25", 0.0), ("2026-05-26", 0.0)}
    assert len(samples) == 24 + 48
    # serve-metrics' view of one hour keeps the gauge, without the hour label
    now = current_hour_text(text, pd.Timestamp("2026-05-25 09:30"))
    assert 'juno_event_effect{metric="trips",zone="Manhattan",event="Memorial Day"} -0.2' in now


def test_event_effects_json_lists_only_the_events_on():
    effects = pd.DataFrame({"A": [np.nan, -0.25], "B": [0.0, np.nan]})
    assert effects_json(effects) == ['{"B": 0.0}', '{"A": -0.25}']
    assert effects_json(pd.DataFrame(index=range(2))) == ["{}", "{}"]
