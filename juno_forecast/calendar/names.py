"""The metric and zone names a calendar may use, checked with a "did you mean" hint.

An event scoped to ``zones: [Manhatan]`` or ``effect: {trip: -0.3}`` would
silently never apply, so every metric and zone name the calendar writes
(``metrics``, ``zones``, the keys of ``effect``/``window_effect``, in events,
holidays, overrides, ``by_zone``, ``by_hours`` and weather thresholds) must be
one it knows:

* metrics: :data:`STANDARD_METRICS`, the names listed under the top-level
  ``metrics:`` (your own metrics), and both sides of ``metric_aliases``;
* zones: the New York City boroughs and taxi zones (``nyc_zones.csv``: the
  Borough and Zone columns of the NYC TLC taxi zone lookup table), or, for
  another city, the names in a zones file (``Calendar.load(path, zones=FILE)``,
  ``calendar validate --zones FILE``, or ``zones_file: FILE`` in the calendar,
  relative to it). ``zones_unchecked: true`` at the top of a calendar turns the
  zone check off.

A zones file is a CSV with a header (every cell that is not a plain number is
a name, so the TLC lookup table itself works) or a text file of one name per line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from ..errors import InputError
from .fields import ErrorLog, boolean, text, text_list
from .yamlio import YNode

#: the metrics of SPEC ("trips, drivers online, riders online, wait times, airport queue speed")
STANDARD_METRICS = ("trips", "drivers_online", "riders_online", "wait_time", "airport_queue_speed")
NYC = "New York City (its boroughs and taxi zones)"
#: top-level keys of a calendar that say which names it may use
NAME_KEYS = ("metrics", "zones_unchecked", "zones_file")


@dataclass(frozen=True)
class KnownNames:
    """Names a calendar may use; ``zones`` None means zones are not checked."""

    metrics: frozenset[str]
    zones: frozenset[str] | None = None
    zones_from: str = NYC

    def check_metric(self, name: str, line: int, path: str, log: ErrorLog) -> bool:
        """True when ``name`` is a known metric; else log it with a hint."""
        expected = (
            f"a metric the calendar knows ({', '.join(sorted(self.metrics))}; "
            "list your own under the top-level metrics:)"
        )
        return _known(name, self.metrics, expected, line, path, log)

    def check_zone(self, name: str, line: int, path: str, log: ErrorLog) -> bool:
        """True when ``name`` is a known zone (or zones are unchecked); else log it with a hint."""
        if self.zones is None:
            return True
        expected = (
            f"a zone of {self.zones_from} (for another city: --zones FILE or zones_file:; "
            "zones_unchecked: true skips this check)"
        )
        return _known(name, self.zones, expected, line, path, log)


def _known(
    name: str, known: frozenset[str], expected: str, line: int, path: str, log: ErrorLog
) -> bool:
    """True when ``name`` is in ``known``; else log ``expected`` with a did-you-mean hint."""
    if name in known:
        return True
    log.add(line, path, expected, with_hint(name, known))
    return False


def known_names(
    f: dict[str, YNode],
    aliases: tuple[tuple[str, str], ...],
    log: ErrorLog,
    file: str,
    zones: tuple[frozenset[str], str] | None = None,
) -> KnownNames:
    """The names a calendar (top-level fields ``f``) may use; ``zones`` overrides NYC's."""
    own = text_list(f["metrics"], "metrics", log, "metric names") if "metrics" in f else ()
    metrics = frozenset(STANDARD_METRICS) | set(own or ()) | {m for pair in aliases for m in pair}
    if "zones_unchecked" in f and boolean(f["zones_unchecked"], "zones_unchecked", log):
        return KnownNames(metrics, None)
    if zones is not None:
        return KnownNames(metrics, zones[0], zones[1])
    if "zones_file" in f:
        return KnownNames(metrics, *_zones_file(f["zones_file"], log, file))
    return KnownNames(metrics, nyc_zones())


def _zones_file(node: YNode, log: ErrorLog, file: str) -> tuple[frozenset[str] | None, str]:
    """``zones_file: FILE`` (relative to the calendar): its names, or None after logging why."""
    name = text(node, "zones_file", log, "a file of zone names")
    if name is None:
        return None, ""
    path = Path(file).parent / name
    try:
        return read_zones(path), str(name)
    except InputError as e:
        log.add(node.line, "zones_file", "a readable file of zone names", f'"{name}" ({e})')
        return None, ""


def check_items(node: YNode, path: str, log: ErrorLog, kind: str) -> None:
    """Check each text of a ``metrics`` or ``zones`` list (or single text) against ``log.names``."""
    names: KnownNames | None = getattr(log, "names", None)
    if names is None:
        return
    check = names.check_metric if kind == "metric" else names.check_zone
    items = node.value if node.is_list else [node]
    for i, item in enumerate(items):
        sub = f"{path}[{i}]" if node.is_list else path
        value = item.value
        text_like = isinstance(value, str | int | float) and not isinstance(value, bool)
        if text_like and str(value).strip():
            check(str(value).strip(), item.line, sub, log)


def check_effect_metric(name: str, line: int, path: str, log: ErrorLog) -> bool:
    """A metric written as a key of ``effect``/``window_effect``: known to the calendar."""
    names: KnownNames | None = getattr(log, "names", None)
    return names is None or names.check_metric(name, line, path, log)


def with_hint(name: str, known: Iterable[str]) -> str:
    """``"Manhatan" (did you mean "Manhattan"?)``: the closest known name, case ignored."""
    known = list(known)
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    hint = f' (did you mean "{by_lower[close[0]]}"?)' if close else ""
    return f'"{name}"{hint}'


@lru_cache(maxsize=1)
def nyc_zones() -> frozenset[str]:
    """The NYC boroughs and taxi zone names shipped with the package."""
    path = resources.files("juno_forecast.calendar").joinpath("nyc_zones.csv")
    return _names_in_csv(path.read_text(encoding="utf-8"))


def read_zones(path: str | Path) -> frozenset[str]:
    """The zone names of a zones file (CSV with a header, or one name per line)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{p}: zones file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: cannot read the zones file ({type(e).__name__})") from None
    names = _names_in_csv(text) if p.suffix.lower() == ".csv" else _names_in_lines(text)
    if not names:
        raise InputError(f"{p}: the zones file holds no zone names")
    return names


def _names_in_csv(text: str) -> frozenset[str]:
    """Every cell under the header that is not a plain number (an id)."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text)))[1:]
    return frozenset(c.strip() for r in rows for c in r if c.strip() and not c.strip().isdigit())


def _names_in_lines(text: str) -> frozenset[str]:
    return frozenset(ln.strip() for ln in text.splitlines() if ln.strip())
