"""Writing result tables: to a file chosen by extension, or to stdout in a format.

Files are written atomically (to a temporary file beside the target, then
renamed), so a failed run never leaves a half-written output behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pandas as pd

from .errors import InputError

TABLE_SUFFIXES = (".csv", ".parquet", ".json")


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename ``tmp_path`` onto ``path``.

    A folder that cannot be made or written (a parent that is a regular file, no
    permission) is an :class:`~juno_forecast.errors.InputError` naming ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:  # a parent is a regular file, no permission, read-only disk...
        raise InputError(f"{path}: cannot write here ({_why_not(path, e)})") from None
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def safe_name(name: str, default: str = "figure") -> str:
    """A file name built from data (a series label, key values): never a path, never shared.

    Only letters, digits, ``-``, ``_`` and ``.`` are kept (``../../etc`` becomes
    ``etc``-like, never a path). When anything had to be changed, a short hash of
    the whole original is appended, so names that sanitize alike (``a/b`` and
    ``a_b``, ``東京`` and ``大阪``) still get different files; the hash is stable
    from run to run.
    """
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    cleaned = re.sub(r"\.{2,}", "_", cleaned).strip("._")[:80] or default
    if cleaned != name:
        cleaned += "-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return cleaned


def check_writable(path: str | os.PathLike, folder: bool = False) -> None:
    """An :class:`InputError` now, before any work, when ``path`` could not be written.

    ``path`` is a file to write (its folder must be makeable and writable) or, with
    ``folder``, a folder to write into. Nothing is created: the nearest existing
    folder on the way must be a folder the user may write in.
    """
    path = Path(path)
    target = path if folder else path.parent
    existing = next(p for p in (target, *target.parents, Path(".")) if p.exists())
    if not existing.is_dir():
        raise InputError(f"{path}: cannot write here ({existing} is a file, not a folder)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"{path}: cannot write here (no permission to write in {existing})")


def _why_not(path: Path, error: OSError) -> str:
    """Why a folder for ``path`` cannot be made: a parent that is a file, or the OS's reason."""
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        return f"{blocker} is a file, not a folder"
    return error.strerror or type(error).__name__


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _jsonable(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S")
    return out


def to_json_records(df: pd.DataFrame) -> str:
    """The table as a JSON list of records (timestamps as ISO strings, NaN as null)."""
    return json.dumps(
        json.loads(_jsonable(df).to_json(orient="records", date_format="iso")), indent=2
    )


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``df`` to ``path``; the format follows the extension (.csv, .parquet, .json)."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{path}: expected an output file ending in .csv, .parquet or .json")
    if suffix == ".csv":
        return atomic_write(path, lambda p: df.to_csv(p, index=False))
    if suffix == ".parquet":
        return atomic_write(path, lambda p: _parquet_safe(df).to_parquet(p, index=False))
    return atomic_write(path, lambda p: p.write_text(to_json_records(df) + "\n"))


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Parquet needs one type per column: turn dicts/tuples in object columns into strings."""
    out = df.copy()
    for col in out.columns:
        if (
            out[col].dtype == object
            and out[col].map(lambda v: isinstance(v, dict | list | tuple)).any()
        ):
            out[col] = out[col].map(
                lambda v: (
                    json.dumps(v)
                    if isinstance(v, dict)
                    else ";".join(map(str, v))
                    if isinstance(v, list | tuple)
                    else v
                )
            )
    return out


def print_table(df: pd.DataFrame, fmt: str = "table", stream: IO[str] | None = None) -> None:
    """Print ``df`` to ``stream`` (stdout) as an aligned ``table``, ``csv`` or ``json``."""
    stream = stream or sys.stdout
    if fmt == "csv":
        df.to_csv(stream, index=False)
    elif fmt == "json":
        stream.write(to_json_records(df) + "\n")
    elif fmt == "table":
        if df.empty:
            stream.write("(no rows)\n")
        else:
            with pd.option_context(
                "display.max_rows",
                None,
                "display.max_columns",
                None,
                "display.width",
                200,
                "display.max_colwidth",
                60,
            ):
                stream.write(df.to_string(index=False) + "\n")
    else:
        raise InputError(f"--format: expected table, csv or json, got {fmt!r}")


def emit_table(df: pd.DataFrame, out: str | None = None, fmt: str = "table") -> None:
    """Write to ``out`` when given, else print to stdout in ``fmt``."""
    if out:
        write_table(df, out)
    else:
        print_table(df, fmt)
