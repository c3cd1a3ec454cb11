"""Every way of saying *when* a yearly event happens, and its expansion to dates.

A ``rule`` in the calendar is one anchor plus optional modifiers::

    rule: {month: 7, day: 4}                          # fixed month/day
    rule: {month: 11, weekday: sunday, nth: 1}        # 1st Sunday of November
    rule: {month: 5, weekday: monday, nth: last}      # last Monday of May
    rule: {easter: -2}                                # days from (Western) Easter Sunday
    rule: {hijri_month: 9, hijri_day: 1, days: month} # a Hijri date (Ramadan, the whole month)
    rule: {holiday: Rosh Hashanah, country: IL}       # as the holidays package computes it

    modifiers: days: N (duration, default 1; "month" for a whole Hijri month),
               offset: N (move the anchor by N days, e.g. the Wednesday after
               Thanksgiving is {month: 11, weekday: thursday, nth: 4, offset: 6}),
               move_if: {sunday: -1} (when the day falls on that weekday, move it).

Each anchor kind is one class in :data:`ANCHORS`; adding a kind means adding a
class there (its keys, how to check them, how to find its dates in a year).
"""

from __future__ import annotations

import calendar as pycal
import datetime as dt
from dataclasses import dataclass
from typing import ClassVar

from dateutil.easter import easter as western_easter

from .fields import ErrorLog, check_keys, describe, whole
from .yamlio import YNode

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_INDEX = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    **{d[:3]: i for i, d in enumerate(WEEKDAYS)},
}
COMMON_KEYS = ("days", "offset", "move_if")
HIJRI_YEARS = (1925, 2076)  # Gregorian years fully inside hijridate's range (1924-08 to 2077-11)


@dataclass(frozen=True)
class FixedDate:
    """The same month and day every year (Feb 29 only in leap years)."""

    month: int
    day: int
    KEYS: ClassVar[tuple[str, ...]] = ("month", "day")
    SPELLING: ClassVar[str] = "{month, day}"

    def starts(self, first_year: int, last_year: int) -> list[tuple[dt.date, dt.date | None]]:
        """(day, natural end or None) for each year in the range."""
        out = []
        for y in range(first_year, last_year + 1):
            if self.day <= pycal.monthrange(y, self.month)[1]:
                out.append((dt.date(y, self.month, self.day), None))
        return out

    @classmethod
    def parse(cls, f: dict[str, YNode], path: str, log: ErrorLog) -> FixedDate | None:
        month = (
            whole(f["month"], f"{path}.month", log, 1, 12, "a month number")
            if "month" in f
            else None
        )
        day = (
            whole(f["day"], f"{path}.day", log, 1, 31, "a day of the month") if "day" in f else None
        )
        if "month" not in f:
            log.add(f["day"].line, f"{path}.month", "a month number from 1 to 12", "nothing")
        if month and day and day > (29 if month == 2 else pycal.monthrange(2001, month)[1]):
            log.wrong(f["day"], f"{path}.day", f"a day that exists in month {month}")
            return None
        return cls(month, day) if month and day else None


@dataclass(frozen=True)
class NthWeekday:
    """The nth (1..5) or last (-1) given weekday of a month."""

    month: int
    weekday: int
    nth: int
    KEYS: ClassVar[tuple[str, ...]] = ("month", "weekday", "nth")
    SPELLING: ClassVar[str] = "{month, weekday, nth}"

    def starts(self, first_year: int, last_year: int) -> list[tuple[dt.date, dt.date | None]]:
        """(day, None) for each year where that nth weekday exists."""
        out = []
        for y in range(first_year, last_year + 1):
            days = [
                d
                for d in pycal.Calendar().itermonthdates(y, self.month)
                if d.month == self.month and d.weekday() == self.weekday
            ]
            idx = self.nth - 1 if self.nth > 0 else self.nth
            if -len(days) <= idx < len(days):
                out.append((days[idx], None))
        return out

    @classmethod
    def parse(cls, f: dict[str, YNode], path: str, log: ErrorLog) -> NthWeekday | None:
        ok = True
        for key in cls.KEYS:
            if key not in f:
                log.add(f["weekday"].line, f"{path}.{key}", f"a {key} with weekday", "nothing")
                ok = False
        month = (
            whole(f["month"], f"{path}.month", log, 1, 12, "a month number")
            if "month" in f
            else None
        )
        weekday = parse_weekday(f["weekday"], f"{path}.weekday", log)
        nth = None
        if "nth" in f:
            node = f["nth"]
            if isinstance(node.value, str) and node.value.strip().lower() == "last":
                nth = -1
            elif (
                isinstance(node.value, int)
                and not isinstance(node.value, bool)
                and (1 <= node.value <= 5 or -5 <= node.value <= -1)
            ):
                nth = node.value
            else:
                log.wrong(
                    node, f"{path}.nth", "1 to 5, or last (or -1 to -5 counting from the end)"
                )
        if ok and month and weekday is not None and nth:
            return cls(month, weekday, nth)
        return None


