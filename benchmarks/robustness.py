"""Robustness battery: bad, hostile and faulty inputs, each run through the command line.

Every case builds its inputs in a fresh temporary folder and runs
``python -m juno_forecast ...`` as a subprocess (through a tiny wrapper that
reports the peak resident memory of the largest process it waited for, from
``resource.getrusage(RUSAGE_CHILDREN)``). A case is **handled** when

* the exit code is one the case expects (2 for bad input, 0 when the input is
  messy but usable, 1/3 where the contract says so),
* no Python traceback reaches stdout or stderr,
* the expected message fragment (when the case names one) is on stderr or stdout,
* it finished within its time limit (caps: YAML bombs must answer in seconds).

The cases cover issue 14: YAML alias bombs and oversized files, long holes of
absent rows, NaN rows, bad and out-of-range cutoffs, misspelt calendar names,
empty and non-UTF-8 files, unwritable outputs, nightly runs outside the data
and two at once, constant series, a borough called NA, and more.

Run from the repository root (about two minutes on 2 cores)::

    nice python benchmarks/robustness.py                 # every case
    python benchmarks/robustness.py --only calendar      # the cases whose name has "calendar"

The table is printed and written to ``benchmarks/results/robustness.md``
(``--out`` to change; not written with ``--only``).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "robustness.md"
#: runs the command, then writes the peak RSS (KiB) of the largest child it waited for
WRAP = (
    "import resource, subprocess, sys\n"
    "p = subprocess.run(sys.argv[2:])\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(p.returncode)\n"
)
CLI = [sys.executable, "-m", "juno_forecast"]
TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Case:
    """One bad input: files written by ``setup(folder)``, then ``juno-forecast *args``."""

    name: str
    item: str  # the issue-14 item it exercises
    args: list[str]
    expect: tuple[int, ...] = (2,)
    message: str | None = None
    setup: Callable[[Path], None] = lambda d: None
    timeout: float = 120.0
    parallel: int = 1  # run this many copies at once (races)
    check: Callable[[Path, str], str | None] = field(default=lambda d, out: None)


@dataclass
class Outcome:
    case: Case
    codes: list[int]
    traceback: bool
    seconds: float
    peak_mb: float
    message_ok: bool
    why: str = ""
    said: str = ""  # the command's first line on stderr (or stdout), for the table

    @property
    def handled(self) -> bool:
        ok_codes = all(c in self.case.expect for c in self.codes)
        return ok_codes and not self.traceback and self.message_ok and not self.why


# ----------------------------------------------------------------------------- inputs


def hourly(days: int = 30, zones: tuple[str, ...] = ("A",), start: str = "2025-01-01"):
    """A tidy hourly frame: ds (text), zone, metric, y with a daily cycle."""
    ds = pd.date_range(start, periods=days * 24, freq="h")
    y = (20 + 10 * np.sin(2 * np.pi * ds.hour / 24)).round()
    return pd.concat(
        [
            pd.DataFrame(
                {"ds": ds.strftime("%Y-%m-%d %H:%M"), "zone": z, "metric": "trips", "y": y}
            )
            for z in zones
        ],
        ignore_index=True,
    )


def write(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False)


def data(days: int = 30, zones: tuple[str, ...] = ("A",), edit=None) -> Callable[[Path], None]:  # noqa: ANN001
    """A setup writing ``data.csv`` (``edit`` changes the frame first)."""

    def setup(d: Path) -> None:
        df = hourly(days, zones)
        write(edit(df) if edit else df, d / "data.csv")

    return setup


def text(name: str, content: str | bytes, then: Callable[[Path], None] | None = None):  # noqa: ANN201
    """A setup writing one file (and running ``then``)."""

    def setup(d: Path) -> None:
        p = d / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
        if then:
            then(d)

    return setup


def both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(d: Path) -> None:
        for s in setups:
            s(d)

    return setup


def alias_bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\nevents: []\n"


def nightly_config(d: Path, data_days: int = 30, frame: pd.DataFrame | None = None) -> None:
    write(hourly(data_days, ("A", "B")) if frame is None else frame, d / "data.csv")
    (d / "nightly.yaml").write_text(
        "data:\n  - path: data.csv\n    by: [zone]\n    freq: h\n"
        "horizon: 24h\nmodel: naive\ndetect: {lookback: 1D, level: 0.95}\n"
        "engine: {name: local, workers: 1}\ncalendar: none\n"
    )


def nightly_with(edit) -> Callable[[Path], None]:  # noqa: ANN001
    """A nightly config over zones A and B, B's rows changed by ``edit``."""

    def setup(d: Path) -> None:
        df = hourly(40, ("A", "B"))
        nightly_config(d, frame=pd.concat([df[df["zone"] == "A"], edit(df[df["zone"] == "B"])]))

    return setup


