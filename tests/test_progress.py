"""`grade NOTEBOOK` on a terminal shows which cell is running before the notebook finishes; a pipe gets nothing extra."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time

import nbformat
import pytest

from grader.progress import CellStarted, ItemJudged, first_line

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def slow_notebook(path):
    """A numpy notebook whose second cell takes 3 s: long enough to be seen running."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in [
        "import numpy as np",
        "import time\ntime.sleep(3)  # a slow cell",
        "def naive_relu(x):\n    return np.maximum(x, 0)",
    ]]
    nbformat.write(nb, path)
    return path


def on_a_terminal(args: list[str]) -> list[tuple[float, str]]:
    """Run a command with a pseudo-terminal as its stdout and stderr; what it wrote, with when."""
    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "LINES": "40", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    started, chunks = time.monotonic(), []
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the other end closed
                break
            if not data:
                break
            chunks.append((time.monotonic() - started, ANSI.sub("", data.decode("utf-8", "replace"))))
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(master)
    chunks.append((time.monotonic() - started, f"<exit {proc.returncode}>"))
    return chunks


@pytest.mark.kernel
def test_the_running_cell_shows_before_the_notebook_finishes(tmp_path):
    path = slow_notebook(tmp_path / "slow.ipynb")
    chunks = on_a_terminal([sys.executable, "-m", "grader", str(path), "-a", "dlwp-ch2"])
    text = "".join(c for _, c in chunks)
    assert chunks[-1][1] == "<exit 0>", text[-2000:]
    slow = next(t for t, c in chunks if "cell 1 (2 of 3)" in c and "import time" in c)
    after = next(t for t, c in chunks if "cell 2 (3 of 3)" in c)
    assert after - slow > 2.0  # seen while the 3 s cell ran, not after the fact
    judged = next(t for t, c in chunks if re.search(r"pass\s+naive_relu 1/1", c))
    assert judged > after and "naive_relu" in text.split("dlwp-ch2:")[-1]  # the items, then the summary table


@pytest.mark.kernel
def test_a_pipe_and_quiet_get_nothing_extra(tmp_path):
    path = slow_notebook(tmp_path / "slow.ipynb")
    piped = subprocess.run([sys.executable, "-m", "grader", str(path), "-a", "dlwp-ch2"], capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0 and "cell 1" not in piped.stdout + piped.stderr and "starting the kernel" not in piped.stderr
    quiet = on_a_terminal([sys.executable, "-m", "grader", str(path), "-a", "dlwp-ch2", "--quiet"])
    assert "".join(c for _, c in quiet).strip() == "<exit 0>"


def test_events_carry_what_the_line_shows():
    from grader.cli_progress import TerminalProgress
    from grader.report import ItemResult
    from rich.console import Console

    console = Console(record=True, force_terminal=False, width=100)
    progress = TerminalProgress(console, "nb.ipynb")
    progress(CellStarted(2, 5, 7, first_line("\n\n  def naive_relu(x):\n    pass")))
    assert "cell 7 (2 of 5)" in progress.bar.tasks[0].description and "def naive_relu(x):" in progress.bar.tasks[0].description
    progress(ItemJudged(ItemResult(id="naive_relu", title="", status="fail", score=0.5, max_score=1, feedback="")))
    assert "fail    naive_relu 0.5/1" in console.export_text()
    assert first_line("x" * 100).endswith("…") and len(first_line("x" * 100)) == 60
