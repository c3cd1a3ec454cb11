"""The many-series core: series held as grouped arrays, calendar features shared per scope.

Costs used to be paid once per series before any model ran (issue 16's
profile: about 30 ms of pandas per series):

* **Loading.** :func:`regular_rows` finds, for all series at once, those already
  on a regular grid with clean values; only the others go through the loader's
  per-series checks and repairs (:mod:`juno_forecast.data`).
* **Splitting the data.** :class:`GroupedSeries` splits a tidy frame (a
  :class:`~juno_forecast.data.Dataset`) into series once, with vectorised numpy:
  one float array of every value, one int64 array of every timestamp (ns), an
  index pointer ``indptr`` (series ``i`` is rows ``indptr[i]:indptr[i + 1]``,
  statsforecast's ``GroupedArray`` layout) and the series' metric and keys.
  A series is then a slice: :meth:`GroupedSeries.values_of` and
  :meth:`GroupedSeries.positions` hand out arrays and positions; only
  :meth:`GroupedSeries.series` builds the ``pd.Series`` a model is fitted on,
  with its regular index made by ``date_range`` (no per-series groupby, no
  frequency validation of a known regular grid).
* **Calendar features.** The features of a series depend on the calendar, the
  timestamps, the grain, the metric, and only those key values the calendar
  names as zones (an event with ``zones: [Manhattan]``, or a ``by_zone`` entry).
  :func:`scope_features` computes them once per such *scope* and hands the same
  :class:`~juno_forecast.features.CalendarFeatures` to every series in it: 1,000
  zones that no event names share one design matrix. Callers must not write
  into the shared features (nothing in the package does). :func:`memo` keeps what
  backtest folds derive from them (learnable columns, prior multipliers) per scope.
  :func:`scope_occurrences` looks a scope's occurrences up once for detection,
  ``expect`` and ``impact``, which derive their own tables from them through :func:`memo`.
* **Output.** :func:`stack_series` builds one tidy table from every series' rows.

:func:`release_memory` hands the loader's freed memory back before the nightly
forks its workers. Local and Dask workers each keep their own caches; results do
not depend on which series a worker saw first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .compat import epoch_ns
from .grain import STEP_NS

#: how many scopes' features a process keeps (a forecast over many grids evicts the oldest)
SCOPE_CACHE_SIZE = 64


@dataclass(frozen=True)
class GroupedSeries:
    """Many series on regular grids as flat arrays; series ``i`` is rows ``indptr[i]:indptr[i+1]``."""

    values: np.ndarray  # float64, every series' values one after another
    stamps: np.ndarray  # int64 ns since epoch, aligned with values
    indptr: np.ndarray  # int64, len(series) + 1
    metrics: tuple[str, ...]
    keys: tuple[dict[str, str], ...]
    labels: tuple[str, ...]
    freq: str
    unit: str = "ns"

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, keys: tuple[str, ...], freq: str) -> GroupedSeries:
        """Split a tidy ``[*keys, metric, ds, y]`` frame (each series on a regular grid) once.

        Series come in the order of ``Dataset.series()`` (sorted by keys, then metric);
        rows within a series by time.
        """
        from .data import series_label

        cols = [*keys, "metric"]
        if frame.empty:
            return cls(np.zeros(0), np.zeros(0, np.int64), np.zeros(1, np.int64), (), (), (), freq)
        order = frame.sort_values([*cols, "ds"], kind="stable")
        codes = order.groupby(cols, sort=True, observed=True).ngroup().to_numpy()
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        indptr = np.r_[starts, len(order)].astype(np.int64)
        heads = order.iloc[starts][cols].to_dict("records")
        metrics = tuple(h.pop("metric") for h in heads)
        stamps = pd.DatetimeIndex(order["ds"])
        return cls(
            values=order["y"].to_numpy(dtype=float, copy=True),
            stamps=epoch_ns(stamps),
            indptr=indptr,
            metrics=metrics,
            keys=tuple(heads),
            labels=tuple(series_label(m, k) for m, k in zip(metrics, heads, strict=True)),
            freq=freq,
            unit=str(np.datetime_data(stamps.dtype)[0]),
        )

    def positions(self, i: int) -> tuple[int, int]:
        """Rows ``(start, stop)`` of series ``i`` in the flat arrays."""
        return int(self.indptr[i]), int(self.indptr[i + 1])

    def values_of(self, i: int) -> np.ndarray:
        """The values of series ``i`` (a view: do not write into it)."""
        a, b = self.positions(i)
        return self.values[a:b]

    def index(self, i: int) -> pd.DatetimeIndex:
        """The regular index of series ``i``, named ``ds``, with its frequency."""
        a, b = self.positions(i)
        return regular_index(self.stamps[a:b], self.freq, self.unit)

    def series(self, i: int) -> pd.Series:
        """Series ``i`` as the ``pd.Series`` models take (its own copy of the values)."""
        a, b = self.positions(i)
        return series_of(self.values[a:b], self.stamps[a:b], self.freq, self.unit, self.labels[i])

    def __iter__(self) -> Iterator[tuple[str, dict[str, str], pd.Series]]:
        """``(metric, keys, y)`` per series, as :meth:`~juno_forecast.data.Dataset.series`."""
        for i in range(len(self)):
            yield self.metrics[i], dict(self.keys[i]), self.series(i)

    def is_regular(self) -> bool:
        """Whether every series steps by exactly one grain (what :meth:`index` assumes)."""
        steps = np.diff(self.stamps)
        inside = np.ones(len(steps), bool)
        inside[self.indptr[1:-1] - 1] = False  # the step from one series to the next
        return bool((steps[inside] == STEP_NS[self.freq]).all())


def regular_index(stamps: np.ndarray, freq: str, unit: str = "ns") -> pd.DatetimeIndex:
    """int64 nanoseconds on a regular grid of ``freq`` as a DatetimeIndex named ``ds`` with
    its frequency, in ``unit`` (the data's resolution); irregular stamps raise ValueError."""
    if len(stamps) and (np.diff(stamps) == STEP_NS[freq]).all():  # built, not validated
        start = pd.Timestamp(int(stamps[0]), unit="ns")
        return pd.date_range(start, periods=len(stamps), freq=freq, name="ds", unit=unit)
    index = pd.DatetimeIndex(np.asarray(stamps).astype("datetime64[ns]"), name="ds")
    return pd.DatetimeIndex(index.as_unit(unit), freq=freq)  # raises when irregular


def series_of(
    values: np.ndarray, stamps: np.ndarray, freq: str, unit: str = "ns", name: Any = None
) -> pd.Series:
    """A series' arrays (values, int64 ns ``stamps`` on a regular grid) as the ``pd.Series``
    the pandas faces take, with its own copy of the values: built only where one is needed."""
    return pd.Series(
        np.array(values, dtype=float), index=regular_index(stamps, freq, unit), name=name
    )


def regular_rows(
    work: pd.DataFrame, cols: list[str], freq: str, counts: bool, need: int
) -> tuple[pd.DataFrame, np.ndarray]:
    """The series of ``work`` that are already regular, found for all series at once.

    A series is regular when its values are all numbers (``counts``: none negative),
    its timestamps are on the grain and exactly one step apart (no duplicate, no
    absent step, no DST repair) and it has at least ``need`` steps: what the
    per-series checks and repairs of :mod:`juno_forecast.data` would return
    unchanged. Returns those rows as ``[*cols, ds, y]`` sorted by series and time,
    and a mask of the rows of ``work`` left for the per-series path.
    """
    order = work.assign(_pos=np.arange(len(work))).sort_values([*cols, "ds"], kind="stable")
    codes = order.groupby(cols, sort=True, observed=True).ngroup().to_numpy()
    ns, y = epoch_ns(order["ds"]), order["y"].to_numpy(dtype=float)
    bad = order["_bad"].to_numpy(bool) | ~np.isfinite(y) | (ns % STEP_NS[freq] != 0)
    bad |= (y < 0) if counts else False
    new = np.r_[True, codes[1:] != codes[:-1]]  # first row of each series
    bad |= ~new & (np.diff(ns, prepend=ns[:1]) != STEP_NS[freq])
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    ok = (np.bincount(codes, weights=bad, minlength=n_groups) == 0) & (
        np.bincount(codes, minlength=n_groups) >= need
    )
    keep = ok[codes]
    left = np.zeros(len(work), bool)
    left[order["_pos"].to_numpy()[~keep]] = True
    ready = order.loc[keep, [*cols, "ds", "y"]]
    text = pd.Series(["key"]).dtype  # the dtype the per-series path's text columns get
    return ready.astype(dict.fromkeys(cols, text)), left


def in_series_order(frame: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """``frame``'s rows grouped by series, series sorted by ``cols``, rows kept in their order."""
    codes = frame.groupby(cols, sort=True, observed=True).ngroup().to_numpy()
    return frame.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)


def stack_series(outs: list[pd.DataFrame], fronts: list[dict[str, str]]) -> pd.DataFrame:
    """Per-series outputs (index ``ds``) as one tidy frame, each row led by its series' keys.

    ``fronts[i]`` holds the key columns and metric of ``outs[i]``, in column order. The
    frames are concatenated once and each key column is one repeated array, instead of
    columns inserted into every series' frame.
    """
    body = pd.concat(outs).rename_axis("ds").reset_index()
    sizes = [len(o) for o in outs]
    for i, col in enumerate(fronts[0]):
        body.insert(i, col, np.repeat([f[col] for f in fronts], sizes))
    return body


def stack_arrays(
    columns: dict[str, list[np.ndarray]], fronts: list[dict[str, str]], sizes: list[int]
) -> pd.DataFrame:
    """Per-series output arrays as one tidy frame, built once: each row led by its series' keys.

    ``columns`` maps each output column to one array per series (in the order of
    ``fronts``, which holds each series' key columns and metric); ``sizes`` the
    rows of each series. No frame per series is made.
    """
    body: dict[str, Any] = {col: np.repeat([f[col] for f in fronts], sizes) for col in fronts[0]}
    for col, parts in columns.items():
        body[col] = np.concatenate(parts) if parts else np.zeros(0)
    return pd.DataFrame(body)


def release_memory() -> None:
    """Hand memory freed after loading back to the operating system (before forking workers).

    Loading many series parses and regularises millions of rows; what is freed
    afterwards stays reserved by the allocators (pyarrow's pool for text columns,
    glibc's heap) unless asked. Worker processes forked from a bloated parent
    count it again: on 1,000 hourly series this took the nightly's resident total
    from about 2.3 GB down to well under 2 GB. Best effort: no-op where unsupported.
    """
    import contextlib
    import ctypes
    import gc
    import sys

    gc.collect()
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl): nothing to trim
            ctypes.CDLL("libc.so.6").malloc_trim(0)


