"""A local batch's worker processes, started before the batch is prepared.

Starting a worker (a fresh interpreter: `spawn`) and importing the grader in
it takes about as long as the main process takes to import the grader, read
the rubric, see which reports are current and set the reference's answers
going. So `grade DIR --out OUT` starts its workers first and prepares beside
them; each worker, once it has imported what a kernel needs, waits for the
kernels' spec (`start_kernels`) and starts its first kernel at once. The
workers' pool is then the batch's (`grader.batch`); its stop is theirs.

This module imports only the standard library and `grader.lifetime`, so the
workers are on their way before the main process has imported the rest.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from . import lifetime


def _started(parent: int, specs) -> None:
    """A worker's initializer: the kernel pool's, given the queue its spec comes by (imported here, in the worker)."""
    from .kernel import pool

    pool.worker_started(parent, specs=specs)


def _ready() -> int:
    """The first task of each worker: nothing to do but to make the pool start it now."""
    return os.getpid()


class Workers:
    """`count` worker processes of a process pool, started now; `start_kernels` says how their kernels start."""

    def __init__(self, count: int):
        context = multiprocessing.get_context("spawn")
        self.count = max(1, count)
        self._specs = context.SimpleQueue()
        self._sent = False
        self.pool = ProcessPoolExecutor(max_workers=self.count, mp_context=context, initializer=_started,
                                        initargs=(os.getpid(), self._specs))
        # the pool starts a process per task while none is idle: one task each starts them all now
        self._first: list[Future] = [self.pool.submit(_ready) for _ in range(self.count)]

    def start_kernels(self, spec) -> None:
        """Hand each worker the batch's kernel spec (a `KernelSpec`), or None: it starts no kernel before its first task."""
        if not self._sent:
            self._sent = True
            for _ in range(self.count):
                self._specs.put(spec)

    def pids(self) -> list[int]:
        """The worker processes (the executor has no public list; `_processes`, pid -> process, is there since 3.2)."""
        return list(getattr(self.pool, "_processes", None) or {})

    def stop(self) -> None:
        """Stop every worker and what runs below it (SIGTERM, then SIGKILL after the grace period)."""
        self.start_kernels(None)  # a worker still waiting for its spec gets on, and stops
        lifetime.stop_workers(self.pids())
        self.pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
