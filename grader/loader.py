"""An assignment's folder, loaded: its rubric read, its own `checks.py` registered, every name it uses checked.

This is the step above `grader.rubric` (the file format) and `grader.checks`
(the kinds and rules): neither imports the other, and this module imports
both. An assignment folder (`assignments/<id>/`) holds `rubric.toml`, the
solution and wrong examples, and, where the sheet needs them, a `checks.py`
with its own probes and rules and a `reference/` folder with its own
reference modules (`grader.folders`).
"""

from __future__ import annotations

from pathlib import Path

from .contract import contract_errors
from .folders import CHECKS_FILE, checks_source, item_folder
from .probes.reference_code import reference_source
from .probes.registry import probe_module
from .rubric import Assignment, RubricError, UnknownAssignment, assignment_ids, read_rubric, rubric_path

__all__ = ["Assignment", "RubricError", "UnknownAssignment", "assignment_ids", "code_of", "load_assignment", "load_rubric", "own_folders"]


def load_rubric(path: Path) -> Assignment:
    """Read one rubric file, register its folder's checks, and refuse any name that does not resolve."""
    assignment = read_rubric(path)
    for item in assignment.items:
        item._folder = item_folder(assignment.directory, item.origin)
    errors = contract_errors(assignment)
    if errors:
        raise RubricError(f"{path}: field `{errors[0]}`" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    return assignment


def load_assignment(assignment_id: str, root: Path | None = None) -> Assignment:
    return load_rubric(rubric_path(assignment_id, root))


def own_folders(assignment: Assignment) -> list[Path]:
    """The folders whose `checks.py` the assignment's items use: its own, and those of the assignments it includes from."""
    found = {item._folder for item in assignment.items if item._folder is not None}
    return sorted(f for f in found if (f / CHECKS_FILE).is_file())


def code_of(assignment: Assignment) -> list[str]:
    """The source of every piece of code grading the assignment runs: references, probes, the folders' checks, its preloads.

    What it imports is what the assignment needs installed (`grader.versions`).
    """
    sources = [f"import {module}" for module in assignment.preload]
    for item in assignment.items:
        if getattr(item, "reference", None):
            sources.append(reference_source(item.reference, item._folder))
        if item.kind in ("function", "behaviour"):
            probe = getattr(item, "probe", "calls.call_function")
            sources.append(Path(probe_module(probe, item._folder).__file__).read_text(encoding="utf-8"))
    sources += [checks_source(folder) for folder in own_folders(assignment)]
    return sources
