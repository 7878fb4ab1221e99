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
import time
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import __version__, lifetime
from .expected import reference_source
from .atomic import write_atomic
from .grade import grade_notebook, kernel_spec, reference_answers, run_limits
from .secret import for_probes
from .kernel import pool as kernel_pool
from .kernel.session import KernelSpec
from .notebook import NotebookRejected, load, named_modules
from .regrade import keep_previous
from .report import Report, SubmissionRef
from .rubric import Assignment
from .gradebook import Summary, summarise, write_gradebook
from .similarity import Behaviour, CodeUnit, SimilarPair, behaviour_pairs, similar_pairs, write_csv
from .submissions import Shard, collect, report_names, submission_keys
from .workers import Workers


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
                  ahead: bool | int | None = False) -> dict:
    """Grade one submission and write its report; whatever happens, a report is written.

    With `warm`, the kernel comes from this process's pool (perhaps started while
    the previous submission was graded); `ahead` is how many more submissions this
    worker may get, for which kernels start now (None: as many as the local batch
    has left, counted with the other workers, `grader.kernel.ahead`).
    """
    path = Path(submission)
    if warm and ahead is None:
        ahead = kernel_pool.shared().begin() or 0
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


class MissingReports(Exception):
    """A merge found submissions without a current report."""


def batch_preload(submissions: list[Path], assignment: Assignment) -> list[str]:
    """The rubric's `preload` modules that some submission of the batch names.

    Kernels started ahead of use import these (a class that never imports
    TensorFlow does not wait 3 s per kernel for it); the seeding makes the
    reports the same either way.
    """
    named: set[str] = set()
    for path in submissions:
        try:
            named.update(named_modules(load(path).nb, assignment.preload))
        except NotebookRejected:
            continue
        if len(named) == len(assignment.preload):
            break
    return [module for module in assignment.preload if module in named]


