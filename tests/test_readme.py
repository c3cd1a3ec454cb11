"""The README stays honest: its commands run, its flags exist, its Python examples work.

Commands of the "Command reference" block run from a temporary folder that
links the repository's `data/`, `examples/` and calendar, so nothing is written
into the repository. A command whose comment line above says "exit N" must exit N.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
CLI = [sys.executable, "-m", "juno_forecast"]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _reference_block() -> str:
    section = README[README.index("### Commands") :]
    return re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)


def _reference_commands() -> list[tuple[list[str], int]]:
    """(argv after 'juno-forecast', expected exit code) for each command of the reference."""
    commands, expected = [], 0
    for line in _reference_block().splitlines():
        if line.startswith("#"):
            found = re.search(r"exit (\d)", line)
            expected = int(found.group(1)) if found else 0
        elif line.startswith("juno-forecast "):
            commands.append((shlex.split(line.split("  #")[0])[1:], expected))
    return commands


def _all_readme_commands() -> list[list[str]]:
    lines = [ln for block in _blocks("sh") + _blocks("bash") for ln in block.splitlines()]
    return [shlex.split(ln.split(" #")[0])[1:] for ln in lines if ln.startswith("juno-forecast ")]


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    for name in ("data", "examples", "events_calendar.yaml"):
        (tmp_path / name).symlink_to(REPO / name)
    return tmp_path


@functools.cache
def _help_text(subcommand: tuple[str, ...]) -> str:
    res = subprocess.run([*CLI, *subcommand, "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


def _help(subcommand: list[str]) -> str:
    return _help_text(tuple(subcommand))


def _subcommand(argv: list[str]) -> list[str]:
    return argv[:2] if argv[0] == "calendar" else argv[:1]


def test_every_command_of_the_cli_is_in_the_readme():
    listed = re.findall(r"^  (\S+)\s", _help([]).split("Commands:")[1], flags=re.M)
    assert len(listed) >= 9
    for command in listed:
        assert f"juno-forecast {command}" in README, command


def test_every_flag_shown_in_the_readme_exists():
    for argv in _all_readme_commands():
        sub = _subcommand(argv)
        help_text = _help(sub)
        for flag in (a for a in argv if a.startswith("--")):
            assert re.search(rf"{re.escape(flag)}\b", help_text), f"{' '.join(sub)} has no {flag}"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [c for c in _reference_commands() if c[0][0] != "serve-metrics"],
    ids=lambda v: " ".join(v[:3]) if isinstance(v, list) else str(v),
)
def test_reference_command_runs(workdir: Path, argv: list[str], expected: int):
    res = subprocess.run([*CLI, *argv], cwd=workdir, capture_output=True, text=True, timeout=540)
    assert res.returncode == expected, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    for flag in ("--out", "--report", "--plots", "--summary"):
        if flag in argv:
            target = workdir / argv[argv.index(flag) + 1]
            assert target.exists() and (target.is_file() or any(target.iterdir())), flag


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_reference_serve_metrics_answers(workdir: Path):
    (argv,) = [c for c, _ in _reference_commands() if c[0] == "serve-metrics"]
    demo = subprocess.run([*CLI, "nightly", "--demo", "--out", "runs/", "--no-progress"],
                          cwd=workdir, capture_output=True, text=True, timeout=540)  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-2000:]
    port = _free_port()
    argv[argv.index("--port") + 1] = str(port)
    server = subprocess.Popen([*CLI, *argv], cwd=workdir, stderr=subprocess.PIPE)
    try:
        body = ""
        for _ in range(60):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert "juno_expected" in body
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_python_examples_run(workdir: Path):
    # The blocks follow on from each other, as cells of a notebook would.
    code = "\n".join(_blocks("python"))
    env = {**os.environ, "MPLBACKEND": "Agg"}
    res = subprocess.run([sys.executable, "-c", code], cwd=workdir, capture_output=True,
                         text=True, timeout=540, env=env)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert "exit_code" not in res.stderr
    assert (workdir / "manhattan.png").stat().st_size > 10_000
