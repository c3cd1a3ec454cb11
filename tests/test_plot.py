"""plot_forecast / plot_effects: real figures with the parts a reader needs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from juno_forecast.plot import observed_effects, plot_effects, plot_forecast


def _frames():
    idx = pd.date_range("2015-03-02", periods=7 * 24, freq="h")
    yhat = 100 + 50 * np.sin(np.arange(len(idx)) / 24 * 2 * np.pi)
    fc = pd.DataFrame(
        {
            "yhat": yhat,
            "lo_80": yhat * 0.9,
            "hi_80": yhat * 1.1,
            "lo_95": yhat * 0.8,
            "hi_95": yhat * 1.2,
        },
        index=idx,
    )
    actual = pd.Series(yhat, index=idx)
    actual.iloc[30:36] *= 0.4
    actual.iloc[100:104] *= 1.6
    day = pd.Timestamp("2015-03-03")
    events = pd.DataFrame(
        [
            {
                "name": "A long event name that needs room",
                "start": day,
                "end": day,
                "window_start": day,
                "window_end": day,
                "effect": {"trips": -0.5},
            },
            {
                "name": "Second event the same day",
                "start": day,
                "end": day,
                "window_start": day,
                "window_end": day,
                "effect": {},
            },
            {
                "name": "Later event",
                "start": pd.Timestamp("2015-03-06"),
                "end": pd.Timestamp("2015-03-06"),
                "window_start": pd.Timestamp("2015-03-05"),
                "window_end": pd.Timestamp("2015-03-06"),
                "effect": {"trips": 0.2},
            },
        ]
    )
    incidents = pd.DataFrame(
        [
            {
                "start": idx[30],
                "end": idx[35],
                "peak_ds": idx[33],
                "explanation": "explained",
                "explained_by": "A long event name that needs room",
            },
            {
                "start": idx[100],
                "end": idx[103],
                "peak_ds": idx[101],
                "explanation": "unexplained",
                "explained_by": "",
            },
        ]
    )
    return actual, fc, events, incidents


def _overlap(a, b) -> bool:
    return not (a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0)


def test_plot_forecast_draws_bands_events_incidents_without_label_overlap(tmp_path):
    actual, fc, events, incidents = _frames()
    fig = plot_forecast(actual, fc, events=events, incidents=incidents, title="trips, zone=Bronx")
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "trips, zone=Bronx"
    assert ax.get_xlabel() == "New York local time"
    labels = [t for t in ax.texts if t.get_text() in set(events["name"])]
    assert len(labels) == 3
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in labels]
    assert not any(_overlap(boxes[i], boxes[j]) for i in range(3) for j in range(i + 1, 3))
    colors = {matplotlib.colors.to_hex(line.get_color()) for line in ax.lines}
    assert "#d62728" in colors and "#ff9f1a" in colors  # unexplained and explained marked
    assert len(ax.collections) >= 2  # the two bands
    path = tmp_path / "f.png"
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_observed_effects_and_plot_effects():
    actual, fc, events, _ = _frames()
    pts = pd.DataFrame({"actual": actual, "expected": fc["yhat"]})
    eff = observed_effects(pts, events, "trips")
    row = eff.set_index("name").loc["A long event name that needs room"]
    expected = actual.loc["2015-03-03"].sum() / fc["yhat"].loc["2015-03-03"].sum() - 1
    assert row["curated"] == -0.5 and row["observed"] == pytest_approx(expected)
    assert np.isnan(eff.set_index("name").loc["Second event the same day", "curated"])
    fig = plot_effects(eff)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == list(eff["name"])
    widths = [p.get_width() for p in ax.patches]
    assert -50.0 in widths and any(abs(w - 100 * expected) < 1e-6 for w in widths)


def pytest_approx(v):
    import pytest

    return pytest.approx(v, rel=1e-9)
