"""The public entry points: :func:`impact` (a DataFrame) and :func:`run_impact` (typed)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import InputError, SeriesError
from ..inputs import check_model, resolve_dataset
from .controls import control_name, select_controls
from .counterfactual import FittedSeries, ForecasterFactory, ImpactSettings, fit_series
from .events import event_steps, impact_calendar, window_events
from .result import TABLE_COLUMNS, ImpactResult
from .series import series_impact
from .window import check_window, fmt_time, resolve_window


def _check_predicts_past(model: str) -> None:
    """The counterfactual is predicted on past timestamps: a model must say it can (its tag)."""
    from ..models import MODEL_NAMES, make_model
    from ..models.base import get_tags

    if not get_tags(make_model(model)).predicts_past:
        able = [n for n in MODEL_NAMES if get_tags(make_model(n)).predicts_past]
        raise InputError(
            f"--model: {model!r} cannot predict past timestamps (tag predicts_past=False), "
            f"which impact's counterfactual needs; expected one of {', '.join(able)}"
        )


def run_impact(
    data: Any,
    start: Any,
    end: Any,
    post: bool = False,
    model: str = "auto",
    calendar: Any = None,
    weather: Any = None,
    *,
    weather_forecast: Any = None,
    exclude_events: Iterable[str] = (),
    n_folds: int = 42,
    anchor: float = 1.0,
    level_days: int = 7,
    refits: int = 0,
    controls: Any = None,
    seed: int = 0,
    **data_kwargs: Any,
) -> ImpactResult:
    """Like :func:`impact` (whose docstring documents the arguments), typed: an :class:`ImpactResult`."""
    from ..data import series_label

    check_model(model)
    _check_predicts_past(model)
    ds = resolve_dataset(data, **data_kwargs)
    window = resolve_window(start, end, ds.freq)
    if ds.frame.empty:
        raise InputError("impact: the data hold no series")
    check_window(ds.frame["ds"].min(), ds.frame["ds"].max(), *window, ds.freq)
    series = list(ds.series())
    judged, control_map = select_controls([(m, k) for m, k, _ in series], ds.keys, controls)
    cfg = ImpactSettings(
        post=post, model=model, n_folds=n_folds, anchor=anchor, level_days=level_days, refits=refits
    )
    cal = impact_calendar(calendar, weather, exclude_events, weather_forecast)
    run = _Run(cal, window, ds.freq, cfg, seed)
    problems = [f"{p.series}: {p.message}" for p in ds.problems]
    needed = sorted(set(judged) | {j for js in control_map.values() for j in js})
    fits = run.fit_all(series, needed, problems)
    judged_rows = []
    for i in (i for i in judged if i in fits):
        ctl = [j for j in control_map[i] if j in fits]
        if control_map[i] and not ctl:
            problems.append(
                f"{series_label(*series[i][:2])}: none of its control series could be fitted"
            )
            continue
        names = ";".join(control_name(*series[j][:2], ds.keys) for j in ctl)
        one = run.judge(series[i], fits[i], [fits[j] for j in ctl], names, problems)
        if one is not None:
            judged_rows.append(one)
    if not judged_rows:
        raise InputError(
            f"impact window {fmt_time(window[0])} to {fmt_time(window[1])}: no series could be "
            f"judged ({'; '.join(problems[:3])})"
        )
    return _assemble(ds.keys, judged_rows, problems, run)


def impact(data: Any, start: Any, end: Any, *args: Any, **kwargs: Any) -> pd.DataFrame:
    """What the window ``[start, end]`` cost, per series, against a counterfactual with ranges.

    ``data``: a path (CSV/Parquet), a ``Dataset`` or a tidy DataFrame; the other
    keywords are :func:`~juno_forecast.data.load_data`'s (``time_col, value_col,
    metric_col, metric, by, freq, agg``), as for ``forecast``. ``calendar``:
    path, ``None`` (shipped), ``"none"`` or a ``Calendar``. ``weather``: the
    observed weather file, seen by the counterfactual only up to the window;
    ``weather_forecast``: the weather the counterfactual assumes from the window
    on (the observed file itself: "what would the window have been in this
    weather without the incident"). ``end`` is inclusive; a date alone means
    its whole day. ``post=True`` also levels the counterfactual on the data
    after the window. ``exclude_events``: calendar event names (shell-style
    patterns) left out of the counterfactual, e.g. the storm being
    investigated. ``n_folds``: pseudo-windows (the window moved back by whole
    days, never overlapping one another) whose errors size the ranges.
    ``anchor``: weight (0-1) of the local level (0 turns it off);
    ``level_days``: days before (and with ``post`` after) the window whose same
    hours of the day give that level. ``refits``: 0 judges the pseudo-windows
    with the forecaster fitted up to the window (inside its training data);
    ``n`` splits them into ``n`` blocks judged out of sample by forecasters
    fitted before each block (``n`` more fits). ``controls``: None (off),
    ``"auto"`` (each series against every other series of its metric) or
    ``"KEY=VALUE,..."`` / ``{key: values}`` (the matching series are the
    controls, not judged; the others are each judged against the controls of
    their metric): their deviation from their own forecasts inside the window
    also scales the counterfactual (docs/impact.md, Controls). Only for local
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
    ``attrs`` holds ``paths`` (per timestamp), ``share_affected`` (per metric),
    ``events``, ``problems``, ``start``, ``end``; :func:`run_impact` returns the
    same as an :class:`ImpactResult`.
    """
    return run_impact(data, start, end, *args, **kwargs).as_frame()


# impact() takes run_impact's arguments: one signature, shown by help() and notebooks
impact.__signature__ = inspect.signature(run_impact).replace(return_annotation="pd.DataFrame")

Judged = tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]
"""One series judged: its table row, its per-timestamp path and the events in its window."""


@dataclass
class _Run:
    """What every series of one impact run shares: calendar, window, grain, settings, seed."""

    cal: Any
    window: tuple[pd.Timestamp, pd.Timestamp]
    freq: str
    cfg: ImpactSettings
    seed: int

    def factory(self, metric: str, keys: dict[str, str]) -> ForecasterFactory:
        """``make(model_or_None)``: an unfitted SeriesForecaster for one series."""
        from ..forecast import SeriesForecaster

        def make(name: str | None) -> Any:
            return SeriesForecaster(
                model=name or self.cfg.model,
                calendar=self.cal if self.cal is not None else "none",
                metric=metric,
                keys=dict(keys),
                freq=self.freq,
                seed=self.seed,
            )

        return make

    def fit_all(
        self, series: list[Series], needed: list[int], problems: list[str]
    ) -> dict[int, FittedSeries]:
        """One fit per series needed (judged or control); failures go to ``problems``."""
        fits = {}
        for i in needed:
            metric, keys, y = series[i]
            with _reported(metric, keys, problems):
                make = self.factory(metric, keys)
                fits[i] = fit_series(y, *self.window, make, self.freq, self.cfg)
        return fits

    def judge(
        self,
        series: Series,
        fit: FittedSeries,
        controls: list[FittedSeries],
        control_names: str,
        problems: list[str],
    ) -> Judged | None:
        """Row, path and window events of one series; None (and a problem) when it cannot be judged."""
        metric, keys, _ = series
        with _reported(metric, keys, problems):
            start, end = self.window
            on_events = event_steps(self.cal, fit.plan.span, metric, keys)
            make = self.factory(metric, keys)
            row, path = series_impact(fit, make, self.cfg, controls, on_events)
            ident = {**keys, "metric": metric}
            events = window_events(self.cal, start, end, metric, keys).assign(**ident)
            return {**ident, **row, "controls": control_names}, path.assign(**ident), events
        return None


Series = tuple[str, dict[str, str], pd.Series]
"""``(metric, keys, values)``, as :meth:`~juno_forecast.data.Dataset.series` yields them."""


@contextmanager
def _reported(metric: str, keys: dict[str, str], problems: list[str]) -> Iterator[None]:
    """Turn a series' SeriesError/ValueError into a line of ``problems`` (the run goes on)."""
    from ..data import series_label

    label = series_label(metric, keys)
    try:
        yield
    except (SeriesError, ValueError) as e:
        problems.append(f"{label}: {str(e).removeprefix(label + ': ')}")


def _assemble(
    keys: tuple[str, ...], judged: list[Judged], problems: list[str], run: _Run
) -> ImpactResult:
    """The result from the judged series (rows, paths and events put together)."""
    rows, paths, events = zip(*judged, strict=True)
    table = pd.DataFrame(list(rows))[[*keys, *TABLE_COLUMNS]]
    ident = [*keys, "metric"]
    path_frame = pd.concat(paths, ignore_index=True)
    path_frame = path_frame[ident + [c for c in path_frame.columns if c not in ident]]
    found = [e for e in events if not e.empty]  # (concat warns on empty frames)
    ev = pd.concat(found, ignore_index=True) if found else pd.DataFrame()
    if not ev.empty:
        ev = ev[ident + [c for c in ev.columns if c not in ident]]
    share = table.groupby("metric")["affected"].mean().astype(float).to_dict()
    start, end = run.window
    return ImpactResult(
        table,
        path_frame,
        tuple(keys),
        start,
        end,
        run.freq,
        run.cfg.post,
        run.cfg.model,
        share,
        ev,
        problems,
        level_days=run.cfg.level_days,
    )
