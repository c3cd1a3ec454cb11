"""The counterfactual of one series: the forecaster fitted before the window, levelled.

The forecast of the window is scaled by a local level (the same hours of the
days around it) and the same procedure is repeated on earlier copies of the
window (pseudo-windows), whose errors size the ranges (docs/impact.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import grain
from ..errors import SeriesError
from .ranges import relative_cumulative_errors
from .window import fmt_time

ForecasterFactory = Callable[[str | None], Any]
"""``make(model_name_or_None) -> unfitted forecaster`` with ``fit(y)`` / ``predict(index)``."""


@dataclass
class ImpactSettings:
    """How the counterfactual and its ranges are built (docs/impact.md).

    ``n_folds``: pseudo-windows (earlier windows of the same length and hours,
    a day apart, or a window length for windows over a day) whose errors size
    the ranges; ``anchor``: weight (0-1) of the local level; ``level_days``:
    days before (and with ``post`` after) the window whose same hours give that
    level; ``refits``: extra forecasters that judge the pseudo-windows out of
    sample (0: the main fit).
    """

    post: bool = False
    model: str = "auto"
    n_folds: int = 42
    anchor: float = 1.0
    level_days: int = 7
    refits: int = 0
    warmup: pd.Timedelta = pd.Timedelta(days=7)


@dataclass
class Plan:
    """The window, the context around it and the grid the forecaster predicts on."""

    window: pd.DatetimeIndex
    after: pd.DatetimeIndex
    before: pd.DatetimeIndex
    span: pd.DatetimeIndex
    step: pd.Timedelta
    day: int

    @property
    def pos(self) -> int:
        """Position of the window's first step on ``span``."""
        return int(self.span.get_loc(self.window[0]))


def plan_window(
    y: pd.Series, start: pd.Timestamp, end: pd.Timestamp, freq: str, cfg: ImpactSettings
) -> Plan:
    """Where the window, the context and the prediction span sit on the series' grid.

    The span reaches back far enough for every pseudo-window and its level
    days, and forward over the context after the window (and, with ``post``,
    the level days after it); it is clipped to the data.
    """
    step = grain.step(freq)
    window = pd.date_range(start, end, freq=step)
    day = grain.per_day(freq)
    context = int(min(max(len(window), day), 7 * day))
    back_days = math.ceil(len(window) / day) * (cfg.n_folds + 1) + cfg.level_days
    first = max(y.index.min(), start - pd.Timedelta(days=back_days))
    forward = max(context, cfg.level_days * day if cfg.post else 0)
    last = min(y.index.max(), end + step * forward)
    span = pd.date_range(first, max(last, end), freq=step)
    after = pd.date_range(end + step, periods=context, freq=step)
    before = pd.date_range(start - step * context, periods=context, freq=step)
    return Plan(window, after[after <= y.index.max()], before, span, step, day)


def predict_frame(forecaster: Any, index: pd.DatetimeIndex) -> pd.DataFrame:
    """The forecaster's prediction on ``index``, with an ``events`` column (empty when absent)."""
    pred = forecaster.predict(index).reindex(index)
    if "events" not in pred:
        pred["events"] = ""
    return pred


def chosen_model(forecaster: Any, requested: str) -> str | None:
    """The concrete model a self-backtesting model (``auto``) picked, or the one requested
    (reported in the table); None when a self-backtesting model has not told."""
    from ..models import make_model
    from ..models.base import get_tags

    chosen = getattr(getattr(forecaster, "model_", None), "chosen_", None)
    if isinstance(chosen, str):
        return chosen
    return None if get_tags(make_model(requested)).self_backtests else requested


