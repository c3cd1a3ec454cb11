"""Detection on one series: expectation, flags, incidents and their explanation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..core import scope_occurrences
from ..data import SeriesProblem, series_label
from ..errors import SeriesError
from .expectation import make_expectation, rolling_expectation
from .explain import explain
from .flagging import flag_points
from .incidents import build_incidents, is_filled_gap


@dataclass
class SeriesDetection:
    """What detection found for one series: the points with their band, and its incidents."""

    metric: str
    keys: dict[str, str]
    points: pd.DataFrame  # flag_points() output on the detection range
    incidents: pd.DataFrame
    occurrences: pd.DataFrame

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
    range (see :func:`.check.release_sensitivity`); None for detect's scan.
    """
    label = series_label(metric, keys)
    make = lambda: make_expectation(model, freq, metric, keys, seed)  # noqa: E731
    points = rolling_expectation(y, start, end, make, refit=refit, series=label)
    flagged = flag_points(points, level, freq, agg, range_hours=range_hours)
    if min_points is None:
        min_points = 3 if freq == "h" else 1
    inc = build_incidents(flagged, metric, keys, min_points, max_gap, window_points)
    if freq == "h" and not inc.empty:
        keep = [not is_filled_gap(flagged.loc[r["start"] : r["end"]]) for _, r in inc.iterrows()]
        inc = inc[keep].reset_index(drop=True)
    occ = scope_occurrences(cal, start, end, metric, keys)  # one table per scope
    inc = explain(inc, occ, keys, freq, flagged, history=y, calendar=cal, level=level)
    return SeriesDetection(metric, keys, flagged, inc, occ)


def detect_each(
    ds: Any, start: pd.Timestamp, end: pd.Timestamp, cal: Any, **options: Any
) -> Iterator[SeriesDetection | SeriesProblem]:
    """:func:`detect_series` over every series of a Dataset, in order.

    Yields each series' result, or a :class:`~juno_forecast.data.SeriesProblem` for a
    series that could not be judged (the others go on). ``options`` are
    :func:`detect_series`'s keywords; ``freq`` comes from the Dataset.
    """
    for metric, keys, y in ds.series():
        try:
            yield detect_series(y, metric, keys, start, end, cal, freq=ds.freq, **options)
        except SeriesError as err:
            yield SeriesProblem(err.series, str(err).removeprefix(f"{err.series}: "))
