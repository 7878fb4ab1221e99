"""Time `grade` on a small numpy-only notebook against a bare nbclient run of it: how much the grader adds.

The bare run is the least a grader must do: a fresh kernel with the same
environment and the grader's preamble as its first cell (written out by this
script beforehand, so the bare command imports nbclient and nothing of the
grader), the notebook's cells, an immediate shutdown. Both are timed as
whole commands, interleaved, after one warm-up that fills the reference
cache (as an instructor's is after the first submission). Also prints how
long `grade` takes to import what a one-notebook run needs, and when its
first line appears on a terminal.

    python benchmarks/bench_startup.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CELLS = [
    "import numpy as np",
    "def naive_relu(x):\n    assert len(x.shape) == 2\n    x = x.copy()\n    for i in range(x.shape[0]):\n"
    "        for j in range(x.shape[1]):\n            x[i, j] = max(x[i, j], 0)\n    return x",
    "def naive_add(x, y):\n    x = x.copy()\n    for i in range(x.shape[0]):\n        for j in range(x.shape[1]):\n"
    "            x[i, j] += y[i, j]\n    return x",
    "def naive_vector_dot(x, y):\n    z = 0.\n    for i in range(x.shape[0]):\n        z += x[i] * y[i]\n    return z",
    "x = np.random.random((20, 100))\ny = np.random.random((20, 100))\nz = naive_add(naive_relu(x), y)\nz.shape",
]

BARE = """
import sys, tempfile, nbformat, json
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells.insert(0, nbformat.v4.new_code_cell(open(sys.argv[2]).read()))
with tempfile.TemporaryDirectory() as cwd:
    client = NotebookClient(nb, kernel_name="python3", timeout=900, allow_errors=True,
                            shutdown_kernel="immediate", resources={"metadata": {"path": cwd}})
    client.execute(env=json.load(open(sys.argv[3])), cwd=cwd)
"""


def timed(command: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def first_line_s(command: list[str]) -> float:
    """Seconds from the start of the command to its first byte on a pseudo-terminal."""
    import pty
    import select

    master, slave = pty.openpty()
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=slave, stderr=slave, stdin=slave, close_fds=True)
    os.close(slave)
    seen = None
    while proc.poll() is None or seen is None:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                if os.read(master, 4096) and seen is None:
                    seen = time.perf_counter() - start
            except OSError:
                break
        elif proc.poll() is not None:
            break
    proc.wait()
    os.close(master)
    return seen if seen is not None else float("nan")


def main() -> None:
    import nbformat

    from grader.data import dataset_paths
    from grader.grade import kernel_env
    from grader.kernel.preamble import preamble_source
    from grader.notebook import named_modules
    from grader.loader import load_assignment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="dlwp-ch2")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    assignment = load_assignment(args.assignment)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
        notebook = tmp / "numpy_only.ipynb"
        nbformat.write(nb, notebook)
        preamble = tmp / "preamble.py"
        preamble.write_text(preamble_source(assignment.seed, dataset_paths(assignment.datasets), named_modules(nb, assignment.preload)))
        env_file = tmp / "env.json"
        env_file.write_text(json.dumps(kernel_env(assignment)))
        grade = [sys.executable, "-m", "grader", str(notebook), "-a", args.assignment, "--json", str(tmp / "r.json")]
        bare = [sys.executable, "-c", BARE, str(notebook), str(preamble), str(env_file)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        print("warming the reference cache …", flush=True)
        timed(grade, env)
        graded, bares = [], []
        for i in range(args.repeat):  # interleaved, so load on the machine hits both alike
            bares.append(timed(bare, env))
            graded.append(timed(grade, env))
            print(f"run {i + 1}: bare {bares[-1]:.2f} s, grade {graded[-1]:.2f} s (load {os.getloadavg()[0]:.1f})", flush=True)
        imports = [timed([sys.executable, "-c", "import grader.cli, grader.grade"], env) - timed([sys.executable, "-c", "pass"], env)
                   for _ in range(3)]
        first = [first_line_s(grade[:-2]) for _ in range(3)]
    b, g = statistics.median(bares), statistics.median(graded)
    print(f"numpy-only notebook: bare nbclient {b:.2f} s, grade {g:.2f} s (medians of {args.repeat}); ratio {g / b:.3f} (goal ≤ 1.15); "
          f"best {min(bares):.2f} s against {min(graded):.2f} s ({min(graded) / min(bares):.3f}); load {os.getloadavg()[0]:.1f}")
    print(f"importing what `grade NOTEBOOK` needs: {statistics.median(imports):.2f} s; first line on a terminal after "
          f"{statistics.median(first):.2f} s (goal ≤ 2 s)")


if __name__ == "__main__":
    main()
