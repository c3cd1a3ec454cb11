"""The public detection API: ``detect`` and ``run_detection`` over every series."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..data import SeriesProblem
from ..errors import InputError
from ..inputs import check_level, check_model, parse_range, resolve_calendar, resolve_dataset
from .incidents import INCIDENT_COLUMNS, sort_incidents
from .series import DetectionResult, SeriesDetection, detect_each


def _concat_incidents(parts: list[pd.DataFrame], keys: tuple[str, ...]) -> pd.DataFrame:
    cols = [*keys, *INCIDENT_COLUMNS]
    frames = [p[cols] for p in parts if not p.empty]
    if not frames:
        return pd.DataFrame(columns=cols)
    return sort_incidents(pd.concat(frames, ignore_index=True))


def stack_incidents(series: Iterable[SeriesDetection], keys: tuple[str, ...]) -> pd.DataFrame:
    """The incidents of many series as one sorted table, built once from their rows
    (what :func:`_concat_incidents` of their tables gives, without a frame per series)."""
    cols = [*keys, *INCIDENT_COLUMNS]
    rows = [r for sd in series for r in sd.rows]
    if not rows:
        return pd.DataFrame(columns=cols)
    return sort_incidents(pd.DataFrame({c: [r[c] for r in rows] for c in cols}))


def run_detection(
    data: Any,
    start: Any,
    end: Any,
    level: float = 0.95,
    model: str = "baseline",
    calendar: Any = None,
    weather: Any = None,
    *,
    weather_forecast: Any = None,
    refit: str = "1D",
    min_points: int | None = None,
    max_gap: int = 1,
    seed: int = 0,
    **data_kwargs: Any,
) -> DetectionResult:
    """Detection over every series, keeping per-series detail (for plots and reports).

    Series that cannot be used are listed in ``problems`` and skipped; the others go on.
    """
    s, e = parse_range(start, end)
    level, model = check_level(level), check_model(model)
    ds = resolve_dataset(data, **data_kwargs)
    cal = resolve_calendar(calendar, weather, weather_forecast)
    last = ds.frame["ds"].max() if len(ds.frame) else s
    if s > last:
        raise InputError(f"--start {s} is after the last timestamp of the data ({last})")
    if len(ds.frame) and not ds.frame["ds"].between(s, e).any():
        raise InputError(
            f"the range {s} to {e} has no data: the data run from {ds.frame['ds'].min()} to {last}"
        )
    agg = data_kwargs.get("agg") or "sum"
    series: dict[str, SeriesDetection] = {}
    problems = [str(p) for p in ds.problems]
    options = dict(level=level, model=model, agg=agg, refit=refit, min_points=min_points)
    for sd in detect_each(ds, s, e, cal, max_gap=max_gap, seed=seed, **options):
        if isinstance(sd, SeriesProblem):
            problems.append(str(sd))
        else:
            series[sd.label] = sd
    if not series and problems:
        raise InputError(f"no series could be checked: {problems[0]}")
    incidents = stack_incidents(series.values(), ds.keys)
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
    weather_forecast: Any = None,
    **data_kwargs: Any,
) -> pd.DataFrame:
    """Flagged deviations between ``start`` and ``end``: one row per incident.

    ``data`` is a path, a Dataset or a tidy DataFrame (``data_kwargs`` as for ``load_data``);
    ``calendar`` a Calendar, a path, None (the shipped one) or ``"none"``. Each timestamp's
    expectation comes only from data before its day. Columns: keys, ``metric, start, end,
    peak_ds, direction, actual, expected, lo, hi`` (means over the incident),
    ``deviation_pct, severity, explanation, explained_by, note`` (``explanation``:
    explained, partly or unexplained, see :mod:`.explain`); unexplained first, then
    partly, then explained, each by severity.
    ``min_points``: shortest run kept (default 3 hours, or 1 day) unless extreme.
    Skipped series are listed in ``result.attrs["problems"]``.
    """
    res = run_detection(
        data,
        start,
        end,
        level,
        model,
        calendar,
        weather,
        min_points=min_points,
        weather_forecast=weather_forecast,
        **data_kwargs,
    )
    out = res.incidents
    out.attrs["problems"] = res.problems
    return out
