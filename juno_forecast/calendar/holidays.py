"""Public holidays from the ``holidays`` package, as configured in the calendar.

The calendar's ``holidays`` section names the country, subdivision and
whether observed days count (a Saturday holiday observed on the Friday);
nothing is retyped by hand. A name such as ``Independence Day (observed)``
takes the settings of ``Independence Day``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

from .records import HolidaySource, Scope

OBSERVED_SUFFIX = " (observed)"


def base_name(name: str) -> str:
    """``Christmas Day (observed)`` -> ``Christmas Day``."""
    return name[: -len(OBSERVED_SUFFIX)] if name.endswith(OBSERVED_SUFFIX) else name


def holiday_days(
    country: str, subdiv: str | None, observed: bool, years: Iterable[int]
) -> list[tuple[dt.date, str]]:
    """(day, base name) for every holiday in ``years``; a day with two holidays gives two rows."""
    return list(_holiday_days(country, subdiv, observed, tuple(years)))


@lru_cache(maxsize=64)
def _holiday_days(
    country: str, subdiv: str | None, observed: bool, years: tuple[int, ...]
) -> tuple[tuple[dt.date, str], ...]:
    import holidays

    table = holidays.country_holidays(country, subdiv=subdiv, years=years, observed=observed)
    out = []
    for day in sorted(table):
        for name in table.get_list(day):
            out.append((day, base_name(name)))
    return tuple(out)


def expand_holidays(
    src: HolidaySource, first_year: int, last_year: int
) -> list[tuple[str, dt.date, Scope, bool]]:
    """(display name, day, scope, is_observed_day) for the holidays of the years in bounds.

    The display name keeps ``(observed)`` so a user sees why a Friday is a holiday;
    the scope comes from the section, or from ``overrides`` for that holiday.
    """
    import holidays

    years = [y for y in range(first_year, last_year + 1) if src.years.allows(y)]
    if not years:
        return []
    table = holidays.country_holidays(
        src.country, subdiv=src.subdiv, years=years, observed=src.observed
    )
    overrides = {o.name: o.scope for o in src.overrides}
    out = []
    for day in sorted(table):
        for name in table.get_list(day):
            base = base_name(name)
            if base in src.exclude:
                continue
            out.append((name, day, overrides.get(base, src.scope), name != base))
    return out
