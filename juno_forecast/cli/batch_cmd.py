"""``nightly`` (the batch over every series) and ``serve-metrics`` (bands for Prometheus).

Heavy work is imported inside the commands so ``juno-forecast --help`` stays fast.
"""

from __future__ import annotations

import signal
import sys

import click

from ..errors import InputError
from .options import model_option


@click.command("nightly")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Batch config YAML (see the README, 'The nightly batch'); paths in it are relative to it.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder of runs; this run goes to OUT/<as-of>/.",
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Date of the run (history up to its end); default the last date in the data.",
)
@click.option("--demo", is_flag=True, help="Run on the repository's sample data/ with no config.")
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default=None,
    help="local worker processes (default) or a Dask cluster; overrides the config.",
)
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes for the local engine (default 2).",
)
@model_option(None, "Model for every series (overrides the config's; default auto).")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (default: only when stderr is a terminal).",
)
def nightly(
    config_path: str | None,
    out: str,
    as_of: str | None,
    demo: bool,
    engine: str | None,
    scheduler: str | None,
    workers: int | None,
    model: str | None,
    progress: bool | None,
) -> None:
    """Forecast every series, check the last day, write one atomic run folder.

    Exit 0 when no series failed (series forecast from a short history and
    series that went silent are reported, not failures), 3 when some failed
    (listed on stderr), 2 on a bad config or input.
    """
    from ..batch import demo_config, run_nightly

    if demo == bool(config_path):
        raise InputError("nightly: give either --config PATH or --demo")
    cfg = demo_config() if demo else config_path
    # a scheduler's SIGTERM unwinds like Ctrl-C: the temporary run folder is removed,
    # queued series are dropped, and the previous run of the date stays as it was
    signal.signal(signal.SIGTERM, _terminate)
    result = run_nightly(
        cfg,
        out,
        as_of,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        model=model,
        progress=progress,
        echo=lambda m: click.echo(m, err=True),
    )
    click.echo(str(result.run_dir))
    for rec in result.stale:  # a deviation to see, not a failure (exit code unchanged)
        click.echo(f"warning: {rec['series']}: went silent since {rec['last_data']}", err=True)
    if result.failed:
        click.echo(f"error: {len(result.failed)} series failed:", err=True)
        for rec in result.failed:
            click.echo(f"  {rec['series']}: {rec['cause']}", err=True)
        sys.exit(3)


@click.command("serve-metrics")
@click.option(
    "--run",
    "run_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="The nightly --out folder (its newest run is served) or one run folder.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=9464, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to bind; keep 127.0.0.1 unless a scraper elsewhere needs it.",
)
@click.option(
    "--at",
    "at",
    default=None,
    help="Serve the bands of this New York time instead of now (replaying an old run).",
)
def serve_metrics(run_dir: str, port: int, host: str, at: str | None) -> None:
    """Serve the current hour's expected bands at /metrics (and /healthz); nothing else."""
    from ..batch.serve import make_server, new_york_now

    clock = new_york_now
    if at is not None:
        fixed = _timestamp(at, "--at")
        clock = lambda: fixed  # noqa: E731
    try:
        server = make_server(run_dir, host, port, clock=clock)
    except OSError as exc:
        raise InputError(f"serve-metrics: cannot listen on {host}:{port}: {exc.strerror}") from None
    bound = server.server_address
    click.echo(f"serving http://{bound[0]}:{bound[1]}/metrics (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM handler: leave through the normal clean-up path, exit 143 (128 + SIGTERM)."""
    sys.exit(128 + signum)


def _timestamp(value: str, flag: str):
    """A naive New York wall-clock Timestamp from a flag's text (exit 2 when it is not one)."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise InputError(
            f"{flag}: expected a time such as 2026-07-01T13:00, got {value!r}"
        ) from None
    if ts is pd.NaT:
        raise InputError(f"{flag}: expected a time such as 2026-07-01T13:00, got {value!r}")
    from ..grain import to_wall_clock

    return to_wall_clock(ts)


def register(group: click.Group) -> None:
    """Add ``nightly`` and ``serve-metrics`` to ``group``."""
    group.add_command(nightly)
    group.add_command(serve_metrics)
