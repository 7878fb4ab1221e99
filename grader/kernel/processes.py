"""The processes of one run: find every descendant, measure their memory, kill them all.

Pure /proc reading (Linux). A kernel's children may leave its process group
(`setsid`) or ignore SIGTERM; they are still its descendants while it lives,
so the session remembers every pid it ever saw in the tree and SIGKILLs
them all at the end.
"""

from __future__ import annotations

import os
import signal
import time

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _stat(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (state is [0], ppid [1], start time [19])."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(root: int) -> dict[int, bytes]:
    """`root` and every process below it, each with its start time (pids are reused)."""
    children, found, stack = _children_map(), {}, [root]
    while stack:
        pid = stack.pop()
        if pid not in found and (fields := _stat(pid)) is not None:
            found[pid] = fields[19]
            stack.extend(children.get(pid, []))
    return found


def of_user(uid: int) -> dict[int, bytes]:
    """Every process whose real or effective user is `uid`, each with its start time."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                uids = next((line.split()[1:3] for line in f if line.startswith("Uid:")), [])
        except OSError:
            continue
        if str(uid) in uids and (fields := _stat(int(entry))) is not None:
            found[int(entry)] = fields[19]
    return found


def resident_bytes(pids) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def alive(pid: int, started: bytes | None = None) -> bool:
    """Running (not a zombie), and, given its start time, still the same process."""
    fields = _stat(pid)
    return fields is not None and fields[0] != b"Z" and (started is None or fields[19] == started)


def kill_all(tracked: dict[int, bytes], wait: float = 2.0) -> None:
    """SIGKILL every tracked process that is still the same process (same start time), and see them go."""
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
