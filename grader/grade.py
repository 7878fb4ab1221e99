"""Grade one notebook: the one-way flow from a file to a report.

load → prepare → run in a fresh kernel with probes (while the reference
answers are computed in a clean process, or read from the cache) → judge
each item in this process → report.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import __version__
from .anchors import find_question, locate_all
from .checks import KINDS, Evidence, Probe
from .data import dataset_paths
from .expected import ExpectedAnswers, probe_source, reference_source, runtime_source
from .kernel.channel import probe_cell_source
from .kernel.preamble import preamble_source
from .kernel.session import KernelSession, Limits, ProbeCall, RunResult
from .notebook import NotebookRejected, Submission, defining_cells, load, prepare
from .report import AssignmentRef, CellError, Cells, ItemResult, Report, SubmissionRef, Timing
from .rubric import Assignment, Item, assignment_ids, load_assignment

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SHIMS = Path(__file__).resolve().parent / "shims"


class AmbiguousAssignment(Exception):
    """Several assignments fit the notebook about equally well."""


def kernel_env(assignment: Assignment, *, python_path: Path = SHIMS) -> dict[str, str]:
    """The environment of a grading process: fixed hashing, no display, the chosen Keras."""
    env = dict(os.environ)
    env.update(
        PYTHONHASHSEED="0",
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        PYTHONPATH=str(python_path),
    )
    env.pop("TF_USE_LEGACY_KERAS", None)
    if assignment.keras == "2":
        env["TF_USE_LEGACY_KERAS"] = "1"
    return env


def detect_assignment(submission: Submission) -> Assignment:
    """The assignment whose item names the notebook defines best."""
    defined = defining_cells(submission.nb)
    scored = []
    for assignment_id in assignment_ids():
        assignment = load_assignment(assignment_id)
        hits = sum(any(name in defined for name in item.names) or any(find_question(submission.nb, q.texts) is not None for q in item.questions)
                   for item in assignment.items)
        scored.append((hits / len(assignment.items), assignment))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    if not scored or scored[0][0] == 0:
        raise AmbiguousAssignment("no assignment's items were found in this notebook; name one with --assignment")
    if len(scored) > 1 and scored[1][0] >= scored[0][0] - 0.1:
        names = " and ".join(a.id for _, a in scored[:2])
        raise AmbiguousAssignment(f"this notebook fits {names} about equally; name one with --assignment")
    return scored[0][1]


def _cells_summary(nb, result: RunResult) -> Cells:
    return Cells(
        total=sum(1 for c in nb.cells if c.cell_type == "code"),
        executed=sum(1 for r in result.cells if r.status in ("ok", "error", "timeout", "dead_kernel")),
        errors=[CellError(cell=r.index, ename=r.ename or "", evalue=r.evalue or "") for r in result.cells if r.status in ("error", "dead_kernel")],
        timed_out=[r.index for r in result.cells if r.status == "timeout"],
        not_run=[r.index for r in result.cells if r.status == "not_run"],
        kernel_died_at=result.kernel_died_at,
    )


def _explain_missing(result: ItemResult, item: Item, nb, cells: Cells) -> ItemResult:
    """A missing object whose cell raised: say which cell and why."""
    if result.status != "missing":
        return result
    for error in cells.errors:
        if any(name in nb.cells[error.cell].source for name in item.names):
            result.feedback += f" Cell {error.cell}, which mentions it, raised {error.ename}: {error.evalue}"
            break
    return result


def _probe_call(probe: Probe, timeout: float) -> ProbeCall:
    request = probe.request
    reference = reference_source(request["reference"]) if request.get("reference") else None
    source, token = probe_cell_source(request, runtime_source(), probe_source(request["probe"]), reference)
    return ProbeCall(probe.key, source, token, timeout)


def reference_answers(assignment: Assignment, probes: dict[str, list[Probe]] | None = None) -> ExpectedAnswers:
    """The reference's answers to the assignment's probes: cached, or started in a clean process.

    They depend on the assignment only, so a batch computes them once, up front.
    """
    if probes is None:
        probes = {item.id: KINDS[item.kind].probes(item, assignment, []) for item in assignment.items}
    requests = [p.request for item in assignment.items if KINDS[item.kind].needs_reference
                for p in probes[item.id] if p.request.get("reference")]
    return ExpectedAnswers(requests, kernel_env(assignment, python_path=PACKAGE_ROOT))


def grade_submission(submission: Submission, assignment: Assignment, *, detected: bool = False,
                     cell_timeout: float | None = None, notebook_timeout: float | None = None) -> Report:
    started = time.monotonic()
    nb = prepare(submission.nb)
    located = locate_all(nb, {f"{item.id}#{i}": q.texts for item in assignment.items for i, q in enumerate(item.questions)})
    anchors = {item.id: [located[f"{item.id}#{i}"] for i in range(len(item.questions))] for item in assignment.items}
    probes = {item.id: KINDS[item.kind].probes(item, assignment, anchors[item.id]) for item in assignment.items}
    expected = reference_answers(assignment, probes)
    after_notebook, captures = [], {}
    for item in assignment.items:
        timeout = item.timeout_s or assignment.limits.item_timeout_s
        for probe in probes[item.id]:
            call = _probe_call(probe, timeout)
            if probe.after_cell is None:
                after_notebook.append(call)
            else:
                captures.setdefault(probe.after_cell, []).append(call)
    limits = Limits(cell_timeout or assignment.limits.cell_timeout_s, notebook_timeout or assignment.limits.notebook_timeout_s)
    workdir = tempfile.mkdtemp(prefix="grader-run-")
    try:
        session = KernelSession(nb, workdir=workdir, env=kernel_env(assignment), limits=limits,
                                preamble=preamble_source(assignment.seed, dataset_paths(assignment.datasets)))
        result = asyncio.run(session.run(after_notebook, captures))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    answers = expected.answers()
    cells = _cells_summary(nb, result)
    defined = defining_cells(nb)
    question_cells = {a.question for found in anchors.values() for a in found if a.question is not None}
    items = []
    for item in assignment.items:
        evidence = Evidence(
            nb=nb, cells=cells, anchors=anchors[item.id], responses=result.responses, expected=answers.get(item.id),
            found_cell=next((defined[n] for n in item.names if n in defined), None),
            problem=result.probe_failures.get(item.id) or (f"the kernel died at cell {result.kernel_died_at}" if result.dead else None),
            question_cells=question_cells, cell_stdout={record.index: record.stdout for record in result.cells},
        )
        items.append(_explain_missing(KINDS[item.kind].judge(item, evidence), item, nb, cells))
    return Report(
        grader_version=__version__,
        status="graded",
        assignment=AssignmentRef(id=assignment.id, title=assignment.title, detected=detected, version=assignment.version),
        submission=SubmissionRef(path=str(submission.path), sha256=submission.sha256),
        score=round(sum(i.score for i in items), 4),
        max_score=assignment.max_score,
        items=items,
        cells=cells,
        timing=Timing(total_s=round(time.monotonic() - started, 2), execute_s=round(result.execute_s, 2), checks_s=round(result.probe_s, 2)),
    )


def grade_notebook(path: str | Path, assignment_id: str | None = None, **limits) -> Report:
    """Grade one notebook file; a file that is not a gradable notebook gets a `rejected` report.

    Raises `UnknownAssignment` or `AmbiguousAssignment` when the assignment cannot be chosen.
    """
    path = Path(path)
    try:
        submission = load(path)
    except NotebookRejected as exc:
        return Report(grader_version=__version__, status="rejected", reason=str(exc), submission=SubmissionRef(path=str(path)))
    if assignment_id is None:
        return grade_submission(submission, detect_assignment(submission), detected=True, **limits)
    return grade_submission(submission, load_assignment(assignment_id), **limits)
