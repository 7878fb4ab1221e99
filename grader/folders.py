"""Where an item's own code lives: its assignment's `checks.py` and `reference/`, then the package's.

An assignment folder may carry the code only its sheet needs:

- `checks.py`: probes (`@probe`, named in the rubric by the bare function
  name, `probe = "sequential"`) and rules (`@rule`, named like the
  package's, `rule = "layers_applied"`), found by their declarations when the
  folder is loaded;
- `reference/<module>.py`: reference modules (`reference = "numpy_net"`),
  looked for there before the top-level `reference/`.

An item included from another assignment resolves in that assignment's
folder (its `origin`). This module imports nothing of the grader's rubric or
check kinds, so both sides of the kernel wall, and the loader above them,
can use it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

# beside the package in a checkout or a student bundle's directory; inside it when a bundle's wheel is installed
ASSIGNMENTS_DIR = next((d for d in (Path(__file__).resolve().parent.parent / "assignments", Path(__file__).resolve().parent / "assignments")
                        if d.is_dir()), Path(__file__).resolve().parent.parent / "assignments")
ASSIGNMENTS_ENV = "GRADER_ASSIGNMENTS_DIR"  # another folder of assignments (a copied, edited rubric; tests)
CHECKS_FILE = "checks.py"
REFERENCE_FOLDER = "reference"
REFERENCE_DIR = Path(__file__).resolve().parent.parent / REFERENCE_FOLDER  # the top-level reference/ of the layout


def assignments_dir() -> Path:
    return Path(os.environ[ASSIGNMENTS_ENV]) if os.environ.get(ASSIGNMENTS_ENV) else ASSIGNMENTS_DIR


def item_folder(directory: Path | None, origin: str | None) -> Path | None:
    """The folder an item's names resolve in: its own assignment's, or (included) its origin's."""
    if directory is None:
        return None
    return directory.parent / origin if origin else directory


@cache
def _checks_module(path: Path, stamp: tuple[int, int]) -> ModuleType | None:
    """Imported once per version of the file (an instructor editing it in a long-lived process gets the new one)."""
    name = f"grader_assignment_checks_{path.parent.name.replace('-', '_')}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def checks_module(folder: str | Path | None) -> ModuleType | None:
    """The folder's `checks.py`, imported once per process; None when it has none."""
    if folder is None:
        return None
    path = Path(folder).resolve() / CHECKS_FILE
    try:
        stat = path.stat()
    except OSError:
        return None
    return _checks_module(path, (stat.st_mtime_ns, stat.st_size))


def checks_source(folder: str | Path | None) -> str:
    path = None if folder is None else Path(folder) / CHECKS_FILE
    return path.read_text(encoding="utf-8") if path is not None and path.is_file() else ""


def declared(folder: str | Path | None, marker: str) -> dict[str, object]:
    """The functions of the folder's `checks.py` that carry a declaration (`spec` for probes, `reads` for rules)."""
    module = checks_module(folder)
    if module is None:
        return {}
    return {name: value for name, value in vars(module).items()
            if callable(value) and getattr(value, "__module__", None) == module.__name__ and getattr(value, marker, None) is not None}


def reference_file(module: str, folder: str | Path | None = None) -> Path:
    """`<folder>/reference/<module>.py` when the assignment carries it, else the top-level `reference/<module>.py`."""
    if folder is not None:
        own = Path(folder) / REFERENCE_FOLDER / f"{module}.py"
        if own.is_file():
            return own
    return REFERENCE_DIR / f"{module}.py"
