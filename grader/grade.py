"""Grade one notebook: the one-way flow from a file to a report.

load → plan (prepare the notebook, find the items, order the probes, set the
reference's answers going in a clean process or read them from the cache) →
run in a fresh kernel with the probes (a cell that kills the kernel is left
out and the notebook run again) → judge each item once, in this process
(`grader.judging`) → assemble the report. Each stage hands the next a typed
value (`Plan`, `Run`, the items) and nothing edits what an earlier one made.
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .anchors import Anchor, locate_items
from .checks import KINDS, Evidence, Probe
from .data import dataset_paths
from .expected import ExpectedAnswers, cache_dir
from .early_kernel import early_kernel
from .judging import judge_items
from .kernel.preamble import preamble_source
from .kernel.sandbox import available as available_isolation
from .kernel.pool import KernelPool
from .kernel.session import CellStatus, KernelSession, KernelSpec, Limits, ProbeCall, RunResult
from .probes.registry import run_request, ships
from .progress import ItemJudged
from . import rebinding
from .mutants import hints as mutant_hints
from .notebook import NotebookRejected, Submission, defining_cells, load, named_modules, prepare
from .report import AssignmentRef, CellError, Cells, ItemResult, Report, SubmissionRef, TamperSignal, Timing
from .rubric import Assignment, Item
from .detect import AmbiguousAssignment, detect_assignment  # noqa: F401  (AmbiguousAssignment: raised by grade_notebook)
from .loader import load_assignment
from .secret import Inputs, for_probes, secret_path
from .bundle import BundledAnswers, hidden_checks_of, hidden_of

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SHIMS = Path(__file__).resolve().parent / "shims"
DATA_DIR = Path(__file__).resolve().parent / "data"


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


def _cells_summary(nb, result: RunResult, removed: dict[int, CellError]) -> Cells:
    """What happened to the cells; those left out of the re-run (they killed the kernel) come first among the errors."""
    return Cells(
        total=sum(1 for c in nb.cells if c.cell_type == "code"),
        executed=sum(1 for r in result.cells if r.status.ran),
        errors=[*removed.values(), *(CellError(cell=r.index, ename=r.ename or "", evalue=r.evalue or "")
                                     for r in result.cells if r.status.raised)],
        timed_out=[r.index for r in result.cells if r.status is CellStatus.TIMEOUT],
        not_run=[r.index for r in result.cells if r.status is CellStatus.NOT_RUN],
        kernel_died_at=min(removed) if removed else result.kernel_died_at,
        output_dropped_bytes=result.output_dropped,
        peak_memory_mb=round(result.peak_memory / 2**20, 1),
        removed=list(removed.values()),
    )


def _target(probe: Probe) -> str | None:
    return probe.request.get("reference_target")


def _job(probe: Probe, forbidden: frozenset, may_ship: bool, cell_source: str | None, rebound: dict | None = None):
    def run(executor, held=None) -> dict:
        return run_request(probe.request, executor, forbidden=forbidden, may_ship=may_ship, cell_source=cell_source, held=held)
    bindings = (rebound or {}).get(probe.key.split("#")[0])
    return bindings.job(probe, run) if bindings is not None else run


def plan_probes(nb, assignment: Assignment, probes: dict[str, list[Probe]],
                rebound: dict[str, rebinding.Rebound] | None = None) -> tuple[list[ProbeCall], dict[int, list[ProbeCall]]]:
    """The probes after the notebook, in a safe order, and those right after their cells.

    After the notebook, probes that put no reference code beside the code
    under test run first; then each one whose reference definitions include
    no item still to be checked (its own included). Every probe is told which
    definitions it may not ship, and a probe taken at its cell, before the
    notebook has finished, may ship none. The probes of a `rebound` item judge
    the binding its rubric chooses (grader/rebinding.py).
    """
    timeouts = {item.id: item.timeout_s or assignment.limits.item_timeout_s for item in assignment.items}
    after, captures = [], {}
    for item in assignment.items:
        for probe in probes[item.id]:
            if probe.after_cell is None:
                after.append((item.id, probe))
            else:
                job = _job(probe, frozenset(), False, nb.cells[probe.after_cell].source, rebound)
                captures.setdefault(probe.after_cell, []).append(ProbeCall(probe.key, job, timeouts[item.id]))
    pending, ordered = list(after), []
    while pending:
        targets = {_target(p) for _, p in pending} - {None}
        index = next((i for i, (_, p) in enumerate(pending) if not ships(p.request) & targets), 0)
        item_id, probe = pending.pop(index)
        forbidden = frozenset(targets)
        looks_up = () if (rebound or {}).get(probe.key.split("#")[0]) is not None else tuple(probe.request.get("names") or ())
        ordered.append(ProbeCall(probe.key, _job(probe, forbidden, True, None, rebound), timeouts[item_id], looks_up))
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


def _outside(root: Path, folders: set[Path]) -> list[Path]:
    """Assignment folders elsewhere than the package (GRADER_ASSIGNMENTS_DIR): their reference/ is hidden too."""
    return sorted(f for f in folders if not f.resolve().is_relative_to(root))


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
                           hidden=[PACKAGE_ROOT, cache_dir().parent, secret_path().parent, *hidden,
                                   *_outside(PACKAGE_ROOT, {item._folder for item in assignment.items if item._folder is not None})],
                           readable=[DATA_DIR, SHIMS, *map(Path, datasets.values())])


def _run(nb, spec: KernelSpec, probes: list, captures: dict, pool: KernelPool | None, ahead: bool, progress=None) -> RunResult:
    """One fresh kernel in one fresh working directory: from the pool, started ahead, or started now."""
    if pool is not None:
        return pool.run(spec, nb, probes, captures, ahead=ahead, progress=progress)
    return asyncio.run(KernelSession(spec).run(nb, probes, captures, progress=progress))


@dataclass(frozen=True)
class Plan:
    """What grading one submission will do, decided before any kernel starts."""

    nb: object  # the prepared notebook
    anchors: dict[str, list[Anchor]]
    probes: dict[str, list[Probe]]
    after_notebook: list[ProbeCall]
    captures: dict[int, list[ProbeCall]]
    expected: ExpectedAnswers  # the reference's answers, computed meanwhile (or read from the cache or a bundle)
    inputs: Inputs
    spec: KernelSpec
    hidden_checks: dict[str, int] | None  # a student bundle: per item, its checks left out (None: not a bundle)
    mutants: object | None  # the known mutants' observations (`grader.mutants.hints`), for hints; None when none are known


@dataclass(frozen=True)
class Run:
    """What the notebook's run left: the last run's result, and the cells left out of it because they killed the kernel."""

    result: RunResult
    removed: dict[int, CellError]
    cells: Cells


def plan(submission: Submission, assignment: Assignment, limits: Limits, hidden: list[Path], pool: KernelPool | None,
         preload: list[str] | None) -> Plan:
    """The probes in their order, the kernel's spec and limits, and the reference's answers set going."""
    nb = prepare(submission.nb)
    anchors = locate_items(nb, assignment.items)
    probing, inputs = for_probes(assignment)  # the grader's inputs: the rubric's seed, mixed with the instructor's secret
    probes = {item.id: KINDS[item.kind].probes(item, probing, anchors[item.id]) for item in assignment.items}
    expected = reference_answers(probing, probes)
    rebound = rebinding.plan(nb, assignment.items, anchors)  # names bound in several cells: each binding captured as it is made
    probes = {item_id: (rebound[item_id].probes() if item_id in rebound else []) + found for item_id, found in probes.items()}
    after_notebook, captures = plan_probes(nb, assignment, probes, rebound)
    # a kernel started ahead cannot know the notebook: it imports all the rubric preloads; one started now, what the notebook names
    # (a batch passes `preload`: what its submissions name, so a numpy-only class never waits for TensorFlow)
    preload = (assignment.preload if preload is None else preload) if pool is not None else named_modules(nb, assignment.preload)
    spec = kernel_spec(assignment, limits, [submission.path.resolve().parent, *hidden], preload)
    return Plan(nb, anchors, probes, after_notebook, captures, expected, inputs, spec, hidden_checks_of(expected),
                mutant_hints.store_for(assignment, inputs))


def run(plan: Plan, pool: KernelPool | None, ahead: bool | int, progress=None) -> Run:
    """Run the notebook; a cell that kills the kernel is left out and the notebook run again, at most MAX_RERUNS times."""
    removed: dict[int, CellError] = {}
    for attempt in range(MAX_RERUNS + 1):
        result = _run(_without(plan.nb, removed), plan.spec, plan.after_notebook, plan.captures, pool, ahead, progress)
        if result.kernel_died_at is None or attempt == MAX_RERUNS:
            break
        dead = next(r for r in result.cells if r.index == result.kernel_died_at)
        removed[dead.index] = CellError(cell=dead.index, ename=dead.ename or "", evalue=dead.evalue or "")
    return Run(result, removed, _cells_summary(plan.nb, result, removed))


def judge(assignment: Assignment, plan: Plan, run: Run, progress=None) -> list[ItemResult]:
    """Every item judged once, in the grader's process, from the run's responses and the reference's answers."""
    answers, result, nb = plan.expected.answers(), run.result, plan.nb
    defined = defining_cells(nb)
    question_cells = {a.question for found in plan.anchors.values() for a in found if a.question is not None}
    printed = {record.index: record.stdout for record in result.cells}
    died = f"the kernel died at cell {result.kernel_died_at}" if result.dead else None

    def evidence_for(item: Item, failed: list[ItemResult]) -> Evidence:
        keys = [probe.key for probe in plan.probes[item.id]]
        observed = mutant_hints.observed_digest(keys, result.responses)
        return Evidence(
            nb=nb, cells=run.cells, anchors=plan.anchors[item.id], responses=result.responses, expected=answers.get(item.id),
            found_cell=next((defined[n] for n in item.names if n in defined), None),
            problem=result.failure(item.id) or result.start_failure or died,
            question_cells=question_cells, cell_stdout=printed, removed=run.removed, failed_dependencies=failed,
            hidden_checks=None if plan.hidden_checks is None else plan.hidden_checks.get(item.id, 0),
            flags=[signal for key in keys for signal in result.signals.get(key, [])],
            round_trips=sum(result.round_trips.get(key, 0) for key in keys),
            observed=observed, like_mutant=mutant_hints.like_mutant(plan.mutants, item.id, observed),
        )

    return judge_items(assignment, evidence_for, (lambda judged: progress(ItemJudged(judged))) if progress is not None else (lambda judged: None))


