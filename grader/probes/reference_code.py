"""Reference code a check must put beside the code under test: only the definitions it names.

A check of `fit` needs the reference's training step in the student's
kernel; it must not bring the reference's `fit` (or anything an unchecked
item asks for) along. `sliced` keeps the module's imports, the named
top-level definitions and, transitively, the module-level definitions they
use — and says which definitions it kept, so the caller can refuse a slice
that would carry an item's answer into the kernel before that item is checked.
"""

from __future__ import annotations

import ast
from functools import cache

from ..folders import REFERENCE_DIR, reference_file  # noqa: F401  (REFERENCE_DIR: the top-level reference/)


@cache
def _source(module: str, folder: str | None) -> str:
    return reference_file(module, folder).read_text(encoding="utf-8")


def reference_source(module: str, folder=None) -> str:
    """The source of a reference module: the assignment folder's own `reference/<module>.py`, else the top-level one."""
    return _source(module, None if folder is None else str(folder))


def _defined(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _used(node: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


@cache
def _sliced(module: str, names: tuple[str, ...], folder: str | None) -> tuple[str, frozenset[str]]:
    tree = ast.parse(reference_source(module, folder))
    definitions: dict[str, list[ast.stmt]] = {}
    for node in tree.body:
        for name in _defined(node):
            definitions.setdefault(name, []).append(node)
    unknown = [n for n in names if n not in definitions]
    if unknown:
        raise KeyError(f"reference.{module} defines no {', '.join(unknown)}")
    kept, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in kept or name not in definitions:
            continue
        kept.add(name)
        for node in definitions[name]:
            todo.extend(_used(node) - kept)
    body = [node for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom)) or (_defined(node) & kept)]
    return ast.unparse(ast.Module(body=body, type_ignores=[])), frozenset(kept)


def sliced(module: str | None, names, folder=None) -> tuple[str, frozenset[str]]:
    """The source of reference module `module` cut to `names` and what they use, and the definitions kept."""
    if module is None:
        raise KeyError("this item names no reference module")
    return _sliced(module, tuple(sorted(names)), None if folder is None else str(folder))
