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
from .folders import item_folder
from .rubric import Assignment, RubricError, UnknownAssignment, assignment_ids, read_rubric, rubric_path

__all__ = ["Assignment", "RubricError", "UnknownAssignment", "assignment_ids", "load_assignment", "load_rubric"]


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
