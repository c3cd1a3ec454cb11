"""One series judged: the levelled counterfactual, its ranges, the table row and the path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .controls import ControlArrays, control_factor, controlled_windows
from .counterfactual import (
    FittedSeries,
    ForecasterFactory,
    ImpactSettings,
    Plan,
    calibration_forecasts,
    chosen_model,
    earlier_windows,
    levelled,
    masked_actuals,
    rescale_band,
    window_errors,
)
from .ranges import MIN_FOLDS, band_sigma, cumulative_ranges


def series_impact(
    fit: FittedSeries,
    make: ForecasterFactory,
    cfg: ImpactSettings | None = None,
    controls: list[FittedSeries] | None = None,
    event_steps: np.ndarray | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Impact of the window on one series, from its forecaster fitted before the window.

    ``fit``: the series, its plan and the forecaster fitted on the data before
    the window (:func:`fit_series`). ``make(model_name)`` builds an unfitted
    forecaster for ``refits`` (``None``: the requested model). ``controls``:
    fitted series of the same metric, unaffected by the incident, whose
    deviation from their own forecasts inside the window also scales the
    counterfactual (:func:`controlled_windows`). ``event_steps``: steps of the
    span on a day of a calendar event in the expectation; when the window has
    one, the ranges are at least as wide as the errors on earlier copies of the
    window that had one too (:func:`earlier_windows`, :func:`cumulative_ranges`).
    Returns the table row (without keys/metric) and the per-timestamp path.
    Raises ``ValueError`` or :class:`SeriesError` when the series cannot be judged.
    """
    cfg = cfg or ImpactSettings()
    y = fit.y
    plan, pred = fit.plan, fit.pred
    yhat = pred["yhat"].to_numpy(float)
    masked = masked_actuals(y, plan)
    pos, n_w = plan.pos, len(plan.window)
    _, ratio = levelled(masked, yhat, pos, n_w, plan, cfg)
    warm = fit.history.index.min() + cfg.warmup + pd.Timedelta(days=cfg.level_days)
    first_pos = max(0, int((warm - plan.span[0]) / plan.step))
    chosen = chosen_model(fit.main, cfg.model)
    forecasts = calibration_forecasts(y, plan, make, chosen, yhat, cfg)
    windows = earlier_windows(masked, forecasts, plan, cfg, first_pos)
    on_events = event_steps is not None and bool(event_steps[pos : pos + n_w].any())
    ev_windows = (
        earlier_windows(masked, forecasts, plan, cfg, first_pos, event_steps) if on_events else []
    )
    factor, weight = 1.0, float("nan")
    if controls:
        ctl = [ControlArrays.on(c, plan) for c in controls]
        factor, weight, windows = controlled_windows(masked, windows, ctl, pos, n_w, plan, cfg)
        ev_windows = [
            (p, e * control_factor(ctl, p, n_w, plan, cfg, weight)) for p, e in ev_windows
        ]
    errors = window_errors(masked, windows, n_w)
    ev_errors = window_errors(masked, ev_windows, n_w) if len(ev_windows) >= MIN_FOLDS else None
    scale = np.full(len(yhat), ratio)
    scale[pos : pos + n_w] *= factor
    counterfactual = rescale_band(pred, yhat * scale)
    nonneg = bool((fit.history >= 0).all())
    row, path = _summarise(y, plan, counterfactual, errors, nonneg, ev_errors)
    row.update(model=chosen or cfg.model, level=ratio, control_factor=factor, control_weight=weight)
    return row, path


