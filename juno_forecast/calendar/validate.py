"""Strict validation of a calendar file: YAML node tree -> :class:`~.records.CalendarSpec`.

Every problem is recorded (``FILE:LINE: field.path: expected ..., got ...``)
and the whole file is checked before :class:`~juno_forecast.errors.CalendarError`
is raised with all of them. The fields an event may have are listed once, in
:data:`EVENT_KEYS`; the ways of saying when, in :data:`WHEN_KEYS` and
:mod:`.rules`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..errors import CalendarError
from .fields import (
    ErrorLog,
    a_date,
    boolean,
    check_keys,
    describe,
    number,
    optional,
    parse_hours,
    text,
    text_list,
    whole,
)
from .names import NAME_KEYS, check_effect_metric, check_items, known_names, with_hint
from .records import (
    CATEGORIES,
    HOURLY_MEANINGS,
    SHAPES,
    WEATHER_FIELDS,
    CalendarSpec,
    Event,
    HolidayOverride,
    HolidaySource,
    HourEffect,
    HourlyColumns,
    Scope,
    Threshold,
    WeatherConfig,
    Window,
    YearBounds,
    ZoneEffect,
)
from .rules import WEEKDAYS, Rule, parse_rule, parse_weekday
from .sun import Hours
from .yamlio import YNode, read_yaml

TOP_KEYS = ("version", "metric_aliases", "holidays", "events", "weather", *NAME_KEYS)
SCOPE_KEYS = (
    "window",
    "hours",
    "metrics",
    "zones",
    "effect",
    "window_effect",
    "by_zone",
    "by_hours",
    "shape",
    "spread",
    "window_spread",
    "hours_like",
)
ZONE_EFFECT_KEYS = ("zones", "effect", "window_effect", "spread", "window_spread")
WHEN_KEYS = ("date", "start", "dates", "rule")
EVENT_KEYS = ("name", "category", *WHEN_KEYS, "end", "years", *SCOPE_KEYS, "source", "notes")
HOLIDAY_KEYS = (
    "country",
    "subdiv",
    "observed",
    "years",
    "exclude",
    "overrides",
    "source",
    *SCOPE_KEYS,
)
THRESHOLD_KEYS = ("name", "field", "at_least", "at_most", "extend", *SCOPE_KEYS)
HOURLY_KEYS = ("time_col", "time_format", "columns", "snow_ratio", "freezing")
MAX_EFFECT = 10.0
#: a rule without year bounds must occur at least once in these years (the shipped span)
RULE_YEARS = (2014, 2030)


def load_spec(
    text_: str, file: str, zones: tuple[frozenset[str], str] | None = None
) -> CalendarSpec:
    """Parse and validate a calendar's text; raise CalendarError listing every problem.

    ``zones``: (zone names, where they come from) that the calendar's zones are
    checked against instead of New York City's (see :mod:`.names`).
    """
    log = ErrorLog(file)
    root, problems = read_yaml(text_)
    for p in problems:
        log.add(p.line, p.path, p.expected, p.got)
    if root is not None and root.value == {} and not problems:  # blank or only comments
        log.add(1, "(file)", "a mapping with an events list", "an empty file")
    spec = parse_root(root, log, file, zones) if root is not None else None
    if spec is not None and not log and _knows_nothing(spec):
        log.add(1, "(file)", "at least one event, a holidays section or weather thresholds", "none")
    if log or spec is None:
        raise CalendarError(log.sorted())
    return spec


def _knows_nothing(spec: CalendarSpec) -> bool:
    """An empty calendar file (use ``--calendar none`` to turn the calendar off)."""
    return not spec.events and spec.holidays is None and not spec.weather.thresholds


def parse_root(
    root: YNode, log: ErrorLog, file: str, zones: tuple[frozenset[str], str] | None = None
) -> CalendarSpec | None:
    """The top-level mapping: version, names, holidays, events, weather."""
    f = check_keys(root, "", log, TOP_KEYS) if root.is_map else None
    if f is None:
        if not root.is_map:
            log.wrong(root, "(file)", "a mapping with an events list")
        return None
    if "version" in f and f["version"].value != 1:
        log.wrong(f["version"], "version", "1 (the only version so far)")
    aliases = _parse_aliases(f["metric_aliases"], log) if "metric_aliases" in f else ()
    log.names = known_names(f, aliases, log, file, zones)
    holidays = optional(f, "holidays", "", log, parse_holidays)
    events: list[Event] = []
    if "events" in f:
        node = f["events"]
        if node.is_list:
            events = [
                e for i, n in enumerate(node.value) if (e := parse_event(n, f"events[{i}]", log))
            ]
        elif node.value is not None:
            log.wrong(node, "events", "a list of events")
    weather = optional(f, "weather", "", log, parse_weather, default=WeatherConfig())
    return CalendarSpec(tuple(events), holidays, weather or WeatherConfig(), file, aliases)


def _parse_aliases(node: YNode, log: ErrorLog) -> tuple[tuple[str, str], ...]:
    """``metric_aliases: {pickups: trips}``: your metric name -> the calendar's metric name."""
    if not node.is_map or not node.value:
        log.wrong(node, "metric_aliases", "a mapping of your metric: the calendar's metric")
        return ()
    out = []
    for alias, target in node.value.items():
        canonical = text(target, f"metric_aliases.{alias}", log, "a metric name")
        if canonical is None:
            continue
        if canonical == alias or canonical in node.value:
            log.add(
                target.line,
                f"metric_aliases.{alias}",
                "a metric the calendar's effects use (not itself an alias)",
                describe(target),
            )
            continue
        out.append((str(alias), canonical))
    return tuple(out)


