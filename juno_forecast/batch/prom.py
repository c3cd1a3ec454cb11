"""Prometheus text exposition of the expected bands, for Grafana and alert rules.

``bands_text`` turns the nightly forecasts into the text format Prometheus and
node_exporter's textfile collector read
(https://prometheus.io/docs/instrumenting/exposition_formats/):

* ``juno_expected{metric, zone, band, hour}``: the expected value (``band="yhat"``)
  and the 80/95% bands (``lo_80, hi_80, lo_95, hi_95``) of each series for each
  coming hour (``hour`` is the New York wall-clock start of the hour, ISO);
* ``juno_event_active{metric, zone, hour, event}`` = 1 for each calendar event
  active then (an *info*-style metric, for Grafana annotations);
* ``juno_event_effect{metric, zone, hour, event}``: the relative change that
  event puts on the expected value (``-0.2``: expected -20%; ``0``: no expected
  effect), from the forecasts' ``event_effects`` column. The bands already hold
  the events (effect and its uncertainty), so alert rules need no muting;
* ``juno_series_silent{metric, zone, since}`` = 1 for each series that went
  silent (no data since ``since``: status ``stale`` in the manifest), so an
  alert rule can page on it;
* ``juno_run_info{as_of, model}`` = 1 and ``juno_run_timestamp_seconds``.

``zone`` is the series' key values joined with ``/`` (``Bronx``). Label values
are escaped, so names from data (``../../etc``, quotes, newlines) are harmless.
No sample timestamps are written: future timestamps are refused by Prometheus,
so the hour is a label and ``serve-metrics`` exposes the current hour's row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

BANDS = ("yhat", "lo_80", "hi_80", "lo_95", "hi_95")
HOUR_FORMAT = "%Y-%m-%dT%H:%M"


def escape_label(value: object) -> str:
    """A label value escaped for the text format (backslash, double quote, newline)."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def labels(**pairs: object) -> str:
    """``{k="v",...}`` with escaped values, in the given order."""
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in pairs.items()) + "}"


def zone_of(row: Mapping[str, object], keys: Iterable[str]) -> str:
    """The ``zone`` label of a series: its key values joined with ``/`` (``all`` when none)."""
    values = [str(row[k]) for k in keys]
    return "/".join(values) if values else "all"


def _number(x: float) -> str:
    """A sample value in the text format (``NaN`` and infinities spelled as Prometheus does)."""
    if pd.isna(x):
        return "NaN"
    if x in (float("inf"), float("-inf")):
        return "+Inf" if x > 0 else "-Inf"
    return repr(float(x))


def _header(name: str, kind: str, text: str) -> list[str]:
    return [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]


def bands_text(
    forecasts: pd.DataFrame,
    keys: Iterable[str],
    as_of: pd.Timestamp,
    hours: int,
    model: str = "",
    run_time: float | None = None,
    silent: Iterable[Mapping[str, Any]] = (),
) -> str:
    """The text exposition of the first ``hours`` hours after ``as_of``'s day.

    ``forecasts`` has ``[*keys, metric, ds, yhat, lo_80, hi_80, lo_95, hi_95, events]``
    (hourly or daily rows; a daily row stands for its whole day, so it is written
    under the label of its first hour). ``silent``: manifest records of stale
    series (``metric``, ``keys``, ``last_data``).
    """
    keys = list(keys)
    start = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    end = start + pd.Timedelta(hours=hours)
    rows = forecasts[(forecasts["ds"] >= start) & (forecasts["ds"] < end)]
    rows = rows.sort_values([*keys, "metric", "ds"], kind="stable")
    out = _header(
        "juno_expected",
        "gauge",
        "Expected value (band=yhat) and 80/95% bands per metric, zone and coming hour.",
    )
    events: list[str] = []
    effects: list[str] = []
    for rec in rows.to_dict("records"):
        base = {
            "metric": rec["metric"],
            "zone": zone_of(rec, keys),
            "hour": pd.Timestamp(rec["ds"]).strftime(HOUR_FORMAT),
        }
        for band in BANDS:
            out.append(f"juno_expected{labels(**base, band=band)} {_number(rec[band])}")
        for name in filter(None, str(rec.get("events") or "").split(";")):
            events.append(f"juno_event_active{labels(**base, event=name.strip())} 1")
        for name, effect in parse_effects(rec.get("event_effects")).items():
            effects.append(f"juno_event_effect{labels(**base, event=name)} {_number(effect)}")
    out += _header(
        "juno_event_active",
        "gauge",
        "1 while a calendar event is active for a metric and zone (info metric).",
    )
    out += events
    out += _header(
        "juno_event_effect",
        "gauge",
        "Relative change an active event puts on the expected value (-0.2 = expected -20%).",
    )
    out += effects
    out += _header(
        "juno_series_silent", "gauge", "1 for a series with no data since the given time."
    )
    for rec in silent:
        zone = zone_of(rec["keys"], [k for k in keys if k in rec["keys"]])
        since = rec.get("last_data", "")
        out.append(f"juno_series_silent{labels(metric=rec['metric'], zone=zone, since=since)} 1")
    out += _header("juno_run_info", "gauge", "The nightly run these bands come from.")
    out.append(
        f"juno_run_info{labels(as_of=pd.Timestamp(as_of).strftime('%Y-%m-%d'), model=model)} 1"
    )
    if run_time is not None:
        out += _header("juno_run_timestamp_seconds", "gauge", "Unix time the nightly run finished.")
        out.append(f"juno_run_timestamp_seconds {run_time:.3f}")
    return "\n".join(out) + "\n"


