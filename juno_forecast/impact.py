"""Incident impact: what an incident cost, per series, as a counterfactual with ranges.

For every series, :func:`impact` answers "how much did the incident window lose
(or gain) against what would have happened without it?":

1. **Counterfactual path.** A :class:`~juno_forecast.forecast.SeriesForecaster`
   (the same model, calendar and priors as ``forecast``) is fitted once, on the
   history *before* the window, and predicts the window. Calendar events inside
   the window are part of that forecast, so a storm on a holiday is judged
   against a holiday, not an ordinary day; when the investigated event is itself
   in the calendar (a listed storm), leave it out with ``exclude_events``.
   A **local level** then scales the path: ``(sum actual / sum forecast) ** anchor``
   over the *same hours of the day* as the window on each of the ``level_days``
   days before it (with ``post=True`` also the ``level_days`` days after it; the
   window itself never counts). The forecaster's own error over 2-48 hour
   windows is 6-9% of the window total, mostly a level miss that the days around
   the window share (weather, a busy week). On the real hourly pickups
   (``benchmarks/impact.py``, gbm, 40 windows with nothing injected) the median
   miss of the counterfactual total is 5.2% with this level (4.0% with
   ``post``), against about 8.8% for the forecast alone; no simple estimator
   that also sees the days after and the other zones inside the window does
   much better (4-5%, ``benchmarks/impact_floor.py``).

2. **Ranges of the cumulative total** come from the procedure's own errors, not
   a fixed percentage: the same counterfactual (same fitted forecaster, same
   local level, the incident window masked) is computed for up to ``n_folds``
   *pseudo-windows*, the window moved back by whole days (same length and hours
   of the day), one day apart or, for windows over a day, as many days apart as
   the window lasts, so that they never overlap one another (overlapping copies
   of a long window share most of their error and would count it many times).
   Their relative errors of the cumulative total at every prefix give the
   range ``expected(h) * (1 +/- q(h))`` with ``q`` the split-conformal
   quantile (``ceil((m + 1) level)``-th smallest absolute error, the
   finite-sample correction). With fewer than 19 pseudo-windows (too few for a
   finite 95% conformal quantile, e.g. weeks of history only) a Student-t
   interval on their root mean square is used; with fewer than ``MIN_FOLDS``,
   the per-step forecast bands added up (``range_method`` says which).
   **Event days.** When the window has calendar events in its expectation,
   the pseudo-windows, mostly ordinary days, do not show how far an event's
   expected effect can miss. The same procedure is then also judged on the
   earlier copies of the window that had events too (:func:`event_windows`),
   and with at least ``MIN_FOLDS`` of them each half-width is the larger of
   the two (``event_folds`` counts them). On the real pickups (120 + 120
   windows) this brought the ranges on event days from 0.67 / 0.88 coverage at
   80% / 95% to 0.80 / 0.92, and overall from 0.76 / 0.94 to 0.82 / 0.96.
   The pseudo-windows lie inside the forecaster's training data: with a model
   without lags (gbm, ols) its fit there is close to its forecast.
   ``refits=n`` judges them out of sample instead, with ``n`` forecasters
   fitted before blocks of them (wider ranges, ``n`` more fits).

2b. **Controls** (optional, ``controls=``; off by default). The misses of the
   local level are day-specific (Easter Sunday, a DST Sunday, a snow day) and
   the days around the window cannot show them, but *other zones* show them
   inside the window. With control series (other series of the same metric,
   unaffected by the incident) the counterfactual is also multiplied by
   ``R ** w``: ``R`` the pooled controls' actual / levelled forecast inside the
   window, ``w`` (0 to 1) the least-squares slope of the series' log-ratio on
   the controls' over the pseudo-windows (0: they did not track each other, the
   local level alone). The pseudo-windows are judged the same way, each with
   its own ``R`` and a weight fitted without it, so the ranges stay honest.
   **Controls are for local incidents** (an outage in one zone): a control hit
   by the incident too (a city-wide storm) carries the loss into the
   counterfactual and hides it. Measured results are in ``benchmarks/impact.py``
   and the README.

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
Z_LEVEL = {0.80: 1.2815515655446004, 0.95: Z95}
MIN_FOLDS = 3
LEVELS = (0.80, 0.95)
TABLE_COLUMNS = [
    "metric", "actual_total", "expected_total", "lo_95", "hi_95", "difference",
    "difference_pct", "peak_ds", "affected",
    "lo_80", "hi_80", "difference_lo_95", "difference_hi_95", "difference_lo_80",
    "difference_hi_80", "peak_difference", "peak_lo_95", "peak_hi_95", "direction",
    "events", "steps", "model", "range_method", "folds", "event_folds", "level",
    "controls", "control_factor", "control_weight",
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
    level_days: int = 7

    def as_frame(self) -> pd.DataFrame:
        """The table with the rest of the result in ``attrs`` (what :func:`impact` returns)."""
        out = self.table.copy()
        out.attrs.update(
            paths=_frame_to_attr(self.paths), keys=self.keys, start=self.start, end=self.end,
            freq=self.freq, post=self.post, model=self.model,
            share_affected=dict(self.share_affected), events=_frame_to_attr(self.events),
            problems=list(self.problems), level_days=self.level_days,
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
            level_days=int(a.get("level_days", 7)),
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


def relative_cumulative_errors(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """``(cum actual - cum expected) / cum expected`` at every prefix (rows: windows)."""
    ca = np.cumsum(np.asarray(actual, float), axis=-1)
    ce = np.cumsum(np.asarray(expected, float), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ce > 0, (ca - ce) / ce, np.nan)


def conformal_quantile(abs_errors: np.ndarray, level: float) -> float:
    """Split-conformal quantile of ``m`` absolute errors: the ``ceil((m + 1) level)``-th smallest.

    The finite-sample correction makes a new window's error fall within it with
    probability at least ``level`` when the windows are exchangeable. Infinite
    when ``m`` is too small for ``level`` (fewer than ``1 / (1 - level) - 1``).
    """
    e = np.sort(np.asarray(abs_errors, float)[np.isfinite(abs_errors)])
    k = math.ceil((len(e) + 1) * level)
    return float(e[k - 1]) if 0 < k <= len(e) else float("inf")


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
    calendar events too (:func:`event_windows`); with at least :data:`MIN_FOLDS`
    of them, each half-width is the larger of the two (an event's expected
    effect is uncertain, and ordinary days do not show it).
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
    out: dict[str, Any] = {"cum_expected": cum_expected, "method": f"{method}({m})" if m else method,
                           "folds": m if method != "bands" else 0, "event_folds": m_ev}  # fmt: skip
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
        return np.array([conformal_quantile(np.abs(col), level) for col in errs.T])
    return np.array([student_t_halfwidth(col, level) for col in errs.T])


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
class ImpactSettings:
    """How the counterfactual and its ranges are built (see the module docstring).

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
class _Plan:
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


