"""Grade one notebook: the one-way flow from a file to a report.

load → prepare → run in a fresh kernel with probes (while the reference
answers are computed in a clean process, or read from the cache) → judge
each item in this process → report.
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
from pathlib import Path

from . import __version__
from .anchors import find_question, locate_items, note_how_found
from .checks import KINDS, Evidence, Probe
from .data import dataset_paths
from .expected import ExpectedAnswers, cache_dir
from .illustrate import illustrate
from .kernel.preamble import preamble_source
from .kernel.sandbox import available as available_isolation
from .kernel.pool import KernelPool
from .kernel.session import KernelSession, KernelSpec, Limits, ProbeCall, RunResult
from .probes.registry import run_request, ships
from .progress import ItemJudged
from .causes import name_causes
from .notebook import NotebookRejected, Submission, defining_cells, load, named_modules, prepare
from .report import AssignmentRef, CellError, Cells, ItemResult, Report, SubmissionRef, TamperSignal, Timing
from .rubric import Assignment, Item, assignment_ids, load_assignment
from .secret import for_probes, secret_path
from .student import BundledAnswers, public_scope

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SHIMS = Path(__file__).resolve().parent / "shims"
DATA_DIR = Path(__file__).resolve().parent / "data"


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
    for name in [n for n in env if n.startswith("GRADER_")]:
        del env[name]  # where the grader keeps its files is none of the kernel's business
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
        output_dropped_bytes=result.output_dropped,
        peak_memory_mb=round(result.peak_memory / 2**20, 1),
    )


def _target(probe: Probe) -> str | None:
    return probe.request.get("reference_target")


def _job(probe: Probe, forbidden: frozenset, may_ship: bool, cell_source: str | None):
    def run(executor) -> dict:
        return run_request(probe.request, executor, forbidden=forbidden, may_ship=may_ship, cell_source=cell_source)
    return run


def plan_probes(nb, assignment: Assignment, probes: dict[str, list[Probe]]) -> tuple[list[ProbeCall], dict[int, list[ProbeCall]]]:
    """The probes after the notebook, in a safe order, and those right after their cells.

    After the notebook, probes that put no reference code beside the code
    under test run first; then each one whose reference definitions include
    no item still to be checked (its own included). Every probe is told which
    definitions it may not ship, and a probe taken at its cell, before the
    notebook has finished, may ship none.
    """
    timeouts = {item.id: item.timeout_s or assignment.limits.item_timeout_s for item in assignment.items}
    after, captures = [], {}
    for item in assignment.items:
        for probe in probes[item.id]:
            if probe.after_cell is None:
                after.append((item.id, probe))
            else:
                job = _job(probe, frozenset(), False, nb.cells[probe.after_cell].source)
                captures.setdefault(probe.after_cell, []).append(ProbeCall(probe.key, job, timeouts[item.id]))
    pending, ordered = list(after), []
    while pending:
        targets = {_target(p) for _, p in pending} - {None}
        index = next((i for i, (_, p) in enumerate(pending) if not ships(p.request) & targets), 0)
        item_id, probe = pending.pop(index)
        forbidden = frozenset(targets)
        ordered.append(ProbeCall(probe.key, _job(probe, forbidden, True, None), timeouts[item_id]))
    return ordered, captures


def reference_answers(assignment: Assignment, probes: dict[str, list[Probe]] | None = None) -> ExpectedAnswers:
    """The reference's answers to the assignment's probes: cached, or started in a clean process.

    They depend on the assignment only, so a batch computes them once, up front.
    """
    if probes is None:
        probes = {item.id: KINDS[item.kind].probes(item, assignment, []) for item in assignment.items}
    requests = [p.request for item in assignment.items if KINDS[item.kind].needs_reference
                for p in probes[item.id] if p.request.get("reference")]
    if assignment.answers is not None:  # a student bundle: stored answers, no reference code
        return BundledAnswers(assignment.answers, requests)
    return ExpectedAnswers(requests, kernel_env(assignment, python_path=PACKAGE_ROOT))


MAX_RERUNS = 2  # a notebook whose cells kill the kernel is re-run without them, at most this often


def _without(nb, removed: dict):
    """The notebook with the cells that killed the kernel emptied (so they are skipped)."""
    if not removed:
        return nb
    nb = copy.deepcopy(nb)
    for index in removed:
        nb.cells[index].source = ""
    return nb


def run_limits(assignment: Assignment, cell_timeout: float | None = None, notebook_timeout: float | None = None,
               memory_mb: int | None = None) -> Limits:
    """A run's limits: the rubric's, unless the command asked for others."""
    rubric = assignment.limits
    return Limits(cell_timeout or rubric.cell_timeout_s, notebook_timeout or rubric.notebook_timeout_s,
                  memory_bytes=(memory_mb or rubric.memory_mb) * 2**20, output_bytes=rubric.output_kb * 1000,
                  file_bytes=rubric.file_mb * 2**20)


def kernel_spec(assignment: Assignment, limits: Limits, hidden: list[Path], preload: list[str]) -> KernelSpec:
    """How this assignment's kernels start: environment, limits, preamble and what they may see."""
    datasets = dataset_paths(assignment.datasets)
    return KernelSpec.make(kernel_env(assignment), limits, preamble_source(assignment.seed, datasets, preload),
                           hidden=[PACKAGE_ROOT, cache_dir().parent, secret_path().parent, *hidden],
                           readable=[DATA_DIR, SHIMS, *map(Path, datasets.values())])


