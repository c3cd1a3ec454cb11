"""Which points left their band: the single-point test and the window test (hourly)."""

from __future__ import annotations

from functools import lru_cache
from statistics import NormalDist

import numpy as np
import pandas as pd

from ..compat import epoch_ns
from ..grain import DAY_NS, HOUR_NS, TZ
from ..models.baseline import (
    CHECK_WINDOW_HOURS,
    WINDOW_CLIP,
    WINDOW_DEFAULT_SCALE,
    WINDOW_HOURS,
)

#: at the 95% level (other levels scale it like the band's quantile): about 1 in 30,000
#: windows of independent normal errors, rare next to the 5% of single hours outside a
#: 95% band (the synthetic benchmark's false alarms stay below 0.25 per series-month)
WINDOW_THRESHOLD = 4.0

#: an hour of a passing window is flagged only when it deviates by at least this share of
#: the window's per-hour limit itself: the quiet hours next to a shock do not join it
WINDOW_MIN_SHARE = 0.75

#: on the two daylight-saving days, the hours from the change to this hour are not
#: flagged: the night's tail (bars closing, the last trains) moves by an hour
DST_SETTLED_HOUR = 8


def window_threshold(level: float = 0.95, hours: int | None = None) -> float:
    """The window test's threshold at ``level``: for a scan of months, or for ``hours`` hours.

    ``detect`` scans months of history, thousands of windows per series, so its threshold
    (``hours=None``) is ``WINDOW_THRESHOLD``, scaled like the band's quantile: a false
    window stays rare however long the scan. The release check asks about one range the
    user names (``hours`` hours since a release): it tests only the windows of that range,
    so it can afford a finer test: windows of 2 hours too (``CHECK_WINDOW_HOURS``), and
    a threshold that holds the chance that any window of the range passes by chance
    (independent normal window sums, after the series' window scale) at ``1 - level``
    (Bonferroni over the windows tested), never above the scan's. At 95%: 2.6 for a
    range of 4 hours, 3.0 for 8, 3.4 for a day, the scan's 4.0 from 8 days on.
    """
    q = NormalDist().inv_cdf(0.5 + level / 2)
    scan = WINDOW_THRESHOLD * q / NormalDist().inv_cdf(0.975)
    if hours is None:
        return scan
    tests = sum(max(hours - k + 1, 0) for k in CHECK_WINDOW_HOURS)
    return min(scan, NormalDist().inv_cdf(1 - (1 - level) / (2 * max(tests, 1))))


def band(points: pd.DataFrame, level: float) -> tuple[pd.Series, pd.Series]:
    """Lower and upper bound at ``level``: the 80/95% columns, or scaled from the 95% band."""
    if abs(level - 0.95) < 1e-9:
        return points["lo_95"], points["hi_95"]
    if abs(level - 0.8) < 1e-9:
        return points["lo_80"], points["hi_80"]
    z = NormalDist().inv_cdf(0.5 + level / 2) / NormalDist().inv_cdf(0.975)
    yhat = points["yhat"]
    return yhat - (yhat - points["lo_95"]) * z, yhat + (points["hi_95"] - yhat) * z


def dst_hours(index: pd.DatetimeIndex) -> np.ndarray:
    """True for wall-clock hours that do not exist or occur twice in New York (DST changes),
    and the hours after them up to ``DST_SETTLED_HOUR`` of the same day (the night's tail
    shifts by an hour on those days: 4 am looks like a normal 3 am): on the days of a
    change, the hours from 1 am (the changes are at 1-3 am) to ``DST_SETTLED_HOUR``."""
    return dst_hours_ns(epoch_ns(index))


def dst_hours_ns(t: np.ndarray) -> np.ndarray:
    """:func:`dst_hours` of int64 nanosecond wall-clock stamps."""
    if not len(t):
        return np.zeros(0, dtype=bool)
    day, within = np.divmod(t, DAY_NS)
    years = range(pd.Timestamp(int(t.min())).year, pd.Timestamp(int(t.max())).year + 1)
    on_change_day = np.isin(day, np.concatenate([_change_days(y) for y in years]))
    hour = within // HOUR_NS
    return on_change_day & (hour >= 1) & (hour < DST_SETTLED_HOUR)


@lru_cache(maxsize=64)
def _change_days(year: int) -> np.ndarray:
    """The days of ``year`` with 23 or 25 hours in New York, as days since the epoch."""
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    return epoch_ns(days[hours_in_day(days) != 24]) // DAY_NS


