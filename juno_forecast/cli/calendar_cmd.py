"""``juno-forecast calendar validate|show``: check a calendar file, list its occurrences."""

from __future__ import annotations

import click

from .options import calendar_options, output_options, path_option

#: occurrence columns shown after SPEC's, as text (what shapes an effect), or not at all (shape)
DETAIL_COLUMNS = (
    "hours",
    "shape",
    "window_effect",
    "by_zone",
    "by_hours",
    "spread",
    "window_spread",
    "hours_like",
)


@click.group("calendar")
def calendar_group() -> None:
    """The events calendar: validate a file, show the occurrences in a date range."""


@calendar_group.command("validate")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@path_option(
    "--zones",
    help="Zone names the calendar may use (CSV with a header, or one per line); "
    "default New York City's boroughs and taxi zones.",
)
def validate_cmd(path: str | None, zones: str | None) -> None:
    """Check PATH (default: the shipped calendar); print every error, or a summary.

    Metric and zone names are checked too (a misspelt one gets a "did you mean"
    hint). Exit 0 when valid, 2 with one line per error
    (FILE:LINE: field: expected ..., got ...).
    """
    from ..calendar import Calendar

    cal = Calendar.load(path, zones=zones)  # CalendarError -> every error on stderr, exit 2
    _warn_unlearnable(cal)
    counts = cal.counts()
    total = sum(counts.values())
    detail = ", ".join(f"{cat} {n}" for cat, n in counts.items())
    click.echo(f"OK: {cal.path}: {total} events ({detail})")


def _warn_unlearnable(cal) -> None:  # noqa: ANN001 (a Calendar, imported lazily)
    """One stderr line per entry that can explain nothing (no effect, nothing to learn from)."""
    from ..calendar.records import unlearnable_events

    for e in unlearnable_events(cal.spec.events):
        click.echo(
            f"warning: {cal.path}:{e.line}: {e.name!r} has no effect and no earlier occurrence "
            "to learn one from: it explains nothing (give it an effect, e.g. effect: {trips: -0.1})",
            err=True,
        )


@calendar_group.command("show")
@click.option("--start", required=True, help="First day, YYYY-MM-DD.")
@click.option("--end", required=True, help="Last day, YYYY-MM-DD (inclusive).")
@click.option(
    "--category",
    default=None,
    help="Only these categories (comma-separated), e.g. holiday,weather.",
)
@calendar_options
@output_options
def show_cmd(
    start: str,
    end: str,
    category: str | None,
    calendar: str | None,
    weather: str | None,
    weather_forecast: str | None,
    out: str | None,
    fmt: str,
) -> None:
    """The concrete occurrences from START to END, one row each."""
    from ..calendar import load_calendar
    from ..io import emit_table

    cats = _categories(category)
    table = load_calendar(calendar, weather, weather_forecast).occurrences(
        start, end, category=cats
    )
    emit_table(render_occurrences(table), out, fmt)


def _categories(value: str | None) -> list[str] | None:
    from ..calendar import CATEGORIES
    from ..errors import InputError

    if not value:
        return None
    cats = [c.strip().lower() for c in value.split(",") if c.strip()]
    bad = [c for c in cats if c not in CATEGORIES]
    if bad:
        raise InputError(f"--category: expected one of {', '.join(CATEGORIES)}, got {bad[0]!r}")
    return cats


def render_occurrences(table):  # noqa: ANN001, ANN201 (pandas imported lazily)
    """Occurrences as plain text columns: dates YYYY-MM-DD, tuples ';'-joined, effect ``trips=-0.35``.

    SPEC's columns come first; then the event's hours (``16-23``), its window's own prior,
    and the effects that differ by zone (``Manhattan: trips=-0.3, window trips=-0.2 |
    ...``) or by hour (``0-3: trips=0.5 | ...``), so the analyst sees every prior applied;
    last the city-wide uncertainty of the effects (``spread``, ``window_spread``).
    """
    from ..calendar import OCCURRENCE_COLUMNS

    out = table[[c for c in OCCURRENCE_COLUMNS if c not in DETAIL_COLUMNS]].copy()
    for col in ("start", "end", "window_start", "window_end"):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    for col in ("metrics", "zones"):
        out[col] = out[col].map(";".join)
    out["effect"] = out["effect"].map(_effect_text)
    out["hours"] = table["hours"].map(_hours_text)
    out["window_effect"] = table["window_effect"].map(_effect_text)
    out["zone_effects"] = table["by_zone"].map(_zone_text)
    out["hour_effects"] = table["by_hours"].map(_by_hours_text)
    out["spread"] = table["spread"].map(_effect_text)
    out["window_spread"] = table["window_spread"].map(_effect_text)
    return out


def _effect_text(effect) -> str:  # noqa: ANN001 (a dict, pairs or None)
    """``trips=-0.35;drivers_online=-0.1`` (empty for no effect)."""
    return ";".join(f"{k}={v:g}" for k, v in dict(effect or {}).items())


def _hours_text(hours) -> str:  # noqa: ANN001 (a tuple of ints)
    """``16-23`` or ``0-3;6-9`` from the hours of the day (empty: all day)."""
    runs: list[list[int]] = []
    for h in sorted(hours or ()):
        if runs and h == runs[-1][1] + 1:
            runs[-1][1] = h
        else:
            runs.append([h, h])
    return ";".join(f"{a}-{b}" if b > a else str(a) for a, b in runs)


def _zone_text(by_zone) -> str:  # noqa: ANN001 (a tuple of ZoneEffect)
    """``Manhattan: trips=-0.3, window trips=-0.2 | Brooklyn;Queens: trips=0.1``."""
    parts = []
    for z in by_zone or ():
        said = [_effect_text(z.effect)] if z.effect else []
        said += [f"window {_effect_text(z.window_effect)}"] if z.window_effect else []
        said += [f"spread {_effect_text(z.spread)}"] if z.spread else []
        said += [f"window spread {_effect_text(z.window_spread)}"] if z.window_spread else []
        parts.append(f"{';'.join(z.zones)}: {', '.join(said)}")
    return " | ".join(parts)


def _by_hours_text(by_hours) -> str:  # noqa: ANN001 (hour -> effect)
    """``0-3: trips=0.5 | 6-9: trips=-0.45``: hours with the same reshaping grouped."""
    groups: dict[str, list[int]] = {}
    for hour, effect in sorted(dict(by_hours or {}).items()):
        groups.setdefault(_effect_text(effect), []).append(hour)
    return " | ".join(f"{_hours_text(hours)}: {text}" for text, hours in groups.items())


def register(group: click.Group) -> None:
    """Add the ``calendar`` command group to ``group``."""
    group.add_command(calendar_group)
