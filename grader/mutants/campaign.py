"""`grade validate --mutants`: grade the solution's mutants as a batch and say, per item, what the rubric misses.

The solution is graded twice first (items whose observations differ between
two runs of the same notebook are *unstable* and left out of the equivalence
test), then every sampled mutant, each a copy of the solution with one cell
changed, named by its content, through the batch machinery: parallel,
resumable (a report stays current while the notebook, rubric version and
grader are the same), in a folder keyed by the rubric's grading content and
the inputs, so a rubric that was edited is tested afresh and a run with
other inputs (`--public-seed`) grades its own. The killed mutants'
observations go to the cache's hint store and to the store the assignment
ships (`hints.write_shipped`). Mutants inside code the rubric
declares free are not graded at all: they are counted and listed. A mutant's limits are the rubric's,
cut to a few times the solution's own run time, so a mutant that loops
forever costs little.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat

from ..batch import Progress, run_batch
from ..report import Report
from ..rubric import Assignment
from ..secret import for_probes
from .hints import grading_key, inputs_key, known_store, write_shipped, write_store
from .models import Cascade, Fate, HintStore, ItemTally, KnownMutant, MutantResult, MutantSpec, MutationReport
from .plan import PlanError, clean_notebook, mutant_notebook, plan, write_notebook
from .hints import _root as mutants_root

SOLUTION_RUNS = ("solution-1", "solution-2")
JUDGED = ("pass", "fail", "error", "missing")


def work_dir(assignment: Assignment, out: Path | None = None) -> Path:
    """Where the mutant notebooks and their reports live: `out`, or the cache, keyed by the rubric's grading content
    and the inputs (a report is current by notebook, rubric version and grader: graded on other inputs, it is not)."""
    if out is not None:
        return out
    return mutants_root() / "runs" / f"{assignment.id}-{grading_key(assignment)}-{inputs_key(for_probes(assignment)[1])}"


def mutant_limits(assignment: Assignment, solutions: list[Report]) -> dict:
    """The rubric's limits, cut to four times the solution's run time plus a minute (at least two minutes).

    The margin is wide because the machine's load may rise while the mutants run; a mutant cut at its limit
    is judged as graded (its item fails), so too tight a limit would count a slow mutant as killed.
    """
    execute = max(r.timing.execute_s for r in solutions)
    notebook = min(assignment.limits.notebook_timeout_s, max(120.0, 4 * execute + 60))
    return {"notebook_timeout": notebook, "cell_timeout": min(assignment.limits.cell_timeout_s, notebook)}


def unstable_items(solutions: list[Report]) -> list[str]:
    first, second = ({i.id: i for i in r.items} for r in solutions)
    return sorted(i for i in first if i in second and (first[i].observed != second[i].observed or first[i].status != second[i].status))


def _stopped_at(report: Report, cell: int) -> bool:
    cells = report.cells
    failed = {e.cell for e in cells.errors} | set(cells.timed_out) | set(cells.not_run) | {e.cell for e in cells.removed}
    return cell in failed or (cells.kernel_died_at is not None and cells.kernel_died_at <= cell)


def classify(spec: MutantSpec, report: Report, solution: Report, assignment: Assignment,
             unstable: list[str] = ()) -> tuple[MutantResult, list[Cascade]]:
    """One graded mutant: its fate, and the other items it made fail (pure: reports in, verdict out)."""
    fields = spec.model_dump()
    if report.status != "graded":
        return MutantResult(**fields, fate=Fate.BROKEN, feedback=report.reason or ""), []
    mine = {i.id: i for i in report.items}
    theirs = {i.id: i for i in solution.items}
    item = mine[spec.item]
    changed = [i for i in theirs if i in mine and i not in unstable
               and (mine[i].observed != theirs[i].observed or mine[i].status != theirs[i].status)]
    if _stopped_at(report, spec.cell) and item.status in ("missing", "error"):
        fate = Fate.BROKEN
    elif item.status == "error" and not item.checks:
        fate = Fate.BROKEN  # no check judged it (its check ran out of time, the answer could not be read): no verdict of the rubric
    elif item.status == "pass":
        fate = Fate.SURVIVED if changed else Fate.EQUIVALENT
    else:
        fate = Fate.KILLED
    depends = {i.id: set(i.depends_on) for i in assignment.items}
    cascades = [Cascade(mutant=spec.id, item=spec.item, failed=other, status=mine[other].status, feedback=mine[other].feedback,
                        expected=spec.item in depends.get(other, set()))
                for other in theirs if other != spec.item and other in mine
                and theirs[other].status == "pass" and mine[other].status not in ("pass", "manual")]
    return MutantResult(**fields, fate=fate, status=item.status, feedback=item.feedback, changed=changed), cascades


def hint_store(assignment: Assignment, results: list[MutantResult], reports: dict[str, Report], solution: Report) -> HintStore:
    """The killed mutants' observation digests, merged into what earlier runs of this version found."""
    key = inputs_key(solution.inputs)
    store = known_store(assignment, key) or HintStore(
        assignment=assignment.id, version=assignment.version, inputs=key, grader_version=solution.grader_version)
    store = store.model_copy(update={"grading_key": grading_key(assignment), "grader_version": solution.grader_version})
    right = {i.id: i.observed for i in solution.items}
    for result in sorted(results, key=lambda r: not r.declared):
        if result.fate is not Fate.KILLED:
            continue
        digest = reports[result.id].item(result.item).observed
        known = store.items.setdefault(result.item, [])
        if digest is None or digest == right.get(result.item):
            continue
        same = next((k for k in known if k.digest == digest), None)
        if same is None:
            known.append(KnownMutant(id=result.id, description=result.description, digest=digest))
        elif result.declared or same.id == result.id:
            # the rubric's words win over an operator's; the same mutant takes the operators' current words
            same.description, same.id = result.description, result.id
    return store


