"""The rolling expectation: for each day, a model fitted only on the days before it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..compat import epoch_ns
from ..errors import InputError, JunoError, SeriesError
from ..models import make_model
from ..models.base import get_tags
from ..models.baseline import RANGE_COLUMNS

BAND_COLUMNS = list(RANGE_COLUMNS)  # the band a normal-day expectation gives


def make_expectation(
    model: str,
    freq: str,
    metric: str,
    keys: dict[str, str],
    seed: int = 0,
    calendar: Any = "none",
) -> Any:
    """A fresh, unfitted expectation model: a model that calibrates its own ranges (tag
    ``predicts_ranges``: the robust ``baseline``) as it is, any other in a SeriesForecaster."""
    own = make_model(model, freq=freq, seed=seed)
    if get_tags(own).predicts_ranges:
        return own
    from ..forecast import SeriesForecaster

    # calendar="none": no events (detection's normal-day expectation)
    return SeriesForecaster(
        model=model, calendar=calendar, metric=metric, keys=keys, freq=freq, seed=seed
    )


def expected_arrays(
    model: Any, values: np.ndarray, stamps: np.ndarray, ahead: np.ndarray
) -> dict[str, np.ndarray]:
    """Fit a :func:`make_expectation` model on a history's arrays (``values``, NaN where
    missing, at int64 ns ``stamps``) and predict at ``ahead`` (int64 ns), on arrays.

    A model that calibrates its own ranges gives its band columns
    (``yhat, lo_80, hi_80, lo_95, hi_95``); a SeriesForecaster its output columns,
    ``events`` included. What ``fit(y)`` and ``predict_ranges``/``predict`` on a frame
    give, without one.
    """
    if get_tags(model).predicts_ranges:
        model.fit_arrays(values, None, stamps)
        on_arrays = getattr(model, "predict_ranges_arrays", None)
        if on_arrays is None:  # a range model without the array face: its pandas one
            index = pd.DatetimeIndex(np.asarray(ahead, dtype=np.int64).view("datetime64[ns]"))
            band = model.predict_ranges(index)[BAND_COLUMNS].to_numpy().T
        else:
            band = on_arrays(None, ahead)
        return dict(zip(BAND_COLUMNS, band, strict=True))
    from ..forecast import OUTPUT_COLUMNS

    out = model.fit_arrays(values, stamps).predict_arrays(ahead)
    return {c: out[c] for c in OUTPUT_COLUMNS}


def _predict_block(model: Any, index: pd.DatetimeIndex, t: np.ndarray) -> dict[str, np.ndarray]:
    """The band columns on ``index`` (``t``: its nanoseconds) as arrays, and ``wscale_<k>``
    for each window length ``k`` of a model that calibrates the window test (its fitted
    ``window_scale_``, see :class:`~juno_forecast.models.baseline.RobustBaseline`). A model
    with ``predict_ranges_arrays`` is asked on arrays, without a frame."""
    ranges = getattr(model, "predict_ranges", None) if get_tags(model).predicts_ranges else None
    on_arrays = getattr(model, "predict_ranges_arrays", None) if ranges else None
    if on_arrays is not None:
        cols = dict(zip(BAND_COLUMNS, on_arrays(None, t), strict=True))
    else:
        pred = (ranges or model.predict)(index)
        if not pred.index.equals(index):
            pred = pred.reindex(index)
        band = pred if list(pred.columns) == BAND_COLUMNS else pred[BAND_COLUMNS]
        cols = dict(zip(BAND_COLUMNS, band.to_numpy().T, strict=True))
    for k, scale in getattr(model, "window_scale_", {}).items():
        cols[f"wscale_{k}"] = np.full(len(index), scale)
    return cols


def _stack_blocks(y: pd.Series, blocks: list[tuple[int, int, dict]]) -> pd.DataFrame:
    """``actual`` and each block's columns on its rows ``lo:hi`` of ``y``, as one frame.

    Built once from arrays: a frame per block (and a column inserted per window scale)
    cost detection more pandas time than the baseline's fits.
    """
    pos = np.concatenate([np.arange(lo, hi) for lo, hi, _ in blocks])
    whole = len(pos) and pos[-1] - pos[0] + 1 == len(pos)  # one run: a slice keeps the freq
    index = pd.DatetimeIndex(y.index[pos[0] : pos[-1] + 1] if whole else y.index[pos], name="ds")
    names, actual = list(blocks[0][2]), y.to_numpy(dtype=float)[pos]
    if any(list(cols) != names for *_, cols in blocks):  # models with other outputs: align
        frames = [pd.DataFrame(cols, index=y.index[lo:hi]) for lo, hi, cols in blocks]
        out = pd.concat(frames).set_axis(index)
        out.insert(0, "actual", actual)
        return out
    cols = {c: np.concatenate([b[2][c] for b in blocks]) for c in names}
    return pd.DataFrame({"actual": actual, **cols}, index)


def day_blocks(
    start: pd.Timestamp, end: pd.Timestamp, refit: str | pd.Timedelta = "1D"
) -> Iterator[tuple[pd.Timestamp, pd.Timestamp]]:
    """Consecutive [block_start, block_end) spans, each starting at midnight, covering start..end."""
    step = pd.Timedelta(refit)
    if step < pd.Timedelta(days=1) or step % pd.Timedelta(days=1):
        raise InputError(f"refit: expected a whole number of days, got {refit!r}")
    b = start.normalize()
    while b <= end:
        yield b, b + step
        b = b + step


#: history a day needs before it gets an expectation: two weeks (the weekly cycle twice)
MIN_HISTORY_WEEKS = 2


def _min_history(y: pd.Series) -> int:
    step = (y.index[1] - y.index[0]) if len(y) > 1 else pd.Timedelta(hours=1)
    return int(pd.Timedelta(weeks=MIN_HISTORY_WEEKS) / step) + 2


def _fits(make: Callable[[], Any], y: pd.Series, t: np.ndarray, ends: list[int]) -> Iterator[Any]:
    """A fitted model per history length in ``ends`` (``y.iloc[:n]``), lazily: through the
    model's ``fit_rolling`` when it has one (the robust baseline shares the calibration
    work of consecutive days), else a fresh model fitted on each history."""
    model = make()
    rolling = getattr(model, "fit_rolling", None)
    if rolling is not None:
        yield from rolling(y.to_numpy(dtype=float), t, ends)
        return
    for i, n in enumerate(ends):
        yield (model if i == 0 else make()).fit(y.iloc[:n])


def rolling_expectation(
    y: pd.Series,
    start: pd.Timestamp,
    end: pd.Timestamp,
    make: Callable[[], Any],
    refit: str = "1D",
    series: str = "series",
) -> pd.DataFrame:
    """Expectation for each timestamp of ``y`` in [start, end] from the history before its day.

    One model is fitted per block of ``refit`` days, on the data strictly before the
    block's first midnight, and predicts the whole block: no timestamp's expectation
    ever sees its own day or any later one. Days with less than two weeks of history
    before them get no expectation (they are left out, not guessed); a series where no
    day has enough is a :class:`SeriesError`.
    """
    if not y.index.is_monotonic_increasing:
        y = y.sort_index()
    need, stamps = _min_history(y), y.index
    counted = np.r_[0, np.cumsum(y.notna().to_numpy())]  # values before each position
    last = stamps.searchsorted(end, "right")
    plan = []  # (first day, history length, rows lo:hi) per block with enough history
    for b0, b1 in day_blocks(start, end, refit):
        n = stamps.searchsorted(b0)  # the history: every timestamp before the block
        lo, hi = stamps.searchsorted(max(b0, start)), min(stamps.searchsorted(b1), last)
        if hi > lo and counted[n] >= need:
            plan.append((b0, n, lo, hi))
    t = epoch_ns(stamps)
    fits = _fits(make, y, t, [n for _, n, _, _ in plan])
    blocks = []
    for b0, _, lo, hi in plan:
        try:
            blocks.append((lo, hi, _predict_block(next(fits), stamps[lo:hi], t[lo:hi])))
        except JunoError:
            raise
        except Exception as e:  # noqa: BLE001 - a model failing on one series: name it, go on
            raise SeriesError(series, f"cannot fit the expectation before {b0.date()}: {e}") from e
    if not blocks:
        if len(y) and y.index[y.index <= end].size and y.index[0] <= end:
            first = (y.index[0] + need * (y.index[1] - y.index[0])).ceil("D")
            raise SeriesError(
                series,
                f"no day in the range has two weeks of history before it "
                f"(data start {y.index[0]:%Y-%m-%d}; first day possible {first:%Y-%m-%d})",
            )
        return pd.DataFrame(
            columns=["actual", *BAND_COLUMNS], index=pd.DatetimeIndex([], name="ds")
        )
    return _stack_blocks(y, blocks)
