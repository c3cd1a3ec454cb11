"""Calibrated 80% and 95% ranges around point forecasts (split-conformal).

The residuals come from a rolling-origin backtest on the end of the history
(the model refitted at a few cutoffs, each forecasting the following days),
so they measure out-of-sample error at the horizons that matter. For
non-negative data the residuals are taken on the log1p scale (relative
errors: a 10% miss at rush hour and at 4 am weigh alike); at hourly grain they
are also standardized by an hour-of-day scale, because the relative error of
small night counts is larger. Range bounds are symmetric (on that scale):
plus or minus the conformal quantile of the absolute standardized residuals,
widened as ``sqrt(step / calibrated steps)`` beyond the calibrated horizon.
One quantile of |z| uses every residual, where separate lower and upper
quantiles rest on the few residuals of each tail (with a short daily history,
20-40 residuals: three or four per 10% tail) and the finite-sample correction
then widens each tail on its own; measured on the real NYC data, the
symmetric ranges cover closer to their level (``benchmarks/accuracy.py``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .compat import epoch_ns
from .grain import hour_of_day

LEVELS = (0.8, 0.95)
SHRINK = 20.0  # pseudo-count pulling a group's scale toward the overall scale


def conformal_quantile(scores: np.ndarray, level: float, interpolate: bool = True) -> float:
    """The split-conformal quantile at ``level`` of ``scores``, finite-sample corrected.

    The one conformal quantile of the package (forecast ranges here, impact's
    ranges in ``impact/ranges.py``): about the ``ceil((n + 1) level)``-th
    smallest of the ``n`` finite scores, so a new score falls within it with
    probability at least ``level`` when the scores are exchangeable.
    ``interpolate=True``: ``np.quantile`` (linear) at the corrected level,
    capped at the largest score when ``n`` is too small for ``level``.
    ``interpolate=False``: exactly that order statistic, infinite when ``n`` is
    too small (fewer than ``1 / (1 - level) - 1``): no finite range is then
    guaranteed.
    """
    z = np.asarray(scores, float)
    z = z[np.isfinite(z)]
    n = len(z)
    if not interpolate:
        k = math.ceil((n + 1) * level)
        return float(np.sort(z)[k - 1]) if 0 < k <= n else float("inf")
    corrected = level * (n + 1) / n if level > 0.5 else (level * (n + 1) - 1) / n
    return float(np.quantile(z, min(1.0, max(0.0, corrected))))


class ConformalIntervals:
    """Ranges from out-of-sample residuals; ``fit(cv)`` then ``predict(yhat, step)``.

    ``cv`` has columns ``ds`` (timestamp), ``step`` (1 = first forecast step),
    ``y`` (actual) and ``yhat`` (forecast made before ``ds``).
    """

    def __init__(self, levels: tuple[float, ...] = LEVELS, log: bool = True, by_hour: bool = False):
        self.levels = levels
        self.log = log
        self.by_hour = by_hour

    def _f(self, v: np.ndarray) -> np.ndarray:
        return np.log1p(np.maximum(v, 0.0)) if self.log else np.asarray(v, dtype=float)

    def _finv(self, v: np.ndarray) -> np.ndarray:
        return np.expm1(v) if self.log else v

    def _groups(self, stamps: np.ndarray) -> np.ndarray:
        """The calibration group of each timestamp (int64 ns): its hour of day, or 0."""
        if not self.by_hour:
            return np.zeros(len(stamps), dtype=int)
        return hour_of_day(np.asarray(stamps, dtype=np.int64))

    def _scales(self, groups: np.ndarray, scales: dict) -> np.ndarray:
        """Each timestamp's scale by its group (the overall scale for a group not calibrated)."""
        table = np.full(24 if self.by_hour else 1, self.overall_scale_)
        for g, v in scales.items():
            table[int(g)] = v
        return table[groups]

    def fit(self, cv: pd.DataFrame) -> ConformalIntervals:
        """Learn scales and standardized quantiles from backtest residuals (a ``cv`` frame)."""
        return self.fit_arrays(
            cv["y"].to_numpy(float),
            cv["yhat"].to_numpy(float),
            cv["step"].to_numpy(),
            epoch_ns(pd.DatetimeIndex(cv["ds"].to_numpy())),
        )

    def fit_arrays(
        self, y: np.ndarray, yhat: np.ndarray, step: np.ndarray, stamps: np.ndarray
    ) -> ConformalIntervals:
        """:meth:`fit` on the backtest's arrays (``stamps``: int64 ns of each forecast)."""
        kept = ~(np.isnan(y) | np.isnan(yhat))
        if kept.sum() < 5:
            raise ValueError("too few backtest residuals to calibrate ranges")
        r = self._f(y[kept]) - self._f(yhat[kept])
        groups = self._groups(np.asarray(stamps)[kept])
        overall = float(np.mean(np.abs(r))) or 1e-9
        self.overall_scale_ = overall
        scales = {}
        for g in np.unique(groups):
            rg = np.abs(r[groups == g])
            scales[g] = (rg.sum() + SHRINK * overall) / (len(rg) + SHRINK)
        self.scale_ = scales
        z = r / self._scales(groups, scales)
        self.quantiles_ = {}
        for level in self.levels:
            half = conformal_quantile(np.abs(z), level)
            self.quantiles_[level] = (-half, half)
        self.max_step_ = int(np.asarray(step)[kept].max())
        return self

    def predict(
        self,
        yhat: pd.Series,
        step: np.ndarray,
        effect: np.ndarray | None = None,
        spread: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Columns ``lo_80, hi_80, lo_95, hi_95`` around ``yhat`` (ordered, never below 0 for counts).

        ``effect``/``spread`` (per timestamp, 0 where no event is on): the events'
        relative effect carried by ``yhat`` and its standard deviation; the
        range widens by that uncertainty (:func:`effect_half_widths`).
        """
        index = pd.DatetimeIndex(yhat.index)
        out = self.predict_arrays(yhat.to_numpy(float), epoch_ns(index), step, effect, spread)
        return pd.DataFrame(out, index=index)

    def predict_arrays(
        self,
        yhat: np.ndarray,
        stamps: np.ndarray,
        step: np.ndarray,
        effect: np.ndarray | None = None,
        spread: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """:meth:`predict` on arrays: ``{"lo_80": ..., "hi_80": ..., "lo_95": ..., "hi_95": ...}``."""
        scale = self._scales(self._groups(stamps), self.scale_)
        growth = np.sqrt(np.maximum(1.0, np.asarray(step, dtype=float) / self.max_step_))
        center = self._f(yhat)
        out = {}
        for level in self.levels:
            lo, hi = self.quantiles_[level]
            tag = int(round(level * 100))
            down, up = -lo * scale * growth, hi * scale * growth
            if spread is not None:
                d_lo, d_hi = effect_half_widths(effect, spread, level)
                if not self.log:  # on the original scale: the effect's share of the forecast
                    y = np.abs(yhat)
                    d_lo, d_hi = y * -np.expm1(-d_lo), y * np.expm1(d_hi)
                down, up = np.hypot(down, d_lo), np.hypot(up, d_hi)
            out[f"lo_{tag}"] = self._finv(center - down)
            out[f"hi_{tag}"] = self._finv(center + up)
        return ordered_bounds(out, yhat, nonneg=self.log)


#: the lowest multiplier an event's range reaches (a -98% effect: never a range down to 0)
MIN_MULTIPLIER = 0.02


def effect_half_widths(
    effect: np.ndarray, spread: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    """How far below and above the forecast (log scale) the events' effect may lie at ``level``.

    The effect is a relative change ``e`` with a standard deviation ``s``
    (normal): at level ``level`` it lies within ``e +- z s``, so the forecast,
    which carries ``1 + e``, may be off by ``log(1 + e) - log(1 + e - z s)``
    downwards and ``log(1 + e + z s) - log(1 + e)`` upwards. These combine with
    the model's own half-widths by root sum of squares (independent errors).
    """
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2)
    m = np.maximum(1.0 + np.asarray(effect, float), MIN_MULTIPLIER)
    s = np.asarray(spread, float)
    down = np.log(m) - np.log(np.maximum(m - z * s, MIN_MULTIPLIER))
    up = np.log1p(z * s / m)
    return np.maximum(down, 0.0), up


def occurrence_effect(
    y: np.ndarray, active: np.ndarray, days: np.ndarray, season: int
) -> tuple[float, float] | None:
    """An event's relative effect measured on its past occurrences, and its spread.

    Each active timestamp is set against the same time a season (a week)
    before and after, where the event is off: the log ratios, averaged per
    day, are the occurrence days' effects. ``(effect, spread)``: their mean
    (as a relative change) and, with 3 days or more, their standard deviation
    (that of a next day, ``sd x sqrt(1 + 1/days)``, at least
    :data:`~.calendar.records.SPREAD_FLOOR`); with fewer days, the calendar's
    default rule on the measured effect. ``None`` when no day can be compared.
    """
    return occurrence_effects(y, np.asarray(active)[:, None], days, season)[0]


def occurrence_effects(
    y: np.ndarray, active: np.ndarray, days: np.ndarray, season: int
) -> list[tuple[float, float] | None]:
    """:func:`occurrence_effect` of every column of ``active`` (steps x events) at once.

    The lagged sums are one array operation for all events of a series, and so
    are the means per day (sums over each day's run of rows) and their mean and
    spread per event: no loop over events, no pandas groupby.
    """
    days = np.asarray(days)
    if len(days) > 1 and (days[1:] < days[:-1]).any():  # rows not in time order: sort them
        order = np.argsort(days, kind="stable")
        y, active, days = np.asarray(y)[order], np.asarray(active)[order], days[order]
    ly = np.log1p(np.maximum(np.asarray(y, float), 0.0))
    n = len(ly)
    finite = np.isfinite(ly)
    total, count = np.zeros(active.shape), np.zeros(active.shape)
    for lag in (season, -season):
        src = slice(0, n - lag) if lag > 0 else slice(-lag, n)
        dst = slice(lag, n) if lag > 0 else slice(0, n + lag)
        ok = ~active[src] & finite[src, None]
        total[dst] += np.where(ok, ly[src, None], 0.0)
        count[dst] += ok
    use = active & (count > 0) & finite[:, None]
    if not use.any():
        return [None] * active.shape[1]
    # the log ratios summed per day and event: days are runs of rows (rows are in time order)
    starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    r = np.where(use, ly[:, None] - total / np.where(use, count, 1.0), 0.0)
    if len(starts) == n:  # one row per day (daily data): the rows are the days
        sums, per_day = r, use.astype(np.int64)
    else:
        sums = np.add.reduceat(r, starts, axis=0)
        per_day = np.add.reduceat(use.astype(np.int64), starts, axis=0)
    has = per_day > 0
    n_days = has.sum(axis=0)
    daily = np.where(has, sums / np.where(has, per_day, 1), 0.0)
    mean = daily.sum(axis=0) / np.maximum(n_days, 1)
    dev = np.where(has, daily - mean, 0.0)
    sd = np.sqrt((dev**2).sum(axis=0) / np.maximum(n_days - 1, 1))
    return [
        _effect_and_spread(mean[j], sd[j], int(n_days[j])) if n_days[j] else None
        for j in range(active.shape[1])
    ]


def _effect_and_spread(mean: float, sd: float, days: int) -> tuple[float, float]:
    """``(effect, spread)`` from the mean log ratio of the occurrence days, their standard
    deviation and their number (see :func:`occurrence_effect`)."""
    from .calendar.records import SPREAD_FLOOR, default_spread

    effect = float(np.expm1(mean))
    if days < 3:
        return effect, default_spread(effect)
    spread = float(sd) * np.sqrt(1 + 1 / days) * (1 + effect)
    return effect, max(float(spread), SPREAD_FLOOR)


def ordered_bounds(
    bounds: dict[str, np.ndarray], y: np.ndarray, nonneg: bool
) -> dict[str, np.ndarray]:
    """Enforce ``lo_95 <= lo_80 <= y <= hi_80 <= hi_95`` (and ``lo >= 0`` for counts) on the
    arrays ``bounds`` (``lo_80, hi_80, lo_95, hi_95``)."""
    lo_80 = np.minimum(bounds["lo_80"], y)
    hi_80 = np.maximum(bounds["hi_80"], y)
    out = {
        "lo_80": lo_80,
        "hi_80": hi_80,
        "lo_95": np.minimum(bounds["lo_95"], lo_80),
        "hi_95": np.maximum(bounds["hi_95"], hi_80),
    }
    return {k: np.maximum(v, 0.0) if nonneg else v for k, v in out.items()}
