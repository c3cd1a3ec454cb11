"""The engines run a top-level function over plain tasks; failures stay per task."""

from __future__ import annotations

import math

import pytest

from juno_forecast.batch.engine import run_tasks


def square_root(task: dict) -> float:
    """A module-level task function (workers import it by name)."""
    if task["x"] < 0:
        raise ValueError(f"negative input {task['x']}")
    return math.sqrt(task["x"])


def test_local_engine_keeps_order_and_isolates_failures() -> None:
    tasks = [{"x": x} for x in (4, -1, 9, 16)]
    seen = []
    outcomes = run_tasks(square_root, tasks, engine="local", workers=2, on_done=seen.append)
    assert [o.index for o in outcomes] == [0, 1, 2, 3]
    assert [o.value for o in outcomes] == [2.0, None, 3.0, 4.0]
    assert outcomes[1].error == "ValueError: negative input -1"
    assert [o.ok for o in outcomes] == [True, False, True, True]
    assert sorted(o.index for o in seen) == [0, 1, 2, 3]


def test_unknown_engine_and_empty_tasks() -> None:
    with pytest.raises(ValueError, match="engine"):
        run_tasks(square_root, [{"x": 1}], engine="spark")
    assert run_tasks(square_root, [], engine="local") == []


def test_dask_engine_matches_local() -> None:
    from dask.distributed import LocalCluster

    tasks = [{"x": x} for x in (1, 2, -3)]
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        outcomes = run_tasks(square_root, tasks, engine="dask", scheduler=cluster.scheduler_address)
    local = run_tasks(square_root, tasks, engine="local", workers=2)
    assert [o.value for o in outcomes] == [o.value for o in local]
    assert outcomes[2].error == local[2].error == "ValueError: negative input -3"


def test_unreachable_scheduler_is_a_one_line_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from juno_forecast.batch import engine
    from juno_forecast.errors import InputError

    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", "1s")
    with pytest.raises(
        InputError, match=r"^--scheduler: cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        run_tasks(square_root, [{"x": 1}], engine="dask", scheduler="tcp://127.0.0.1:9")


def crash_on_minus_99(task: dict) -> float:
    """Kills its worker process outright for x == -99 (as a segfault or the OOM killer would)."""
    import os

    if task["x"] == -99:
        os._exit(1)
    return math.sqrt(task["x"])


def test_a_worker_that_dies_fails_only_its_own_task() -> None:
    from juno_forecast.batch.engine import WORKER_DIED

    tasks = [{"x": x} for x in (1, 4, -99, 9, 16, 25)]
    done = []
    outcomes = run_tasks(crash_on_minus_99, tasks, engine="local", workers=2, on_done=done.append)
    assert [o.value for o in outcomes] == [1.0, 2.0, None, 3.0, 4.0, 5.0]
    assert outcomes[2].error == WORKER_DIED
    assert sorted(o.index for o in done) == list(range(6))  # each task reported once