def level_ratio(actual: np.ndarray, yhat: np.ndarray, weight: float = 1.0) -> float:
    """Local level: ``(sum actual / sum forecast) ** weight`` over the reference steps.

    Steps where either is missing are skipped (the incident window itself is
    masked out before). ``weight`` (0 to 1) shrinks the correction; the ratio
    is 1 when it cannot be formed (no reference data, no positive totals).
    """
    a, f = np.asarray(actual, float), np.asarray(yhat, float)
    ok = np.isfinite(a) & np.isfinite(f)
    num, den = float(a[ok].sum()), float(f[ok].sum())
    if weight <= 0 or num <= 0 or den <= 0:
        return 1.0
    return (num / den) ** weight


def reference_positions(
    pos: int, steps: int, day: int, days: int, post: bool, length: int
) -> np.ndarray:
    """Grid positions of the same steps of the day as a window, ``1..days`` days before (and after).

    The window covers ``[pos, pos + steps)``. Shifted copies that overlap the
    window keep only their part outside it; positions outside ``[0, length)``
    are dropped. With ``post`` the copies after the window are included too.
    """
    offsets = np.arange(steps)
    shifts = [-d * day for d in range(1, days + 1)]
    if post:
        shifts += [d * day for d in range(1, days + 1)]
    out = np.concatenate([pos + s + offsets for s in shifts]) if shifts else np.empty(0, int)
    out = out[(out < pos) | (out >= pos + steps)]
    return np.unique(out[(out >= 0) & (out < length)])


def levelled(
    actual: np.ndarray, yhat: np.ndarray, pos: int, steps: int, plan: Plan, cfg: ImpactSettings
) -> tuple[np.ndarray, float]:
    """The forecast of ``[pos, pos + steps)`` scaled by its local level, and that level."""
    ref = reference_positions(pos, steps, plan.day, cfg.level_days, cfg.post, len(actual))
    ratio = level_ratio(actual[ref], yhat[ref], cfg.anchor)
    return yhat[pos : pos + steps] * ratio, ratio


def masked_actuals(y: pd.Series, plan: Plan) -> np.ndarray:
    """``y`` on the span with the incident window masked: never evidence of the normal level."""
    masked = y.reindex(plan.span).to_numpy(dtype=float, copy=True)  # written into below
    masked[plan.pos : plan.pos + len(plan.window)] = np.nan
    return masked


def earlier_windows(
    actual: np.ndarray,
    forecasts: list[tuple[int, np.ndarray]],
    plan: Plan,
    cfg: ImpactSettings,
    first_pos: int = 0,
    event_steps: np.ndarray | None = None,
) -> list[tuple[int, np.ndarray]]:
    """Earlier copies of the window: ``(position, levelled expectation)`` pairs, nearest first.

    Copy ``k`` is the window moved ``k`` days back (same length, same hours of
    the day), for the first ``n_folds`` values of ``k`` that end before the
    window and do not overlap one another: after a copy is taken the next
    starts a whole window length further back (a window over a day: copies its
    length in whole days apart), since overlapping copies would share most of
    their error and count it twice. Each is levelled exactly like the window
    (its own days around it, the incident window masked out of ``actual``).
    ``forecasts`` are ``(cutoff position, forecast on the span)`` pairs: a copy
    uses the forecast with the latest cutoff at or before its start (none:
    skipped). Copies starting before ``first_pos`` (the history's first week
    plus the level days) or with missing values are skipped.

    Without ``event_steps`` these are the *pseudo-windows*. With it (steps of
    the span on a day of a calendar event in the expectation) only the copies
    touching such a step count: a window with events carries their curated or
    learned effects, whose error the pseudo-windows, mostly ordinary days, do
    not show.
    """
    pos, steps = plan.pos, len(plan.window)
    out = []
    gap = k = math.ceil(steps / plan.day)
    while len(out) < cfg.n_folds:
        p = pos - k * plan.day
        if p < first_pos:
            break
        k += 1
        if event_steps is not None and not event_steps[p : p + steps].any():
            continue
        usable = [f for cut, f in forecasts if cut <= p]
        a = actual[p : p + steps]
        if not usable or np.isnan(a).any() or not np.isfinite(usable[-1][p : p + steps]).all():
            continue
        expected, _ = levelled(actual, usable[-1], p, steps, plan, cfg)
        out.append((p, expected))
        k += gap - 1
    return out


