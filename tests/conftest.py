"""Shared fixtures: each real notebook and each variant is graded once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Reference answers are computed afresh in a cache of the session's own."""
    os.environ["GRADER_CACHE_DIR"] = str(tmp_path_factory.mktemp("grader-cache"))
    # the instructor's secret of this session, made on first use as on an instructor's machine
    os.environ["GRADER_SECRET_FILE"] = str(tmp_path_factory.mktemp("grader-secret") / "secret")


def run_grade(notebook: Path, out: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    """Run the `grade` command as a user would; return the process and the JSON report."""
    proc = subprocess.run([sys.executable, "-m", "grader", str(notebook), "--json", str(out), *args],
                          capture_output=True, text=True, timeout=900)
    report = json.loads(out.read_text()) if out.exists() else None
    return proc, report


def grade_many(jobs: dict[str, tuple[Path, tuple[str, ...]]], out_dir: Path, workers: int = 2) -> dict[str, tuple]:
    """Grade several notebooks two at a time (this machine has two cores)."""
    def one(name):
        notebook, args = jobs[name]
        return name, run_grade(notebook, out_dir / f"{name}.json", *args)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(one, jobs))


@pytest.fixture(scope="session")
def sample_batch_run(tmp_path_factory):
    """The five real samples, a text file and a never-ending notebook, graded once as one dlwp-ch2 batch."""
    from batch_fixtures import sample_batch

    src = sample_batch(tmp_path_factory.mktemp("samples"))
    out = tmp_path_factory.mktemp("samples-out")
    proc = subprocess.run([sys.executable, "-m", "grader", str(src), "-a", "dlwp-ch2", "--out", str(out),
                           "--workers", "2", "--cell-timeout", "60", "--timeout", "200"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc, out


@pytest.fixture(scope="session")
def real_reports(sample_batch_run):
    """The three dlwp-ch2 sample submissions' reports, from that batch."""
    proc, out = sample_batch_run
    files = {"walkthrough": "dlwp-ch2_walkthrough", "week3": "week3_practice", "lab01": "lab01_math"}
    return {name: json.loads((out / f"{stem}.json").read_text()) for name, stem in files.items()}


def grade_all(jobs: dict[str, tuple[Path, tuple[str, ...]]], out_dir: Path) -> dict[str, dict]:
    """Grade several notebooks (see `grade_many`); every one must be graded; their reports by name."""
    results = grade_many(jobs, out_dir)
    for name, (proc, report) in results.items():
        assert proc.returncode == 0, (name, proc.stderr[-2000:])
    return {name: report for name, (proc, report) in results.items()}


@pytest.fixture(scope="session")
def variant_reports(tmp_path_factory):
    """The single-defect variants of the walkthrough (tests/variants.py), each graded once, and the base twice."""
    from variants import write_all

    notebooks = write_all(tmp_path_factory.mktemp("variants"))
    jobs = {name: (path, ("-a", "dlwp-ch2")) for name, path in notebooks.items()}
    jobs["base_again"] = (notebooks["base"], ("-a", "dlwp-ch2"))
    return grade_all(jobs, tmp_path_factory.mktemp("variant-reports"))


def item(report: dict, item_id: str) -> dict:
    return next(i for i in report["items"] if i["id"] == item_id)


def statuses(report: dict) -> dict[str, str]:
    return {item["id"]: item["status"] for item in report["items"]}


def live_processes() -> dict[int, bytes]:
    """Every running process (zombies aside) with its command line (arguments separated by NUL)."""
    from grader.kernel.processes import alive

    found = {}
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if alive(pid):
            found[pid] = cmdline
    return found


# every process this session starts inherits the tag, so that kernels of other runs on a shared machine are not counted
SESSION_TAG = f"TEST_SESSION_TAG={uuid.uuid4().hex}"
os.environ["TEST_SESSION_TAG"] = SESSION_TAG.split("=", 1)[1]


def _has_tag(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return SESSION_TAG.encode() in f.read().split(b"\0")
    except OSError:
        return False


def kernel_pids() -> set[int]:
    """Live processes of this test session running an IPython kernel (to show that none is left behind)."""
    return {pid for pid, cmdline in live_processes().items() if b"ipykernel_launcher" in cmdline and _has_tag(pid)}
