"""The writing guide's numpy-only example assignment, built from the guide's own text (docs/writing-an-assignment.md §11)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "writing-an-assignment.md"
EXAMPLE = "numpy-net"
HEREDOC = re.compile(r"^cat >>? (\S+) <<'EOF'\n(.*?)^EOF$", re.S | re.M)
PYTHON = re.compile(r"^python - <<'EOF'\n(.*?)^EOF$", re.S | re.M)


def section(text: str | None = None) -> str:
    """The guide's section on the numpy-only example: from its heading to the end."""
    text = PAGE.read_text(encoding="utf-8") if text is None else text
    return text[text.index("## 11."):]


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)


def written_files(text: str) -> list[str]:
    """Every path a shell block of `text` writes with `cat >` / `cat >>`, in order."""
    return [path for block in shell_blocks(text) for path, _ in HEREDOC.findall(block)]


def build(root: Path, *, with_shipped: bool = True, notebooks: bool = True) -> Path:
    """`root/assignments/` with (optionally) the shipped assignments and the guide's example, written from the guide alone.

    The example's files come from the guide's heredocs; its notebooks from the
    guide's own Python block, run with `root` as the working directory.
    Returns the assignments folder.
    """
    import os
    import subprocess
    import sys

    assignments = root / "assignments"
    if with_shipped:
        shutil.copytree(ROOT / "assignments", assignments, ignore=shutil.ignore_patterns("__pycache__", "expected.json"))
    assignments.mkdir(parents=True, exist_ok=True)
    text = section()
    for block in shell_blocks(text):
        for path, body in HEREDOC.findall(block):
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "a" if f"cat >> {path}" in block else "w", encoding="utf-8") as f:
                f.write(body)
        for script in PYTHON.findall(block) if notebooks else ():
            (root / "assignments" / EXAMPLE / "wrong").mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, "-c", script], cwd=root, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return assignments
