"""Flagged deviations (``detect``), expected ranges (``expect``) and the release check (``check``).

How detection works, and why:

* **Expectation without look-ahead.** For every day of the range, a forecaster is fitted
  on the series' history *before that day* and predicts that day (``refit="1D"``; a
  longer ``refit`` reuses one fit for several days, still never seeing the days it
  predicts). Changing data after a day cannot change that day's expectation.
* **A normal-day baseline.** Detection asks "did the metric leave its normal range?",
  so the expectation is fitted *without* calendar events (the default model is the
  robust ``baseline``: a level-adjusted median of the same hour of the same weekday
  over the last 8 weeks, robust to a holiday or storm in them, with ranges calibrated
  per hour of the day because nights vary more than middays). The calendar is then
  used to *explain* what left the range: an incident is explained by the events whose
  days or window, hours and scope (metric, zone) overlap it. When the deviation is
  larger than the event's curated effect, ``note`` says so. ``expect`` on the other
  hand forecasts *with* the calendar: it is what a developer should see next week.
* **Incidents.** Points outside the band of the chosen ``level`` form runs per series
  (gaps of ``max_gap`` points inside the band are bridged); runs shorter than
  ``min_points`` are dropped unless extreme. Hourly, a *window test* also flags 3, 4 or
  6 hours in a row that are each inside their band but together clearly off (their
  summed standardised residuals beyond what the series' own calibration weeks show):
  a 35% drop for a few hours in a small zone, where counting noise hides any single
  hour. ``severity`` is the excess beyond the band (for an hour flagged only by its
  window: beyond the window's per-hour limit)
  summed over the run, in hours of the series' average volume ("4.5" = as much as 4.5
  ordinary hours missing or extra beyond the range), so it grows with size and duration
  and compares across series of different sizes.
* **Daylight saving.** Hours that do not exist or occur twice in New York wall-clock time
  are never flagged (the loader fills them), nor any hour from 1 to 8 am of those two
  days (the night's tail arrives an hour early or late); daily values of 23- and 25-hour days are
  compared with a band widened by the gained or lost hour when values are sums.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, JunoError, SeriesError
from .features import empty_occurrences

TZ = "America/New_York"
INCIDENT_COLUMNS = [
    "metric",
    "start",
    "end",
    "peak_ds",
    "direction",
    "actual",
    "expected",
    "lo",
    "hi",
    "deviation_pct",
    "severity",
    "explained_by",
    "note",
]
BAND_COLUMNS = ["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]
VERDICT_OK = "ok"
VERDICT_EXPLAINED = "explained deviation"
VERDICT_UNEXPLAINED = "UNEXPLAINED deviation"
#: a run shorter than ``min_points`` is still an incident when it is this many
#: band half-widths beyond the band at its peak (a real one-hour outage).
EXTREME_SCORE = 3.0
#: an incident is "larger than" an event's effect when it exceeds it by this factor
#: and by at least this many percentage points.
LARGER_FACTOR = 1.25
LARGER_MIN_PP = 10.0
#: The window test (hourly data): a sustained modest shift (a 30% drop for 3 hours in a
#: small zone, where every hour alone is inside its band) is flagged when the sum of the
#: standardised residuals of ``k`` consecutive hours, divided by ``sqrt(k)`` and by the
#: series' own window scale (how much its errors of neighbouring hours move together,
#: calibrated on the weeks before), reaches ``WINDOW_THRESHOLD``.
WINDOW_HOURS = (3, 4, 6)
#: at the 95% level (other levels scale it like the band's quantile): about 1 in 30,000
#: windows of independent normal errors, rare next to the 5% of single hours outside a
#: 95% band (the synthetic benchmark's false alarms stay below 0.25 per series-month)
WINDOW_THRESHOLD = 4.0
#: one hour adds at most this much to a window: a single blip (or a filled missing hour)
#: cannot make a window incident by itself; that is the single-point test's job
WINDOW_CLIP = 4.0
#: an hour of a passing window is flagged only when it deviates by at least this share of
#: the window's per-hour limit itself: the quiet hours next to a shock do not join it
WINDOW_MIN_SHARE = 0.75
#: window scale for models that do not calibrate one (errors of neighbouring hours
#: assumed to move together about as much as on the real NYC series)
WINDOW_DEFAULT_SCALE = 1.5
#: on the two daylight-saving days, the hours from the change to this hour are not
#: flagged: the night's tail (bars closing, the last trains) moves by an hour
DST_SETTLED_HOUR = 8
#: weight of an hour's own multiplicative variance against the pooled one (geometric
#: mean): 28 days x 3 hours of errors estimate it with some noise
SLOT_WEIGHT = 0.5


# --------------------------------------------------------------------------- inputs


def parse_timestamp(value: Any, name: str) -> pd.Timestamp:
    """``value`` as a naive New York wall-clock Timestamp, or an InputError naming ``name``."""
    if isinstance(value, pd.Timestamp):
        ts = value
    else:
        try:
            ts = pd.Timestamp(value)
        except (ValueError, TypeError) as e:
            raise InputError(
                f"{name}: expected a date or timestamp like 2015-02-01, got {value!r}"
            ) from e
    if ts is pd.NaT or pd.isna(ts):
        raise InputError(f"{name}: expected a date or timestamp like 2015-02-01, got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert(TZ).tz_localize(None)
    return ts


def parse_range(
    start: Any, end: Any, names: tuple[str, str] = ("--start", "--end")
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Both ends parsed; an end given as a bare date covers that whole day; start <= end."""
    s = parse_timestamp(start, names[0])
    e = parse_timestamp(end, names[1])
    if _is_bare_date(end, e):
        e = e + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    if s > e:
        raise InputError(f"{names[0]} {s} is after {names[1]} {e}")
    return s, e


def _is_bare_date(raw: Any, ts: pd.Timestamp) -> bool:
    return isinstance(raw, str) and len(raw.strip()) <= 10 and ts == ts.normalize()


def check_level(level: float) -> float:
    """The detection level as a float in [0.5, 0.999]."""
    try:
        level = float(level)
    except (TypeError, ValueError) as e:
        raise InputError(f"--level: expected a number between 0.5 and 0.999, got {level!r}") from e
    if not 0.5 <= level <= 0.999:
        raise InputError(f"--level: expected a number between 0.5 and 0.999, got {level}")
    return level


