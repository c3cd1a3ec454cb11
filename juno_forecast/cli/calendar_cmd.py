"""``juno-forecast calendar validate|show``: check a calendar file, list its occurrences."""

from __future__ import annotations

import click

from .options import calendar_options, output_options

SHOW_COLUMNS = [
    "name",
    "category",
    "start",
    "end",
    "window_start",
    "window_end",
    "metrics",
    "zones",
    "effect",
    "source",
]


@click.group("calendar")
def calendar_group() -> None:
    """The events calendar: validate a file, show the occurrences in a date range."""


@calendar_group.command("validate")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def validate_cmd(path: str | None) -> None:
    """Check PATH (default: the shipped calendar); print every error, or a summary.

    Exit 0 when valid, 2 with one line per error (FILE:LINE: field: expected ..., got ...).
    """
    from ..calendar import Calendar

    cal = Calendar.load(path)  # CalendarError -> every error on stderr, exit 2 (cli.main)
    counts = cal.counts()
    total = sum(counts.values())
    detail = ", ".join(f"{cat} {n}" for cat, n in counts.items())
    click.echo(f"OK: {cal.path}: {total} events ({detail})")


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
    out: str | None,
    fmt: str,
) -> None:
    """The concrete occurrences from START to END, one row each."""
    from ..calendar import load_calendar
    from ..io import emit_table

    cats = _categories(category)
    table = load_calendar(calendar, weather).occurrences(start, end, category=cats)
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
    """Occurrences as plain text columns: dates YYYY-MM-DD, tuples ';'-joined, effect ``trips=-0.35``."""
    out = table[SHOW_COLUMNS].copy()
    for col in ("start", "end", "window_start", "window_end"):
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    for col in ("metrics", "zones"):
        out[col] = out[col].map(";".join)
    out["effect"] = out["effect"].map(lambda d: ";".join(f"{k}={v:g}" for k, v in d.items()))
    return out


def register(group: click.Group) -> None:
    """Add the ``calendar`` command group to ``group``."""
    group.add_command(calendar_group)
