"""Grading a whole class: many submissions, every core busy, resumable, on one machine or Dask.

Each submission is graded by `grade_to_file` in a worker process (a local
process pool, or the workers of a Dask cluster) and its report is written
atomically as soon as it is done, so a batch killed halfway keeps every
finished report. Running the same command again skips the submissions whose
report is current (same file content, assignment version and grader
version). The reference answers are computed once, before any worker starts.

Each worker keeps the kernel for its next submission starting while it
grades the current one (`grader.kernel.pool`), except near the end of the
batch, when no next submission may come its way.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from . import __version__
from .expected import reference_source
from .atomic import write_atomic
from .grade import grade_notebook, reference_answers
from .secret import for_probes
from .kernel import pool as kernel_pool
from .notebook import NotebookRejected, load
from .report import Report, SubmissionRef
from .rubric import Assignment
from .similarity import CodeUnit, SimilarPair, similar_pairs


def collect(paths: Iterable[Path]) -> list[Path]:
    """The submissions: files as given, and every visible file inside a directory."""
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        else:
            found.append(path)
    return found


def report_names(submissions: list[Path]) -> dict[Path, str]:
    """A report file name per submission, named after it (`lab01.ipynb` → `lab01.json`)."""
    names, used = {}, set()
    for path in submissions:
        name = f"{path.stem}.json"
        if name in used:
            name = f"{path.parent.name}__{path.stem}.json"
        used.add(name)
        names[path] = name
    return names


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def current_report(report_file: Path, submission: Path, assignment: Assignment) -> Report | None:
    """The existing report if it still holds for this submission, assignment and grader."""
    try:
        report = Report.model_validate_json(report_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    same = (
        report.grader_version == __version__
        and report.submission.sha256 is not None
        and report.submission.sha256 == file_digest(submission)
        and (report.status == "rejected" or (report.assignment.id == assignment.id and report.assignment.version == assignment.version))
    )
    return report if same else None


def grade_to_file(submission: str, assignment_id: str, report_file: str, limits: dict, warm: bool = False,
                  ahead: bool = False) -> dict:
    """Grade one submission and write its report; whatever happens, a report is written.

    With `warm`, the kernel comes from this process's pool (perhaps started while
    the previous submission was graded); with `ahead`, the next one starts now.
    """
    path = Path(submission)
    try:
        report = grade_notebook(path, assignment_id, **limits, pool=kernel_pool.shared() if warm else None, ahead=ahead)
    except Exception as exc:  # the grader's own failure must not stop the batch
        report = Report(grader_version=__version__, status="error", reason=f"the grader failed: {type(exc).__name__}: {exc}",
                        submission=SubmissionRef(path=str(path), sha256=file_digest(path)))
    if report.submission.sha256 is None:
        report.submission.sha256 = file_digest(path)
    write_atomic(Path(report_file), report.to_json() + "\n")
    return {"status": report.status, "score": report.score, "max_score": report.max_score, "seconds": report.timing.total_s,
            "kernel_warm": report.timing.kernel_warm}


@dataclass
class Progress:
    """What a batch tells its caller as it goes (a progress bar or log lines)."""

    started: Callable[[int, int], None] = lambda todo, skipped: None
    finished: Callable[[str, dict], None] = lambda name, outcome: None


def _with_warmth(jobs: list[tuple], workers: int, warm: bool) -> list[tuple]:
    """Each job with (warm, ahead): start a next kernel only while more jobs than workers remain."""
    return [(*job, warm, warm and i < len(jobs) - workers) for i, job in enumerate(jobs)]


def _local(jobs: list[tuple], workers: int, warm: bool):
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(grade_to_file, *job): job for job in _with_warmth(jobs, workers, warm)}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _dask(jobs: list[tuple], scheduler: str, warm: bool):
    from distributed import Client, as_completed as dask_completed

    with Client(scheduler) as client:
        slots = sum(client.nthreads().values()) or 1
        futures = {client.submit(grade_to_file, *job, pure=False, key=f"grade-{Path(job[2]).stem}-{time.time_ns()}"): job
                   for job in _with_warmth(jobs, slots, warm)}
        try:
            for future in dask_completed(futures):
                yield futures[future], future.result()
        finally:
            client.run(kernel_pool.close_shared)  # Dask workers outlive the batch: no kernel waits on them


def run_batch(paths: list[Path], assignment: Assignment, out: Path, *, workers: int = 2, executor: str = "local",
              scheduler: str | None = None, limits: dict | None = None, progress: Progress | None = None,
              warm: bool = True) -> dict[str, Report]:
    """Grade every submission not already graded; return every report of the batch, keyed by file name."""
    progress = progress or Progress()
    out.mkdir(parents=True, exist_ok=True)
    submissions = collect(paths)
    names = report_names(submissions)
    current = {path: current_report(out / names[path], path, assignment) for path in submissions}
    # the batch's output and every submission's directory are hidden from each kernel
    job_limits = {**(limits or {}), "hidden": [str(out.resolve()), *{str(p.resolve().parent) for p in submissions}]}
    jobs = [(str(path), assignment.id, str(out / names[path]), job_limits) for path in submissions if current[path] is None]
    progress.started(len(jobs), len(submissions) - len(jobs))
    if jobs:
        reference_answers(for_probes(assignment)[0]).answers()  # once, before the workers need them
        outcomes = _dask(jobs, scheduler, warm) if executor == "dask" else _local(jobs, workers, warm)
        for job, outcome in outcomes:
            progress.finished(Path(job[0]).name, outcome)
    return {path.name: current[path] or Report.model_validate_json((out / names[path]).read_text(encoding="utf-8"))
            for path in submissions}


def code_units(reports: dict[str, Report]) -> list[CodeUnit]:
    """The code each submission wrote for each item: the cell where the item was found."""
    units = []
    for name, report in reports.items():
        if report.status != "graded":
            continue
        try:
            nb = load(Path(report.submission.path)).nb
        except NotebookRejected:
            continue
        for item in report.items:
            if item.found is not None and item.found.cell is not None and item.found.cell < len(nb.cells):
                units.append(CodeUnit(name, item.id, (item.found.cell,), nb.cells[item.found.cell].source))
    return units


def similarity(reports: dict[str, Report], assignment: Assignment, threshold: float = 0.8) -> list[SimilarPair]:
    """Pairs of submissions whose code for an item is alike beyond what the reference explains."""
    common = sorted({reference_source(item.reference) for item in assignment.items if item.reference})
    common += [(assignment.directory / name).read_text(encoding="utf-8") for name in assignment.common_code]
    return similar_pairs(code_units(reports), threshold=threshold, common=common)