def in_manifest(fragment: str) -> Callable[[Path, str], str | None]:
    def check(d: Path, out: str) -> str | None:
        found = [m for m in (d / "runs").rglob("manifest.json") if fragment in m.read_text()]
        return None if found else f"no manifest with {fragment!r}"

    return check


def event(extra: str) -> str:
    return f"events:\n  - name: E\n    category: event\n    date: 2015-05-01\n    {extra}\n"


def drop_rows(start: str, end: str):  # noqa: ANN201
    return lambda df: df[(df["ds"] < start) | (df["ds"] >= end)]


def blank_values(start: str, end: str):  # noqa: ANN201
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df = df.astype({"y": object})
        df.loc[(df["ds"] >= start) & (df["ds"] < end), "y"] = ""
        return df

    return edit


def set_value(i: int, value: str):  # noqa: ANN201
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df = df.astype({"y": object})
        df.loc[i, "y"] = value
        return df

    return edit


def has_text(name: str, fragment: str) -> Callable[[Path, str], str | None]:
    def check(d: Path, out: str) -> str | None:
        p = d / name
        if not p.exists() or fragment not in p.read_text():
            return f"{name} lacks {fragment!r}"
        return None

    return check


def no_leftovers(d: Path, out: str) -> str | None:
    left = [p.name for p in (d / "runs").rglob(".tmp*")] if (d / "runs").exists() else []
    return f"left behind: {left}" if left else None


# ----------------------------------------------------------------------------- cases

F = ["--calendar", "none", "--model", "naive"]
FC = ["forecast", "data.csv", "--by", "zone", *F]
DET = ["detect", "data.csv", "--by", "zone", "--calendar", "none"]

