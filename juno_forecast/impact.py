"""Incident impact: what an incident cost, per series, as a counterfactual with ranges.

For every series, :func:`impact` answers "how much did the incident window lose
(or gain) against what would have happened without it?":

1. **Counterfactual path.** A :class:`~juno_forecast.forecast.SeriesForecaster`
   (the same model, calendar and calibrated bands as ``forecast``) is fitted on
   the history *before* the window and predicts every timestamp in it. Calendar
   events inside the window are part of that forecast, so a storm on a holiday
   is judged against a holiday, not an ordinary day. An *intercept correction*
   (``anchor``) then scales the path by ``(actual / forecast) ** anchor`` over
   the day before the window: the level miss of the last day (weather, a busy
   week) persists into the next hours. (On the real hourly pickups it cut the
   median error of 2-48 hour totals from about 8-11% to about 7%.) When the
   investigated event is itself in the calendar (a listed storm), leave it out
   with ``exclude_events`` so the counterfactual is "no storm".
   With ``post=True`` the counterfactual also uses the data *after* the window
   (the window itself stays excluded): the ratio of actual to forecast over the
   stretch right after the window (as long as the window, at least a day, at
   most a week) re-levels the forecast, interpolated log-linearly across the
   window from 1 at its start (where the fit ends) to that ratio at its end.

2. **Ranges of the cumulative total** come from the forecaster's own errors,
   not a fixed percentage. The per-step calibrated 95% band gives a scale
   ``sigma_t`` per timestamp; how those errors add up over a window (they are
   autocorrelated, so the cumulative error is far wider than independent steps
   would give) is measured by backtesting *the same procedure* on up to
   ``n_folds`` earlier windows of the same length and hour-of-day (each fold
   fitted only on data before it). For each fold and each prefix length ``h``
   the standardised cumulative error is ``z(h) = sum(actual - yhat) / sum(sigma)``;
   their root mean square ``s(h)`` (floored at what independent steps would
   give) scales Student-t quantiles with the folds' effective degrees of
   freedom: ``expected(h) +/- t_q * s(h) * sum(sigma)``. With fewer than
   ``MIN_FOLDS`` usable folds the range falls back to the fully correlated sum
   of the per-step bands (``range_method`` says which was used).

3. **Peak.** The timestamp of the largest shortfall (or excess, when the total
   is above expectation), with its per-step 95% band.

:func:`impact` returns a DataFrame (one row per series) for notebook users; the
per-timestamp paths, the share of zones affected and the events in the window
are in ``table.attrs`` and, typed, in :class:`ImpactResult` from
:func:`run_impact`.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, SeriesError

Z95 = 1.959963984540054
MIN_FOLDS = 3
LEVELS = (0.80, 0.95)
TABLE_COLUMNS = [
    "metric", "actual_total", "expected_total", "lo_95", "hi_95", "difference",
    "difference_pct", "peak_ds", "affected",
    "lo_80", "hi_80", "difference_lo_95", "difference_hi_95", "difference_lo_80",
    "difference_hi_80", "peak_difference", "peak_lo_95", "peak_hi_95", "direction",
    "events", "steps", "model", "range_method", "folds",
]  # fmt: skip


# --------------------------------------------------------------------------- results


@dataclass
class ImpactResult:
    """Everything :func:`run_impact` computed.

    ``table``: one row per series (see :data:`TABLE_COLUMNS`, after the key columns).
    ``paths``: per timestamp and series: ``actual, yhat, lo_80 .. hi_95`` (the
    per-step counterfactual band), ``in_window``, and inside the window the
    cumulative ``cum_actual, cum_expected, cum_difference`` with the range of the
    cumulative difference ``cum_lo_80, cum_hi_80, cum_lo_95, cum_hi_95``.
    ``share_affected``: per metric, the share of series whose total is outside its 95% range.
    ``events``: calendar events in the window per series (``name, category, start, end``).
    ``problems``: series that could not be judged, as ``"<series>: <why>"``.
    """

    table: pd.DataFrame
    paths: pd.DataFrame
    keys: tuple[str, ...]
    start: pd.Timestamp
    end: pd.Timestamp
    freq: str
    post: bool
    model: str
    share_affected: dict[str, float] = field(default_factory=dict)
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: list[str] = field(default_factory=list)

    def as_frame(self) -> pd.DataFrame:
        """The table with the rest of the result in ``attrs`` (what :func:`impact` returns)."""
        out = self.table.copy()
        out.attrs.update(
            paths=_frame_to_attr(self.paths), keys=self.keys, start=self.start, end=self.end,
            freq=self.freq, post=self.post, model=self.model,
            share_affected=dict(self.share_affected), events=_frame_to_attr(self.events),
            problems=list(self.problems),
        )  # fmt: skip
        return out

    @classmethod
    def from_frame(cls, table: pd.DataFrame) -> ImpactResult:
        """Rebuild the result from a table returned by :func:`impact` (its ``attrs``)."""
        a = table.attrs
        if "paths" not in a:
            raise InputError("impact table: no paths in .attrs; pass the result of impact()")
        return cls(
            table=table, paths=_frame_from_attr(a["paths"]), keys=tuple(a["keys"]), start=a["start"],
            end=a["end"], freq=a["freq"], post=a["post"], model=a["model"],
            share_affected=dict(a.get("share_affected", {})),
            events=_frame_from_attr(a.get("events")), problems=list(a.get("problems", [])),
        )  # fmt: skip


def _frame_to_attr(frame: pd.DataFrame) -> dict:
    """A frame as plain lists for ``DataFrame.attrs``.

    pandas compares attrs with ``==`` when it combines frames (printing a wide
    table does): a DataFrame there makes that comparison raise.
    """
    return {"split": frame.to_dict(orient="split"), "dtypes": frame.dtypes.astype(str).to_dict()}


def _frame_from_attr(value: dict | None) -> pd.DataFrame:
    """The frame :func:`_frame_to_attr` stored (an empty frame for None)."""
    if not value:
        return pd.DataFrame()
    split = value["split"]
    frame = pd.DataFrame(split["data"], index=split["index"], columns=split["columns"])
    return frame.astype(value["dtypes"])


# --------------------------------------------------------------------------- maths


def band_sigma(lo_95: np.ndarray, hi_95: np.ndarray) -> np.ndarray:
    """Per-step error scale implied by a calibrated 95% band: its width over 2 x 1.96."""
    sigma = (np.asarray(hi_95, float) - np.asarray(lo_95, float)) / (2 * Z95)
    return np.where(np.isfinite(sigma) & (sigma > 0), sigma, 0.0)


def standardised_cumulative_error(
    actual: np.ndarray, yhat: np.ndarray, sigma: np.ndarray
) -> np.ndarray:
    """``z(h) = sum_{t<=h}(actual - yhat) / sum_{t<=h} sigma`` for every prefix ``h``.

    This is the error of the cumulative total in units of the fully correlated
    sum of the per-step scales, so folds of different levels are comparable.
    """
    num = np.cumsum(np.asarray(actual, float) - np.asarray(yhat, float))
    den = np.cumsum(np.asarray(sigma, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, 0.0)


def effective_dof(n_folds: int, window_steps: int, spacing_steps: int) -> float:
    """Degrees of freedom of ``n_folds`` fold errors whose windows may overlap.

    Folds one day apart with a two-day window share half their steps; counting
    them as fully independent would understate the range. Each fold counts for
    ``min(1, spacing / window)``; at least one.
    """
    if n_folds <= 0:
        return 0.0
    weight = min(1.0, spacing_steps / max(window_steps, 1))
    return max(1.0, n_folds * weight)


def cumulative_scale(fold_z: np.ndarray | None, sigma: np.ndarray) -> tuple[np.ndarray, str]:
    """Scale ``s(h)`` of the standardised cumulative error at every prefix ``h``.

    ``fold_z`` has one row per backtest fold (``standardised_cumulative_error``
    of that fold, same length as ``sigma``). The root mean square over folds is
    floored at ``sqrt(sum sigma^2) / sum sigma`` (independent steps: errors never
    cancel better than that). With fewer than :data:`MIN_FOLDS` folds, ``s = 1``:
    the fully correlated sum of the per-step bands.
    """
    sigma = np.asarray(sigma, float)
    cum = np.cumsum(sigma)
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.where(cum > 0, np.sqrt(np.cumsum(sigma**2)) / cum, 1.0)
    if fold_z is None or len(fold_z) < MIN_FOLDS:
        return np.ones_like(sigma), "bands"
    rms = np.sqrt(np.mean(np.asarray(fold_z, float) ** 2, axis=0))
    return np.maximum(rms, floor), f"backtest({len(fold_z)})"


def quantile_factor(level: float, dof: float | None) -> float:
    """Two-sided quantile for ``level``: Student-t with ``dof`` (normal when ``dof`` is None)."""
    from scipy import stats

    q = 0.5 + level / 2
    if dof is None or not np.isfinite(dof):
        return float(stats.norm.ppf(q))
    return float(stats.t.ppf(q, df=max(dof, 1.0)))


def cumulative_ranges(
    yhat: np.ndarray,
    sigma: np.ndarray,
    fold_z: np.ndarray | None = None,
    dof: float | None = None,
    levels: Iterable[float] = LEVELS,
    nonneg: bool = False,
) -> dict[str, np.ndarray]:
    """Ranges of the cumulative expected total at every prefix of the window.

    Returns ``cum_expected`` and ``cum_lo_XX`` / ``cum_hi_XX`` per level (ranges
    of the expected cumulative total), plus ``scale`` and ``method``.
    ``cum_expected(h) +/- t_q(dof) * s(h) * sum_{t<=h} sigma_t``; without folds the
    half-width is ``z_q * sum sigma`` (the per-step bands added up, fully correlated).
    ``nonneg``: counts, whose expected total is never below zero (lower bounds clipped).
    """
    sigma = np.asarray(sigma, float)
    cum_expected = np.cumsum(np.asarray(yhat, float))
    scale, method = cumulative_scale(fold_z, sigma)
    use_dof = dof if method != "bands" else None
    folds = 0 if method == "bands" else len(fold_z)
    out: dict[str, Any] = {"cum_expected": cum_expected, "scale": scale, "method": method,
                           "folds": folds}  # fmt: skip
    for level in levels:
        half = quantile_factor(level, use_dof) * scale * np.cumsum(sigma)
        tag = f"{round(level * 100):d}"
        lo = cum_expected - half
        out[f"cum_lo_{tag}"] = np.maximum(lo, 0.0) if nonneg else lo
        out[f"cum_hi_{tag}"] = cum_expected + half
    return out


def post_relevel(
    yhat: np.ndarray, window_steps: int, post_actual: np.ndarray, post_yhat: np.ndarray
) -> tuple[np.ndarray, float]:
    """Re-level a forecast of the window (and what follows) with the data after the window.

    ``yhat`` covers the window then the post stretch. The ratio
    ``sum(post_actual) / sum(post_yhat)`` is the forecast's level error right
    after the window; it is reached log-linearly across the window (weight
    ``(i + 1) / (window_steps + 1)`` at step ``i``) and applied in full after it.
    Returns the re-levelled forecast and the ratio (1 when it cannot be formed).
    """
    yhat = np.asarray(yhat, float)
    pa, pf = float(np.nansum(post_actual)), float(np.nansum(post_yhat))
    ratio = pa / pf if pf > 0 and pa > 0 else 1.0
    weights = np.ones(len(yhat))
    weights[:window_steps] = (np.arange(window_steps) + 1) / (window_steps + 1)
    return yhat * ratio**weights, ratio


# --------------------------------------------------------------------------- window


def step_offset(freq: str) -> pd.Timedelta:
    """One step of the grid: an hour for ``h``, a day for ``D``."""
    return pd.Timedelta(hours=1) if freq == "h" else pd.Timedelta(days=1)


def _as_timestamp(value: Any, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as e:
        raise InputError(
            f"impact --{what}: expected a timestamp like 2015-01-26 or 2015-01-26T18:00, got {value!r}"
        ) from e  # noqa: E501
    if ts is pd.NaT or pd.isna(ts):
        raise InputError(f"impact --{what}: expected a timestamp, got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("America/New_York").tz_localize(None)
    return ts


def _is_date_only(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value.strip()) <= 10
        and ":" not in value
        and "T" not in value
    )


def resolve_window(start: Any, end: Any, freq: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ``[start, end]`` as timestamps, both inclusive.

    An ``end`` written as a date alone (``2015-01-27``) means the whole day (its
    last step), so ``--start 2015-01-26 --end 2015-01-27`` is two full days.
    """
    s, e = _as_timestamp(start, "start"), _as_timestamp(end, "end")
    if _is_date_only(end) and freq == "h":
        e = e.normalize() + pd.Timedelta(days=1) - step_offset(freq)
    if s > e:
        raise InputError(f"impact window: start {_fmt(s)} is after end {_fmt(e)}")
    return s.floor(_floor_rule(freq)), e.floor(_floor_rule(freq))


