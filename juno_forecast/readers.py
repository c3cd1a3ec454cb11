"""Reading a data file's needed columns as they are written (CSV or Parquet).

Every cell is read as text (``dtype=str``, ``keep_default_na=False``): keys
and metric names stay exactly as written (a borough called ``NA`` is a
borough), and :mod:`juno_forecast.data` decides what a value means. ``opts``
is data's options (time, value, metric and key columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError


def read_table(path: Path, opts: Any) -> tuple[pd.DataFrame, str, int]:
    """Read the needed columns as they are written; returns (frame, row word, first row number)."""
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a .csv or .parquet file")
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt")):
        return _read_csv(path, opts), "line", 2
    if name.endswith((".parquet", ".pq")):
        return _read_parquet(path, opts), "row", 1
    raise InputError(f"{path}: unsupported file type {path.suffix!r} (use .csv or .parquet)")


def check_columns(path: Path | str, available: Sequence[str], opts: Any) -> None:
    """InputError naming the first missing column and the flag that maps it."""
    flags = [(opts.time_col, "--time-col"), (opts.value_col, "--value-col")]
    flags += [(k, "--by") for k in opts.keys]
    for col, flag in flags:
        if col not in available:
            raise InputError(
                f"{path}: missing column {col!r} (set {flag}; columns are {_cols(available)})"
            )
    if opts.metric is None and opts.metric_col not in available:
        raise InputError(
            f"{path}: missing column {opts.metric_col!r} (set --metric-col, "
            f"or --metric NAME for a file of one metric; columns are {_cols(available)})"
        )


def _cols(available: Sequence[str]) -> str:
    shown = ", ".join(map(str, list(available)[:12]))
    return shown + (", ..." if len(available) > 12 else "")


def _read_csv(path: Path, opts: Any) -> pd.DataFrame:
    try:
        read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}  # BOM from Excel
        header = pd.read_csv(path, nrows=0, **read)
        check_columns(path, list(header.columns), opts)
        # all columns: with usecols pandas would silently accept rows with extra fields
        table = pd.read_csv(path, **read)
        return table[opts.needed_columns(list(table.columns))]
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: cannot read CSV: {_bad_byte(path)}") from None
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read CSV: {first}") from None


def _bad_byte(path: Path) -> str:
    """Where a file stops being UTF-8: ``not UTF-8 text: byte 0xe9 at line 2, column 23``."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return (
            f"not UTF-8 text: byte 0x{data[e.start]:02x} at line {line}, column {column} "
            "(save the file as UTF-8)"
        )
    return "not UTF-8 text"  # compressed: the position inside the archive means nothing


def _read_parquet(path: Path, opts: Any) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except Exception as exc:  # pyarrow raises several types for a bad file
        if path.stat().st_size == 0:
            raise InputError(f"{path}: file is empty") from None
        raise InputError(f"{path}: cannot read Parquet: {str(exc).splitlines()[0]}") from None
    check_columns(path, names, opts)
    return pd.read_parquet(path, columns=opts.needed_columns(names))
