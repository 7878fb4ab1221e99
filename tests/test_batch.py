"""Batch grading: reports, gradebook, resume after SIGKILL, similarity, and Dask."""

import pytest
import csv
import os
import re
import signal
import subprocess
import sys
import time

import distributed
from batch_fixtures import small_batch
from conftest import kernel_pids

pytestmark = pytest.mark.kernel  # every test here starts a kernel or a grader process

GRADE = [sys.executable, "-m", "grader"]


def batch(src, out, *args, timeout=900):
    return subprocess.run([*GRADE, str(src), "-a", "dlwp-ch2", "--out", str(out), *args],
                          capture_output=True, text=True, timeout=timeout)


def rows(out):
    with open(out / "grades.csv", newline="") as f:
        return {row["file"]: row for row in csv.DictReader(f)}


def test_a_batch_of_the_samples_gives_seven_reports_and_rows(sample_batch_run):
    proc, out = sample_batch_run
    assert proc.returncode == 0, proc.stderr[-2000:]
    reports = sorted(p.name for p in out.glob("*.json"))
    assert len(reports) == 7
    got = rows(out)
    assert len(got) == 7
    assert got["readme.txt"]["status"] == "rejected"
    assert got["forever.ipynb"]["status"] == "graded" and float(got["forever.ipynb"]["naive_relu"]) < 1
    assert got["dlwp-ch2_walkthrough.ipynb"]["score"] == "15" and got["week3_practice.ipynb"]["score"] == "17"
    assert got["lab01_math.ipynb"]["naive_sequential"] == "1"
    forever = (out / "forever.json").read_text()
    assert '"timed_out": [\n      1\n    ]' in forever
    assert "7 to grade, 0 already graded" in proc.stderr
    assert "6 graded, 1 refused, 0 failed" in proc.stdout


def test_textbook_code_typed_by_three_samples_is_not_copying(sample_batch_run):
    proc, out = sample_batch_run
    lines = (out / "similarity.csv").read_text().strip().splitlines()
    assert lines == ["item,submission_a,submission_b,score,cells_a,cells_b,basis"]


def test_resume_after_sigkill_grades_only_what_was_missing(tmp_path):
    src, out = small_batch(tmp_path / "src"), tmp_path / "out"
    proc = subprocess.Popen([*GRADE, str(src), "-a", "dlwp-ch2", "--out", str(out), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while len(list(out.glob("*.json"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = len(list(out.glob("*.json")))
    assert 2 <= finished < 8, "the batch was to be killed halfway"
    again = batch(src, out, "--workers", "2")
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{8 - finished} to grade, {finished} already graded" in again.stderr
    assert len(re.findall(r"^\[\d+/\d+\] ", again.stderr, re.M)) == 8 - finished
    got = rows(out)
    assert len(got) == 8 and got["notes.txt"]["status"] == "rejected"
    assert got["dies.ipynb"]["status"] == "graded"
    assert '"kernel_died_at": 1' in (out / "dies.json").read_text()
    third = batch(src, out)
    assert "0 to grade, 8 already graded" in third.stderr


def test_similarity_finds_the_disguised_copy_only(tmp_path):
    src, out = small_batch(tmp_path / "src"), tmp_path / "out"
    proc = batch(src, out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(out / "similarity.csv", newline="") as f:
        pairs = [(r["item"], r["submission_a"], r["submission_b"]) for r in csv.DictReader(f)]
    assert pairs == [("naive_relu", "alice.ipynb", "bob.ipynb")]
    assert "alice.ipynb ~ bob.ipynb" in proc.stdout
    # each of the two workers started its first kernel on demand and every later one while grading the one before
    warm = int(re.search(r"kernels started ahead of use: (\d+) of 7", proc.stdout).group(1))
    assert warm >= 5


def test_dask_executor_gives_the_same_gradebook(tmp_path):
    """… as the local executor with every kernel started on demand: kernels started ahead change nothing but time."""
    src = small_batch(tmp_path / "src")
    before = kernel_pids()
    local = batch(src, tmp_path / "local", "--no-warm")
    assert local.returncode == 0
    assert "kernels started ahead of use: 0 of 7" in local.stdout
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = batch(src, tmp_path / "dask", "--executor", "dask", "--scheduler", cluster.scheduler_address)
        assert kernel_pids() - before == set()  # the workers live on; no kernel waits on them after the batch
    assert remote.returncode == 0, remote.stderr[-2000:]
    assert re.search(r"kernels started ahead of use: [1-9] of 7", remote.stdout)
    assert (tmp_path / "local" / "grades.csv").read_text() == (tmp_path / "dask" / "grades.csv").read_text()


def test_two_submissions_of_the_same_name_in_two_folders_both_count(tmp_path):
    from numpy_batch import numpy_notebook
    import nbformat

    for folder, defect in (("a", None), ("b", "add_overwrites")):
        (tmp_path / folder).mkdir()
        nbformat.write(numpy_notebook(defect), tmp_path / folder / "lab.ipynb")
    out = tmp_path / "out"
    proc = subprocess.run([*GRADE, str(tmp_path / "a"), str(tmp_path / "b"), "-a", "dlwp-ch2", "--out", str(out), "--workers", "2"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in out.glob("*.json")) == ["b__lab.json", "lab.json"]
    got = rows(out)
    assert set(got) == {"lab.ipynb", "b/lab.ipynb"}
    assert got["lab.ipynb"]["naive_add"] != got["b/lab.ipynb"]["naive_add"]  # each row is its own submission's
