"""``serve-metrics``: a tiny HTTP endpoint with the current hour's expected bands.

It answers only ``GET /metrics`` (the Prometheus text of the newest run's
``bands.prom`` for the current hour, see :func:`.prom.current_hour_text`) and a
plain health page at ``/`` and ``/healthz``; every other path is a 404. It
never serves files: the only file it reads is ``bands.prom`` of the newest run
folder under ``--run``, re-read on each scrape so a new nightly run is picked
up without a restart. It binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd

from .prom import current_hour_text, parse_bands

RUN_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def newest_run(run_dir: str | Path) -> Path | None:
    """The newest complete run folder: ``run_dir`` itself if it is one, else its newest ``YYYY-MM-DD``."""
    root = Path(run_dir)
    if (root / "bands.prom").is_file():
        return root
    runs = sorted(
        p for p in root.glob("*") if RUN_NAME.match(p.name) and (p / "bands.prom").is_file()
    )
    return runs[-1] if runs else None


def new_york_now() -> pd.Timestamp:
    """The current New York wall-clock time, naive (the convention of every ``ds``)."""
    return pd.Timestamp.now(tz="America/New_York").tz_localize(None)


_PARSED: dict[Path, tuple[tuple[int, int], list[Any]]] = {}


def _families(path: Path) -> list[Any]:
    """The parsed ``bands.prom`` at ``path``, parsed again only when the file changed.

    Thousands of hourly series make a file of tens of megabytes; scrapes every
    minute must not re-parse it each time.
    """
    st = path.stat()
    stamp = (st.st_mtime_ns, st.st_size)
    cached = _PARSED.get(path)
    if cached is None or cached[0] != stamp:
        cached = (stamp, parse_bands(path.read_text(encoding="utf-8")))
        _PARSED.clear()  # only the newest run is ever served
        _PARSED[path] = cached
    return cached[1]


def metrics_text(run_dir: str | Path, now: pd.Timestamp | None = None) -> str:
    """What ``/metrics`` answers: the current hour's bands of the newest run."""
    run = newest_run(run_dir)
    if run is None:
        return "# no nightly run found\njuno_bands_current 0\n"
    families = _families(run / "bands.prom")
    return current_hour_text(families, now if now is not None else new_york_now())


def make_server(
    run_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 9464,
    clock: Callable[[], pd.Timestamp] = new_york_now,
) -> ThreadingHTTPServer:
    """A server (not yet serving) for ``run_dir``; ``port=0`` picks a free port.

    ``clock`` gives "now" in New York wall-clock time (tests and replays pass a fixed one).
    """
    run_root = Path(run_dir)

    class Handler(BaseHTTPRequestHandler):
        server_version = "juno-forecast"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics_text(run_root, clock()), CONTENT_TYPE)
            elif path in ("/", "/healthz"):
                run = newest_run(run_root)
                body = f"ok\nnewest run: {run.name if run else 'none'}\n"
                self._send(200, body, "text/plain; charset=utf-8")
            else:
                self._send(404, "not found\n", "text/plain; charset=utf-8")

        def do_HEAD(self) -> None:  # noqa: N802
            self._send(
                404 if self.path.split("?", 1)[0] not in ("/", "/healthz", "/metrics") else 200,
                "",
                "text/plain; charset=utf-8",
            )

        def _send(self, status: int, body: str, ctype: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # quiet by default
            return

    return ThreadingHTTPServer((host, port), Handler)