def resolve_dataset(data: Any, **data_kwargs: Any):
    """A :class:`juno_forecast.data.Dataset` from a path, a Dataset or a tidy DataFrame.

    A missing file is reported here (one line naming it); the rest is ``data.as_dataset``.
    """
    from .data import as_dataset

    if isinstance(data, str | os.PathLike) and not os.path.exists(data):
        raise InputError(f"{data}: no such file")
    return as_dataset(data, **data_kwargs)


class _NoEvents:
    """FALLBACK while ``juno_forecast.calendar`` is unavailable: a calendar with no events."""

    def occurrences(self, start: Any, end: Any, **_: Any) -> pd.DataFrame:
        return pd.DataFrame()


def resolve_calendar(calendar: Any = None, weather: Any = None):
    """A Calendar: None -> the shipped one, ``"none"`` -> empty, a path -> loaded; plus weather."""
    off = isinstance(calendar, str) and calendar.strip().lower() == "none"
    try:
        from .calendar import Calendar
    except ImportError:  # calendar package not complete: only "no calendar" works
        if off or isinstance(calendar, _NoEvents):
            return _NoEvents()
        raise InputError("the calendar module is not available; use --calendar none") from None
    if isinstance(calendar, Calendar) or hasattr(calendar, "occurrences"):
        cal = calendar
    elif off:
        cal = Calendar.empty()
    else:
        if calendar is not None and not os.path.exists(calendar):
            raise InputError(f"{calendar}: no such calendar file")
        cal = Calendar.load(calendar)
    if weather is not None:
        if not os.path.exists(weather):
            raise InputError(f"{weather}: no such weather file")
        cal = cal.with_weather(weather)
    return cal


def check_model(model: str) -> str:
    """``model`` if detection knows it (``baseline`` or a forecasting model name)."""
    names = set(DETECT_MODELS)
    try:
        from .models import MODEL_NAMES

        names |= set(MODEL_NAMES)
    except ImportError:  # models not installed yet: only the built-in baseline
        pass
    if model not in names:
        raise InputError(
            f"--model: unknown model {model!r}; expected one of {', '.join(sorted(names))}"
        )
    return model


# ------------------------------------------------------------------ expectation