# -- calendar features shared per scope -----------------------------------------------------
_SCOPES: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_ZONES: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()


def named_zones(
    calendar: Any, start: pd.Timestamp, end: pd.Timestamp, metric: str | None
) -> frozenset[str]:
    """Every zone name the occurrences of ``calendar`` in ``[start, end]`` scope by
    (their ``zones`` and their ``by_zone`` entries): the key values that change features."""
    from .features import series_occurrences

    def compute() -> frozenset[str]:
        occ = series_occurrences(calendar, start, end, metric=metric)
        names: set[str] = set()
        for zones, by_zone in zip(occ["zones"], occ["by_zone"], strict=True):
            names.update(str(z) for z in zones or ())
            names.update(str(z) for entry in by_zone or () for z in entry.zones)
        return frozenset(names)

    key = (id(calendar), pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), metric)
    return _cached(_ZONES, key, calendar, compute, SCOPE_CACHE_SIZE)


def _zone_scope(
    calendar: Any,
    start: pd.Timestamp,
    end: pd.Timestamp,
    metric: str | None,
    keys: dict[str, str] | None,
) -> frozenset[str] | None:
    """The key values of a series that the calendar names as zones (None: no keys, the
    whole city, a scope of its own): series with the same ones get the same events."""
    if not keys:
        return None
    return frozenset(str(v) for v in keys.values()) & named_zones(calendar, start, end, metric)


