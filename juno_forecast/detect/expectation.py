"""The rolling expectation: for each day, a model fitted only on the days before it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, JunoError, SeriesError
from ..models import make_model
from ..models.base import get_tags

BAND_COLUMNS = ["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]


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


def _predict_frame(model: Any, index: pd.DatetimeIndex) -> pd.DataFrame:
    """The band columns on ``index``, and ``wscale_<k>`` for each window length ``k`` of a
    model that calibrates the window test (its fitted ``window_scale_``, see
    :class:`~juno_forecast.models.baseline.RobustBaseline`)."""
    ranges = getattr(model, "predict_ranges", None) if get_tags(model).predicts_ranges else None
    pred = (ranges or model.predict)(index)
    if not pred.index.equals(index):
        pred = pred.reindex(index)
    # one frame from arrays: inserting each window scale as a column cost more than the fit
    cols = {c: pred[c].to_numpy(copy=True) for c in BAND_COLUMNS}
    for k, scale in getattr(model, "window_scale_", {}).items():
        cols[f"wscale_{k}"] = np.full(len(index), scale)
    return pd.DataFrame(cols, index=index)


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
    frames, need = [], _min_history(y)
    for b0, b1 in day_blocks(start, end, refit):
        idx = y.index[(y.index >= max(b0, start)) & (y.index < b1) & (y.index <= end)]
        hist = y[y.index < b0]
        if not len(idx) or hist.notna().sum() < need:
            continue
        try:
            model = make().fit(hist)
            frames.append(_predict_frame(model, idx))
        except JunoError:
            raise
        except Exception as e:  # noqa: BLE001 - a model failing on one series: name it, go on
            raise SeriesError(series, f"cannot fit the expectation before {b0.date()}: {e}") from e
    if not frames:
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
    out = pd.concat(frames)
    out.insert(0, "actual", y.reindex(out.index).to_numpy(dtype=float))
    out.index.name = "ds"
    return out
