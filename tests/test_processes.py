"""Process trees and their memory through psutil: the code the memory cap and the clean-up run on Linux and macOS alike.

There is one path (no /proc of our own), so these tests on Linux run what a
student's Mac runs: a tree whose grandchild left the process group and
ignores SIGTERM is found, its resident memory read, and every process killed.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import time

import psutil

from grader import lifetime
from grader.kernel import processes

# a child that starts a grandchild in a session of its own (setsid), which ignores SIGTERM and holds 64 MB
TREE = r"""
import subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", '''
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
held = bytearray(64 * 2**20)
for i in range(0, len(held), 4096):
    held[i] = 1
print("ready", flush=True)
time.sleep(60)
'''], start_new_session=True, stdout=subprocess.PIPE, text=True)
assert grandchild.stdout.readline().strip() == "ready"
print(grandchild.pid, flush=True)
time.sleep(60)
"""


def _tree():
    child = subprocess.Popen([sys.executable, "-c", TREE], stdout=subprocess.PIPE, text=True)
    grandchild = int(child.stdout.readline())
    return child, grandchild


def test_the_module_reads_processes_through_psutil_only():
    source = inspect.getsource(processes)
    assert "/proc" not in source and "import psutil" in source


def test_a_tree_is_found_measured_and_killed_whole():
    child, grandchild = _tree()
    try:
        tree = processes.descendants(child.pid)
        assert {child.pid, grandchild} <= set(tree)
        assert tree[grandchild] == psutil.Process(grandchild).create_time()  # the start time, against pid reuse
        assert os.getpgid(grandchild) != os.getpgid(child.pid)  # out of the group: killing the group would miss it
        used = processes.resident_bytes(tree)
        assert used >= 64 * 2**20
        assert abs(used - sum(psutil.Process(p).memory_info().rss for p in tree)) < 8 * 2**20
        processes.kill_all(tree)
        assert not processes.alive(child.pid) and not processes.alive(grandchild)
        assert child.wait(5) == -9
    finally:
        for pid in (child.pid, grandchild):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def test_a_process_with_another_start_time_is_not_the_one_tracked():
    """A pid seen earlier and reused by another process since must not be killed in its place."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = psutil.Process(proc.pid).create_time()
        assert processes.alive(proc.pid, started) and not processes.alive(proc.pid, started - 10)
        processes.kill_all({proc.pid: started - 10}, wait=0.2)
        assert proc.poll() is None  # left alone
        processes.kill_all({proc.pid: started})
        assert proc.wait(5) == -9
    finally:
        proc.kill()


def test_a_zombie_is_gone_and_a_stopped_worker_s_tree_goes_with_it():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 5
    while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not processes.alive(proc.pid)  # exited, not yet reaped by us
    proc.wait()
    child, grandchild = _tree()
    try:
        lifetime.reap_workers([child.pid], lifetime.signal_workers([child.pid]), grace=0.5)  # SIGTERM, then SIGKILL for the whole tree
        assert not processes.alive(child.pid) and not processes.alive(grandchild)
        child.wait(5)
    finally:
        processes.kill_all({child.pid: None, grandchild: None}, wait=0)


def test_processes_of_a_user():
    mine = processes.of_user(os.getuid())
    assert os.getpid() in mine and mine[os.getpid()] == psutil.Process().create_time()


def test_a_batch_stopped_before_its_workers_start_leaves_no_process_of_its_own():
    """SIGTERM while the batch computes the reference's answers (a child process) stops that child too."""
    import signal

    child = None
    try:
        with lifetime.stop_on_signals():
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the signal's BatchStopped comes first
        raise AssertionError("SIGTERM did not stop the batch")
    except lifetime.BatchStopped as stopped:
        assert stopped.signum == signal.SIGTERM
    assert child is not None and child.wait(5) == -9