def scope_features(
    calendar: Any,
    index: pd.DatetimeIndex | np.ndarray,
    freq: str = "D",
    metric: str | None = None,
    keys: dict[str, str] | None = None,
    since: pd.Timestamp | None = None,
) -> Any:
    """:func:`~juno_forecast.features.calendar_features`, computed once per scope.

    The scope is the calendar (by identity), the timestamps, the grain, the
    metric, ``since`` and the key values among :func:`named_zones` (a series
    without keys, the whole city, is a scope of its own: it gets every event).
    Two series of one scope get the very same features object. ``index`` may be
    int64 nanoseconds (the array path): a DatetimeIndex is then built only when
    the scope is not cached yet.
    """
    from .features import calendar_features

    ns = _as_ns(index)
    compute = lambda: calendar_features(calendar, _wall(index), freq, metric, keys, since)  # noqa: E731
    if calendar is None or len(ns) == 0:
        return compute()
    first, last = pd.Timestamp(int(ns.min())), pd.Timestamp(int(ns.max()))
    start = min(first, pd.Timestamp(since)) if since is not None else first
    scope = _zone_scope(calendar, start, last, metric, keys)
    key = (id(calendar), freq, metric, scope, since, *index_key(ns))
    return _cached(_SCOPES, key, calendar, compute, SCOPE_CACHE_SIZE)


