"""A batch stopped as a cluster stops it (SIGTERM, SIGINT, SIGKILL of the main process) leaves nothing behind,
keeps its finished reports and resumes; two batches never write one --out at once; shards merge to the same gradebook."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from conftest import live_processes
from numpy_batch import numpy_batch

GRADE = [sys.executable, "-m", "grader"]
SUBMISSIONS = 5
SLEEP_S = 1.0  # each notebook's last cell: the batch is still running when the signal comes
SCRATCH = Path(tempfile.gettempdir()) / "grader-worker-*"  # each worker's scratch directory (kernels' working directories)


def tagged(tag: str) -> dict[int, str]:
    """Live processes whose environment carries `tag`: the batch's workers, kernels and anything they started."""
    found = {}
    for pid, cmdline in live_processes().items():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if tag.encode() in f.read():
                    found[pid] = cmdline.replace(b"\0", b" ").decode(errors="replace")[:100]
        except OSError:
            continue
    return found


def reports(out):
    return sorted(p.name for p in out.glob("*.json"))


def rows(out):
    with open(out / "grades.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    directory = tmp_path_factory.mktemp("sleepy")
    numpy_batch(directory, SUBMISSIONS, sleep_s=SLEEP_S)
    return directory


def start(src, out, tag, *args):
    env = dict(os.environ, BATCH_STOP_TAG=tag)
    return subprocess.Popen([*GRADE, str(src), "-a", "dlwp-ch2", "--out", str(out), "--workers", "2", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def stop_midway(src, out, signum):
    """Start a batch, send `signum` to its main process once some but not all reports exist; what was seen."""
    tag = f"batch-stop-{uuid.uuid4().hex}"
    proc = start(src, out, tag)
    deadline = time.monotonic() + 120
    while not reports(out) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    seen = {"before": len(reports(out)), "tag": tag}
    if signum == signal.SIGTERM:  # meanwhile, a second batch on the same --out is refused, not run beside it
        seen["second"] = subprocess.run([*GRADE, str(src), "-a", "dlwp-ch2", "--out", str(out)], capture_output=True, text=True,
                                        timeout=120)
    ours = set(tagged(tag))  # the workers among them: each has a scratch directory named after its pid
    sent = time.monotonic()
    os.kill(proc.pid, signum)
    try:
        stdout, stderr = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"the batch did not stop within 15 s of {signal.Signals(signum).name}")
    seen["exit_s"] = time.monotonic() - sent
    left = tagged(tag)
    while left and time.monotonic() < sent + 5:
        time.sleep(0.1)
        left = tagged(tag)
    scratch = {p for pid in ours for p in SCRATCH.parent.glob(SCRATCH.name.replace("*", f"{pid}-*"))}
    seen.update(returncode=proc.returncode, stderr=stderr, survivors=list(left.values()), after=reports(out),
                survivors_s=time.monotonic() - sent, scratch_left=scratch)
    return seen


@pytest.fixture(scope="module")
def stop_run(src, tmp_path_factory):
    """Each signal's run (stopped mid-batch, then run again to the end), made once, by whichever test asks first."""
    runs = {}

    def run(signum):
        if signum not in runs:
            out = tmp_path_factory.mktemp(f"stopped-{signal.Signals(signum).name}")
            seen = stop_midway(src, out, signum)
            seen["signum"], seen["out"] = signum, out
            seen["rerun"] = subprocess.run([*GRADE, str(src), "-a", "dlwp-ch2", "--out", str(out), "--workers", "2"],
                                           capture_output=True, text=True, timeout=300)
            runs[signum] = seen
        return runs[signum]
    return run


@pytest.fixture(params=[signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: signal.Signals(s).name)
def stopped(request, stop_run):
    return stop_run(request.param)


@pytest.mark.kernel
def test_no_worker_or_kernel_survives(stopped):
    assert stopped["before"] < SUBMISSIONS, "the signal was to come mid-batch"
    assert stopped["survivors"] == [], stopped["survivors"]
    assert stopped["scratch_left"] == set()  # nor the kernels' working directories


@pytest.mark.kernel
def test_finished_reports_are_kept_and_whole(stopped):
    assert len(stopped["after"]) >= stopped["before"]
    for name in stopped["after"]:
        assert json.loads((stopped["out"] / name).read_text())["status"] == "graded"


@pytest.mark.kernel
def test_term_and_int_stop_within_seconds_and_say_what_is_left(stopped):
    if stopped["signum"] == signal.SIGKILL:
        assert stopped["returncode"] == -signal.SIGKILL
        return
    assert stopped["exit_s"] < 8
    assert stopped["returncode"] == 128 + stopped["signum"]
    name = signal.Signals(stopped["signum"]).name
    left = SUBMISSIONS - len(stopped["after"])
    assert f"stopped by {name}: {left} submission(s) left to grade" in stopped["stderr"], stopped["stderr"][-1500:]
    assert "Traceback" not in stopped["stderr"]


@pytest.mark.kernel
def test_a_rerun_grades_the_rest(stopped):
    rerun = stopped["rerun"]
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    kept = len(stopped["after"])
    assert f"{SUBMISSIONS - kept} to grade, {kept} already graded" in rerun.stderr
    assert len(rows(stopped["out"])) == SUBMISSIONS


@pytest.mark.kernel
def test_a_second_batch_on_the_same_out_is_refused(stop_run):
    second = stop_run(signal.SIGTERM)["second"]  # run while that batch was grading
    assert second.returncode == 2
    assert re.fullmatch(r"grade: .*: another batch \(pid \d+\) is grading into this directory; wait for it to end or stop it, "
                        r"then run this command again\n", second.stderr), second.stderr


@pytest.mark.kernel
def test_shards_merged_equal_one_batch(src, stop_run, tmp_path):
    """Three shards run at once (as a job array's tasks would), then merged: the same gradebook as the whole batch
    (the one resumed after SIGKILL)."""
    stopped = stop_run(signal.SIGKILL)
    out = tmp_path / "sharded"
    procs = [subprocess.Popen([*GRADE, str(src), "-a", "dlwp-ch2", "--out", str(out), "--workers", "1", "--shard", f"{i}/3"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2, 3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e[-1500:] for _, e in outs]
    graded = [int(re.search(r"(\d+) to grade", err).group(1)) for _, err in outs]
    assert graded == [2, 2, 1]  # each submission in exactly one shard
    assert not (out / "grades.csv").exists()  # a shard alone writes no partial gradebook
    early = subprocess.run([*GRADE, str(src), "-a", "dlwp-ch2", "--out", str(tmp_path / "empty"), "--merge"],
                           capture_output=True, text=True, timeout=120)
    assert early.returncode == 2 and "5 of 5 submissions have no current report" in early.stderr
    merged = subprocess.run([*GRADE, str(src), "-a", "dlwp-ch2", "--out", str(out), "--merge"], capture_output=True, text=True,
                            timeout=120)
    assert merged.returncode == 0, merged.stderr[-2000:]
    assert "0 to grade, 5 already graded" in merged.stderr
    assert f"{SUBMISSIONS} graded, 0 refused, 0 failed" in merged.stdout
    whole = stopped["out"]
    assert (out / "grades.csv").read_text() == (whole / "grades.csv").read_text()
    assert (out / "similarity.csv").read_text() == (whole / "similarity.csv").read_text()


START_A_KERNEL = '''
import asyncio, sys
sys.path.insert(0, "tests")
from test_pool import SPEC_NUMPY
from grader.kernel.session import KernelSession

async def main():
    session = KernelSession(SPEC_NUMPY)
    await session.start()
    print(session.pid, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
'''


@pytest.mark.kernel
def test_a_kernel_dies_with_the_worker_that_started_it():
    """A worker killed outright (SIGKILL, the OOM killer) takes its kernel with it.

    The kernel's launch asks for a parent-death signal (`grader.lifetime.kernel_preexec`); bubblewrap's
    `--die-with-parent` and ipykernel's poll of its parent (once a second) are the second and third lines.
    """
    from grader.kernel.processes import alive

    proc = subprocess.Popen([sys.executable, "-c", START_A_KERNEL], stdout=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    kernel = int(proc.stdout.readline())
    assert alive(kernel)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 3
    while alive(kernel) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(kernel)