def _floor_rule(freq: str) -> str:
    return "h" if freq == "h" else "D"


def _fmt(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if (ts.hour or ts.minute) else ts.strftime("%Y-%m-%d")


def check_window(
    first: pd.Timestamp, last: pd.Timestamp, start: pd.Timestamp, end: pd.Timestamp, freq: str
) -> None:
    """Raise :class:`InputError` for a window the data cannot judge.

    A window before (or starting at) the history's first timestamp leaves nothing
    to fit on; a window past the data has no actuals; a window longer than the
    history before it cannot be backtested even once.
    """
    span = f"the data run from {_fmt(first)} to {_fmt(last)}"
    if end < first:
        raise InputError(
            f"impact window {_fmt(start)} to {_fmt(end)} is before the history starts ({span})"
        )
    if start <= first:
        raise InputError(
            f"impact window starts at {_fmt(start)}, at or before the start of the history "
            f"({span}): there is no history before it to fit the counterfactual on"
        )  # fmt: skip
    if start > last:
        raise InputError(f"impact window {_fmt(start)} to {_fmt(end)} has no data ({span})")
    step = step_offset(freq)
    window_steps = int((end - start) / step) + 1
    history_steps = int((start - first) / step)
    if window_steps > history_steps:
        unit = "hours" if freq == "h" else "days"
        raise InputError(
            f"impact window {_fmt(start)} to {_fmt(end)} is {window_steps} {unit} long, longer than "
            f"the history before it ({history_steps} {unit} from {_fmt(first)})"
        )  # fmt: skip


# --------------------------------------------------------------------------- one series


ForecasterFactory = Callable[[str | None], Any]
"""``make(model_name_or_None) -> unfitted forecaster`` with ``fit(y)`` / ``predict(index)``."""


@dataclass
class _Plan:
    """Where the window, the post stretch and the context sit on one series' grid."""

    window: pd.DatetimeIndex
    post: pd.DatetimeIndex
    after: pd.DatetimeIndex
    before: pd.DatetimeIndex
    step: pd.Timedelta

    @property
    def horizon(self) -> pd.DatetimeIndex:
        """Every timestamp the counterfactual forecast covers: window, post stretch, context after."""
        return self.window.append(self.post).append(self.after).unique()


def _plan(y: pd.Series, start: pd.Timestamp, end: pd.Timestamp, freq: str, post: bool) -> _Plan:
    step = step_offset(freq)
    window = pd.date_range(start, end, freq=step)
    day = max(1, int(pd.Timedelta(days=1) / step))
    week = max(1, int(pd.Timedelta(days=7) / step))
    context = int(min(max(len(window), day), week))
    post_steps = 0
    if post:
        available = int(((y.index > end) & y.notna().to_numpy()).sum())
        post_steps = int(min(max(len(window), day), week, available))
    post_index = pd.date_range(end + step, periods=post_steps, freq=step)
    after_start = end + step * (post_steps + 1)
    after = pd.date_range(after_start, periods=max(0, context - post_steps), freq=step)
    after = after[after <= y.index.max()] if len(y) else after
    before = pd.date_range(start - step * context, periods=context, freq=step)
    return _Plan(window, post_index, after, before, step)


def _fold_origins(
    history: pd.DatetimeIndex, start: pd.Timestamp, span_steps: int, step: pd.Timedelta,
    n_folds: int, min_train: pd.Timedelta,
) -> list[pd.Timestamp]:  # fmt: skip
    """Origins of backtest folds: same time of day as ``start``, whole days earlier.

    Fold ``k`` covers ``[origin, origin + span)`` and ends before ``start``; its
    training data (before ``origin``) spans at least ``min_train``.
    """
    if not len(history):
        return []
    first = history.min()
    span = step * span_steps
    gap_days = max(1, math.ceil(span / pd.Timedelta(days=1)))
    origins = []
    for k in range(n_folds):
        origin = start - pd.Timedelta(days=gap_days + k)
        if origin - first < min_train:
            break
        origins.append(origin)
    return origins


def _predict_frame(forecaster: Any, index: pd.DatetimeIndex) -> pd.DataFrame:
    pred = forecaster.predict(index)
    pred = pred.reindex(index)
    if "events" not in pred:
        pred["events"] = ""
    return pred


def anchor_ratio(recent_actual: np.ndarray, recent_yhat: np.ndarray, weight: float) -> float:
    """Intercept correction: ``(sum actual / sum forecast) ** weight`` over the steps before the window.

    A forecast fitted on weeks of history misses the level of the last day
    (weather, a busy week); that miss persists into the next hours. ``weight``
    (0 to 1) shrinks the correction; 1 when it cannot be formed.
    """
    a, f = float(np.nansum(recent_actual)), float(np.nansum(recent_yhat))
    if weight <= 0 or a <= 0 or f <= 0 or np.isnan(recent_actual).all():
        return 1.0
    return (a / f) ** weight


def _add_future_priors(fitted: Any, index: pd.DatetimeIndex) -> None:
    """Workaround (Nov 2026): give the forecaster the curated priors of events first seen in ``index``.

    ``SeriesForecaster.fit`` keeps the priors of the events in the *history*
    only, so an event whose first occurrence is inside the window (the
    festival on the incident day) got no expected effect. Adds only missing
    names; a no-op once ``SeriesForecaster.predict`` does this itself.
    """
    priors = getattr(fitted, "priors_", None)
    if priors is None or getattr(fitted, "calendar", None) is None:
        return
    from .features import calendar_features

    feats = calendar_features(fitted.calendar, index, freq=fitted.freq, metric=fitted.metric,
                              keys=fitted.keys or {}, since=getattr(fitted, "start_", None))  # fmt: skip
    fitted.priors_ = {**feats.priors, **priors}


def _counterfactual(
    fitted: Any, y: pd.Series, index: pd.DatetimeIndex, n_w: int, n_p: int, anchor: float,
    anchor_steps: int,
) -> pd.DataFrame:  # fmt: skip
    """The fitted forecaster's path on ``index`` (window, post stretch, context), corrected.

    The window starts at ``index[0]``; the intercept correction uses the
    ``anchor_steps`` before it (data the forecaster was fitted on), the post
    re-levelling the ``n_p`` steps after the window. The band moves with the forecast.
    """
    _add_future_priors(fitted, index)
    pred = _predict_frame(fitted, index)
    yhat = pred["yhat"].to_numpy(float)
    if anchor > 0 and anchor_steps > 0:
        step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(index.freq or "h")
        recent = pd.date_range(index[0] - step * anchor_steps, periods=anchor_steps, freq=step)
        recent_yhat = fitted.predict(recent)["yhat"].to_numpy(float)
        yhat = yhat * anchor_ratio(y.reindex(recent).to_numpy(float), recent_yhat, anchor)
    if n_p:
        post_actual = y.reindex(index[n_w : n_w + n_p]).to_numpy(float)
        yhat, _ = post_relevel(yhat, n_w, post_actual, yhat[n_w : n_w + n_p])
    return _rescale_band(pred, yhat)


@dataclass
class ImpactSettings:
    """How the counterfactual and its ranges are built (see the module docstring)."""

    post: bool = False
    model: str = "auto"
    n_folds: int = 8
    anchor: float = 0.5
    anchor_window: pd.Timedelta = pd.Timedelta(days=1)
    min_train: pd.Timedelta = pd.Timedelta(days=15)


def _fold_z(
    y: pd.Series, origin: pd.Timestamp, n_w: int, n_p: int, step: pd.Timedelta,
    make: ForecasterFactory, model_name: str | None, cfg: ImpactSettings,
) -> np.ndarray | None:  # fmt: skip
    """Standardised cumulative error of the impact procedure on one earlier window."""
    train = y[y.index < origin].dropna()
    index = pd.date_range(origin, periods=n_w + n_p, freq=step)
    actual = y.reindex(index).to_numpy(float)
    if np.isnan(actual[:n_w]).any():
        return None
    try:
        fitted = make(model_name).fit(train)
    except (SeriesError, ValueError):
        return None
    pred = _counterfactual(fitted, y, index, n_w, n_p, cfg.anchor, int(cfg.anchor_window / step))
    yhat = pred["yhat"].to_numpy(float)[:n_w]
    if not np.isfinite(yhat).all():
        return None
    sigma = band_sigma(pred["lo_95"].to_numpy()[:n_w], pred["hi_95"].to_numpy()[:n_w])
    return standardised_cumulative_error(actual[:n_w], yhat, sigma)


def _chosen_model(forecaster: Any, requested: str) -> str | None:
    """The concrete model ``auto`` picked, so backtest folds reuse it (cheaper, same model)."""
    chosen = getattr(getattr(forecaster, "model_", None), "chosen_", None)
    if isinstance(chosen, str):
        return chosen
    return None if requested == "auto" else requested


def series_impact(
    y: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    make: ForecasterFactory,
    freq: str = "h",
    cfg: ImpactSettings | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Impact of the window ``[start, end]`` on one series ``y`` (regular grid).

    ``make(model_name)`` builds an unfitted forecaster (``None``: the requested
    model). Returns the table row (without keys/metric) and the per-timestamp
    path. Raises ``ValueError`` or :class:`SeriesError` when the series cannot be judged.
    """
    cfg = cfg or ImpactSettings()
    plan = _plan(y, start, end, freq, cfg.post)
    if y.reindex(plan.window).isna().all():
        raise ValueError(f"no data in the window {_fmt(start)} to {_fmt(end)}")
    history = y[y.index < start].dropna()
    main = make(None).fit(history)
    chosen = _chosen_model(main, cfg.model)
    n_w, n_p = len(plan.window), len(plan.post)
    anchor_steps = int(cfg.anchor_window / plan.step)
    pred = _counterfactual(main, y, plan.horizon, n_w, n_p, cfg.anchor, anchor_steps)
    origins = _fold_origins(history.index, start, n_w + n_p, plan.step, cfg.n_folds, cfg.min_train)
    folds = [_fold_z(y, o, n_w, n_p, plan.step, make, chosen, cfg) for o in origins]
    folds = [z for z in folds if z is not None]
    fold_z = np.vstack(folds) if folds else None
    dof = effective_dof(len(folds), n_w, int(pd.Timedelta(days=1) / plan.step))
    nonneg = bool((history >= 0).all())
    return _summarise(y, plan, pred, fold_z, dof, chosen or cfg.model, nonneg)


def _rescale_band(pred: pd.DataFrame, yhat: np.ndarray) -> pd.DataFrame:
    """Move the per-step band with a re-levelled point forecast (same relative width)."""
    out = pred.copy()
    old = out["yhat"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(old != 0, yhat / old, 1.0)
    for col in ("lo_80", "hi_80", "lo_95", "hi_95"):
        out[col] = out[col].to_numpy(float) * factor
    out["yhat"] = yhat
    return out


def _summarise(
    y: pd.Series, plan: _Plan, pred: pd.DataFrame, fold_z: np.ndarray | None, dof: float,
    model: str, nonneg: bool = False,
) -> tuple[dict[str, Any], pd.DataFrame]:  # fmt: skip
    """Totals, ranges, peak and the per-timestamp path of one series."""
    n_w = len(plan.window)
    win = pred.iloc[:n_w]
    actual = y.reindex(plan.window).to_numpy(float)
    observed = ~np.isnan(actual)
    yhat_w = np.where(observed, win["yhat"].to_numpy(float), 0.0)
    sigma = np.where(observed, band_sigma(win["lo_95"].to_numpy(), win["hi_95"].to_numpy()), 0.0)
    rng = cumulative_ranges(yhat_w, sigma, fold_z, dof, nonneg=nonneg)
    cum_actual = np.cumsum(np.nan_to_num(actual))
    row = _row(actual, win, rng, cum_actual, plan, model)
    path = _path(y, plan, pred, rng, cum_actual)
    return row, path


def _row(
    actual: np.ndarray, win: pd.DataFrame, rng: dict[str, Any], cum_actual: np.ndarray,
    plan: _Plan, model: str,
) -> dict[str, Any]:  # fmt: skip
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
        "actual_total": total_a, "expected_total": total_e, "lo_95": lo95, "hi_95": hi95,
        "difference": diff,
        "difference_pct": 100.0 * diff / total_e if total_e else float("nan"),
        "peak_ds": plan.window[peak_i], "affected": affected,
        "lo_80": lo80, "hi_80": hi80,
        "difference_lo_95": total_a - hi95, "difference_hi_95": total_a - lo95,
        "difference_lo_80": total_a - hi80, "difference_hi_80": total_a - lo80,
        "peak_difference": float(step_diff[peak_i]),
        "peak_lo_95": float(actual[peak_i] - win["hi_95"].iloc[peak_i]),
        "peak_hi_95": float(actual[peak_i] - win["lo_95"].iloc[peak_i]),
        "direction": direction, "events": ";".join(events), "steps": len(plan.window),
        "model": model, "range_method": rng["method"],
        "folds": rng["folds"],
    }  # fmt: skip


def _peak_index(step_diff: np.ndarray, total_diff: float) -> int:
    """The largest shortfall when the total is a loss, else the largest excess."""
    filled = np.where(np.isnan(step_diff), 0.0, step_diff)
    return int(np.argmin(filled) if total_diff <= 0 else np.argmax(filled))


def _path(
    y: pd.Series, plan: _Plan, pred: pd.DataFrame, rng: dict[str, Any], cum_actual: np.ndarray
) -> pd.DataFrame:
    """Per-timestamp path: context before, the window, the post stretch and context after."""
    index = plan.before.append(plan.horizon)
    path = pd.DataFrame({"ds": index, "actual": y.reindex(index).to_numpy(float)})
    band = pred[["yhat", "lo_80", "hi_80", "lo_95", "hi_95", "events"]].reset_index(drop=True)
    band.index = range(len(plan.before), len(plan.before) + len(band))
    path = path.join(band)
    path["in_window"] = (path["ds"] >= plan.window[0]) & (path["ds"] <= plan.window[-1])
    cum = {
        "cum_actual": cum_actual, "cum_expected": rng["cum_expected"],
        "cum_difference": cum_actual - rng["cum_expected"],
        "cum_lo_80": cum_actual - rng["cum_hi_80"], "cum_hi_80": cum_actual - rng["cum_lo_80"],
        "cum_lo_95": cum_actual - rng["cum_hi_95"], "cum_hi_95": cum_actual - rng["cum_lo_95"],
    }  # fmt: skip
    offset = len(plan.before)
    for col, values in cum.items():
        path[col] = np.nan
        path.loc[offset : offset + len(values) - 1, col] = values
    return path


# --------------------------------------------------------------------------- many series


def _dataset(data: Any, **data_kwargs: Any) -> Any:
    """A :class:`~juno_forecast.data.Dataset` from a path, a Dataset or a tidy DataFrame."""
    from .data import Dataset, load_data

    kwargs = {k: v for k, v in data_kwargs.items() if v is not None}
    if isinstance(data, Dataset):
        return data
    if isinstance(data, pd.DataFrame):
        by = kwargs.get("by")
        return Dataset.from_frame(data, keys=tuple(by) if by else None, freq=kwargs.get("freq"),
                                  agg=kwargs.get("agg", "sum"))  # fmt: skip
    if isinstance(data, str | os.PathLike):
        if not os.path.exists(data):
            raise InputError(f"{data}: no such file")
        if "by" in kwargs:
            kwargs["by"] = tuple(kwargs["by"])
        return load_data(data, **kwargs)
    raise InputError(
        f"data: expected a file path, a Dataset or a DataFrame, got {type(data).__name__}"
    )


class ExcludingCalendar:
    """A calendar that leaves out some events (the incident itself, e.g. ``Blizzard*``).

    When the event being investigated is in the calendar (a storm already listed),
    its curated effect would otherwise be part of the counterfactual and the
    storm would look like no loss at all. ``patterns`` are case-insensitive
    shell-style names (``fnmatch``). Everything else is delegated.

    It also applies the metric/zone scope itself, with boolean masks: (workaround,
    Nov 2026) ``Calendar.occurrences(..., metric=, keys=)`` raised ``KeyError: 'zones'``
    when no occurrence overlapped the range (a ``.map`` on an empty frame selects columns).
    """

    def __init__(self, calendar: Any, patterns: Iterable[str] = ()):
        self.calendar = calendar
        self.patterns = tuple(p.lower() for p in patterns)

    def excluded(self, name: str) -> bool:
        """True when ``name`` matches one of the patterns."""
        return any(fnmatch.fnmatchcase(str(name).lower(), p) for p in self.patterns)

    def occurrences(self, start: Any, end: Any, category: Any = None, metric: str | None = None,
                    keys: dict[str, Any] | None = None) -> pd.DataFrame:  # fmt: skip
        """The wrapped calendar's occurrences in the series' scope, without the excluded events."""
        occ = self.calendar.occurrences(start, end, category=category)
        if occ.empty:
            return occ
        keep = ~np.array([self.excluded(n) for n in occ["name"]], dtype=bool)
        if metric is not None:
            keep &= np.array([not m or metric in m for m in occ["metrics"]], dtype=bool)
        if keys:
            values = {str(v) for v in keys.values()}
            keep &= np.array([not z or bool(values & set(z)) for z in occ["zones"]], dtype=bool)
        return occ[keep].reset_index(drop=True)

    def with_weather(self, path: Any) -> ExcludingCalendar:
        """The same exclusions on the wrapped calendar with observed weather."""
        return ExcludingCalendar(self.calendar.with_weather(path), self.patterns)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.calendar, name)


def _calendar(calendar: Any, weather: Any, exclude: Iterable[str] = ()) -> Any:
    """The calendar object: a loaded one as is, a path, ``None`` (shipped) or ``"none"``.

    An empty calendar (``"none"``) becomes ``None``, the forecaster's "no events".
    """
    from .calendar import Calendar, load_calendar

    if isinstance(calendar, Calendar | ExcludingCalendar):
        cal = calendar.with_weather(weather) if weather else calendar
    else:
        cal = load_calendar(calendar, weather)
    if getattr(cal, "is_empty", lambda: False)():
        return None  # no calendar knowledge: what SeriesForecaster(calendar=None) means
    return ExcludingCalendar(cal, tuple(exclude or ()))


def _window_events(cal: Any, start: pd.Timestamp, end: pd.Timestamp, metric: str,
                   keys: dict[str, str]) -> pd.DataFrame:  # fmt: skip
    """Calendar occurrences overlapping the window for one series' scope.

    Column ``excluded`` is True for events left out of the counterfactual
    (``exclude_events``): the debrief names them apart.
    """
    cols = ["name", "category", "start", "end"]
    if cal is None:
        return pd.DataFrame(columns=[*cols, "excluded"])
    scoped = ExcludingCalendar(cal.calendar if isinstance(cal, ExcludingCalendar) else cal)
    occ = scoped.occurrences(start.normalize(), end.normalize(), metric=metric, keys=keys)
    if occ.empty:
        return pd.DataFrame(columns=[*cols, "excluded"])
    out = occ[cols].drop_duplicates().reset_index(drop=True)
    is_out = cal.excluded if isinstance(cal, ExcludingCalendar) else (lambda name: False)
    out["excluded"] = [bool(is_out(n)) for n in out["name"]]
    return out


def _check_model(model: str) -> None:
    from .models import MODEL_NAMES

    if model not in MODEL_NAMES:
        raise InputError(
            f"--model: unknown model {model!r}; expected one of {', '.join(MODEL_NAMES)}"
        )


def _judge_series(
    metric: str, keys: dict[str, str], y: pd.Series, cal: Any, window: tuple[pd.Timestamp, pd.Timestamp],
    freq: str, cfg: ImpactSettings, seed: int,
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Row, path and window events of one series (raises SeriesError/ValueError)."""
    from .forecast import SeriesForecaster

    def make(name: str | None) -> Any:
        return SeriesForecaster(model=name or cfg.model, calendar=cal, metric=metric,
                                keys=dict(keys), freq=freq, seed=seed)  # fmt: skip

    start, end = window
    row, path = series_impact(y, start, end, make, freq, cfg)
    ident = {**keys, "metric": metric}
    events = _window_events(cal, start, end, metric, keys).assign(**ident)
    return {**ident, **row}, path.assign(**ident), events


def run_impact(
    data: Any,
    start: Any,
    end: Any,
    post: bool = False,
    model: str = "auto",
    calendar: Any = None,
    weather: Any = None,
    *,
    exclude_events: Iterable[str] = (),
    n_folds: int = 8,
    anchor: float = 0.5,
    seed: int = 0,
    **data_kwargs: Any,
) -> ImpactResult:
    """Like :func:`impact`, returning the typed :class:`ImpactResult`."""
    from .data import series_label

    _check_model(model)
    ds = _dataset(data, **data_kwargs)
    start_ts, end_ts = resolve_window(start, end, ds.freq)
    if ds.frame.empty:
        raise InputError("impact: the data hold no series")
    check_window(ds.frame["ds"].min(), ds.frame["ds"].max(), start_ts, end_ts, ds.freq)
    cal = _calendar(calendar, weather, exclude_events)
    cfg = ImpactSettings(post=post, model=model, n_folds=n_folds, anchor=anchor)
    rows, paths, events, problems = [], [], [], [f"{p.series}: {p.message}" for p in ds.problems]
    for metric, keys, y in ds.series():
        label = series_label(metric, keys)
        try:
            row, path, ev = _judge_series(metric, keys, y, cal, (start_ts, end_ts), ds.freq, cfg,
                                          seed)  # fmt: skip
        except (SeriesError, ValueError) as e:
            msg = str(e).removeprefix(label + ": ")
            problems.append(f"{label}: {msg}")
            continue
        rows.append(row), paths.append(path), events.append(ev)
    if not rows:
        raise InputError(f"impact window {_fmt(start_ts)} to {_fmt(end_ts)}: no series could be "
                         f"judged ({'; '.join(problems[:3])})")  # fmt: skip
    return _assemble(ds.keys, rows, paths, events, problems, start_ts, end_ts, ds.freq, post, model)


def _assemble(
    keys: tuple[str, ...], rows: list[dict], paths: list[pd.DataFrame],
    events: list[pd.DataFrame], problems: list[str], start: pd.Timestamp, end: pd.Timestamp,
    freq: str, post: bool, model: str,
) -> ImpactResult:  # fmt: skip
    table = pd.DataFrame(rows)[[*keys, *TABLE_COLUMNS]]
    ident = [*keys, "metric"]
    path_frame = pd.concat(paths, ignore_index=True)
    path_frame = path_frame[ident + [c for c in path_frame.columns if c not in ident]]
    ev = pd.concat(events, ignore_index=True) if events else pd.DataFrame()
    if not ev.empty:
        ev = ev[ident + [c for c in ev.columns if c not in ident]]
    share = table.groupby("metric")["affected"].mean().astype(float).to_dict()
    return ImpactResult(table, path_frame, tuple(keys), start, end, freq, post, model,
                        share, ev, problems)  # fmt: skip


def impact(
    data: Any,
    start: Any,
    end: Any,
    post: bool = False,
    model: str = "auto",
    calendar: Any = None,
    weather: Any = None,
    *,
    exclude_events: Iterable[str] = (),
    n_folds: int = 8,
    anchor: float = 0.5,
    seed: int = 0,
    **data_kwargs: Any,
) -> pd.DataFrame:
    """What the window ``[start, end]`` cost, per series, against a counterfactual with ranges.

    ``data``: a path (CSV/Parquet), a ``Dataset`` or a tidy DataFrame; ``data_kwargs``
    are :func:`~juno_forecast.data.load_data`'s (``time_col, value_col, metric_col,
    metric, by, freq, agg``). ``calendar``: path, ``None`` (shipped), ``"none"`` or a
    ``Calendar``; ``weather``: observed weather file. ``end`` is inclusive; a date
    alone means its whole day. ``post=True`` re-levels the counterfactual with the
    data after the window. ``exclude_events``: calendar event names (shell-style
    patterns) left out of the counterfactual, e.g. the storm being investigated.
    ``n_folds``: earlier same-length windows backtested to size the ranges.
    ``anchor``: weight (0-1) of the intercept correction by the day before the
    window (0 turns it off).

    Returns one row per series: keys, ``metric, actual_total, expected_total,
    lo_95, hi_95`` (95% range of ``expected_total``), ``difference`` (actual minus
    expected), ``difference_pct, peak_ds, affected`` (actual total outside the
    range), then ``lo_80, hi_80``, the range of the difference, the peak
    difference with its per-step range, ``direction, events, steps, model,
    range_method, folds``. ``attrs`` holds ``paths`` (per timestamp),
    ``share_affected`` (per metric), ``events``, ``problems``, ``start``, ``end``;
    :func:`run_impact` returns the same as an :class:`ImpactResult`.
    """
    result = run_impact(data, start, end, post, model, calendar, weather,
                        exclude_events=exclude_events, n_folds=n_folds, anchor=anchor, seed=seed, **data_kwargs)  # fmt: skip
    return result.as_frame()


# --------------------------------------------------------------------------- summary


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.1f}"


def _signed(x: float) -> str:
    return ("+" if x > 0 else "") + _num(x) if np.isfinite(x) else "n/a"


def _series_name(row: pd.Series, keys: Iterable[str]) -> str:
    parts = [str(row[k]) for k in keys]
    return " / ".join(parts) if parts else str(row["metric"])


def impact_summary_markdown(result: ImpactResult | pd.DataFrame, title: str | None = None) -> str:
    """A short Markdown debrief: window, metric, per-zone loss with ranges, share affected, events.

    Meant to be pasted into an incident debrief by an operations lead.
    """
    res = result if isinstance(result, ImpactResult) else ImpactResult.from_frame(result)
    step = "hours" if res.freq == "h" else "days"
    lines = [f"## {title or 'Incident impact'}: {_fmt(res.start)} to {_fmt(res.end)}", ""]
    for metric, table in res.table.groupby("metric", sort=False):
        lines += _metric_section(res, str(metric), table, step)
    lines += _events_lines(res) + _method_lines(res)
    if res.problems:
        lines += ["", "Not judged: " + "; ".join(res.problems)]
    return "\n".join(lines).rstrip() + "\n"


def _metric_section(res: ImpactResult, metric: str, table: pd.DataFrame, step: str) -> list[str]:
    n, k = len(table), int(table["affected"].sum())
    below = int((table["direction"] == "below").sum())
    tot_d = float(table["difference"].sum())
    lo, hi = float(table["difference_lo_95"].sum()), float(table["difference_hi_95"].sum())
    tot_e = float(table["expected_total"].sum())
    pct = 100 * tot_d / tot_e if tot_e else float("nan")
    verdict = "a loss" if hi < 0 else "a gain" if lo > 0 else "no change beyond the normal range"
    lines = [
        f"**Metric `{metric}`**, window of {int(table['steps'].max())} {step}: "
        f"**{k} of {n} zones affected ({100 * k / n:.0f}%)**, {below} of them below expectation.",
        "",
        f"All zones together: actual {_num(float(table['actual_total'].sum()))} against "
        f"{_num(tot_e)} expected, a difference of **{_signed(tot_d)} {metric} ({_signed(pct)}%)**, "
        f"95% range {_signed(lo)} to {_signed(hi)} ({verdict}; zone ranges added up, "
        f"as if zones moved together).",
        "",
        "| zone | actual | expected (95% range) | difference (95% range) | diff % | peak | affected |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]  # fmt: skip
    for _, r in table.sort_values("difference").iterrows():
        lines.append(
            f"| {_series_name(r, res.keys)} | {_num(r['actual_total'])} | "
            f"{_num(r['expected_total'])} ({_num(r['lo_95'])} to {_num(r['hi_95'])}) | "
            f"{_signed(r['difference'])} ({_signed(r['difference_lo_95'])} to "
            f"{_signed(r['difference_hi_95'])}) | {_signed(r['difference_pct'])}% | "
            f"{pd.Timestamp(r['peak_ds']):%Y-%m-%d %H:%M} | "
            f"{'yes, ' + r['direction'] if r['affected'] else 'no'} |"
        )  # fmt: skip
    return lines + [""]


def _event_items(ev: pd.DataFrame) -> str:
    items = [
        f"{r['name']} ({r['category']}, {pd.Timestamp(r['start']):%Y-%m-%d}"
        + ("" if r["end"] == r["start"] else f" to {pd.Timestamp(r['end']):%Y-%m-%d}") + ")"
        for _, r in ev.drop_duplicates("name").iterrows()
    ]  # fmt: skip
    return "; ".join(items)


def _events_lines(res: ImpactResult) -> list[str]:
    ev = res.events
    if ev is None or ev.empty:
        return ["Calendar events in the window: none."]
    excluded = ev["excluded"].astype(bool) if "excluded" in ev else pd.Series(False, index=ev.index)
    lines = []
    if (~excluded).any():
        lines.append("Calendar events in the window (their usual effect is in the expectation): "
                     + _event_items(ev[~excluded]) + ".")  # fmt: skip
    else:
        lines.append("Calendar events in the window: none in the expectation.")
    if excluded.any():
        lines.append("Left out of the expectation (the incident itself): "
                     + _event_items(ev[excluded]) + ".")  # fmt: skip
    return lines


def _method_lines(res: ImpactResult) -> list[str]:
    fitted = f"fitted on the data before {_fmt(res.start)}, levelled on the day before"
    if res.post:
        fitted += " and re-levelled with the data right after the window"
    folds = res.table["folds"]
    how = (
        f"backtests of the same forecaster on {int(folds.min())}-{int(folds.max())} earlier windows of the same length"
        if folds.max() > 0 else "the per-step forecast bands added up"
    )  # fmt: skip
    return ["", f"Expectation: model `{res.model}` {fitted}; ranges from {how}."]
