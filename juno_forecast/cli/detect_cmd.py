"""``detect``, ``expect`` and ``check``: flagged deviations, coming ranges, the release check.

Heavy work (models, matplotlib) is imported inside the commands, so ``juno-forecast
--help`` stays fast.
"""

from __future__ import annotations

import json
import sys

import click

from .options import (
    calendar_options,
    data_options,
    model_option,
    output_options,
    path_option,
)

#: at most this many series get a figure in ``detect --report`` (most severe first)
MAX_REPORT_FIGURES = 20


def _write_report(result, out_dir: str, title: str) -> None:
    """Figures for the series with incidents (unexplained first), then the HTML + Markdown."""
    import matplotlib.pyplot as plt

    from ..data import series_label
    from ..detect import INCIDENT_COLUMNS
    from ..plot import plot_detection
    from ..report import report

    inc = result.incidents
    keys = [c for c in inc.columns if c not in INCIDENT_COLUMNS]
    labels = list(
        dict.fromkeys(series_label(r["metric"], {k: r[k] for k in keys}) for _, r in inc.iterrows())
    )
    figures = {
        la: plot_detection(result.series[la])
        for la in labels[:MAX_REPORT_FIGURES]
        if la in result.series
    }
    html_path, md_path = report(result.incidents, figures, out_dir, title=title)
    for fig in figures.values():
        plt.close(fig)
    click.echo(f"report: {html_path} and {md_path}", err=True)


@click.command("detect")
@data_options
@click.option("--start", required=True, help="First day (or timestamp) to check.")
@click.option("--end", required=True, help="Last day (or timestamp) to check.")
@click.option(
    "--level",
    default=0.95,
    show_default=True,
    type=float,
    help="Range level: points outside it are flagged (0.8, 0.95, ...).",
)
@model_option(
    "baseline", "Expectation model: baseline (robust, fast, refit daily) or a forecasting model."
)
@click.option(
    "--min-points",
    default=None,
    type=click.IntRange(min=1),
    help="Shortest run of flagged points kept as an incident (default: 3 hours, or 1 day).",
)
@path_option(
    "--report",
    "report_dir",
    folder=True,
    written=True,
    help="Also write report.html and report.md (with plots) in this folder.",
)
@calendar_options
@output_options
def detect_command(**kw) -> None:
    """Flagged deviations between --start and --end, one row per incident.

    Each timestamp's expectation comes only from data before its day. Incidents that
    overlap a calendar event (dates or window, hours, metric and zone) are explained;
    unexplained ones come first, then by severity.
    """
    from ..detect import run_detection
    from ..io import emit_table

    out, fmt, report_dir = kw.pop("out"), kw.pop("fmt"), kw.pop("report_dir")
    res = run_detection(**kw)
    for p in res.problems:
        click.echo(f"warning: skipped {p}", err=True)
    if report_dir:
        _write_report(res, report_dir, f"Flagged deviations {kw['start']} to {kw['end']}")
    emit_table(res.incidents, out, fmt)


@click.command("expect")
@data_options
@click.option("--start", required=True, help="First timestamp of the coming period.")
@click.option("--end", required=True, help="Last timestamp (or day) of the coming period.")
@model_option()
@calendar_options
@output_options
def expect_command(**kw) -> None:
    """Expected ranges for a coming period, with the calendar events in it (before a release)."""
    from ..expect import expect
    from ..io import emit_table

    out, fmt = kw.pop("out"), kw.pop("fmt")
    table = expect(**kw)
    for p in table.attrs.get("problems", []):
        click.echo(f"warning: skipped {p}", err=True)
    emit_table(table, out, fmt)


@click.command("check")
@data_options
@click.option("--since", required=True, help="When the release went out.")
@click.option(
    "--until", default=None, help="End of the period checked (default: the last timestamp)."
)
@click.option("--level", default=0.95, show_default=True, type=float, help="Range level.")
@model_option("baseline", "Expectation model: baseline or a forecasting model.")
@calendar_options
@output_options
def check_command(**kw) -> None:
    """Did anything move since --since that the calendar does not explain?

    Prints a verdict per series (ok / explained deviation / PARTLY explained deviation /
    UNEXPLAINED deviation / NOT CHECKED). Exit 0 when everything is inside the range or
    fully explained by the calendar, 1 when a deviation is not fully explained or a
    series could not be checked, 2 on bad input.
    """
    from ..detect import check
    from ..io import emit_table, to_json_records

    out, fmt = kw.pop("out"), kw.pop("fmt")
    res = check(**kw)
    if out:
        emit_table(res.verdicts, out, fmt)
    elif fmt == "json":
        payload = {
            "verdicts": json.loads(to_json_records(res.verdicts)),
            "incidents": json.loads(to_json_records(res.incidents)),
            "skipped": res.problems,
            "exit_code": res.exit_code,
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    elif fmt == "csv":
        emit_table(res.verdicts, None, "csv")
    else:
        click.echo(format_verdicts(res))
    sys.exit(res.exit_code)  # SystemExit: click's non-standalone main would swallow ctx.exit


def format_verdicts(result) -> str:
    """The human verdict of a :class:`~juno_forecast.detect.CheckResult`, one line per series.

    A failing series says which incident is worst and why (its note: which event fell
    short and by how much); a skipped one says why it could not be checked.
    """
    import pandas as pd

    from ..detect import VERDICT_NOT_CHECKED, VERDICT_OK

    width = max(len(v) for v in result.verdicts["verdict"]) if len(result.verdicts) else 0
    lines = []
    for _, r in result.verdicts.iterrows():
        line = f"{r['verdict']:<{width}}  {r['series']}"
        if r["verdict"] == VERDICT_NOT_CHECKED:
            line += f"  ({r['note']})"
        elif r["verdict"] != VERDICT_OK:
            line += (
                f"  ({r['incidents']} incident(s): {r['unexplained']} unexplained, "
                f"{r['partly']} partly; worst {r['worst_deviation_pct']:+.0f}% from "
                f"{pd.Timestamp(r['worst_start']):%Y-%m-%d %H:%M})"
            )
            if r["note"]:
                line += f"  {r['note']}"
        lines.append(line)
    return "\n".join(lines)


def register(group: click.Group) -> None:
    """Add ``detect``, ``expect`` and ``check`` to ``group``."""
    group.add_command(detect_command)
    group.add_command(expect_command)
    group.add_command(check_command)
