"""The ``juno-forecast`` command line.

Each command group lives in its own module here and registers itself on the
main group through ``register(group)``; shared flags are in :mod:`.options`.
Any :class:`~juno_forecast.errors.JunoError` becomes one line on stderr and
exit 2 (``--debug`` shows the traceback instead); warnings become one
``warning: ...`` line each, library chatter silenced (see :func:`_show_warning`).
"""

from __future__ import annotations

import os
import sys
import warnings

import click

from ..errors import FileErrors, JunoError, JunoWarning, NoSeriesError, SkippedWarning
from . import batch_cmd, calendar_cmd, detect_cmd, forecast_cmd, impact_cmd

#: at most this many error lines are printed (a hostile file can have thousands)
MAX_ERROR_LINES = 200


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="juno_forecast")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Expected ranges and flagged deviations for NYC ride-hailing metrics."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for _module in (calendar_cmd, forecast_cmd, detect_cmd, impact_cmd, batch_cmd):
    _module.register(cli)


#: libraries whose warnings are developer chatter to a command-line user (shown with --debug)
NOISY_MODULES = ("statsmodels", "prophet", "cmdstanpy", "sklearn", "pandas", "numpy", "holidays")
_shown: set[str] = set()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001, ARG001
    """Warnings as one ``warning: ...`` line each (once), library chatter silenced.

    The package's own :class:`~juno_forecast.errors.JunoWarning` (history dropped
    before a hole, a series ending before the cutoff) is always shown; a skipped
    series is printed by the command itself (``skipped: ...``). Deprecation,
    future and numeric warnings, and any warning raised inside a library of
    :data:`NOISY_MODULES`, are not for the user of a command. ``--debug`` keeps
    Python's own display.
    """
    if issubclass(category, SkippedWarning):
        return
    noisy = issubclass(category, DeprecationWarning | FutureWarning | RuntimeWarning) or any(
        f"{os.sep}{m}{os.sep}" in str(filename) for m in NOISY_MODULES
    )
    text = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
    if (issubclass(category, JunoWarning) or not noisy) and text not in _shown:
        _shown.add(text)
        click.echo(f"warning: {text}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the CLI, turn user errors into exit 2."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    with warnings.catch_warnings():  # restores the display after a call from Python (tests)
        if not debug:
            warnings.showwarning = _show_warning
        _run(args, debug)


def _run(args: list[str], debug: bool) -> None:
    """Run the command; exit with its code, 2 for a user error, 130 when aborted."""
    try:
        # standalone_mode=False returns ctx.exit(n)'s code instead of exiting.
        rc = cli.main(args=args, prog_name="juno-forecast", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(2)
    except JunoError as e:
        if debug:
            raise
        lines = (
            e.errors
            if isinstance(e, FileErrors | NoSeriesError)
            else [str(e).splitlines()[0] if str(e) else type(e).__name__]
        )
        for line in lines[:MAX_ERROR_LINES]:
            click.echo(f"error: {line}", err=True)
        if len(lines) > MAX_ERROR_LINES:
            click.echo(f"error: ... and {len(lines) - MAX_ERROR_LINES} more errors", err=True)
        sys.exit(e.exit_code)
    sys.exit(rc if isinstance(rc, int) else 0)
