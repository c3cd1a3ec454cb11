"""Ranges on event hours: the expected value carries the event's effect, and the range
its uncertainty (a prior's ``spread``, a learned effect's dispersion over past occurrences);
ordinary hours keep their ranges."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.forecast import SeriesForecaster, backtest_predictions
from juno_forecast.intervals import effect_half_widths, occurrence_effect

REPO = Path(__file__).resolve().parents[1]


def _hourly(start: str, end: str, seed: int = 0) -> pd.Series:
    idx = pd.date_range(start, end, freq="h")
    mean = 300 * (1 + 0.6 * np.sin(2 * np.pi * (idx.hour - 6) / 24))
    return pd.Series(np.random.default_rng(seed).poisson(mean).astype(float), index=idx)


def _calendar(tmp_path: Path, spread: str) -> Calendar:
    path = tmp_path / f"cal{len(spread)}.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        events:
          - name: Street fair
            category: event
            date: 2024-02-20
            effect: {{trips: -0.3}}
            {spread}
    """)
    )
    return Calendar.load(path)


def _predict(cal: Calendar) -> pd.DataFrame:
    y = _hourly("2024-01-01", "2024-02-18 23:00")
    f = SeriesForecaster("ols", cal, "trips", None, "h").fit(y)
    return f.predict(pd.date_range("2024-02-19", periods=72, freq="h"))


def test_a_prior_widens_its_hours_by_its_spread_and_nothing_else(tmp_path: Path):
    sure = _predict(_calendar(tmp_path, "spread: {trips: 0.0}"))
    unsure = _predict(_calendar(tmp_path, "spread: {trips: 0.2}"))
    default = _predict(_calendar(tmp_path, ""))  # 0.4 x 0.3 = 0.12
    day = sure.index.normalize() == pd.Timestamp("2024-02-20")
    assert np.allclose(sure["yhat"], unsure["yhat"])  # the effect is carried either way
    for col in ("lo_80", "hi_80", "lo_95", "hi_95"):
        assert np.allclose(sure.loc[~day, col], unsure.loc[~day, col])  # ordinary hours kept
    width = {
        k: (f["hi_95"] - f["lo_95"])[day] for k, f in [("0", sure), ("d", default), ("u", unsure)]
    }
    assert (width["0"] < width["d"]).all() and (width["d"] < width["u"]).all()
    # an 80% range of the effect alone at spread 0.2: -30% +- 26%, i.e. 0.7 x (0.74 .. 1.26)
    ratio_lo = unsure.loc[day, "lo_80"] / unsure.loc[day, "yhat"]
    ratio_hi = unsure.loc[day, "hi_80"] / unsure.loc[day, "yhat"]
    assert (ratio_lo < 1 - 0.256 / 0.7).all() and (ratio_hi > 1 + 0.256 / 0.7).all()


def test_effect_half_widths_are_those_of_the_effect_range():
    lo, hi = effect_half_widths(np.array([-0.3]), np.array([0.1]), 0.8)
    z = 1.2815515655446004
    assert lo[0] == pytest.approx(np.log(0.7) - np.log(0.7 - z * 0.1))
    assert hi[0] == pytest.approx(np.log(0.7 + z * 0.1) - np.log(0.7))
    none = effect_half_widths(np.zeros(3), np.zeros(3), 0.95)
    assert np.allclose(none, 0.0)


def test_a_learned_effect_is_measured_on_past_occurrences_with_its_dispersion():
    """Daily data, an event on 6 separate days with effects -10% .. -40%: the measured
    effect is their mean, the spread their standard deviation (next-day inflation)."""
    idx = pd.date_range("2024-01-01", periods=140, freq="D")
    y = np.full(len(idx), 1000.0)
    days = [20, 41, 62, 83, 104, 125]
    effects = [-0.1, -0.2, -0.3, -0.4, -0.25, -0.15]
    active = np.zeros(len(idx), bool)
    for d, e in zip(days, effects, strict=True):
        y[d] *= 1 + e
        active[d] = True
    effect, spread = occurrence_effect(y, active, idx.asi8, 7)
    logs = np.log1p(y[days]) - np.log1p(1000.0)
    assert effect == pytest.approx(np.expm1(logs.mean()))
    sd = np.std(logs, ddof=1) * np.sqrt(1 + 1 / 6) * (1 + effect)
    assert spread == pytest.approx(sd)
    # two occurrences only: the calendar's default rule on the measured effect
    two = np.zeros(len(idx), bool)
    two[days[:2]] = True
    e2, s2 = occurrence_effect(y, two, idx.asi8, 7)
    assert s2 == pytest.approx(max(0.05, 0.4 * abs(e2)), abs=1e-6)


def test_sample_event_hours_are_covered_near_their_level():
    """The bundled sample, hourly, weeks starting on event days (Memorial Day weekend,
    Thanksgiving, Christmas, Ramadan with Presidents' Day week): the 80% and 95% ranges
    hold on event hours within 10 points of their level."""
    df = pd.read_parquet(REPO / "data" / "sample.parquet")
    df = df[df["borough"].isin(["Manhattan", "Queens"])]
    parts = [
        backtest_predictions(df, o, o, "4D", "7D", model="ols", by=["borough"])
        for o in ("2025-05-23", "2025-11-26", "2025-12-23", "2026-02-18")
    ]
    p = pd.concat(parts, ignore_index=True)
    ev = p[p["events"] != ""]
    assert len(ev) > 1000
    cov80 = ((ev["y"] >= ev["lo_80"]) & (ev["y"] <= ev["hi_80"])).mean()
    cov95 = ((ev["y"] >= ev["lo_95"]) & (ev["y"] <= ev["hi_95"])).mean()
    assert abs(cov80 - 0.80) <= 0.10, cov80
    assert abs(cov95 - 0.95) <= 0.10, cov95


def test_a_learned_event_widens_its_range_by_the_dispersion_of_its_past_days(tmp_path: Path):
    """A daily series with an event every other Wednesday: when its past days moved by -10%
    and -50% in turn, the next one's range is wider than when they all moved by -30%."""
    idx = pd.date_range("2024-01-01", periods=168, freq="D")
    on = (idx.day_of_week == 2) & ((idx.day_of_year // 7) % 2 == 0)
    path = tmp_path / "cal.yaml"
    dates = ", ".join(str(d.date()) for d in idx[on]) + ", 2024-06-19"
    path.write_text(f"events:\n  - {{name: Market, category: event, dates: [{dates}]}}\n")
    cal = Calendar.load(path)
    noise = np.random.default_rng(3).normal(0, 0.03, len(idx))
    widths = {}
    for label, effects in (("steady", [-0.3, -0.3]), ("erratic", [-0.1, -0.5])):
        y = 1000 * np.exp(noise)
        y[np.flatnonzero(on)] *= 1 + np.resize(effects, on.sum())
        f = SeriesForecaster("ols", cal, "trips", None, "D").fit(pd.Series(y, index=idx))
        out = f.predict(pd.date_range("2024-06-17", periods=7, freq="D"))
        assert out.loc["2024-06-19", "events"] == "Market"
        widths[label] = np.log(out["hi_95"] / out["lo_95"])
        effect, spread = f.learned_effects_["Market"]
        assert effect == pytest.approx(-0.3, abs=0.05)
    assert widths["erratic"]["2024-06-19"] > 1.5 * widths["steady"]["2024-06-19"]
