"""``expect``: the expected ranges of a coming period, with the calendar events in it.

What a developer looks at before a release. It forecasts *with* the calendar (a coming
holiday lowers the expectation); ``model="baseline"`` gives the normal-day range.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .compat import epoch_ns
from .core import GroupedSeries, memo, scope_occurrences, stack_arrays
from .detect.expectation import expected_arrays, make_expectation
from .errors import InputError, SeriesError
from .features import build_features
from .inputs import check_model, parse_range, resolve_calendar, resolve_dataset


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
    index = pd.date_range(s, e, freq=ds.freq, name="ds")
    index = index[index >= s]
    ahead = epoch_ns(index)
    groups = GroupedSeries.from_frame(ds.frame, ds.keys, ds.freq)
    columns: dict[str, list[np.ndarray]] = {}
    fronts, problems = [], [str(p) for p in ds.problems]
    for i in range(len(groups)):  # arrays and positions: no frame per series
        metric, keys = groups.metrics[i], dict(groups.keys[i])
        a, b = groups.positions(i)
        c = a + int(np.searchsorted(groups.stamps[a:b], s.value))  # the history: before start
        try:
            f = make_expectation(model, ds.freq, metric, keys, seed, calendar=cal)
            out = expected_arrays(f, groups.values[a:c], groups.stamps[a:c], ahead)
            if "events" not in out:  # a normal-day range: the events in it named all the same
                out["events"] = _events_on(cal, index, metric, keys, ds.freq)
        except SeriesError as err:
            problems.append(str(err))
            continue
        except ValueError as err:
            problems.append(f"{groups.labels[i]}: {err}")
            continue
        for col, value in {"ds": index.to_numpy(), **out}.items():
            columns.setdefault(col, []).append(value)
        fronts.append({**{k: keys[k] for k in ds.keys}, "metric": metric})
    if not fronts:
        raise InputError(f"no series could be forecast: {problems[0] if problems else 'no data'}")
    out = stack_arrays(columns, fronts, [len(index)] * len(fronts))  # one frame, built once
    out.attrs["problems"] = problems
    return out


def _events_on(
    cal: Any, index: pd.DatetimeIndex, metric: str, keys: dict[str, str], freq: str
) -> np.ndarray:
    """';'-joined names of the in-scope events active at each timestamp (the features' rule).

    The same for every series of a scope (:func:`.core.scope_occurrences`): computed once.
    """
    if not len(index):
        return np.zeros(0, dtype=object)
    occ = scope_occurrences(cal, index[0], index[-1], metric, keys)

    def names_on() -> np.ndarray:
        X = build_features(occ, index, freq).X
        names = np.asarray(X.columns, dtype=object)
        on = [";".join(names[row]) for row in X.to_numpy() > 0]
        out = np.array(on, dtype=object)
        out.setflags(write=False)  # shared by the scope's series
        return out

    return memo(occ, ("events_on", freq, index[0], len(index)), names_on)