def window_errors(
    actual: np.ndarray, windows: list[tuple[int, np.ndarray]], steps: int
) -> np.ndarray | None:
    """Relative cumulative errors of the same procedure on earlier windows, one row each.

    ``windows`` are ``(position, expectation)`` pairs (:func:`earlier_windows`);
    None when there is none.
    """
    rows = [relative_cumulative_errors(actual[p : p + steps], e) for p, e in windows]
    return np.vstack(rows) if rows else None


def calibration_forecasts(
    y: pd.Series,
    plan: Plan,
    make: ForecasterFactory,
    chosen: str | None,
    main_yhat: np.ndarray,
    cfg: ImpactSettings,
) -> list[tuple[int, np.ndarray]]:
    """Forecasts the pseudo-windows are judged with, as ``(cutoff position, forecast)``.

    ``refits == 0``: the main forecaster (fitted up to the window) for all of them,
    so they lie inside its training data. Otherwise the pseudo-windows are split
    into ``refits`` blocks of consecutive days, each judged out of sample by a
    forecaster fitted on the data before the block's first window (the model
    ``auto`` chose for the main fit, or ``auto`` again when it chose a mix). A
    block whose history is too short is left out.
    """
    from ..models import MODEL_NAMES

    pos, steps = plan.pos, len(plan.window)
    chosen = chosen if chosen in MODEL_NAMES else None  # a mix ("ols 0.6 + ets 0.4"): auto again
    if cfg.refits <= 0:
        return [(0, main_yhat)]  # (in sample: usable for every pseudo-window)
    k0 = math.ceil(steps / plan.day)
    block = math.ceil(cfg.n_folds / cfg.refits)
    out = []
    for j in range(cfg.refits):
        cut = pos - (k0 + (j + 1) * block - 1) * plan.day
        if cut <= 0:
            break
        history = y[y.index < plan.span[cut]].dropna()
        try:
            fitted = make(chosen).fit(history)
        except (SeriesError, ValueError):
            break
        out.append((cut, predict_frame(fitted, plan.span)["yhat"].to_numpy(float)))
    return sorted(out, key=lambda f: f[0])


@dataclass
class FittedSeries:
    """A series' forecaster fitted on the data before the window, and its forecast on the span."""

    y: pd.Series
    plan: Plan
    main: Any
    pred: pd.DataFrame
    history: pd.Series

    def yhat_on(self, index: pd.DatetimeIndex) -> np.ndarray:
        """The point forecast on another series' span (NaN where this span does not reach)."""
        return self.pred["yhat"].reindex(index).to_numpy(float)


def fit_series(
    y: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    make: ForecasterFactory,
    freq: str = "h",
    cfg: ImpactSettings | None = None,
) -> FittedSeries:
    """Fit ``make(None)`` on the data before ``start`` and forecast the span around the window.

    Raises ``ValueError`` when the window holds no data of ``y``.
    """
    cfg = cfg or ImpactSettings()
    plan = plan_window(y, start, end, freq, cfg)
    if y.reindex(plan.window).isna().all():
        raise ValueError(f"no data in the window {fmt_time(start)} to {fmt_time(end)}")
    history = y[y.index < start].dropna()
    main = make(None).fit(history)
    return FittedSeries(y, plan, main, predict_frame(main, plan.span), history)


def rescale_band(pred: pd.DataFrame, yhat: np.ndarray) -> pd.DataFrame:
    """Move the per-step band with a re-levelled point forecast (same relative width)."""
    out = pred.copy()
    old = out["yhat"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(old != 0, yhat / old, 1.0)
    for col in ("lo_80", "hi_80", "lo_95", "hi_95"):
        out[col] = out[col].to_numpy(float) * factor
    out["yhat"] = yhat
    return out