def _summarise(
    y: pd.Series,
    plan: Plan,
    pred: pd.DataFrame,
    errors: np.ndarray | None,
    nonneg: bool = False,
    event_errors: np.ndarray | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Totals, ranges, peak and the per-timestamp path of one series (``pred`` on ``plan.span``)."""
    win = pred.reindex(plan.window)
    actual = y.reindex(plan.window).to_numpy(float)
    observed = ~np.isnan(actual)
    yhat_w = np.where(observed, win["yhat"].to_numpy(float), 0.0)
    sigma = np.where(observed, band_sigma(win["lo_95"].to_numpy(), win["hi_95"].to_numpy()), 0.0)
    rng = cumulative_ranges(yhat_w, sigma, errors, nonneg=nonneg, event_errors=event_errors)
    cum_actual = np.cumsum(np.nan_to_num(actual))
    row = _row(actual, win, rng, cum_actual, plan)
    path = _path(y, plan, pred, rng, cum_actual)
    return row, path


def _row(
    actual: np.ndarray, win: pd.DataFrame, rng: dict[str, Any], cum_actual: np.ndarray, plan: Plan
) -> dict[str, Any]:
    """The table row of one series (without keys/metric): totals, ranges, peak, events."""
    total_a, total_e = float(cum_actual[-1]), float(rng["cum_expected"][-1])
    lo95, hi95 = float(rng["cum_lo_95"][-1]), float(rng["cum_hi_95"][-1])
    lo80, hi80 = float(rng["cum_lo_80"][-1]), float(rng["cum_hi_80"][-1])
    diff = total_a - total_e
    step_diff = actual - win["yhat"].to_numpy(float)
    peak_i = _peak_index(step_diff, diff)
    affected = bool(total_a < lo95 or total_a > hi95)
    direction = ("below" if total_a < lo95 else "above") if affected else ""
    events = sorted({e for s in win["events"].fillna("") for e in str(s).split(";") if e})
    return {
        "actual_total": total_a,
        "expected_total": total_e,
        "lo_95": lo95,
        "hi_95": hi95,
        "difference": diff,
        "difference_pct": 100.0 * diff / total_e if total_e else float("nan"),
        "peak_ds": plan.window[peak_i],
        "affected": affected,
        "lo_80": lo80,
        "hi_80": hi80,
        "difference_lo_95": total_a - hi95,
        "difference_hi_95": total_a - lo95,
        "difference_lo_80": total_a - hi80,
        "difference_hi_80": total_a - lo80,
        "peak_difference": float(step_diff[peak_i]),
        "peak_lo_95": float(actual[peak_i] - win["hi_95"].iloc[peak_i]),
        "peak_hi_95": float(actual[peak_i] - win["lo_95"].iloc[peak_i]),
        "direction": direction,
        "events": ";".join(events),
        "steps": len(plan.window),
        "range_method": rng["method"],
        "folds": rng["folds"],
        "event_folds": rng["event_folds"],
    }


def _peak_index(step_diff: np.ndarray, total_diff: float) -> int:
    """The largest shortfall when the total is a loss, else the largest excess."""
    filled = np.where(np.isnan(step_diff), 0.0, step_diff)
    return int(np.argmin(filled) if total_diff <= 0 else np.argmax(filled))


def _path(
    y: pd.Series, plan: Plan, pred: pd.DataFrame, rng: dict[str, Any], cum_actual: np.ndarray
) -> pd.DataFrame:
    """Per-timestamp path: context before (actuals only), the window and the context after.

    Built in one go from arrays (the band taken from ``pred`` by position; NaN before
    the window's context, where only actuals are shown, and outside the window for the
    cumulative columns): a frame joined and written column by column cost more than
    the rest of a series' summary.
    """
    shown = plan.window.append(plan.after)
    index = plan.before.append(shown)
    offset, n = len(plan.before), len(index)
    where = pred.index.get_indexer(shown)  # -1: not on the prediction's span (NaN)
    cols: dict[str, Any] = {"ds": index, "actual": y.reindex(index).to_numpy(float)}
    for col in ("yhat", "lo_80", "hi_80", "lo_95", "hi_95", "events"):
        values = pred[col].to_numpy(dtype=object if col == "events" else float)
        out = np.full(n, np.nan, dtype=values.dtype)
        out[offset:] = np.where(where >= 0, values[where], np.nan)
        cols[col] = out
    cols["in_window"] = (index >= plan.window[0]) & (index <= plan.window[-1])
    cum = {
        "cum_actual": cum_actual,
        "cum_expected": rng["cum_expected"],
        "cum_difference": cum_actual - rng["cum_expected"],
        "cum_lo_80": cum_actual - rng["cum_hi_80"],
        "cum_hi_80": cum_actual - rng["cum_lo_80"],
        "cum_lo_95": cum_actual - rng["cum_hi_95"],
        "cum_hi_95": cum_actual - rng["cum_lo_95"],
    }
    for col, values in cum.items():
        out = np.full(n, np.nan)
        out[offset : offset + len(values)] = values
        cols[col] = out
    return pd.DataFrame(cols)
