"""Reading a submission: load, upgrade, validate; then the small steps that prepare it to run.

Every way a file can fail to be a gradable notebook is a `NotebookRejected`
with one sentence for the person who submitted it.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_BYTES = 100 * 1024 * 1024


class NotebookRejected(Exception):
    """The file is not a notebook the grader can run; the message says why in one sentence."""


@dataclass
class Submission:
    path: Path
    sha256: str
    nb: nbformat.NotebookNode


def load(path: Path) -> Submission:
    """Read, upgrade to nbformat 4 and validate a notebook file."""
    if not path.exists():
        raise NotebookRejected(f"{path}: no such file")
    if path.is_dir():
        raise NotebookRejected(f"{path}: is a directory, not a notebook file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise NotebookRejected(f"{path}: {size / 2**20:.0f} MB is larger than the {MAX_BYTES // 2**20} MB a notebook may be")
    raw = path.read_bytes()
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NotebookRejected(f"{path}: not a notebook (the file is not UTF-8 text)") from None
    except ValueError:
        raise NotebookRejected(f"{path}: not a notebook (the file is not JSON)") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise NotebookRejected(f"{path}: not a notebook (JSON without notebook cells)")
    try:
        with warnings.catch_warnings():  # nbformat warns about old files on stderr; the student needs none of it
            warnings.simplefilter("ignore")
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
            nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds for bad notebooks
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookRejected(f"{path}: not a valid notebook ({first[:200]})") from None
    if not any(c.cell_type == "code" and c.source.strip() for c in nb.cells):
        raise NotebookRejected(f"{path}: the notebook has no code to run")
    return Submission(path, hashlib.sha256(raw).hexdigest(), nb)


# --- preparation steps: each takes a notebook and returns a new one ---------------------------

def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Saved outputs are ignored: the grader judges what the code does now."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


PREPARATION_STEPS = [strip_outputs]


def prepare(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    for step in PREPARATION_STEPS:
        nb = step(nb)
    return nb


# --- reading the code without running it ----------------------------------------------------

_MAGIC = re.compile(r"^\s*[!%]")


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse("\n".join("pass" if _MAGIC.match(line) else line for line in source.splitlines()))
    except SyntaxError:
        return None


def bound_names(source: str) -> set[str]:
    """The names a cell binds at its top level (functions, classes, assignments, imports)."""
    tree = _parse(source)
    return _bound_names(tree) if tree is not None else set()


def _bound_names(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def defining_cells(nb: nbformat.NotebookNode) -> dict[str, int]:
    """For each name bound at the top level of a code cell, the last cell that binds it."""
    where: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for name in bound_names(cell.source):
            where[name] = index
    return where


# Importing one of these imports the key (keras 3 and tf-keras import TensorFlow).
_IMPORTED_WITH = {"tensorflow": ("tensorflow", "keras", "tf_keras"), "tf_keras": ("tf_keras",)}


_KERAS_BACKEND = re.compile(r"""KERAS_BACKEND['"]?\s*(?:\]\s*=|,|=)\s*['"]?(jax|torch|numpy|tensorflow|openvino)\b""")


def keras_backend(nb: nbformat.NotebookNode) -> str | None:
    """The Keras 3 backend the notebook's code chooses (`os.environ["KERAS_BACKEND"] = "jax"`, `%env KERAS_BACKEND=jax`), if any.

    Importing TensorFlow imports Keras 3 and fixes its backend, so a notebook
    that chooses another must not find TensorFlow preloaded.
    """
    for cell in nb.cells:
        if cell.cell_type == "code":
            match = _KERAS_BACKEND.search(cell.source)
            if match:
                return match.group(1)
    return None


def named_modules(nb: nbformat.NotebookNode, modules: list[str]) -> list[str]:
    """The modules of `modules` the notebook's code names (by top-level package, or a package that imports it).

    A run on demand preloads only these: a notebook that never imports TensorFlow
    does not pay for it. Seeding stays the same either way (see kernel/preamble.py).
    """
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    other_backend = keras_backend(nb) not in (None, "tensorflow")  # then Keras 3 does not import TensorFlow, and must not find it imported
    named = []
    for module in modules:
        top = module.split(".")[0]
        importers = [n for n in _IMPORTED_WITH.get(top, (top,)) if not (other_backend and top == "tensorflow" and n == "keras")]
        if any(re.search(rf"\b{re.escape(name)}\b", code) for name in importers):
            named.append(module)
    return named
