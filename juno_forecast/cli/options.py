"""Flags shared by every command that reads data, a calendar or writes a table.

Use them as decorators; the command receives plain keyword arguments:

* ``data_options``: ``data`` (path), ``time_col``, ``value_col``, ``metric_col``,
  ``metric``, ``by`` (tuple of column names), ``freq``, ``agg``.
* ``calendar_options``: ``calendar`` (path, ``none`` or None for the shipped
  one), ``weather`` (observed weather, path or None) and ``weather_forecast``
  (the expected weather of the days ahead, path or None).
* ``output_options``: ``out`` (path or None) and ``fmt``.

Every flag's destination is the name of the library parameter it feeds (``--folds``
is ``n_folds`` for :func:`juno_forecast.impact.run_impact`, the data flags are
:func:`juno_forecast.data.load_data`'s), so a command pops what only it uses
(``out``, ``fmt``, a report folder) and passes the rest on as they are:
``forecast(**kw)``. A new flag is a new keyword of the library function.
"""

from __future__ import annotations

from collections.abc import Callable

import click


def _split_by(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(v.strip() for v in value.split(",") if v.strip())


def check_time(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: a flag's date or timestamp must parse (exit 2 naming the flag).

    The text is passed on unchanged, so what a bare date means stays the command's rule
    (:mod:`juno_forecast.inputs`); only an unreadable value is stopped here.
    """
    if value is None:
        return None
    from ..inputs import parse_timestamp

    parse_timestamp(value, "--" + str(param.name).replace("_", "-"))
    return value


def writable_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: an output file whose folder cannot be written stops the command now."""
    if value is not None:
        from ..io import check_writable

        check_writable(value)
    return value


def writable_folder(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback: an output folder that cannot be written stops the command now."""
    if value is not None:
        from ..io import check_writable

        check_writable(value, folder=True)
    return value


def data_options(f: Callable) -> Callable:
    """The data flags of SPEC "Data" plus the positional DATA path."""
    decorators = [
        click.argument("data", type=click.Path(dir_okay=False)),
        click.option(
            "--time-col",
            default="ds",
            show_default=True,
            help="Timestamp column (naive = New York wall-clock).",
        ),
        click.option("--value-col", default="y", show_default=True, help="Value column."),
        click.option(
            "--metric-col", default="metric", show_default=True, help="Column naming the metric."
        ),
        click.option(
            "--metric",
            default=None,
            help="Metric name for a file of one metric (no metric column).",
        ),
        click.option(
            "--by",
            default=None,
            callback=_split_by,
            help="Key columns of a series, comma-separated, e.g. zone.",
        ),
        click.option(
            "--freq", type=click.Choice(["h", "D"]), default=None, help="Grain; default inferred."
        ),
        click.option(
            "--agg",
            type=click.Choice(["sum", "mean"]),
            default="sum",
            show_default=True,
            help="How finer data are aggregated: sum for counts, mean for levels.",
        ),
    ]
    for d in reversed(decorators):
        f = d(f)
    return f


def calendar_options(f: Callable) -> Callable:
    """``--calendar PATH|none``, ``--weather PATH`` and ``--weather-forecast PATH``."""
    f = click.option(
        "--weather-forecast",
        "weather_forecast",
        default=None,
        type=click.Path(dir_okay=False),
        help="Expected weather of the days ahead, same formats as --weather: a forecast at a"
        " cutoff uses it after the cutoff (without it, no weather after the cutoff).",
    )(f)
    f = click.option(
        "--weather",
        default=None,
        type=click.Path(dir_okay=False),
        help="Observed weather (NOAA GHCN-Daily style or hourly CSV); a forecast at a cutoff"
        " sees it only up to the cutoff.",
    )(f)
    f = click.option(
        "--calendar",
        "calendar",
        default=None,
        help="Events calendar YAML; default the shipped one; 'none' turns calendar knowledge off.",
    )(f)
    return f


def output_options(f: Callable) -> Callable:
    """``--out PATH`` (.csv/.parquet/.json) or ``--format table|csv|json`` on stdout."""
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "csv", "json"]),
        default="table",
        show_default=True,
        help="Format on stdout when --out is not given.",
    )(f)
    f = click.option(
        "--out",
        default=None,
        type=click.Path(dir_okay=False),
        callback=writable_file,
        help="Write the table here (.csv, .parquet or .json).",
    )(f)
    return f