@dataclass(frozen=True)
class EasterRelative:
    """A number of days from Western (Gregorian) Easter Sunday: -2 is Good Friday."""

    easter: int
    KEYS: ClassVar[tuple[str, ...]] = ("easter",)
    SPELLING: ClassVar[str] = "{easter}"

    def starts(self, first_year: int, last_year: int) -> list[tuple[dt.date, dt.date | None]]:
        """(Easter + n days, None) per year."""
        return [
            (western_easter(y) + dt.timedelta(days=self.easter), None)
            for y in range(first_year, last_year + 1)
        ]

    @classmethod
    def parse(cls, f: dict[str, YNode], path: str, log: ErrorLog) -> EasterRelative | None:
        n = whole(f["easter"], f"{path}.easter", log, -120, 120, "days from Easter Sunday")
        return cls(n) if n is not None else None


@dataclass(frozen=True)
class HijriDate:
    """A day of the Islamic (Hijri, Umm al-Qura) calendar, via the ``hijridate`` package.

    ``days: month`` makes the event last to the end of that Hijri month
    (29 or 30 days, as the calendar has it). Years outside the package's range
    (about 1924-2077) are skipped.
    """

    hijri_month: int
    hijri_day: int = 1
    KEYS: ClassVar[tuple[str, ...]] = ("hijri_month", "hijri_day")
    SPELLING: ClassVar[str] = "{hijri_month, hijri_day}"

    def starts(self, first_year: int, last_year: int) -> list[tuple[dt.date, dt.date | None]]:
        """(Gregorian first day, last day of the Hijri month) for starts in the years."""
        from hijridate import Gregorian, Hijri

        out = []
        first, last = max(first_year, HIJRI_YEARS[0]), min(last_year, HIJRI_YEARS[1])
        if first > last:
            return []
        lo_h = _hijri_year(Gregorian, first, 1, 1)
        hi_h = _hijri_year(Gregorian, last, 12, 31)
        for hy in range(lo_h, hi_h + 1):
            try:
                h = Hijri(hy, self.hijri_month, self.hijri_day)
                start = _plain(h.to_gregorian())
                month_end = _plain(Hijri(hy, self.hijri_month, h.month_length()).to_gregorian())
            except (OverflowError, ValueError):
                continue
            if first_year <= start.year <= last_year:
                out.append((start, month_end))
        return out

    @classmethod
    def parse(cls, f: dict[str, YNode], path: str, log: ErrorLog) -> HijriDate | None:
        month = whole(f["hijri_month"], f"{path}.hijri_month", log, 1, 12, "a Hijri month number")
        day = 1
        if "hijri_day" in f:
            day = whole(f["hijri_day"], f"{path}.hijri_day", log, 1, 30, "a Hijri day of the month")
        return cls(month, day) if month and day else None


def _plain(g: dt.date) -> dt.date:
    """hijridate's Gregorian (a date subclass) as a plain ``datetime.date``."""
    return dt.date(g.year, g.month, g.day)


def _hijri_year(gregorian_cls: type, y: int, m: int, d: int) -> int:
    return gregorian_cls(y, m, d).to_hijri().year


@dataclass(frozen=True)
class PackageHoliday:
    """A holiday as the ``holidays`` package computes it for a country, e.g. Rosh
    Hashanah (IL), Chinese New Year (CN) or Diwali (IN): its first day each year.

    For religious calendars (Hebrew, Chinese lunisolar, Hindu) that no simple
    rule can express; ``holiday`` is the package's name, without "(observed)".
    """

    holiday: str
    country: str
    KEYS: ClassVar[tuple[str, ...]] = ("holiday", "country")
    SPELLING: ClassVar[str] = "{holiday, country}"
    CHECK_YEARS: ClassVar[range] = range(2014, 2031)

    def starts(self, first_year: int, last_year: int) -> list[tuple[dt.date, dt.date | None]]:
        """(first day with that name, None) for each year that has one."""
        from .holidays import holiday_days

        firsts: dict[int, dt.date] = {}
        for day, name in holiday_days(self.country, None, False, range(first_year, last_year + 1)):
            if name == self.holiday and day.year not in firsts:
                firsts[day.year] = day
        return [(d, None) for _, d in sorted(firsts.items())]

    @classmethod
    def parse(cls, f: dict[str, YNode], path: str, log: ErrorLog) -> PackageHoliday | None:
        import holidays

        if "country" not in f:
            log.add(
                f["holiday"].line,
                f"{path}.country",
                "a country code with holiday (e.g. IL)",
                "nothing",
            )
            return None
        name, country = f["holiday"].value, f["country"].value
        if not isinstance(country, str) or country not in holidays.list_supported_countries():
            log.wrong(
                f["country"],
                f"{path}.country",
                "a country code the holidays package knows (e.g. IL)",
            )
            return None
        names = {n for _, n in cls(str(name), country).known(cls.CHECK_YEARS)}
        if name not in names:
            log.wrong(
                f["holiday"],
                f"{path}.holiday",
                f"a holiday name of {country}: " + _some(sorted(names)),
            )
            return None
        return cls(name, country)

    def known(self, years: range) -> list[tuple[dt.date, str]]:
        """Every (day, name) the package gives for this country in ``years``."""
        from .holidays import holiday_days

        return holiday_days(self.country, None, False, years)