def effects_json(effects: pd.DataFrame) -> list[str]:
    """Per row of ``SeriesForecaster.event_effects``: ``{"Memorial Day": -0.3}`` as JSON text.

    Only the events on at that row (``{}`` when none); effects rounded to 4 decimals.
    """
    import json

    return (
        [
            json.dumps({k: round(float(v), 4) for k, v in row.items() if pd.notna(v)})
            for row in effects.to_dict("records")
        ]
        if len(effects.columns)
        else ["{}"] * len(effects)
    )


def parse_effects(value: object) -> dict[str, float]:
    """The event -> effect mapping of an ``event_effects`` cell (empty when missing)."""
    import json

    if not isinstance(value, str) or not value:
        return {}
    return {str(k): float(v) for k, v in json.loads(value).items()}


def parse_bands(prom_text: str) -> list[Any]:
    """The metric families of a ``bands.prom`` text (``prometheus_client``'s parser)."""
    from prometheus_client.parser import text_string_to_metric_families

    return list(text_string_to_metric_families(prom_text))


def current_hour_text(bands: str | list[Any], now: pd.Timestamp) -> str:
    """The samples of ``bands`` for the hour holding ``now``, with the ``hour`` label dropped.

    ``bands`` is a ``bands.prom`` text or its :func:`parse_bands` families. Daily
    bands (one row per day) answer for every hour of their day. Run-level metrics
    are kept as they are; ``juno_bands_current`` says whether the run covers
    ``now`` (0 means the newest run is stale or not yet valid).
    """
    families = parse_bands(bands) if isinstance(bands, str) else bands
    hours = sorted({s.labels["hour"] for f in families for s in f.samples if "hour" in s.labels})
    chosen = _hour_for(hours, pd.Timestamp(now))
    out: list[str] = []
    for fam in families:
        samples = [s for s in fam.samples if "hour" not in s.labels or s.labels["hour"] == chosen]
        if not samples:
            continue
        out += _header(fam.name, "gauge", fam.documentation)
        for s in samples:
            lab = {k: v for k, v in s.labels.items() if k != "hour"}
            out.append(f"{s.name}{labels(**lab) if lab else ''} {_number(s.value)}")
    out += _header(
        "juno_bands_current", "gauge", "1 when the newest run has bands for the current hour."
    )
    out.append(f"juno_bands_current {1 if chosen is not None else 0}")
    return "\n".join(out) + "\n"


def _hour_for(hours: list[str], now: pd.Timestamp) -> str | None:
    """The label among ``hours`` whose period holds ``now`` (hourly, or daily rows)."""
    if not hours:
        return None
    stamps = pd.to_datetime(pd.Series(hours), format=HOUR_FORMAT)
    step = stamps.diff().min() if len(stamps) > 1 else pd.Timedelta(hours=1)
    step = step if step in (pd.Timedelta(hours=1), pd.Timedelta(days=1)) else pd.Timedelta(hours=1)
    for label, ts in zip(hours, stamps, strict=True):
        if ts <= now < ts + step:
            return label
    return None
