"""Time `grade` on a notebook against a bare nbclient execution of the same notebook.

Both run in a fresh kernel with the same grading data (the bare run gets the
grader's preamble as its first cell, so `mnist.load_data()` works offline),
both shut the kernel down immediately, and both are timed as whole commands.
The reference answers are computed once before timing (an instructor's
cache is warm after the first submission).

    python benchmarks/bench_single.py [NOTEBOOK] [--assignment ID] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "tests" / "notebooks" / "dlwp-ch2_walkthrough.ipynb"

BARE = """
import sys, tempfile, nbformat
from nbclient import NotebookClient
from grader.data import dataset_paths
from grader.grade import kernel_env
from grader.kernel.preamble import preamble_source
from grader.loader import load_assignment
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells.insert(0, nbformat.v4.new_code_cell(preamble_source(0, dataset_paths(["mnist"]))))
env = kernel_env(load_assignment(sys.argv[2]))
with tempfile.TemporaryDirectory() as cwd:
    client = NotebookClient(nb, kernel_name="python3", timeout=900, allow_errors=True,
                            shutdown_kernel="immediate", resources={"metadata": {"path": cwd}})
    client.execute(env=env, cwd=cwd)
"""


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--assignment", default="dlwp-ch2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        grade = [sys.executable, "-m", "grader", str(args.notebook), "-a", args.assignment, "--json", f"{tmp}/r.json"]
        bare = [sys.executable, "-c", BARE, str(args.notebook), args.assignment]
        print("warming the reference cache …", flush=True)
        timed(grade)
        graded, bares = [], []
        for i in range(args.repeat):  # interleaved, so load on the machine hits both alike
            bares.append(timed(bare))
            graded.append(timed(grade))
            print(f"run {i + 1}: bare {bares[-1]:.1f} s, grade {graded[-1]:.1f} s", flush=True)
        report = json.loads(Path(f"{tmp}/r.json").read_text())
        trips = {item["id"]: item.get("round_trips") for item in report["items"]}
        print(f"kernel round trips per item: {trips}; checking took {report['timing']['checks_s']} s "
              f"of {report['timing']['total_s']} s")
    b, g = statistics.median(bares), statistics.median(graded)
    print(f"{args.notebook.name}: bare nbclient {b:.1f} s, grade {g:.1f} s (medians of {args.repeat}); ratio {g / b:.3f}")


if __name__ == "__main__":
    main()
