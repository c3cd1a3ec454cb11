"""The robust normal-day baseline that detection compares actuals against (``baseline``).

A registered model like the others (``make_model("baseline")``), with tags saying
what sets it apart: it calibrates its own ranges (``predicts_ranges``: see
:meth:`RobustBaseline.predict_ranges`), forecasts only after its history
(``predicts_past=False``), ignores the calendar and leaves missing values out of
its medians (``handles_gaps``). Its one extra output for detection, the window
scale of each window length, is the fitted attribute ``window_scale_``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from ..grain import per_day, season, step
from .base import (
    Forecaster,
    HistoryTooShort,
    ModelTags,
    check_y_array,
    future_arrays,
    past_timestamps_error,
)

#: The window test (hourly data): a sustained modest shift (a 30% drop for 3 hours in a
#: small zone, where every hour alone is inside its band) is flagged when the sum of the
#: standardised residuals of ``k`` consecutive hours, divided by ``sqrt(k)`` and by the
#: series' own window scale (how much its errors of neighbouring hours move together,
#: calibrated on the weeks before), reaches ``WINDOW_THRESHOLD``.
WINDOW_HOURS = (3, 4, 6)

#: the release check's windows, inside the one range it judges: 2 hours too (see
#: :func:`juno_forecast.detect.flagging.window_threshold`)
CHECK_WINDOW_HOURS = (2, *WINDOW_HOURS)

#: one hour adds at most this much to a window: a single blip (or a filled missing hour)
#: cannot make a window incident by itself; that is the single-point test's job
WINDOW_CLIP = 4.0

#: window scale for models that do not calibrate one (errors of neighbouring hours
#: assumed to move together about as much as on the real NYC series)
WINDOW_DEFAULT_SCALE = 1.5

#: the last days that, all off the week's level the same way by more than ``ADAPT_SHARE``,
#: set the level: a lasting change is flagged for at most this many days
ADAPT_DAYS = 2
ADAPT_SHARE = 0.25
#: the level is kept within these factors of the profile
LEVEL_MIN, LEVEL_MAX = 0.1, 10.0
#: calibration days whose expectation had fewer whole weeks of history before them are
#: left out, as long as a week of others remains: the expectations of a series' first
#: weeks (a profile of one or two weeks) err far more than the ones being judged, and
#: would widen every band of a young series
CALIB_MIN_WEEKS = 4

#: weight of an hour's own multiplicative variance against the pooled one (geometric
#: mean): 28 days x 3 hours of errors estimate it with some noise
SLOT_WEIGHT = 0.5

#: what :meth:`RobustBaseline.predict_ranges` gives, in order (detection's band columns)
RANGE_COLUMNS = ("yhat", "lo_80", "hi_80", "lo_95", "hi_95")


class RobustBaseline(Forecaster):
    """The normal-day expectation used by detection (``model="baseline"``).

    The expectation of each slot of the coming week (hour of week, or weekday for daily
    data) is the median of that slot over the ``weeks`` (8) weeks before the last one, scaled
    by the level of the last week (the median ratio of last week's values to that
    profile). Medians make one storm or holiday in the history harmless; the level
    factor follows growth. Ranges are calibrated on the series itself: one-day-ahead
    log errors of the same procedure over the last ``calib_weeks`` weeks (days whose
    expectation had under ``CALIB_MIN_WEEKS`` weeks of history left out), standardised
    by a count-noise term (``1/(expected+1)``, large at night, small at rush hour) plus a
    multiplicative term fitted per hour of the day (with its neighbours), whose quantiles
    give the 80% and 95% bands. Fitting is a
    few numpy operations: cheap enough to refit every day.

    Outputs: ``predict(X)`` the expectation (``yhat``); ``predict_ranges(X)`` the
    expectation with its 80/95% ranges (``yhat, lo_80, hi_80, lo_95, hi_95``); and,
    after ``fit``, ``window_scale_``: for hourly data, ``{k: scale}`` for each window
    length ``k`` in :data:`CHECK_WINDOW_HOURS` (how much the errors of ``k`` neighbouring
    hours move together, which detection's window test divides by), empty for daily
    data. On arrays (the models' protocol): ``fit_arrays``, ``predict_arrays`` and
    ``predict_ranges_arrays``; detection's daily refits go through :meth:`fit_rolling`,
    which shares the work consecutive days' calibrations have in common.
    """

    def __init__(self, freq: str = "h", weeks: int = 8, calib_weeks: int = 4):
        self.freq = freq
        self.weeks = weeks
        self.calib_weeks = calib_weeks

    def __juno_tags__(self) -> ModelTags:
        """Own ranges, future only, no calendar, gaps left out of the medians."""
        return ModelTags(
            predicts_past=False, uses_calendar=False, handles_gaps=True, predicts_ranges=True
        )

    def _season(self) -> int:
        return season(self.freq)

    def _per_day(self) -> int:
        return per_day(self.freq)

    def _profile(self, y: np.ndarray) -> np.ndarray:
        """Median of each slot over the last ``weeks`` whole weeks; slot 0 = the next value."""
        s = self._season()
        n = min(self.weeks, len(y) // s)
        block = y[len(y) - n * s :].reshape(n, s)
        if not np.isnan(block).any():
            return _median(block, axis=0)  # the usual case, and far faster than nanmedian
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(block, axis=0)

    def _expect(self, y: np.ndarray) -> np.ndarray:
        """The next week's expectation (one value per slot) from the history ``y``.

        The profile of the (up to ``weeks``) whole weeks before the last one, times the
        recent level (:meth:`_level`). With under two weeks: the median of what there is.
        """
        s = self._season()
        if len(y) < 2 * s:
            return self._profile(y)
        past = self._profile(y[:-s])
        return past * self._level(y[-s:], past)

    def _level(self, recent: np.ndarray, past: np.ndarray) -> float:
        """How far the last week runs above or below the profile: its median day ratio.

        Each day's ratio is its total over the profile's total for the same slots (so a
        few noisy night hours weigh what they weigh in the day). When each of the last
        ``ADAPT_DAYS`` days is off the week's level by more than ``ADAPT_SHARE`` the same
        way, the level is theirs: a new or fast-growing zone, or a lasting step, is
        followed within a few days instead of being flagged day after day for the same
        change.
        """
        days = self._day_ratios(recent, past)
        if np.isnan(days).sum() > len(days) * 2 // 3:
            return 1.0
        level = _median(days[~np.isnan(days)])
        last = days[-ADAPT_DAYS:]
        if np.isfinite(last).all() and level > 0:
            shift = np.log(np.maximum(last, 1e-9) / level)
            if np.all(shift > np.log1p(ADAPT_SHARE)) or np.all(shift < -np.log1p(ADAPT_SHARE)):
                level = _median(last)
        return float(np.clip(level, LEVEL_MIN, LEVEL_MAX))

    def _day_ratios(self, recent: np.ndarray, past: np.ndarray) -> np.ndarray:
        """Per day of ``recent``: its total over the profile's (NaN with under half the day)."""
        d = self._per_day()
        ok = np.isfinite(recent) & np.isfinite(past) & (past > 0)
        out = np.full(len(recent) // d, np.nan)
        if ok.all():  # the usual case: every day's totals at once (the same sums)
            n = len(out) * d
            return recent[:n].reshape(-1, d).sum(axis=1) / past[:n].reshape(-1, d).sum(axis=1)
        for i in range(len(out)):
            sl = slice(i * d, (i + 1) * d)
            if ok[sl].sum() * 2 >= d:
                out[i] = recent[sl][ok[sl]].sum() / past[sl][ok[sl]].sum()
        return out

    def fit_arrays(
        self,
        y: np.ndarray,
        X: np.ndarray | None,
        t: np.ndarray,
        columns: tuple[str, ...] = (),
    ) -> RobustBaseline:
        """Keep the history (values ``y``, NaN where missing, at nanosecond timestamps ``t``
        on the grid of ``freq``) and calibrate the ranges on its last weeks (no look-ahead).
        ``X`` and ``columns`` are ignored (no calendar). ``fit(y)`` is this on a Series."""
        y, _ = self._check_fit_arrays(y, X, t, columns)
        return self._fit_history(y, np.asarray(t), {})

    def fit_rolling(
        self, y: np.ndarray, t: np.ndarray, ends: Iterable[int]
    ) -> Iterator[RobustBaseline]:
        """One fitted copy per history length ``n`` in ``ends``: each the model
        ``fit_arrays(y[:n], t=t[:n])`` gives, lazily and in order.

        Detection refits every day on the days before it, and the calibrations of
        consecutive days share all but one of their one-day-ahead expectations: here each
        is computed once (each depends only on the values before its own day) and shared.
        """
        values, t, memo = check_y_array(y, t, handles_gaps=True), np.asarray(t), {}
        params = self.get_params(deep=False)  # what clone reads, read once, not per day
        for n in ends:
            yield type(self)(**params)._fit_history(values[:n], t[:n], memo)

    def _fit_history(self, values: np.ndarray, t: np.ndarray, memo: dict) -> RobustBaseline:
        """Fit on ``values`` (times ``t``); ``memo`` holds expectations and one-day-ahead
        errors by the length of the history they come from, valid for any prefix of one
        series (:meth:`_expect_after`)."""
        s = self._season()
        if len(values) < 2 * s:
            raise HistoryTooShort(f"needs at least 2 weeks of history, got {len(values)} points")
        self.history_ = values
        self.step_ns_ = int(step(self.freq).value)
        self.last_ns_ = int(t[-1])
        self.last_ds_ = pd.Timestamp(self.last_ns_)
        self.season_ = np.maximum(self._expect_after(values, len(values), memo), 0.0)
        self.c2_, self.quantiles_, z = self._calibrate(*self._errors(values, memo))
        self.window_scale_ = self._window_scale(z) if self.freq == "h" else {}
        return self

    def _errors(
        self, values: np.ndarray, memo: dict | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log errors, their count-noise variance and slot of the day (0 = the first value
        after a fit's history: midnight for detection's daily refits) of one-day-ahead
        expectations over the calibration weeks, in time order. ``memo``: each day's
        errors by its history length (see :meth:`fit_rolling`)."""
        per_day, s = self._per_day(), self._season()
        days = min(self.calib_weeks * 7, (len(values) - 2 * s) // per_day)
        mature = min(days, (len(values) - CALIB_MIN_WEEKS * s) // per_day)
        if mature >= 7:
            days = mature
        memo = {} if memo is None else memo
        parts = []
        for d in range(days, 0, -1):
            cut = len(values) - d * per_day
            if ("errors", cut) not in memo:
                memo["errors", cut] = self._day_errors(values, cut, memo)
            parts.append(memo["errors", cut])
        if not parts:
            return np.array([]), np.array([]), np.array([], dtype=int)
        return tuple(np.concatenate(p) for p in zip(*parts, strict=True))  # type: ignore[return-value]

    def _expect_after(self, values: np.ndarray, cut: int, memo: dict) -> np.ndarray:
        """:meth:`_expect` of ``values[:cut]``, kept in ``memo`` by ``cut``: a fit's own
        expectation is also the one its next day's fit calibrates on."""
        if ("expect", cut) not in memo:
            memo["expect", cut] = self._expect(values[:cut])
        return memo["expect", cut]

    def _day_errors(
        self, values: np.ndarray, cut: int, memo: dict
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The errors of the day after ``values[:cut]`` (see :meth:`_errors`)."""
        per_day = self._per_day()
        pred = np.maximum(self._expect_after(values, cut, memo)[:per_day], 0.0)
        act = values[cut : cut + per_day]
        ok = np.isfinite(act) & np.isfinite(pred)
        err = np.log1p(np.maximum(act[ok], 0)) - np.log1p(pred[ok])
        return err, 1.0 / (pred[ok] + 1.0), np.flatnonzero(ok)

    def _slot_c2(self, e: np.ndarray, v0: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Multiplicative variance per slot of the day (hourly: each hour with its two
        neighbours, so 3 x 28 errors; nights in airport zones vary far more than
        middays); slots with too few errors take the pooled value."""
        pooled = max(_mad(e) ** 2 - _median(v0), 1e-4)
        per_day = self._per_day()
        c2 = np.full(per_day, pooled)
        if per_day == 1:
            return c2
        for h, (mad, v) in enumerate(_neighbour_stats(e, v0, slot, per_day)):
            if mad is not None:
                own = max(mad**2 - v, 1e-4)
                c2[h] = own**SLOT_WEIGHT * pooled ** (1 - SLOT_WEIGHT)
        return c2

    def _calibrate(
        self, e: np.ndarray, v0: np.ndarray, slot: np.ndarray
    ) -> tuple[np.ndarray, dict[float, tuple[float, float]], Standardised | None]:
        """Multiplicative variance per slot of the day and standardised error quantiles per
        level; and the standardised errors with their median and MAD, which the window
        scale starts from (None with under 7 errors: the default calibration)."""
        if len(e) < 7:
            defaults = {0.8: (-1.28, 1.28), 0.95: (-1.96, 1.96)}
            return np.full(self._per_day(), 0.04), defaults, None
        c2 = self._slot_c2(e, v0, slot)
        standard = z, mid, zmad = _standardised(e / np.sqrt(c2[slot] + v0))
        z = z[np.abs(z - mid) <= 6 * max(zmad, 1e-9)]  # past incidents must not widen it
        scale = _mad(z)
        tails = {level: (1 - level) / 2 for level in (0.8, 0.95)}
        if len(z) >= 200:  # both levels' quantiles in one pass (each as alone)
            qs = np.quantile(z, [q for a in tails.values() for q in (a, 1 - a)])
        out = {}
        for i, (level, a) in enumerate(tails.items()):
            normal = NormalDist().inv_cdf(1 - a) * max(scale, 1.0) * (1 + 2.5 / len(z))
            if len(z) >= 200:
                lo, hi = qs[2 * i], qs[2 * i + 1]
                out[level] = (min(float(lo), -normal), max(float(hi), normal))
            else:
                out[level] = (-normal, normal)
        return c2, out, standard

    def _window_scale(self, standard: Standardised | None) -> dict[int, float]:
        """Per window length k: robust spread of k-hour sums of the calibration errors over
        that of independent ones (1 when neighbouring hours' errors are unrelated, more when a
        whole evening runs high together), so the window test keeps its false-alarm rate.
        ``standard``: the calibration's standardised errors (:meth:`_calibrate`)."""
        if standard is None or len(standard[0]) < 48:
            return {k: WINDOW_DEFAULT_SCALE for k in CHECK_WINDOW_HOURS}
        z, mid, zmad = standard
        z = np.clip((z - mid) / max(zmad, 1e-9), -WINDOW_CLIP, WINDOW_CLIP)
        base = max(_mad(z), 1e-9)
        out = {}
        for k in CHECK_WINDOW_HOURS:
            sums = np.convolve(z, np.ones(k), "valid") / np.sqrt(k)
            out[k] = float(np.clip(_mad(sums) / base, 1.0, 3.0))
        return out

    def predict_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """The expectation (``yhat``) at nanosecond timestamps ``t`` after the history
        (``predict(X)`` is this on ``X``'s index); ``X`` is ignored."""
        return self._yhat(self._steps(t))

    def predict_ranges(self, X: pd.DataFrame | pd.DatetimeIndex) -> pd.DataFrame:
        """Expectation and its calibrated 80/95% ranges for timestamps after the history:
        columns ``yhat, lo_80, hi_80, lo_95, hi_95``."""
        index, _, t, _ = future_arrays(X)
        band = self.predict_ranges_arrays(None, t)
        return pd.DataFrame(dict(zip(RANGE_COLUMNS, band, strict=True)), index=index)

    def predict_ranges_arrays(
        self, X: np.ndarray | None, t: np.ndarray, columns: tuple[str, ...] = ()
    ) -> np.ndarray:
        """:meth:`predict_ranges` on arrays: shape (5, m), the rows ``RANGE_COLUMNS``
        (``yhat, lo_80, hi_80, lo_95, hi_95``) at nanosecond timestamps ``t``."""
        steps = self._steps(t)
        yhat = self._yhat(steps)
        out = np.empty((len(RANGE_COLUMNS), len(yhat)))
        out[0] = yhat
        log_hat = np.log1p(yhat)
        c2 = self.c2_[(steps - 1) % len(self.c2_)]
        sd = np.sqrt(c2 + 1.0 / (yhat + 1.0))
        for row, level in ((1, 0.8), (3, 0.95)):
            lo, hi = self.quantiles_[level]
            out[row] = np.maximum(np.expm1(log_hat + lo * sd), 0.0)
            out[row + 1] = np.expm1(log_hat + hi * sd)
        return out

    def _steps(self, t: np.ndarray) -> np.ndarray:
        """The steps after the history of nanosecond timestamps ``t`` (past ones: an error)."""
        t = np.asarray(t, dtype=np.int64)
        steps = np.asarray(np.round((t - self.last_ns_) / self.step_ns_), dtype=int)
        if len(t) and steps.min() < 1:
            raise past_timestamps_error(self, self.last_ds_)
        return steps

    def _yhat(self, steps: np.ndarray) -> np.ndarray:
        return self.season_[(steps - 1) % self._season()]


def _mad(x: np.ndarray, mid: float | None = None) -> float:
    """Median absolute deviation scaled to a normal sd (``mid``: the median, if known)."""
    if not len(x):
        return 0.0
    return 1.4826 * _median(np.abs(x - (_median(x) if mid is None else mid)))


#: standardised calibration errors (time order), their median and their MAD
Standardised = tuple[np.ndarray, float, float]


def _standardised(z: np.ndarray) -> Standardised:
    """``z`` with its median and MAD, computed once for the calibration and the window scale."""
    mid = _median(z)
    return z, mid, _mad(z, mid)


def _neighbour_stats(
    e: np.ndarray, v0: np.ndarray, slot: np.ndarray, per_day: int
) -> list[tuple[float | None, float]]:
    """Per slot of the day: ``_mad`` of the errors of that slot and its two neighbours,
    and the median of their ``v0`` (``(None, nan)`` with under 30 of them).

    When every slot has as many errors (no missing values: the usual case), all slots
    are done at once on a (slot, error) table; medians do not depend on the order of
    their values, so the result is the one of selecting each slot's errors in turn.
    """
    counts = np.bincount(slot, minlength=per_day)
    if per_day >= 3 and counts.min() == counts.max():  # (3 distinct neighbours)
        if 3 * counts[0] < 30:
            return [(None, np.nan)] * per_day
        order = np.argsort(slot, kind="stable")
        rows = np.arange(per_day)
        near = np.stack([(rows - 1) % per_day, rows, (rows + 1) % per_day], axis=1)
        es = e[order].reshape(per_day, -1)[near].reshape(per_day, -1)
        vs = v0[order].reshape(per_day, -1)[near].reshape(per_day, -1)
        mads = 1.4826 * _median(np.abs(es - _median(es, axis=1)[:, None]), axis=1)
        return [(float(m), float(v)) for m, v in zip(mads, _median(vs, axis=1), strict=True)]
    out: list[tuple[float | None, float]] = []
    for h in range(per_day):
        sel = np.minimum((slot - h) % per_day, (h - slot) % per_day) <= 1
        out.append((_mad(e[sel]), _median(v0[sel])) if sel.sum() >= 30 else (None, np.nan))
    return out


def _median(x: np.ndarray, axis: int | None = None) -> Any:
    """``np.median(x, axis)`` bit for bit (of a 1-d ``x`` with no axis, as a float) at a
    fraction of its cost: the middle value (plus 0.0, as numpy's mean of one value) or
    the sum of the middle two halved, by partition. A fit takes some 30 medians of a
    few hundred values, and detection refits every day."""
    n = x.shape[-1 if axis is None else axis]
    if n == 0 or np.isnan(x).any():
        out = np.median(x, axis=axis)
    else:
        ax, h = -1 if axis is None else axis, n // 2
        if n % 2:
            out = np.take(np.partition(x, h, axis=ax), h, axis=ax) + 0.0
        else:
            part = np.partition(x, (h - 1, h), axis=ax)
            out = np.take(part, [h - 1, h], axis=ax).sum(axis=ax) / 2
    return float(out) if axis is None else out
