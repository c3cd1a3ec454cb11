"""report(): a self-contained HTML file (valid, every image embedded) and a Markdown twin."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd

from juno_forecast.report import report, safe_name

VOID = {"meta", "img", "br", "hr", "link", "input"}


class _Checker(HTMLParser):
    """Collects <img> sources and checks that tags are properly nested."""

    def __init__(self):
        super().__init__()
        self.stack, self.imgs, self.errors, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        elif tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _incidents():
    return pd.DataFrame(
        [
            {
                "zone": "Bronx",
                "metric": "trips",
                "start": pd.Timestamp("2015-01-27 08:00"),
                "end": pd.Timestamp("2015-01-27 12:00"),
                "peak_ds": pd.Timestamp("2015-01-27 09:00"),
                "direction": "below",
                "actual": 10.0,
                "expected": 40.0,
                "lo": 30.0,
                "hi": 50.0,
                "deviation_pct": -75.0,
                "severity": 3.0,
                "explanation": "explained",
                "explained_by": "Blizzard",
                "note": "Blizzard: expected -50% (-90% to -11%); actual -55%: explained",
            },
            {
                "zone": "../../etc",
                "metric": "trips",
                "start": pd.Timestamp("2015-02-03 09:00"),
                "end": pd.Timestamp("2015-02-03 13:00"),
                "peak_ds": pd.Timestamp("2015-02-03 10:00"),
                "direction": "above",
                "actual": 90.0,
                "expected": 40.0,
                "lo": 30.0,
                "hi": 50.0,
                "deviation_pct": 125.0,
                "severity": 2.0,
                "explanation": "unexplained",
                "explained_by": "",
                "note": "<b>x</b>",
            },
        ]
    )


def _figure(title):
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [1, 3, 2])
    ax.set_title(title)
    return fig


def test_html_is_valid_and_every_image_is_an_embedded_png(tmp_path):
    figs = {"metric=trips zone=Bronx": _figure("a"), "metric=trips zone=../../etc": _figure("b")}
    html_path, md_path = report(_incidents(), figs, tmp_path / "out", title="Nightly <test>")
    checker = _Checker()
    checker.feed(html_path.read_text())
    checker.close()
    assert checker.errors == [] and checker.stack == []
    assert len(checker.imgs) == 2
    for img in checker.imgs:
        assert img["src"].startswith("data:image/png;base64,")
        png = base64.b64decode(img["src"].split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000
    text = "".join(checker.text)
    assert "Nightly <test>" in text and "<b>x</b>" in text  # escaped, shown as text
    # unexplained first
    assert (
        text.index("Unexplained incidents (1)")
        < text.index("../../etc")
        < text.index("Explained by the calendar (1)")
    )
    assert text.index("Explained by the calendar (1)") < text.index("Blizzard")


def test_markdown_twin_and_safe_figure_files(tmp_path):
    figs = {"metric=trips zone=../../etc": _figure("b")}
    _, md_path = report(_incidents(), figs, tmp_path, title="Run")
    md = md_path.read_text()
    assert md.startswith("# Run")
    assert "| incidents | 2 |" in md and "| unexplained | 1 |" in md
    assert md.index("## Unexplained incidents (1)") < md.index("## Explained by the calendar (1)")
    name = safe_name("metric=trips zone=../../etc") + ".png"
    assert "/" not in name and ".." not in name
    assert f"]({name})" in md and (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "report.html", "report.md"])


def test_empty_report(tmp_path):
    cols = list(_incidents().columns)
    html_path, md_path = report(pd.DataFrame(columns=cols), None, tmp_path)
    assert "Unexplained incidents (0)" in html_path.read_text()
    assert "| incidents | 0 |" in md_path.read_text()


def test_detect_command_writes_the_report(tmp_path, capsys):
    import numpy as np
    import pytest

    from juno_forecast.cli import main

    ds = pd.date_range("2015-10-05", periods=5 * 7 * 24, freq="h")
    y = np.random.default_rng(0).poisson(300 * (1.2 + np.sin((ds.hour - 9) / 24 * 2 * np.pi)))
    y = y.astype(float)
    y[(ds >= "2015-11-03 09:00") & (ds < "2015-11-03 14:00")] *= 0.3
    path = tmp_path / "trips.csv"
    pd.DataFrame({"ds": ds, "y": y}).to_csv(path, index=False)
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "detect",
                str(path),
                "--metric",
                "trips",
                "--start",
                "2015-11-02",
                "--end",
                "2015-11-05",
                "--calendar",
                "none",
                "--report",
                str(tmp_path / "rep"),
                "--out",
                str(tmp_path / "inc.csv"),
            ]
        )
    assert exc.value.code == 0
    inc = pd.read_csv(tmp_path / "inc.csv")
    assert len(inc) >= 1 and inc.iloc[0]["start"] == "2015-11-03 09:00:00"
    html = (tmp_path / "rep" / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 1 and "Unexplained incidents (" in html
    assert (tmp_path / "rep" / "report.md").exists()


def test_labels_that_sanitize_alike_get_their_own_files(tmp_path):
    labels = [
        "metric=trips zone=a/b",
        "metric=trips zone=a_b",
        "metric=trips zone=東京",
        "metric=trips zone=大阪",
    ]
    figs = {label: _figure(f"figure {i}") for i, label in enumerate(labels)}
    pngs = {label: None for label in labels}
    _, md_path = report(_incidents().iloc[:0], figs, tmp_path, title="Run")
    md = md_path.read_text()
    for label in labels:
        pngs[label] = safe_name(label) + ".png"
        assert f"![{label}]({pngs[label]})" in md  # each label links its own image
    assert len(set(pngs.values())) == 4
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(pngs.values())
    assert safe_name("metric=trips zone=東京") == safe_name("metric=trips zone=東京")  # stable
    assert safe_name("report_2026") == "report_2026"  # a clean name is kept as it is
