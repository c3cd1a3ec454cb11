"""Hostile YAML (calendar and nightly config): alias bombs, self-references, deep
nesting and huge files are refused in one line, fast, with exit 2 (issue 14 item 1)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from juno_forecast.calendar import Calendar
from juno_forecast.calendar.yamlio import MAX_ALIAS_VALUES, MAX_BYTES, MAX_DEPTH, read_yaml
from juno_forecast.cli import main
from juno_forecast.errors import CalendarError


def alias_bomb(levels: int, width: int = 10) -> str:
    """``a0: &a0 [x, ...]``, then each level a list of ``width`` aliases of the one before."""
    lines = [f"a0: &a0 [{', '.join(['x'] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def run_cli(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, list[str]]:
    """Exit code and stderr lines of the command line."""
    with pytest.raises(SystemExit) as info:
        main(args)
    return info.value.code, capsys.readouterr().err.strip().splitlines()


def test_nine_level_alias_bomb_fails_fast_in_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(9))  # 10**9 values if expanded
    t0 = time.perf_counter()
    code, err = run_cli(["calendar", "validate", str(path)], capsys)
    assert time.perf_counter() - t0 < 5
    assert code == 2
    assert err == [
        f"error: {path}:5: (file): expected aliases copying at most {MAX_ALIAS_VALUES} values "
        "in all, got 101218 by *a3 (nested aliases multiply)"
    ]


def test_alias_bomb_under_1mb_stays_under_300mb(tmp_path: Path) -> None:
    """A wide bomb padded to just under the size cap: refused in time, little memory."""
    path = tmp_path / "bomb.yaml"
    text = alias_bomb(9, width=40)
    path.write_text(text + "#" * (MAX_BYTES - len(text) - 100) + "\n")
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(CalendarError) as info:
            Calendar.load(path)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 5 and peak < 300e6
    assert len(info.value.errors) == 1 and "aliases copying at most" in info.value.errors[0]


def test_self_referencing_alias_is_one_line_not_a_recursion_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "self.yaml"
    path.write_text("version: 1\nx: &a [*a]\n")
    code, err = run_cli(["calendar", "validate", str(path)], capsys)
    assert code == 2
    assert err == [
        f"error: {path}:2: (file): expected an alias of a finished anchor, "
        "got the alias *a inside its own anchor &a (a self-reference)"
    ]


def test_deep_nesting_is_refused_with_its_line() -> None:
    root, problems = read_yaml("version: 1\nevents: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert root is None
    assert [(p.line, p.expected) for p in problems] == [
        (2, f"at most {MAX_DEPTH} levels of nesting")
    ]


def test_aliases_nesting_deeper_than_the_cap_are_refused() -> None:
    """Each anchor is shallow, but aliases stack them into a deep tree."""
    lines = ["a0: &a0 [[[[[[[[[[x]]]]]]]]]]"]
    lines += [f"a{i}: &a{i} [[[[[[[[[[*a{i - 1}]]]]]]]]]]" for i in range(1, 8)]
    root, problems = read_yaml("\n".join(lines))
    assert root is None and problems[0].got == "deeper nesting through aliases"


def test_ordinary_aliases_and_merge_keys_still_work() -> None:
    root, problems = read_yaml(
        "base: &b {zones: [Bronx], effect: -0.2}\nev: {<<: *b, effect: 0.1}\nl: [*b, *b]\n"
    )
    assert problems == []
    assert root.plain()["ev"] == {"zones": ["Bronx"], "effect": 0.1}
    assert root.plain()["l"] == [{"zones": ["Bronx"], "effect": -0.2}] * 2


def test_calendar_over_the_size_cap_is_refused_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("#" * (MAX_BYTES + 1) + "\n")
    code, err = run_cli(["calendar", "validate", str(path)], capsys)
    assert code == 2
    assert err == [
        f"error: {path}:1: (file): expected at most {MAX_BYTES} bytes of YAML, got {MAX_BYTES + 2}"
    ]


def test_a_megabyte_of_tiny_values_is_refused_not_expanded(tmp_path: Path) -> None:
    from juno_forecast.calendar.yamlio import MAX_VALUES

    root, problems = read_yaml("events: [" + "1," * 500_000 + "1]\n")
    assert root is None
    assert [(p.line, p.expected) for p in problems] == [
        (1, f"at most {MAX_VALUES} values (lists, mappings and scalars) in the file")
    ]


def test_thousands_of_errors_print_200_lines_and_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "empty_events.yaml"
    path.write_text("events: [" + "{}, " * 999 + "{}]\n")  # 1000 events with nothing in them
    t0 = time.perf_counter()
    code, err = run_cli(["calendar", "validate", str(path)], capsys)
    assert code == 2 and time.perf_counter() - t0 < 5
    assert len(err) == 201 and all(
        line.startswith(f"error: {path}:1: events[") for line in err[:200]
    )
    assert err[-1] == "error: ... and 2800 more errors"
