"""Run one function over many independent tasks, on this machine or on a Dask cluster.

The engine knows nothing about forecasting: it takes a *top-level importable*
function and a list of plain-data tasks (picklable dicts), runs them with

* ``local``: a :class:`concurrent.futures.ProcessPoolExecutor` of ``workers``
  processes on this machine, or
* ``dask``: a :class:`dask.distributed.Client` connected to ``scheduler``,

and returns one :class:`TaskOutcome` per task, in task order. A task that
raises is recorded as failed with its cause; the others go on. ``on_done`` is
called once per finished task (in completion order) so callers can draw a
progress bar.

Local workers die with the process that started them, even when it is killed
with ``kill -9`` (which runs no clean-up): each worker asks Linux to send it
SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and a watchdog
thread exits it when its parent process changes (other systems, and the
moment between fork and prctl). Orphaned workers would otherwise hold their
memory (hundreds of megabytes each) with nobody to give them work.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from ..errors import InputError

ENGINES = ("local", "dask")
#: pools tried in parallel after a worker died, before isolating the remaining tasks
PARALLEL_ROUNDS = 2
WORKER_DIED = "WorkerDied: the worker process running this task died (crash or out of memory)"
#: how long to wait for a Dask scheduler before giving up (exit 2)
CONNECT_TIMEOUT = "10s"
#: seconds between a worker's checks that its parent is still there
WATCH_PARENT_S = 0.5
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass
class TaskOutcome:
    """What became of one task: its return value, or the error that stopped it."""

    index: int
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the task returned normally."""
        return self.error is None


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when process ``parent`` (its starter) ends.

    Linux delivers SIGKILL at the parent's death (``PR_SET_PDEATHSIG``); a daemon
    thread also checks ``os.getppid()`` every :data:`WATCH_PARENT_S` seconds.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the watchdog alone
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_PARENT_S)
    os._exit(1)


def _describe(exc: BaseException) -> str:
    """One line naming an exception: ``Type: message`` (the last line of its text)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1]}" if text else type(exc).__name__


def run_tasks(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    engine: str = "local",
    workers: int = 2,
    scheduler: str | None = None,
    on_done: Callable[[TaskOutcome], None] | None = None,
) -> list[TaskOutcome]:
    """Run ``func(task)`` for every task with the chosen engine; outcomes in task order.

    ``func`` must be importable by name in the worker (a module-level function),
    and tasks must be plain picklable data, because both engines ship them to
    other processes (or machines).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    if not tasks:
        return []
    if engine == "dask":
        return _run_dask(func, tasks, scheduler, on_done)
    return _run_local(func, tasks, max(1, int(workers)), on_done)


def _run_local(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    workers: int,
    on_done: Callable[[TaskOutcome], None] | None,
) -> list[TaskOutcome]:
    """Worker processes on this machine (never more processes than tasks).

    A worker that dies (a crash in native code, the out-of-memory killer) breaks
    the whole pool: the tasks it left unfinished are run again in a fresh pool,
    and after ``PARALLEL_ROUNDS`` such rounds each remaining task runs alone in
    its own process, so only the task that kills its worker is recorded as failed.
    """
    outcomes: dict[int, TaskOutcome] = {}
    pending = list(range(len(tasks)))
    for _ in range(PARALLEL_ROUNDS):
        pending = _pool_round(func, tasks, pending, workers, outcomes, on_done)
        if not pending:
            break
    for i in pending:
        if _pool_round(func, tasks, [i], 1, outcomes, on_done):
            _finish(outcomes, TaskOutcome(i, error=WORKER_DIED), on_done)
    return [outcomes[i] for i in range(len(tasks))]


def _pool_round(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    indices: list[int],
    workers: int,
    outcomes: dict[int, TaskOutcome],
    on_done: Callable[[TaskOutcome], None] | None,
) -> list[int]:
    """Run ``indices`` in one pool; returns those left unfinished by a broken pool."""
    broken: list[int] = []
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(indices)),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        futures = {pool.submit(func, tasks[i]): i for i in indices}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                outcome = TaskOutcome(i, value=fut.result())
            except BrokenProcessPool:
                broken.append(i)
                continue
            except Exception as exc:  # one task's failure must not stop the others
                outcome = TaskOutcome(i, error=_describe(exc))
            _finish(outcomes, outcome, on_done)
    except BaseException:
        # interrupted (Ctrl-C, SIGTERM): drop the queued tasks instead of waiting for them
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return sorted(broken)


def _finish(
    outcomes: dict[int, TaskOutcome],
    outcome: TaskOutcome,
    on_done: Callable[[TaskOutcome], None] | None,
) -> None:
    outcomes[outcome.index] = outcome
    if on_done is not None:
        on_done(outcome)


def _connect(client_cls: Any, scheduler: str) -> Any:
    """A Dask client for ``scheduler``; an unreachable scheduler is an :class:`InputError`."""
    try:
        return client_cls(scheduler, set_as_default=False, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            f"--scheduler: cannot reach the Dask scheduler at {scheduler}: {_describe(exc)}"
        ) from None


def _run_dask(
    func: Callable[[Any], Any],
    tasks: Sequence[Any],
    scheduler: str | None,
    on_done: Callable[[TaskOutcome], None] | None,
) -> list[TaskOutcome]:
    """The same work submitted to a Dask distributed cluster at ``scheduler``."""
    from dask.distributed import Client
    from dask.distributed import as_completed as dask_as_completed

    if not scheduler:
        raise ValueError("engine dask needs a scheduler address, e.g. tcp://host:8786")
    outcomes: list[TaskOutcome | None] = [None] * len(tasks)
    with _connect(Client, scheduler) as client:
        futures = client.map(func, list(tasks), pure=False)
        index = {fut.key: i for i, fut in enumerate(futures)}
        for fut in dask_as_completed(futures, loop=client.loop):
            i = index[fut.key]
            try:
                outcome = TaskOutcome(i, value=fut.result())
            except Exception as exc:
                outcome = TaskOutcome(i, error=_describe(exc))
            outcomes[i] = outcome
            fut.release()
            if on_done is not None:
                on_done(outcome)
    return [o for o in outcomes if o is not None]
