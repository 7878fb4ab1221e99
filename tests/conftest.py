"""Shared fixtures: each real notebook and each variant is graded once per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).parent / "notebooks"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Reference answers are computed afresh in a cache of the session's own."""
    os.environ["GRADER_CACHE_DIR"] = str(tmp_path_factory.mktemp("grader-cache"))


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
def real_reports(tmp_path_factory):
    """The three dlwp-ch2 sample submissions, each graded once."""
    out = tmp_path_factory.mktemp("real")
    jobs = {
        "walkthrough": (NOTEBOOKS / "dlwp-ch2_walkthrough.ipynb", ("-a", "dlwp-ch2")),
        "week3": (NOTEBOOKS / "week3_practice.ipynb", ("-a", "dlwp-ch2")),
        "lab01": (NOTEBOOKS / "lab01_math.ipynb", ("-a", "dlwp-ch2")),
    }
    results = grade_many(jobs, out)
    return {name: report for name, (proc, report) in results.items()}


def statuses(report: dict) -> dict[str, str]:
    return {item["id"]: item["status"] for item in report["items"]}