def _plan(y: pd.Series, start: pd.Timestamp, end: pd.Timestamp, freq: str,
          cfg: ImpactSettings) -> _Plan:  # fmt: skip
    """Where the window, the context and the prediction span sit on the series' grid.

    The span reaches back far enough for every pseudo-window and its level
    days, and forward over the context after the window (and, with ``post``,
    the level days after it); it is clipped to the data.
    """
    step = step_offset(freq)
    window = pd.date_range(start, end, freq=step)
    day = max(1, int(pd.Timedelta(days=1) / step))
    context = int(min(max(len(window), day), 7 * day))
    back_days = math.ceil(len(window) / day) * (cfg.n_folds + 1) + cfg.level_days
    first = max(y.index.min(), start - pd.Timedelta(days=back_days))
    forward = max(context, cfg.level_days * day if cfg.post else 0)
    last = min(y.index.max(), end + step * forward)
    span = pd.date_range(first, max(last, end), freq=step)
    after = pd.date_range(end + step, periods=context, freq=step)
    before = pd.date_range(start - step * context, periods=context, freq=step)
    return _Plan(window, after[after <= y.index.max()], before, span, step, day)


def _predict_frame(forecaster: Any, index: pd.DatetimeIndex) -> pd.DataFrame:
    pred = forecaster.predict(index).reindex(index)
    if "events" not in pred:
        pred["events"] = ""
    return pred


def _chosen_model(forecaster: Any, requested: str) -> str | None:
    """The concrete model ``auto`` picked (reported in the table)."""
    chosen = getattr(getattr(forecaster, "model_", None), "chosen_", None)
    if isinstance(chosen, str):
        return chosen
    return None if requested == "auto" else requested


def _levelled(actual: np.ndarray, yhat: np.ndarray, pos: int, steps: int, plan: _Plan,
              cfg: ImpactSettings) -> tuple[np.ndarray, float]:  # fmt: skip
    """The forecast of ``[pos, pos + steps)`` scaled by its local level, and that level."""
    ref = reference_positions(pos, steps, plan.day, cfg.level_days, cfg.post, len(actual))
    ratio = level_ratio(actual[ref], yhat[ref], cfg.anchor)
    return yhat[pos : pos + steps] * ratio, ratio