def _some(names: list[str], n: int = 12) -> str:
    """The first ``n`` names, then how many more."""
    more = f" ... ({len(names) - n} more)" if len(names) > n else ""
    return ", ".join(names[:n]) + more


# Which key tells which anchor kind a rule is (checked in this order).
ANCHORS: dict[str, type] = {
    "hijri_month": HijriDate,
    "holiday": PackageHoliday,
    "easter": EasterRelative,
    "weekday": NthWeekday,
    "day": FixedDate,
}
Anchor = FixedDate | NthWeekday | EasterRelative | HijriDate | PackageHoliday


@dataclass(frozen=True)
class Rule:
    """A yearly rule: an anchor day, moved by ``offset`` and ``move_if``, lasting ``days``.

    ``days`` is ``None`` for "the whole Hijri month" (only with a Hijri anchor).
    """

    anchor: Anchor
    days: int | None = 1
    offset: int = 0
    move_if: tuple[tuple[int, int], ...] = ()

    def spans(self, first_year: int, last_year: int) -> list[tuple[dt.date, dt.date]]:
        """Inclusive (start, end) of every occurrence whose anchor falls in the years."""
        out = []
        for day, natural_end in self.anchor.starts(first_year, last_year):
            start = day + dt.timedelta(days=self.offset)
            shift = dict(self.move_if).get(start.weekday(), 0)
            start += dt.timedelta(days=shift)
            if self.days is None:
                end = natural_end + dt.timedelta(days=self.offset + shift)
            else:
                end = start + dt.timedelta(days=self.days - 1)
            out.append((start, end))
        return out


def parse_weekday(node: YNode, path: str, log: ErrorLog) -> int | None:
    """monday..sunday (or mon..sun), any case."""
    v = node.value
    if isinstance(v, str) and v.strip().lower() in WEEKDAY_INDEX:
        return WEEKDAY_INDEX[v.strip().lower()]
    log.wrong(node, path, "a weekday name (monday ... sunday)")
    return None


def parse_rule(node: YNode, path: str, log: ErrorLog) -> Rule | None:
    """Check a ``rule`` mapping and build its :class:`Rule` (errors go to ``log``)."""
    kinds = [cls for key, cls in ANCHORS.items() if node.is_map and key in node.value]
    if not node.is_map or not kinds:
        spellings = " or ".join(cls.SPELLING for cls in ANCHORS.values())
        got = "keys " + ", ".join(node.value) if node.is_map and node.value else None
        log.add(node.line, path, f"a yearly rule {spellings}", got or describe(node))
        return None
    kind = kinds[0]
    f = check_keys(node, path, log, set(kind.KEYS) | set(COMMON_KEYS))
    if f is None:
        return None
    anchor = kind.parse(f, path, log)
    days = _parse_days(f.get("days"), path, log, kind is HijriDate)
    offset = (
        whole(f["offset"], f"{path}.offset", log, -366, 366, "a number of days")
        if "offset" in f
        else 0
    )
    move_if = _parse_move_if(f.get("move_if"), f"{path}.move_if", log)
    if anchor is None or days == -1 or offset is None or move_if is None:
        return None
    return Rule(anchor, days, offset, move_if)


def _parse_days(node: YNode | None, path: str, log: ErrorLog, hijri: bool) -> int | None:
    """Duration: a whole number >= 1, or ``month`` for a Hijri anchor. -1 means wrong."""
    if node is None:
        return 1
    if hijri and isinstance(node.value, str) and node.value.strip().lower() == "month":
        return None
    v = node.value
    if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 400:
        return v
    log.wrong(
        node, f"{path}.days", "a whole number of days >= 1" + (' or "month"' if hijri else "")
    )
    return -1


def _parse_move_if(
    node: YNode | None, path: str, log: ErrorLog
) -> tuple[tuple[int, int], ...] | None:
    """{weekday: days} moves; e.g. {sunday: -1} holds a Sunday event on the Saturday."""
    if node is None:
        return ()
    if not node.is_map:
        log.wrong(node, path, "a mapping of weekday: days, e.g. {sunday: -1}")
        return None
    out, ok = [], True
    for name, val in node.value.items():
        wd = WEEKDAY_INDEX.get(name.strip().lower())
        if wd is None:
            log.add(
                node.key_lines[name],
                f"{path}.{name}",
                "a weekday name (monday ... sunday)",
                f'"{name}"',
            )
            ok = False
        n = whole(val, f"{path}.{name}", log, -7, 7, "a number of days")
        ok = ok and n is not None
        if ok:
            out.append((wd, n))
    return tuple(out) if ok else None
