"""The nightly batch: every series forecast, the last day checked, one atomic run folder.

:func:`run_nightly` loads the config's sources, cuts each series at the as-of
date, and runs :func:`forecast_series` once per series with the chosen engine
(:mod:`.engine`: local processes or Dask). Each task carries plain data only
(the history as numpy arrays, ``values`` and int64 nanosecond ``stamps``, sliced
from the sources' :class:`~juno_forecast.core.GroupedSeries`, and parameters; the
calendar travels as its *path* and is loaded once per worker process), so any
worker anywhere can run it. A worker fits and predicts on those arrays and
returns arrays; the driver builds ``forecasts.parquet`` once from every series'
arrays (no frame per series), and a ``pd.Series`` of a history is built only
where a pandas API needs one: detection, and the few series the report draws. Each series ends with one status (SPEC "Nightly batch"):

* ``ok``: forecast by the configured model and checked for incidents;
* ``short``: less history than the regular models need (``data.MIN_LENGTH``) but
  at least :data:`.short.SHORT_MIN` (two weeks of days, a week of hours):
  forecast by the short-history model of :mod:`.short`, wider ranges; the
  manifest record says ``history: short``;
* ``stale``: no data for longer than ``stale_after`` before the end of the
  as-of day (default :data:`STALE_AFTER`): not forecast, and listed in the
  report as "went silent since DATE", a deviation, not a failure;
* ``failed``: too short even for the short model, bad values, a model error;
  its cause is recorded and the others go on. Only failures make exit code 3.

An ``--as-of`` outside the data (before its first day, or so late that every
series is stale) is a usage error: nothing is published.

The outputs (``forecasts.parquet``, ``incidents.csv``, ``report.html``/``.md``,
``bands.prom``, ``manifest.json``; each named with its writer in :mod:`.outputs`)
are written into a temporary folder and renamed into ``OUT/<as-of>/`` (see
:mod:`.rundir`).
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ..compat import epoch_ns
from ..core import GroupedSeries, release_memory, stack_arrays
from ..detect.incidents import sort_incidents
from ..errors import InputError, JunoError
from ..grain import to_wall_clock
from ..inputs import check_model
from .config import BatchConfig, load_config
from .engine import TaskOutcome, run_tasks
from .manifest import series_record
from .outputs import RunTables, write_outputs
from .prom import effects_json
from .rundir import atomic_run_dir, make_out
from .short import SHORT_MIN, short_forecast_arrays, short_note

log = logging.getLogger("juno_forecast.batch")

BAND_COLUMNS = ["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]
#: the checked period's columns a worker returns (with ``ds``), for the report's figures
POINT_COLUMNS = ["actual", "expected", "lo", "hi"]
#: statuses of a series that was forecast (its rows are in forecasts.parquet)
FORECAST_STATUSES = ("ok", "short")
STEP = {"h": pd.Timedelta(hours=1), "D": pd.Timedelta(days=1)}
#: default ``stale_after``: a series with no data for longer before the as-of day's end is stale
STALE_AFTER = {"h": pd.Timedelta(hours=6), "D": pd.Timedelta(days=2)}


@dataclass
class NightlyResult:
    """What a nightly run produced: its folder, its manifest, the failed and the stale series."""

    run_dir: Path
    manifest: dict[str, Any]
    failed: list[dict[str, Any]] = field(default_factory=list)
    stale: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when no series failed (short and stale ones included), 3 when some failed."""
        return 3 if self.failed else 0


# --------------------------------------------------------------------------- worker side


@functools.lru_cache(maxsize=4)
def load_calendar(
    spec: str | None, weather: str | None, weather_forecast: str | None = None
) -> Any:
    """The calendar of a task: None = shipped, ``"none"`` = empty, else a path, with the
    observed weather and the weather forecast; cached per process."""
    from ..calendar import Calendar

    cal = Calendar.empty() if spec == "none" else Calendar.load(spec)
    cal = cal.with_weather(weather) if weather else cal
    return cal.with_weather_forecast(weather_forecast) if weather_forecast else cal


