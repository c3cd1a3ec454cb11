"""Flags shared by every command that reads data, a calendar or writes a table.

Use them as decorators; the command receives plain keyword arguments:

* ``data_options``: ``data`` (path), ``time_col``, ``value_col``, ``metric_col``,
  ``metric``, ``by`` (tuple of column names), ``freq``, ``agg``.
* ``calendar_options``: ``calendar`` (path, ``none`` or None for the shipped
  one), ``weather`` (observed weather, path or None) and ``weather_forecast``
  (the expected weather of the days ahead, path or None).
* ``output_options``: ``out`` (path or None) and ``fmt``.
* ``model_option(...)``, ``seed_option``, ``path_option(...)``: the ``--model``,
  ``--seed`` and file/folder flags of the commands, each declared here once.

Every flag's destination is the name of the library parameter it feeds (``--folds``
is ``n_folds`` for :func:`juno_forecast.impact.run_impact`, the data flags are
:func:`juno_forecast.data.load_data`'s), so a command pops what only it uses
(``out``, ``fmt``, a report folder) and passes the rest on as they are:
``forecast(**kw)``. A new flag is a new keyword of the library function.
"""

from __future__ import annotations

from collections.abc import Callable

import click

MODEL_HELP = (
    "auto (per series, the fast models weighted by their backtest error), naive, ols, gbm, ets"
    " or prophet."
)
SEED_HELP = "Seed of the models that use randomness."


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


def path_option(*decls: str, help: str, folder: bool = False, written: bool = False) -> Callable:
    """A flag naming a file (``folder``: a folder), default None.

    ``written``: the command writes there, so a place that cannot be written stops
    the command before any work (exit 2, see :func:`writable_file`).
    """
    kind = click.Path(file_okay=False) if folder else click.Path(dir_okay=False)
    check = (writable_folder if folder else writable_file) if written else None
    return click.option(*decls, default=None, type=kind, callback=check, help=help)


def model_option(default: str | None = "auto", help: str = MODEL_HELP) -> Callable:
    """``--model NAME`` (``default`` None: the command's config decides)."""
    return click.option("--model", default=default, show_default=default is not None, help=help)


def seed_option(f: Callable) -> Callable:
    """``--seed N`` for the models that use randomness (results repeat for one seed)."""
    return click.option("--seed", default=0, show_default=True, type=int, help=SEED_HELP)(f)


def calendar_options(f: Callable) -> Callable:
    """``--calendar PATH|none``, ``--weather PATH`` and ``--weather-forecast PATH``."""
    f = path_option(
        "--weather-forecast",
        help="Expected weather of the days ahead, same formats as --weather: a forecast at a"
        " cutoff uses it after the cutoff (without it, no weather after the cutoff).",
    )(f)
    f = path_option(
        "--weather",
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
    return path_option(
        "--out", written=True, help="Write the table here (.csv, .parquet or .json)."
    )(f)
