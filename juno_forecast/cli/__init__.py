"""The ``juno-forecast`` command line.

Each command group lives in its own module here and registers itself on the
main group through ``register(group)``; shared flags are in :mod:`.options`.
Any :class:`~juno_forecast.errors.JunoError` becomes one line on stderr and
exit 2 (``--debug`` shows the traceback instead).
"""

from __future__ import annotations

import sys

import click

from ..errors import FileErrors, JunoError
from . import batch_cmd, calendar_cmd, detect_cmd, forecast_cmd, impact_cmd


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


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the CLI, turn user errors into exit 2."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
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
            if isinstance(e, FileErrors)
            else [str(e).splitlines()[0] if str(e) else type(e).__name__]
        )
        for line in lines:
            click.echo(f"error: {line}", err=True)
        sys.exit(e.exit_code)
    sys.exit(rc if isinstance(rc, int) else 0)
