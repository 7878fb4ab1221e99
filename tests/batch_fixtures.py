"""Small submissions for batch tests: two disguised copies, an own solution, textbook code."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).parent / "notebooks"

UNUSUAL_RELU = '''import numpy as np

def naive_relu(x):
    # walk the rows from the bottom, clamp each entry
    out = np.empty_like(x)
    rows, cols = x.shape
    r = rows - 1
    while r >= 0:
        c = 0
        while c < cols:
            v = x[r, c]
            out[r, c] = v if v > 0 else 0
            c += 1
        r -= 1
    return out'''

DISGUISED_COPY = '''import numpy as np
def naive_relu(m):
  res = np.empty_like(m)   # result
  n_r, n_c = m.shape
  i = n_r - 1
  while i >= 0:
      j = 0
      while j < n_c:
          val = m[i, j]
          res[i, j] = val if val > 0 else 0
          j += 1
      i -= 1
  return res'''

OWN_RELU = '''import numpy as np
def naive_relu(x):
    return np.where(x > 0, x, np.zeros_like(x))'''


def _notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def small_batch(directory: Path) -> Path:
    """Seven quick submissions and a file that is not a notebook."""
    directory.mkdir(parents=True, exist_ok=True)
    book = nbformat.read(NOTEBOOKS / "dlwp-ch2_walkthrough.ipynb", as_version=4).cells[20].source
    notebooks = {
        "alice": _notebook(UNUSUAL_RELU),
        "bob": _notebook(DISGUISED_COPY),
        "carol": _notebook(OWN_RELU),
        "dave": _notebook("import numpy as np", book),
        "erin": _notebook("import numpy as np", book),
        "frank": _notebook("import numpy as np", book, "x = 1"),
        "dies": _notebook(book, "import os\nos._exit(1)"),
    }
    for name, nb in notebooks.items():
        nbformat.write(nb, directory / f"{name}.ipynb")
    (directory / "notes.txt").write_text("not a notebook")
    return directory


def sample_batch(directory: Path) -> Path:
    """The five real samples, a file that is not a notebook and a notebook that never ends."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(path, directory / path.name)
    (directory / "readme.txt").write_text("not a notebook")
    nbformat.write(_notebook("def naive_relu(x):\n    return x", "while True:\n    pass"), directory / "forever.ipynb")
    return directory
