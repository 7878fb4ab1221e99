"""Time `%check` in a live notebook against `grade` re-running the same notebook.

Runs a notebook top to bottom in a live kernel (nbclient, the grader's
preamble first so MNIST loads offline, this checkout on the kernel's path),
then, as a student would:

- `%check` a function item (default `naive_relu`) and a behaviour item that
  trains on the grader's small data (default `update_weights`: one optimizer
  step on the grader's weights and gradients) — each timed inside the kernel
  (the result's `seconds`) and as a whole cell;
- edits the function item's cell (a fix that changes nothing the checks
  see), re-runs that cell and `%check`s it: the time from the edit to the
  verdict;
- and, for comparison, `grade NOTEBOOK`, the fresh top-to-bottom run that
  was the only way before.

The first `%check` of an item in a full install computes the reference's
answers in a clean process (cached on disk); the timed checks come after
one warm-up, as a student's second check does. In a student bundle the
answers are stored and there is no such first cost.

    python benchmarks/bench_check.py [NOTEBOOK] [-a ID] [--function ITEM] [--behaviour ITEM] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT = ROOT / "tests" / "notebooks" / "lab01_math.ipynb"
MIME = "application/x-grader-selfcheck+json"


def main() -> None:
    import nbformat
    from nbclient import NotebookClient

    from grader.data import dataset_paths
    from grader.grade import kernel_env
    from grader.kernel.preamble import preamble_source
    from grader.notebook import defining_cells
    from grader.loader import load_assignment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("-a", "--assignment", default="dlwp-ch2")
    parser.add_argument("--function", default="naive_relu")
    parser.add_argument("--behaviour", default="update_weights")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    assignment = load_assignment(args.assignment)
    nb = nbformat.read(args.notebook, as_version=4)
    names = {i.id: i.names for i in assignment.items}
    fn_cell = next(defining_cells(nb)[n] for n in names[args.function] if n in defining_cells(nb))
    nb.cells.insert(0, nbformat.v4.new_code_cell(preamble_source(assignment.seed, dataset_paths(assignment.datasets))))
    fn_cell += 1
    env = {**kernel_env(assignment), "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as cwd:
        client = NotebookClient(nb, kernel_name="python3", timeout=1800, allow_errors=True, resources={"metadata": {"path": cwd}})
        client.km = client.create_kernel_manager()
        with client.setup_kernel(env=env, cwd=cwd):
            start = time.perf_counter()
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            print(f"{args.notebook.name}: ran top to bottom in the live kernel in {time.perf_counter() - start:.1f} s", flush=True)

            def run(source: str) -> tuple[float, list]:
                cell = nbformat.v4.new_code_cell(source)
                nb.cells.append(cell)
                began = time.perf_counter()
                client.execute_cell(cell, len(nb.cells) - 1)
                took = time.perf_counter() - began
                nb.cells.pop()
                return took, [o["data"][MIME] for o in cell.outputs if MIME in o.get("data", {})]

            run("%load_ext grader")
            for item in (args.function, args.behaviour):  # warm-up: reference answers computed (or read from the cache)
                took, results = run(f"%check -a {args.assignment} {item}")
                print(f"first %check {item}: {took:.2f} s ({results[0]['status'] if results else 'no result'})", flush=True)
            figures = {}
            for item in (args.function, args.behaviour):
                cells, inside = [], []
                for _ in range(args.repeat):
                    took, results = run(f"%check -a {args.assignment} {item}")
                    cells.append(took)
                    inside.append(results[0]["seconds"])
                figures[item] = (statistics.median(inside), statistics.median(cells), results[0]["status"])
            edited = nb.cells[fn_cell].source + "\n# edited: a comment the checks do not see\n"
            edits = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                run(edited)
                _, results = run(f"%check -a {args.assignment} {args.function}")
                edits.append(time.perf_counter() - began)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / args.notebook.name
        copy.write_bytes(args.notebook.read_bytes())
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "grader", str(copy), "-a", args.assignment, "--json", f"{tmp}/r.json"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(ROOT)})
        full = time.perf_counter() - began
    for item, (inside, cell, status) in figures.items():
        print(f"%check {item} ({status}): {inside * 1000:.0f} ms in the kernel, {cell * 1000:.0f} ms as a cell (medians of {args.repeat})")
    edit = statistics.median(edits)
    print(f"edit of {args.function} to its verdict: {edit:.2f} s (re-run its cell + %check); "
          f"grade {args.notebook.name} (a full re-run): {full:.1f} s; {full / edit:.0f}× sooner")


if __name__ == "__main__":
    main()
