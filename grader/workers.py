"""A local batch's worker processes, started before the batch is prepared.

A worker must import the grader (0.3-0.4 s of CPU) before it grades. So
`grade DIR --out OUT` imports the grader, then forks its workers at once,
before it reads the rubric, sees which reports are current and sets the
reference's answers going: each worker has the grader already, tries the
sandbox meanwhile, waits for the kernels' spec (`start_kernels`) and starts
its first kernel as soon as it comes. Forking is safe only while the process
has no other thread (one could hold a lock the child would wait on forever);
otherwise (a program that grades from threads, the test suite) each worker is
a fresh interpreter (`spawn`) that imports the grader itself. The workers'
pool is then the batch's (`grader.batch`); its stop is theirs.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor

from . import lifetime
from .kernel.ahead import AheadBudget


def _started(parent: int, specs, budget: AheadBudget) -> None:
    """A worker's initializer: the kernel pool's, given the queue its spec comes by (imported here, in the worker)."""
    from .kernel import pool

    pool.worker_started(parent, specs, budget)


def _ready() -> int:
    """The first task of each worker: nothing to do but to make the pool start it now."""
    return os.getpid()


def _context():
    """`fork` where it is safe (a single thread) and exists, else `spawn`."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _before_fork() -> None:
    """What every worker would work out alike, worked out once, here, for the forked workers to inherit: the
    kernels' isolation (a few `bwrap true` trials) and the paths of the interpreter a kernel needs (asked of a
    fresh interpreter): about 40 ms of CPU per worker, which the workers would spend beside this process's own
    preparation of the batch."""
    from .kernel import sandbox

    sandbox.available()
    sandbox.environment_paths()


class Workers:
    """`count` worker processes of a process pool, started now; `start_kernels` says how their kernels start.

    `budget` is counted by all of them: how many kernels each starts ahead of use (`grader.kernel.ahead`)."""

    def __init__(self, count: int):
        context = _context()
        self.start_method = context.get_start_method()
        if self.start_method == "fork":
            _before_fork()
        self.count = max(1, count)
        self._specs = context.SimpleQueue()
        self.budget = AheadBudget(context)
        self._sent = False
        self._signalled: dict | None = None  # the process tree when the workers were told to stop (`let_go`)
        self.pool = ProcessPoolExecutor(max_workers=self.count, mp_context=context, initializer=_started,
                                        initargs=(os.getpid(), self._specs, self.budget))
        # the pool starts a process per task while none is idle: one task each starts them all now
        self._first: list[Future] = [self.pool.submit(_ready) for _ in range(self.count)]

    def start_kernels(self, spec, submissions: int = 0) -> None:
        """Hand each worker the batch's kernel spec (a `KernelSpec`), or None: it starts no kernel before its first task.

        `submissions`: how many the batch will give them, for which kernels may start ahead."""
        if not self._sent:
            self._sent = True
            self.budget.expect(submissions)
            for _ in range(self.count):
                self._specs.put(spec)

    def pids(self) -> list[int]:
        """The worker processes (the executor has no public list; `_processes`, pid -> process, is there since 3.2)."""
        return list(getattr(self.pool, "_processes", None) or {})

    def let_go(self) -> None:
        """Tell every worker to stop (SIGTERM) and return: the batch's gradebook is written while they exit; `stop` waits."""
        if self._signalled is None:
            self.start_kernels(None)  # a worker still waiting for its spec gets on, and stops
            self._signalled = lifetime.signal_workers(self.pids())

    def stop(self) -> None:
        """Stop every worker and what runs below it (SIGTERM, then SIGKILL after the grace period)."""
        self.let_go()
        lifetime.reap_workers(self.pids(), self._signalled)
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