def _with_warmth(jobs: list[tuple], workers: int, warm: bool) -> list[tuple]:
    """Each job of a Dask batch with (warm, ahead): ahead is how many more jobs its worker may get, counting by turns
    (no kernel starts for none). A local batch's workers count what is left together instead (ahead None)."""
    return [(*job, warm, (len(jobs) - 1 - i) // workers if warm else 0) for i, job in enumerate(jobs)]


def worker_spec(assignment: Assignment, limits: dict) -> KernelSpec:
    """The kernels' spec of a batch's submissions, as `grade_submission` makes it from the jobs' `limits`
    (every submission's directory is among their `hidden`, so all have one spec)."""
    return kernel_spec(assignment, run_limits(assignment, limits.get("cell_timeout"), limits.get("notebook_timeout"),
                                              limits.get("memory_mb")),
                       [Path(p) for p in limits.get("hidden", [])], limits.get("preload", []))


def _local(jobs: list[tuple], workers: int, warm: bool, done: Callable[[tuple, dict], None],
           spec: KernelSpec | None = None, started: Workers | None = None, before_jobs: Callable[[], object] = lambda: None) -> None:
    """On a local process pool: `started` (workers the command started before preparing, `grader.workers`), or
    `workers` new ones. With `warm`, each worker starts a kernel of `spec` as soon as it can: before `before_jobs`
    (the reference's answers, read or computed) runs here, and the jobs are handed out after it."""
    crew = started or Workers(min(workers, len(jobs)))
    crew.start_kernels(spec if warm else None, len(jobs))
    try:
        before_jobs()
        # each worker learns how many are left as it begins one (`grader.kernel.ahead`)
        futures = {crew.pool.submit(grade_to_file, *job, warm, None if warm else 0): job for job in jobs}
        for future in as_completed(futures):
            done(futures[future], future.result())
    except BaseException:
        crew.stop()  # stopped (SIGTERM): each worker kills its kernels; SIGKILL what is left after the grace period
        raise
    # done: what is left is kernels started ahead for submissions that went to the other worker. Workers the
    # caller started exit while it writes the gradebook (it stops them, waiting, when it is done); ours, now
    if started is not None:
        crew.let_go()
    else:
        crew.stop()


def _dask(jobs: list[tuple], scheduler, warm: bool, done: Callable[[tuple, dict], None]) -> None:
    """On a Dask cluster: `scheduler` is an address or a cluster object (`grader.clusters`)."""
    from distributed import Client, as_completed as dask_completed

    with Client(scheduler) as client:
        slots = sum(client.nthreads().values()) or 1
        futures = {client.submit(grade_to_file, *job, pure=False, key=f"grade-{Path(job[2]).stem}-{time.time_ns()}"): job
                   for job in _with_warmth(jobs, slots, warm)}
        try:
            for future in dask_completed(futures):
                done(futures[future], future.result())
        except BaseException:
            client.cancel(list(futures))  # tasks not started never start; running ones finish and write their reports
            raise
        finally:
            client.run(kernel_pool.close_shared)  # Dask workers outlive the batch: no kernel waits on them


def run_batch(paths: list[Path], assignment: Assignment, out: Path, *, workers: int = 2, executor: str = "local",
              scheduler=None, limits: dict | None = None, progress: Progress | None = None,
              warm: bool = True, shard: Shard | None = None, merge: bool = False,
              started: Workers | None = None) -> dict[str, Report]:
    """Grade every submission (of the shard) not already graded; return every report of the batch, keyed by file name
    (`folder/file` for a second file of the same name: `submissions.submission_keys`).

    With `merge`, grade nothing: return the reports of all submissions, or raise
    `MissingReports` naming those without a current one. SIGTERM or SIGINT stop
    the batch (`lifetime.BatchStopped`, saying what is left); `lifetime.OutLocked`
    when another batch is writing to `out`. `started`: local workers already
    up (`grader.workers`), which the batch uses and stops.
    """
    progress = progress or Progress()
    out.mkdir(parents=True, exist_ok=True)
    submissions = collect(paths)
    names, keys = report_names(submissions), submission_keys(submissions)
    mine = shard.select(submissions, names) if shard else submissions
    with lifetime.OutLock(out, shared=shard is not None, part=str(shard) if shard else None):
        current = {path: current_report(out / names[path], path, assignment) for path in mine}
        if merge:
            missing = [path.name for path in mine if current[path] is None]
            if missing:
                shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
                raise MissingReports(f"{out}: {len(missing)} of {len(mine)} submissions have no current report ({shown}); "
                                     f"grade them (their --shard) first")
            progress.started(0, len(mine))
            return {keys[path]: current[path] for path in mine}
        # the batch's output and every submission's directory are hidden from each kernel
        job_limits = {**(limits or {}), "hidden": [str(out.resolve()), *{str(p.resolve().parent) for p in submissions}]}
        todo = [path for path in mine if current[path] is None]
        for path in todo:
            keep_previous(out / names[path])  # a regrade keeps the report it replaces: name.prev.json (`grade diff OUT`)
        if warm:
            job_limits["preload"] = batch_preload(todo, assignment)
        jobs = [(str(path), assignment.id, str(out / names[path]), job_limits) for path in todo]
        progress.started(len(jobs), len(mine) - len(jobs))
        if jobs:
            try:
                with lifetime.stop_on_signals():
                    answers = reference_answers(for_probes(assignment)[0]).answers  # once, before the workers need them
                    finished = lambda job, outcome: progress.finished(Path(job[0]).name, outcome)  # noqa: E731
                    if executor == "dask":
                        answers()
                        _dask(jobs, scheduler, warm, finished)
                    else:
                        _local(jobs, workers, warm, finished, worker_spec(assignment, job_limits), started, before_jobs=answers)
            except lifetime.BatchStopped as stopped:
                stopped.left = [path.name for path in todo if current_report(out / names[path], path, assignment) is None]
                raise
        return {keys[path]: current[path] or Report.model_validate_json((out / names[path]).read_text(encoding="utf-8"))
                for path in mine}


def code_units(reports: dict[str, Report]) -> list[CodeUnit]:
    """The code each submission wrote for each item: the source of the cell where it was found, as its report carries it."""
    return [CodeUnit(name, item.id, (item.found.cell,), item.found.source)
            for name, report in reports.items() if report.status == "graded"
            for item in report.items if item.found is not None and item.found.cell is not None and item.found.source is not None]


def similarity(reports: dict[str, Report], assignment: Assignment, threshold: float = 0.8) -> list[SimilarPair]:
    """Pairs of submissions whose code for an item is alike beyond what the reference explains, then those that fail it alike."""
    common = sorted({reference_source(item.reference, item._folder) for item in assignment.items if getattr(item, "reference", None)})
    common += [(assignment.directory / name).read_text(encoding="utf-8") for name in assignment.common_code]
    graded = sum(report.status == "graded" for report in reports.values())
    return [*similar_pairs(code_units(reports), threshold=threshold, common=common),
            *behaviour_pairs(failures(reports), submissions=graded)]


def failures(reports: dict[str, Report]) -> list[Behaviour]:
    """Each failing item's observed behaviour (its digest, from the report), for behavioural similarity."""
    return [Behaviour(name, item.id, item.observed, (item.found.cell,) if item.found is not None and item.found.cell is not None else (),
                      item.like_mutant is not None)
            for name, report in reports.items() if report.status == "graded"
            for item in report.items if item.status in ("fail", "error") and item.observed]


@dataclass(frozen=True)
class Finished:
    """What a whole batch adds to its reports: the summary and the similar pairs (their files are in OUT)."""

    summary: Summary
    pairs: list[SimilarPair]


def finish_batch(reports: dict[str, Report], paths: list[Path], assignment: Assignment, out: Path, overrides: list = (),
                 overrides_path: Path | None = None, html_dir: Path | None = None) -> Finished:
    """After every report is current: a person's scores over the grader's, feedback pages, grades.csv, similarity.csv.

    Works on the reports in hand (the batch's), never on the notebooks or on
    reports read back from disk; a report a person's score changes is written
    again, with that score.
    """
    submissions = collect(paths)
    names, keys = report_names(submissions), submission_keys(submissions)
    by_file = {keys[path]: name for path, name in names.items()}
    if overrides:
        from .overrides import apply_overrides

        graded = reports
        reports = {name: apply_overrides(report.model_copy(deep=True), overrides, overrides_path) for name, report in graded.items()}
        for file_name in [name for name in reports if reports[name] != graded[name]]:  # written again only where a person changed it
            write_atomic(out / by_file[file_name], reports[file_name].to_json() + "\n")
    if html_dir is not None:
        from .render import render_html

        html_dir.mkdir(parents=True, exist_ok=True)
        for file_name, report in reports.items():
            write_atomic(html_dir / f"{Path(by_file[file_name]).stem}.html", render_html(report))
    ids = write_gradebook(reports, out / "grades.csv", [i.id for i in assignment.items])
    pairs = similarity(reports, assignment)
    write_csv(pairs, out / "similarity.csv")
    return Finished(summarise(reports, ids), pairs)
