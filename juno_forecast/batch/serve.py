"""``serve-metrics``: a tiny HTTP endpoint with the current hour's expected bands.

It answers only ``GET /metrics`` (the Prometheus text of the newest run's
``bands.prom`` for the current hour, see :func:`.prom.current_hour_text`) and a
plain health page at ``/`` and ``/healthz``; every other path is a 404. It
never serves files: the only file it reads is ``bands.prom`` of the newest run
folder under ``--run``, re-read on each scrape so a new nightly run is picked
up without a restart. It binds to 127.0.0.1 unless told otherwise.

A ``bands.prom`` that cannot be used (not UTF-8, cut short by a full disk or a
copy in progress, not in the text format) makes ``/metrics`` and ``/healthz``
answer 503 with the reason in one line, so Prometheus records the scrape as
failed and a probe sees it; nothing is served from a half-read file. A file
is whole when it parses and ends with the ``juno_run_info`` family, which
:func:`.prom.bands_text` writes last. A connection idle for
:data:`IDLE_TIMEOUT_S` seconds is closed, so stalled clients cannot hold threads.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd

from ..grain import TZ
from .prom import current_hour_text, parse_bands

RUN_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: seconds a connection may stay silent (request line, headers) before it is closed
IDLE_TIMEOUT_S = 10


class BandsUnreadable(Exception):
    """The newest run's ``bands.prom`` cannot be served; the message says why (one line)."""


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
    return pd.Timestamp.now(tz=TZ).tz_localize(None)


_PARSED: dict[Path, tuple[tuple[int, int], list[Any]]] = {}


def _families(path: Path) -> list[Any]:
    """The parsed ``bands.prom`` at ``path``, parsed again only when the file changed.

    Thousands of hourly series make a file of tens of megabytes; scrapes every
    minute must not re-parse it each time.
    """
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        cached = _PARSED.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, _parse_whole(path))
            _PARSED.clear()  # only the newest run is ever served
            _PARSED[path] = cached
    except OSError as exc:
        raise BandsUnreadable(f"{path}: cannot be read: {exc.strerror or exc}") from None
    return cached[1]


def _parse_whole(path: Path) -> list[Any]:
    """The families of a complete ``bands.prom``; :class:`BandsUnreadable` otherwise."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BandsUnreadable(f"{path}: line {line}: not UTF-8 text") from None
    try:
        families = parse_bands(text)
    except ValueError as exc:
        raise BandsUnreadable(
            f"{path}: not in the Prometheus text format ({str(exc).splitlines()[0]}); "
            "truncated or damaged"
        ) from None
    if not any(f.name == "juno_run_info" for f in families):
        raise BandsUnreadable(f"{path}: truncated (it ends before juno_run_info)")
    return families


def metrics_text(run_dir: str | Path, now: pd.Timestamp | None = None) -> str:
    """What ``/metrics`` answers: the current hour's bands of the newest run.

    Raises :class:`BandsUnreadable` when that run's ``bands.prom`` cannot be used.
    """
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
        timeout = IDLE_TIMEOUT_S  # socket timeout: an idle connection is closed

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = self.path.split("?", 1)[0]
            try:
                if path == "/metrics":
                    self._send(200, metrics_text(run_root, clock()), CONTENT_TYPE)
                elif path in ("/", "/healthz"):
                    self._send(200, health_text(run_root), "text/plain; charset=utf-8")
                else:
                    self._send(404, "not found\n", "text/plain; charset=utf-8")
            except BandsUnreadable as exc:
                self._send(503, f"unavailable: {exc}\n", "text/plain; charset=utf-8")

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()  # the same status and headers; _send leaves the body out

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

    return _QuietServer((host, port), Handler)


def health_text(run_dir: str | Path) -> str:
    """What ``/healthz`` answers when the newest run can be served (else BandsUnreadable:
    no run at all, or a ``bands.prom`` that cannot be used)."""
    run = newest_run(run_dir)
    if run is None:
        raise BandsUnreadable(f"{run_dir}: no nightly run (no YYYY-MM-DD/bands.prom) yet")
    _families(run / "bands.prom")
    return f"ok\nnewest run: {run.name}\n"


class _QuietServer(ThreadingHTTPServer):
    """Threads end with the server; a failed connection is one line on stderr, no traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, TimeoutError | ConnectionError):
            return  # an idle or vanished client: nothing to report
        print(f"serve-metrics: {client_address[0]}: {type(exc).__name__}: {exc}", file=sys.stderr)
