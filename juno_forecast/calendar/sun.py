"""Hours of the day anchored to sunrise or sunset in New York City.

An event's ``hours`` may say ``{from: sunset-1, to: sunset+2}``: the clock
hours from the one holding one hour before sunset to the one holding two
hours after it, on each day of the event. Sunrise and sunset come from the
``astral`` package for New York City (40.7128 N, 74.0060 W) in local
wall-clock time (America/New_York, the data's naive time), so the hours move
with the season and with daylight saving time: iftar, at sunset, is near
17:30 in February and 20:30 in June.

:class:`HourMark` is one end (a fixed hour, or an anchor plus an offset in
hours); :class:`SunHours` is a ``from``/``to`` pair with at least one anchor,
and :meth:`SunHours.on` gives its clock hours on one day. Fixed hours stay a
plain tuple of ints everywhere (see :func:`span_hours` for the shared rule).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from ..grain import TZ

#: where and in which time zone sunrise and sunset are computed (the data's city and clock)
LATITUDE, LONGITUDE, TIME_ZONE = 40.7128, -74.0060, TZ
ANCHORS = ("sunrise", "sunset")
#: an offset further than this from its anchor is refused (half a day: surely a mistake)
MAX_OFFSET = 12.0
_MARK = re.compile(r"^(sunrise|sunset)\s*(?:([+-])\s*(\d+(?:\.\d+)?))?$")


@lru_cache(maxsize=4096)
def sun_hours(day: dt.date) -> tuple[float, float]:
    """(sunrise, sunset) on ``day`` in New York, as hours after local midnight (e.g. 20.49)."""
    from zoneinfo import ZoneInfo

    from astral import Observer
    from astral.sun import sunrise, sunset

    tz = ZoneInfo(TIME_ZONE)
    where = Observer(latitude=LATITUDE, longitude=LONGITUDE)
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return tuple(
        (f(where, date=day, tzinfo=tz) - midnight).total_seconds() / 3600.0
        for f in (sunrise, sunset)
    )


@dataclass(frozen=True)
class HourMark:
    """One end of an hours span: a clock hour (``anchor`` None) or sunrise/sunset + ``offset``."""

    anchor: str | None
    offset: float

    def at(self, day: dt.date) -> float:
        """The time on ``day``, in hours after local midnight (may fall outside 0-24)."""
        if self.anchor is None:
            return self.offset
        rise, set_ = sun_hours(day)
        return (rise if self.anchor == "sunrise" else set_) + self.offset

    def text(self) -> str:
        """``17``, ``sunset``, ``sunset-1``, ``sunrise+0.5``."""
        if self.anchor is None:
            return f"{self.offset:g}"
        return self.anchor + (f"{self.offset:+g}" if self.offset else "")

    @classmethod
    def read(cls, value: object) -> HourMark | None:
        """A mark from a YAML value: an hour 0-23 or ``sunset``/``sunrise`` with ``+N``/``-N``
        hours (N may be fractional, up to 12); None when it is neither."""
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(None, float(value)) if 0 <= value <= 23 else None
        if not isinstance(value, str):
            return None
        m = _MARK.match(value.strip().lower())
        if m is None:
            return None
        offset = float(m.group(3) or 0.0) * (-1.0 if m.group(2) == "-" else 1.0)
        return cls(m.group(1), offset) if abs(offset) <= MAX_OFFSET else None


def span_hours(start: float, end: float) -> tuple[int, ...]:
    """The clock hours from the one holding ``start`` to the one holding ``end``, in order.

    The rule of every ``{from, to}``: both ends included; an end before the start
    wraps past midnight (``22`` to ``2`` is 22, 23, 0, 1, 2 of the same day); a
    span of 24 hours or more is the whole day. Times outside 0-24 (sunset+5 in
    June) land on the clock hour they name (25.5 is 1).
    """
    first, last = math.floor(start), math.floor(end)
    if last < first:
        last += 24
    if last - first >= 23:
        return tuple(range(24))
    return tuple(sorted({h % 24 for h in range(first, last + 1)}))


@dataclass(frozen=True)
class SunHours:
    """``{from, to}`` hours with at least one end anchored to sunrise or sunset."""

    start: HourMark
    end: HourMark

    def on(self, day: dt.date) -> tuple[int, ...]:
        """The clock hours of the span on ``day`` (sorted ints 0-23)."""
        return span_hours(self.start.at(day), self.end.at(day))

    def text(self) -> str:
        """``sunset-1 to sunset+2``, as written in the calendar."""
        return f"{self.start.text()} to {self.end.text()}"


#: an event's hours: a tuple of clock hours (empty: all day) or a span anchored to the sun
Hours = tuple[int, ...] | SunHours


def active_hours(hours: Hours | None, day: dt.date) -> tuple[int, ...]:
    """The clock hours of ``hours`` on ``day`` (empty: the whole day).

    The one place that turns any ``hours`` of the calendar into the hours of a
    given day; occurrences carry the result (see ``Calendar.occurrences``).
    """
    if isinstance(hours, SunHours):
        return hours.on(day)
    return tuple(hours or ())


__all__ = ["HourMark", "Hours", "SunHours", "active_hours", "span_hours", "sun_hours"]
