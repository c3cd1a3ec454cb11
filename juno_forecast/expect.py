"""``expect``: the expected ranges of a coming period, with the calendar events in it.

What a developer looks at before a release. It forecasts *with* the calendar (a coming
holiday lowers the expectation); ``model="baseline"`` gives the normal-day range.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .core import memo, scope_occurrences
from .data import series_label
from .detect.expectation import make_expectation
from .errors import InputError, SeriesError
from .features import build_features
from .forecast import with_keys
from .inputs import check_model, parse_range, resolve_calendar, resolve_dataset
from .models.base import get_tags


def expect(
    data: Any,
    start: Any,
    end: Any,
    model: str = "auto",
    calendar: Any = None,
    weather: Any = None,
    seed: int = 0,
    weather_forecast: Any = None,
    **data_kwargs: Any,
) -> pd.DataFrame:
    """Expected ranges for a coming period, with the calendar events in it.

    Fitted on the history before ``start`` *with* the calendar (so a coming holiday or
    storm lowers the expectation); columns: keys, ``metric, ds, yhat, lo_80, hi_80,
    lo_95, hi_95, events``. ``model="baseline"`` gives the normal-day range instead.
    """
    s, e = parse_range(start, end)
    model = check_model(model)
    ds = resolve_dataset(data, **data_kwargs)
    cal = resolve_calendar(calendar, weather, weather_forecast)
    rows, problems = [], [str(p) for p in ds.problems]
    for metric, keys, y in ds.series():
        label = series_label(metric, keys)
        index = pd.date_range(s, e, freq=ds.freq, name="ds")
        index = index[index >= s]
        try:
            hist = y[y.index < s]
            f = make_expectation(model, ds.freq, metric, keys, seed, calendar=cal).fit(hist)
            if get_tags(f).predicts_ranges:  # its own normal-day ranges, with the events named
                pred = f.predict_ranges(index)
                pred["events"] = _events_on(cal, index, metric, keys, ds.freq)
            else:
                pred = f.predict(index)
        except SeriesError as err:
            problems.append(str(err))
            continue
        except ValueError as err:
            problems.append(f"{label}: {err}")
            continue
        pred = pred.reset_index(names="ds")
        pred = with_keys(pred, ds.keys, keys, metric)
        rows.append(pred)
    if not rows:
        raise InputError(f"no series could be forecast: {problems[0] if problems else 'no data'}")
    out = pd.concat(rows, ignore_index=True)
    out.attrs["problems"] = problems
    return out


def _events_on(
    cal: Any, index: pd.DatetimeIndex, metric: str, keys: dict[str, str], freq: str
) -> list[str]:
    """';'-joined names of the in-scope events active at each timestamp (the features' rule).

    The same for every series of a scope (:func:`.core.scope_occurrences`): computed once.
    """
    if not len(index):
        return []
    occ = scope_occurrences(cal, index[0], index[-1], metric, keys)

    def names_on() -> list[str]:
        X = build_features(occ, index, freq).X
        names = np.asarray(X.columns, dtype=object)
        return [";".join(names[row]) for row in X.to_numpy() > 0]

    return list(memo(occ, ("events_on", freq, index[0], len(index)), names_on))
