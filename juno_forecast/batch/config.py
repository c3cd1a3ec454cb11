"""The nightly batch's YAML config: typed records, safe loading, strict validation.

The config is read with a safe loader (YAML is composed into nodes; a tag that
would construct an object, e.g. ``!!python/object``, is an error) and checked
field by field. Every mistake is reported at once, each as
``FILE:LINE: field.path: expected ..., got ...``, in a
:class:`~juno_forecast.errors.ConfigError` (exit 2), exactly like the
calendar's :class:`~juno_forecast.errors.CalendarError`, and read by the same
capped YAML reader (:mod:`juno_forecast.calendar.yamlio`: size, alias and depth
caps). Paths in the config are relative to the config file.

Keys (see SPEC "Nightly batch")::

    data:                      # one or more sources, each with the data flags' meaning
      - path: trips.csv
        time_col: ds           # default ds
        value_col: y           # default y
        metric_col: metric     # or  metric: trips  (a file of one metric)
        by: [borough]          # key columns (a list or one name)
        freq: h                # h or D; default inferred
        agg: sum               # sum or mean
    horizon: 14D               # how far ahead to forecast
    model: auto
    history: 90D               # optional: fit on only the last 90 days before the as-of
    stale_after: 2D            # optional: a series with no data for longer is "stale"
                               # (default 2D for daily sources, 6h for hourly ones)
    calendar: events_calendar.yaml   # optional; default the shipped one; none = off
    weather: weather.csv             # optional: observed weather, used up to the as-of only
    weather_forecast: forecast.csv   # optional: expected weather of the days ahead (same formats)
    detect: {lookback: 1D, level: 0.95}
    engine: {name: local, workers: 2}   # or {name: dask, scheduler: "tcp://host:8786"}
    prometheus: {hours: 48}    # hours of bands written to bands.prom
    seed: 0
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..calendar.yamlio import YNode, file_size_problem, read_yaml
from ..errors import ConfigError


@dataclass(frozen=True)
class SourceConfig:
    """One data source: a file plus the data flags' meaning (SPEC "Data")."""

    path: str
    time_col: str = "ds"
    value_col: str = "y"
    metric_col: str = "metric"
    metric: str | None = None
    by: tuple[str, ...] = ()
    freq: str | None = None
    agg: str = "sum"

    def load_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`juno_forecast.data.load_data`."""
        kw = asdict(self)
        kw.pop("path")
        kw["by"] = tuple(self.by)
        return kw


@dataclass(frozen=True)
class DetectConfig:
    """Which past period is checked for incidents, and at which interval level."""

    lookback: str = "1D"
    level: float = 0.95


@dataclass(frozen=True)
class EngineConfig:
    """Where series run: ``local`` processes (``workers``) or a ``dask`` ``scheduler``."""

    name: str = "local"
    workers: int = 2
    scheduler: str | None = None


@dataclass(frozen=True)
class BatchConfig:
    """A validated nightly config; paths are absolute (resolved against the config file)."""

    data: tuple[SourceConfig, ...]
    horizon: str = "14D"
    model: str = "auto"
    history: str | None = None
    stale_after: str | None = None
    calendar: str | None = None
    weather: str | None = None
    weather_forecast: str | None = None
    detect: DetectConfig = field(default_factory=DetectConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    prom_hours: int = 48
    seed: int = 0
    source: str = "<config>"
    digest: str = ""

    def with_engine(
        self, name: str | None = None, workers: int | None = None, scheduler: str | None = None
    ) -> BatchConfig:
        """A copy with the engine overridden by command-line flags (None keeps the config's)."""
        e = self.engine
        new = EngineConfig(
            name=name or e.name,
            workers=workers if workers is not None else e.workers,
            scheduler=scheduler if scheduler is not None else e.scheduler,
        )
        if new.name == "dask" and not new.scheduler:
            raise ConfigError(
                [
                    f"{self.source}: engine.scheduler: expected an address for engine dask "
                    f"(--scheduler tcp://host:8786), got nothing"
                ]
            )
        return replace(self, engine=new)

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-able data (for the manifest; without the digest)."""
        data = json.loads(json.dumps(asdict(self), default=str))
        data.pop("digest", None)
        return data


# --------------------------------------------------------------------------- field checks
# The YAML is read by the calendar's line-keeping safe reader (``calendar.yamlio``):
# every value is a ``YNode`` (plain value + line); object-constructing tags are refused.


class _Errors:
    """Collects ``FILE:LINE: path: expected ..., got ...`` messages (reported in file order)."""

    def __init__(self, source: str):
        self.source = source
        self._items: list[tuple[int, str]] = []

    @property
    def items(self) -> list[str]:
        """The messages, in file order."""
        return [msg for _, msg in sorted(self._items, key=lambda t: t[0])]

    def add(self, line: int, path: str, expected: str, got: str) -> None:
        self._items.append((line, f"{self.source}:{line}: {path}: expected {expected}, got {got}"))

    def bad(self, node: YNode, path: str, expected: str) -> None:
        """Report that ``node``'s value is not what ``expected`` says."""
        self.add(node.line, path, expected, _got(node))


def _got(node: YNode) -> str:
    """How a wrong value is shown in a message: strings quoted, containers by kind."""
    if node.is_map:
        return "a mapping"
    if node.is_list:
        return "a list"
    if node.value is None:
        return "nothing"
    if isinstance(node.value, str):
        return json.dumps(node.value, ensure_ascii=False)
    return str(node.value).lower() if isinstance(node.value, bool) else str(node.value)


def _join(path: str, key: str) -> str:
    return key if not path else f"{path}.{key}"


def _mapping(node: YNode, path: str, allowed: set[str], errs: _Errors) -> dict[str, YNode] | None:
    """The known keys of a mapping node; unknown keys are reported with their line."""
    if not node.is_map:
        errs.bad(node, path or "(top)", "a mapping")
        return None
    out: dict[str, YNode] = {}
    for key, v in node.value.items():
        if key in allowed:
            out[key] = v
        else:
            errs.add(
                node.key_lines.get(key, node.line),
                _join(path, key),
                f"one of the keys {', '.join(sorted(allowed))}",
                f"unknown key {json.dumps(key)}",
            )
    return out


def _is_str(node: YNode) -> bool:
    return isinstance(node.value, str) and node.value.strip() != ""


def _text(node: YNode, path: str, errs: _Errors, what: str = "a non-empty text") -> str | None:
    if _is_str(node):
        return node.value.strip()
    errs.bad(node, path, what)
    return None


def _choice(node: YNode, path: str, choices: tuple[str, ...], errs: _Errors) -> str | None:
    if isinstance(node.value, str) and node.value in choices:
        return node.value
    errs.bad(node, path, "one of " + ", ".join(choices))
    return None


#: the longest horizon a nightly run forecasts (a year and a month; longer is a typo)
MAX_HORIZON = pd.Timedelta(days=400)


def _duration(
    node: YNode, path: str, errs: _Errors, most: pd.Timedelta | None = None
) -> str | None:
    """A positive duration like ``14D`` or ``48h`` (at most ``most`` when given)."""
    if isinstance(node.value, str):
        try:
            d = pd.Timedelta(node.value)
            if d > pd.Timedelta(0) and (most is None or d <= most):
                return node.value
        except ValueError:
            pass
    limit = f" of at most {most.days}D" if most is not None else ""
    errs.bad(node, path, f"a positive duration{limit} such as 14D or 48h")
    return None


def _int(node: YNode, path: str, errs: _Errors, minimum: int) -> int | None:
    v = node.value
    if isinstance(v, int) and not isinstance(v, bool) and v >= minimum:
        return v
    errs.bad(node, path, f"a whole number >= {minimum}")
    return None


def _level(node: YNode, path: str, errs: _Errors) -> float | None:
    v = node.value
    if isinstance(v, float) and 0.5 <= v < 1:
        return v
    errs.bad(node, path, "a number between 0.5 and 1 (e.g. 0.95)")
    return None


def _file(node: YNode, path: str, base: Path, errs: _Errors) -> str | None:
    """A file relative to the config's folder that must exist."""
    name = _text(node, path, errs, "a file path")
    if name is None:
        return None
    full = (base / name).resolve()
    if not full.is_file():
        errs.bad(node, path, "an existing file (relative to the config file)")
        return None
    return str(full)


_SOURCE_KEYS = {"path", "time_col", "value_col", "metric_col", "metric", "by", "freq", "agg"}


def _source(node: YNode, path: str, base: Path, errs: _Errors) -> SourceConfig | None:
    m = _mapping(node, path, _SOURCE_KEYS, errs)
    if m is None:
        return None
    n_before = len(errs.items)
    if "path" not in m:
        errs.add(node.line, _join(path, "path"), "a file path", "nothing")
    kw: dict[str, Any] = {}
    for key, v in m.items():
        p = _join(path, key)
        if key == "path":
            kw[key] = _file(v, p, base, errs)
        elif key in ("time_col", "value_col", "metric_col", "metric"):
            kw[key] = _text(v, p, errs, "a column or metric name")
        elif key == "by":
            kw[key] = _names(v, p, errs)
        elif key == "freq":
            kw[key] = _choice(v, p, ("h", "D"), errs)
        elif key == "agg":
            kw[key] = _choice(v, p, ("sum", "mean"), errs)
    if len(errs.items) > n_before:
        return None
    return SourceConfig(**kw)


def _names(node: YNode, path: str, errs: _Errors) -> tuple[str, ...] | None:
    """One column name or a list of them."""
    if _is_str(node):
        return (node.value.strip(),)
    if node.is_list:
        names = [_text(v, f"{path}[{i}]", errs, "a column name") for i, v in enumerate(node.value)]
        return tuple(n for n in names if n is not None)
    errs.bad(node, path, "a column name or a list of column names")
    return None


def _data(node: YNode, path: str, base: Path, errs: _Errors) -> tuple[SourceConfig, ...]:
    if not node.is_list or not node.value:
        errs.bad(node, path, "a non-empty list of data sources")
        return ()
    sources = [_source(v, f"{path}[{i}]", base, errs) for i, v in enumerate(node.value)]
    return tuple(s for s in sources if s is not None)


def _calendar(node: YNode, path: str, base: Path, errs: _Errors) -> str | None:
    if isinstance(node.value, str) and node.value.strip().lower() == "none":
        return "none"
    return _file(node, path, base, errs)


def _detect(node: YNode, path: str, errs: _Errors) -> DetectConfig:
    m = _mapping(node, path, {"lookback", "level"}, errs) or {}
    kw: dict[str, Any] = {}
    if "lookback" in m:
        kw["lookback"] = _duration(m["lookback"], _join(path, "lookback"), errs)
    if "level" in m:
        kw["level"] = _level(m["level"], _join(path, "level"), errs)
    return DetectConfig(**{k: v for k, v in kw.items() if v is not None})


def _engine(node: YNode, path: str, errs: _Errors) -> EngineConfig:
    m = _mapping(node, path, {"name", "workers", "scheduler"}, errs) or {}
    kw: dict[str, Any] = {}
    if "name" in m:
        kw["name"] = _choice(m["name"], _join(path, "name"), ("local", "dask"), errs)
    if "workers" in m:
        kw["workers"] = _int(m["workers"], _join(path, "workers"), errs, 1)
    if "scheduler" in m:
        kw["scheduler"] = _text(
            m["scheduler"],
            _join(path, "scheduler"),
            errs,
            "a scheduler address such as tcp://host:8786",
        )
    if kw.get("name") == "dask" and "scheduler" not in m:
        errs.add(node.line, _join(path, "scheduler"), "an address for engine dask", "nothing")
    return EngineConfig(**{k: v for k, v in kw.items() if v is not None})


def _prometheus(node: YNode, path: str, errs: _Errors) -> int | None:
    m = _mapping(node, path, {"hours"}, errs) or {}
    return _int(m["hours"], _join(path, "hours"), errs, 1) if "hours" in m else None


def _model(node: YNode, path: str, errs: _Errors) -> str | None:
    """A model name; checked against the model registry when it is importable."""
    try:
        from ..models import MODEL_NAMES
    except ImportError:  # models package not there yet: any name, checked at fit time
        return _text(node, path, errs, "a model name")
    names = tuple(MODEL_NAMES)
    return _choice(node, path, names, errs)


_TOP_KEYS = {
    "data",
    "horizon",
    "model",
    "history",
    "stale_after",
    "calendar",
    "weather",
    "weather_forecast",
    "detect",
    "engine",
    "prometheus",
    "seed",
}


def _top(root: YNode, base: Path, errs: _Errors) -> dict[str, Any]:
    """Check every top-level field; returns the valid ones as keyword arguments."""
    m = _mapping(root, "", _TOP_KEYS, errs)
    if m is None:
        return {}
    if "data" not in m:
        errs.add(root.line, "data", "a non-empty list of data sources", "nothing")
    checks: dict[str, Callable[[YNode, str], Any]] = {
        "data": lambda n, p: _data(n, p, base, errs),
        "horizon": lambda n, p: _duration(n, p, errs, MAX_HORIZON),
        "history": lambda n, p: _duration(n, p, errs),
        "stale_after": lambda n, p: _duration(n, p, errs),
        "model": lambda n, p: _model(n, p, errs),
        "calendar": lambda n, p: _calendar(n, p, base, errs),
        "weather": lambda n, p: _file(n, p, base, errs),
        "weather_forecast": lambda n, p: _file(n, p, base, errs),
        "detect": lambda n, p: _detect(n, p, errs),
        "engine": lambda n, p: _engine(n, p, errs),
        "prometheus": lambda n, p: _prometheus(n, p, errs),
        "seed": lambda n, p: _int(n, p, errs, 0),
    }
    kw = {key: checks[key](node, key) for key, node in m.items()}
    if "prometheus" in kw:
        kw["prom_hours"] = kw.pop("prometheus")
    return {k: v for k, v in kw.items() if v is not None}


def parse_config(text: str, source: str = "<config>", base: Path | None = None) -> BatchConfig:
    """Validate config ``text``; ``source`` names it in messages, ``base`` anchors relative paths.

    Raises :class:`ConfigError` listing every problem, each with its line.
    """
    errs = _Errors(source)
    root, problems = read_yaml(text)
    for p in problems:
        errs.add(p.line, p.path, p.expected, p.got)
    if root is None:
        raise ConfigError(errs.items)
    kw = _top(root, base or Path.cwd(), errs)
    if errs.items:
        raise ConfigError(errs.items)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return BatchConfig(source=source, digest=digest, **kw)


def load_config(path: str | Path) -> BatchConfig:
    """Read and validate the nightly config at ``path`` (paths in it are relative to it)."""
    p = Path(path)
    too_big = file_size_problem(p)  # refused before it is read into memory
    if too_big is not None:
        raise ConfigError([too_big.message(str(path))])
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [f"{path}:1: (file): expected an existing config file, got nothing"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [f"{path}:1: (file): expected a readable UTF-8 text file, got {exc}"]
        ) from None
    return parse_config(text, source=str(path), base=p.resolve().parent)