CASES: list[Case] = [
    # -- data: holes, bad values (items 3, 11)
    Case(
        "data: 3-month hole of absent rows",
        "3",
        ["forecast", "data.csv", *F],
        (0,),
        "no rows for 1416 hours",
        data(200, edit=drop_rows("2025-02-01", "2025-04-01")),
    ),
    Case(
        "data: hole leaves too little after it",
        "3",
        ["forecast", "data.csv", *F],
        (2,),
        "too short to forecast",
        data(60, edit=drop_rows("2025-01-05", "2025-02-25")),
    ),
    Case(
        "data: 10-day hole of NaN rows",
        "3",
        ["forecast", "data.csv", *F],
        (2,),
        "gap of 240 hours",
        data(60, edit=blank_values("2025-01-10", "2025-01-20")),
    ),
    Case(
        "data: inf in one of two series",
        "11",
        FC,
        (0,),
        "skipped: metric=trips zone=B",
        data(30, ("A", "B"), set_value(800, "inf")),
    ),
    Case(
        "data: negative count",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "negative count",
        data(30, edit=set_value(10, "-5")),
    ),
    Case(
        "data: conflicting duplicate",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "duplicate timestamp",
        data(30, edit=lambda df: pd.concat([df, df.iloc[[5]].assign(y=999)])),
    ),
    Case(
        "data: empty file",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "file is empty",
        text("data.csv", ""),
    ),
    Case(
        "data: header only",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "no data rows",
        text("data.csv", "ds,metric,y\n"),
    ),
    Case(
        "data: non-UTF-8 CSV",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "cannot read CSV",
        text("data.csv", b"ds,metric,y\n2025-01-01 00:00,caf\xe9,1\n"),
    ),
    Case("data: missing file", "11", ["forecast", "nope.csv", *F], (2,), "nope.csv"),
    Case("data: a directory", "11", ["forecast", ".", *F], (2,), "directory"),
    Case(
        "data: one timestamp",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "one distinct",
        text("data.csv", "ds,metric,y\n2025-01-01 00:00,trips,1\n"),
    ),
    Case(
        "data: unparseable timestamp",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "unparseable timestamp",
        data(30, edit=lambda df: df.assign(ds=df["ds"].where(df.index != 7, "soon"))),
    ),
    Case(
        "data: missing --by column",
        "11",
        ["forecast", "data.csv", "--by", "borough", *F],
        (2,),
        "missing column 'borough'",
        data(),
    ),
    Case(
        "data: borough called NA kept in CSV out",
        "11",
        ["forecast", "data.csv", "--by", "zone", *F, "--horizon", "2h", "--out", "o.csv"],
        (0,),
        None,
        data(30, ("NA", "Bronx")),
        check=has_text("o.csv", "\nNA,trips,"),
    ),
    # -- forecast: silent or misleading results (items 5, 9)
    Case(
        "forecast: every series skipped",
        "9",
        [*FC, "--cutoff", "2025-01-03"],
        (2,),
        "no series could be used",
        data(30, ("A", "B")),
    ),
    Case(
        "forecast: --cutoff after the data",
        "9",
        [*FC, "--cutoff", "2030-01-01"],
        (2,),
        "is after the data",
        data(),
    ),
    Case(
        "forecast: --cutoff before the data",
        "9",
        [*FC, "--cutoff", "2020-01-01"],
        (2,),
        "is before the data",
        data(),
    ),
    Case(
        "forecast: unreadable --cutoff",
        "5",
        [*FC, "--cutoff", "yesterday-ish"],
        (2,),
        "--cutoff",
        data(),
    ),
    Case("forecast: --horizon 0D", "5", [*FC, "--horizon", "0D"], (2,), "--horizon", data()),
    Case(
        "forecast: --horizon longer than the history",
        "5",
        [*FC, "--horizon", "60D"],
        (2,),
        None,
        data(),
    ),
    Case(
        "forecast: unknown --model",
        "5",
        ["forecast", "data.csv", "--model", "arima"],
        (2,),
        "unknown model",
        data(),
    ),
    Case(
        "forecast: --out with an unknown suffix",
        "5",
        [*FC, "--out", "o.xlsx"],
        (2,),
        "expected an output file ending in",
        data(),
    ),
    Case(
        "forecast: --out under a regular file",
        "5",
        [*FC, "--out", "data.csv/o.csv"],
        (2,),
        None,
        data(),
    ),
    Case(
        "forecast: no raw UserWarning",
        "9",
        ["forecast", "data.csv", "--model", "ols", "--calendar", "none", "--horizon", "1D"],
        (0,),
        None,
        data(60, edit=drop_rows("2025-01-10", "2025-01-20")),
        check=lambda d, out: "raw UserWarning" if "UserWarning" in out else None,
    ),
    Case(
        "backtest: unreadable --start",
        "5",
        ["backtest", "data.csv", *F, "--start", "x", "--end", "2025-01-20"],
        (2,),
        "--start",
        data(),
    ),
    Case(
        "backtest: constant series MASE",
        "9",
        [
            "backtest",
            "data.csv",
            *F,
            "--start",
            "2025-01-20",
            "--end",
            "2025-01-25",
            "--format",
            "csv",
        ],
        (0,),
        None,
        data(30, edit=lambda df: df.assign(y=50)),
        check=lambda d, out: "MASE NaN" if ",nan," in out.lower() or "NaN" in out else None,
    ),
    Case(
        "detect: range before the data",
        "9",
        [*DET, "--start", "2020-01-01", "--end", "2020-01-31"],
        (2,),
        "has no data",
        data(),
    ),
    Case(
        "detect: range after the data",
        "9",
        [*DET, "--start", "2030-01-01", "--end", "2030-01-31"],
        (2,),
        "after the last timestamp",
        data(),
    ),
    Case(
        "detect: bad --level",
        "5",
        [*DET, "--start", "2025-01-20", "--end", "2025-01-21", "--level", "2"],
        (2,),
        "--level",
        data(),
    ),
    Case(
        "detect: --report under a regular file",
        "5",
        [*DET, "--start", "2025-01-28", "--end", "2025-01-29", "--report", "data.csv/rep"],
        (2,),
        None,
        data(),
    ),
    # -- calendar validation (items 1, 10)
    Case(
        "calendar: misspelt zone",
        "10",
        ["calendar", "validate", "c.yaml"],
        (2,),
        'did you mean "Manhattan"',
        text("c.yaml", event("zones: [Manhatan]")),
    ),
    Case(
        "calendar: misspelt metric",
        "10",
        ["calendar", "validate", "c.yaml"],
        (2,),
        'did you mean "trips"',
        text("c.yaml", event("metrics: [tripz]")),
    ),
    Case(
        "calendar: misspelt effect key",
        "10",
        ["calendar", "validate", "c.yaml"],
        (2,),
        'did you mean "trips"',
        text("c.yaml", event("effect: {trip: -0.3}")),
    ),
    Case(
        "calendar: zones_unchecked escape",
        "10",
        ["calendar", "validate", "c.yaml"],
        (0,),
        "OK",
        text("c.yaml", "zones_unchecked: true\n" + event("zones: [Centro]")),
    ),
    Case(
        "calendar: --zones FILE of another city",
        "10",
        ["calendar", "validate", "c.yaml", "--zones", "z.txt"],
        (2,),
        'did you mean "Centro"',
        both(text("c.yaml", event("zones: [Centr]")), text("z.txt", "Centro\nNorte\n")),
    ),
    Case(
        "calendar: empty file",
        "10",
        ["calendar", "validate", "c.yaml"],
        (2,),
        "empty file",
        text("c.yaml", ""),
    ),
    Case(
        "calendar: nothing in it",
        "10",
        ["calendar", "validate", "c.yaml"],
        (2,),
        "at least one event",
        text("c.yaml", "version: 1\nevents: []\n"),
    ),
    Case(
        "calendar: rule that never occurs",
        "10",
        ["calendar", "validate", "c.yaml"],
        (2,),
        "occurs at least once",
        text(
            "c.yaml",
            "events:\n  - name: E\n    category: event\n"
            "    rule: {month: 2, weekday: monday, nth: 5}\n    years: {from: 2021, to: 2023}\n",
        ),
    ),
    Case(
        "calendar: non-UTF-8 file",
        "10",
        ["calendar", "validate", "c.yaml"],
        (2,),
        "c.yaml:6: (file): expected UTF-8",
        text("c.yaml", event("notes: x").encode() + b"    source: caf\xe9\n"),
    ),
    Case(
        "calendar: object-constructing tag",
        "1",
        ["calendar", "validate", "c.yaml"],
        (2,),
        "expected plain YAML data",
        text("c.yaml", event("notes: !!python/object/apply:os.system [echo hi]")),
    ),
    Case(
        "calendar: alias bomb, 7 levels",
        "1",
        ["calendar", "validate", "c.yaml"],
        (2,),
        None,
        text("c.yaml", alias_bomb(7)),
        timeout=30,
    ),
    Case(
        "calendar: alias bomb, 9 levels",
        "1",
        ["calendar", "validate", "c.yaml"],
        (2,),
        None,
        text("c.yaml", alias_bomb(9)),
        timeout=30,
    ),
    Case(
        "calendar: self-referencing alias",
        "1",
        ["calendar", "validate", "c.yaml"],
        (2,),
        None,
        text("c.yaml", "x: &a [*a]\nevents: []\n"),
        timeout=30,
    ),
    Case(
        "calendar: 2 MB file",
        "1",
        ["calendar", "validate", "c.yaml"],
        (2,),
        None,
        text("c.yaml", "events:\n" + "# padding\n" * 200_000),
        timeout=30,
    ),
    Case(
        "forecast: --calendar with a misspelt zone",
        "10",
        ["forecast", "data.csv", "--model", "naive", "--calendar", "c.yaml"],
        (2,),
        "did you mean",
        both(data(), text("c.yaml", event("zones: [Queenz]"))),
    ),
    Case(
        "calendar show: --start 9999-01-01",
        "5",
        ["calendar", "show", "--start", "9999-01-01", "--end", "9999-01-02"],
        (0, 2),
        None,
    ),
    # -- nightly batch (items 4, 5, 12)
    Case(
        "nightly: config alias bomb",
        "1",
        ["nightly", "--config", "nightly.yaml", "--out", "runs"],
        (2,),
        None,
        text("nightly.yaml", alias_bomb(8)),
        timeout=30,
    ),
    Case(
        "nightly: --as-of before the data",
        "4",
        [
            "nightly",
            "--config",
            "nightly.yaml",
            "--out",
            "runs",
            "--as-of",
            "2020-01-01",
            "--no-progress",
        ],
        (2,),
        "2020-01-01",
        nightly_config,
        check=lambda d, out: "published a run" if (d / "runs" / "2020-01-01").exists() else None,
    ),
    Case(
        "nightly: --out under a regular file",
        "5",
        ["nightly", "--config", "nightly.yaml", "--out", "data.csv/runs", "--no-progress"],
        (2,),
        None,
        nightly_config,
    ),
    Case(
        "nightly: two runs of one date at once",
        "5",
        ["nightly", "--config", "nightly.yaml", "--out", "runs", "--no-progress"],
        (0, 2),
        None,
        nightly_config,
        timeout=300,
        parallel=2,
        check=no_leftovers,
    ),
    # -- more hostile or odd inputs
    Case(
        "calendar: 1000 nested lists",
        "1",
        ["calendar", "validate", "c.yaml"],
        (2,),
        None,
        text("c.yaml", "events: " + "[" * 1000 + "]" * 1000 + "\n"),
        timeout=30,
    ),
    Case(
        "data: all values missing",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "no values",
        data(30, edit=lambda df: df.assign(y="NaN")),
    ),
    Case(
        "data: mixed UTC offsets and naive stamps",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "mixes timestamps",
        data(
            30,
            edit=lambda df: df.assign(
                ds=df["ds"].where(df.index != 3, "2025-01-01T03:00:00-05:00")
            ),
        ),
    ),
    Case(
        "data: fall-back hour three times",
        "11",
        ["forecast", "data.csv", *F],
        (2,),
        "appears more than twice",
        text(
            "data.csv",
            "ds,metric,y\n"
            + "".join(
                f"{t},trips,1\n"
                for t in pd.date_range("2015-10-20", "2015-11-10", freq="h").strftime(
                    "%Y-%m-%d %H:%M"
                )
            )
            + "2015-11-01 01:00,trips,1\n" * 2,
        ),
    ),
    Case(
        "data: --freq D on hourly counts",
        "11",
        [*FC, "--freq", "D", "--horizon", "2D"],
        (0,),
        None,
        data(70),
    ),
    Case(
        "detect: --min-points 0",
        "5",
        [*DET, "--start", "2025-01-20", "--end", "2025-01-21", "--min-points", "0"],
        (2,),
        "--min-points",
        data(),
    ),
    Case(
        "impact: --end before --start",
        "5",
        ["impact", "data.csv", *F, "--start", "2025-01-20", "--end", "2025-01-10"],
        (2,),
        None,
        data(),
    ),
    Case(
        "expect: unreadable --start",
        "5",
        ["expect", "data.csv", "--calendar", "none", "--start", "soon", "--end", "2025-02-03"],
        (2,),
        "--start",
        data(),
    ),
    Case(
        "check: a series skipped for one inf",
        "2",
        ["check", "data.csv", "--by", "zone", "--calendar", "none", "--since", "2025-01-29"],
        (1, 2),
        None,
        data(30, ("A", "B"), set_value(800, "inf")),
    ),
    Case(
        "nightly: a short series (20 days)",
        "12",
        ["nightly", "--config", "nightly.yaml", "--out", "runs", "--no-progress"],
        (0,),
        None,
        nightly_with(lambda b: b.iloc[-20 * 24 :]),
        check=in_manifest('"short"'),
    ),
    Case(
        "nightly: a series silent for 5 days",
        "12",
        ["nightly", "--config", "nightly.yaml", "--out", "runs", "--no-progress"],
        (0,),
        None,
        nightly_with(lambda b: b.iloc[: -5 * 24]),
        check=in_manifest('"stale"'),
    ),
]


