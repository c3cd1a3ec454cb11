"""The tutorial notebooks run from top to bottom (so they cannot rot) and are stored clean.

Each notebook is executed with nbclient in a real ``python3`` kernel, with ``notebooks/`` as
its working directory, matplotlib on the Agg backend and a per-cell timeout. The notebooks
hold their own ``assert`` checks on what they show (the sample's outage is found and
unexplained, the real blizzard is explained, an added event changes exactly its hours).
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
NAMES = ["01_quickstart.ipynb", "02_real_nyc_data.ipynb", "03_add_an_event.ipynb"]
CELL_TIMEOUT = (
    180  # seconds per cell; each notebook takes well under a minute when the machine is idle
)


def run_notebook(name: str, monkeypatch: pytest.MonkeyPatch, **env: str) -> nbformat.NotebookNode:
    """Execute ``notebooks/<name>`` in a fresh kernel (cwd notebooks/) and return it with outputs."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    return nb


def text_of(cell: nbformat.NotebookNode) -> str:
    """Everything a code cell printed or displayed as text."""
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_without_outputs(name: str) -> None:
    """Committed notebooks carry no outputs or execution counts (small diffs, no stale results)."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code"
    assert all(c.outputs == [] and c.execution_count is None for c in code), name
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= len(code) // 2, "explain the code"


def _files() -> set[Path]:
    """Files under the folders a notebook could be tempted to write into."""
    return {
        p for d in (NOTEBOOKS, REPO / "data") for p in d.rglob("*") if "__pycache__" not in p.parts
    }


def _have_real_data() -> bool:
    shared = Path(os.environ.get("JUNO_SHARED_DATA", REPO.parent / "shared" / "data"))
    return (shared / "uber_nyc_enriched.csv").exists()


#: text each notebook must show (its own asserts check the numbers behind it)
SHOWN = {
    "01_quickstart.ipynb": ["Independence Day", "report.html", "explained_by"],
    "02_real_nyc_data.ipynb": ["Blizzard of January 2015", "with calendar", "without calendar"],
    "03_add_an_event.ipynb": [
        "exit code 0",
        "exit code 2",
        "2026-06-31",
        "the ranges follow the curated effects",
    ],
}


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every cell runs without error, shows what it promises and a figure; nothing lands in the repo."""
    before = _files()
    nb = run_notebook(name, monkeypatch, TMPDIR=str(tmp_path))
    assert sorted(map(str, _files() - before)) == []
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    if name == "02_real_nyc_data.ipynb" and not _have_real_data():
        pytest.skip("real NYC data absent: the notebook's no-data path is tested below")
    shown = "\n".join(text_of(c) for c in code)
    for text in SHOWN[name]:
        assert text in shown, f"{name} does not show {text!r}"
    images = sum("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert images >= 1, f"{name} showed no figure"


def test_real_data_notebook_without_data_says_so_and_stops(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Where ../shared/data is absent, the notebook prints one clear message and nothing else."""
    nb = run_notebook("02_real_nyc_data.ipynb", monkeypatch, JUNO_SHARED_DATA=str(tmp_path))
    code = [c for c in nb.cells if c.cell_type == "code"]
    printed = [text_of(c) for c in code]
    first = printed[0].splitlines()
    assert first[0].startswith("repository:")
    assert first[1:] == [
        f"The real NYC data is not here ({tmp_path / 'uber_nyc_enriched.csv'}); "
        "set JUNO_SHARED_DATA to its folder. Nothing else to show."
    ]
    assert all(c.outputs == [] for c in code[1:]), "later cells must do nothing without the data"