def forecast_series(task: dict[str, Any]) -> dict[str, Any]:
    """Forecast one series and detect its last-day incidents (runs in a worker).

    ``task`` is plain data (see :func:`build_tasks`). Returns ``status="ok"`` (or
    ``"short"`` for a short history) with ``forecast`` (``ds``, the bands, ``events``
    and, but for a short series, ``event_effects``) and ``points`` as arrays and
    ``incidents`` as a frame (usually empty), or ``status="failed"`` with ``cause``;
    it never raises for a problem of the series itself.
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    result: dict[str, Any] = {
        "series": task["series"],
        "metric": task["metric"],
        "keys": task["keys"],
        "n_obs": int(len(task["values"])),
    }
    try:
        # one BLAS/OpenMP thread per worker: the engine parallelizes by process, and
        # nested threads on a few cores make the linear algebra several times slower
        with threadpool_limits(1):
            cal = load_calendar(task["calendar"], task["weather"], task.get("weather_forecast"))
            if task["history"] == "short":
                result.update(_short_series(task, cal))
            else:
                result["forecast"] = _forecast(task, cal)
                result["status"] = "ok"
                if task["check"]:
                    result["incidents"], result["points"] = _detect(task, cal)
                else:
                    result.update(_unchecked(f"no data since {task['last_data']}"))
    except JunoError as exc:  # SeriesError / InputError: the series' own problem
        result.update(status="failed", cause=_cause(str(exc), task["series"]))
    except Exception as exc:  # a model error must not stop the batch
        result.update(status="failed", cause=f"{type(exc).__name__}: {exc}".splitlines()[0])
    result["seconds"] = round(time.perf_counter() - t0, 4)
    result["cpu_seconds"] = round(time.process_time() - cpu0, 4)
    return result


def _cause(message: str, label: str) -> str:
    """The message without a leading ``<series label>: `` (the manifest names the series)."""
    first = message.splitlines()[0] if message else "unknown error"
    return first[len(label) + 2 :] if first.startswith(label + ": ") else first


def _forecast(task: dict[str, Any], cal: Any) -> dict[str, Any]:
    """Fit on the history's arrays, predict the horizon: ``ds``, the bands, ``events`` and
    ``event_effects`` as arrays (the driver stacks every series' arrays into one table)."""
    from ..forecast import OUTPUT_COLUMNS, SeriesForecaster

    f = SeriesForecaster(
        model=task["model"],
        calendar=cal,
        metric=task["metric"],
        keys=task["keys"],
        freq=task["freq"],
        seed=task["seed"],
    )
    f.fit_arrays(task["values"], task["stamps"])
    index = _horizon(task)
    out = f.predict_arrays(epoch_ns(index))
    effects = np.asarray(effects_json(f.event_effects(index)), dtype=object)
    return {"ds": index.to_numpy(), **{c: out[c] for c in OUTPUT_COLUMNS}, "event_effects": effects}


def _horizon(task: dict[str, Any]) -> pd.DatetimeIndex:
    """The timestamps forecast: ``steps`` of ``freq`` from ``forecast_start``."""
    return pd.date_range(
        task["forecast_start"], periods=task["steps"], freq=task["freq"], name="ds"
    )


def _short_series(task: dict[str, Any], cal: Any) -> dict[str, Any]:
    """Forecast (and, when it has two weeks before the checked day, check) a short series."""
    from ..features import calendar_features

    values, stamps = task["values"], task["stamps"]
    seen = np.flatnonzero(~np.isnan(values))
    first = seen[0] if len(seen) else 0  # regular steps kept (NaN inside): phases stay aligned
    values, stamps = values[first:], stamps[first:]
    index = _horizon(task)
    counts = task["agg"] == "sum"
    pred = short_forecast_arrays(values, int(stamps[-1]), epoch_ns(index), task["freq"], counts)
    feats = calendar_features(cal, index, task["freq"], task["metric"], task["keys"])
    events = feats.events.to_numpy() if feats.events is not None else np.full(len(index), "")
    since = pd.Timestamp(int(stamps[0]))
    note = short_note(int(np.count_nonzero(~np.isnan(values))), task["freq"], since)
    out = {"status": "short", "cause": note}
    out["forecast"] = {"ds": index.to_numpy(), **pred, "events": np.asarray(events, dtype=object)}
    try:
        if not task["check"]:
            return {**out, **_unchecked(f"no data since {task['last_data']}", out["cause"])}
        out["incidents"], out["points"] = _detect(task, cal)
    except JunoError:  # too short to check the day: said in the record, nothing invented
        out.update(_unchecked("too short", out["cause"]))
    return out


def _unchecked(why: str, cause: str | None = None) -> dict[str, Any]:
    """No incidents and no banded points, with the reason the checked period was not checked."""
    note = f"not checked for incidents ({why})"
    return {
        "incidents": pd.DataFrame(),
        "points": _points(pd.DataFrame(columns=POINT_COLUMNS)),
        "cause": f"{cause}; {note}" if cause else note,
    }


def _points(points: pd.DataFrame) -> dict[str, np.ndarray]:
    """The checked period's banded points as arrays (``ds`` and :data:`POINT_COLUMNS`): only
    the report's few figures make a frame of them again."""
    ds = pd.DatetimeIndex(points.index).to_numpy()
    return {"ds": ds, **{c: points[c].to_numpy(dtype=float) for c in POINT_COLUMNS}}


def _detect(task: dict[str, Any], cal: Any) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Incidents and banded points of the series in ``[detect_start, forecast_start)``.

    Uses :func:`juno_forecast.detect.detect_arrays` on the history's arrays: each day's
    expectation comes only from the history before that day; incidents are explained by
    the calendar.
    """
    from ..detect.series import detect_arrays

    end = pd.Timestamp(task["forecast_start"]) - STEP[task["freq"]]
    found = detect_arrays(
        task["values"],
        task["stamps"],
        task["metric"],
        task["keys"],
        pd.Timestamp(task["detect_start"]),
        end,
        cal,
        level=task["level"],
        freq=task["freq"],
        agg=task["agg"],
        seed=task["seed"],
        unit=task["unit"],
    )
    inc = found.incidents
    inc = inc.drop(columns=[c for c in inc.columns if str(c).startswith("_")])
    return inc, _points(found.points)


# --------------------------------------------------------------------------- driver side


def parse_as_of(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """``--as-of`` as a midnight Timestamp; an impossible date is an :class:`InputError`."""
    if value is None or value == "":
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(f"--as-of: expected a date YYYY-MM-DD, got {value!r}") from None
    return to_wall_clock(ts).normalize()


def load_sources(cfg: BatchConfig) -> list[Any]:
    """Each configured source as a :class:`juno_forecast.data.Dataset` (file errors: exit 2).

    Every series with data is kept (``min_length=1``): how much history a series
    needs, and what a short one gets, is decided per as-of date by :func:`build_tasks`.
    """
    from ..data import load_data

    return [load_data(src.path, **src.load_kwargs(), min_length=1) for src in cfg.data]


def build_tasks(
    datasets: list[Any], cfg: BatchConfig, as_of: pd.Timestamp
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Plain-data tasks per series, and records of series that do not run (stale, failed).

    Each source is split into series once (:class:`~juno_forecast.core.GroupedSeries`);
    a task's history is a slice of its arrays, found with ``searchsorted``.
    """
    tasks: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for ds, src in zip(datasets, cfg.data, strict=True):
        groups = GroupedSeries.from_frame(ds.frame, ds.keys, ds.freq)
        for i in range(len(groups)):
            history = _History.of(groups, i)
            task = _task(history, src.agg, cfg, as_of)
            if isinstance(task, tuple):
                status, cause, last = task
                n_obs = int(np.count_nonzero(~np.isnan(history.values)))
                rec = series_record(history.label, *history.ident, status, cause, n_obs=n_obs)
                if status == "stale":
                    rec["last_data"] = last
                skipped.append(rec)
            else:
                tasks.append(task)
    return tasks, skipped


class _History(NamedTuple):
    """One series of a source's grouped arrays: values, int64 ns stamps, names, grain."""

    values: np.ndarray
    stamps: np.ndarray
    label: str
    ident: tuple[str, dict[str, str]]  # metric, keys
    freq: str
    unit: str

    @classmethod
    def of(cls, groups: GroupedSeries, i: int) -> _History:
        """Series ``i`` of ``groups`` (views of its arrays, no copy)."""
        a, b = groups.positions(i)
        ident = (groups.metrics[i], dict(groups.keys[i]))
        return cls(
            groups.values[a:b],
            groups.stamps[a:b],
            groups.labels[i],
            ident,
            groups.freq,
            groups.unit,
        )

    def at(self, pos: int) -> pd.Timestamp:
        """The timestamp at row ``pos`` (in the data's resolution)."""
        return pd.Timestamp(int(self.stamps[pos])).as_unit(self.unit)


def _stamp(ts: pd.Timestamp, freq: str) -> str:
    """A time as messages show it: the day for daily data, day and hour for hourly."""
    return f"{ts:%Y-%m-%d}" if freq == "D" else f"{ts:%Y-%m-%d %H:%M}"


def _classify(h: _History, cfg: BatchConfig, as_of: pd.Timestamp) -> tuple[str, str, str] | str:
    """``"full"``/``"short"`` for a series that runs, else ``(status, cause, last data)``."""
    freq = h.freq
    cutoff = as_of + pd.Timedelta(days=1)
    valid = np.flatnonzero(~np.isnan(h.values))
    seen = valid[: np.searchsorted(h.stamps[valid], cutoff.value)]  # rows before the cutoff
    if not len(seen):
        start = h.at(valid[0])
        return (
            "failed",
            f"no data on or before the as-of date {as_of:%Y-%m-%d} "
            f"(its data start {_stamp(start, freq)})",
            "",
        )
    last = h.at(seen[-1])
    limit = pd.Timedelta(cfg.stale_after) if cfg.stale_after else STALE_AFTER[freq]
    if cutoff - (last + STEP[freq]) > limit:
        return "stale", f"went silent: no data since {_stamp(last, freq)}", _stamp(last, freq)
    from ..data import MIN_LENGTH

    unit = "day" if freq == "D" else "hour"
    if len(seen) < SHORT_MIN[freq]:
        return (
            "failed",
            f"too short to forecast: {len(seen)} {unit}s from {_stamp(h.at(seen[0]), freq)} "
            f"to {_stamp(last, freq)}, at least {SHORT_MIN[freq]} needed (a short-history "
            "forecast)",
            "",
        )
    return "short" if len(seen) < MIN_LENGTH[freq] else "full"


def _task(
    h: _History, agg: str, cfg: BatchConfig, as_of: pd.Timestamp
) -> dict[str, Any] | tuple[str, str, str]:
    """The task of one series (history cut at the end of the as-of day), or
    ``(status, cause, last data)`` when it does not run (stale or failed)."""
    kind = _classify(h, cfg, as_of)
    if isinstance(kind, tuple):
        return kind
    freq = h.freq
    cutoff = as_of + pd.Timedelta(days=1)
    stop = int(np.searchsorted(h.stamps, cutoff.value))  # the history: before the cutoff
    start = 0
    if cfg.history and kind == "full":
        start = int(np.searchsorted(h.stamps[:stop], (cutoff - pd.Timedelta(cfg.history)).value))
    values, stamps = h.values[start:stop], h.stamps[start:stop]
    steps = max(1, -(-pd.Timedelta(cfg.horizon) // STEP[freq]))
    detect_start = max(cutoff - pd.Timedelta(cfg.detect.lookback), h.at(start))
    valid = np.flatnonzero(~np.isnan(values))
    metric, keys = h.ident
    return {
        "series": h.label,
        "metric": metric,
        "keys": dict(keys),
        "freq": freq,
        "unit": h.unit,
        "agg": agg,
        "values": values,
        "stamps": stamps,
        "history": kind,
        "model": cfg.model,
        "seed": cfg.seed,
        "calendar": cfg.calendar,
        "weather": cfg.weather,
        "weather_forecast": cfg.weather_forecast,
        "steps": int(steps),
        "forecast_start": cutoff,
        "level": cfg.detect.level,
        "detect_start": detect_start,
        # a silence shorter than stale_after may still cover the whole checked period
        "check": bool(len(valid) and stamps[valid[-1]] >= detect_start.value),
        "last_data": _stamp(pd.Timestamp(int(stamps[valid[-1]])), freq),
    }


def _problem_records(datasets: list[Any]) -> list[dict[str, Any]]:
    """Series the loader dropped (bad values, too short...) as failed records."""
    return [
        series_record(p.series, None, {}, "failed", p.message)
        for ds in datasets
        for p in ds.problems
    ]


class _Progress:
    """A tqdm bar on a terminal, else a plain log line about every 10% of the series."""

    def __init__(self, total: int, enabled: bool | None, echo: Callable[[str], None]):
        self.total, self.done, self.failed, self.echo = total, 0, 0, echo
        tty = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        if tty and total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="series", desc="nightly", file=sys.stderr)
        self.every = max(1, total // 10)

    def __call__(self, outcome: TaskOutcome) -> None:
        self.done += 1
        value = outcome.value if outcome.ok else None
        if value is None or value.get("status") not in FORECAST_STATUSES:
            self.failed += 1
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(failed=self.failed)
        elif self.done % self.every == 0 or self.done == self.total:
            self.echo(f"nightly: {self.done}/{self.total} series done, {self.failed} failed")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass
class _Collected:
    """The merged outcomes of a run: ok results by series, status records, tables."""

    results: dict[str, dict[str, Any]]
    records: list[dict[str, Any]]
    forecasts: pd.DataFrame
    incidents: pd.DataFrame


def _collect(
    tasks: list[dict[str, Any]], outcomes: list[TaskOutcome], keys: list[str]
) -> _Collected:
    """Merge outcomes (in task order) into results, records and the two tables."""
    results: dict[str, dict[str, Any]] = {}
    records = []
    for task, outcome in zip(tasks, outcomes, strict=True):
        res = outcome.value if outcome.ok else {"status": "failed", "cause": outcome.error}
        rec = series_record(
            task["series"],
            task["metric"],
            task["keys"],
            res["status"],
            res.get("cause"),
            res.get("seconds", 0.0),
            len(task["values"]),
            res.get("cpu_seconds", 0.0),
        )
        rec["history"] = task["history"]
        records.append(rec)
        if res["status"] in FORECAST_STATUSES:
            results[task["series"]] = res
    fc = _forecast_table(list(results.values()), [*keys, "metric", "ds", *BAND_COLUMNS, "events"])
    inc = _concat(
        [
            r["incidents"].assign(series=label)
            for label, r in results.items()
            if len(r["incidents"])
        ],
        [*keys, "metric", "series", "explanation", "explained_by"],
    )
    inc = sort_incidents(inc)
    front = [c for c in [*keys, "metric"] if c in fc.columns]
    fc = fc[front + [c for c in fc.columns if c not in front]]
    return _Collected(results, records, fc.reset_index(drop=True), inc.reset_index(drop=True))


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _forecast_table(results: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Every forecast series' arrays as one table, each row led by its keys and metric.

    Consecutive series with the same key columns and outputs (a short series has no
    ``event_effects``) are stacked at once (:func:`~juno_forecast.core.stack_arrays`);
    the few such blocks are then concatenated, as frames of different columns are.
    """
    blocks, run = [], []
    for res in results:
        shape = (tuple(res["keys"]), tuple(res["forecast"]))
        if run and shape != run[-1][0]:
            blocks.append(_stack(run))
            run = []
        run.append((shape, res))
    if run:
        blocks.append(_stack(run))
    return _concat(blocks, columns)


def _stack(run: list[tuple[tuple, dict[str, Any]]]) -> pd.DataFrame:
    """One block of :func:`_forecast_table`: series with the same keys and output columns."""
    fronts = [{**res["keys"], "metric": res["metric"]} for _, res in run]
    names = run[0][0][1]
    parts = {c: [res["forecast"][c] for _, res in run] for c in names}
    return stack_arrays(parts, fronts, [len(res["forecast"]["ds"]) for _, res in run])


def run_nightly(
    config: BatchConfig | str | Path,
    out: str | Path,
    as_of: str | pd.Timestamp | None = None,
    *,
    engine: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    model: str | None = None,
    progress: bool | None = None,
    echo: Callable[[str], None] | None = None,
) -> NightlyResult:
    """Run the nightly batch of ``config`` into ``out/<as-of>/`` (atomically).

    ``as_of`` defaults to the date of the last timestamp in the data. Engine
    arguments and ``model`` override the config's. ``progress`` forces the bar
    on/off (default: on when stderr is a terminal); ``echo`` receives log lines.
    """
    timings: dict[str, float] = {}
    t_start = time.perf_counter()
    echo = echo or log.info
    cfg = config if isinstance(config, BatchConfig) else load_config(config)
    cfg = cfg.with_engine(engine, workers, scheduler)
    if model is not None:
        cfg = replace(cfg, model=check_model(model))
    day = parse_as_of(as_of)
    make_out(out)  # an --out that cannot be written stops the run before any work (exit 2)
    cal = load_calendar(cfg.calendar, cfg.weather, cfg.weather_forecast)  # errors: exit 2
    datasets = load_sources(cfg)
    day = day or max(ds.frame["ds"].max() for ds in datasets).normalize()
    timings["load_s"] = time.perf_counter() - t_start
    tasks, skipped = build_tasks(datasets, cfg, day)
    _check_as_of(day, datasets, tasks, skipped)
    keys = _all_keys(datasets)
    release_memory()  # the loader's freed memory, before the workers fork from this process
    echo(f"nightly: as-of {day:%Y-%m-%d}, {len(tasks)} series, engine {cfg.engine.name}")
    with atomic_run_dir(out, day) as tmp:  # from here on, a kill leaves no partial run
        t0 = time.perf_counter()
        got = _collect(tasks, _run(tasks, cfg, progress, echo), keys)
        got.records = _problem_records(datasets) + skipped + got.records
        timings["series_s"] = time.perf_counter() - t0
        timings["series_cpu_s"] = sum(r["cpu_seconds"] for r in got.records)
        manifest = _write_run(tmp, got, tasks, keys, day, cfg, cal, timings, t_start)
    run_dir = Path(out) / f"{day:%Y-%m-%d}"
    failed = [r for r in got.records if r["status"] == "failed"]
    stale = [r for r in got.records if r["status"] == "stale"]
    t = manifest["totals"]
    echo(
        f"nightly: wrote {run_dir} ({t['ok']} ok, {t['short']} short, {t['stale']} stale, "
        f"{t['failed']} failed)"
    )
    return NightlyResult(run_dir, manifest, failed, stale)


def _check_as_of(
    day: pd.Timestamp, datasets: list[Any], tasks: list[Any], skipped: list[dict[str, Any]]
) -> None:
    """An as-of outside the data is a usage error (exit 2, nothing published).

    Outside means before the data's first day, or after its last day so far that
    no series has recent data (every one is stale). A run that would forecast
    nothing for those reasons would otherwise replace the newest bands with none.
    """
    frames = [ds.frame["ds"] for ds in datasets if len(ds.frame)]
    if not frames:
        return
    first = min(f.min() for f in frames)
    last = max(f.max() for f in frames)
    if day < first.normalize():
        raise InputError(
            f"--as-of {day:%Y-%m-%d}: before the data, which starts {first:%Y-%m-%d}; "
            "nothing to forecast from"
        )
    if not tasks and skipped and all(r["status"] == "stale" for r in skipped):
        raise InputError(
            f"--as-of {day:%Y-%m-%d}: after the data, which ends {last:%Y-%m-%d %H:%M}; "
            "every series would be stale (give an as-of within the data)"
        )


def _write_run(
    tmp: Path,
    got: _Collected,
    tasks: list[dict[str, Any]],
    keys: list[str],
    day: pd.Timestamp,
    cfg: BatchConfig,
    cal: Any,
    timings: dict[str, float],
    t_start: float,
) -> dict[str, Any]:
    """Every output of :mod:`.outputs` (the manifest last) into the temporary run folder;
    returns the manifest."""
    got_tables = (got.forecasts, got.incidents, got.records, got.results)
    run = RunTables(tmp, *got_tables, tasks, keys, day, cfg, cal, timings)
    return write_outputs(run, t_start)


def _run(
    tasks: list[dict[str, Any]],
    cfg: BatchConfig,
    progress: bool | None,
    echo: Callable[[str], None],
) -> list[TaskOutcome]:
    """Every task through the configured engine, with a progress bar or log lines."""
    bar = _Progress(len(tasks), progress, echo)
    try:
        return run_tasks(
            forecast_series,
            tasks,
            cfg.engine.name,
            cfg.engine.workers,
            cfg.engine.scheduler,
            on_done=bar,
        )
    finally:
        bar.close()


def _all_keys(datasets: list[Any]) -> list[str]:
    """Key columns over all sources, in first-seen order."""
    keys: list[str] = []
    for ds in datasets:
        keys += [k for k in ds.keys if k not in keys]
    return keys