# ----------------------------------------------------------------------------- running


def run_case(case: Case) -> Outcome:
    """Run the case in a fresh folder; ``parallel`` copies start together."""
    with tempfile.TemporaryDirectory(prefix="robust-") as tmp:
        d = Path(tmp)
        case.setup(d)
        t0 = time.perf_counter()
        procs = []
        for i in range(case.parallel):
            peak = d / f".peak{i}"
            cmd = [sys.executable, "-c", WRAP, str(peak), *CLI, *case.args]
            procs.append((subprocess.Popen(cmd, cwd=d, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True,
                                           start_new_session=True), peak))  # fmt: skip
        codes, outs, why = [], [], ""
        for p, _ in procs:
            try:
                out, err = p.communicate(
                    timeout=max(1.0, case.timeout - (time.perf_counter() - t0))
                )
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                out, err = p.communicate()
                why = f"timed out after {case.timeout:.0f} s"
            codes.append(p.returncode)
            outs.append(out + err)
        seconds = time.perf_counter() - t0
        peaks = [int(pk.read_text()) for _, pk in procs if pk.exists() and pk.read_text()]
        text_all = "\n".join(outs)
        why = why or (case.check(d, text_all) or "")
        return Outcome(
            case,
            codes,
            TRACEBACK in text_all,
            seconds,
            max(peaks) / 1024 if peaks else float("nan"),
            case.message is None or case.message in text_all,
            why,
            _first_line(outs),
        )