# ----------------------------------------------------------------------------- events


def parse_event(node: YNode, path: str, log: ErrorLog) -> Event | None:
    """One entry of ``events``; None when it has errors (they are logged)."""
    f = check_keys(node, path, log, EVENT_KEYS, required=("name", "category"))
    if f is None:
        return None
    n_errors = len(log.messages)
    name = optional(f, "name", path, log, text)
    category = optional(f, "category", path, log, _choice, CATEGORIES)
    spans, rule = _parse_when(node, f, path, log)
    years = optional(f, "years", path, log, _parse_years, default=YearBounds())
    if "years" in f and "rule" not in f:
        log.add(node.key_lines["years"], f"{path}.years", "years only with a rule", "a dated event")
    scope = parse_scope(f, path, log)
    source = optional(f, "source", path, log, text, default="")
    notes = optional(f, "notes", path, log, text, default="")
    if rule is not None and len(log.messages) == n_errors:
        _check_occurs(f["rule"], f"{path}.rule", log, rule, years)
    if len(log.messages) > n_errors:
        return None
    return Event(name, category, spans, rule, years, scope, source or "", notes or "", node.line)


def _check_occurs(node: YNode, path: str, log: ErrorLog, rule: Rule, years: YearBounds) -> None:
    """A rule that never happens in its years (or in RULE_YEARS) would never apply: an error."""
    first = years.first or RULE_YEARS[0]
    last = min(years.last or max(first, RULE_YEARS[1]), first + 100)
    if not any(years.allows(s.year) for s, _ in rule.spans(first, last)):
        log.add(node.line, path, f"a rule that occurs at least once from {first} to {last}", "none")


def _parse_when(
    node: YNode, f: dict[str, YNode], path: str, log: ErrorLog
) -> tuple[tuple[tuple[dt.date, dt.date], ...], Rule | None]:
    """Exactly one of date | start+end | dates | rule."""
    given = [k for k in WHEN_KEYS if k in f]
    if "end" in f and "start" not in f:
        log.add(node.key_lines["end"], f"{path}.start", "a start date with end", "nothing")
        return (), None
    if len(given) != 1:
        got = "none of them" if not given else ", ".join(given[:-1]) + " and " + given[-1]
        log.add(node.line, path, "exactly one of date, start/end, dates, rule", got)
        return (), None
    key = given[0]
    if key == "date":
        d = a_date(f["date"], f"{path}.date", log)
        return (((d, d),) if d else ()), None
    if key == "start":
        return _parse_range(node, f, path, log), None
    if key == "dates":
        return _parse_dates(f["dates"], f"{path}.dates", log), None
    return (), parse_rule(f["rule"], f"{path}.rule", log)


