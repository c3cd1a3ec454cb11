"""Run folders appear complete or not at all; stale hidden folders are cleaned."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from juno_forecast.batch.rundir import atomic_run_dir, clean_stale

DAY = pd.Timestamp("2026-06-30")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_rerun_replaces_and_failure_keeps_previous(tmp_path: Path) -> None:
    with atomic_run_dir(tmp_path, DAY) as tmp:
        (tmp / "a.txt").write_text("first")
        assert not (tmp_path / "2026-06-30").exists()  # nothing visible while building
    assert (tmp_path / "2026-06-30" / "a.txt").read_text() == "first"
    with pytest.raises(RuntimeError), atomic_run_dir(tmp_path, DAY) as tmp:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("crash mid-run")
    assert (tmp_path / "2026-06-30" / "a.txt").read_text() == "first"
    with atomic_run_dir(tmp_path, DAY) as tmp:
        (tmp / "b.txt").write_text("second")
    assert sorted(p.name for p in (tmp_path / "2026-06-30").iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["2026-06-30"]


def test_stale_folders_of_dead_runs(tmp_path: Path) -> None:
    pid = _dead_pid()
    (tmp_path / f".tmp-2026-06-30-{pid}").mkdir()
    (tmp_path / f".old-2026-06-29-{pid}").mkdir()  # killed between the two renames
    (tmp_path / f".old-2026-06-29-{pid}" / "manifest.json").write_text("{}")
    live = tmp_path / f".tmp-2026-06-28-{_live_pid()}"
    live.mkdir()
    done = clean_stale(tmp_path)
    assert len(done) == 2
    assert not (tmp_path / f".tmp-2026-06-30-{pid}").exists()
    assert (tmp_path / "2026-06-29" / "manifest.json").exists()  # earlier run restored
    assert live.exists()  # a run still going is left alone


def _live_pid() -> int:
    import os

    return os.getpid()


def test_second_writer_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    import os

    from juno_forecast.errors import InputError

    with atomic_run_dir(tmp_path, DAY) as tmp:
        (tmp / "a.txt").write_text("first")
        with pytest.raises(InputError) as info, atomic_run_dir(tmp_path, DAY):
            pass
        assert str(info.value) == (
            f"--out {tmp_path}: another nightly run (pid {os.getpid()}) is writing there; "
            "run again when it has finished"
        )
        assert sorted(p.name for p in tmp_path.iterdir()) == [tmp.name]  # its folder kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-06-30"]  # and published


def test_out_under_a_regular_file_is_one_line(tmp_path: Path) -> None:
    from juno_forecast.errors import InputError

    (tmp_path / "afile").write_text("x")
    with pytest.raises(InputError) as info, atomic_run_dir(tmp_path / "afile" / "runs", DAY):
        pass
    assert str(info.value) == (
        f"--out {tmp_path / 'afile' / 'runs'}: cannot create or write the folder: Not a directory"
    )
    with pytest.raises(InputError) as info, atomic_run_dir(tmp_path / "afile", DAY):
        pass
    assert str(info.value) == f"--out {tmp_path / 'afile'}: expected a folder, got a file"
