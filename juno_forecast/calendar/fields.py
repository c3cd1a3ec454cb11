"""Error collection and the checks of single YAML fields, shared by the validators.

Every check takes the :class:`~.yamlio.YNode` of a field and its dotted path,
returns the clean value (or ``None`` when wrong) and records one message per
problem in an :class:`ErrorLog`, so a whole file is checked in one pass and
all its errors are reported together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from .sun import HourMark, Hours, SunHours, span_hours
from .yamlio import REFUSED, YNode

REFUSED_TEXT = "<refused>"


def describe(value: Any) -> str:
    """How a wrong value is shown after ``got``: text quoted, lists/mappings named."""
    if isinstance(value, YNode):
        value = value.value
    if value is REFUSED:
        return REFUSED_TEXT
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class ErrorLog:
    """Collects ``FILE:LINE: field.path: expected ..., got ...`` messages."""

    def __init__(self, file: str):
        self.file = file
        self.messages: list[tuple[int, str]] = []
        self.names: Any = None  # the calendar's known metric/zone names (.names.KnownNames)

    def add(self, line: int, path: str, expected: str, got: str) -> None:
        """Record one error; ``got`` is already formatted (see :func:`describe`).

        A value whose tag was refused was reported when read: it is not reported again.
        """
        if got == REFUSED_TEXT:
            return
        self.messages.append((line, f"{self.file}:{line}: {path}: expected {expected}, got {got}"))

    def wrong(self, node: YNode, path: str, expected: str) -> None:
        """Record that ``node`` is not what ``expected`` says."""
        self.add(node.line, path, expected, describe(node))

    def sorted(self) -> list[str]:
        """The messages in file order (stable for equal lines)."""
        return [m for _, m in sorted(self.messages, key=lambda lm: lm[0])]

    def __bool__(self) -> bool:
        return bool(self.messages)


def check_keys(
    node: YNode,
    path: str,
    log: ErrorLog,
    allowed: set[str] | tuple[str, ...],
    required: tuple[str, ...] = (),
) -> dict[str, YNode] | None:
    """A mapping whose keys are all in ``allowed``; unknown and missing keys are errors."""
    if not node.is_map:
        log.wrong(node, path, "a mapping of " + ", ".join(sorted(allowed)))
        return None
    fields: dict[str, YNode] = node.value
    for key in fields:
        if key not in allowed:
            log.add(
                node.key_lines[key],
                f"{path}.{key}" if path else key,
                "one of the keys " + ", ".join(sorted(allowed)),
                f'the unknown key "{key}"',
            )
    for key in required:
        if key not in fields:
            article = "an" if key[0] in "aeiou" else "a"
            log.add(node.line, f"{path}.{key}" if path else key, f"{article} {key}", "nothing")
    return {k: v for k, v in fields.items() if k in allowed}


def optional(
    f: dict[str, YNode],
    key: str,
    path: str,
    log: ErrorLog,
    check: Callable[..., Any],
    *args: Any,
    default: Any = None,
    **kwargs: Any,
) -> Any:
    """Field ``key`` of the mapping ``f`` through ``check`` (at ``path.key``), or ``default``.

    The one rule of an optional field: absent, it takes its default; present, its
    check runs with ``args``/``kwargs`` (and logs what is wrong, returning None).
    """
    if key not in f:
        return default
    return check(f[key], f"{path}.{key}" if path else key, log, *args, **kwargs)


def whole(
    node: YNode,
    path: str,
    log: ErrorLog,
    lo: int | None = None,
    hi: int | None = None,
    what: str = "a whole number",
) -> int | None:
    """A whole number in ``[lo, hi]`` (booleans and 2.5 are not whole numbers)."""
    v = node.value
    ok = isinstance(v, int) and not isinstance(v, bool)
    if ok and (lo is None or v >= lo) and (hi is None or v <= hi):
        return v
    log.wrong(node, path, what + _bounds(lo, hi))
    return None


def _bounds(lo: int | None, hi: int | None) -> str:
    """`` from 1 to 12``, `` >= 0``, `` <= 23`` or nothing."""
    if lo is not None and hi is not None:
        return f" from {lo} to {hi}"
    if lo is not None:
        return f" >= {lo}"
    return f" <= {hi}" if hi is not None else ""


def number(node: YNode, path: str, log: ErrorLog, what: str = "a number") -> float | None:
    """A real number (int or float, not a boolean)."""
    v = node.value
    if isinstance(v, bool) or not isinstance(v, int | float):
        log.wrong(node, path, what)
        return None
    return float(v)


def text(node: YNode, path: str, log: ErrorLog, what: str = "a non-empty text") -> str | None:
    """A non-empty string (numbers are accepted as their text, e.g. a zone called 7)."""
    v = node.value
    if isinstance(v, int | float) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str) or not v.strip():
        log.wrong(node, path, what)
        return None
    return v.strip()


def boolean(node: YNode, path: str, log: ErrorLog) -> bool | None:
    """true or false."""
    if not isinstance(node.value, bool):
        log.wrong(node, path, "true or false")
        return None
    return node.value


def a_date(node: YNode, path: str, log: ErrorLog) -> dt.date | None:
    """A real calendar date written YYYY-MM-DD (2015-02-30 is refused)."""
    v = node.value
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    log.wrong(node, path, "a real date written YYYY-MM-DD")
    return None


def text_list(node: YNode, path: str, log: ErrorLog, what: str) -> tuple[str, ...] | None:
    """A list of non-empty texts (a single text is accepted as a list of one)."""
    if not node.is_list:
        one = text(node, path, log, f"a list of {what}")
        return (one,) if one else None
    out = [
        text(item, f"{path}[{i}]", log, f"a {what[:-1] if what.endswith('s') else what}")
        for i, item in enumerate(node.value)
    ]
    return tuple(o for o in out if o) if all(out) else None


HOURS_SPELLING = "a list of hours 0-23 or {from: H, to: H}"
MARK_SPELLING = "an hour 0-23, or sunrise/sunset with an offset in hours (sunset-1, sunrise+0.5)"


def parse_hours(node: YNode, path: str, log: ErrorLog, anchors: bool = False) -> Hours | None:
    """An event's hours: a list of hours 0-23, or ``{from: H, to: H}`` inclusive.

    ``{from: 22, to: 2}`` wraps past midnight. With ``anchors``, an end may be
    ``sunrise``/``sunset`` with an offset in hours (``{from: sunset-1, to:
    sunset+2}``): a :class:`~.sun.SunHours` whose clock hours move with the date.
    Fixed hours come back as a sorted tuple of ints (see :func:`.sun.span_hours`).
    """
    if node.is_map:
        f = check_keys(node, path, log, ("from", "to"), required=("from", "to"))
        if not f or len(f) < 2:
            return None
        marks = {k: _hour_mark(f[k], f"{path}.{k}", log, anchors) for k in ("from", "to")}
        start, end = marks["from"], marks["to"]
        if start is None or end is None:
            return None
        if start.anchor or end.anchor:
            return SunHours(start, end)
        return span_hours(start.offset, end.offset)
    if not node.is_list or not node.value:
        log.wrong(node, path, HOURS_SPELLING)
        return None
    hours = [whole(h, f"{path}[{i}]", log, 0, 23, "an hour") for i, h in enumerate(node.value)]
    return tuple(sorted(set(hours))) if None not in hours else None


def _hour_mark(node: YNode, path: str, log: ErrorLog, anchors: bool) -> HourMark | None:
    """One end of ``{from, to}``: an hour 0-23, or (with ``anchors``) sunrise/sunset +- hours."""
    if not anchors:
        h = whole(node, path, log, 0, 23, "an hour")
        return None if h is None else HourMark(None, float(h))
    mark = HourMark.read(node.value)
    if mark is None:
        log.wrong(node, path, MARK_SPELLING)
    return mark
