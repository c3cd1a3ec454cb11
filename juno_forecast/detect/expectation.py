"""The rolling expectation: for each day, a model fitted only on the days before it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..compat import epoch_ns
from ..errors import InputError, JunoError, SeriesError
from ..grain import HOUR_NS
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


def _predict_block(model: Any, index: Callable, t: np.ndarray) -> dict[str, np.ndarray]:
    """The band columns at ``t`` (``index()``: those timestamps) as arrays, and ``wscale_<k>``
    for each window length ``k`` of a model that calibrates the window test (its fitted
    ``window_scale_``, see :class:`~juno_forecast.models.baseline.RobustBaseline`). A model
    with ``predict_ranges_arrays`` is asked on arrays, without a frame."""
    ranges = getattr(model, "predict_ranges", None) if get_tags(model).predicts_ranges else None
    on_arrays = getattr(model, "predict_ranges_arrays", None) if ranges else None
    if on_arrays is not None:
        cols = dict(zip(BAND_COLUMNS, on_arrays(None, t), strict=True))
    else:
        index = index()
        pred = (ranges or model.predict)(index)
        if not pred.index.equals(index):
            pred = pred.reindex(index)
        band = pred if list(pred.columns) == BAND_COLUMNS else pred[BAND_COLUMNS]
        cols = dict(zip(BAND_COLUMNS, band.to_numpy().T, strict=True))
    for k, scale in getattr(model, "window_scale_", {}).items():
        cols[f"wscale_{k}"] = np.full(len(t), scale)
    return cols


def _stack_arrays(
    values: np.ndarray, blocks: list[tuple[int, int, dict]], index: Callable
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The rows of the blocks (positions in the series) and ``actual`` with each block's
    columns there, as arrays: no frame per block (a frame per block and a column
    inserted per window scale cost detection more pandas time than the baseline's fits).
    Blocks of a model whose outputs differ are aligned as ``pd.concat`` aligns them, on
    ``index()`` (the series' timestamps)."""
    pos = np.concatenate([np.arange(lo, hi) for lo, hi, _ in blocks])
    names, actual = list(blocks[0][2]), values[pos]
    if any(list(cols) != names for *_, cols in blocks):  # models with other outputs: align
        index = index()
        frames = [pd.DataFrame(cols, index=index[lo:hi]) for lo, hi, cols in blocks]
        out = pd.concat(frames)
        return pos, {"actual": actual, **{c: out[c].to_numpy() for c in out.columns}}
    cols = {c: np.concatenate([b[2][c] for b in blocks]) for c in names}
    return pos, {"actual": actual, **cols}


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


def _min_history(t: np.ndarray) -> int:
    step = int(t[1] - t[0]) if len(t) > 1 else HOUR_NS
    return int(pd.Timedelta(weeks=MIN_HISTORY_WEEKS) / pd.Timedelta(step, "ns")) + 2


def _fits(
    make: Callable[[], Any], values: np.ndarray, t: np.ndarray, ends: list[int], y: Callable
) -> Iterator[Any]:
    """A fitted model per history length in ``ends`` (the first ``n`` values), lazily:
    through the model's ``fit_rolling`` when it has one (the robust baseline shares the
    calibration work of consecutive days), else a fresh model fitted on each history
    (``y()``: the series as a ``pd.Series``, built only then)."""
    model = make()
    rolling = getattr(model, "fit_rolling", None)
    if rolling is not None:
        yield from rolling(values, t, ends)
        return
    series = y()
    for i, n in enumerate(ends):
        yield (model if i == 0 else make()).fit(series.iloc[:n])


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
    day has enough is a :class:`SeriesError`. :func:`rolling_arrays` on a ``pd.Series``.
    """
    if not y.index.is_monotonic_increasing:
        y = y.sort_index()
    values, t = y.to_numpy(dtype=float), epoch_ns(y.index)
    pos, cols = rolling_arrays(values, t, start, end, make, lambda: y, refit, series)
    if not len(pos):
        return pd.DataFrame(
            columns=["actual", *BAND_COLUMNS], index=pd.DatetimeIndex([], name="ds")
        )
    whole = pos[-1] - pos[0] + 1 == len(pos)  # one run: a slice keeps the freq
    index = pd.DatetimeIndex(y.index[pos[0] : pos[-1] + 1] if whole else y.index[pos], name="ds")
    return pd.DataFrame(cols, index)


def rolling_arrays(
    values: np.ndarray,
    t: np.ndarray,
    start: pd.Timestamp,
    end: pd.Timestamp,
    make: Callable[[], Any],
    y: Callable[[], pd.Series],
    refit: str = "1D",
    series: str = "series",
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`rolling_expectation` on a sorted series' arrays (``values``, NaN where missing,
    at int64 ns wall-clock stamps ``t``): the positions of the rows that got an expectation
    and ``actual`` with the model's columns there, as arrays (none: empty positions).
    ``y()`` gives the series as a ``pd.Series``, only for a model without ``fit_rolling``
    or the array face."""
    need = _min_history(t)
    counted = np.r_[0, np.cumsum(~np.isnan(values))]  # values before each position
    last = t.searchsorted(_ns(end), "right")
    plan = []  # (first day, history length, rows lo:hi) per block with enough history
    for b0, b1 in day_blocks(start, end, refit):
        n = t.searchsorted(_ns(b0))  # the history: every timestamp before the block
        lo, hi = t.searchsorted(_ns(max(b0, start))), min(t.searchsorted(_ns(b1)), last)
        if hi > lo and counted[n] >= need:
            plan.append((b0, n, lo, hi))
    index = lambda: y().index  # noqa: E731
    fits = _fits(make, values, t, [n for _, n, _, _ in plan], y)
    blocks = []
    for b0, _, lo, hi in plan:
        try:
            at = lambda lo=lo, hi=hi: index()[lo:hi]  # noqa: E731
            blocks.append((lo, hi, _predict_block(next(fits), at, t[lo:hi])))
        except JunoError:
            raise
        except Exception as e:  # noqa: BLE001 - a model failing on one series: name it, go on
            raise SeriesError(series, f"cannot fit the expectation before {b0.date()}: {e}") from e
    if not blocks:
        if len(t) and t[0] <= _ns(end):
            first = pd.Timestamp(int(t[0]), unit="ns")
            step = pd.Timedelta(int(t[1] - t[0]) if len(t) > 1 else HOUR_NS, "ns")
            raise SeriesError(
                series,
                f"no day in the range has two weeks of history before it "
                f"(data start {first:%Y-%m-%d}; first day possible "
                f"{(first + need * step).ceil('D'):%Y-%m-%d})",
            )
        return np.zeros(0, dtype=np.int64), {}
    return _stack_arrays(values, blocks, index)


def _ns(ts: pd.Timestamp) -> int:
    """A wall-clock Timestamp as int64 nanoseconds since the epoch."""
    return int(pd.Timestamp(ts).as_unit("ns").value)