def _parse_range(
    node: YNode, f: dict[str, YNode], path: str, log: ErrorLog
) -> tuple[tuple[dt.date, dt.date], ...]:
    start = a_date(f["start"], f"{path}.start", log)
    if "end" not in f:
        log.add(node.line, f"{path}.end", "an end date with start", "nothing")
        return ()
    end = a_date(f["end"], f"{path}.end", log)
    if start and end and end < start:
        log.add(f["end"].line, f"{path}.end", f"a date on or after start {start}", end.isoformat())
        return ()
    return ((start, end),) if start and end else ()


def _parse_dates(node: YNode, path: str, log: ErrorLog) -> tuple[tuple[dt.date, dt.date], ...]:
    """A list whose items are dates or {start, end} ranges."""
    if not node.is_list or not node.value:
        log.wrong(node, path, "a list of dates or {start, end} ranges")
        return ()
    out = []
    for i, item in enumerate(node.value):
        sub = f"{path}[{i}]"
        if item.is_map:
            g = check_keys(item, sub, log, ("start", "end"), required=("start", "end"))
            if g and "start" in g and "end" in g:
                out.extend(_parse_range(item, g, sub, log))
        else:
            d = a_date(item, sub, log)
            if d:
                out.append((d, d))
    return tuple(out)


def _parse_years(node: YNode, path: str, log: ErrorLog) -> YearBounds:
    """{from: Y, to: Y, except: [Y, ...]} (each optional)."""
    f = check_keys(node, path, log, ("from", "to", "except"))
    if f is None:
        return YearBounds()
    first = optional(f, "from", path, log, whole, 1900, 2200, "a year")
    last = optional(f, "to", path, log, whole, 1900, 2200, "a year")
    if first and last and last < first:
        log.add(f["to"].line, f"{path}.to", f"a year >= from ({first})", str(last))
    skip: list[int] = []
    if "except" in f:
        items = f["except"].value if f["except"].is_list else [f["except"]]
        for i, it in enumerate(items):
            y = whole(it, f"{path}.except[{i}]", log, 1900, 2200, "a year")
            if y:
                skip.append(y)
    return YearBounds(first, last, tuple(skip))


# ----------------------------------------------------------------------------- scope


def parse_scope(f: dict[str, YNode], path: str, log: ErrorLog, base: Scope | None = None) -> Scope:
    """window, hours, metrics, zones, effect, shape (missing ones from ``base``)."""
    base = base or Scope()
    p = (lambda k: f"{path}.{k}") if path else (lambda k: k)
    window = optional(f, "window", path, log, _parse_window, default=base.window)
    hours = optional(f, "hours", path, log, _parse_hours, anchors=True, default=base.hours)
    metrics = optional(f, "metrics", path, log, text_list, "metric names", default=base.metrics)
    zones = optional(f, "zones", path, log, text_list, "zone names", default=base.zones)
    for key, kind in (("metrics", "metric"), ("zones", "zone")):
        if key in f and (metrics if key == "metrics" else zones):
            check_items(f[key], p(key), log, kind)
    effect = optional(f, "effect", path, log, _parse_effect, metrics or (), default=base.effect)
    shape = optional(f, "shape", path, log, _choice, SHAPES, default=base.shape)
    window_effect = base.window_effect
    if "window_effect" in f:
        window_effect = _parse_effect(f["window_effect"], p("window_effect"), log, metrics or ())
        _need_window(f["window_effect"], p("window_effect"), log, window)
    by_zone = base.by_zone
    if "by_zone" in f:
        by_zone = _parse_by_zone(
            f["by_zone"],
            p("by_zone"),
            log,
            metrics or (),
            zones or (),
            window,
            (effect or (), window_effect or ()),
        )
    by_hours = base.by_hours
    if "by_hours" in f:
        fixed = hours if isinstance(hours, tuple) else ()  # sun-anchored hours move: not checked
        by_hours = _parse_by_hours(f["by_hours"], p("by_hours"), log, metrics or (), fixed)
    spread = _parse_spread(f, "spread", "effect", p, log, effect or (), base.spread)
    window_spread = _parse_spread(
        f, "window_spread", "window_effect", p, log, window_effect or (), base.window_spread
    )
    hours_like = optional(f, "hours_like", path, log, _parse_hours_like, default=base.hours_like)
    return Scope(
        metrics or (),
        zones or (),
        effect or (),
        hours or (),
        window or Window(),
        shape or "pulse",
        window_effect or (),
        by_zone or (),
        by_hours or (),
        spread or (),
        window_spread or (),
        hours_like,
    )


