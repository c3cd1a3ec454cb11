"""Forecasts for series with only a few weeks of history (a new zone, a new for-hire base).

The regular models want eight weeks of daily (two of hourly) history to fit and
to calibrate their ranges on a backtest. A series with less, but at least
:data:`SHORT_MIN` (two weeks of days, one week of hours), still gets a forecast
in the nightly batch, from a deliberately simple model:

* the expected value at a time is the mean of the same phase of the season
  (weekday for daily data; hour of the week for hourly data with two weeks,
  else hour of the day) over the last :data:`MAX_SEASONS` seasons;
* the ranges come from the series' own few weeks: the same model is replayed
  on the history (each season forecast from the seasons before it), the root
  mean square of those errors sets a normal band, widened by :data:`WIDEN`
  because a few weeks show little of the series' variation. Counts
  (``agg: sum``) never get a negative lower bound.

Calendar events are listed in the ``events`` column but do not move these
forecasts (a few weeks cannot teach an event's effect).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..compat import epoch_ns
from ..models.base import FREQ_DELTA

#: fewest steps a series needs for a short-history forecast: two weeks of days, a week of hours
SHORT_MIN = {"D": 14, "h": 7 * 24}
#: the seasons averaged for the expected value (the most recent ones)
MAX_SEASONS = 4
#: how much wider than the replayed errors the ranges are drawn
WIDEN = 1.5
Z = {"80": 1.2816, "95": 1.96}
UNIT = {"D": "day", "h": "hour"}


def short_season(freq: str, n: int) -> int:
    """The season of a short series: a week of days; a week of hours when two fit, else a day."""
    if freq == "D":
        return 7
    return 168 if n >= 2 * 168 else 24


def _profile(values: np.ndarray, season: int, end: int, count: int) -> np.ndarray:
    """Mean of each phase over up to ``MAX_SEASONS`` whole seasons ending at position ``end``.

    Missing values are skipped; a phase missing in every season gets the mean of the rest.
    """
    k = min(MAX_SEASONS, end // season)
    block = values[end - k * season : end].reshape(k, season)
    seen = np.isfinite(block)
    n = seen.sum(axis=0)
    total = np.where(seen, block, 0.0).sum(axis=0)
    fallback = total.sum() / max(1, n.sum())
    phase = np.where(n > 0, total / np.maximum(n, 1), fallback)
    return phase[np.arange(count) % season]


def replay_errors(values: np.ndarray, season: int) -> np.ndarray:
    """Errors of the model on its own history: each season forecast from those before it."""
    errors = []
    for start in range(season, len(values) - season + 1, season):
        errors.append(values[start : start + season] - _profile(values, season, start, season))
    return np.concatenate(errors) if errors else np.array([])


def short_forecast(y: pd.Series, index: pd.DatetimeIndex, freq: str, counts: bool) -> pd.DataFrame:
    """``yhat, lo_80, hi_80, lo_95, hi_95`` on ``index`` (after ``y``) from a short history ``y``.

    ``y`` is regular (one value per step, ``freq``); the phase of each future
    time is counted from the end of ``y`` so a season is always whole. The
    pandas face of :func:`short_forecast_arrays`.
    """
    last = int(epoch_ns(y.index[-1:])[0])
    out = short_forecast_arrays(y.to_numpy(dtype=float), last, epoch_ns(index), freq, counts)
    return pd.DataFrame(out, index=index)


def short_forecast_arrays(
    values: np.ndarray, last: int, ahead: np.ndarray, freq: str, counts: bool
) -> dict[str, np.ndarray]:
    """:func:`short_forecast` on arrays: the history's ``values`` (regular, its last one at
    ``last`` ns), the future times ``ahead`` (int64 ns); one array per band column."""
    values = np.asarray(values, dtype=float)
    season = short_season(freq, len(values))
    usable = len(values) - len(values) % season  # whole seasons, ending at the last value
    values = values[len(values) - usable :]
    steps = np.rint((np.asarray(ahead) - last) / FREQ_DELTA[freq].value).astype(int)  # 1, 2, ...
    yhat = _profile(values, season, len(values), season)[(steps - 1) % season]
    errors = replay_errors(values, season)
    errors = errors[np.isfinite(errors)]
    sigma = float(np.sqrt(np.mean(errors**2))) if len(errors) else float(np.nanstd(values))
    out = {"yhat": yhat}
    for level, z in Z.items():
        half = WIDEN * z * sigma
        out[f"lo_{level}"] = np.maximum(yhat - half, 0.0) if counts else yhat - half
        out[f"hi_{level}"] = yhat + half
    if counts:
        out["yhat"] = np.where(yhat < 0.0, 0.0, yhat)  # as Series.clip(lower=0): NaN and -0.0 kept
    return out


def short_note(n: int, freq: str, since: pd.Timestamp) -> str:
    """What the manifest and report say about a short series."""
    return (
        f"history: short ({n} {UNIT[freq]}s since {since:%Y-%m-%d}); forecast from its own "
        f"weeks, ranges widened x{WIDEN:g}"
    )