def pseudo_windows(actual: np.ndarray, forecasts: list[tuple[int, np.ndarray]], pos: int,
                   steps: int, plan: _Plan, cfg: ImpactSettings,
                   first_pos: int = 0) -> list[tuple[int, np.ndarray]]:  # fmt: skip
    """Earlier windows of the same length and hours: ``(position, levelled expectation)`` pairs.

    Pseudo-window ``k`` is the window moved ``k`` days back (same length, same
    hours of the day), for the first ``n_folds`` values of ``k`` that end before
    the window and do not overlap one another (a window over a day: copies its
    length in whole days apart, 2 days up to 48 hours...); each is levelled
    exactly like the window (its own days around
    it, the incident window masked out of ``actual``). ``forecasts`` are
    ``(cutoff position, forecast on the span)`` pairs: a window uses the forecast
    with the latest cutoff at or before its start (none: skipped). Windows
    starting before ``first_pos`` (the history's first week plus the level days)
    or with missing values are skipped.
    """
    return _copies(actual, forecasts, pos, steps, plan, cfg, first_pos, keep=None)


def event_windows(actual: np.ndarray, forecasts: list[tuple[int, np.ndarray]], pos: int,
                  steps: int, plan: _Plan, cfg: ImpactSettings, event_steps: np.ndarray,
                  first_pos: int = 0) -> list[tuple[int, np.ndarray]]:  # fmt: skip
    """Earlier copies of the window touching a calendar event: ``(position, expectation)`` pairs.

    Like :func:`pseudo_windows` (same length and hours, whole days back, never
    overlapping one another, up to ``n_folds``), but only the copies with a step
    in ``event_steps`` (steps of the span on a day of a calendar event in the
    expectation). A window with such events carries their curated or learned
    effects, whose error the pseudo-windows, mostly ordinary days, do not show.
    """

    def touches_event(p: int) -> bool:
        return bool(event_steps[p : p + steps].any())

    return _copies(actual, forecasts, pos, steps, plan, cfg, first_pos, keep=touches_event)


def _copies(actual: np.ndarray, forecasts: list[tuple[int, np.ndarray]], pos: int, steps: int,
            plan: _Plan, cfg: ImpactSettings, first_pos: int,
            keep: Callable[[int], bool] | None) -> list[tuple[int, np.ndarray]]:  # fmt: skip
    """The window's copies whole days back that ``keep`` accepts (None: all), each levelled.

    The nearest day first; after a copy is taken the next starts a whole
    window length further back, so no two overlap (they would share most of
    their error and count it twice).
    """
    out = []
    gap = k = math.ceil(steps / plan.day)
    while len(out) < cfg.n_folds:
        p = pos - k * plan.day
        if p < first_pos:
            break
        k += 1
        if keep is not None and not keep(p):
            continue
        usable = [f for cut, f in forecasts if cut <= p]
        a = actual[p : p + steps]
        if not usable or np.isnan(a).any() or not np.isfinite(usable[-1][p : p + steps]).all():
            continue
        expected, _ = _levelled(actual, usable[-1], p, steps, plan, cfg)
        out.append((p, expected))
        k += gap - 1
    return out


def window_errors(actual: np.ndarray, windows: list[tuple[int, np.ndarray]],
                   steps: int) -> np.ndarray | None:  # fmt: skip
    """Relative cumulative errors of the same procedure on earlier windows, one row each.

    ``windows`` are ``(position, expectation)`` pairs (:func:`pseudo_windows`,
    :func:`event_windows`); None when there is none.
    """
    rows = [relative_cumulative_errors(actual[p : p + steps], e) for p, e in windows]
    return np.vstack(rows) if rows else None


def _calibration_forecasts(
    y: pd.Series, plan: _Plan, make: ForecasterFactory, chosen: str | None, main_yhat: np.ndarray,
    cfg: ImpactSettings,
) -> list[tuple[int, np.ndarray]]:  # fmt: skip
    """Forecasts the pseudo-windows are judged with, as ``(cutoff position, forecast)``.

    ``refits == 0``: the main forecaster (fitted up to the window) for all of them,
    so they lie inside its training data. Otherwise the pseudo-windows are split
    into ``refits`` blocks of consecutive days, each judged out of sample by a
    forecaster fitted on the data before the block's first window (the model
    ``auto`` chose for the main fit, or ``auto`` again when it chose a mix). A
    block whose history is too short is left out.
    """
    from .models import MODEL_NAMES

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
        out.append((cut, _predict_frame(fitted, plan.span)["yhat"].to_numpy(float)))
    return sorted(out, key=lambda f: f[0])


@dataclass
class FittedSeries:
    """A series' forecaster fitted on the data before the window, and its forecast on the span."""

    y: pd.Series
    plan: _Plan
    main: Any
    pred: pd.DataFrame
    history: pd.Series

    def yhat_on(self, index: pd.DatetimeIndex) -> np.ndarray:
        """The point forecast on another series' span (NaN where this span does not reach)."""
        return self.pred["yhat"].reindex(index).to_numpy(float)


