"""The detection report: one self-contained HTML file and its Markdown twin.

``report(incidents, figures, out_dir, title=...)`` writes ``report.html`` (every figure
embedded as a base64 PNG data URI, so the file can be mailed or archived alone) and
``report.md`` (the same content; figures written beside it as PNG files and linked).
Order is what an operator reads first: summary counts, then unexplained incidents with
their plots, then explained ones with the events that explain them. Used by the
``detect --report`` command and by the nightly batch.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import pandas as pd

from .detect import INCIDENT_COLUMNS, not_explained
from .io import atomic_write, check_writable, safe_name

#: incident columns shown in the tables (metric is shown beside the keys; peak_ds is left out)
SHOW_COLUMNS = [c for c in INCIDENT_COLUMNS if c not in ("metric", "peak_ds")]
CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f3f3f3}
.unexplained{color:#d62728}.explained{color:#b36b00}img{max-width:100%;border:1px solid #eee}
.summary td{font-size:1.05em}"""


def _png_bytes(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _series_label(row: pd.Series, keys: list[str]) -> str:
    parts = [f"metric={row['metric']}"] + [f"{k}={row[k]}" for k in keys]
    return " ".join(parts)


def _fmt(v: Any) -> str:
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.strftime("%Y-%m-%d")
    if isinstance(v, float):
        return "" if pd.isna(v) else f"{v:,.1f}"
    return "" if v is None else str(v)


def _display(incidents: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    cols = [*keys, "metric", *[c for c in SHOW_COLUMNS if c in incidents.columns]]
    return incidents[cols].map(_fmt) if len(incidents) else incidents[cols]


def _summary(incidents: pd.DataFrame, keys: list[str]) -> list[tuple[str, str]]:
    outcome = incidents["explanation"] if len(incidents) else pd.Series(dtype=str)
    labels = {_series_label(r, keys) for _, r in incidents.iterrows()}
    return [
        ("incidents", str(len(incidents))),
        ("unexplained", str(int((outcome == "unexplained").sum()))),
        ("partly explained by the calendar", str(int((outcome == "partly").sum()))),
        ("explained by the calendar", str(int((outcome == "explained").sum()))),
        ("series with incidents", str(len(labels))),
    ]


def _key_columns(incidents: pd.DataFrame) -> list[str]:
    known = {"metric", *SHOW_COLUMNS, "peak_ds", "_flagged"}
    return [c for c in incidents.columns if c not in known]


def _split(incidents: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    failing = not_explained(incidents)
    return incidents[failing], incidents[~failing]


def _html_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "<p>None.</p>"
    return df.to_html(index=False, escape=True, border=0)


def _html_figures(labels: list[str], pngs: dict[str, bytes]) -> str:
    out = []
    for label in labels:
        if label in pngs:
            data = base64.b64encode(pngs[label]).decode("ascii")
            out.append(
                f'<figure><img alt="{html.escape(label)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(label)}</figcaption></figure>"
            )
    return "\n".join(out)


def _labels_in(df: pd.DataFrame, keys: list[str]) -> list[str]:
    return list(dict.fromkeys(_series_label(r, keys) for _, r in df.iterrows()))


def render_html(
    incidents: pd.DataFrame,
    pngs: dict[str, bytes],
    title: str,
    status: pd.DataFrame | None = None,
) -> str:
    """The report as one HTML document (figures inline as data URIs).

    ``status``: series whose run was not ordinary (columns ``series, status, note``:
    went silent, short history, failed), shown right after the summary.
    """
    keys = _key_columns(incidents)
    unexplained, explained = _split(incidents)
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
        for k, v in _summary(incidents, keys)
    )
    extra = [k for k in pngs if k not in _labels_in(incidents, keys)]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<table class="summary">{rows}</table>',
        *_html_status(status),
        f'<h2 class="unexplained">Unexplained incidents ({len(unexplained)})</h2>',
        _html_table(_display(unexplained, keys)),
        _html_figures(_labels_in(unexplained, keys), pngs),
        f'<h2 class="explained">Explained by the calendar ({len(explained)})</h2>',
        _html_table(_display(explained, keys)),
        _html_figures(
            [la for la in _labels_in(explained, keys) if la not in _labels_in(unexplained, keys)],
            pngs,
        ),
    ]
    if extra:
        parts += ["<h2>Other figures</h2>", _html_figures(extra, pngs)]
    parts.append("</body></html>")
    return "\n".join(parts)


def _html_status(status: pd.DataFrame | None) -> list[str]:
    """The "Series to look at" section (nothing when every series ran as usual)."""
    if status is None or status.empty:
        return []
    return [
        f'<h2 class="unexplained">Series to look at ({len(status)})</h2>',
        _html_table(status),
    ]


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "None.\n"
    cells = df.astype(str).map(lambda s: s.replace("|", "\\|"))
    head = "| " + " | ".join(df.columns) + " |\n| " + " | ".join("---" for _ in df.columns) + " |\n"
    return head + "".join("| " + " | ".join(r) + " |\n" for r in cells.itertuples(index=False))


def render_markdown(
    incidents: pd.DataFrame,
    files: dict[str, str],
    title: str,
    status: pd.DataFrame | None = None,
) -> str:
    """The report as Markdown; ``files`` maps a series label to its PNG file name."""
    keys = _key_columns(incidents)
    unexplained, explained = _split(incidents)
    lines = [f"# {title}", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in _summary(incidents, keys)]
    if status is not None and not status.empty:
        lines += ["", f"## Series to look at ({len(status)})", "", _md_table(status)]
    lines += [
        "",
        f"## Unexplained incidents ({len(unexplained)})",
        "",
        _md_table(_display(unexplained, keys)),
    ]
    lines += [f"![{la}]({files[la]})\n" for la in _labels_in(unexplained, keys) if la in files]
    lines += [
        f"## Explained by the calendar ({len(explained)})",
        "",
        _md_table(_display(explained, keys)),
    ]
    shown = set(_labels_in(unexplained, keys))
    lines += [
        f"![{la}]({files[la]})\n"
        for la in _labels_in(explained, keys)
        if la in files and la not in shown
    ]
    extra = [k for k in files if k not in _labels_in(incidents, keys)]
    if extra:
        lines += ["## Other figures", ""] + [f"![{k}]({files[k]})\n" for k in extra]
    return "\n".join(lines) + "\n"


def report(
    incidents: pd.DataFrame,
    figures: dict[str, Any] | None,
    out_dir: str | Path,
    title: str = "Flagged deviations",
    status: pd.DataFrame | None = None,
) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` (plus figure PNGs for the Markdown) in ``out_dir``.

    ``incidents``: a ``detect`` table (keys, metric, start, end, ..., explained_by, note).
    ``figures``: matplotlib Figures keyed by series label (``metric=trips borough=Bronx``,
    as ``series_label`` spells it) so each is shown next to its incidents; figures under
    other keys go to an "Other figures" section. ``status`` (``series, status, note``)
    lists series that did not run as usual (the nightly batch's stale, short and
    failed ones). Returns ``(html_path, md_path)``.
    """
    out = Path(out_dir)
    check_writable(out, folder=True)
    out.mkdir(parents=True, exist_ok=True)
    incidents = incidents.drop(columns=["_flagged"], errors="ignore")
    pngs = {label: _png_bytes(fig) for label, fig in (figures or {}).items()}
    files = {}
    for label, data in pngs.items():
        name = f"{safe_name(label)}.png"
        atomic_write(out / name, lambda p, d=data: p.write_bytes(d))
        files[label] = name
    html_path = atomic_write(
        out / "report.html", lambda p: p.write_text(render_html(incidents, pngs, title, status))
    )
    md_path = atomic_write(
        out / "report.md", lambda p: p.write_text(render_markdown(incidents, files, title, status))
    )
    return html_path, md_path
