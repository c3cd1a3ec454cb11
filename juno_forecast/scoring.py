"""How forecasts are scored: MASE (with its seasonal naive scale), sMAPE and range coverage.

Used by ``backtest`` (its summary per model) and by the benchmarks, so every
comparison scores the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .grain import season as season_of


def seasonal_naive_mae(y: pd.Series | np.ndarray, freq: str) -> float:
    """In-sample MAE of the seasonal naive forecast (a week back): the MASE denominator."""
    season = season_of(freq)
    v = np.asarray(y, dtype=float)
    if len(v) <= season:
        return float("nan")
    return float(np.mean(np.abs(v[season:] - v[:-season])))


#: a MASE scale is at least this share of the history's mean level (constant series)
MASE_SCALE_FLOOR = 0.01


def mase_scale(y: pd.Series | np.ndarray, freq: str) -> float:
    """The MASE denominator: the seasonal naive MAE, floored so a constant history scores.

    A history the seasonal naive forecast never misses (a constant series) would
    divide by zero and make MASE NaN; its scale is :data:`MASE_SCALE_FLOOR` of its
    mean absolute level instead (an error of 1% of the level scores 1), or one unit
    of the metric when that level is 0 too.
    """
    mae = seasonal_naive_mae(y, freq)
    if np.isnan(mae):
        return mae
    level = float(np.mean(np.abs(np.asarray(y, dtype=float))))
    return max(mae, MASE_SCALE_FLOOR * level) if level > 0 else max(mae, 1.0)


def _terms(pred: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each row's share of the scores: scaled error, sMAPE term, inside the 80%/95% range."""
    y, f = pred["y"].to_numpy(float), pred["yhat"].to_numpy(float)
    err = np.abs(y - f)
    denom = np.abs(y) + np.abs(f)
    return {
        "mase": err / pred["scale"].to_numpy(float),
        "smape": np.where(denom > 0, 2 * err / np.where(denom > 0, denom, 1), 0.0),
        "coverage_80": (y >= pred["lo_80"].to_numpy(float)) & (y <= pred["hi_80"].to_numpy(float)),
        "coverage_95": (y >= pred["lo_95"].to_numpy(float)) & (y <= pred["hi_95"].to_numpy(float)),
    }


def score(pred: pd.DataFrame) -> pd.Series:
    """``mase, smape, coverage_80, coverage_95`` (and ``n``) of rows of backtest predictions."""
    terms = _terms(pred)
    return pd.Series(
        {
            "n": len(pred),
            "mase": float(np.mean(terms["mase"])),
            "smape": float(100 * np.mean(terms["smape"])),
            "coverage_80": float(np.mean(terms["coverage_80"])),
            "coverage_95": float(np.mean(terms["coverage_95"])),
        }
    )


def score_groups(pred: pd.DataFrame, by: list[str], sort: bool = True) -> pd.DataFrame:
    """:func:`score` of each group of rows (one row per group: ``by``, ``n``, the scores).

    The rows' terms are computed once for all groups and summed per group with numpy,
    instead of a frame per group (a backtest of 1,000 series has thousands of folds).
    Groups come sorted by ``by`` (``sort=False``: in order of first appearance).
    """
    codes = pred.groupby(by, sort=sort, observed=True).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    n = np.bincount(codes)
    starts = np.r_[0, np.cumsum(n)[:-1]]
    out = pred.iloc[order[starts]][by].reset_index(drop=True)
    means = {
        k: np.add.reduceat(v[order].astype(float), starts) / n for k, v in _terms(pred).items()
    }
    out["n"] = n
    out["mase"] = means["mase"]
    out["smape"] = 100 * means["smape"]
    out["coverage_80"] = means["coverage_80"]
    out["coverage_95"] = means["coverage_95"]
    return out