def _as_ns(index: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Timestamps as int64 nanoseconds (an int64 array is taken as such)."""
    if isinstance(index, np.ndarray) and index.dtype == np.int64:
        return index
    return epoch_ns(index)


def _wall(index: pd.DatetimeIndex | np.ndarray) -> pd.DatetimeIndex:
    """Timestamps as a DatetimeIndex (int64 nanoseconds become a ``[ns]`` one)."""
    if isinstance(index, np.ndarray) and index.dtype == np.int64:
        return pd.DatetimeIndex(index.view("datetime64[ns]"))
    return pd.DatetimeIndex(index)


@dataclass(frozen=True)
class FeatureArrays:
    """A scope's :class:`~juno_forecast.features.CalendarFeatures` as numpy arrays, built once.

    ``X`` (rows x ``columns``) is the design matrix; ``effects``/``spreads`` the
    per-timestamp curated effects and their spreads, one column per name of
    ``effect_columns``/``spread_columns``; ``events`` the ``;``-joined names per
    row. Every array is a read-only view (of the frame's data where it is one
    block, else a copy): the series of a scope share them, and a fold is a slice
    (a view) of the history's rows.
    """

    X: np.ndarray
    columns: tuple[str, ...]
    effects: np.ndarray
    effect_columns: tuple[str, ...]
    spreads: np.ndarray
    spread_columns: tuple[str, ...]
    events: np.ndarray

    @classmethod
    def of(cls, feats: Any) -> FeatureArrays:
        """The arrays of ``feats`` (memoized per features object: :func:`feature_arrays`)."""
        n = len(feats.X)

        def table(frame: pd.DataFrame | None) -> tuple[np.ndarray, tuple[str, ...]]:
            if frame is None:
                return np.zeros((n, 0)), ()
            # a view of the frame's one block where it has one (no second copy of a scope)
            return frame.to_numpy(dtype=float, copy=False), tuple(map(str, frame.columns))

        X, columns = table(feats.X)
        effects, effect_columns = table(feats.effects)
        spreads, spread_columns = table(feats.spreads)
        events = (
            np.full(n, "", dtype=object)
            if feats.events is None
            else feats.events.to_numpy(dtype=object, copy=False)
        )
        X, effects, spreads, events = (a.view() for a in (X, effects, spreads, events))
        for a in (X, effects, spreads, events):
            a.setflags(write=False)  # the views only: the frames stay as they are
        return cls(X, columns, effects, effect_columns, spreads, spread_columns, events)

    def column(self, which: str, name: str, rows: slice = slice(None)) -> np.ndarray:
        """Rows of one column of ``X``, ``effects`` or ``spreads`` by name (zeros when absent)."""
        table, names = {
            "X": (self.X, self.columns),
            "effects": (self.effects, self.effect_columns),
            "spreads": (self.spreads, self.spread_columns),
        }[which]
        if name not in names:
            return np.zeros(len(self.X[rows]))
        return table[rows, names.index(name)]


def feature_arrays(feats: Any) -> FeatureArrays:
    """:class:`FeatureArrays` of ``feats``, built once per features object (shared by its scope)."""
    return memo(feats, ("arrays",), lambda: FeatureArrays.of(feats))


_OCCURRENCES: OrderedDict[tuple, tuple[Any, pd.DataFrame]] = OrderedDict()


def scope_occurrences(
    calendar: Any,
    start: pd.Timestamp,
    end: pd.Timestamp,
    metric: str | None = None,
    keys: dict[str, str] | None = None,
) -> pd.DataFrame:
    """:func:`~juno_forecast.features.series_occurrences`, looked up once per scope.

    The scope as in :func:`scope_features` (calendar, days, metric, the key values
    among :func:`named_zones`): detection, ``expect`` and ``impact`` ask for the
    same table for every series of a scope and get the very same frame (do not
    write into it); :func:`memo` keeps what they derive from it.
    """
    from .features import series_occurrences

    if calendar is None:
        return series_occurrences(calendar, start, end, metric, keys)
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    key = (id(calendar), start, end, metric, _zone_scope(calendar, start, end, metric, keys))
    compute = lambda: series_occurrences(calendar, start, end, metric, keys)  # noqa: E731
    return _cached(_OCCURRENCES, key, calendar, compute, SCOPE_CACHE_SIZE)


_MEMO: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
#: how many derived results of shared features a process keeps
MEMO_SIZE = 4096


def memo(owner: Any, key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per ``(owner, key)``: a result derived from shared features.

    ``owner`` is a shared object (the features of a scope, see :func:`scope_features`),
    kept alive by the cache so its identity stays its own; ``key`` says what else the
    result depends on. Every series of a scope then reuses what one of them derived
    (which event columns a calibration fold can learn, say).
    """
    return _cached(_MEMO, (id(owner), *key), owner, compute, MEMO_SIZE)


def _cached(
    cache: OrderedDict[tuple, tuple[Any, Any]],
    key: tuple,
    owner: Any,
    compute: Callable[[], Any],
    size: int,
) -> Any:
    """``compute()`` once per ``key`` in ``cache``, kept while ``size`` newer keys do not push
    it out. ``key`` names ``owner`` by ``id``: the entry holds ``owner`` alive, and a hit
    counts only when it is that very object (an id can be reused once an object is gone)."""
    hit = cache.get(key)
    if hit is not None and hit[0] is owner:
        cache.move_to_end(key)
        return hit[1]
    value = compute()
    cache[key] = (owner, value)
    cache.move_to_end(key)
    if len(cache) > size:
        cache.popitem(last=False)
    return value


def index_key(index: pd.DatetimeIndex | np.ndarray) -> tuple[int, int]:
    """A cache key for a series' timestamps (a DatetimeIndex or int64 nanoseconds): their
    number and a hash of their values."""
    ns = _as_ns(index)
    return len(ns), hash(ns.tobytes())


def clear_scopes() -> None:
    """Forget every cached scope (tests; a long-lived process that reloads its calendar)."""
    _SCOPES.clear()
    _ZONES.clear()
    _OCCURRENCES.clear()
    _MEMO.clear()