def _parse_spread(
    f: dict[str, YNode],
    key: str,
    effect_key: str,
    p: Callable[[str], str],
    log: ErrorLog,
    effect: tuple[tuple[str, float], ...],
    base: tuple[tuple[str, float], ...] = (),
) -> tuple[tuple[str, float], ...] | None:
    """``spread``/``window_spread`` of a scope: given, else ``base`` minus re-given effects."""
    if key in f:
        return _parse_spread_map(f[key], p(key), log, tuple(m for m, _ in effect), effect_key)
    if effect_key in f:  # a new effect without its spread: the default follows the new effect
        given = {m for m, _ in effect}
        return tuple((m, s) for m, s in base if m not in given)
    return base


def _parse_spread_map(
    node: YNode, path: str, log: ErrorLog, metrics: tuple[str, ...], effect_key: str
) -> tuple[tuple[str, float], ...] | None:
    """{metric: standard deviation of the relative change}, each >= 0 and <= 10.

    Each metric must have an ``effect_key`` there (a spread without an effect
    would never apply); metrics left out get :func:`~.records.default_spread`.
    """
    if not node.is_map or not node.value:
        log.wrong(node, path, "a mapping of metric: spread of the effect, e.g. {trips: 0.1}")
        return None
    out = []
    for metric, val in node.value.items():
        sub = f"{path}.{metric}"
        v = val.value
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= MAX_EFFECT:
            log.add(val.line, sub, f"a spread from 0 to {MAX_EFFECT:g} (e.g. 0.1)", describe(val))
            continue
        if metric not in metrics:
            article = "an" if effect_key == "effect" else "a"
            expected = (
                f"a metric with {article} {effect_key} (" + (", ".join(metrics) or "none") + ")"
            )
            log.add(node.key_lines[metric], sub, expected, f'"{metric}"')
            continue
        out.append((str(metric), float(v)))
    return tuple(out) if len(out) == len(node.value) else None


def _parse_by_hours(
    node: YNode, path: str, log: ErrorLog, metrics: tuple[str, ...], hours: tuple[int, ...]
) -> tuple[HourEffect, ...] | None:
    """``[{hours: {from: 0, to: 3}, effect: {trips: 0.6}}, ...]``; an hour in one entry only."""
    if not node.is_list or not node.value:
        log.wrong(node, path, "a list of {hours, effect}")
        return None
    out, seen = [], set()
    for i, item in enumerate(node.value):
        sub = f"{path}[{i}]"
        g = check_keys(item, sub, log, ("hours", "effect"), required=("hours", "effect"))
        if g is None or "hours" not in g or "effect" not in g:
            continue
        hrs = _parse_hours(g["hours"], f"{sub}.hours", log) or ()
        for h in hrs:
            if h in seen:
                log.add(g["hours"].line, f"{sub}.hours", "an hour listed once in by_hours", str(h))
            elif hours and h not in hours:
                expected = "one of the event's hours (" + ", ".join(map(str, hours)) + ")"
                log.add(g["hours"].line, f"{sub}.hours", expected, str(h))
            seen.add(h)
        eff = _parse_effect(g["effect"], f"{sub}.effect", log, metrics)
        if hrs and eff:
            out.append(HourEffect(hrs, eff, item.line))
    return tuple(out)