def assemble(submission: Submission, assignment: Assignment, plan: Plan, run: Run, items: list[ItemResult], detected: bool,
             started: float) -> Report:
    """The report, from the judged items and the run."""
    result = run.result
    tampering = [TamperSignal(item=None if key == "notebook" else key.split("#")[0], what=what)
                 for key, whats in result.signals.items() for what in whats]
    return Report(
        grader_version=__version__,
        status="graded",
        assignment=AssignmentRef(id=assignment.id, title=assignment.title, detected=detected, version=assignment.version),
        submission=SubmissionRef(path=str(submission.path), sha256=submission.sha256),
        score=round(sum(i.score for i in items), 4),
        max_score=assignment.max_score,
        items=items,
        cells=run.cells,
        isolation=result.isolation or available_isolation(),
        inputs=plan.inputs,
        tampering=tampering,
        scope="public" if plan.hidden_checks is not None else "all",
        hidden=hidden_of(plan.expected),
        timing=Timing(total_s=round(time.monotonic() - started, 2), execute_s=round(result.execute_s, 2), checks_s=round(result.probe_s, 2),
                      kernel_wait_s=round(result.kernel_wait_s, 2), kernel_warm=result.kernel_warm),
    )


def grade_submission(submission: Submission, assignment: Assignment, *, detected: bool = False,
                     cell_timeout: float | None = None, notebook_timeout: float | None = None,
                     memory_mb: int | None = None, hidden: list[str] = (), pool: KernelPool | None = None,
                     ahead: bool | int = True, preload: list[str] | None = None, progress=None) -> Report:
    """Grade one loaded submission: plan → run → judge → assemble.

    With a `pool`, its kernel may have been started ahead (and, with `ahead`, the next one is).
    """
    started = time.monotonic()
    limits = run_limits(assignment, cell_timeout, notebook_timeout, memory_mb)
    planned = plan(submission, assignment, limits, list(map(Path, hidden)), pool, preload)
    ran = run(planned, pool, ahead, progress)
    items = judge(assignment, planned, ran, progress)
    return assemble(submission, assignment, planned, ran, items, detected, started)


