"""Kernels started and warmed ahead of use, each used for one submission only.

In a batch, while a worker grades one submission, the kernel for its next
one is already starting: interpreter, preamble and the assignment's heavy
imports (TensorFlow: 2.5–3.6 s) happen off the critical path. A kernel is
taken once, runs one notebook and is stopped, so nothing leaks from one
student to the next; a waiting kernel whose configuration (`KernelSpec`) is
no longer wanted is stopped.

nbclient's and jupyter_client's asynchronous objects belong to the event
loop they were made in, so the pool runs one loop in a thread of its own
for as long as the process lives; callers stay synchronous.
"""

from __future__ import annotations

import asyncio
import atexit
import math
import threading
import time
from multiprocessing import util

import nbformat

from .. import lifetime
from .ahead import AheadBudget
from .session import KernelSession, KernelSpec, ProbeCall, RunResult

MAX_AHEAD = 2  # kernels a worker keeps starting ahead of use, at most


class KernelPool:
    """Kernels waiting per spec (one, or `depth`); `run` takes the oldest (or starts one) and warms the next."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="grader-kernel-pool", daemon=True)
        self._thread.start()
        self._waiting: dict[KernelSpec, list[asyncio.Task]] = {}  # oldest first
        self._start_s: dict[KernelSpec, float] = {}  # how long the last kernel of a spec took to get ready
        self._run_s: dict[KernelSpec, float] = {}  # ... and how long its last run took
        self._stopping: set[asyncio.Future] = set()  # used kernels being stopped
        self.budget: AheadBudget | None = None  # a local batch's, shared with its other workers (`worker_started`)
        self.closed = False

    def run(self, spec: KernelSpec, nb: nbformat.NotebookNode, probes: list[ProbeCall],
            captures: dict[int, list[ProbeCall]] | None = None, *, ahead: bool | int = True, progress=None) -> RunResult:
        """Run `nb` in a kernel of `spec`; meanwhile keep kernels of that spec starting for the next runs.

        `ahead` is how many more runs of this spec may come (True: at least one);
        at most that many kernels, and no more than `depth` of them, wait.
        """
        if self.closed:
            raise RuntimeError("the kernel pool is closed")
        future = asyncio.run_coroutine_threadsafe(self._run(spec, nb, probes, captures, int(ahead), progress), self._loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # e.g. Ctrl-C: the session's own clean-up stops its kernel
            raise

    def prime(self, spec: KernelSpec, count: int = 1) -> None:
        """Start kernels of `spec` now, before any run asks for one, until `count` are waiting.

        A batch worker does this as it starts, with the batch's spec: its first
        kernel starts while the worker is still importing the grader and waiting
        for its first submission, not after.
        """
        async def start() -> None:
            waiting = self._waiting.setdefault(spec, [])
            while len(waiting) < count and self._may_start(len(waiting)):
                waiting.append(asyncio.ensure_future(self._start(spec)))
        if not self.closed:
            asyncio.run_coroutine_threadsafe(start(), self._loop).result()

    def depth(self, spec: KernelSpec) -> int:
        """Kernels to keep starting ahead: enough that one is ready when the current run ends.

        One, unless a kernel takes longer to get ready than a run takes (a numpy-only
        notebook: 0.5 s to start, 0.3 s to run), then up to `MAX_AHEAD`.
        """
        start_s, run_s = self._start_s.get(spec), self._run_s.get(spec)
        if start_s is None or run_s is None:
            return 1
        return max(1, min(MAX_AHEAD, math.ceil(start_s / max(run_s, 0.05))))

    def waiting(self) -> list[int]:
        """The pids of the kernels started ahead and not yet used (for tests and clean-up checks)."""
        async def pids() -> list[int]:
            return [task.result().pid for tasks in self._waiting.values() for task in tasks if task.done() and not task.exception()]
        return asyncio.run_coroutine_threadsafe(pids(), self._loop).result()

    def close(self) -> None:
        """Stop every kernel still waiting, then the loop."""
        if self.closed:
            return
        self.closed = True
        asyncio.run_coroutine_threadsafe(self._discard(lambda spec: True), self._loop).result()
        asyncio.run_coroutine_threadsafe(self._stopped(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    async def _run(self, spec, nb, probes, captures, ahead: int, progress=None) -> RunResult:
        asked = time.monotonic()
        session = await self._take(spec)
        if session.started_at is None:
            await session.start()  # this submission's kernel first: two starting at once would slow both
        self._start_s[spec] = session.ready_at - session.started_at
        waiting = self._waiting.setdefault(spec, [])
        while len(waiting) < min(ahead, self.depth(spec)) and self._may_start(len(waiting)):
            waiting.append(asyncio.ensure_future(self._start(spec)))
        began = time.monotonic()
        session.defer_stop = ahead > 0
        try:
            return await session.run(nb, probes, captures, asked=asked, progress=progress)
        finally:
            self._run_s[spec] = time.monotonic() - began

    async def _take(self, spec: KernelSpec) -> KernelSession:
        """The oldest kernel started ahead for `spec` that is alive; else a new session, not started yet."""
        await self._discard(lambda other: other != spec)
        waiting = self._waiting.get(spec, [])
        while waiting:
            task = waiting.pop(0)
            self._taken()
            try:
                session = await task
            except Exception:
                continue
            if await session.alive():
                return session
            await session.stop()
        return _PooledSession(spec, self._stopping)

    def begin(self) -> int | None:
        """A batch's worker begins a submission: how many its batch has left after it (None: not counted here)."""
        return None if self.budget is None else self.budget.begin()

    def _may_start(self, own: int) -> bool:
        return self.budget is None or self.budget.may_start(own)

    def _taken(self) -> None:
        if self.budget is not None:
            self.budget.taken()

    async def _start(self, spec: KernelSpec) -> KernelSession:
        session = _PooledSession(spec, self._stopping)
        await session.start()
        return session

    async def _stopped(self) -> None:
        """Wait for every kernel still being stopped."""
        while self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)

    async def _discard(self, unwanted) -> None:
        for spec in [s for s in self._waiting if unwanted(s)]:
            for task in self._waiting.pop(spec):
                self._taken()
                try:
                    session = await task
                except Exception:
                    continue
                await session.stop()