def _parse_hours_like(node: YNode, path: str, log: ErrorLog) -> tuple[str, float] | None:
    """``sunday`` or ``{day: sunday, share: 0.6}``: (weekday, share 0-1, default 1).

    The weekday whose hours the event's days look like, and how far: the share of
    the way from the day's own weekday to it (see :mod:`juno_forecast.dayoff`).
    """
    if not node.is_map:
        day = parse_weekday(node, path, log)
        return None if day is None else (WEEKDAYS[day], 1.0)
    f = check_keys(node, path, log, ("day", "share"), required=("day",))
    if f is None or "day" not in f:
        return None
    day = parse_weekday(f["day"], f"{path}.day", log)
    share = optional(f, "share", path, log, number, "a share above 0, at most 1", default=1.0)
    if share is not None and not 0 < share <= 1:
        log.wrong(f["share"], f"{path}.share", "a share above 0, at most 1")
        share = None
    return None if day is None or share is None else (WEEKDAYS[day], share)


def _need_window(node: YNode, path: str, log: ErrorLog, window: Window | None) -> None:
    """A window effect without a window would never apply: say so."""
    if window is not None and window.before == 0 and window.after == 0:
        log.add(node.line, path, "a window (window: {before: N, after: N}) to apply to", "none")


def _parse_by_zone(
    node: YNode,
    path: str,
    log: ErrorLog,
    metrics: tuple[str, ...],
    zones: tuple[str, ...],
    window: Window | None,
    event_effects: tuple[tuple, tuple] = ((), ()),
) -> tuple[ZoneEffect, ...] | None:
    """``[{zones: [Manhattan], effect: {...}, window_effect: {...}}, ...]``; a zone once only.

    An entry's ``spread``/``window_spread`` may name a metric whose effect is
    the entry's or the event's (``event_effects``: the event's effect and window effect).
    """
    event_effect, event_weffect = event_effects
    if not node.is_list or not node.value:
        log.wrong(node, path, "a list of {zones, effect, window_effect}")
        return None
    out, seen = [], set()
    for i, item in enumerate(node.value):
        sub = f"{path}[{i}]"
        g = check_keys(item, sub, log, ZONE_EFFECT_KEYS, required=("zones",))
        if g is None or "zones" not in g:
            continue
        names = text_list(g["zones"], f"{sub}.zones", log, "zone names") or ()
        if names:
            check_items(g["zones"], f"{sub}.zones", log, "zone")
        for z in names:
            if z in seen:
                log.add(g["zones"].line, f"{sub}.zones", "a zone listed once in by_zone", f'"{z}"')
            elif zones and z not in zones:
                expected = "one of the event's zones (" + ", ".join(zones) + ")"
                log.add(g["zones"].line, f"{sub}.zones", expected, f'"{z}"')
            seen.add(z)
        if "effect" not in g and "window_effect" not in g:
            log.add(item.line, sub, "an effect or a window_effect for these zones", "neither")
        eff = _parse_effect(g["effect"], f"{sub}.effect", log, metrics) if "effect" in g else None
        weff = None
        if "window_effect" in g:
            weff = _parse_effect(g["window_effect"], f"{sub}.window_effect", log, metrics)
            _need_window(g["window_effect"], f"{sub}.window_effect", log, window)
        spreads = [
            _parse_spread_map(g[k], f"{sub}.{k}", log, tuple(m for m, _ in (e or ())), ek)
            if k in g
            else None
            for k, ek, e in (
                ("spread", "effect", _merge_effects(event_effect, eff)),
                ("window_spread", "window_effect", _merge_effects(event_weffect, weff)),
            )
        ]
        out.append(ZoneEffect(names, eff, weff, item.line, *spreads))
    return tuple(out)


def _merge_effects(base: tuple, override: tuple | None) -> tuple:
    """The metrics' effects of a zone: the event's, replaced by the entry's where given."""
    return tuple({**dict(base), **dict(override or ())}.items())


def _parse_window(node: YNode, path: str, log: ErrorLog) -> Window | None:
    f = check_keys(node, path, log, ("before", "after"))
    if f is None:
        return None
    vals = {
        k: whole(f[k], f"{path}.{k}", log, 0, None, "a whole number of days")
        for k in ("before", "after")
        if k in f
    }
    if any(v is None for v in vals.values()):
        return None
    return Window(vals.get("before", 0), vals.get("after", 0))


