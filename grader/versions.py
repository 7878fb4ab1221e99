"""Which installed distributions a piece of grading code depends on, read from its imports, and their versions.

The reference cache's key and a student bundle's dependencies ask only for
what an assignment's code uses: a numpy-only sheet never asks for (or needs)
TensorFlow. A probe's `ctx.kernel("tensorflow", ...)` counts as an import:
it imports the module on the reference's side.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from functools import cache
from pathlib import Path


@cache
def imported_modules(source: str) -> frozenset[str]:
    """The top-level modules a source imports (read once per source per process) (absolute imports, and the first argument of `*.kernel("name", ...)`)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "kernel"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value.split(".")[0])
    return frozenset(found)


@cache
def _distributions() -> dict[str, list[str]]:
    """Every installed distribution's top-level modules: a scan of them all (0.1-0.2 s), done only when needed."""
    return importlib.metadata.packages_distributions()


@cache
def _providers(module: str) -> tuple[str, ...]:
    """The distributions that install the top-level `module`.

    Most are named like their module (numpy, tensorflow, keras, jax): one metadata
    read says so, where the scan of every distribution would cost each process of a
    batch 0.1-0.2 s. The others (PIL from pillow, google from protobuf) take the scan;
    the standard library's modules belong to no distribution.
    """
    if module in sys.stdlib_module_names:
        return ()
    try:
        dist = importlib.metadata.distribution(module)
    except importlib.metadata.PackageNotFoundError:
        return tuple(_distributions().get(module, []))
    top = (dist.read_text("top_level.txt") or "").split()
    site = Path(dist.locate_file(""))
    if module in top or (not top and ((site / module).is_dir() or (site / f"{module}.py").is_file())):
        return (dist.metadata["Name"],)
    return tuple(_distributions().get(module, []))


def distributions_of(sources) -> set[str]:
    """The installed third-party distributions the sources import (the standard library and the grader are not)."""
    modules = set().union(*(imported_modules(s) for s in sources)) if sources else set()
    return {dist for module in modules if module != "grader" for dist in _providers(module)}


def versions_of(sources) -> dict[str, str]:
    """Name → version of each distribution the sources import, sorted by name."""
    return {name: _version(name) for name in sorted(distributions_of(sources))}


@cache
def _version(name: str) -> str:
    """Read once per process (a scan of the installed distributions: a batch worker would ask it per submission)."""
    return importlib.metadata.version(name)


def uses_tensorflow(sources) -> bool:
    return bool({"tensorflow", "keras", "tf_keras"} & set().union(*(imported_modules(s) for s in sources))) if sources else False
