"""``forecast`` and ``backtest``: expected values with ranges, and their honest evaluation.

Models are imported inside the commands, so ``juno-forecast --help`` stays fast.
"""

from __future__ import annotations

import click

from .options import (
    MODEL_HELP,
    calendar_options,
    check_time,
    data_options,
    model_option,
    output_options,
    path_option,
    seed_option,
)


def _report_problems(problems: list[str]) -> None:
    """Series that were skipped, one line each on stderr."""
    for p in problems:
        click.echo(f"skipped: {p}", err=True)


@click.command("forecast")
@data_options
@click.option("--horizon", default="14D", show_default=True, help="How far ahead: 14D, 48h, 2W.")
@click.option(
    "--cutoff",
    default=None,
    callback=check_time,
    help="Last timestamp of history to use (default: the last one); one outside the data "
    "is an error (exit 2).",
)
@model_option()
@seed_option
@calendar_options
@output_options
def forecast_command(**kw) -> None:
    """Expected values with 80% and 95% ranges from the history up to the cutoff."""
    from ..forecast import forecast

    out, fmt = kw.pop("out"), kw.pop("fmt")
    result = forecast(**kw)
    _report_problems(result.attrs.get("problems", []))
    from ..io import emit_table

    emit_table(result, out, fmt)


@click.command("backtest")
@data_options
@click.option(
    "--start", required=True, callback=check_time, help="First fold start (date or timestamp)."
)
@click.option("--end", required=True, callback=check_time, help="Last fold start.")
@click.option("--horizon", default="7D", show_default=True, help="Length of each fold's forecast.")
@click.option("--step", default="7D", show_default=True, help="Spacing of fold starts.")
@model_option(help=MODEL_HELP + " Several, comma-separated, to compare them.")
@path_option(
    "--folds",
    "folds_out",
    written=True,
    help="Also write the per-cutoff, per-series scores here (.csv/.parquet/.json).",
)
@seed_option
@calendar_options
@output_options
def backtest_command(**kw) -> None:
    """Rolling-origin evaluation with no look-ahead: per fold and series, then a summary.

    Prints (or writes with --out) the per-fold table: keys, metric, model,
    cutoff, n, mase, smape, coverage_80, coverage_95; the summary per model
    goes to stderr (or the table itself with --folds FILE, then --out gets
    the summary).
    """
    from ..forecast import backtest
    from ..io import emit_table, print_table, write_table

    out, fmt, folds_out = kw.pop("out"), kw.pop("fmt"), kw.pop("folds_out")
    models = [m.strip() for m in kw.pop("model").split(",") if m.strip()]
    result = backtest(model=models if len(models) > 1 else models[0], **kw)
    _report_problems(result.folds.attrs.get("problems", []))
    if folds_out:
        write_table(result.folds, folds_out)
        emit_table(result.summary, out, fmt)
        return
    emit_table(result.folds, out, fmt)
    click.echo("summary:", err=True)
    import sys

    print_table(result.summary.round(4), "table", sys.stderr)


def register(group: click.Group) -> None:
    """Add ``forecast`` and ``backtest`` to ``group``."""
    group.add_command(forecast_command)
    group.add_command(backtest_command)