def _parse_hours(node: YNode, path: str, log: ErrorLog, anchors: bool = False) -> Hours | None:
    """Hours 0-23 (a list or {from, to}); with ``anchors`` also sunrise/sunset +- hours.

    The rule is :func:`.fields.parse_hours`; ``by_hours`` takes clock hours only.
    """
    return parse_hours(node, path, log, anchors)


def _parse_effect(
    node: YNode, path: str, log: ErrorLog, metrics: tuple[str, ...]
) -> tuple[tuple[str, float], ...] | None:
    """{metric: relative change}, each change > -1 (-1 would be every trip lost) and <= 10."""
    if not node.is_map or not node.value:
        log.wrong(node, path, "a mapping of metric: relative change, e.g. {trips: -0.3}")
        return None
    out = []
    for metric, val in node.value.items():
        sub = f"{path}.{metric}"
        v = val.value
        if isinstance(v, bool) or not isinstance(v, int | float) or not -1 < v <= MAX_EFFECT:
            log.add(
                val.line,
                sub,
                f"a relative change above -1 and at most {MAX_EFFECT:g} (e.g. -0.3)",
                describe(val),
            )
            continue
        if not check_effect_metric(str(metric), node.key_lines[metric], sub, log):
            continue
        if metrics and metric not in metrics:
            log.add(
                node.key_lines[metric],
                sub,
                "a metric listed in metrics (" + ", ".join(metrics) + ")",
                f'"{metric}"',
            )
            continue
        out.append((str(metric), float(v)))
    return tuple(out) if len(out) == len(node.value) else None


def _choice(
    node: YNode,
    path: str,
    log: ErrorLog,
    choices: tuple[str, ...],
    case: Callable[[str], str] = str.lower,
) -> str | None:
    """One of ``choices``, whatever the case of the text (``case`` spells it as they do)."""
    v = node.value
    if isinstance(v, str) and case(v.strip()) in choices:
        return case(v.strip())
    log.wrong(node, path, "one of " + ", ".join(choices))
    return None


# ----------------------------------------------------------------------------- holidays


def parse_holidays(node: YNode, path: str, log: ErrorLog) -> HolidaySource | None:
    """The ``holidays`` section (public holidays from the holidays package)."""
    f = check_keys(node, path, log, HOLIDAY_KEYS)
    if f is None:
        return None
    n = len(log.messages)
    country = optional(f, "country", path, log, text, default="US")
    subdiv = optional(f, "subdiv", path, log, text)
    observed = optional(f, "observed", path, log, boolean, default=True)
    years = optional(f, "years", path, log, _parse_years, default=YearBounds())
    scope = parse_scope(f, path, log)
    source = optional(f, "source", path, log, text, default="")
    if country and len(log.messages) == n:
        _check_country(f, path, log, country, subdiv)
    names = _holiday_names(country, subdiv, observed) if len(log.messages) == n else set()
    exclude = _parse_holiday_names(f.get("exclude"), f"{path}.exclude", log, names)
    overrides = _parse_overrides(f.get("overrides"), f"{path}.overrides", log, names, scope)
    if len(log.messages) > n:
        return None
    return HolidaySource(
        country, subdiv, bool(observed), years, scope, exclude, overrides, source or "", node.line
    )


def _check_country(
    f: dict[str, YNode], path: str, log: ErrorLog, country: str, subdiv: str | None
) -> None:
    import holidays

    supported = holidays.list_supported_countries()
    if country not in supported:
        log.wrong(
            f["country"], f"{path}.country", "a country code the holidays package knows (e.g. US)"
        )
    elif subdiv and subdiv not in holidays.country_holidays(country).subdivisions:
        log.wrong(f["subdiv"], f"{path}.subdiv", f"a subdivision of {country} (e.g. NY)")


def _holiday_names(country: str, subdiv: str | None, observed: bool) -> set[str]:
    """Every holiday name the package gives for the place (observed suffix removed)."""
    from .holidays import holiday_days

    return {name for _, name in holiday_days(country, subdiv, observed, range(2014, 2031))}