def hours_in_day(days: pd.DatetimeIndex) -> np.ndarray:
    """Real hours in each New York calendar day (23 or 25 on DST changes, else 24)."""
    start = days.normalize().tz_localize(TZ, ambiguous=True, nonexistent="shift_forward")
    nxt = (days.normalize() + pd.Timedelta(days=1)).tz_localize(
        TZ, ambiguous=True, nonexistent="shift_forward"
    )
    return np.asarray((nxt - start) / pd.Timedelta(hours=1))


def flag_points(
    points: pd.DataFrame,
    level: float = 0.95,
    freq: str = "h",
    agg: str = "sum",
    range_hours: int | None = None,
) -> pd.DataFrame:
    """Per timestamp: actual, expected, lo, hi, excess beyond the band, score and flag.

    A point is flagged when it is outside the band of ``level``, or (hourly) when it
    belongs to a window of consecutive hours that passes :func:`window_test` and deviates
    in the window's direction. ``z`` is the excess in band half-widths; ``excess`` the
    distance beyond the band (or, for a point flagged only by its window, beyond the
    window's per-hour limit); ``score`` the excess in hours of the series' average expected
    volume (so a daily point weighs 24 hours). DST hours are never flagged; for daily sums
    the expectation of 23/25-hour days is scaled. ``window``: the hour was flagged by a
    window. ``range_hours``: the length of the one range a release check judges (its
    windows and threshold are then :func:`window_threshold`'s); None for a scan.
    """
    cols = {c: points[c].to_numpy(dtype=float) for c in points.columns if c in _BAND_INPUTS}
    cols.update({c: points[c].to_numpy(dtype=float) for c in points if c.startswith("wscale_")})
    out = flag_arrays(cols, epoch_ns(points.index), level, freq, agg, range_hours)
    return pd.DataFrame(out, index=points.index)


#: the columns of an expectation's points :func:`flag_arrays` reads (and ``wscale_<k>``)
_BAND_INPUTS = ("actual", "yhat", "lo_80", "hi_80", "lo_95", "hi_95")


def flag_arrays(
    points: dict[str, np.ndarray],
    t: np.ndarray,
    level: float = 0.95,
    freq: str = "h",
    agg: str = "sum",
    range_hours: int | None = None,
) -> dict[str, np.ndarray]:
    """:func:`flag_points` on arrays: ``points`` the expectation's columns as float arrays
    at int64 ns wall-clock stamps ``t``; returns its output columns (no frame)."""
    lo, hi = (np.asarray(b, dtype=float) for b in band(points, level))
    actual = points["actual"]
    expected = points["yhat"]
    if freq == "D" and agg == "sum" and len(actual):
        # a 23-hour day may lose up to an hour of volume, a 25-hour day gain one: the band
        # widens on the side of that hour (whose share of the day is unknown at daily grain)
        scale = hours_in_day(pd.DatetimeIndex(t.view("datetime64[ns]"))) / 24.0
        lo = lo * np.minimum(scale, 1.0)
        hi = hi * np.maximum(scale, 1.0)
    above, below = actual > hi, actual < lo
    excess = np.where(above, actual - hi, np.where(below, lo - actual, 0.0))
    z = excess / np.maximum((hi - lo) / 2, 1e-9)  # beyond the point's own band, in half-widths
    skip = dst_hours_ns(t) if freq == "h" else np.zeros(len(actual), dtype=bool)
    usable = ~np.isnan(actual) & ~skip
    w_sign = np.zeros(len(actual), dtype=int)
    if freq == "h" and len(actual):
        hours = WINDOW_HOURS if range_hours is None else CHECK_WINDOW_HOURS
        threshold = window_threshold(level, range_hours)
        band_arrays = (actual, expected, lo, hi)
        w_excess, w_sign = _window_excess(band_arrays, points, level, usable, threshold, hours)
        above |= w_sign > 0
        below |= w_sign < 0
        excess = np.maximum(excess, w_excess)
    unit = max(_nanmean(expected), 1e-9) if len(actual) else 1.0
    flag = (above | below) & usable
    excess = np.where(flag, excess, 0.0)  # unflagged points: no excess, score, z, direction
    cols = {"actual": actual, "expected": expected, "lo": lo, "hi": hi}
    cols["z"] = np.where(flag, z, 0.0)
    cols["excess"] = excess
    cols["score"] = excess / unit * (1.0 if freq == "h" else 24.0)
    cols["direction"] = np.where(flag & above, "above", np.where(flag & below, "below", ""))
    cols["flag"] = flag
    cols["window"] = flag & (w_sign != 0)
    return cols


