"""Range maths: ranges of a window's cumulative total from the errors of earlier windows.

Pure functions on arrays (no pandas, no fitting); the procedure and its
measured coverage are in docs/impact.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..intervals import conformal_quantile

Z95 = 1.959963984540054


Z_LEVEL = {0.80: 1.2815515655446004, 0.95: Z95}


MIN_FOLDS = 3


LEVELS = (0.80, 0.95)


def band_sigma(lo_95: np.ndarray, hi_95: np.ndarray) -> np.ndarray:
    """Per-step error scale implied by a calibrated 95% band: its width over 2 x 1.96."""
    sigma = (np.asarray(hi_95, float) - np.asarray(lo_95, float)) / (2 * Z95)
    return np.where(np.isfinite(sigma) & (sigma > 0), sigma, 0.0)


def relative_cumulative_errors(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``(cum actual - cum expected) / cum expected`` at every prefix (rows: windows)."""
    ca = np.cumsum(np.asarray(actual, float), axis=-1)
    ce = np.cumsum(np.asarray(expected, float), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ce > 0, (ca - ce) / ce, np.nan)


def student_t_halfwidth(errors: np.ndarray, level: float) -> float:
    """Prediction half-width from few errors: ``t(m - 1) * rms * sqrt(1 + 1/m)`` (NaN without any)."""
    from scipy import stats

    e = np.asarray(errors, float)[np.isfinite(errors)]
    m = len(e)
    if m == 0:
        return float("nan")
    rms = float(np.sqrt(np.mean(e**2)))
    return float(stats.t.ppf(0.5 + level / 2, df=max(m - 1, 1)) * rms * math.sqrt(1 + 1 / m))


def range_method(n_windows: int, levels: Iterable[float] = LEVELS) -> str:
    """How ranges are sized from ``n_windows`` pseudo-window errors.

    ``conformal`` when every level's conformal quantile is finite, ``t`` (Student-t
    on the errors' root mean square) from :data:`MIN_FOLDS` windows, else
    ``bands`` (the per-step forecast bands added up, fully correlated).
    """
    if n_windows >= max(math.ceil(1 / (1 - lv)) - 1 for lv in levels):
        return "conformal"
    return "t" if n_windows >= MIN_FOLDS else "bands"


def cumulative_ranges(
    yhat: np.ndarray,
    sigma: np.ndarray,
    fold_errors: np.ndarray | None = None,
    levels: Iterable[float] = LEVELS,
    nonneg: bool = False,
    event_errors: np.ndarray | None = None,
) -> dict[str, Any]:
    """Ranges of the cumulative expected total at every prefix of the window.

    ``fold_errors`` holds one row per pseudo-window: the relative error of the
    same procedure's cumulative total at every prefix
    (:func:`relative_cumulative_errors`). The range at prefix ``h`` is
    ``cum_expected(h) * (1 +/- q(h))`` with ``q`` the conformal quantile of the
    absolute errors (Student-t with few windows, see :func:`range_method`).
    Without usable windows, ``z_q * sum sigma``: the per-step bands added up (also
    at prefixes where no window has a positive expected total to compare with).
    ``nonneg``: counts, whose expected total is never below zero.
    ``event_errors``: the same errors on earlier copies of the window that had
    calendar events too (``counterfactual.earlier_windows`` with ``event_steps``);
    with at least :data:`MIN_FOLDS` of them, each half-width is the larger of
    the two (an event's expected effect is uncertain, and ordinary days do not
    show it).
    Returns ``cum_expected``, ``cum_lo_XX`` / ``cum_hi_XX`` per level, ``method``,
    ``folds`` and ``event_folds``.
    """
    sigma = np.asarray(sigma, float)
    cum_expected = np.cumsum(np.asarray(yhat, float))
    errs = None if fold_errors is None else np.asarray(fold_errors, float)
    m = 0 if errs is None or errs.ndim != 2 else len(errs)
    method = range_method(m, levels)
    ev = None if event_errors is None else np.asarray(event_errors, float)
    m_ev = 0 if ev is None or ev.ndim != 2 or len(ev) < MIN_FOLDS else len(ev)
    ev_method = range_method(m_ev, levels)
    out: dict[str, Any] = {
        "cum_expected": cum_expected,
        "method": f"{method}({m})" if m else method,
        "folds": m if method != "bands" else 0,
        "event_folds": m_ev,
    }
    if m_ev:
        out["method"] += f" + event days {ev_method}({m_ev})"
    for level in levels:
        bands = Z_LEVEL[level] * np.cumsum(sigma)
        if method == "bands":
            half = bands
        else:  # where the errors say nothing (no window with a positive total), the bands
            with np.errstate(invalid="ignore"):
                half = _relative_halfwidths(errs, level, method) * np.abs(cum_expected)
            half = np.where(np.isfinite(half), half, bands)
        if m_ev:
            with np.errstate(invalid="ignore"):
                half = np.fmax(
                    half, _relative_halfwidths(ev, level, ev_method) * np.abs(cum_expected)
                )
        tag = f"{round(level * 100):d}"
        lo = cum_expected - half
        out[f"cum_lo_{tag}"] = np.maximum(lo, 0.0) if nonneg else lo
        out[f"cum_hi_{tag}"] = cum_expected + half
    return out


def _relative_halfwidths(errs: np.ndarray, level: float, method: str) -> np.ndarray:
    """Per-prefix relative half-width from the pseudo-windows' errors (columns: prefixes)."""
    if method == "conformal":
        return np.array(
            [conformal_quantile(np.abs(col), level, interpolate=False) for col in errs.T]
        )
    return np.array([student_t_halfwidth(col, level) for col in errs.T])
