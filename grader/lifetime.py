"""A batch that is stopped leaves nothing behind, and two batches never write one `--out` at once.

Clusters stop a job with SIGTERM (Slurm at its time limit, Kubernetes at
eviction, `timeout`, systemd), a person with Ctrl-C (SIGINT), and either may
follow with SIGKILL. So:

- the main process turns SIGTERM and SIGINT into `BatchStopped`, stops its
  workers (SIGTERM, then SIGKILL after a grace period) and says what is left;
- each worker asks the kernel for a parent-death signal (Linux
  `prctl(PR_SET_PDEATHSIG)`) and also watches `os.getppid()`, so it stops
  when the main process dies, even by SIGKILL; stopping, it kills every
  process below it (its kernels and theirs) and removes its scratch files;
- each kernel gets a parent-death signal too (`kernel_preexec`), so a
  kernel whose worker died dies with it;
- `OutLock` holds `flock(OUT/.lock)` for the whole batch: a second batch on
  the same directory is refused with one sentence instead of racing the first.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from multiprocessing import util
from pathlib import Path

from .kernel import processes

PR_SET_PDEATHSIG = 1
# resolved now: after a fork (a kernel's preexec_fn) loading a library could deadlock
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
WATCH_S = 0.5  # how often a worker checks that its parent is still there
GRACE_S = 3.0  # how long stopped workers get to stop their kernels before SIGKILL


def die_with_parent(signum: int = signal.SIGKILL, parent: int | None = None) -> bool:
    """Ask Linux to send `signum` to this process when its parent dies; False where that is not available.

    `parent` is the pid the caller expects as parent: if it is already gone
    (it died before the request), the signal is raised now.
    """
    if _libc is None or not hasattr(_libc, "prctl") or _libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) != 0:
        return False
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signum)
    return True


def kernel_preexec(parent: int) -> None:
    """In a kernel's process before exec: die (SIGKILL) with the worker that started it."""
    die_with_parent(signal.SIGKILL, parent)


class BatchStopped(Exception):
    """The batch was asked to stop (SIGTERM, SIGINT) before every submission was graded."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.left: list[str] = []  # the submissions without a current report, set by the batch


class stop_on_signals:
    """While active (main thread only), SIGTERM and SIGINT raise `BatchStopped` in the main thread."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self):
        self._before = {}
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._before[signum] = signal.signal(signum, self._raise)
        return self

    def _raise(self, signum, frame):
        for s in self.SIGNALS:  # a second signal while stopping must not interrupt the clean-up
            signal.signal(s, signal.SIG_IGN)
        raise BatchStopped(signum)

    def __exit__(self, exc_type, exc, tb):
        for signum, before in self._before.items():
            signal.signal(signum, before)
        if exc_type is not None and issubclass(exc_type, BatchStopped):
            # the workers were stopped by their runner; this kills what else this process started and still runs
            # (the reference's answers, computed before the workers start, when the signal came meanwhile). Not
            # multiprocessing's resource tracker: this process's queues and locks still unregister with it as they go
            spared = {os.getpid(), _resource_tracker_pid()}
            processes.kill_all({pid: s for pid, s in processes.descendants(os.getpid()).items() if pid not in spared}, wait=1.0)
        return False


def _resource_tracker_pid() -> int | None:
    """The pid of multiprocessing's resource tracker, if this process started one (`_pid`: there since Python 3.8)."""
    from multiprocessing import resource_tracker

    return getattr(getattr(resource_tracker, "_resource_tracker", None), "_pid", None)


def signal_workers(workers: list[int]) -> processes.Tracked:
    """SIGTERM the worker processes (each kills its kernels and exits); what ran below them, for `reap_workers`."""
    me = os.getpid()
    tree: processes.Tracked = {}
    for pid in workers:
        tree.update(processes.descendants(pid))
    tree.pop(me, None)
    for pid in workers:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    return tree


def reap_workers(workers: list[int], tree: processes.Tracked, grace: float = GRACE_S) -> None:
    """Give signalled workers `grace` seconds to exit, then SIGKILL whatever is left below them."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(processes.alive(pid, tree.get(pid)) for pid in workers if pid in tree):
        time.sleep(0.05)
    for pid in workers:
        if processes.alive(pid, tree.get(pid)):
            tree.update(processes.descendants(pid))
    processes.kill_all(tree)


# --- in each worker process ----------------------------------------------------------------------

_scratch: Path | None = None


def worker_started(parent: int) -> None:
    """A local worker's initializer: stop with the main process, however it ends; leave Ctrl-C to the main process."""
    global _scratch
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: _stop_worker())
    die_with_parent(signal.SIGTERM, parent)
    # kernels' working directories go in a scratch directory of this worker's own, removed when it stops
    _scratch = Path(tempfile.mkdtemp(prefix=f"grader-worker-{os.getpid()}-"))
    _scratch.chmod(0o711)  # a kernel that runs as a user of its own must reach its working directory in here (not list it)
    tempfile.tempdir = str(_scratch)
    # at a normal exit too, after the kernel pool has stopped its kernels (its finalizer has priority 10)
    util.Finalize(None, shutil.rmtree, args=(str(_scratch),), kwargs={"ignore_errors": True}, exitpriority=1)
    threading.Thread(target=_watch_parent, args=(parent,), name="grader-watch-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Where no parent-death signal exists (or it was lost), notice the main process has gone."""
    while os.getppid() == parent:
        time.sleep(WATCH_S)
    _stop_worker()


def _stop_worker() -> None:
    """Kill every process below this worker (kernels and what they started), remove its scratch, exit."""
    me = os.getpid()
    processes.kill_all({pid: s for pid, s in processes.descendants(me).items() if pid != me}, wait=1.0)
    if _scratch is not None:
        shutil.rmtree(_scratch, ignore_errors=True)
    os._exit(128 + signal.SIGTERM)


# --- one batch per output directory --------------------------------------------------------------


class OutLocked(Exception):
    """Another batch is writing to this output directory."""


class OutLock:
    """`flock` on OUT/.lock for the life of this process's batch (the OS releases it if the process dies).

    A whole batch (and a merge) holds it exclusively; each shard of a job array
    holds it shared, so shards run side by side, plus OUT/.lock-shard-I-N
    exclusively, so the same shard never runs twice at once.
    """

    def __init__(self, out: Path, shared: bool = False, part: str | None = None):
        self.out = out
        self.shared = shared
        self.part = part
        self._fds: list[int] = []

    def _lock(self, path: Path, exclusive: bool) -> None:
        import fcntl

        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            self.__exit__()
            who = f"another batch (pid {holder})" if holder.isdigit() else "another batch"
            raise OutLocked(f"{self.out}: {who} is grading into this directory; wait for it to end or stop it, "
                            f"then run this command again") from None
        if exclusive:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        self._fds.append(fd)

    def __enter__(self) -> "OutLock":
        try:
            import fcntl  # noqa: F401
        except ImportError:  # not POSIX: no lock
            return self
        self._lock(self.out / ".lock", exclusive=not self.shared)
        if self.part is not None:
            self._lock(self.out / f".lock-shard-{self.part.replace('/', '-')}", exclusive=True)
        return self

    def __exit__(self, *exc) -> None:
        while self._fds:
            os.close(self._fds.pop())  # closing releases the lock; the file stays (removing it would race a waiting batch)
