"""docs/writing-an-assignment.md, followed literally: its shell blocks, in order, on a copy of the repository."""

from __future__ import annotations

import pytest

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

pytestmark = pytest.mark.kernel  # every test here starts a kernel or a grader process

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "writing-an-assignment.md"


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)


def repository_copy(target: Path) -> Path:
    """The parts of the repository an instructor works in; the big dataset is linked, not copied."""
    for name in ("reference", "assignments", "docs"):
        shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "grader", target / "grader", ignore=shutil.ignore_patterns("__pycache__", "*.npz"))
    for data in (ROOT / "grader" / "data").glob("*.npz"):
        (target / "grader" / "data" / data.name).symlink_to(data)
    return target


def test_the_page_walks_an_instructor_through_a_sixth_assignment(tmp_path):
    blocks = shell_blocks(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    repo = repository_copy(tmp_path / "repo")
    # `grade` is the installed command; here it must be the copy's grader, so `python -m grader` from its root
    script = "set -euo pipefail\ngrade() { python -m grader \"$@\"; }\n" + "\n".join(blocks)
    env = {**os.environ, "PYTHONPATH": str(repo)}
    proc = subprocess.run(["bash", "-c", script], cwd=repo, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "softmax-basics: ok" in out
    assert "✓ solution solution.ipynb: full marks (5 / 6; 1 left to a person)" in out
    assert "✓ wrong wrong/unstable_softmax.ipynb: loses softmax_stable" in out
    assert "below full marks, as expected" in out
    page = Path("/tmp/softmax-feedback.html").read_text()
    assert 'id="item-softmax_stable" data-status="fail"' in page and "inf / inf is nan" in page
    # the student's bundle: public checks only, and honest about it
    bundle = Path("/tmp/softmax-bundle")
    assert not (bundle / "reference").exists()
    stored = json.loads((bundle / "assignments" / "softmax-basics" / "expected.json").read_text())
    assert sorted(stored["answers"]) == ["one_hot", "softmax"] and stored["hidden"]["items"] == 1
    assert "Public checks only: 3 of 3 items passed" in out and "1 hidden item (1 point) and 1 hidden check" in out
    assert "all checks passed" not in out.lower().replace("all public checks passed", "")