class RobustBaseline:
    """The normal-day expectation used by detection (``model="baseline"``).

    The expectation of each slot of the coming week (hour of week, or weekday for daily
    data) is the median of that slot over the ``weeks`` (8) weeks before the last one, scaled
    by the level of the last week (the median ratio of last week's values to that
    profile). Medians make one storm or holiday in the history harmless; the level
    factor follows growth. Ranges are calibrated on the series itself: one-day-ahead
    log errors of the same procedure over the last ``calib_weeks`` weeks, standardised
    by a count-noise term (``1/(expected+1)``, large at night, small at rush hour) plus a
    multiplicative term fitted per hour of the day (with its neighbours), whose quantiles
    give the 80% and 95% bands. Fitting is a
    few numpy operations: cheap enough to refit every day.
    """

    def __init__(self, freq: str = "h", weeks: int = 8, calib_weeks: int = 4):
        self.freq = freq
        self.weeks = weeks
        self.calib_weeks = calib_weeks

    def _season(self) -> int:
        return 168 if self.freq == "h" else 7

    def _per_day(self) -> int:
        return 24 if self.freq == "h" else 1

    def _profile(self, y: np.ndarray) -> np.ndarray:
        """Median of each slot over the last ``weeks`` whole weeks; slot 0 = the next value."""
        s = self._season()
        n = min(self.weeks, len(y) // s)
        block = y[len(y) - n * s :].reshape(n, s)
        if not np.isnan(block).any():
            return np.median(block, axis=0)  # the usual case, and far faster than nanmedian
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(block, axis=0)

    def _expect(self, y: np.ndarray) -> np.ndarray:
        """The next week's expectation (one value per slot) from the history ``y``.

        With more than ``weeks`` whole weeks: the profile of the weeks before the last one
        times last week's level. With less: the median of all whole weeks (no level).
        """
        s = self._season()
        if len(y) < (self.weeks + 1) * s:
            return self._profile(y)
        past = self._profile(y[:-s])
        recent = y[-s:]
        ok = np.isfinite(recent) & np.isfinite(past) & (past > 0)
        lvl = (
            float(np.clip(np.median(recent[ok] / past[ok]), 0.3, 3.0))
            if ok.sum() >= s // 3
            else 1.0
        )
        return past * lvl

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> RobustBaseline:
        """Keep the history and calibrate the ranges on its last weeks (no look-ahead)."""
        s = self._season()
        if len(y) < 2 * s:
            raise ValueError(f"needs at least 2 weeks of history, got {len(y)} points")
        values = y.to_numpy(dtype=float)
        self.history_ = values
        self.last_ds_ = y.index[-1]
        self.step_ = pd.Timedelta(hours=1) if self.freq == "h" else pd.Timedelta(days=1)
        self.season_ = np.maximum(self._expect(values), 0.0)
        errors = self._errors(values)
        self.c2_, self.quantiles_ = self._calibrate(*errors)
        self.window_scale_ = self._window_scale(*errors) if self.freq == "h" else {}
        return self

    def _errors(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log errors, their count-noise variance and slot of the day (0 = the first value
        after a fit's history: midnight for detection's daily refits) of one-day-ahead
        expectations over the calibration weeks, in time order."""
        per_day, s = self._per_day(), self._season()
        days = min(self.calib_weeks * 7, (len(values) - 2 * s) // per_day)
        errs, v0, slot = [], [], []
        for d in range(days, 0, -1):
            cut = len(values) - d * per_day
            pred = np.maximum(self._expect(values[:cut])[:per_day], 0.0)
            act = values[cut : cut + per_day]
            ok = np.isfinite(act) & np.isfinite(pred)
            errs.append(np.log1p(np.maximum(act[ok], 0)) - np.log1p(pred[ok]))
            v0.append(1.0 / (pred[ok] + 1.0))
            slot.append(np.flatnonzero(ok))
        if not errs:
            return np.array([]), np.array([]), np.array([], dtype=int)
        return np.concatenate(errs), np.concatenate(v0), np.concatenate(slot)

    def _slot_c2(self, e: np.ndarray, v0: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Multiplicative variance per slot of the day (hourly: each hour with its two
        neighbours, so 3 x 28 errors; nights in airport zones vary far more than
        middays); slots with too few errors take the pooled value."""
        pooled = max(_mad(e) ** 2 - float(np.median(v0)), 1e-4)
        per_day = self._per_day()
        c2 = np.full(per_day, pooled)
        if per_day == 1:
            return c2
        for h in range(per_day):
            dist = np.minimum((slot - h) % per_day, (h - slot) % per_day)
            sel = dist <= 1
            if sel.sum() >= 30:
                own = max(_mad(e[sel]) ** 2 - float(np.median(v0[sel])), 1e-4)
                c2[h] = own**SLOT_WEIGHT * pooled ** (1 - SLOT_WEIGHT)
        return c2

    def _calibrate(
        self, e: np.ndarray, v0: np.ndarray, slot: np.ndarray
    ) -> tuple[np.ndarray, dict[float, tuple[float, float]]]:
        """Multiplicative variance per slot of the day and standardised error quantiles per level."""
        if len(e) < 7:
            return np.full(self._per_day(), 0.04), {0.8: (-1.28, 1.28), 0.95: (-1.96, 1.96)}
        c2 = self._slot_c2(e, v0, slot)
        z = e / np.sqrt(c2[slot] + v0)
        zmad = _mad(z)
        z = z[np.abs(z - np.median(z)) <= 6 * max(zmad, 1e-9)]  # past incidents must not widen it
        scale = _mad(z)
        out = {}
        for level in (0.8, 0.95):
            a = (1 - level) / 2
            normal = NormalDist().inv_cdf(1 - a) * max(scale, 1.0) * (1 + 2.5 / len(z))
            if len(z) >= 200:
                lo, hi = np.quantile(z, [a, 1 - a])
                out[level] = (min(float(lo), -normal), max(float(hi), normal))
            else:
                out[level] = (-normal, normal)
        return c2, out

    def _window_scale(self, e: np.ndarray, v0: np.ndarray, slot: np.ndarray) -> dict[int, float]:
        """Per window length k: robust spread of k-hour sums of the calibration errors over
        that of independent ones (1 when neighbouring hours' errors are unrelated, more when a
        whole evening runs high together), so the window test keeps its false-alarm rate."""
        if len(e) < 48:
            return {k: WINDOW_DEFAULT_SCALE for k in WINDOW_HOURS}
        z = e / np.sqrt(self.c2_[slot] + v0)
        z = (z - np.median(z)) / max(_mad(z), 1e-9)
        z = np.clip(z, -WINDOW_CLIP, WINDOW_CLIP)
        base = max(_mad(z), 1e-9)
        out = {}
        for k in WINDOW_HOURS:
            sums = np.convolve(z, np.ones(k), "valid") / np.sqrt(k)
            out[k] = float(np.clip(_mad(sums) / base, 1.0, 3.0))
        return out

    def predict(self, X: pd.DataFrame | pd.DatetimeIndex) -> pd.DataFrame:
        """Expectation and 80/95% ranges for timestamps ``X`` (or its index) after the history;
        hourly also the window scale of each window length (``wscale_3`` ...)."""
        index = X if isinstance(X, pd.DatetimeIndex) else X.index
        steps = np.round((index - self.last_ds_) / self.step_).astype(int)
        if len(index) and steps.min() < 1:
            raise ValueError("predict() needs timestamps after the fitted history")
        yhat = self.season_[(np.asarray(steps) - 1) % self._season()]
        cols: dict[str, Any] = {"yhat": yhat}
        log_hat = np.log1p(yhat)
        c2 = self.c2_[(np.asarray(steps) - 1) % len(self.c2_)]
        sd = np.sqrt(c2 + 1.0 / (yhat + 1.0))
        for level, tag in ((0.8, "80"), (0.95, "95")):
            lo, hi = self.quantiles_[level]
            cols[f"lo_{tag}"] = np.maximum(np.expm1(log_hat + lo * sd), 0.0)
            cols[f"hi_{tag}"] = np.expm1(log_hat + hi * sd)
        for k, scale in getattr(self, "window_scale_", {}).items():
            cols[f"wscale_{k}"] = np.full(len(yhat), scale)
        return pd.DataFrame(cols, index=index)


def _mad(x: np.ndarray) -> float:
    """Median absolute deviation scaled to a normal sd."""
    return float(1.4826 * np.median(np.abs(x - np.median(x)))) if len(x) else 0.0


DETECT_MODELS = ("baseline",)


def make_expectation(
    model: str, freq: str, metric: str, keys: dict[str, str], seed: int = 0, calendar: Any = None
) -> Any:
    """A fresh, unfitted expectation model: the robust baseline, or a SeriesForecaster."""
    if model == "baseline":
        return RobustBaseline(freq=freq)
    from .forecast import SeriesForecaster

    # calendar=None: SeriesForecaster's "no events" (detection's normal-day expectation)
    return SeriesForecaster(
        model=model, calendar=calendar, metric=metric, keys=keys, freq=freq, seed=seed
    )


def _predict_frame(model: Any, index: pd.DatetimeIndex) -> pd.DataFrame:
    pred = model.predict(index)
    extra = [c for c in pred.columns if str(c).startswith("wscale_")]
    return pred.reindex(index)[BAND_COLUMNS + extra]


def day_blocks(
    start: pd.Timestamp, end: pd.Timestamp, refit: str | pd.Timedelta = "1D"
) -> Iterator[tuple[pd.Timestamp, pd.Timestamp]]:
    """Consecutive [block_start, block_end) spans, each starting at midnight, covering start..end."""
    step = pd.Timedelta(refit)
    if step < pd.Timedelta(days=1) or step % pd.Timedelta(days=1):
        raise InputError(f"refit: expected a whole number of days, got {refit!r}")
    b = start.normalize()
    while b <= end:
        yield b, b + step
        b = b + step


#: history a day needs before it gets an expectation: two weeks (the weekly cycle twice)
MIN_HISTORY_WEEKS = 2


def _min_history(y: pd.Series) -> int:
    step = (y.index[1] - y.index[0]) if len(y) > 1 else pd.Timedelta(hours=1)
    return int(pd.Timedelta(weeks=MIN_HISTORY_WEEKS) / step) + 2


def rolling_expectation(
    y: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    make: Callable[[], Any],
    refit: str = "1D",
    series: str = "series",
) -> pd.DataFrame:
    """Expectation for each timestamp of ``y`` in [start, end] from the history before its day.

    One model is fitted per block of ``refit`` days, on the data strictly before the
    block's first midnight, and predicts the whole block: no timestamp's expectation
    ever sees its own day or any later one. Days with less than two weeks of history
    before them get no expectation (they are left out, not guessed); a series where no
    day has enough is a :class:`SeriesError`.
    """
    frames, need = [], _min_history(y)
    for b0, b1 in day_blocks(start, end, refit):
        idx = y.index[(y.index >= max(b0, start)) & (y.index < b1) & (y.index <= end)]
        hist = y[y.index < b0]
        if not len(idx) or hist.notna().sum() < need:
            continue
        try:
            model = make().fit(hist)
            frames.append(_predict_frame(model, idx))
        except JunoError:
            raise
        except Exception as e:  # noqa: BLE001 - a model failing on one series: name it, go on
            raise SeriesError(series, f"cannot fit the expectation before {b0.date()}: {e}") from e
    if not frames:
        if len(y) and y.index[y.index <= end].size and y.index[0] <= end:
            first = (y.index[0] + need * (y.index[1] - y.index[0])).ceil("D")
            raise SeriesError(
                series,
                f"no day in the range has two weeks of history before it "
                f"(data start {y.index[0]:%Y-%m-%d}; first day possible {first:%Y-%m-%d})",
            )
        return pd.DataFrame(
            columns=["actual", *BAND_COLUMNS], index=pd.DatetimeIndex([], name="ds")
        )
    out = pd.concat(frames)
    out.insert(0, "actual", y.reindex(out.index).to_numpy(dtype=float))
    out.index.name = "ds"
    return out


# --------------------------------------------------------------------- flagging


def band(points: pd.DataFrame, level: float) -> tuple[pd.Series, pd.Series]:
    """Lower and upper bound at ``level``: the 80/95% columns, or scaled from the 95% band."""
    if abs(level - 0.95) < 1e-9:
        return points["lo_95"], points["hi_95"]
    if abs(level - 0.8) < 1e-9:
        return points["lo_80"], points["hi_80"]
    z = NormalDist().inv_cdf(0.5 + level / 2) / NormalDist().inv_cdf(0.975)
    yhat = points["yhat"]
    return yhat - (yhat - points["lo_95"]) * z, yhat + (points["hi_95"] - yhat) * z


def dst_hours(index: pd.DatetimeIndex) -> np.ndarray:
    """True for wall-clock hours that do not exist or occur twice in New York (DST changes),
    and the hours after them up to ``DST_SETTLED_HOUR`` of the same day (the night's tail
    shifts by an hour on those days: 4 am looks like a normal 3 am)."""
    if not len(index):
        return np.zeros(0, dtype=bool)
    loc = index.tz_localize(TZ, ambiguous="NaT", nonexistent="NaT")
    odd = np.asarray(loc.isna())
    days = index.normalize().unique()
    change_days = days[hours_in_day(days) != 24]
    if not len(change_days):
        return odd
    hour = np.asarray(index.hour)
    on_change_day = np.asarray(index.normalize().isin(change_days))
    return odd | (on_change_day & (hour >= 1) & (hour < DST_SETTLED_HOUR))


def hours_in_day(days: pd.DatetimeIndex) -> np.ndarray:
    """Real hours in each New York calendar day (23 or 25 on DST changes, else 24)."""
    start = days.normalize().tz_localize(TZ, ambiguous=True, nonexistent="shift_forward")
    nxt = (days.normalize() + pd.Timedelta(days=1)).tz_localize(
        TZ, ambiguous=True, nonexistent="shift_forward"
    )
    return np.asarray((nxt - start) / pd.Timedelta(hours=1))


def flag_points(
    points: pd.DataFrame, level: float = 0.95, freq: str = "h", agg: str = "sum"
) -> pd.DataFrame:
    """Per timestamp: actual, expected, lo, hi, excess beyond the band, score and flag.

    A point is flagged when it is outside the band of ``level``, or (hourly) when it
    belongs to a window of consecutive hours that passes :func:`window_test` and deviates
    in the window's direction. ``z`` is the excess in band half-widths; ``excess`` the
    distance beyond the band (or, for a point flagged only by its window, beyond the
    window's per-hour limit); ``score`` the excess in hours of the series' average expected
    volume (so a daily point weighs 24 hours). DST hours are never flagged; for daily sums
    the expectation of 23/25-hour days is scaled.
    """
    lo, hi = band(points, level)
    out = pd.DataFrame(
        {
            "actual": points["actual"].astype(float),
            "expected": points["yhat"].astype(float),
            "lo": lo.astype(float),
            "hi": hi.astype(float),
        },
        index=points.index,
    )
    if freq == "D" and agg == "sum" and len(out):
        # a 23-hour day may lose up to an hour of volume, a 25-hour day gain one: the band
        # widens on the side of that hour (whose share of the day is unknown at daily grain)
        scale = hours_in_day(out.index) / 24.0
        out["lo"] = out["lo"] * np.minimum(scale, 1.0)
        out["hi"] = out["hi"] * np.maximum(scale, 1.0)
    above = (out["actual"] > out["hi"]).to_numpy()
    below = (out["actual"] < out["lo"]).to_numpy()
    excess = np.where(
        above, out["actual"] - out["hi"], np.where(below, out["lo"] - out["actual"], 0.0)
    )
    half = ((out["hi"] - out["lo"]) / 2).clip(lower=1e-9)
    out["z"] = excess / half  # beyond the point's own band, in half-widths
    skip = dst_hours(out.index) if freq == "h" else np.zeros(len(out), dtype=bool)
    usable = out["actual"].notna().to_numpy() & ~skip
    if freq == "h" and len(out):
        w_excess, w_sign = _window_excess(out, points, level, usable)
        above |= w_sign > 0
        below |= w_sign < 0
        excess = np.maximum(excess, w_excess)
    unit = max(float(out["expected"].mean()), 1e-9) if len(out) else 1.0
    out["excess"] = excess
    out["score"] = excess / unit * (1.0 if freq == "h" else 24.0)
    out["direction"] = np.where(above, "above", np.where(below, "below", ""))
    out["flag"] = (above | below) & usable
    out.loc[~out["flag"], ["score", "excess", "z"]] = 0.0
    out.loc[~out["flag"], "direction"] = ""
    return out


def standardized_residuals(flagged: pd.DataFrame, level: float) -> np.ndarray:
    """Log residuals in normal-equivalent sds of the band (about +-1.96 at a 95% band's edges).

    The band of each side gives that side's sd, so asymmetric (log-scale) bands are
    respected; NaN where the actual is missing.
    """
    q = NormalDist().inv_cdf(0.5 + level / 2)
    act = flagged["actual"].to_numpy(dtype=float)
    exp = np.maximum(flagged["expected"].to_numpy(dtype=float), 0.0)
    r = np.log1p(np.maximum(act, 0.0)) - np.log1p(exp)
    up = (np.log1p(np.maximum(flagged["hi"].to_numpy(dtype=float), 0.0)) - np.log1p(exp)) / q
    dn = (np.log1p(exp) - np.log1p(np.maximum(flagged["lo"].to_numpy(dtype=float), 0.0))) / q
    sd = np.where(r > 0, up, dn)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 1e-12, r / sd, 0.0) + np.where(np.isnan(act), np.nan, 0.0)


def window_test(
    z: np.ndarray, scales: dict[int, np.ndarray], threshold: float = WINDOW_THRESHOLD
) -> tuple[np.ndarray, np.ndarray]:
    """Hours flagged by a window of consecutive hours: (sign per hour, mean z the window needed).

    For each ``k`` in ``WINDOW_HOURS``, a window whose clipped residuals sum to at least
    ``threshold * sqrt(k) * scale`` (scale: the series' window scale at the window's
    first hour) flags its hours that deviate in the window's direction by at least
    ``WINDOW_MIN_SHARE`` of the window's per-hour limit. ``z``: standardised
    residuals with 0 where a point must not count (DST hours, missing values).
    """
    zc = np.clip(z, -WINDOW_CLIP, WINDOW_CLIP)
    sign = np.zeros(len(z), dtype=int)
    need = np.full(len(z), np.inf)
    for k in WINDOW_HOURS:
        if len(zc) < k:
            continue
        sums = np.convolve(zc, np.ones(k), "valid")
        limit = threshold * np.sqrt(k) * scales[k][: len(sums)]
        for i in np.flatnonzero(np.abs(sums) >= limit):
            sg = 1 if sums[i] > 0 else -1
            per_hour = limit[i] / k
            for j in range(i, i + k):
                if sg * z[j] >= WINDOW_MIN_SHARE * per_hour and sign[j] != -sg:
                    sign[j] = sg
                    need[j] = min(need[j], per_hour)
    return sign, need


def _window_excess(
    out: pd.DataFrame, points: pd.DataFrame, level: float, usable: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per hour: excess beyond the window's per-hour limit, and the window's sign (0: none)."""
    z = np.where(usable, np.nan_to_num(standardized_residuals(out, level)), 0.0)
    scales = {
        k: points[f"wscale_{k}"].fillna(WINDOW_DEFAULT_SCALE).to_numpy(dtype=float)
        if f"wscale_{k}" in points
        else np.full(len(out), WINDOW_DEFAULT_SCALE)
        for k in WINDOW_HOURS
    }
    # as strict as the level asks: WINDOW_THRESHOLD is for 95%, scaled like the band
    q95 = NormalDist().inv_cdf(0.975)
    threshold = WINDOW_THRESHOLD * NormalDist().inv_cdf(0.5 + level / 2) / q95
    sign, need = window_test(z, scales, threshold)
    sign = np.where(usable, sign, 0)
    if not sign.any():
        return np.zeros(len(out)), sign
    q = NormalDist().inv_cdf(0.5 + level / 2)
    exp = np.maximum(out["expected"].to_numpy(dtype=float), 0.0)
    log_exp = np.log1p(exp)
    side = np.where(sign > 0, out["hi"].to_numpy(dtype=float), out["lo"].to_numpy(dtype=float))
    sd = np.abs(np.log1p(np.maximum(side, 0.0)) - log_exp) / q
    with np.errstate(invalid="ignore"):
        edge = np.expm1(log_exp + sign * np.where(np.isfinite(need), need, 0.0) * sd)
        beyond = np.maximum(sign * (out["actual"].to_numpy(dtype=float) - edge), 0.0)
    return np.where(sign != 0, np.nan_to_num(beyond), 0.0), sign


def find_runs(flags: np.ndarray, direction: np.ndarray, max_gap: int = 1) -> list[tuple[int, int]]:
    """(first, last) positions of runs of flagged points of one direction.

    Up to ``max_gap`` unflagged points between two flagged points of the same direction
    are bridged, so a shock that dips back inside the band for an hour stays one incident.
    """
    runs: list[tuple[int, int]] = []
    cur: list[int] | None = None
    for i in np.flatnonzero(flags):
        if cur and direction[i] == direction[cur[1]] and i - cur[1] - 1 <= max_gap:
            cur[1] = i
        else:
            if cur:
                runs.append((cur[0], cur[1]))
            cur = [i, i]
    if cur:
        runs.append((cur[0], cur[1]))
    return runs


def _incident_row(pts: pd.DataFrame, direction: str) -> dict[str, Any]:
    """One incident's summary from its points (flagged and bridged)."""
    dev = (pts["actual"] - pts["expected"]).abs()
    peak = dev.idxmax()
    exp_mean = pts["expected"].mean()
    act_mean = pts["actual"].mean()
    dev_pct = 100.0 * (act_mean - exp_mean) / exp_mean if exp_mean > 0 else np.nan
    return {
        "start": pts.index[0],
        "end": pts.index[-1],
        "peak_ds": peak,
        "direction": direction,
        "actual": round(float(act_mean), 2),
        "expected": round(float(exp_mean), 2),
        "lo": round(float(pts["lo"].mean()), 2),
        "hi": round(float(pts["hi"].mean()), 2),
        "deviation_pct": round(float(dev_pct), 1),
        "severity": round(float(pts["score"].sum()), 3),
        "_flagged": tuple(pts.index[pts["flag"].to_numpy()]),
    }


def build_incidents(
    flagged: pd.DataFrame,
    metric: str,
    keys: dict[str, str] | None = None,
    min_points: int = 1,
    max_gap: int = 1,
) -> pd.DataFrame:
    """Incidents of one series from :func:`flag_points` output.

    Runs with fewer than ``min_points`` flagged points are kept only when their peak is
    beyond ``EXTREME_SCORE`` band half-widths. Columns: keys, then ``INCIDENT_COLUMNS``
    (``explained_by`` and ``note`` empty until :func:`explain`), plus ``_flagged``.
    """
    keys = keys or {}
    flags = flagged["flag"].to_numpy()
    direction = flagged["direction"].to_numpy()
    rows = []
    for i0, i1 in find_runs(flags, direction, max_gap):
        pts = flagged.iloc[i0 : i1 + 1]
        if pts["flag"].sum() < min_points and pts["z"].max() < EXTREME_SCORE:
            continue
        rows.append({**keys, "metric": metric, **_incident_row(pts, direction[i0])})
    cols = [*keys, *INCIDENT_COLUMNS, "_flagged"]
    out = pd.DataFrame(rows, columns=[c for c in cols if c not in ("explained_by", "note")])
    out["explained_by"] = ""
    out["note"] = ""
    return out[cols]


# ------------------------------------------------------------------ explanation


def _as_tuple(v: Any) -> tuple:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ()
    if isinstance(v, str):
        return tuple(s for s in v.split(";") if s) if v else ()
    return tuple(v)


def in_scope(occ: pd.Series, metric: str, keys: dict[str, str]) -> bool:
    """Whether an occurrence applies to the series (metric, and zone = any key value).

    The calendar's rule: a series without keys (the whole city) gets every zone's events.
    """
    metrics = _as_tuple(occ.get("metrics"))
    zones = _as_tuple(occ.get("zones"))
    if metrics and metric not in metrics:
        return False
    return not zones or not keys or bool(set(zones) & {str(v) for v in keys.values()})


def overlaps(occ: pd.Series, stamps: Iterable[pd.Timestamp], freq: str) -> bool:
    """Whether any flagged timestamp falls on the occurrence's days/window and hours."""
    w0 = pd.Timestamp(occ["window_start"]).normalize()
    w1 = pd.Timestamp(occ["window_end"]).normalize()
    hours = {int(h) for h in _as_tuple(occ.get("hours"))}
    for ts in stamps:
        if not w0 <= ts.normalize() <= w1:
            continue
        if freq != "h" or not hours or ts.hour in hours:
            return True
    return False


def effect_note(name: str, effect: Any, metric: str, deviation_pct: float) -> str:
    """A note when the incident is larger than, or opposite to, the event's curated effect."""
    if not isinstance(effect, dict) or metric not in effect or not np.isfinite(deviation_pct):
        return ""
    eff = 100.0 * float(effect[metric])
    if eff == 0:
        return ""
    if np.sign(eff) != np.sign(deviation_pct):
        return f"{name}: opposite to its expected effect ({deviation_pct:+.0f}% vs {eff:+.0f}%)"
    if abs(deviation_pct) > LARGER_FACTOR * abs(eff) and abs(deviation_pct - eff) >= LARGER_MIN_PP:
        return f"{name}: larger than expected ({deviation_pct:+.0f}% vs {eff:+.0f}%)"
    return ""


def explain(
    incidents: pd.DataFrame, occurrences: pd.DataFrame, keys: dict[str, str], freq: str = "h"
) -> pd.DataFrame:
    """Fill ``explained_by`` (';'-joined overlapping event names) and ``note`` for one series."""
    out = incidents.copy()
    if out.empty or occurrences is None or occurrences.empty:
        return out
    for i, inc in out.iterrows():
        names, notes = [], []
        for _, occ in occurrences.iterrows():
            if occ["name"] in names or not in_scope(occ, inc["metric"], keys):
                continue
            if overlaps(occ, inc["_flagged"], freq):
                names.append(occ["name"])
                note = effect_note(
                    occ["name"], occ.get("effect"), inc["metric"], inc["deviation_pct"]
                )
                if note:
                    notes.append(note)
        out.at[i, "explained_by"] = ";".join(names)
        out.at[i, "note"] = "; ".join(notes)
    return out


def sort_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """Unexplained first, then by severity (largest first)."""
    if incidents.empty:
        return incidents.reset_index(drop=True)
    order = incidents.assign(_explained=incidents["explained_by"].astype(bool))
    order = order.sort_values(["_explained", "severity"], ascending=[True, False], kind="stable")
    return order.drop(columns="_explained").reset_index(drop=True)


def is_filled_gap(pts: pd.DataFrame) -> bool:
    """A lone zero hour: how the loader fills one absent hour of counts; not an incident."""
    return len(pts) == 1 and pts["actual"].iloc[0] == 0 and pts["direction"].iloc[0] == "below"


# ------------------------------------------------------------------ one series


@dataclass
class SeriesDetection:
    """What detection found for one series: the points with their band, and its incidents."""

    metric: str
    keys: dict[str, str]
    points: pd.DataFrame  # flag_points() output on the detection range
    incidents: pd.DataFrame
    occurrences: pd.DataFrame

    @property
    def label(self) -> str:
        """``metric=trips borough=Bronx``."""
        from .data import series_label

        return series_label(self.metric, self.keys)


@dataclass
class DetectionResult:
    """All series of a detection run: the incidents table, per-series detail and failures."""

    incidents: pd.DataFrame
    series: dict[str, SeriesDetection]
    problems: list[str]
    level: float
    freq: str


def series_occurrences(
    cal: Any, start: pd.Timestamp, end: pd.Timestamp, metric: str, keys: dict[str, str]
) -> pd.DataFrame:
    """Calendar occurrences overlapping [start, end] in the scope of the series."""
    occ = cal.occurrences(start.normalize(), end.normalize(), metric=metric, keys=keys)
    return occ if occ is not None and len(occ) else empty_occurrences()


def detect_series(
    y: pd.Series,
    metric: str,
    keys: dict[str, str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    cal: Any,
    *,
    level: float = 0.95,
    model: str = "baseline",
    freq: str = "h",
    agg: str = "sum",
    refit: str = "1D",
    min_points: int | None = None,
    max_gap: int = 1,
    seed: int = 0,
) -> SeriesDetection:
    """Detection on one series: rolling expectation, flags, incidents, explanation."""
    from .data import series_label

    label = series_label(metric, keys)
    make = lambda: make_expectation(model, freq, metric, keys, seed)  # noqa: E731
    points = rolling_expectation(y, start, end, make, refit=refit, series=label)
    flagged = flag_points(points, level, freq, agg)
    if min_points is None:
        min_points = 3 if freq == "h" else 1
    inc = build_incidents(flagged, metric, keys, min_points=min_points, max_gap=max_gap)
    if freq == "h" and not inc.empty:
        keep = [not is_filled_gap(flagged.loc[r["start"] : r["end"]]) for _, r in inc.iterrows()]
        inc = inc[keep].reset_index(drop=True)
    occ = series_occurrences(cal, start, end, metric, keys)
    inc = explain(inc, occ, keys, freq)
    return SeriesDetection(metric, keys, flagged, inc, occ)


# ------------------------------------------------------------------ public API


def _prepare(
    data: Any,
    start: Any,
    end: Any,
    level: float,
    model: str,
    calendar: Any,
    weather: Any,
    data_kwargs: dict,
    names: tuple[str, str] = ("--start", "--end"),
):
    """Validated inputs shared by detect/check/expect (cheap checks before loading data)."""
    s, e = parse_range(start, end, names)
    level = check_level(level)
    model = check_model(model)
    ds = resolve_dataset(data, **data_kwargs)
    cal = resolve_calendar(calendar, weather)
    return s, e, level, model, cal, ds


def _concat_incidents(parts: list[pd.DataFrame], keys: tuple[str, ...]) -> pd.DataFrame:
    cols = [*keys, *INCIDENT_COLUMNS]
    frames = [p[cols] for p in parts if not p.empty]
    if not frames:
        return pd.DataFrame(columns=cols)
    return sort_incidents(pd.concat(frames, ignore_index=True))


def run_detection(
    data: Any,
    start: Any,
    end: Any,
    level: float = 0.95,
    model: str = "baseline",
    calendar: Any = None,
    weather: Any = None,
    *,
    refit: str = "1D",
    min_points: int | None = None,
    max_gap: int = 1,
    seed: int = 0,
    **data_kwargs: Any,
) -> DetectionResult:
    """Detection over every series, keeping per-series detail (for plots and reports).

    Series that cannot be used are listed in ``problems`` and skipped; the others go on.
    """
    s, e, level, model, cal, ds = _prepare(
        data, start, end, level, model, calendar, weather, data_kwargs
    )
    last = ds.frame["ds"].max() if len(ds.frame) else s
    if s > last:
        raise InputError(f"--start {s} is after the last timestamp of the data ({last})")
    agg = data_kwargs.get("agg") or "sum"
    series: dict[str, SeriesDetection] = {}
    problems = [str(p) for p in ds.problems]
    for metric, keys, y in ds.series():
        try:
            sd = detect_series(
                y,
                metric,
                keys,
                s,
                e,
                cal,
                level=level,
                model=model,
                freq=ds.freq,
                agg=agg,
                refit=refit,
                min_points=min_points,
                max_gap=max_gap,
                seed=seed,
            )
        except SeriesError as err:
            problems.append(str(err))
            continue
        series[sd.label] = sd
    if not series and problems:
        raise InputError(f"no series could be checked: {problems[0]}")
    incidents = _concat_incidents([sd.incidents for sd in series.values()], ds.keys)
    return DetectionResult(incidents, series, problems, level, ds.freq)


def detect(
    data: Any,
    start: Any,
    end: Any,
    level: float = 0.95,
    model: str = "baseline",
    calendar: Any = None,
    weather: Any = None,
    min_points: int | None = None,
    **data_kwargs: Any,
) -> pd.DataFrame:
    """Flagged deviations between ``start`` and ``end``: one row per incident.

    ``data`` is a path, a Dataset or a tidy DataFrame (``data_kwargs`` as for ``load_data``);
    ``calendar`` a Calendar, a path, None (the shipped one) or ``"none"``. Each timestamp's
    expectation comes only from data before its day. Columns: keys, ``metric, start, end,
    peak_ds, direction, actual, expected, lo, hi`` (means over the incident),
    ``deviation_pct, severity, explained_by, note``; unexplained first, then by severity.
    ``min_points``: shortest run kept (default 3 hours, or 1 day) unless extreme.
    Skipped series are listed in ``result.attrs["problems"]``.
    """
    res = run_detection(
        data, start, end, level, model, calendar, weather, min_points=min_points, **data_kwargs
    )
    out = res.incidents
    out.attrs["problems"] = res.problems
    return out


def expect(
    data: Any,
    start: Any,
    end: Any,
    model: str = "auto",
    calendar: Any = None,
    weather: Any = None,
    seed: int = 0,
    **data_kwargs: Any,
) -> pd.DataFrame:
    """Expected ranges for a coming period, with the calendar events in it.

    Fitted on the history before ``start`` *with* the calendar (so a coming holiday or
    storm lowers the expectation); columns: keys, ``metric, ds, yhat, lo_80, hi_80,
    lo_95, hi_95, events``. ``model="baseline"`` gives the normal-day range instead.
    """
    s, e, _, model, cal, ds = _prepare(
        data, start, end, 0.95, model, calendar, weather, data_kwargs
    )
    rows, problems = [], [str(p) for p in ds.problems]
    for metric, keys, y in ds.series():
        from .data import series_label

        label = series_label(metric, keys)
        index = pd.date_range(s, e, freq=ds.freq, name="ds")
        index = index[index >= s]
        try:
            hist = y[y.index < s]
            if model == "baseline":
                pred = RobustBaseline(freq=ds.freq).fit(hist).predict(index)
                pred["events"] = _events_on(cal, index, metric, keys, ds.freq)
            else:
                f = make_expectation(model, ds.freq, metric, keys, seed, calendar=cal)
                pred = f.fit(hist).predict(index)
        except SeriesError as err:
            problems.append(str(err))
            continue
        except ValueError as err:
            problems.append(f"{label}: {err}")
            continue
        pred = pred.reset_index(names="ds")
        for k, v in keys.items():
            pred.insert(0, k, v)
        pred.insert(len(keys), "metric", metric)
        rows.append(pred)
    if not rows:
        raise InputError(f"no series could be forecast: {problems[0] if problems else 'no data'}")
    out = pd.concat(rows, ignore_index=True)
    out.attrs["problems"] = problems
    return out


def _events_on(
    cal: Any, index: pd.DatetimeIndex, metric: str, keys: dict[str, str], freq: str
) -> list[str]:
    """';'-joined names of the in-scope events active at each timestamp."""
    if not len(index):
        return []
    occ = series_occurrences(cal, index[0], index[-1], metric, keys)
    return [
        ";".join(
            n
            for n in dict.fromkeys(occ["name"])
            if overlaps(occ[occ["name"] == n].iloc[0], [ts], freq)
        )
        for ts in index
    ]


# ------------------------------------------------------------------ check


@dataclass
class CheckResult:
    """Per-series verdicts of a release check, the incidents behind them, and skipped series."""

    verdicts: pd.DataFrame
    incidents: pd.DataFrame
    problems: list[str]

    @property
    def exit_code(self) -> int:
        """1 when an unexplained deviation exists, else 0."""
        return (
            int((self.verdicts["verdict"] == VERDICT_UNEXPLAINED).any())
            if len(self.verdicts)
            else 0
        )


def _verdict(inc: pd.DataFrame) -> str:
    if inc.empty:
        return VERDICT_OK
    return VERDICT_UNEXPLAINED if (inc["explained_by"] == "").any() else VERDICT_EXPLAINED


def _verdict_row(sd: SeriesDetection) -> dict[str, Any]:
    inc = sd.incidents
    unexplained = inc[inc["explained_by"] == ""]
    worst = unexplained if not unexplained.empty else inc
    worst_row = worst.sort_values("severity", ascending=False).iloc[0] if not worst.empty else None
    pts = sd.points
    return {
        **sd.keys,
        "metric": sd.metric,
        "verdict": _verdict(inc),
        "points": len(pts),
        "outside": int(pts["flag"].sum()),
        "incidents": len(inc),
        "unexplained": len(unexplained),
        "worst_start": worst_row["start"] if worst_row is not None else pd.NaT,
        "worst_deviation_pct": worst_row["deviation_pct"] if worst_row is not None else np.nan,
        "explained_by": ";".join(
            dict.fromkeys(n for s in inc["explained_by"] for n in s.split(";") if n)
        ),
    }


def check(
    data: Any,
    since: Any,
    until: Any = None,
    level: float = 0.95,
    model: str = "baseline",
    calendar: Any = None,
    weather: Any = None,
    **data_kwargs: Any,
) -> CheckResult:
    """Actuals since a release against the expectation from data before ``since``.

    One fit per series on the history before ``since`` predicts the whole period up to
    ``until`` (default: the last timestamp of the data). Verdict per series: ``ok`` (all
    inside the range), ``explained deviation`` (every incident overlaps a calendar event),
    ``UNEXPLAINED deviation``. ``result.exit_code`` is what the CLI exits with.
    """
    s = parse_timestamp(since, "--since")
    ds = resolve_dataset(data, **data_kwargs)
    last = ds.frame["ds"].max() if len(ds.frame) else s
    if s > last:
        raise InputError(f"--since {s} is after the last timestamp of the data ({last})")
    u = parse_range(s, until if until is not None else last, ("--since", "--until"))[1]
    level, model = check_level(level), check_model(model)
    cal = resolve_calendar(calendar, weather)
    agg = data_kwargs.get("agg") or "sum"
    days = max(1, int(np.ceil((u.normalize() - s.normalize()) / pd.Timedelta(days=1))) + 1)
    rows, parts, problems = [], [], [str(p) for p in ds.problems]
    for metric, keys, y in ds.series():
        try:
            sd = detect_series(
                y[y.index <= u],
                metric,
                keys,
                s,
                u,
                cal,
                level=level,
                model=model,
                freq=ds.freq,
                agg=agg,
                refit=f"{days}D",
            )
        except SeriesError as err:
            problems.append(str(err))
            continue
        rows.append(_verdict_row(sd))
        parts.append(sd.incidents)
    if not rows:
        raise InputError(f"no series could be checked: {problems[0] if problems else 'no data'}")
    verdicts = pd.DataFrame(rows)
    order = verdicts["verdict"].map({VERDICT_UNEXPLAINED: 0, VERDICT_EXPLAINED: 1, VERDICT_OK: 2})
    verdicts = verdicts.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)
    return CheckResult(verdicts, _concat_incidents(parts, ds.keys), problems)


def format_verdicts(result: CheckResult) -> str:
    """The human verdict, one line per series, for the terminal."""
    lines = []
    for _, r in result.verdicts.iterrows():
        keys = " ".join(f"{k}={r[k]}" for k in r.index if k not in _VERDICT_FIELDS)
        line = f"{r['verdict']:<22} metric={r['metric']} {keys}".rstrip()
        if r["verdict"] != VERDICT_OK:
            line += (
                f"  ({r['incidents']} incident(s), {r['unexplained']} unexplained; worst "
                f"{r['worst_deviation_pct']:+.0f}% from {pd.Timestamp(r['worst_start']):%Y-%m-%d %H:%M})"
            )
            if r["explained_by"]:
                line += f"  explained by: {r['explained_by']}"
        lines.append(line)
    lines.extend(f"skipped: {p}" for p in result.problems)
    return "\n".join(lines)


_VERDICT_FIELDS = {
    "metric",
    "verdict",
    "points",
    "outside",
    "incidents",
    "unexplained",
    "worst_start",
    "worst_deviation_pct",
    "explained_by",
}
