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


# -- silent or misleading results (issue 14) ----------------------------------------------


def _hourly_csv(tmp_path, days: int = 30, drop: tuple[str, str] | None = None):  # noqa: ANN001, ANN202
    import pandas as pd

    ds = pd.date_range("2025-01-01", periods=days * 24, freq="h")
    df = pd.DataFrame({"ds": ds.strftime("%Y-%m-%d %H:%M"), "metric": "trips", "y": 10 + ds.hour})
    if drop:
        df = df[(ds < drop[0]) | (ds >= drop[1])]
    path = tmp_path / "trips.csv"
    df.to_csv(path, index=False)
    return path


def test_forecast_with_every_series_skipped_exits_2_with_the_reasons(tmp_path):
    data = _hourly_csv(tmp_path)
    res = _run("forecast", str(data), "--cutoff", "2025-01-05", "--model", "naive",
               "--calendar", "none")  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stdout == ""
    assert res.stderr.strip().splitlines()[-2:] == [
        "error: forecast: no series could be used (1 skipped)",
        "error: skipped: metric=trips: too short to forecast: 97 points, need at least 338 "
        "(two weeks of history)",
    ]


def test_detect_over_a_range_before_the_data_says_it_has_no_data(tmp_path):
    res = _run("detect", str(_hourly_csv(tmp_path)), "--start", "2020-01-01", "--end",
               "2020-01-31", "--calendar", "none")  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr and res.stdout == ""
    assert res.stderr.strip() == (
        "error: the range 2020-01-01 00:00:00 to 2020-01-31 23:59:59 has no data: the data run "
        "from 2025-01-01 00:00:00 to 2025-01-30 23:00:00"
    )


def test_a_cutoff_after_the_data_exits_2(tmp_path):
    res = _run("forecast", str(_hourly_csv(tmp_path)), "--cutoff", "2026-01-01", "--model",
               "naive", "--calendar", "none")  # fmt: skip
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.startswith(
        "error: --cutoff 2026-01-01 00:00:00 is after the data, which ends at 2025-01-30 23:00:00"
    )


def test_warnings_are_one_line_each_never_a_raw_userwarning(tmp_path):
    data = _hourly_csv(tmp_path, days=60, drop=("2025-01-10", "2025-01-20"))
    res = _run("forecast", str(data), "--horizon", "1D", "--model", "ols", "--calendar", "none")
    assert res.returncode == 0, res.stderr
    assert "UserWarning" not in res.stderr and "warnings.warn" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        f"warning: metric=trips: {data}: no rows for 240 hours from 2025-01-10 00:00:00 to "
        "2025-01-19 23:00:00 (more than a day in a row: a hole, not zeros); using the history "
        "from 2025-01-20 00:00:00 on (dropped 2025-01-01 00:00:00 to 2025-01-19 23:00:00)"
    ]


def test_a_borough_called_na_stays_na_in_csv_output(tmp_path):
    import pandas as pd

    ds = pd.date_range("2025-01-01", periods=21 * 24, freq="h").strftime("%Y-%m-%d %H:%M")
    df = pd.concat([pd.DataFrame({"ds": ds, "borough": b, "metric": "trips", "y": 5})
                    for b in ("NA", "Bronx")])  # fmt: skip
    data, out = tmp_path / "in.csv", tmp_path / "out.csv"
    df.to_csv(data, index=False)
    res = _run("forecast", str(data), "--by", "borough", "--horizon", "2h", "--model", "naive",
               "--calendar", "none", "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    lines = out.read_text().splitlines()
    assert [ln.split(",")[0] for ln in lines] == ["borough", "Bronx", "Bronx", "NA", "NA"]


def test_an_out_path_under_a_regular_file_is_one_line_exit_2(tmp_path):
    data = _hourly_csv(tmp_path, days=20)
    out = data / "forecast.csv"  # the data file is no folder
    res = _run("forecast", str(data), "--horizon", "2h", "--model", "naive", "--calendar",
               "none", "--out", str(out))  # fmt: skip
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip() == (
        f"error: {out}: cannot write here ({data} is a file, not a folder)"
    )
