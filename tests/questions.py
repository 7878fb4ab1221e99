"""Small notebooks for question-anchored answers, cut from the real ones, and their variants."""

from __future__ import annotations

from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).parent / "notebooks"


def week3_questions() -> nbformat.NotebookNode:
    """The week-3 questions section alone, with the imports it relies on."""
    nb = nbformat.read(NOTEBOOKS / "week3_practice.ipynb", as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if c.source.startswith("# Week3 - questions"))
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nimport tensorflow as tf")] + nb.cells[start:]
    return nb


def lab01_tensors() -> nbformat.NotebookNode:
    """The tensor-ranks part of lab 1."""
    nb = nbformat.read(NOTEBOOKS / "lab01_math.ipynb", as_version=4)
    end = next(i for i, c in enumerate(nb.cells) if c.source.startswith("## 2.2"))
    nb.cells = nb.cells[:end]
    return nb


def _cell(nb, starts: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.source.lstrip().startswith(starts))


def wrong_grad_xy() -> nbformat.NotebookNode:
    nb = week3_questions()
    i = _cell(nb, "x = tf.Variable(2.)")
    nb.cells[i].source = nb.cells[i].source.replace("x*x*y + x*y + 3*y", "x*x*y + 3*y")
    return nb


def reworded_and_split() -> nbformat.NotebookNode:
    """grad_xy's question lightly reworded, and its answer split over two cells."""
    nb = week3_questions()
    q = _cell(nb, "Say x, y are scalar")
    nb.cells[q].source = "**Q5.** Say x and y are scalars; find the derivatives of f(x, y) = x^2 * y + x*y + 3*y (x = 2, y = 1)."
    i = _cell(nb, "x = tf.Variable(2.)")
    nb.cells[i].source = "x = tf.Variable(2.)\ny = tf.Variable(1.)"
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(
        "with tf.GradientTape() as tape:\n  z = x*x*y + x*y + 3*y\nanswer = tape.gradient(z, [x, y])\nanswer"))
    return nb


def deleted_answer() -> nbformat.NotebookNode:
    """The answer cell of grad_linear is gone."""
    nb = week3_questions()
    del nb.cells[_cell(nb, "with tf.GradientTape() as tape:\n  z = tf.matmul(x, W) + b")]
    return nb


def rank2_for_rank3() -> nbformat.NotebookNode:
    nb = lab01_tensors()
    i = _cell(nb, "x = np.array([[[6,3")
    nb.cells[i].source = "x = np.array([[6, 3], [5, 16]])\nx"
    return nb


VARIANTS = {
    "week3_questions": week3_questions,
    "lab01_tensors": lab01_tensors,
    "wrong_grad_xy": wrong_grad_xy,
    "reworded_and_split": reworded_and_split,
    "deleted_answer": deleted_answer,
    "rank2_for_rank3": rank2_for_rank3,
}


def write_all(directory: Path) -> dict[str, Path]:
    paths = {}
    for name, make in VARIANTS.items():
        paths[name] = directory / f"{name}.ipynb"
        nbformat.write(make(), paths[name])
    return paths