@dataclass(frozen=True)
class Graded:
    """A graded file and the rubric it was graded with (None when the file was refused), for what comes after the report."""

    report: Report
    assignment: Assignment | None


def grade_path(path: str | Path, assignment_id: str | None = None, *, early: bool = False, **options) -> Graded:
    """Grade one notebook file, keeping the rubric chosen (Gradescope's export splits items by it).

    With `early`, the notebook's kernel starts as soon as the notebook and the
    rubric are read, and boots while the grader prepares (`grader.early_kernel`).
    """
    path = Path(path)
    try:
        submission = load(path)
    except NotebookRejected as exc:
        return Graded(Report(grader_version=__version__, status="rejected", reason=str(exc), submission=SubmissionRef(path=str(path))), None)
    detected = assignment_id is None
    assignment = detect_assignment(submission) if detected else load_assignment(assignment_id)
    if not early or options.get("pool") is not None:
        return Graded(grade_submission(submission, assignment, detected=detected, **options), assignment)
    preload = named_modules(submission.nb, assignment.preload)  # what a kernel started now would import
    limits = run_limits(assignment, options.get("cell_timeout"), options.get("notebook_timeout"), options.get("memory_mb"))
    spec = kernel_spec(assignment, limits, [submission.path.resolve().parent, *map(Path, options.get("hidden", ()))], preload)
    with early_kernel(spec) as pool:
        return Graded(grade_submission(submission, assignment, detected=detected, pool=pool, ahead=0, preload=preload, **options),
                      assignment)


def grade_notebook(path: str | Path, assignment_id: str | None = None, **limits) -> Report:
    """Grade one notebook file; a file that is not a gradable notebook gets a `rejected` report.

    Raises `UnknownAssignment` or `AmbiguousAssignment` when the assignment cannot be chosen.
    """
    return grade_path(path, assignment_id, **limits).report
