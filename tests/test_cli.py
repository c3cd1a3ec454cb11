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


# -- crashes that became one line (issue 14, item 5) ---------------------------------------


def _main(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, list[str]]:
    """Exit code and stderr lines of the command line, run in this process."""
    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return info.value.code, err.strip().splitlines()


def test_a_horizon_as_long_as_the_history_is_one_line_exit_2(tmp_path, capsys):
    data = _hourly_csv(tmp_path, days=20)
    code, err = _main(["forecast", str(data), "--horizon", "20D", "--model", "naive",
                       "--calendar", "none"], capsys)  # fmt: skip
    assert code == 2
    assert err[-1] == (
        "error: skipped: metric=trips: too short for a horizon of 480 hours: 480 hours of "
        "history, at least 482 needed (the horizon plus 2 hours, to calibrate the ranges)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forecast", "{data}", "--cutoff", "soon"],
         "error: --cutoff: expected a date or timestamp like 2015-02-01, got 'soon'"),
        (["backtest", "{data}", "--start", "2025-13-45", "--end", "2025-01-20"],
         "error: --start: expected a date or timestamp like 2015-02-01, got '2025-13-45'"),
        (["backtest", "{data}", "--start", "2025-01-10", "--end", "later"],
         "error: --end: expected a date or timestamp like 2015-02-01, got 'later'"),
        (["calendar", "show", "--start", "9999-01-01", "--end", "9999-02-01"],
         "error: start: expected a date from 1800-01-01 to 2200-12-31, got 9999-01-01"),
    ],
    ids=["cutoff", "backtest-start", "backtest-end", "calendar-show-9999"],
)  # fmt: skip
def test_unreadable_or_impossible_dates_are_one_line_exit_2(tmp_path, capsys, args, message):
    data = str(_hourly_csv(tmp_path, days=20))
    code, err = _main([a.replace("{data}", data) for a in args], capsys)
    assert (code, err) == (2, [message])


@pytest.mark.parametrize(
    ("args", "target"),
    [
        (["forecast", "{data}", "--horizon", "2h", "--out", "{blocked}/f.csv"], "{blocked}/f.csv"),
        (["backtest", "{data}", "--start", "2025-01-15", "--end", "2025-01-16",
          "--folds", "{blocked}/folds.csv"], "{blocked}/folds.csv"),
        (["detect", "{data}", "--start", "2025-01-19", "--end", "2025-01-20",
          "--report", "{blocked}/report"], "{blocked}/report"),
        (["impact", "{data}", "--start", "2025-01-19", "--end", "2025-01-20",
          "--plots", "{blocked}/plots"], "{blocked}/plots"),
        (["impact", "{data}", "--start", "2025-01-19", "--end", "2025-01-20",
          "--summary", "{blocked}/summary.md"], "{blocked}/summary.md"),
    ],
    ids=["forecast-out", "backtest-folds", "detect-report", "impact-plots", "impact-summary"],
)  # fmt: skip
def test_an_output_under_a_regular_file_stops_before_any_work(tmp_path, capsys, args, target):
    data = _hourly_csv(tmp_path, days=20)
    blocked = tmp_path / "notes.txt"
    blocked.write_text("a file, not a folder")
    fill = {"{data}": str(data), "{blocked}": str(blocked)}

    def sub(a: str) -> str:
        for k, v in fill.items():
            a = a.replace(k, v)
        return a

    code, err = _main([sub(a) for a in args] + ["--calendar", "none"], capsys)
    assert (code, err) == (2, [f"error: {sub(target)}: cannot write here ({blocked} is a file, "
                               "not a folder)"])  # fmt: skip
