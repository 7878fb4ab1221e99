"""The processes of one run: find every descendant, measure their memory, kill them all.

Read through psutil, so the memory cap and the clean-up work the same on
Linux and macOS. A kernel's children may leave its process group (`setsid`)
or ignore SIGTERM; they are still its descendants while it lives, so the
session remembers every process it ever saw in the tree, each with its
start time (pids are reused), and SIGKILLs them all at the end.
"""

from __future__ import annotations

import os
import signal
import time

import psutil

Tracked = dict[int, float | None]  # pid -> start time (psutil's create_time; None where the system would not say)


def _started(proc: psutil.Process) -> float | None:
    try:
        return proc.create_time()
    except psutil.AccessDenied:
        return None


def descendants(root: int) -> Tracked:
    """`root` and every process below it, each with its start time."""
    try:
        top = psutil.Process(root)
        found = {root: _started(top)}
        children = top.children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    for child in children:
        try:
            found[child.pid] = _started(child)
        except psutil.NoSuchProcess:
            continue
    return found


def of_user(uid: int) -> Tracked:
    """Every process whose real or effective user is `uid`, each with its start time."""
    found = {}
    for proc in psutil.process_iter(["uids", "create_time"]):
        uids = proc.info["uids"]
        if uids is not None and uid in (uids.real, uids.effective):
            found[proc.pid] = proc.info["create_time"]
    return found


def resident_bytes(pids) -> int:
    """The resident memory of these processes together (those gone meanwhile count nothing)."""
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


def alive(pid: int, started: float | None = None) -> bool:
    """Running (not a zombie), and, given its start time, still the same process."""
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and (started is None or _started(proc) in (started, None))
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # it exists; the system will not say more


def kill_all(tracked: Tracked, wait: float = 2.0) -> None:
    """SIGKILL every tracked process that is still the same process (same start time), and see them go.

    Zombies count as gone: a killed kernel stays one until the client that
    started it reaps it, which must stay that client's job.
    """
    killed = []
    for pid, started in tracked.items():
        if pid == os.getpid() or not alive(pid, started):
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + wait  # a signal is delivered, not obeyed, when os.kill returns
    while killed and time.monotonic() < deadline:
        killed = [pid for pid in killed if alive(pid, tracked[pid])]
        if killed:
            time.sleep(0.02)


def kill_group(pgid: int | None) -> None:
    """SIGKILL a process group (the kernel's own), unless it is ours."""
    if not pgid or pgid == os.getpgrp():
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
