"""Instructors' integrations on the command line: `grade gradebook`, `grade diff`, `grade autograder`.

Registered on the tools app of `grader.cli` (one import there), so the
grading command's own options stay as they are.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from .atomic import write_atomic
from .cli_common import fail
from .export.gradescope import SubmissionMetadata
from .gradebook import write_gradebook
from .late import LateError, LatePolicy, apply_late, parse_time, read_submitted_at
from .lms import CANVAS_NAME, Key, LmsError, LmsFormat, fill, match_all, read_map, read_roster
from .regrade import diff_reports, previous_reports, read_reports
from .rubric import RubricError, UnknownAssignment
from .loader import load_assignment

COMMANDS = ("gradebook", "diff", "autograder")


def _policy(rubric_policy: LatePolicy | None, due: str | None, grace: float | None, per_day: float | None,
            cap: float | None) -> LatePolicy | None:
    """The rubric's late policy with the command line's values over it (None: no policy at all)."""
    given = {k: v for k, v in {"grace_minutes": grace, "penalty_per_day": per_day, "cap_percent": cap}.items() if v is not None}
    if due is not None:
        given["due"] = parse_time(due)
    if rubric_policy is None and not given:
        return None
    base = rubric_policy.model_dump() if rubric_policy is not None else {}
    return LatePolicy.model_validate({**base, **given})


def gradebook_command(
    results: Path = typer.Argument(..., help="A batch's results folder (one JSON report per submission)."),
    roster: Path = typer.Option(..., "--roster", help="The LMS's gradebook export (CSV) to fill in."),
    key: Key = typer.Option(Key.email, "--key", help="The roster column that identifies students in --map and Gradescope metadata."),
    lms: LmsFormat = typer.Option(..., "--format", help="The LMS: canvas or moodle."),
    mapping: Optional[Path] = typer.Option(None, "--map", help="CSV file,key: which submission is whose."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where to write the import file (default RESULTS/<format>-import.csv)."),
    column: Optional[str] = typer.Option(None, "--column", help="The roster column to fill (default: the assignment's, or a new one)."),
    items: bool = typer.Option(False, "--items", help="Also one column per item."),
    due: Optional[str] = typer.Option(None, "--due", help="Late work: the due date (ISO 8601), over the rubric's."),
    grace: Optional[float] = typer.Option(None, "--grace", help="Late work: minutes of grace after the due date."),
    per_day: Optional[float] = typer.Option(None, "--penalty-per-day", help="Late work: percent off per started day late."),
    cap: Optional[float] = typer.Option(None, "--late-cap", help="Late work: the largest penalty, in percent."),
    submitted_at: Optional[str] = typer.Option(None, "--submitted-at", help="CSV file,submitted_at; or `mtime` to use the files' modification times (said so in each reason)."),
) -> None:
    """Fill the LMS's own gradebook export with the batch's scores, for re-import; list what matches no one."""
    reports = read_reports(results)
    if not results.is_dir() or not reports:
        fail(f"{results}: no reports here (grade a batch with --out {results} first)")
        raise typer.Exit(2)
    try:
        ids = {r.assignment.id for r in reports.values() if r.assignment.id}
        if len(ids) > 1:
            raise LmsError(f"{results}: holds reports of several assignments ({', '.join(sorted(ids))})")
        assignment_id = next(iter(ids), None)
        try:  # the rubric gives the late policy; the reports alone give everything else
            assignment = load_assignment(assignment_id) if assignment_id else None
        except (UnknownAssignment, RubricError):
            assignment = None
        table = read_roster(roster, lms, key)
        mapped = read_map(mapping) if mapping else {}
        policy = _policy(assignment.late if assignment else None, due, grace, per_day, cap)
        times = read_submitted_at(Path(submitted_at)) if submitted_at and submitted_at != "mtime" else {}
    except (LmsError, LateError, UnknownAssignment, RubricError, ValueError) as exc:
        fail(str(exc))
        raise typer.Exit(2)
    if policy is not None and policy.due is not None:
        for name, report in reports.items():
            file = Path(report.submission.path)
            marked = bool(CANVAS_NAME.match(file.name) and CANVAS_NAME.match(file.name)["late"])
            if file.name in times:
                when, source = times[file.name], "csv"
            elif report.late is not None and report.late.source == "gradescope" and report.late.submitted_at:
                when, source = parse_time(report.late.submitted_at), "gradescope"
            elif (meta := SubmissionMetadata.beside(file)) is not None and meta.created_at:
                when, source = parse_time(meta.created_at), "gradescope"
            elif submitted_at == "mtime" and file.exists():
                when, source = datetime.fromtimestamp(file.stat().st_mtime, tz=timezone.utc), "mtime"
            else:
                when, source = None, "canvas"
            reports[name] = apply_late(report, policy, when, source, marked_late=marked)
            write_atomic(results / name, reports[name].to_json() + "\n")
        by_file = {Path(r.submission.path).name or name: r for name, r in reports.items()}  # grades.csv's rows, as the batch names them
        write_gradebook(by_file, results / "grades.csv", [i.id for i in assignment.items] if assignment else [])
    matching = match_all(table, reports, mapped)
    graded = [r for r in reports.values() if r.status == "graded"]
    title = next((r.assignment.title for r in graded if r.assignment.title), assignment_id or "assignment")
    maximum = max((r.max_score for r in graded), default=0.0)
    points = {}
    for report in graded:
        points.update({i.id: i.max_score for i in report.items if i.id not in points})
    text, target = fill(table, matching, title=title, assignment_id=assignment_id or "", max_score=maximum,
                        column=column, items=list(points.items()) if items else [])
    destination = out or results / f"{lms.value}-import.csv"
    write_atomic(destination, text)
    console = Console()
    console.print(f"[bold]{len(matching.matched)} of {len(reports)} submissions matched[/] to {len(table.students)} students; "
                  f"column {escape(target)!r} in {escape(str(destination))}", soft_wrap=True)
    for name, why in matching.unmatched:
        console.print(f"[yellow]unmatched[/] {escape(name)}: {escape(why)}", soft_wrap=True)
    for name, why in matching.ambiguous:
        console.print(f"[red]ambiguous[/] {escape(name)}: {escape(why)} (left out)", soft_wrap=True)
    failed = [n for _, (n, r, _) in matching.matched.items() if r.status == "error"]
    for name in failed:
        console.print(f"[red]not graded[/] {escape(name)}: the grader failed; its cell was left as exported", soft_wrap=True)
    late = [(n, r.late) for _, (n, r, _) in matching.matched.items() if r.late is not None]
    for name, verdict in late:
        console.print(f"late {escape(name)}: {escape(verdict.reason)}", soft_wrap=True)
    without = len(table.students) - len(matching.matched)
    if without:
        console.print(f"{without} student(s) without a matched submission: their cells are left as exported")


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def diff_command(
    old: Path = typer.Argument(..., help="The earlier results folder or report; alone: a folder whose name.prev.json reports are compared with name.json."),
    new: Optional[Path] = typer.Argument(None, help="The later results folder or report."),
) -> None:
    """What a regrade changed: per submission the total, per item status, points and the checks that changed."""
    for path in (old, new):
        if path is not None and not path.exists():
            fail(f"{path}: no such file or directory")
            raise typer.Exit(2)
    if new is None:
        if not old.is_dir():
            fail(f"{old}: give a results folder (its name.prev.json reports are the earlier grading), or two")
            raise typer.Exit(2)
        before, after = previous_reports(old)
    else:
        before, after = read_reports(old), read_reports(new)
        if old.is_file() and new.is_file():  # two reports of one submission
            before = {new.name: r for r in before.values()}
    if not before and not after:
        fail("no reports to compare")
        raise typer.Exit(2)
    changes = diff_reports(before, after)
    console = Console()
    for change in changes:  # one line per submission, one per changed item: readable in a log, easy to grep
        parts = [f"{_fmt(change.old_score)} → {_fmt(change.new_score)} ({change.delta:+g})"]
        if change.old_version and change.new_version and change.old_version != change.new_version:
            parts.append(f"rubric v{change.old_version} → v{change.new_version}")
        if change.note:
            parts.append(change.note)
        console.print(f"[bold]{escape(change.name)}[/]: {escape(', '.join(parts))}", soft_wrap=True)
        for item in change.items:
            checks = f"; {'; '.join(item.checks)}" if item.checks else ""
            console.print(escape(f"  {item.item}: {item.old_status or '—'} → {item.new_status or '—'}, "
                                 f"{item.old_score:g} → {item.new_score:g}{checks}"), soft_wrap=True)
    total_old = sum(r.final_score() for r in before.values())
    total_new = sum(r.final_score() for r in after.values())
    console.print(f"{len(changes)} of {len(set(before) | set(after))} submissions changed; total {total_old:g} → {total_new:g} "
                  f"({total_new - total_old:+g})")


def autograder_command(
    root: Path = typer.Option(Path("/autograder"), "--root", envvar="AUTOGRADER_ROOT", help="Gradescope's /autograder folder."),
    prepare: bool = typer.Option(False, "--prepare", help="setup.sh: compute the reference's answers into the cache, grade nothing."),
) -> None:
    """Gradescope: grade root/submission within the container's limits and write root/results/results.json."""
    from . import autograder

    if prepare:
        raise typer.Exit(autograder.prepare(root))
    autograder.run(root)


def register(tools: typer.Typer) -> None:
    """Add these commands to `grade`'s tools (grader/cli.py calls this when a tool is run)."""
    tools.command("gradebook")(gradebook_command)
    tools.command("diff")(diff_command)
    tools.command("autograder")(autograder_command)