class _PooledSession(KernelSession):
    """A session of the pool. After a run with more runs to come (`defer_stop`), its stop (kill, reap, clean up:
    ~0.1 s, mostly waiting for the process to go) runs beside the next submission instead of before it: the
    kernel is done with once `stop` is called. The pool's `close` waits for every such stop."""

    def __init__(self, spec: KernelSpec, stopping: set):
        super().__init__(spec)
        self._stopping_set = stopping
        self.defer_stop = False

    async def stop(self) -> None:
        if not self.defer_stop:
            return await super().stop()
        task = asyncio.ensure_future(super().stop())
        self._stopping_set.add(task)
        task.add_done_callback(self._stopping_set.discard)


_shared: KernelPool | None = None
_lock = threading.Lock()


def shared() -> KernelPool:
    """This process's pool, made on first use and closed when the process ends."""
    global _shared
    with _lock:
        if _shared is None or _shared.closed:
            _shared = KernelPool()
            atexit.register(_shared.close)
            util.Finalize(_shared, _shared.close, exitpriority=10)  # a multiprocessing worker's exit
        return _shared


def worker_started(parent: int, specs, budget: AheadBudget | None = None) -> None:
    """A local batch worker's initializer (`grader.workers`): it stops with the main process
    (`lifetime.worker_started`), tries the sandbox (the kernels' isolation) while the main process prepares the
    batch, then takes the kernels' spec from the queue `specs` and starts a kernel of it at once (None: none).
    Its kernels start ahead as the batch's `budget` allows (`grader.kernel.ahead`)."""
    lifetime.worker_started(parent)
    from . import sandbox

    shared().budget = budget
    sandbox.available()
    spec = specs.get()
    if spec is not None:
        shared().prime(spec)


def close_shared() -> None:
    """Stop this process's waiting kernels (a Dask worker outlives the batch)."""
    with _lock:
        if _shared is not None:
            _shared.close()
