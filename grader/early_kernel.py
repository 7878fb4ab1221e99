"""`grade NOTEBOOK -a ID`: the notebook's kernel starts before the grader prepares, not after.

Preparing a notebook (its cells, where each item is, the probes, the
reference answers from the cache, the isolation's trials) takes the grader's
process a few tenths of a second; starting a kernel takes as long again in
processes of its own. Started first, in a pool of one (`grader.kernel.pool`),
the kernel boots while the grader prepares. It is the kernel the notebook
would have been given on demand: the same spec (`grade.kernel_spec`, the
preloads that the notebook names), one kernel for one notebook, stopped after.
Where the spec cannot be known yet (no `--assignment`, a file that is not a
notebook), nothing starts early and grading goes as before.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from .grade import kernel_spec, run_limits
from .kernel.pool import KernelPool
from .notebook import NotebookRejected, load, named_modules
from .rubric import RubricError, UnknownAssignment, load_assignment


@contextlib.contextmanager
def early_kernel(notebook: Path, assignment_id: str | None, limits: dict):
    """While active, a kernel for `notebook` is starting; yields the options that make `grade_notebook` take it."""
    try:
        if assignment_id is None:
            raise LookupError("no assignment: it is detected from the notebook")
        assignment = load_assignment(assignment_id)
        preload = named_modules(load(notebook).nb, assignment.preload)
        spec = kernel_spec(assignment, run_limits(assignment, limits.get("cell_timeout"), limits.get("notebook_timeout"),
                                                  limits.get("memory_mb")),
                           [notebook.resolve().parent], preload)
    except (LookupError, NotebookRejected, RubricError, UnknownAssignment, OSError):
        yield {}  # grade_notebook says why, or detects the assignment, as without this
        return
    pool = KernelPool()
    try:
        pool.prime(spec)
        yield {"pool": pool, "ahead": 0, "preload": preload}
    finally:
        pool.close()