def _parse_holiday_names(
    node: YNode | None, path: str, log: ErrorLog, names: set[str]
) -> tuple[str, ...]:
    if node is None:
        return ()
    items = text_list(node, path, log, "holiday names") or ()
    nodes = node.value if node.is_list else [node]
    for item, it_node in zip(items, nodes, strict=False):
        if names and item not in names:
            log.add(
                it_node.line,
                path,
                "a holiday name of the package: " + ", ".join(sorted(names)),
                with_hint(item, names),
            )
    return items


def _parse_overrides(
    node: YNode | None, path: str, log: ErrorLog, names: set[str], base: Scope
) -> tuple[HolidayOverride, ...]:
    """{holiday name: {window, effect, hours, metrics, zones, shape}}."""
    if node is None:
        return ()
    if not node.is_map:
        log.wrong(node, path, "a mapping of holiday name: settings")
        return ()
    out = []
    for name, sub_node in node.value.items():
        sub = f"{path}.{name}"
        if names and name not in names:
            log.add(
                node.key_lines[name],
                sub,
                "a holiday name of the package: " + ", ".join(sorted(names)),
                with_hint(name, names),
            )
            continue
        g = check_keys(sub_node, sub, log, SCOPE_KEYS)
        if g is not None:
            out.append(HolidayOverride(name, parse_scope(g, sub, log, base)))
    return tuple(out)


# ----------------------------------------------------------------------------- weather


def parse_weather(node: YNode, path: str, log: ErrorLog) -> WeatherConfig | None:
    """The ``weather`` section: thresholds (list) and hourly (column mapping)."""
    f = check_keys(node, path, log, ("thresholds", "hourly"))
    if f is None:
        return None
    thresholds: list[Threshold] = []
    if "thresholds" in f:
        t = f["thresholds"]
        if t.is_list:
            thresholds = [
                x
                for i, n in enumerate(t.value)
                if (x := parse_threshold(n, f"{path}.thresholds[{i}]", log))
            ]
        else:
            log.wrong(t, f"{path}.thresholds", "a list of thresholds")
    hourly = optional(f, "hourly", path, log, parse_hourly, default=HourlyColumns())
    return WeatherConfig(tuple(thresholds), hourly or HourlyColumns())


def parse_threshold(node: YNode, path: str, log: ErrorLog) -> Threshold | None:
    """name, field (PRCP SNOW SNWD TMAX TMIN), exactly one of at_least/at_most, extend, scope."""
    f = check_keys(node, path, log, THRESHOLD_KEYS, required=("name", "field"))
    if f is None:
        return None
    n = len(log.messages)
    name = optional(f, "name", path, log, text)
    field_ = optional(f, "field", path, log, _choice, WEATHER_FIELDS, case=str.upper)
    limits = [k for k in ("at_least", "at_most") if k in f]
    if len(limits) != 1:
        log.add(node.line, path, "exactly one of at_least, at_most", "both" if limits else "none")
    vals = {
        k: number(f[k], f"{path}.{k}", log) for k in ("at_least", "at_most", "extend") if k in f
    }
    scope = parse_scope(f, path, log)
    if len(log.messages) > n:
        return None
    return Threshold(
        name,
        field_,
        vals.get("at_least"),
        vals.get("at_most"),
        vals.get("extend"),
        scope,
        node.line,
    )


def parse_hourly(node: YNode, path: str, log: ErrorLog) -> HourlyColumns | None:
    """time_col, time_format, columns {PRCP, SNOW, SNWD, TEMP: column}, snow_ratio, freezing."""
    f = check_keys(node, path, log, HOURLY_KEYS)
    if f is None:
        return None
    n = len(log.messages)
    time_col = optional(f, "time_col", path, log, text, default="ds")
    fmt = optional(f, "time_format", path, log, text)
    cols: list[tuple[str, str]] = []
    if "columns" in f:
        g = check_keys(f["columns"], f"{path}.columns", log, HOURLY_MEANINGS)
        for meaning, col in (g or {}).items():
            c = text(col, f"{path}.columns.{meaning}", log, "a column name")
            if c:
                cols.append((meaning, c))
    ratio = optional(f, "snow_ratio", path, log, number, default=10.0)
    freezing = optional(f, "freezing", path, log, number, default=32.0)
    if len(log.messages) > n:
        return None
    return HourlyColumns(time_col, fmt, tuple(cols), ratio, freezing)
