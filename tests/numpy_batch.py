"""A class of small numpy-only submissions to dlwp-ch2 (no TensorFlow anywhere): quick batches for
the batch's stop, shard and speed tests and for `benchmarks/bench_batch.py --numpy`.

Each notebook is the walkthrough's tensor-operation cells (relu, add, dot products, transpose),
some with one defect, so the gradebook has passes and failures; `sleep_s` adds a last cell that
sleeps, to catch a batch mid-way.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from variants import EDITS, MATRIX_DOT, MATRIX_VECTOR_DOT, WALKTHROUGH

CELLS = (17, 20, 21, 26, 29, 31)  # numpy only: no timing loops, no TensorFlow
DEFECTS = ("relu_mutates_input", "add_overwrites", "vector_dot_wrong_index")


def numpy_notebook(defect: str | None = None, sleep_s: float = 0.0, salt: int = 0) -> nbformat.NotebookNode:
    walkthrough = nbformat.read(WALKTHROUGH, as_version=4)
    sources = {i: walkthrough.cells[i].source for i in CELLS}
    if defect is not None:
        index, old, new = EDITS[defect]
        assert old in sources[index], defect
        sources[index] = sources[index].replace(old, new)
    cells = [*sources.values(), MATRIX_VECTOR_DOT, MATRIX_DOT, f"student = {salt}  # their own scratch cell"]
    if sleep_s:
        cells.append(f"import time\ntime.sleep({sleep_s})")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def numpy_batch(directory: Path, n: int = 10, sleep_s: float = 0.0) -> list[Path]:
    """`n` submissions sub00 … : every fourth correct, the others with one of three defects."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        defect = None if i % 4 == 0 else DEFECTS[i % 4 - 1]
        path = directory / f"sub{i:02d}.ipynb"
        nbformat.write(numpy_notebook(defect, sleep_s, salt=i), path)
        paths.append(path)
    return paths
