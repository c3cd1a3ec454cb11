"""bands.prom follows the text exposition format; serve-metrics answers on loopback only."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from threading import Thread

import numpy as np
import pandas as pd
import pytest
from prometheus_client.parser import text_string_to_metric_families

from juno_forecast.batch.prom import BANDS, bands_text, current_hour_text
from juno_forecast.batch.serve import make_server, metrics_text

AS_OF = pd.Timestamp("2026-06-30")


def _forecasts() -> pd.DataFrame:
    """Two series, 72 future hours each; one zone name that looks like a path."""
    idx = pd.date_range(AS_OF + pd.Timedelta(days=1), periods=72, freq="h")
    parts = []
    for zone, base in (("Bronx", 100.0), ('../../etc "x"', 5.0)):
        yhat = base + np.arange(72.0)
        parts.append(
            pd.DataFrame(
                {
                    "borough": zone,
                    "metric": "trips",
                    "ds": idx,
                    "yhat": yhat,
                    "lo_80": yhat - 10,
                    "hi_80": yhat + 10,
                    "lo_95": yhat - 20,
                    "hi_95": yhat + 20,
                    "events": [
                        "July 4th fireworks;Independence Day" if ts.hour == 2 else "" for ts in idx
                    ],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _samples(text: str) -> list:
    return [s for fam in text_string_to_metric_families(text) for s in fam.samples]


def test_bands_file_parses_with_labels_and_events() -> None:
    fc = _forecasts()
    text = bands_text(fc, ["borough"], AS_OF, hours=48, model="naive", run_time=1.0e9)
    samples = _samples(text)
    expected = [s for s in samples if s.name == "juno_expected"]
    assert len(expected) == 2 * 48 * len(BANDS)  # only the first 48 hours are written
    assert {s.labels["band"] for s in expected} == set(BANDS)
    assert {s.labels["zone"] for s in expected} == {"Bronx", '../../etc "x"'}
    first = {
        s.labels["band"]: s.value
        for s in expected
        if s.labels["zone"] == "Bronx" and s.labels["hour"] == "2026-07-01T05:00"
    }
    row = fc[(fc.borough == "Bronx") & (fc.ds == pd.Timestamp("2026-07-01 05:00"))].iloc[0]
    assert first == {b: pytest.approx(row[b]) for b in BANDS}
    events = [s for s in samples if s.name == "juno_event_active"]
    assert len(events) == 2 * 2 * 2  # 2 zones x 2 days at 02:00 x 2 events
    assert {s.labels["event"] for s in events} == {"July 4th fireworks", "Independence Day"}
    info = [s for s in samples if s.name == "juno_run_info"]
    assert info[0].labels == {"as_of": "2026-06-30", "model": "naive"}


def test_current_hour_drops_the_hour_label() -> None:
    text = bands_text(_forecasts(), ["borough"], AS_OF, hours=48)
    now = pd.Timestamp("2026-07-01 02:30")
    samples = _samples(current_hour_text(text, now))
    expected = [s for s in samples if s.name == "juno_expected"]
    assert len(expected) == 2 * len(BANDS)
    assert all("hour" not in s.labels for s in expected)
    yhat = {s.labels["zone"]: s.value for s in expected if s.labels["band"] == "yhat"}
    assert yhat == {"Bronx": 102.0, '../../etc "x"': 7.0}
    assert {s.labels["event"] for s in samples if s.name == "juno_event_active"} == {
        "July 4th fireworks",
        "Independence Day",
    }
    assert [s.value for s in samples if s.name == "juno_bands_current"] == [1.0]
    stale = _samples(current_hour_text(text, pd.Timestamp("2027-01-01")))
    assert [s.value for s in stale if s.name == "juno_bands_current"] == [0.0]
    assert not [s for s in stale if s.name == "juno_expected"]


def _run_folder(root: Path) -> Path:
    run = root / "2026-06-30"
    run.mkdir(parents=True)
    (run / "bands.prom").write_text(bands_text(_forecasts(), ["borough"], AS_OF, hours=48))
    (run / "manifest.json").write_text("{}")
    return root


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_metrics_endpoint_on_loopback(tmp_path: Path) -> None:
    root = _run_folder(tmp_path)
    server = make_server(root, port=0, clock=lambda: pd.Timestamp("2026-07-01 13:05"))
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        status, body = _get(base + "/metrics")
        assert status == 200
        samples = _samples(body)
        bronx = {
            s.labels["band"]: s.value
            for s in samples
            if s.name == "juno_expected" and s.labels["zone"] == "Bronx"
        }
        assert bronx["yhat"] == 113.0 and bronx["lo_95"] == 93.0 and bronx["hi_80"] == 123.0
        status, body = _get(base + "/healthz")
        assert status == 200 and "2026-06-30" in body
        for path in ("/2026-06-30/bands.prom", "/manifest.json", "/../etc/passwd", "/metrics/x"):
            assert _get(base + path)[0] == 404
    finally:
        server.shutdown()
        server.server_close()


def test_metrics_text_without_runs(tmp_path: Path) -> None:
    samples = _samples(metrics_text(tmp_path))
    assert [(s.name, s.value) for s in samples] == [("juno_bands_current", 0.0)]


def test_serve_metrics_command_binds_loopback(tmp_path: Path) -> None:
    import os
    import re
    import subprocess
    import sys

    root = _run_folder(tmp_path)
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "juno_forecast",
            "serve-metrics",
            "--run",
            str(root),
            "--port",
            "0",
            "--at",
            "2026-07-01T13:05",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    try:
        line = proc.stderr.readline()
        m = re.match(r"serving http://127\.0\.0\.1:(\d+)/metrics", line)
        assert m, line
        status, body = _get(f"http://127.0.0.1:{m.group(1)}/metrics")
        assert status == 200
        yhat = {
            s.labels["zone"]: s.value
            for s in _samples(body)
            if s.name == "juno_expected" and s.labels["band"] == "yhat"
        }
        assert yhat == {"Bronx": 113.0, '../../etc "x"': 18.0}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_example_alert_rules_use_served_metrics() -> None:
    import re

    import yaml

    repo = Path(__file__).resolve().parents[1]
    rules = yaml.safe_load((repo / "examples" / "prometheus" / "juno_alerts.yml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    assert len(exprs) >= 2
    served = current_hour_text(
        bands_text(_forecasts(), ["borough"], AS_OF, hours=48, run_time=1.0),
        pd.Timestamp("2026-07-01 02:00"),
    )
    names = {f.name for f in text_string_to_metric_families(served)}
    used = {n for e in exprs for n in re.findall(r"\bjuno_[a-z_]+", e)}
    assert used and used <= names, used - names


def test_metrics_follow_a_new_run(tmp_path: Path) -> None:
    root = _run_folder(tmp_path)
    now = pd.Timestamp("2026-07-01 00:10")

    def bronx_yhat() -> float:
        return next(
            s.value
            for s in _samples(metrics_text(root, now))
            if s.name == "juno_expected"
            and s.labels["zone"] == "Bronx"
            and s.labels["band"] == "yhat"
        )

    assert bronx_yhat() == 100.0
    fc = _forecasts()
    fc[BANDS[0]] += 1000.5
    (root / "2026-06-30" / "bands.prom").write_text(bands_text(fc, ["borough"], AS_OF, hours=48))
    assert bronx_yhat() == 1100.5


def _fetch(url: str) -> tuple[int, str]:
    """Status and body, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class _Serving:
    """A real server for ``root`` on 127.0.0.1 (a free port) in a thread, for a ``with``."""

    def __init__(self, root: Path):
        self.server = make_server(root, port=0, clock=lambda: pd.Timestamp("2026-07-01 13:05"))
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> str:
        Thread(target=self.server.serve_forever, daemon=True).start()
        return self.base

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: b[:200] + b"\xff\xfe" + b[200:], "line 3: not UTF-8 text"),
        (lambda b: b[: len(b) // 2], "not in the Prometheus text format"),
        (lambda b: b[: b.index(b"# HELP juno_run_info")], "truncated (it ends before"),
    ],
    ids=["not-utf8", "cut-mid-line", "cut-at-a-line"],
)
def test_damaged_bands_answer_503_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture, damage, reason: str
) -> None:
    root = _run_folder(tmp_path)
    prom = root / "2026-06-30" / "bands.prom"
    prom.write_bytes(damage(prom.read_bytes()))
    with _Serving(root) as base:
        for path in ("/metrics", "/healthz"):
            status, body = _fetch(base + path)
            assert status == 503
            assert body.startswith(f"unavailable: {prom}: ") and reason in body
            assert body.count("\n") == 1
    assert "Traceback" not in capsys.readouterr().err


def test_healthz_is_ok_only_when_the_bands_can_be_served(tmp_path: Path) -> None:
    with _Serving(tmp_path) as base:  # before the first nightly run
        assert _fetch(base + "/healthz") == (
            503,
            f"unavailable: {tmp_path}: no nightly run (no YYYY-MM-DD/bands.prom) yet\n",
        )
    root = _run_folder(tmp_path)
    with _Serving(root) as base:
        assert _fetch(base + "/healthz") == (200, "ok\nnewest run: 2026-06-30\n")
        prom = root / "2026-06-30" / "bands.prom"
        prom.write_bytes(prom.read_bytes()[:300])
        assert _fetch(base + "/healthz")[0] == 503


def test_idle_connections_are_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import time

    from juno_forecast.batch import serve

    monkeypatch.setattr(serve, "IDLE_TIMEOUT_S", 0.5)
    with _Serving(_run_folder(tmp_path)) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as idle:
            t0 = time.monotonic()
            assert idle.recv(1) == b""  # the server closed the silent connection
            assert time.monotonic() - t0 < 3
        assert _fetch(base + "/healthz")[0] == 200  # and still serves others
