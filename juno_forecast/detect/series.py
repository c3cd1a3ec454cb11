"""Detection on one series: expectation, flags, incidents and their explanation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..compat import epoch_ns
from ..core import GroupedSeries, regular_index, scope_occurrences, series_of
from ..data import SeriesProblem, series_label
from ..errors import SeriesError
from .expectation import BAND_COLUMNS, make_expectation, rolling_arrays
from .explain import explain_rows
from .flagging import flag_arrays, flag_points
from .incidents import incident_frame, incident_rows


class SeriesDetection:
    """What detection found for one series: the points with their band, and its incidents.

    ``points``: :func:`~.flagging.flag_points` output on the detection range. The
    incidents come as a table or as their ``rows`` (:func:`~.incidents.incident_rows`,
    explained): the table is then built on first use only, so a run over many series
    stacks its rows into one table at the end instead of a frame per series.
    """

    def __init__(
        self,
        metric: str,
        keys: dict[str, str],
        points: pd.DataFrame,
        incidents: pd.DataFrame | None,
        occurrences: pd.DataFrame,
        rows: list[dict] | None = None,
    ) -> None:
        self.metric, self.keys, self.points = metric, keys, points
        self.occurrences = occurrences
        self._incidents = incidents
        self.rows = rows if rows is not None else incidents.to_dict("records")

    @property
    def incidents(self) -> pd.DataFrame:
        """The incidents table: keys, ``INCIDENT_COLUMNS``, ``_flagged``."""
        if self._incidents is None:
            self._incidents = incident_frame(self.rows, self.keys)
        return self._incidents

    @property
    def label(self) -> str:
        """``metric=trips borough=Bronx``."""
        return series_label(self.metric, self.keys)


@dataclass
class DetectionResult:
    """All series of a detection run: the incidents table, per-series detail and failures."""

    incidents: pd.DataFrame
    series: dict[str, SeriesDetection]
    problems: list[str]
    level: float
    freq: str


def detect_series(
    y: pd.Series,
    metric: str,
    keys: dict[str, str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    cal: Any,
    *,
    level: float = 0.95,
    model: str = "baseline",
    freq: str = "h",
    agg: str = "sum",
    refit: str = "1D",
    min_points: int | None = None,
    max_gap: int = 1,
    seed: int = 0,
    range_hours: int | None = None,
    window_points: int | None = None,
) -> SeriesDetection:
    """Detection on one series: rolling expectation, flags, incidents, explanation.

    ``range_hours``, ``window_points``: the release check's finer test inside its one
    range (see :func:`.check.release_sensitivity`); None for detect's scan. The pandas
    face of :func:`detect_arrays`.
    """
    if not y.index.is_monotonic_increasing:
        y = y.sort_index()
    return detect_arrays(
        y.to_numpy(dtype=float), epoch_ns(y.index), metric, keys, start, end, cal,
        level=level, model=model, freq=freq, agg=agg, refit=refit, min_points=min_points,
        max_gap=max_gap, seed=seed, range_hours=range_hours, window_points=window_points,
        series=lambda: y,
    )  # fmt: skip


def detect_arrays(
    values: np.ndarray,
    stamps: np.ndarray,
    metric: str,
    keys: dict[str, str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    cal: Any,
    *,
    level: float = 0.95,
    model: str = "baseline",
    freq: str = "h",
    agg: str = "sum",
    refit: str = "1D",
    min_points: int | None = None,
    max_gap: int = 1,
    seed: int = 0,
    range_hours: int | None = None,
    window_points: int | None = None,
    unit: str = "ns",
    series: Callable[[], pd.Series] | None = None,
    history: pd.Series | Callable[[], pd.Series] | None = None,
) -> SeriesDetection:
    """:func:`detect_series` on a sorted series' arrays: ``values`` (NaN where missing) at
    int64 ns wall-clock ``stamps`` on the grid of ``freq`` (a slice of
    :class:`~juno_forecast.core.GroupedSeries`); the many-series loops' entry.

    The work is on arrays and positions; frames are built only for the outputs (the
    flagged points and the incidents). ``series()`` gives the series as a ``pd.Series``
    where one is needed (a model without an array face, the history an incident is
    explained against): by default built from the arrays, only then.
    """
    label = series_label(metric, keys)
    values = np.asarray(values, dtype=float)
    y = series or memo_call(lambda: series_of(values, stamps, freq, unit, label))
    make = lambda: make_expectation(model, freq, metric, keys, seed)  # noqa: E731
    pos, cols = rolling_arrays(values, stamps, start, end, make, y, refit=refit, series=label)
    t = stamps[pos]
    flagged = flag_arrays(cols, t, level, freq, agg, range_hours=range_hours) if len(pos) else {}
    index = _points_index(stamps, pos, freq, unit, series)
    if min_points is None:
        min_points = 3 if freq == "h" else 1
    rows, at, runs = [], [], []
    if flagged:
        found = incident_rows(flagged, index, metric, keys, min_points, max_gap, window_points)
        rows, at, runs = found
    if freq == "h" and rows:  # a lone zero hour: how the loader fills one absent hour
        keep = [not _filled_gap(flagged, i0, i1) for i0, i1 in runs]
        rows = [r for r, k in zip(rows, keep, strict=True) if k]
        at = [a for a, k in zip(at, keep, strict=True) if k]
    occ = scope_occurrences(cal, start, end, metric, keys)  # one table per scope
    past = y if history is None else history
    explain_rows(rows, at, occ, keys, freq, index, flagged, history=past, calendar=cal, level=level)
    points = pd.DataFrame(flagged, index=index) if flagged else _no_points(index)
    return SeriesDetection(metric, keys, points, None, occ, rows)


def memo_call(make: Callable[[], Any]) -> Callable[[], Any]:
    """``make`` called at most once: later calls return its first result."""
    done: list[Any] = []
    return lambda: done[0] if done else done.append(make()) or done[0]


def _filled_gap(flagged: dict[str, np.ndarray], i0: int, i1: int) -> bool:
    """:func:`.incidents.is_filled_gap` of the run of positions ``i0..i1``."""
    return i0 == i1 and flagged["actual"][i0] == 0 and flagged["direction"][i0] == "below"


def _points_index(
    stamps: np.ndarray, pos: np.ndarray, freq: str, unit: str, series: Callable | None
) -> pd.DatetimeIndex:
    """The timestamps at positions ``pos``, named ``ds``: the given series' own (its freq
    as it has it), else a regular index (a slice of one run keeps the freq)."""
    if not len(pos):
        return pd.DatetimeIndex([], name="ds")
    whole = pos[-1] - pos[0] + 1 == len(pos)
    if series is not None:
        idx = series().index
        return pd.DatetimeIndex(idx[pos[0] : pos[-1] + 1] if whole else idx[pos], name="ds")
    if whole:
        return regular_index(stamps[pos[0] : pos[-1] + 1], freq, unit)
    ns = pd.DatetimeIndex(stamps[pos].view("datetime64[ns]"), name="ds")
    return ns.as_unit(unit)


def _no_points(index: pd.DatetimeIndex) -> pd.DataFrame:
    """The flagged points of a series with none in the range."""
    return flag_points(pd.DataFrame(columns=["actual", *BAND_COLUMNS], index=index), freq="D")


def detect_each(
    ds: Any, start: pd.Timestamp, end: pd.Timestamp, cal: Any, **options: Any
) -> Iterator[SeriesDetection | SeriesProblem]:
    """:func:`detect_series` over every series of a Dataset, in order.

    Yields each series' result, or a :class:`~juno_forecast.data.SeriesProblem` for a
    series that could not be judged (the others go on). ``options`` are
    :func:`detect_series`'s keywords; ``freq`` comes from the Dataset.
    """
    groups = GroupedSeries.from_frame(ds.frame, ds.keys, ds.freq)
    for i in range(len(groups)):
        metric, keys = groups.metrics[i], dict(groups.keys[i])
        a, b = groups.positions(i)
        values, stamps = groups.values[a:b], groups.stamps[a:b]
        try:
            yield detect_arrays(
                values, stamps, metric, keys, start, end, cal,
                freq=ds.freq, unit=groups.unit, **options,
            )  # fmt: skip
        except SeriesError as err:
            yield SeriesProblem(err.series, str(err).removeprefix(f"{err.series}: "))
