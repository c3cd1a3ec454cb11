"""The command line's shared behaviour: exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from juno_forecast.cli import cli, main


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "juno_forecast", *args],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_python_dash_m_shows_help_with_every_command():
    res = _run("--help")
    assert res.returncode == 0
    for command in ("calendar", "forecast", "backtest", "detect", "expect", "check", "impact",
                    "nightly", "serve-metrics"):  # fmt: skip
        assert command in res.stdout


def test_missing_data_file_is_one_line_and_exit_2():
    res = _run("forecast", "no/such/file.csv", "--horizon", "2D")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert "file.csv" in res.stderr


def test_an_exit_code_set_by_a_command_reaches_the_shell(monkeypatch):
    @cli.command("exit-code-probe")
    @click.pass_context
    def probe(ctx: click.Context) -> None:
        ctx.exit(1)

    try:
        with pytest.raises(SystemExit) as exc:
            main(["exit-code-probe"])
        assert exc.value.code == 1
    finally:
        cli.commands.pop("exit-code-probe")