def fit_series(y: pd.Series, start: pd.Timestamp, end: pd.Timestamp, make: ForecasterFactory,
               freq: str = "h", cfg: ImpactSettings | None = None) -> FittedSeries:  # fmt: skip
    """Fit ``make(None)`` on the data before ``start`` and forecast the span around the window.

    Raises ``ValueError`` when the window holds no data of ``y``.
    """
    cfg = cfg or ImpactSettings()
    plan = _plan(y, start, end, freq, cfg)
    if y.reindex(plan.window).isna().all():
        raise ValueError(f"no data in the window {_fmt(start)} to {_fmt(end)}")
    history = y[y.index < start].dropna()
    main = make(None).fit(history)
    return FittedSeries(y, plan, main, _predict_frame(main, plan.span), history)


def series_impact(
    y: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    make: ForecasterFactory,
    freq: str = "h",
    cfg: ImpactSettings | None = None,
    controls: list[FittedSeries] | None = None,
    fitted: FittedSeries | None = None,
    event_steps: np.ndarray | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Impact of the window ``[start, end]`` on one series ``y`` (regular grid).

    ``make(model_name)`` builds an unfitted forecaster (``None``: the requested
    model); it is fitted once, on the data before ``start`` (or ``fitted`` is
    that fit, from :func:`fit_series`). ``controls``: fitted series of the same
    metric, unaffected by the incident, whose deviation from their own forecasts
    inside the window also scales the counterfactual (:func:`controlled_windows`).
    ``event_steps``: steps of the span on a day of a calendar event in the
    expectation; when the window has one, the ranges are at least as wide as
    the errors on earlier copies of the window that had one too
    (:func:`event_windows`, :func:`cumulative_ranges`).
    Returns the table row (without keys/metric) and the per-timestamp path.
    Raises ``ValueError`` or :class:`SeriesError` when the series cannot be judged.
    """
    cfg = cfg or ImpactSettings()
    fit = fitted or fit_series(y, start, end, make, freq, cfg)
    plan, pred = fit.plan, fit.pred
    yhat = pred["yhat"].to_numpy(float)
    masked = _masked(y, plan)
    pos, n_w = plan.pos, len(plan.window)
    _, ratio = _levelled(masked, yhat, pos, n_w, plan, cfg)
    warm = fit.history.index.min() + cfg.warmup + pd.Timedelta(days=cfg.level_days)
    first_pos = max(0, int((warm - plan.span[0]) / plan.step))
    chosen = _chosen_model(fit.main, cfg.model)
    forecasts = _calibration_forecasts(y, plan, make, chosen, yhat, cfg)
    windows = pseudo_windows(masked, forecasts, pos, n_w, plan, cfg, first_pos)
    on_events = event_steps is not None and bool(event_steps[pos : pos + n_w].any())
    ev_windows = (event_windows(masked, forecasts, pos, n_w, plan, cfg, event_steps, first_pos)
                  if on_events else [])  # fmt: skip
    factor, weight = 1.0, float("nan")
    if controls:
        ctl = [_ControlArrays.on(c, plan) for c in controls]
        factor, weight, windows = controlled_windows(masked, windows, ctl, pos, n_w, plan, cfg)
        ev_windows = [(p, e * control_factor(ctl, p, n_w, plan, cfg, weight))
                      for p, e in ev_windows]  # fmt: skip
    errors = window_errors(masked, windows, n_w)
    ev_errors = window_errors(masked, ev_windows, n_w) if len(ev_windows) >= MIN_FOLDS else None
    scale = np.full(len(yhat), ratio)
    scale[pos : pos + n_w] *= factor
    levelled = _rescale_band(pred, yhat * scale)
    nonneg = bool((fit.history >= 0).all())
    row, path = _summarise(y, plan, levelled, errors, nonneg, ev_errors)
    row.update(model=chosen or cfg.model, level=ratio, control_factor=factor,
               control_weight=weight)  # fmt: skip
    return row, path


def _masked(y: pd.Series, plan: _Plan) -> np.ndarray:
    """``y`` on the span with the incident window masked: never evidence of the normal level."""
    masked = y.reindex(plan.span).to_numpy(float)
    masked[plan.pos : plan.pos + len(plan.window)] = np.nan
    return masked


# --------------------------------------------------------------------------- controls


@dataclass
class _ControlArrays:
    """A control series on the judged series' span: actuals (window kept / masked) and forecast."""

    actual: np.ndarray
    masked: np.ndarray
    yhat: np.ndarray

    @classmethod
    def on(cls, control: FittedSeries, plan: _Plan) -> _ControlArrays:
        actual = control.y.reindex(plan.span).to_numpy(float)
        return cls(actual, _masked(control.y, plan), control.yhat_on(plan.span))


def control_ratio(controls: list[_ControlArrays], p: int, steps: int, plan: _Plan,
                  cfg: ImpactSettings) -> float:  # fmt: skip
    """Pooled controls' ``sum actual / sum levelled forecast`` over ``[p, p + steps)``.

    Each control's forecast is levelled like the judged series' (its own same
    hours of the days around, the incident window masked); its actuals inside
    ``[p, p + steps)`` are kept: how the controls moved there is the evidence.
    NaN when no control has data there.
    """
    num = den = 0.0
    for c in controls:
        expected, _ = _levelled(c.masked, c.yhat, p, steps, plan, cfg)
        a = c.actual[p : p + steps]
        ok = np.isfinite(a) & np.isfinite(expected)
        num, den = num + float(a[ok].sum()), den + float(expected[ok].sum())
    return num / den if num > 0 and den > 0 else float("nan")


def tracking_weights(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """How much of the controls' log-ratio ``x`` the series' log-ratio ``y`` followed.

    The least-squares slope through the origin over the pseudo-windows,
    clipped to ``[0, 1]``: 0 (the controls did not track the series: the local
    level alone) to 1 (the series moved as the controls did). Returns the slope
    on all windows and, per window, the slope without it (leave-one-out), so the
    pseudo-window errors judge a weight that did not see them.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    xy, xx = np.where(ok, x * y, 0.0), np.where(ok, x * x, 0.0)
    sxy, sxx = float(xy.sum()), float(xx.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        full = sxy / sxx if sxx > 0 else 0.0
        loo = np.where(sxx - xx > 0, (sxy - xy) / (sxx - xx), 0.0)
    return float(np.clip(full, 0.0, 1.0)), np.clip(loo, 0.0, 1.0)


def controlled_windows(
    masked: np.ndarray, windows: list[tuple[int, np.ndarray]], controls: list[_ControlArrays],
    pos: int, steps: int, plan: _Plan, cfg: ImpactSettings,
) -> tuple[float, float, list[tuple[int, np.ndarray]]]:  # fmt: skip
    """The control factor of the window, its weight, and the pseudo-windows judged the same way.

    The counterfactual of the window is the levelled forecast times
    ``R ** w``: ``R`` the pooled controls' actual / levelled forecast inside the
    window (:func:`control_ratio`; a day-specific shock, Easter or a DST
    Sunday, moves the controls too), ``w`` how well that ratio tracked the
    series' own ratio on the pseudo-windows (:func:`tracking_weights`). Every
    pseudo-window gets the same treatment with its own ``R`` and a weight
    fitted without it, so the ranges measure the procedure with controls.
    """
    x = np.array([_log(control_ratio(controls, p, steps, plan, cfg)) for p, _ in windows])
    y = np.array([_log(_total_ratio(masked[p : p + steps], e)) for p, e in windows])
    weight, loo = tracking_weights(x, y)
    judged = [
        (p, e * math.exp(w * xi) if np.isfinite(xi) else e)
        for (p, e), xi, w in zip(windows, x, loo, strict=True)
    ]  # fmt: skip
    return control_factor(controls, pos, steps, plan, cfg, weight), weight, judged


def control_factor(controls: list[_ControlArrays], p: int, steps: int, plan: _Plan,
                   cfg: ImpactSettings, weight: float) -> float:  # fmt: skip
    """``R ** weight`` over ``[p, p + steps)`` (:func:`control_ratio`); 1 without an ``R``."""
    x = _log(control_ratio(controls, p, steps, plan, cfg))
    return math.exp(weight * x) if np.isfinite(x) else 1.0


def _total_ratio(actual: np.ndarray, expected: np.ndarray) -> float:
    ok = np.isfinite(actual) & np.isfinite(expected)
    num, den = float(actual[ok].sum()), float(expected[ok].sum())
    return num / den if num > 0 and den > 0 else float("nan")


def _log(x: float) -> float:
    return math.log(x) if np.isfinite(x) and x > 0 else float("nan")


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
    y: pd.Series,
    plan: _Plan,
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
    actual: np.ndarray, win: pd.DataFrame, rng: dict[str, Any], cum_actual: np.ndarray, plan: _Plan
) -> dict[str, Any]:
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
        "range_method": rng["method"], "folds": rng["folds"], "event_folds": rng["event_folds"],
    }  # fmt: skip


def _peak_index(step_diff: np.ndarray, total_diff: float) -> int:
    """The largest shortfall when the total is a loss, else the largest excess."""
    filled = np.where(np.isnan(step_diff), 0.0, step_diff)
    return int(np.argmin(filled) if total_diff <= 0 else np.argmax(filled))


def _path(
    y: pd.Series, plan: _Plan, pred: pd.DataFrame, rng: dict[str, Any], cum_actual: np.ndarray
) -> pd.DataFrame:
    """Per-timestamp path: context before (actuals only), the window and the context after."""
    shown = plan.window.append(plan.after)
    index = plan.before.append(shown)
    path = pd.DataFrame({"ds": index, "actual": y.reindex(index).to_numpy(float)})
    band = pred.reindex(shown)[["yhat", "lo_80", "hi_80", "lo_95", "hi_95", "events"]]
    band = band.reset_index(drop=True)
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
    """

    def __init__(self, calendar: Any, patterns: Iterable[str] = ()):
        self.calendar = calendar
        self.patterns = tuple(p.lower() for p in patterns)

    def excluded(self, name: str) -> bool:
        """True when ``name`` matches one of the patterns."""
        return any(fnmatch.fnmatchcase(str(name).lower(), p) for p in self.patterns)

    def occurrences(self, start: Any, end: Any, category: Any = None, metric: str | None = None,
                    keys: dict[str, Any] | None = None) -> pd.DataFrame:  # fmt: skip
        """The wrapped calendar's occurrences (in the series' scope), without the excluded events."""
        occ = self.calendar.occurrences(start, end, category=category, metric=metric, keys=keys)
        if occ.empty or not self.patterns:
            return occ
        keep = np.array([not self.excluded(n) for n in occ["name"]], dtype=bool)
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
    (``exclude_events``): the debrief names them apart. A step (a lasting change,
    e.g. a regulation) that began before the window is part of the history's
    level, not an event of the window: it is not listed.
    """
    cols = ["name", "category", "start", "end"]
    if cal is None:
        return pd.DataFrame(columns=[*cols, "excluded"])
    inner = cal.calendar if isinstance(cal, ExcludingCalendar) else cal
    occ = inner.occurrences(start.normalize(), end.normalize(), metric=metric, keys=keys)
    if not occ.empty and "shape" in occ:
        occ = occ[~((occ["shape"] == "step") & (occ["start"] < start.normalize()))]
    if occ.empty:
        return pd.DataFrame(columns=[*cols, "excluded"])
    out = occ[cols].drop_duplicates().reset_index(drop=True)
    is_out = cal.excluded if isinstance(cal, ExcludingCalendar) else (lambda name: False)
    out["excluded"] = [bool(is_out(n)) for n in out["name"]]
    return out


def event_steps(cal: Any, span: pd.DatetimeIndex, metric: str,
                keys: dict[str, str]) -> np.ndarray | None:  # fmt: skip
    """Which steps of ``span`` fall on a day of a calendar event in the expectation of a series.

    The days the calendar lists for the events of the series' scope count;
    steps (lasting changes such as a new toll, part of the level once begun)
    and the events left out of the counterfactual (``exclude_events``) do not.
    None without a calendar.
    """
    if cal is None:
        return None
    # an ExcludingCalendar's occurrences leave out the excluded events already
    occ = cal.occurrences(span[0].normalize(), span[-1].normalize(), metric=metric, keys=keys)
    if not occ.empty and "shape" in occ:
        occ = occ[occ["shape"] != "step"]
    days = [pd.date_range(r.start, r.end, freq="D") for r in occ.itertuples()]
    return span.normalize().isin(days[0].append(days[1:]) if days else pd.DatetimeIndex([]))


def _check_model(model: str) -> None:
    from .models import MODEL_NAMES

    if model not in MODEL_NAMES:
        raise InputError(
            f"--model: unknown model {model!r}; expected one of {', '.join(MODEL_NAMES)}"
        )


def _judge_series(
    metric: str, keys: dict[str, str], fit: FittedSeries, controls: list[FittedSeries], cal: Any,
    window: tuple[pd.Timestamp, pd.Timestamp], freq: str, cfg: ImpactSettings,
    make: ForecasterFactory, control_names: str,
) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Row, path and window events of one series (raises SeriesError/ValueError)."""
    start, end = window
    on_events = event_steps(cal, fit.plan.span, metric, keys)
    row, path = series_impact(fit.y, start, end, make, freq, cfg, controls, fit, on_events)
    ident = {**keys, "metric": metric}
    events = _window_events(cal, start, end, metric, keys).assign(**ident)
    return {**ident, **row, "controls": control_names}, path.assign(**ident), events


def parse_controls(controls: Any) -> str | dict[str, tuple[str, ...]] | None:
    """``controls`` as None (off), ``"auto"`` or ``{key: allowed values}``.

    Accepts ``None``/``""``, ``"auto"``, a string ``KEY=VALUE,KEY=VALUE`` (the
    CLI's ``--controls``) or a mapping ``{key: value or values}``. ``metric``
    is a key too. A series is a control when, for every key named, its value is
    one of those listed (``borough=Brooklyn,borough=Queens``: either borough).
    """
    if controls is None or (isinstance(controls, str) and not controls.strip()):
        return None
    if isinstance(controls, str) and controls.strip().lower() == "auto":
        return "auto"
    if isinstance(controls, str):
        spec: dict[str, list[str]] = {}
        for item in (i.strip() for i in controls.split(",") if i.strip()):
            key, sep, value = item.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise InputError(f"--controls: expected 'auto' or KEY=VALUE[,KEY=VALUE...], "
                                 f"got {item!r}")  # fmt: skip
            spec.setdefault(key.strip(), []).append(value.strip())
        return {k: tuple(v) for k, v in spec.items()}
    if isinstance(controls, dict):
        return {str(k): tuple(str(x) for x in ([v] if isinstance(v, str) else v))
                for k, v in controls.items()}  # fmt: skip
    raise InputError(f"controls: expected 'auto', 'KEY=VALUE,...' or a mapping, "
                     f"got {type(controls).__name__}")  # fmt: skip


def _is_control(metric: str, keys: dict[str, str], spec: dict[str, tuple[str, ...]]) -> bool:
    values = {**{k: str(v) for k, v in keys.items()}, "metric": str(metric)}
    return all(values[k] in allowed for k, allowed in spec.items())


def select_controls(
    series: list[tuple[str, dict[str, str]]], ds_keys: tuple[str, ...], controls: Any,
) -> tuple[list[int], dict[int, list[int]]]:  # fmt: skip
    """Which series are judged and, for each, the positions of its control series.

    Without controls every series is judged alone. ``"auto"``: every series is
    judged, its controls are the other series of the same metric. A key/value
    spec: the matching series are the controls (never judged), the others are
    judged, each against the controls of its own metric. Raises
    :class:`InputError` for an unknown key, a spec matching no series, no series
    left to judge, or a judged series without a control of its metric.
    """
    from .data import series_label

    spec = parse_controls(controls)
    everyone = list(range(len(series)))
    if spec is None:
        return everyone, {i: [] for i in everyone}
    if spec == "auto":
        judged, pool = everyone, everyone
    else:
        unknown = [k for k in spec if k not in (*ds_keys, "metric")]
        if unknown:
            raise InputError(f"--controls: unknown key {unknown[0]!r}; the series keys are "
                             f"{', '.join([*ds_keys, 'metric'])}")  # fmt: skip
        pool = [i for i, (m, k) in enumerate(series) if _is_control(m, k, spec)]
        if not pool:
            wanted = ",".join(f"{k}={v}" for k, vs in spec.items() for v in vs)
            raise InputError(f"--controls {wanted}: no series matches")
        judged = [i for i in everyone if i not in pool]
        if not judged:
            raise InputError("--controls: every series is a control, none is left to judge "
                             "(a control is never the series judged)")  # fmt: skip
    out = {}
    for i in judged:
        metric = series[i][0]
        out[i] = [j for j in pool if j != i and series[j][0] == metric]
        if not out[i]:
            raise InputError(f"--controls: {series_label(*series[i])} has no control series of "
                             f"the same metric {metric!r} (controls must be other series of "
                             f"its metric)")  # fmt: skip
    return judged, out


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
    n_folds: int = 42,
    anchor: float = 1.0,
    level_days: int = 7,
    refits: int = 0,
    controls: Any = None,
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
    all_series = list(ds.series())
    judged, control_map = select_controls([(m, k) for m, k, _ in all_series], ds.keys, controls)
    cal = _calendar(calendar, weather, exclude_events)
    cfg = ImpactSettings(post=post, model=model, n_folds=n_folds, anchor=anchor,
                         level_days=level_days, refits=refits)  # fmt: skip
    problems = [f"{p.series}: {p.message}" for p in ds.problems]
    needed = sorted(set(judged) | {j for js in control_map.values() for j in js})
    fits = _fit_all(all_series, needed, cal, (start_ts, end_ts), ds.freq, cfg, seed, problems)
    rows, paths, events = [], [], []
    for i in judged:
        metric, keys, _ = all_series[i]
        label = series_label(metric, keys)
        ctl = [j for j in control_map[i] if j in fits]
        if i not in fits:
            continue
        if control_map[i] and not ctl:
            problems.append(f"{label}: none of its control series could be fitted")
            continue
        names = ";".join(_control_name(*all_series[j][:2], ds.keys) for j in ctl)
        make = _factory(metric, keys, cal, ds.freq, cfg, seed)
        try:
            row, path, ev = _judge_series(metric, keys, fits[i], [fits[j] for j in ctl], cal,
                                          (start_ts, end_ts), ds.freq, cfg, make, names)  # fmt: skip
        except (SeriesError, ValueError) as e:
            problems.append(f"{label}: {str(e).removeprefix(label + ': ')}")
            continue
        rows.append(row), paths.append(path), events.append(ev)
    if not rows:
        raise InputError(f"impact window {_fmt(start_ts)} to {_fmt(end_ts)}: no series could be "
                         f"judged ({'; '.join(problems[:3])})")  # fmt: skip
    result = _assemble(ds.keys, rows, paths, events, problems, start_ts, end_ts, ds.freq, post,
                       model)  # fmt: skip
    result.level_days = level_days
    return result


def _control_name(metric: str, keys: dict[str, str], ds_keys: tuple[str, ...]) -> str:
    return "/".join(str(keys[k]) for k in ds_keys) if ds_keys else str(metric)


def _factory(metric: str, keys: dict[str, str], cal: Any, freq: str, cfg: ImpactSettings,
             seed: int) -> ForecasterFactory:  # fmt: skip
    """``make(model_or_None)``: an unfitted SeriesForecaster for one series."""
    from .forecast import SeriesForecaster

    def make(name: str | None) -> Any:
        return SeriesForecaster(model=name or cfg.model, calendar=cal, metric=metric,
                                keys=dict(keys), freq=freq, seed=seed)  # fmt: skip

    return make


def _fit_all(
    all_series: list[tuple[str, dict[str, str], pd.Series]], needed: list[int], cal: Any,
    window: tuple[pd.Timestamp, pd.Timestamp], freq: str, cfg: ImpactSettings, seed: int,
    problems: list[str],
) -> dict[int, FittedSeries]:  # fmt: skip
    """One fit per series needed (judged or control); failures go to ``problems``."""
    from .data import series_label

    fits = {}
    for i in needed:
        metric, keys, y = all_series[i]
        label = series_label(metric, keys)
        try:
            fits[i] = fit_series(y, *window, _factory(metric, keys, cal, freq, cfg, seed), freq,
                                 cfg)  # fmt: skip
        except (SeriesError, ValueError) as e:
            problems.append(f"{label}: {str(e).removeprefix(label + ': ')}")
    return fits


def _assemble(
    keys: tuple[str, ...], rows: list[dict], paths: list[pd.DataFrame],
    events: list[pd.DataFrame], problems: list[str], start: pd.Timestamp, end: pd.Timestamp,
    freq: str, post: bool, model: str,
) -> ImpactResult:  # fmt: skip
    table = pd.DataFrame(rows)[[*keys, *TABLE_COLUMNS]]
    ident = [*keys, "metric"]
    path_frame = pd.concat(paths, ignore_index=True)
    path_frame = path_frame[ident + [c for c in path_frame.columns if c not in ident]]
    events = [e for e in events if not e.empty]  # (concat warns on empty frames)
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
    n_folds: int = 42,
    anchor: float = 1.0,
    level_days: int = 7,
    refits: int = 0,
    controls: Any = None,
    seed: int = 0,
    **data_kwargs: Any,
) -> pd.DataFrame:
    """What the window ``[start, end]`` cost, per series, against a counterfactual with ranges.

    ``data``: a path (CSV/Parquet), a ``Dataset`` or a tidy DataFrame; ``data_kwargs``
    are :func:`~juno_forecast.data.load_data`'s (``time_col, value_col, metric_col,
    metric, by, freq, agg``). ``calendar``: path, ``None`` (shipped), ``"none"`` or a
    ``Calendar``; ``weather``: observed weather file. ``end`` is inclusive; a date
    alone means its whole day. ``post=True`` also levels the counterfactual on the
    data after the window. ``exclude_events``: calendar event names (shell-style
    patterns) left out of the counterfactual, e.g. the storm being investigated.
    ``n_folds``: pseudo-windows (the window moved back by whole days, never
    overlapping one another) whose errors size the ranges. ``anchor``: weight
    (0-1) of the local level (0 turns it off); ``level_days``: days before (and with ``post`` after) the window
    whose same hours of the day give that level. ``refits``: 0 judges the
    pseudo-windows with the forecaster fitted up to the window (inside its
    training data); ``n`` splits them into ``n`` blocks judged out of sample by
    forecasters fitted before each block (``n`` more fits). ``controls``: None
    (off), ``"auto"`` (each series against every other series of its metric) or
    ``"KEY=VALUE,..."`` / ``{key: values}`` (the matching series are the
    controls, not judged; the others are each judged against the controls of
    their metric): their deviation from their own forecasts inside the window
    also scales the counterfactual (module docstring, 2b). Only for local
    incidents: a control affected by the incident too hides the loss.

    Returns one row per series: keys, ``metric, actual_total, expected_total,
    lo_95, hi_95`` (95% range of ``expected_total``), ``difference`` (actual minus
    expected), ``difference_pct, peak_ds, affected`` (actual total outside the
    range), then ``lo_80, hi_80``, the range of the difference, the peak
    difference with its per-step range, ``direction, events, steps, model,
    range_method, folds, event_folds`` (earlier copies of the window on event
    days the range was also judged on, 0 when none), ``level`` (the local level
    applied), ``controls`` (the control series), ``control_factor`` (``R ** w``,
    1 without controls) and ``control_weight`` (``w``, NaN without controls).
    ``attrs`` holds ``paths`` (per timestamp), ``share_affected`` (per metric), ``events``, ``problems``, ``start``, ``end``;
    :func:`run_impact` returns the same as an :class:`ImpactResult`.
    """
    result = run_impact(data, start, end, post, model, calendar, weather,
                        exclude_events=exclude_events, n_folds=n_folds, anchor=anchor,
                        level_days=level_days, refits=refits, controls=controls, seed=seed,
                        **data_kwargs)  # fmt: skip
    return result.as_frame()
