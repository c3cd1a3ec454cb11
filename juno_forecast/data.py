"""Loading metric history into tidy series on a regular grid.

``load_data(path, ...)`` reads a long ("tidy") CSV or Parquet table, one row per
timestamp per series, maps its columns (``time_col``, ``value_col``,
``metric_col`` or a constant ``metric``, the ``by`` key columns), and returns a
:class:`Dataset` whose ``frame`` has columns ``[*keys, "metric", "ds", "y"]``
with every series on a regular hourly (``"h"``) or daily (``"D"``) grid.

Keys and metric names stay strings exactly as written: a borough called ``NA``
is a borough, not a missing value (CSV files are read with
``keep_default_na=False``, see :mod:`juno_forecast.readers`). A missing key
value (None/NaN in a DataFrame or Parquet file, e.g. a CSV read by pandas with
its defaults) names no series: it is an InputError naming the column and row.

Time zone and daylight saving (DST)
-----------------------------------
Naive timestamps are New York wall-clock time. Timestamps with a UTC offset
(``2015-11-01T01:30:00-05:00``) are converted to America/New_York and then
made naive. The working grid is the *naive wall-clock grid*: every day has 24
hours, so models see regular days and DST days are never flagged as deviations.

* Spring forward (02:00 does not exist): a row stamped 02:00 is kept as it is
  (the real 2015 file has one); when it is absent its value is interpolated from
  the neighbouring hours. Either way the day has 24 hourly values.
* Fall back (01:00 happens twice): the two occurrences (two rows with the same
  naive stamp, or two distinct UTC instants of tz-aware input) are aggregated
  within each occurrence and then combined by the MEAN, so an hourly count does
  not double and look like a spike.
* Daily data and daily aggregation are unaffected: a day's rows are aggregated
  with ``agg`` as they are (the 25-hour day keeps all its rows).

Gaps, duplicates and bad values
-------------------------------
File-wide problems raise :class:`~juno_forecast.errors.InputError` with one line
naming the file and the column: unsupported extension, empty file, missing
column, unparseable timestamp (first bad line and value). Problems of one series
make that series a :class:`SeriesProblem` in ``Dataset.problems``; it is dropped
and the others go on (if none is left, ``InputError`` lists the first few):

* non-numeric value (first bad line and value); an empty cell, ``NA``, ``NaN``
  or ``null`` is a *missing* value instead, filled like a gap;
* negative value when ``agg="sum"`` (values are counts);
* conflicting duplicates (same series and timestamp twice with different
  values, outside the fall-back hour). Identical duplicate rows are dropped and
  noted in ``Dataset.notes``;
* a gap longer than ``max_gap`` steps; shorter gaps are interpolated and noted;
* a series shorter than ``min_length`` steps (default: 2 weeks of hours, 8 weeks
  of days).

The grain, unless ``freq`` is given, comes from the median spacing of all
distinct timestamps: under a day is hourly (finer data are aggregated, sparse
hourly counts filled), exactly a day is daily, coarser is an error.

Missing steps: for counts (``agg="sum"``, default ``fill="auto"``) a timestamp
absent inside a series' span means *nothing happened*, so it is a zero, not a
gap; sparse series (the real borough ``NA`` only has rows for hours with
pickups) load as they should. Only short runs are zeros: a run of absent steps
longer than :data:`~juno_forecast.holes.LONG_HOLE` (a day of hours, a week of
days) is a hole, history lost rather than quiet; the series keeps only the
history after its last hole (a note and a warning name the dropped span) when
that is long enough, else it is dropped with the hole's dates (see
:mod:`juno_forecast.holes`; ``fill="zero"`` keeps every absent step as 0). For levels (``agg="mean"``) or with
``fill="interpolate"``, absent steps are gaps. A present row with a missing
value is always a gap. Notes on filled steps go to ``Dataset.notes``.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import InputError, JunoWarning, SeriesError
from .grain import TZ
from .holes import UNIT, Hole, last_hole, runs
from .readers import check_columns, read_table

NY_TZ = TZ
FREQS = ("h", "D")
AGGS = ("sum", "mean")
FILLS = ("auto", "zero", "interpolate")
TIDY_COLUMNS = ("metric", "ds", "y")
#: value cells read as "missing" rather than as non-numeric text
MISSING_TOKENS = frozenset({"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "none"})
#: default minimum number of steps to forecast: two weeks of hours, eight weeks of days
MIN_LENGTH = {"h": 14 * 24, "D": 8 * 7}
DEFAULT_MAX_GAP = 3
#: the data arguments every entry point passes on to load_data (``data_kwargs``)
DATA_ARGS = (
    "time_col",
    "value_col",
    "metric_col",
    "metric",
    "by",
    "freq",
    "agg",
    "fill",
    "min_length",
    "max_gap",
)
_UNIT = UNIT
_OFFSET_RE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})\s*$")


@dataclass(frozen=True)
class SeriesProblem:
    """Why one series was dropped (``problems``) or what was repaired in it (``notes``)."""

    series: str
    message: str

    def __str__(self) -> str:
        return f"{self.series}: {self.message}"


def series_label(metric: str, keys: Mapping[str, str] | None = None) -> str:
    """Name of a series for messages, e.g. ``metric=trips borough=Bronx``."""
    parts = [f"metric={metric}"] + [f"{k}={v}" for k, v in (keys or {}).items()]
    return " ".join(parts)


@dataclass
class Dataset:
    """Tidy series on a regular grid: ``frame`` has columns ``[*keys, metric, ds, y]``.

    ``problems`` lists the series that were dropped and why; ``notes`` lists
    repairs that did not drop anything (filled gaps, dropped identical duplicates).
    """

    frame: pd.DataFrame
    keys: tuple[str, ...]
    freq: str
    problems: list[SeriesProblem] = field(default_factory=list)
    notes: list[SeriesProblem] = field(default_factory=list)
    source: str = "<frame>"

    def series(self) -> Iterator[tuple[str, dict[str, str], pd.Series]]:
        """Yield ``(metric, keys, y)`` per series; ``y`` has a regular DatetimeIndex named ``ds``.

        The frame is split once into grouped arrays (:class:`juno_forecast.core.GroupedSeries`).
        """
        from .core import GroupedSeries

        yield from GroupedSeries.from_frame(self.frame, self.keys, self.freq)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.n_series} series, freq={self.freq!r}, keys={self.keys!r}, "
            f"{len(self.frame)} rows, {len(self.problems)} problems, source={self.source!r})"
        )

    @property
    def n_series(self) -> int:
        """How many series survived the checks."""
        return int(self.frame.groupby([*self.keys, "metric"], observed=True).ngroups)

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        keys: Sequence[str] | None = None,
        freq: str | None = None,
        agg: str = "sum",
        source: str = "<frame>",
        *,
        time_col: str = "ds",
        value_col: str = "y",
        metric_col: str = "metric",
        metric: str | None = None,
        fill: str = "auto",
        min_length: int | None = None,
        max_gap: int = DEFAULT_MAX_GAP,
    ) -> Dataset:
        """Build a Dataset from a DataFrame with the same checks as :func:`load_data`.

        ``keys=None`` takes every column other than the time, value and metric
        columns as a key (so a tidy frame from another Dataset round-trips).
        """
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"{source}: expected a DataFrame, got {type(df).__name__}")
        if time_col not in df.columns and df.index.name == time_col:
            df = df.reset_index()
        if keys is None:
            skip = {time_col, value_col, metric_col}
            keys = tuple(c for c in df.columns if c not in skip)
        opts = _Options.make(
            time_col, value_col, metric_col, metric, keys, freq, agg, fill, min_length, max_gap
        )
        raw = df.reset_index(drop=True)
        return _build(raw, opts, source, row_word="row", first_row=1)


def load_data(
    path: str | Path,
    time_col: str = "ds",
    value_col: str = "y",
    metric_col: str = "metric",
    metric: str | None = None,
    by: Sequence[str] | str | None = (),
    freq: str | None = None,
    agg: str = "sum",
    *,
    fill: str = "auto",
    min_length: int | None = None,
    max_gap: int = DEFAULT_MAX_GAP,
) -> Dataset:
    """Read a tidy CSV or Parquet file of metric history into a :class:`Dataset`.

    ``metric`` names the metric of a one-metric file (no metric column); when the
    file does have ``metric_col``, only its rows equal to ``metric`` are kept.
    ``freq`` is ``"h"`` or ``"D"`` (default: inferred from the median spacing,
    hourly when under a day); finer data are aggregated with ``agg``.
    See the module docstring for DST, gaps and duplicates.
    """
    opts = _Options.make(
        time_col, value_col, metric_col, metric, _as_keys(by), freq, agg, fill, min_length, max_gap
    )
    path = Path(path)
    raw, row_word, first_row = read_table(path, opts)
    return _build(raw, opts, str(path), row_word=row_word, first_row=first_row)


def as_dataset(data: Dataset | pd.DataFrame | str | Path, **data_kwargs: object) -> Dataset:
    """A Dataset from a Dataset (as is), a tidy DataFrame or a file path.

    ``data_kwargs`` are :func:`load_data`'s (``by`` becomes the keys of a
    DataFrame; without ``by`` a DataFrame's non-time/value/metric columns are
    its keys). Arguments that are ``None`` are left at their defaults, so the
    CLI's unset flags can be passed through.
    """
    kwargs = _data_args({k: v for k, v in data_kwargs.items() if v is not None})
    if isinstance(data, Dataset):
        return data
    if isinstance(data, pd.DataFrame):
        by = _as_keys(kwargs.pop("by", ()))
        return Dataset.from_frame(data, keys=by or None, **kwargs)  # type: ignore[arg-type]
    if isinstance(data, str | os.PathLike):
        return load_data(data, **kwargs)  # type: ignore[arg-type]
    raise InputError(
        f"data: expected a file path, a Dataset or a DataFrame, got {type(data).__name__}"
    )


def _data_args(kwargs: dict[str, object]) -> dict[str, object]:
    """:func:`load_data`'s arguments; ``keys`` is accepted for ``by``, anything else is an error."""
    if "keys" in kwargs:
        if "by" in kwargs and kwargs["by"]:
            raise InputError("keys and by name the same key columns: give only one of them")
        kwargs["by"] = kwargs.pop("keys")
    unknown = sorted(set(kwargs) - set(DATA_ARGS))
    if unknown:
        raise InputError(
            f"{unknown[0]}: not a data argument; expected {', '.join(DATA_ARGS)} "
            "(keys is accepted for by)"
        )
    return kwargs


