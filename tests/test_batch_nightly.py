"""The nightly batch end to end: outputs, failure isolation, atomic runs, engines agree."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from juno_forecast.batch import run_nightly
from juno_forecast.batch.outputs import output_files
from juno_forecast.cli import main

REPO = Path(__file__).resolve().parents[1]
END = pd.Timestamp("2026-03-31 23:00")
OUTPUTS = {
    "forecasts.parquet",
    "incidents.csv",
    "report.html",
    "report.md",
    "bands.prom",
    "manifest.json",
}


def _hourly(zone: str, hours: int, rng: np.random.Generator) -> pd.DataFrame:
    """Counts with a daily and weekly cycle ending at END."""
    ds = pd.date_range(end=END, periods=hours, freq="h")
    daily = 1.0 + 0.6 * np.sin(2 * np.pi * (ds.hour - 6) / 24)
    weekly = np.where(ds.day_of_week >= 5, 0.8, 1.0)
    y = rng.poisson(200 * daily * weekly).astype(object)
    return pd.DataFrame({"ds": ds, "zone": zone, "metric": "trips", "y": y})


def _write_data(folder: Path, zones: dict[str, int], bad: str | None = None) -> Path:
    """A tidy CSV; ``zones`` maps zone -> hours of history; ``bad`` gets one non-numeric value."""
    rng = np.random.default_rng(7)
    parts = []
    for zone, hours in zones.items():
        part = _hourly(zone, hours, rng)
        if zone == bad:
            part.loc[part.index[100], "y"] = "n/a?"
        parts.append(part)
    path = folder / "trips.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


def _config(folder: Path, model: str = "naive", extra: str = "") -> Path:
    cfg = folder / "nightly.yaml"
    cfg.write_text(
        "data:\n  - path: trips.csv\n    by: [zone]\n    freq: h\n"
        f"horizon: 24h\nhistory: 21D\nmodel: {model}\n"
        "detect: {lookback: 1D, level: 0.95}\nengine: {name: local, workers: 2}\n" + extra
    )
    return cfg


def _prom_series(path: Path) -> set[tuple[str, str]]:
    fams = text_string_to_metric_families(path.read_text())
    return {
        (s.labels["metric"], s.labels["zone"])
        for f in fams
        for s in f.samples
        if s.name == "juno_expected"
    }


def test_demo_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["nightly", "--demo", "--out", str(tmp_path), "--model", "naive", "--no-progress"])
    assert info.value.code == 0
    run = tmp_path / "2026-06-30"  # the sample's last day: the as-of default
    assert capsys.readouterr().out.strip() == str(run)
    assert {p.name for p in run.iterdir()} >= OUTPUTS
    manifest = json.loads((run / "manifest.json").read_text())
    ok = [s for s in manifest["series"] if s["status"] == "ok"]
    assert manifest["totals"]["ok"] == len(ok) == 12 and manifest["totals"]["failed"] == 0
    fc = pd.read_parquet(run / "forecasts.parquet")
    assert fc.groupby(["borough", "metric"]).ngroups == len(ok)
    assert fc["ds"].min() == pd.Timestamp("2026-07-01") and len(fc) == 12 * 48
    assert (fc["lo_95"] <= fc["lo_80"]).all() and (fc["lo_80"] <= fc["yhat"]).all()
    assert (fc["yhat"] <= fc["hi_80"]).all() and (fc["hi_80"] <= fc["hi_95"]).all()
    assert len(_prom_series(run / "bands.prom")) == len(ok)
    incidents = pd.read_csv(run / "incidents.csv")
    assert manifest["totals"]["incidents"] == len(incidents)
    # the sample hides a payment outage in Manhattan trips on 2026-06-30 15:00-18:00
    hit = incidents[(incidents.borough == "Manhattan") & (incidents.metric == "trips")]
    assert len(hit) == 1 and hit.iloc[0]["direction"] == "below"
    assert "Nightly run 2026-06-30" in (run / "report.html").read_text()
    assert len(manifest["config"]["sha256"]) == 64 and manifest["versions"]["pandas"]
    assert set(manifest["timings"]) >= {"load_s", "series_s", "write_s", "report_s", "total_s"}
    # the registry of outputs names what the run wrote, and the manifest lists exactly that
    assert set(manifest["outputs"]) == set(output_files()) == OUTPUTS


def test_failed_series_are_isolated_and_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    zones = {
        "Bronx": 24 * 28,
        "Queens": 24 * 28,
        "../../etc": 24 * 28,
        "Harlem": 24 * 28,
        "Tiny": 24 * 5,
    }
    _write_data(tmp_path, zones, bad="Harlem")
    out = tmp_path / "runs"
    with pytest.raises(SystemExit) as info:
        main(
            [
                "nightly",
                "--config",
                str(_config(tmp_path)),
                "--out",
                str(out),
                "--as-of",
                "2026-03-30",
            ]
        )
    assert info.value.code == 3
    err = capsys.readouterr().err
    assert "nightly: 3/3 series done, 0 failed" in err  # plain log lines: not a terminal
    assert "error: 2 series failed:" in err
    assert "metric=trips zone=Harlem: " in err and "non-numeric value 'n/a?'" in err
    assert "metric=trips zone=Tiny: " in err and "too short" in err
    run = out / "2026-03-30"
    manifest = json.loads((run / "manifest.json").read_text())
    status = {s["series"]: s["status"] for s in manifest["series"]}
    assert status == {
        "metric=trips zone=Harlem": "failed",
        "metric=trips zone=Tiny": "failed",
        "metric=trips zone=Bronx": "ok",
        "metric=trips zone=Queens": "ok",
        "metric=trips zone=../../etc": "ok",
    }
    fc = pd.read_parquet(run / "forecasts.parquet")
    assert sorted(fc["zone"].unique()) == ["../../etc", "Bronx", "Queens"]
    assert fc["ds"].min() == pd.Timestamp("2026-03-31")  # the day after --as-of
    assert ("trips", "../../etc") in _prom_series(run / "bands.prom")
    # a name built from data never became a path outside (or inside) the run folder
    assert sorted(p.name for p in out.iterdir()) == ["2026-03-30"]
    assert not any(".." in p.name or p.name == "etc" for p in run.rglob("*"))


def test_local_and_dask_engines_agree(tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    _write_data(tmp_path, {"Bronx": 24 * 28, "Queens": 24 * 28, "Kew": 24 * 28})
    cfg = _config(tmp_path)
    local = run_nightly(cfg, tmp_path / "local", engine="local", workers=2, progress=False)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        dask = run_nightly(
            cfg,
            tmp_path / "dask",
            engine="dask",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    assert dask.manifest["engine"]["name"] == "dask"
    status = [(r["series"], r["status"], r["cause"]) for r in local.manifest["series"]]
    assert status == [(r["series"], r["status"], r["cause"]) for r in dask.manifest["series"]]
    a = pd.read_parquet(local.run_dir / "forecasts.parquet")
    b = pd.read_parquet(dask.run_dir / "forecasts.parquet")
    assert len(a) == 3 * 24
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(
        pd.read_csv(local.run_dir / "incidents.csv"), pd.read_csv(dask.run_dir / "incidents.csv")
    )


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def _start_slow_nightly(folder: Path, out: Path) -> subprocess.Popen:
    """A slower nightly run (auto model, one worker) in its own process group, to interrupt."""
    slow = _config(folder, model="auto")
    slow.write_text(slow.read_text().replace("workers: 2", "workers: 1"))
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "juno_forecast",
            "nightly",
            "--config",
            str(slow),
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )


def test_killed_run_leaves_previous_run_intact(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _write_data(tmp_path, {f"Z{i}": 24 * 28 for i in range(6)})
    out = tmp_path / "runs"
    first = run_nightly(_config(tmp_path), out, progress=False)
    before = {p.name: p.read_bytes() for p in first.run_dir.iterdir()}
    # a slower run of the same as-of (auto model, one worker), killed mid-way
    proc = _start_slow_nightly(tmp_path, out)
    try:
        assert _wait_for(lambda: any(p.name.startswith(".tmp-") for p in out.iterdir()), 60)
        time.sleep(0.3)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == [first.run_dir.name]
    assert {p.name: p.read_bytes() for p in first.run_dir.iterdir()} == before
    # the next run of the same date replaces the earlier one and cleans the dead run's folder
    again = run_nightly(_config(tmp_path), out, progress=True)  # the bar a terminal shows
    assert "nightly: 100%" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [first.run_dir.name]
    assert again.manifest["created_utc"] >= first.manifest["created_utc"]
    assert (again.run_dir / "manifest.json").read_bytes() != before["manifest.json"]


def test_demo_generates_the_sample_when_data_is_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from juno_forecast.batch import demo

    monkeypatch.setattr(demo, "REPO_DATA", tmp_path / "installed-elsewhere")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    cfg = demo.demo_config()
    folder = Path(cfg.data[0].path).parent
    assert folder.parent == tmp_path and folder.name.startswith("juno-sample-")
    generated = pd.read_parquet(cfg.data[0].path)
    shipped = pd.read_parquet(REPO / "data" / "sample.parquet")
    pd.testing.assert_frame_equal(generated, shipped)  # seeded: the same sample
    assert cfg.weather == str(folder / "weather.csv")
    assert demo.demo_config().data == cfg.data  # reused, not generated again


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_interrupted_run_cleans_up_and_keeps_previous(tmp_path: Path, sig: int, code: int) -> None:
    _write_data(tmp_path, {f"Z{i}": 24 * 28 for i in range(6)})
    out = tmp_path / "runs"
    first = run_nightly(_config(tmp_path), out, progress=False)
    before = (first.run_dir / "manifest.json").read_bytes()
    proc = _start_slow_nightly(tmp_path, out)
    try:
        assert _wait_for(lambda: any(p.name.startswith(".tmp-") for p in out.iterdir()), 60)
        time.sleep(0.3)
        assert proc.poll() is None, "the run finished before it could be interrupted"
        proc.send_signal(sig)  # the main process only, as a scheduler or Ctrl-C would
        assert proc.wait(timeout=30) == code
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert sorted(p.name for p in out.iterdir()) == [first.run_dir.name]  # no leftovers
    assert (first.run_dir / "manifest.json").read_bytes() == before


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_kill_9_of_the_run_takes_its_workers_with_it(tmp_path: Path) -> None:
    _write_data(tmp_path, {f"Z{i}": 24 * 28 for i in range(6)})
    proc = _start_slow_nightly(tmp_path, tmp_path / "runs")
    workers: list[int] = []
    try:
        assert _wait_for(lambda: bool(workers.extend(_children(proc.pid)) or workers), 60)
        os.kill(proc.pid, signal.SIGKILL)  # the main process only: no clean-up runs
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert _wait_for(lambda: not any(_alive(w) for w in workers), 5), (
            f"workers {[w for w in workers if _alive(w)]} outlived their parent"
        )
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


def _daily(folder: Path, zones: dict[str, tuple[str, str]]) -> Path:
    """Daily trips per zone over ``(first day, last day)``, with a weekly cycle; a config for it."""
    rng = np.random.default_rng(3)
    parts = []
    for zone, (first, last) in zones.items():
        ds = pd.date_range(first, last, freq="D")
        y = rng.poisson(1000 * np.where(ds.day_of_week >= 5, 0.7, 1.0))
        parts.append(pd.DataFrame({"ds": ds, "zone": zone, "metric": "trips", "y": y}))
    pd.concat(parts).to_csv(folder / "daily.csv", index=False)
    cfg = folder / "daily.yaml"
    cfg.write_text(
        "data:\n  - path: daily.csv\n    by: [zone]\n    freq: D\n"
        "horizon: 7D\nmodel: naive\ncalendar: none\nengine: {name: local, workers: 1}\n"
    )
    return cfg


def _nightly(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(["nightly", "--no-progress", *args])
    return info.value.code, capsys.readouterr().err


def test_short_series_get_a_wider_forecast_marked_short(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    cfg = _daily(
        tmp_path,
        {"Old": ("2026-01-01", "2026-03-31"), "New": ("2026-03-04", "2026-03-31")},
    )
    code, err = _nightly(["--config", str(cfg), "--out", str(tmp_path / "runs")], capsys)
    assert code == 0, err
    assert "(1 ok, 1 short, 0 stale, 0 failed)" in err
    run = tmp_path / "runs" / "2026-03-31"
    rec = {r["series"]: r for r in json.loads((run / "manifest.json").read_text())["series"]}
    new = rec["metric=trips zone=New"]
    assert (new["status"], new["history"]) == ("short", "short")
    assert new["cause"].startswith("history: short (28 days since 2026-03-04)")
    assert rec["metric=trips zone=Old"]["history"] == "full"
    fc = pd.read_parquet(run / "forecasts.parquet").set_index("zone")
    assert len(fc.loc["New"]) == 7 and (fc.loc["New", "lo_95"] >= 0).all()
    width = (fc["hi_95"] - fc["lo_95"]) / fc["yhat"]
    assert width.loc["New"].mean() > width.loc["Old"].mean()  # wider: a few weeks only
    assert (
        "| metric=trips zone=New | short | history: short (28 days"
        in (run / "report.md").read_text()
    )


def test_stale_series_went_silent_not_failed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = _daily(
        tmp_path,
        {"Live": ("2026-01-01", "2026-03-31"), "Gone": ("2026-01-01", "2026-03-20")},
    )
    code, err = _nightly(["--config", str(cfg), "--out", str(tmp_path / "runs")], capsys)
    assert code == 0  # a deviation to see, not a failure
    assert "warning: metric=trips zone=Gone: went silent since 2026-03-20" in err
    run = tmp_path / "runs" / "2026-03-31"
    rec = {r["series"]: r for r in json.loads((run / "manifest.json").read_text())["series"]}
    gone = rec["metric=trips zone=Gone"]
    assert (gone["status"], gone["last_data"]) == ("stale", "2026-03-20")
    assert (
        "| metric=trips zone=Gone | stale | went silent since 2026-03-20 |"
        in (run / "report.md").read_text()
    )
    assert set(pd.read_parquet(run / "forecasts.parquet")["zone"]) == {"Live"}
    silent = [
        s.labels
        for f in text_string_to_metric_families((run / "bands.prom").read_text())
        for s in f.samples
        if s.name == "juno_series_silent"
    ]
    assert silent == [{"metric": "trips", "zone": "Gone", "since": "2026-03-20"}]
    # stale_after in the config moves the line: 12 days of silence are tolerated
    cfg.write_text(cfg.read_text() + "stale_after: 12D\n")
    code, err = _nightly(["--config", str(cfg), "--out", str(tmp_path / "runs")], capsys)
    assert code == 0 and "went silent" not in err and "(2 ok, 0 short, 0 stale" in err, err


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("2025-06-01", "--as-of 2025-06-01: before the data, which starts 2026-01-01; "),
        ("2026-09-01", "--as-of 2026-09-01: after the data, which ends 2026-03-31 00:00; "),
    ],
)
def test_as_of_outside_the_data_publishes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture, as_of: str, message: str
) -> None:
    cfg = _daily(tmp_path, {"Old": ("2026-01-01", "2026-03-31")})
    out = tmp_path / "runs"
    code, err = _nightly(["--config", str(cfg), "--out", str(out), "--as-of", as_of], capsys)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith(f"error: {message}")
    assert not out.exists() or list(out.iterdir()) == []


def test_out_under_a_regular_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = _daily(tmp_path, {"Old": ("2026-01-01", "2026-03-31")})
    (tmp_path / "afile").write_text("x")
    out = tmp_path / "afile" / "runs"
    code, err = _nightly(["--config", str(cfg), "--out", str(out)], capsys)
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: --out {out}: cannot create or write the folder: Not a directory"
    ]


def test_second_run_into_the_same_out_says_another_holds_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    _write_data(tmp_path, {f"Z{i}": 24 * 28 for i in range(6)})
    out = tmp_path / "runs"
    proc = _start_slow_nightly(tmp_path, out)
    try:
        assert _wait_for(lambda: out.is_dir() and any(out.glob(".tmp-*")), 60)
        code, err = _nightly(["--config", str(_config(tmp_path)), "--out", str(out)], capsys)
        assert code == 2
        assert err.strip().splitlines()[-1] == (
            f"error: --out {out}: another nightly run (pid {proc.pid}) is writing there; "
            "run again when it has finished"
        )
        assert [p.name for p in out.iterdir()] == [f".tmp-2026-03-31-{proc.pid}"]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_real_for_hire_bases_with_six_weeks_get_forecasts(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from conftest import SHARED_DATA

    foil = SHARED_DATA / "Uber-Jan-Feb-FOIL.csv"
    if not foil.exists():
        pytest.skip(f"real for-hire base data not found at {foil}")
    cfg = tmp_path / "bases.yaml"
    cfg.write_text(
        f"data:\n  - path: {foil}\n    time_col: date\n    value_col: trips\n    metric: trips\n"
        "    by: [dispatching_base_number]\n    freq: D\n"
        "horizon: 14D\nmodel: naive\nengine: {name: local, workers: 1}\n"
    )
    out = tmp_path / "runs"
    code, err = _nightly(["--config", str(cfg), "--out", str(out), "--as-of", "2015-02-10"], capsys)
    assert code == 0, err
    manifest = json.loads((out / "2015-02-10" / "manifest.json").read_text())
    assert manifest["totals"]["short"] == 6 and manifest["totals"]["failed"] == 0
    assert all(r["cause"].startswith("history: short (41 days") for r in manifest["series"])
    fc = pd.read_parquet(out / "2015-02-10" / "forecasts.parquet")
    assert fc.groupby("dispatching_base_number").size().to_dict() == {
        b: 14 for b in ("B02512", "B02598", "B02617", "B02682", "B02764", "B02765")
    }


def test_tasks_carry_arrays_and_the_forecast_equals_the_pandas_face(tmp_path: Path) -> None:
    """A task's history is numpy arrays (no pd.Series shipped to a worker); what the worker
    forecasts from them equals SeriesForecaster's pandas face fitted on the same history."""
    from juno_forecast.batch.config import load_config
    from juno_forecast.batch.runner import build_tasks, forecast_series, load_sources
    from juno_forecast.forecast import OUTPUT_COLUMNS, SeriesForecaster

    _write_data(tmp_path, {"A": 24 * 30, "B": 24 * 10})
    cfg = load_config(_config(tmp_path, model="naive"))
    tasks, skipped = build_tasks(load_sources(cfg), cfg, pd.Timestamp("2026-03-31"))
    assert [t["history"] for t in tasks] == ["full", "short"] and not skipped
    full = tasks[0]
    assert full["values"].dtype == np.float64 and full["stamps"].dtype == np.int64
    assert not any(isinstance(v, pd.Series | pd.DataFrame) for t in tasks for v in t.values())
    assert len(full["values"]) == 21 * 24  # history: 21D, cut at the end of the as-of day
    assert pd.Timestamp(int(full["stamps"][-1])) == END

    res = forecast_series(full)
    assert res["status"] == "ok" and isinstance(res["forecast"]["yhat"], np.ndarray)
    y = pd.Series(full["values"], index=pd.DatetimeIndex(full["stamps"].view("datetime64[ns]")))
    f = SeriesForecaster("naive", calendar=None, metric="trips", keys={"zone": "A"}, freq="h")
    expected = f.fit(y).predict(pd.date_range(END + pd.Timedelta(hours=1), periods=24, freq="h"))
    for col in OUTPUT_COLUMNS:
        np.testing.assert_array_equal(res["forecast"][col], expected[col].to_numpy())
    assert set(res["points"]) == {"ds", "actual", "expected", "lo", "hi"}
    assert len(res["points"]["ds"]) == 24  # the checked day, as arrays for the report
    short = forecast_series(tasks[1])
    assert short["status"] == "short" and "event_effects" not in short["forecast"]
