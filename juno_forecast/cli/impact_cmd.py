"""``juno-forecast impact``: what an incident cost, per series, with ranges.

The table goes to ``--out`` or stdout; the share of zones affected and any
series that could not be judged go to stderr (so ``--format csv`` stays clean);
``--plots DIR`` writes one PNG per series and ``--summary PATH.md`` a Markdown
debrief. The work is in :mod:`juno_forecast.impact` (imported when the
command runs, not when the CLI starts).
"""

from __future__ import annotations

from pathlib import Path

import click

from .options import (
    MODEL_HELP,
    calendar_options,
    data_options,
    model_option,
    output_options,
    path_option,
    seed_option,
)


def _share_lines(result) -> list[str]:  # noqa: ANN001 - ImpactResult, imported lazily
    table = result.table
    lines = []
    for metric, group in table.groupby("metric", sort=False):
        k, n = int(group["affected"].sum()), len(group)
        lines.append(
            f"{metric}: {k} of {n} zones affected ({100 * k / n:.0f}%) in the window "
            f"{group['steps'].max()} steps from {result.start}"
        )
    lines += [f"not judged: {p}" for p in result.problems]
    return lines


@click.command("impact")
@data_options
@calendar_options
@output_options
@click.option(
    "--start", required=True, help="First timestamp of the incident window (e.g. 2015-01-26T18:00)."
)
@click.option(
    "--end",
    required=True,
    help="Last timestamp of the window, inclusive; a date alone means the whole day.",
)
@click.option(
    "--post",
    is_flag=True,
    help="Also use the data after the window to re-level the counterfactual.",
)
@model_option(help="Forecasting model for the counterfactual: " + MODEL_HELP)
@click.option(
    "--folds",
    "n_folds",
    type=click.IntRange(0, 120),
    default=42,
    show_default=True,
    help="Pseudo-windows (the window moved back by whole days) whose errors size the ranges.",
)
@click.option(
    "--anchor",
    type=click.FloatRange(0, 1),
    default=1.0,
    show_default=True,
    help="Weight of the local level (actual/forecast over the same hours around the window; 0: off).",
)
@click.option(
    "--level-days",
    "level_days",
    type=click.IntRange(1, 28),
    default=7,
    show_default=True,
    help="Days before (and with --post after) the window whose same hours give the local level.",
)
@click.option(
    "--refits",
    type=click.IntRange(0, 10),
    default=0,
    show_default=True,
    help="Judge the pseudo-windows out of sample with this many extra fits (0: the main fit; "
    "wider, slower ranges).",
)
@click.option(
    "--controls",
    "controls",
    default=None,
    metavar="auto|KEY=VALUE,...",
    help="Unaffected series of the same metric whose deviation from their own forecasts inside "
    "the window also scales the counterfactual (a shock of that day, e.g. Easter, shows in them "
    "too). 'auto': for each series every other series of its metric; KEY=VALUE,...: the "
    "matching series (e.g. borough=Queens,borough=Bronx), not judged themselves. For local "
    "incidents (an outage in one zone), not city-wide ones. Default off.",
)
@click.option(
    "--exclude-event",
    "exclude_events",
    multiple=True,
    metavar="NAME",
    help="Leave this calendar event (shell pattern, e.g. 'Blizzard*') out of the "
    "counterfactual: the incident itself. Repeatable.",
)
@path_option(
    "--plots", folder=True, written=True, help="Write one PNG per series into this folder."
)
@path_option(
    "--summary", written=True, help="Write a Markdown summary for the incident debrief here."
)
@seed_option
def impact_command(**kwargs: object) -> None:
    """What an incident cost: counterfactual totals per series with 80/95% ranges.

    Prints keys, metric, actual_total, expected_total, lo_95, hi_95 (the 95%
    range of expected_total), difference, difference_pct, peak_ds, affected, and
    more columns (ranges of the difference, the peak, events in the window).
    """
    from ..impact import run_impact
    from ..impact.summary import impact_summary_markdown
    from ..io import atomic_write, emit_table

    out, fmt = kwargs.pop("out"), kwargs.pop("fmt")
    plots, summary = kwargs.pop("plots"), kwargs.pop("summary")
    result = run_impact(**kwargs)
    emit_table(result.table, out, fmt)
    for line in _share_lines(result):
        click.echo(line, err=True)
    if summary:
        text = impact_summary_markdown(result)
        atomic_write(summary, lambda p: p.write_text(text, encoding="utf-8"))
        click.echo(f"summary: {summary}", err=True)
    if plots:
        from ..impact.plot import save_impact_plots

        written = save_impact_plots(result, Path(plots))
        click.echo(f"plots: {len(written)} PNG files in {plots}", err=True)


def register(group: click.Group) -> None:
    """Add ``impact`` to ``group``."""
    group.add_command(impact_command)