def _as_keys(by: Sequence[str] | str | None) -> tuple[str, ...]:
    """``by`` as a tuple of column names; a string may be comma-separated."""
    if by is None:
        return ()
    if isinstance(by, str):
        return tuple(b.strip() for b in by.split(",") if b.strip())
    if not isinstance(by, Sequence) or not all(isinstance(b, str) for b in by):
        raise InputError(f"--by: expected column names, e.g. ('zone',) or 'zone', got {by!r}")
    return tuple(by)


# ---------------------------------------------------------------- options


@dataclass(frozen=True)
class _Options:
    time_col: str
    value_col: str
    metric_col: str
    metric: str | None
    keys: tuple[str, ...]
    freq: str | None
    agg: str
    fill: str
    min_length: int | None
    max_gap: int

    @classmethod
    def make(
        cls, time_col, value_col, metric_col, metric, keys, freq, agg, fill, min_length, max_gap
    ):  # noqa: PLR0913
        """Validate the flags (usage errors are InputError)."""
        if freq is not None and freq not in FREQS:
            raise InputError(f"--freq must be one of {', '.join(FREQS)}, got {freq!r}")
        if agg not in AGGS:
            raise InputError(f"--agg must be one of {', '.join(AGGS)}, got {agg!r}")
        if fill not in FILLS:
            raise InputError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
        keys = tuple(keys)
        clash = [k for k in keys if k in TIDY_COLUMNS or k in (time_col, value_col)]
        if clash:
            raise InputError(
                f"--by column {clash[0]!r} cannot be a key: it is the time, value or metric column"
            )
        if len(set(keys)) != len(keys):
            raise InputError(f"--by names a column twice: {', '.join(keys)}")
        if metric is not None and not str(metric).strip():
            raise InputError("--metric must not be empty")
        for name, value in (("min_length", min_length), ("max_gap", max_gap)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise InputError(f"{name}: expected a whole number of steps, got {value!r}")
        return cls(
            time_col, value_col, metric_col, metric, keys, freq, agg, fill, min_length, int(max_gap)
        )

    def needed_columns(self, available: Sequence[str]) -> list[str]:
        """The columns to read; the metric column only when it is used."""
        cols = [self.time_col, self.value_col, *self.keys]
        if self.metric is None or self.metric_col in available:
            cols.append(self.metric_col)
        return list(dict.fromkeys(cols))

    def fill_mode(self) -> str:
        """``zero`` or ``interpolate`` for steps absent inside a series' span."""
        if self.fill != "auto":
            return self.fill
        return "zero" if self.agg == "sum" else "interpolate"


# ---------------------------------------------------------------- building


@dataclass
class _Ctx:
    """What a per-series check needs to word its messages."""

    source: str
    opts: _Options
    freq: str
    row_word: str
    first_row: int
    tz_aware: bool

    def where(self, row: int) -> str:
        return f"{self.row_word} {int(row) + self.first_row}"


def _build(
    raw: pd.DataFrame, opts: _Options, source: str, row_word: str, first_row: int
) -> Dataset:
    """Checks, parsing and regularisation shared by load_data and Dataset.from_frame."""
    check_columns(source, list(raw.columns), opts)
    if len(raw) == 0:
        raise InputError(f"{source}: no data rows (only a header)")
    raw = _select_metric(raw, opts, source)
    work = pd.DataFrame(index=raw.index)
    for k in opts.keys:
        _check_key(raw[k], k, source, row_word, first_row)
        work[k] = _as_text(raw[k])
    work["metric"] = opts.metric if opts.metric is not None else _as_text(raw[opts.metric_col])
    work["_row"] = raw.index.to_numpy()
    ts, occ, tz_aware = _parse_times(raw[opts.time_col], source, opts.time_col, row_word, first_row)
    work["ds"], work["_occ"] = ts, occ
    work["_amb"] = False if tz_aware else ts.dt.floor("h").isin(_dst_hours(*_years(ts))[1])
    _number_occurrences(work, opts.keys)
    work["y"], work["_bad"] = _parse_values(raw[opts.value_col])
    work["_raw"] = raw[opts.value_col].where(work["_bad"])
    freq = _resolve_freq(work["ds"], opts.freq, source, opts.time_col)
    ctx = _Ctx(source, opts, freq, row_word, first_row, tz_aware)
    return _regularize_all(work, ctx)


def _check_key(col: pd.Series, name: str, source: str, row_word: str, first_row: int) -> None:
    """A missing key value names no series: an error (pandas' defaults read the text NA so)."""
    missing = col.isna().to_numpy()
    if missing.any():
        row = int(col.index[np.flatnonzero(missing)[0]]) + first_row
        raise InputError(
            f"{source}: column {name!r}: missing key value at {row_word} {row} (a key is text; "
            "pandas' read_csv turns a borough called NA into a missing value unless "
            "keep_default_na=False)"
        )


def _select_metric(raw: pd.DataFrame, opts: _Options, source: str) -> pd.DataFrame:
    """With ``metric`` and a metric column both present, keep that metric's rows."""
    if opts.metric is None or opts.metric_col not in raw.columns:
        return raw
    mask = _as_text(raw[opts.metric_col]) == str(opts.metric)
    if not mask.any():
        found = sorted(_as_text(raw[opts.metric_col]).unique())[:8]
        raise InputError(
            f"{source}: column {opts.metric_col!r} has no rows of metric {opts.metric!r} "
            f"(found: {', '.join(found)})"
        )
    return raw[mask]


def _as_text(col: pd.Series) -> pd.Series:
    """Key and metric values as plain strings; a missing value becomes ''."""
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    text = np.array(["" if _is_missing(v) else str(v) for v in uniques], dtype=object)
    return pd.Series(text[codes], index=col.index, dtype=object)


def _is_missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def _parse_values(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(float values, mask of non-numeric cells); missing tokens are NaN but not bad."""
    if pd.api.types.is_bool_dtype(col):
        return col.astype(float), pd.Series(False, index=col.index)
    y = pd.to_numeric(col, errors="coerce").astype(float)
    values = y.to_numpy()
    bad = ~np.isfinite(values) & ~np.isnan(values)  # inf, -inf
    unparsed = np.isnan(values) & col.notna().to_numpy()
    if unparsed.any():
        text = col[unparsed].map(lambda v: v.strip() if isinstance(v, str) else str(v))
        bad[unparsed] = ~text.isin(MISSING_TOKENS).to_numpy(dtype=bool)
    bad = pd.Series(bad, index=col.index)
    return y.where(~bad), bad


def _parse_times(
    col: pd.Series, source: str, name: str, row_word: str, first_row: int
) -> tuple[pd.Series, pd.Series, bool]:
    """(naive New York wall-clock timestamps, fall-back occurrence 0/1, input was tz-aware)."""

    def fail(mask: pd.Series, why: str) -> InputError:
        pos = int(np.flatnonzero(mask.to_numpy())[0])
        row = int(col.index[pos]) + first_row
        return InputError(f"{source}: column {name!r}: {why} {col.iloc[pos]!r} at {row_word} {row}")

    if pd.api.types.is_datetime64_any_dtype(col):
        parsed = col
        if parsed.isna().any():
            raise fail(parsed.isna(), "missing timestamp")
    else:
        parsed = _parse_time_text(col, fail)
    if getattr(parsed.dt, "tz", None) is None:
        return parsed.astype("datetime64[ns]"), pd.Series(0, index=col.index), False
    local = parsed.dt.tz_convert(NY_TZ)
    naive = local.dt.tz_localize(None).astype("datetime64[ns]")
    offset = naive - parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    standard = pd.Timestamp("2001-01-15", tz=NY_TZ).utcoffset()
    ambiguous = naive.dt.floor("h").isin(_dst_hours(*_years(naive))[1])
    return naive, (ambiguous & (offset == standard)).astype(int), True


def _parse_time_text(col: pd.Series, fail: Callable[[pd.Series, str], InputError]) -> pd.Series:
    """Parse each distinct text once (stamps repeat across series), then spread back."""
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    text = pd.Series(uniques, dtype=object).map(
        lambda v: v.strip() if isinstance(v, str) else ("" if _is_missing(v) else str(v))
    )
    aware = text.str.contains(_OFFSET_RE).to_numpy(dtype=bool)
    if aware.any() and not aware.all():
        odd = ~aware if aware[codes[0]] else aware
        raise fail(pd.Series(odd[codes]), "mixes timestamps with and without a UTC offset:")
    parsed = _to_datetime(text, utc=bool(aware.any()))
    missing = parsed.isna().to_numpy()
    if missing.any():
        raise fail(pd.Series(missing[codes]), "unparseable timestamp")
    return parsed.take(codes).set_axis(col.index)


def _to_datetime(text: pd.Series, utc: bool) -> pd.Series:
    """Parse with the format inferred from the first value, else per element ('mixed')."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(text, errors="coerce", utc=utc)
        if parsed.isna().any():
            mixed = pd.to_datetime(text, errors="coerce", utc=utc, format="mixed")
            if mixed.isna().sum() < parsed.isna().sum():
                parsed = mixed
    return parsed


def _years(ts: pd.Series) -> tuple[int, int]:
    return int(ts.min().year), int(ts.max().year)


@lru_cache(maxsize=32)
def _dst_hours(first_year: int, last_year: int) -> tuple[pd.DatetimeIndex, pd.DatetimeIndex]:
    """(nonexistent, ambiguous) naive New York hours of the years, from the tz database."""
    utc = pd.date_range(f"{first_year - 1}-12-31", f"{last_year + 1}-01-02", freq="h", tz="UTC")
    local = pd.Series(utc.tz_convert(NY_TZ).tz_localize(None))
    counts = local.value_counts()
    ambiguous = pd.DatetimeIndex(sorted(counts.index[counts > 1]))
    wall = pd.date_range(f"{first_year}-01-01", f"{last_year}-12-31 23:00", freq="h")
    nonexistent = wall.difference(pd.DatetimeIndex(local))
    return nonexistent, ambiguous


def _resolve_freq(ds: pd.Series, freq: str | None, source: str, name: str) -> str:
    """The grain: given, or inferred from the median spacing of all distinct timestamps."""
    stamps = pd.DatetimeIndex(ds.unique()).sort_values()
    spacing = pd.Series(stamps).diff().dropna().median() if len(stamps) > 1 else None
    if freq is not None:
        if freq == "h" and spacing is not None and spacing >= pd.Timedelta(days=1):
            raise InputError(
                f"{source}: column {name!r}: timestamps are {spacing} apart, too coarse for --freq h"
            )
        return freq
    if spacing is None:
        raise InputError(
            f"{source}: column {name!r}: one distinct timestamp; cannot infer the grain (set --freq)"
        )
    if spacing < pd.Timedelta(days=1):  # hourly, finer (aggregated) or sparse hourly counts
        return "h"
    if spacing == pd.Timedelta(days=1):
        return "D"
    raise InputError(
        f"{source}: column {name!r}: timestamps are {spacing} apart; grains coarser than a day are "
        "not supported (for sparse daily counts set --freq D)"
    )


def _regularize_all(work: pd.DataFrame, ctx: _Ctx) -> Dataset:
    """Regularise every series; a SeriesError drops that series and is recorded.

    Series already regular pass at once (:func:`juno_forecast.core.regular_rows`);
    only the others go through the per-series checks and repairs.
    """
    from .core import in_series_order, regular_rows

    keys = ctx.opts.keys
    problems: list[SeriesProblem] = []
    notes: list[SeriesProblem] = []
    cols = [*keys, "metric"]
    ready, left = regular_rows(work, cols, ctx.freq, ctx.opts.agg == "sum", _min_length(ctx))
    parts: list[pd.DataFrame] = [ready] if len(ready) else []
    for group, g in work[left].groupby(cols, sort=True):
        values = dict(zip([*keys, "metric"], group, strict=True))
        metric = values.pop("metric")
        label = series_label(metric, values)
        try:
            y, series_notes = _regularize(g, label, ctx)
        except SeriesError as exc:
            problems.append(SeriesProblem(label, str(exc)[len(label) + 2 :]))
            continue
        notes += [SeriesProblem(label, n) for n in series_notes]
        part = pd.DataFrame({"ds": y.index, "y": y.to_numpy()})
        for k, v in values.items():
            part.insert(len(part.columns) - 2, k, v)
        part.insert(len(keys), "metric", metric)
        parts.append(part)
    if not parts:
        listed = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InputError(f"{ctx.source}: no usable series: {listed}{more}")
    frame = in_series_order(pd.concat(parts, ignore_index=True)[[*cols, "ds", "y"]], cols)
    return Dataset(frame, keys, ctx.freq, problems, notes, ctx.source)


def _regularize(g: pd.DataFrame, label: str, ctx: _Ctx) -> tuple[pd.Series, list[str]]:
    """One series onto its regular grid; raises SeriesError for a series that cannot be used."""
    if not g["ds"].is_monotonic_increasing:
        g = g.sort_values(["ds", "_row"], kind="stable")
    _check_values(g, label, ctx)
    g, notes = _dedupe(_check_occurrences(g, label, ctx), label, ctx)
    y = _aggregate(g, ctx)
    y, fill_notes = _fill(y, label, ctx)
    _check_length(y, label, ctx)
    return y, notes + fill_notes


def _check_values(g: pd.DataFrame, label: str, ctx: _Ctx) -> None:
    """Non-numeric values, and negative counts when values are summed."""
    col = ctx.opts.value_col
    if g["_bad"].any():
        first = g[g["_bad"]].sort_values("_row").iloc[0]
        raise SeriesError(
            label,
            f"{ctx.source}: column {col!r}: non-numeric value {first['_raw']!r} at {ctx.where(first['_row'])}",
        )
    negative = g["y"] < 0
    if ctx.opts.agg == "sum" and negative.any():
        first = g[negative].sort_values("_row").iloc[0]
        raise SeriesError(
            label,
            f"{ctx.source}: column {col!r}: negative count {first['y']:g} at {ctx.where(first['_row'])} "
            "(--agg sum expects counts; use --agg mean for levels)",
        )


def _number_occurrences(work: pd.DataFrame, keys: tuple[str, ...]) -> None:
    """Number repeated naive stamps of the fall-back hour per series: 0, 1 (in place)."""
    amb = work["_amb"].to_numpy()
    if amb.any():
        work.loc[amb, "_occ"] = work[amb].groupby([*keys, "metric", "ds"]).cumcount()


def _check_occurrences(g: pd.DataFrame, label: str, ctx: _Ctx) -> pd.DataFrame:
    """The fall-back hour happens twice; a naive stamp in it three times is an error."""
    extra = g["_occ"] > 1
    if extra.any():
        stamp = g.loc[extra, "ds"].iloc[0]
        rows = ", ".join(ctx.where(r) for r in g.loc[g["ds"] == stamp, "_row"])
        raise SeriesError(
            label,
            f"{ctx.source}: column {ctx.opts.time_col!r}: {stamp} appears more than twice ({rows}); "
            "the repeated fall-back hour can appear at most twice",
        )
    return g


def _dedupe(g: pd.DataFrame, label: str, ctx: _Ctx) -> tuple[pd.DataFrame, list[str]]:
    """Drop identical duplicate rows (noted); conflicting duplicates drop the series."""
    if g["ds"].is_unique:
        return g, []
    dup = g.duplicated(["ds", "_occ"], keep=False)
    if not dup.any():
        return g, []
    for stamp, d in g[dup].groupby("ds", sort=True):
        vals = d["y"]
        if vals.nunique(dropna=False) > 1:
            rows = " and ".join(ctx.where(r) for r in d["_row"][:2])
            shown = " vs ".join(f"{v:g}" for v in vals[:2])
            raise SeriesError(
                label,
                f"{ctx.source}: column {ctx.opts.time_col!r}: duplicate timestamp {stamp} "
                f"with different values ({rows}: {shown})",
            )
    first = g[dup].iloc[0]
    n = int(g.duplicated(["ds", "_occ"]).sum())
    note = f"{ctx.source}: dropped {n} identical duplicate row(s), first at {ctx.where(first['_row'])} ({first['ds']})"
    return g.drop_duplicates(["ds", "_occ"]), [note]


def _aggregate(g: pd.DataFrame, ctx: _Ctx) -> pd.Series:
    """Values per grid step; the fall-back hour's two occurrences are averaged (hourly grain)."""
    bucket = g["ds"].dt.normalize() if ctx.freq == "D" else g["ds"].dt.floor("h")
    if bucket.is_unique:  # already one row per step: nothing to aggregate
        return pd.Series(g["y"].to_numpy(), index=pd.DatetimeIndex(bucket))
    if ctx.freq == "D":  # a day keeps all its rows, the 25-hour day too
        return _agg(g["y"].groupby(bucket.to_numpy()), ctx.opts.agg)
    per_occ = _agg(g["y"].groupby([bucket.to_numpy(), g["_occ"].to_numpy()]), ctx.opts.agg)
    return per_occ.groupby(level=0).mean()


def _agg(grouped: pd.core.groupby.SeriesGroupBy, agg: str) -> pd.Series:
    """Sum (all-missing stays missing) or mean of each group."""
    return grouped.sum(min_count=1) if agg == "sum" else grouped.mean()


def _fill(y: pd.Series, label: str, ctx: _Ctx) -> tuple[pd.Series, list[str]]:
    """Reindex onto the full grid; fill absent steps, DST holes and short gaps."""
    y = y.loc[y.first_valid_index() : y.last_valid_index()] if y.notna().any() else y.iloc[:0]
    if y.empty:
        raise SeriesError(label, f"{ctx.source}: column {ctx.opts.value_col!r}: no values")
    grid, absent, dst_hole = _grid(y, ctx.freq)
    notes: list[str] = []
    zeros = ctx.opts.fill_mode() == "zero"
    if zeros and ctx.opts.fill == "auto" and (hole := last_hole(absent, grid, ctx.freq)):
        y, notes = _after_hole(y, hole, label, ctx), [_hole_note(y, hole, ctx)]
        grid, absent, dst_hole = _grid(y, ctx.freq)
        warnings.warn(f"{label}: {notes[0]}", JunoWarning, stacklevel=2)
    y = y.reindex(grid)
    other_absent = absent & ~dst_hole
    if other_absent.any() and zeros:
        y[other_absent] = 0.0
        notes.append(
            f"{ctx.source}: {int(other_absent.sum())} absent {_UNIT[ctx.freq]}(s) counted as 0 (sparse counts)"
        )
    gaps = y.isna().to_numpy() & ~dst_hole
    _check_gaps(gaps, grid, label, ctx)
    if y.isna().any():
        n_gap, n_dst = int(gaps.sum()), int(dst_hole.sum())
        y = y.interpolate(method="linear", limit_area="inside")
        if n_gap:
            notes.append(
                f"{ctx.source}: {n_gap} missing {_UNIT[ctx.freq]}(s) in short gaps interpolated"
            )
        if n_dst:
            notes.append(f"{ctx.source}: {n_dst} nonexistent spring-forward hour(s) interpolated")
    return y, notes


def _grid(y: pd.Series, freq: str) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """(the regular grid over ``y``'s span, steps absent from ``y``, nonexistent DST hours)."""
    grid = pd.date_range(y.index[0], y.index[-1], freq=freq, name="ds")
    absent = ~grid.isin(y.index)
    if freq != "h":
        return grid, absent, absent & False
    return grid, absent, absent & grid.isin(_dst_hours(*_years(pd.Series(grid)))[0])


def _after_hole(y: pd.Series, hole: Hole, label: str, ctx: _Ctx) -> pd.Series:
    """The history after a long hole of absent rows; SeriesError when too short to forecast."""
    after = y.loc[y.index > hole.last]  # never empty: a hole lies between two present rows
    need = _min_length(ctx)
    n = len(pd.date_range(after.index[0], after.index[-1], freq=ctx.freq))
    if n >= need:
        return after
    raise SeriesError(
        label,
        f"{ctx.source}: {hole.describe()}; the {n} {_UNIT[ctx.freq]}s after it are too short "
        f"to forecast, at least {need} needed (min_length)",
    )


def _hole_note(y: pd.Series, hole: Hole, ctx: _Ctx) -> str:
    """What was dropped for a long hole, and from when the history is used."""
    start = y.index[y.index > hole.last][0]
    return (
        f"{ctx.source}: {hole.describe()}; using the history from {start} on "
        f"(dropped {y.index[0]} to {hole.last})"
    )


def _check_gaps(gaps: np.ndarray, grid: pd.DatetimeIndex, label: str, ctx: _Ctx) -> None:
    """SeriesError for the first run of missing steps longer than max_gap."""
    if not gaps.any():
        return
    starts, lengths = runs(gaps)
    too_long = np.flatnonzero(lengths > ctx.opts.max_gap)
    if too_long.size:
        i = too_long[0]
        raise SeriesError(
            label,
            f"{ctx.source}: column {ctx.opts.value_col!r}: gap of {lengths[i]} {_UNIT[ctx.freq]}s "
            f"from {grid[starts[i]]} to {grid[starts[i] + lengths[i] - 1]} (at most {ctx.opts.max_gap} are filled)",
        )


def _min_length(ctx: _Ctx) -> int:
    """Steps a series needs to be forecast: ``min_length``, else the grain's default."""
    return ctx.opts.min_length if ctx.opts.min_length is not None else MIN_LENGTH[ctx.freq]


def _check_length(y: pd.Series, label: str, ctx: _Ctx) -> None:
    """SeriesError when the series is too short to forecast."""
    need = _min_length(ctx)
    if len(y) < need:
        raise SeriesError(
            label,
            f"{ctx.source}: column {ctx.opts.value_col!r}: too short to forecast: {len(y)} "
            f"{_UNIT[ctx.freq]}s from {y.index[0]} to {y.index[-1]}, at least {need} needed (min_length)",
        )
