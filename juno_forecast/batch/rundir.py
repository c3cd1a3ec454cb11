"""Atomic run folders: ``DIR/<as-of>/`` appears complete or not at all.

A run is written into ``DIR/.tmp-<as-of>-<pid>/`` and renamed into place when
everything is written. A rerun of the same as-of date first moves the earlier
run aside (``DIR/.old-<as-of>-<pid>/``), renames the new one in, then deletes
the old one. A run killed at any point leaves at most a hidden ``.tmp-``/``.old-``
folder, never a partial ``DIR/<as-of>/``; the next run removes stale hidden
folders (whose process is gone) and, if a kill happened between the two
renames, puts the earlier run back first.

Only one run writes into a ``DIR`` at a time: a run holds an exclusive
``fcntl.flock`` lock on the folder ``DIR`` itself (no lock file is left; the
kernel releases it when the process ends, ``kill -9`` included) from before it
cleans stale folders until it has published. A second run into the same
``DIR`` stops at once with one line naming the holder (exit 2) instead of
racing the first one's renames.

Folder names come only from the as-of *date* (formatted by this module), never
from data values.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from ..errors import InputError

_HIDDEN = re.compile(r"^\.(tmp|old)-(\d{4}-\d{2}-\d{2})-(\d+)$")


def run_name(as_of: pd.Timestamp) -> str:
    """The folder name of a run: its as-of date as ``YYYY-MM-DD``."""
    return pd.Timestamp(as_of).strftime("%Y-%m-%d")


def _alive(pid: int) -> bool:
    """True when a process with ``pid`` exists (the owner of a hidden folder still runs)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(out: Path) -> list[str]:
    """Remove hidden folders of dead runs; restore an earlier run a kill left aside.

    Returns what was done, one line per folder (for the log).
    """
    done: list[str] = []
    if not out.is_dir():
        return done
    for p in sorted(out.iterdir()):
        m = _HIDDEN.match(p.name)
        if not m or not p.is_dir() or _alive(int(m.group(3))):
            continue
        kind, date = m.group(1), m.group(2)
        target = out / date
        if kind == "old" and not target.exists():
            os.replace(p, target)
            done.append(f"restored {date} from {p.name}")
        else:
            shutil.rmtree(p, ignore_errors=True)
            done.append(f"removed stale {p.name}")
    return done


def make_out(out: str | Path) -> Path:
    """``out`` as an existing folder; one line (exit 2) when it cannot be one.

    Under a regular file, or where the user may not write, is a usage error.
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except FileExistsError:
        raise InputError(f"--out {out}: expected a folder, got a file") from None
    except OSError as exc:
        raise InputError(
            f"--out {out}: cannot create or write the folder: {exc.strerror or exc}"
        ) from None
    return out


@contextmanager
def run_lock(out: str | Path) -> Iterator[None]:
    """Hold the exclusive lock of the runs folder ``out`` (see the module docstring).

    Raises :class:`InputError` at once when another process holds it, naming its pid
    (from its ``.tmp-`` folder) when it is known.
    """
    folder = make_out(out)
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(
                f"--out {out}: another nightly run{_holder(folder)} is writing there; "
                "run again when it has finished"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(out: Path) -> str:
    """`` (pid N)`` of a live run writing into ``out``, when its temporary folder shows it."""
    for p in sorted(out.iterdir()):
        m = _HIDDEN.match(p.name)
        if m and m.group(1) == "tmp" and _alive(int(m.group(3))):
            return f" (pid {m.group(3)})"
    return ""


@contextmanager
def atomic_run_dir(out: str | Path, as_of: pd.Timestamp) -> Iterator[Path]:
    """Yield a fresh temporary folder; on normal exit it becomes ``out/<as-of>``.

    The runs folder's lock is held throughout (:func:`run_lock`). On an
    exception, in the run or while publishing, the temporary folder is deleted
    and any earlier run stays.
    """
    out = Path(out)
    with run_lock(out):
        clean_stale(out)
        name = run_name(as_of)
        tmp = out / f".tmp-{name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            yield tmp
            publish(tmp, out / name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def publish(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` onto ``target``, replacing an earlier run (moved aside, then deleted).

    If the new run cannot be renamed in, the earlier one is put back.
    """
    _fsync_dir(tmp)
    old = None
    if target.exists():
        old = target.parent / f".old-{target.name}-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    try:
        os.replace(tmp, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    _fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    """Flush a folder's entries to disk (best effort; not every filesystem allows it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