def _nanmean(x: np.ndarray) -> float:
    """The mean of the values that are not missing, as pandas' ``Series.mean`` takes it."""
    ok = ~np.isnan(x)
    return float(np.where(ok, x, 0.0).sum() / ok.sum()) if ok.any() else np.nan


def standardized_residuals(flagged: pd.DataFrame, level: float) -> np.ndarray:
    """Log residuals in normal-equivalent sds of the band (about +-1.96 at a 95% band's edges).

    The band of each side gives that side's sd, so asymmetric (log-scale) bands are
    respected; NaN where the actual is missing.
    """
    cols = (flagged[c].to_numpy(dtype=float) for c in ("actual", "expected", "lo", "hi"))
    return _standardized(*cols, level)


def _standardized(
    act: np.ndarray, expected: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: float
) -> np.ndarray:
    """:func:`standardized_residuals` on arrays."""
    q = NormalDist().inv_cdf(0.5 + level / 2)
    exp = np.maximum(expected, 0.0)
    r = np.log1p(np.maximum(act, 0.0)) - np.log1p(exp)
    up = (np.log1p(np.maximum(hi, 0.0)) - np.log1p(exp)) / q
    dn = (np.log1p(exp) - np.log1p(np.maximum(lo, 0.0))) / q
    sd = np.where(r > 0, up, dn)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 1e-12, r / sd, 0.0) + np.where(np.isnan(act), np.nan, 0.0)


def window_test(
    z: np.ndarray,
    scales: dict[int, np.ndarray],
    threshold: float = WINDOW_THRESHOLD,
    hours: tuple[int, ...] = WINDOW_HOURS,
) -> tuple[np.ndarray, np.ndarray]:
    """Hours flagged by a window of consecutive hours: (sign per hour, mean z the window needed).

    For each ``k`` in ``hours`` (detect's ``WINDOW_HOURS`` by default), a window whose
    clipped residuals sum to at least ``threshold * sqrt(k) * scale`` (scale: the series'
    window scale at the window's first hour) flags its hours that deviate in the window's
    direction by at least ``WINDOW_MIN_SHARE`` of the window's per-hour limit. ``z``:
    standardised residuals with 0 where a point must not count (DST hours, missing values).
    """
    zc = np.clip(z, -WINDOW_CLIP, WINDOW_CLIP)
    sign = np.zeros(len(z), dtype=int)
    need = np.full(len(z), np.inf)
    for k in hours:
        if len(zc) < k:
            continue
        sums = np.convolve(zc, np.ones(k), "valid")
        limit = threshold * np.sqrt(k) * scales[k][: len(sums)]
        for i in np.flatnonzero(np.abs(sums) >= limit):
            sg = 1 if sums[i] > 0 else -1
            per_hour = limit[i] / k
            for j in range(i, i + k):
                if sg * z[j] >= WINDOW_MIN_SHARE * per_hour and sign[j] != -sg:
                    sign[j] = sg
                    need[j] = min(need[j], per_hour)
    return sign, need


def _window_excess(
    band_arrays: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    points: dict[str, np.ndarray],
    level: float,
    usable: np.ndarray,
    threshold: float,
    hours: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Per hour: excess beyond the window's per-hour limit, and the window's sign (0: none).
    ``band_arrays``: actual, expected, lo, hi; ``points`` holds the window scales."""
    actual, expected, lo, hi = band_arrays
    z = np.where(usable, np.nan_to_num(_standardized(*band_arrays, level)), 0.0)
    scales = {
        k: np.where(np.isnan(points[f"wscale_{k}"]), WINDOW_DEFAULT_SCALE, points[f"wscale_{k}"])
        if f"wscale_{k}" in points
        else np.full(len(actual), WINDOW_DEFAULT_SCALE)
        for k in hours
    }
    sign, need = window_test(z, scales, threshold, hours)
    sign = np.where(usable, sign, 0)
    if not sign.any():
        return np.zeros(len(actual)), sign
    q = NormalDist().inv_cdf(0.5 + level / 2)
    log_exp = np.log1p(np.maximum(expected, 0.0))
    side = np.where(sign > 0, hi, lo)
    sd = np.abs(np.log1p(np.maximum(side, 0.0)) - log_exp) / q
    with np.errstate(invalid="ignore"):
        edge = np.expm1(log_exp + sign * np.where(np.isfinite(need), need, 0.0) * sd)
        beyond = np.maximum(sign * (actual - edge), 0.0)
    return np.where(sign != 0, np.nan_to_num(beyond), 0.0), sign
