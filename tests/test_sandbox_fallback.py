"""A kernel that cannot start in its sandbox starts in the next mechanism, and the report says so; a virtualenv under /tmp
is graded in bubblewrap (the sandbox's private /tmp keeps the interpreter)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from grader.grade import PACKAGE_ROOT, grade_notebook
from grader.kernel import sandbox, unprivileged

pytestmark = pytest.mark.kernel

# passes the grader's trial (`bwrap ... -- true`) and fails every kernel's start, as a sandbox that cannot see the interpreter does
FAILING_BWRAP = """#!/bin/sh
for last; do :; done
[ "$last" = "true" ] && exit 0
echo "bwrap: execvp python: No such file or directory" >&2
exit 1
"""

SMALL = "import numpy as np\ndef naive_relu(x):\n    return np.maximum(x, 0)\ndef naive_add(x, y):\n    return x"


def small_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SMALL)]
    nbformat.write(nb, path)
    return path


def status(report, item):
    return next(i["status"] for i in report["items"] if i["id"] == item)


def test_a_kernel_that_does_not_start_in_bubblewrap_is_graded_in_the_next_mechanism(tmp_path, monkeypatch):
    (tmp_path / "bwrap").write_text(FAILING_BWRAP)
    (tmp_path / "bwrap").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    sandbox.reset()
    try:
        assert sandbox.available().tool == "bubblewrap"  # the stand-in passes the trial
        report = grade_notebook(small_notebook(tmp_path / "small.ipynb"), "dlwp-ch2").model_dump(mode="json")
        after = sandbox.available()
    finally:
        sandbox.reset()
    assert report["status"] == "graded"
    assert status(report, "naive_relu") == "pass" and status(report, "naive_add") == "fail"
    isolation = report["isolation"]
    assert isolation["tool"] == ("unprivileged-user" if unprivileged.is_root() else "none")
    assert ("the kernel did not start in bubblewrap (Kernel died before replying to kernel_info; "
            "bwrap: execvp python: No such file or directory)") in isolation["notes"]
    assert after.tool == isolation["tool"]  # the next kernels of this process do not try bubblewrap again


def test_a_virtualenv_under_tmp_is_graded_in_bubblewrap(tmp_path):
    venv = Path(tempfile.mkdtemp(prefix="grader-venv-", dir="/tmp"))
    try:
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
        python = venv / "bin" / "python"
        env = {**os.environ, "PYTHONPATH": str(PACKAGE_ROOT)}  # this grader, not the one installed in the base environment
        where = subprocess.run([str(python), "-c", "import sys, grader; print(sys.prefix, grader.__file__)"],
                               capture_output=True, text=True, env=env, check=True).stdout.split()
        assert where == [str(venv), str(PACKAGE_ROOT / "grader" / "__init__.py")]
        out = tmp_path / "report.json"
        proc = subprocess.run([str(python), "-m", "grader", str(small_notebook(tmp_path / "small.ipynb")), "-a", "dlwp-ch2",
                               "--json", str(out)], capture_output=True, text=True, env=env, timeout=600)
    finally:
        shutil.rmtree(venv, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["isolation"]["tool"] == sandbox.available().tool  # bubblewrap where it works, as for the base interpreter
    assert "did not start" not in report["isolation"]["notes"]
    assert status(report, "naive_relu") == "pass" and status(report, "naive_add") == "fail"