def _run(nb, spec: KernelSpec, probes: list, captures: dict, pool: KernelPool | None, ahead: bool, progress=None) -> RunResult:
    """One fresh kernel in one fresh working directory: from the pool, started ahead, or started now."""
    if pool is not None:
        return pool.run(spec, nb, probes, captures, ahead=ahead, progress=progress)
    return asyncio.run(KernelSession(spec).run(nb, probes, captures, progress=progress))


def _lost_with_cell(result: ItemResult, item: Item, evidence: Evidence, removed: dict) -> ItemResult:
    """An item that needed a cell which killed the kernel is an `error` that says so."""
    needed = {evidence.found_cell} | {i for anchor in evidence.anchors for i in anchor.answers}
    lost = sorted(needed & set(removed))
    if not lost or result.status == "pass":
        return result
    why = removed[lost[0]]
    result.status, result.score = "error", 0.0
    result.feedback = (f"Cell {lost[0]}, which this item needs, stopped the kernel ({why.evalue}); the notebook was "
                       f"run again without it. {result.feedback}").strip()
    return result


def grade_submission(submission: Submission, assignment: Assignment, *, detected: bool = False,
                     cell_timeout: float | None = None, notebook_timeout: float | None = None,
                     memory_mb: int | None = None, hidden: list[str] = (), pool: KernelPool | None = None,
                     ahead: bool | int = True, preload: list[str] | None = None, progress=None) -> Report:
    """Grade one loaded submission; with a `pool`, its kernel may have been started ahead (and, with `ahead`, the next one is)."""
    started = time.monotonic()
    nb = prepare(submission.nb)
    anchors = locate_items(nb, assignment.items)
    probing, inputs = for_probes(assignment)  # the grader's inputs: the rubric's seed, mixed with the instructor's secret
    probes = {item.id: KINDS[item.kind].probes(item, probing, anchors[item.id]) for item in assignment.items}
    expected = reference_answers(probing, probes)
    after_notebook, captures = plan_probes(nb, assignment, probes)
    limits = run_limits(assignment, cell_timeout, notebook_timeout, memory_mb)
    # a kernel started ahead cannot know the notebook: it imports all the rubric preloads; one started now, what the notebook names
    # (a batch passes `preload`: what its submissions name, so a numpy-only class never waits for TensorFlow)
    preload = (assignment.preload if preload is None else preload) if pool is not None else named_modules(nb, assignment.preload)
    spec = kernel_spec(assignment, limits, [submission.path.resolve().parent, *map(Path, hidden)], preload)
    removed: dict[int, CellError] = {}
    for attempt in range(MAX_RERUNS + 1):
        result = _run(_without(nb, removed), spec, after_notebook, captures, pool, ahead, progress)
        if result.kernel_died_at is None or attempt == MAX_RERUNS:
            break
        dead = next(r for r in result.cells if r.index == result.kernel_died_at)
        removed[dead.index] = CellError(cell=dead.index, ename=dead.ename or "", evalue=dead.evalue or "")
    answers = expected.answers()
    cells = _cells_summary(nb, result)
    cells.removed = list(removed.values())
    cells.errors = list(removed.values()) + cells.errors
    if removed:
        cells.kernel_died_at = min(removed)
    defined = defining_cells(nb)
    question_cells = {a.question for found in anchors.values() for a in found if a.question is not None}
    printed = {record.index: record.stdout for record in result.cells}
    items = []
    for item in assignment.items:
        evidence = Evidence(
            nb=nb, cells=cells, anchors=anchors[item.id], responses=result.responses, expected=answers.get(item.id),
            found_cell=next((defined[n] for n in item.names if n in defined), None),
            problem=result.probe_failures.get(item.id) or result.start_failure or (f"the kernel died at cell {result.kernel_died_at}" if result.dead else None),
            question_cells=question_cells, cell_stdout=printed,
        )
        judged = illustrate(item, KINDS[item.kind].judge(item, evidence), result.responses.get(item.id), answers.get(item.id))
        judged = note_how_found(judged, anchors[item.id])
        keys = [probe.key for probe in probes[item.id]]
        flags = [signal for key in keys for signal in result.signals.get(key, [])]
        trips = sum(result.round_trips.get(key, 0) for key in keys)
        items.append(_lost_with_cell(judged, item, evidence, removed).model_copy(update={"flags": flags, "round_trips": trips or None}))
        if progress is not None:
            progress(ItemJudged(items[-1]))
    items = name_causes(items, assignment)
    tampering = [TamperSignal(item=None if key == "notebook" else key.split("#")[0], what=what)
                 for key, whats in result.signals.items() for what in whats]
    report = Report(
        grader_version=__version__,
        status="graded",
        assignment=AssignmentRef(id=assignment.id, title=assignment.title, detected=detected, version=assignment.version),
        submission=SubmissionRef(path=str(submission.path), sha256=submission.sha256),
        score=round(sum(i.score for i in items), 4),
        max_score=assignment.max_score,
        items=items,
        cells=cells,
        isolation=result.isolation or available_isolation(),
        inputs=inputs,
        tampering=tampering,
        timing=Timing(total_s=round(time.monotonic() - started, 2), execute_s=round(result.execute_s, 2), checks_s=round(result.probe_s, 2),
                      kernel_wait_s=round(result.kernel_wait_s, 2), kernel_warm=result.kernel_warm),
    )
    return public_scope(report, assignment)


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