def _first_line(outs: list[str]) -> str:
    """The first error/warning line a command printed, else its first line."""
    for out in outs:
        lines = [ln for ln in out.splitlines() if ln.strip() and not ln.startswith("  ")]
        errors = [ln for ln in lines if ln.startswith(("error:", "warning:", "skipped:"))]
        if errors or lines:
            return (errors or lines)[0]
    return ""


def table(outcomes: list[Outcome]) -> str:
    """The results as a Markdown table with a count line."""
    rows = [
        "| case | item | exit | expected | traceback | seconds | peak MB | handled | first line |",
        "| --- | --- | --- | --- | --- | ---: | ---: | --- | --- |",
    ]
    for o in outcomes:
        note = "" if o.handled else (o.why or ("message missing" if not o.message_ok else ""))
        rows.append(
            f"| {o.case.name} | {o.case.item} | {','.join(map(str, o.codes))} | "
            f"{'/'.join(map(str, o.case.expect))} | {'yes' if o.traceback else 'no'} | "
            f"{o.seconds:.1f} | {o.peak_mb:.0f} | {'yes' if o.handled else 'NO ' + note} | "
            f"{_cell(o.said)} |"
        )
    handled = sum(o.handled for o in outcomes)
    rows.append("")
    rows.append(f"**{handled} of {len(outcomes)} cases handled.**")
    return "\n".join(rows)


def _cell(text: str, width: int = 110) -> str:
    """Text for a Markdown cell: pipes escaped, the temporary folder dropped, shortened."""
    text = re.sub(r"/tmp/robust-[^/ ]+/", "", text).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 3] + "..."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="Run the cases whose name contains this text.")
    ap.add_argument("--out", default=str(RESULTS), help="Markdown results file.")
    args = ap.parse_args()
    cases = [c for c in CASES if not args.only or args.only in c.name]
    outcomes = []
    for case in cases:
        o = run_case(case)
        print(f"{'ok ' if o.handled else 'NO '} {o.case.name}  exit={o.codes} {o.seconds:.1f}s "
              f"{o.peak_mb:.0f}MB {o.why}", flush=True)  # fmt: skip
        outcomes.append(o)
    md = table(outcomes)
    print(md)
    if not args.only:
        head = (
            "# Robustness battery (benchmarks/robustness.py)\n\n"
            f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores; "
            "each case is one `python -m juno_forecast` subprocess (two for the race) in a fresh "
            "temporary folder. Peak MB: the largest process's resident memory.\n\n"
        )
        Path(args.out).write_text(head + md + "\n")


if __name__ == "__main__":
    main()
