"""A small numpy-only assignment made in a temporary folder, for mutation testing: one item, a weak and a strong rubric."""

from __future__ import annotations

from pathlib import Path

import nbformat

SOLUTION = '''import numpy as np
'''
RELU = '''def naive_relu(x):
    x = x.copy()
    for i in range(len(x)):
        x[i] = max(x[i], 0)
    return x
'''

RUBRIC = '''id = "mini-relu"
title = "ReLU by hand"
version = "{version}"
seed = 0
datasets = []

[limits]
cell_timeout_s = 20
notebook_timeout_s = 60
item_timeout_s = 20

[[items]]
id = "naive_relu"
title = "naive_relu(x) equals np.maximum(x, 0)"
points = 1
kind = "function"
names = ["naive_relu"]
reference = "tensor_ops"
atol = {atol}
cases = [
  {{ name = "mixed floats", args = [{{ random = "uniform", shape = [6], low = -3, high = 3 }}] }},{more_cases}
]

[validate]
solution = "solution.ipynb"

[[validate.mutants]]
item = "naive_relu"
find = "x = x.copy()"
replace = "x = np.array(x)"
description = "a copy made with np.array instead of .copy()"
'''


def notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# ReLU by hand")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def make_assignment(root: Path, *, strong: bool) -> Path:
    """assignments/mini-relu under `root`: weak (a tolerance of 1, which hides a changed constant) or strong.

    Strong: the default tolerance, and an all-negative case (random inputs may end on a positive entry, which a
    loop that stops one step early leaves right).
    """
    directory = root / "mini-relu"
    directory.mkdir(parents=True, exist_ok=True)
    more = '\n  { name = "all negative", args = [{ fill = -1.5, shape = [4] }] },' if strong else ""
    (directory / "rubric.toml").write_text(RUBRIC.format(version="2" if strong else "1", atol="1e-6" if strong else "1.0", more_cases=more))
    nbformat.write(notebook(SOLUTION, RELU), directory / "solution.ipynb")
    return directory