def run_mutants(assignment: Assignment, *, max_per_item: int = 8, seed: int = 0, workers: int = 2, out: Path | None = None,
                only: list[str] | None = None, progress: Progress | None = None) -> MutationReport:
    """Grade the solution and a sample of its mutants; classify every mutant and tally per item."""
    started = time.monotonic()
    result = MutationReport(assignment=assignment.id, version=assignment.version, seed=seed, max_per_item=max_per_item)
    solution_file = assignment.directory / assignment.self_test.solution
    if not solution_file.is_file():
        result.problems.append(f"no solution notebook {solution_file}")
        return result
    nb = nbformat.read(solution_file, as_version=4)
    try:
        chosen = plan(nb, assignment, max_per_item=max_per_item, seed=seed, only=only)
    except PlanError as exc:
        result.problems.append(str(exc))
        return result
    planned = chosen.mutants
    result.free = chosen.free
    base = work_dir(assignment, out)
    clean = clean_notebook(nb)
    runs = [base / "notebooks" / f"{name}.ipynb" for name in SOLUTION_RUNS]
    for path in runs:
        write_notebook(clean, path)
    graded = run_batch(runs, assignment, base / "reports", workers=min(workers, 2), progress=progress)
    solutions = [graded[path.name] for path in runs]
    solution = solutions[0]
    wrong = [i for i in solution.items if i.status not in ("pass", "manual")] if solution.status == "graded" else []
    if solution.status != "graded" or wrong:
        why = solution.reason or "; ".join(f"{i.id} is {i.status}" for i in wrong)
        result.problems.append(f"the solution does not earn full marks ({why}): run `grade validate {assignment.id}` first")
        return result
    result.unstable = unstable_items(solutions)
    specs = [spec for item_id in planned for spec in planned[item_id]]
    paths = {}
    for spec in specs:
        paths[spec.id] = base / "notebooks" / f"m-{spec.id}.ipynb"
        write_notebook(mutant_notebook(nb, spec), paths[spec.id])
    reports_by_file = run_batch(list(paths.values()), assignment, base / "reports", workers=workers,
                                limits=mutant_limits(assignment, solutions), progress=progress) if specs else {}
    reports = {spec.id: reports_by_file[paths[spec.id].name] for spec in specs}
    for item_id in planned:
        result.items[item_id] = ItemTally(generated=chosen.generated[item_id], free=chosen.free_count(item_id))
    for spec in specs:
        judged, cascades = classify(spec, reports[spec.id], solution, assignment, result.unstable)
        result.mutants.append(judged)
        result.cascades += cascades
        tally = result.items[spec.item]
        setattr(tally, judged.fate.value, getattr(tally, judged.fate.value) + 1)
    store = hint_store(assignment, result.mutants, reports, solution)
    write_store(store)
    try:
        result.shipped = str(write_shipped(assignment, store))
    except OSError as exc:  # an installed, read-only assignment folder: the cache's store still serves this machine
        result.notes.append(f"the hints were not shipped with the assignment ({exc.strerror}: {exc.filename}); the cache's store has them")
    result.seconds = round(time.monotonic() - started, 1)
    return result
