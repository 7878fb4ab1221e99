"""`grade validate --mutants [ID…]`: how strong each rubric is, measured by the solution's mutants.

The table on the terminal (killed, survived, equivalent, broken, free, kill
rate per item; the rubric's free declarations with their reasons; cascades), `--json PATH` (the `MutationReport`; several assignments
write one file each, `PATH` with the id before the suffix), `--html PATH`
(the surviving mutants as diffs). Exit 0 when every item kills at least 90 %
of its mutants that a test could tell apart and no mutant makes an item fail
that does not depend on the mutated one; 1 otherwise; 2 for an unknown
assignment.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .atomic import write_atomic

GOAL = 0.9  # the bar: every item kills at least 90 % of its non-equivalent mutants


def _per_assignment(path: Path, assignment_id: str, many: bool) -> Path:
    return path.with_name(f"{path.stem}-{assignment_id}{path.suffix}") if many else path


def strong_enough(report) -> bool:
    return (not report.problems and all(t.score is None or t.score >= GOAL for t in report.items.values())
            and not any(not c.expected for c in report.cascades))


def _code(text: str) -> str:
    """A `find` text on one line: its first line, `…` when there are more."""
    first = text.strip().split("\n")[0]
    return f"`{first}{' …' if first != text.strip() else ''}`"


def print_table(report, console: Console) -> None:
    table = Table("item", "killed", "survived", "equivalent", "broken", "free", "kill rate",
                  title=f"{report.assignment} (v{report.version})", header_style="bold")
    for item, tally in report.items.items():
        rate = "–" if tally.score is None else f"{tally.score:.0%}"
        style = "red" if tally.score is not None and tally.score < GOAL else ""
        table.add_row(item, str(tally.killed), str(tally.survived), str(tally.equivalent), str(tally.broken), str(tally.free),
                      f"[{style}]{rate}[/]" if style else rate)
    console.print(table)
    for problem in report.problems:
        console.print(f"[red]{escape(problem)}[/]", soft_wrap=True)
    for free in report.free:
        only = f" ({', '.join(free.operators)})" if free.operators else ""
        console.print(escape(f"  free: {free.item}, {len(free.mutants)} mutants in {', '.join(map(_code, free.find))}{only}, "
                             f"not graded: {free.why}"), soft_wrap=True)
    for mutant in report.survivors():
        console.print(escape(f"  survived: {mutant.item}, cell {mutant.cell} line {mutant.line}: {mutant.description}"), soft_wrap=True)
    for cascade in report.cascades:
        why = "expected (depends_on)" if cascade.expected else "[red]a cascade[/]"
        console.print(f"  {why}: a mutant of {escape(cascade.item)} makes {escape(cascade.failed)} {escape(cascade.status)}", soft_wrap=True)
    if report.unstable:
        console.print(escape(f"  unstable between two runs of the solution (left out of equivalence): {', '.join(report.unstable)}"))
    if report.shipped:
        known = sum(1 for m in report.mutants if m.fate.value == "killed")
        console.print(escape(f"  hints: the killed mutants' observations ({known} this run) are shipped in {report.shipped}"), soft_wrap=True)
    for note in report.notes:
        console.print(escape(f"  {note}"), soft_wrap=True)
    console.print(f"  {len(report.mutants)} mutants in {report.seconds:.0f} s")


def mutants_command(assignments: list[str] | None, *, workers: int, out: Path | None, max_per_item: int, seed: int,
                    json_path: Path | None, html_path: Path | None, items: list[str] | None) -> None:
    """Run the mutants of each assignment; print, write, and exit as the module says."""
    from .mutants.campaign import run_mutants
    from .mutants.page import render_page
    from .batch import Progress as BatchProgress
    from .loader import assignment_ids, load_assignment
    from .rubric import RubricError, UnknownAssignment

    try:
        chosen = [load_assignment(a) for a in (assignments or assignment_ids())]
    except (UnknownAssignment, RubricError) as exc:
        typer.echo(f"grade: {exc}", err=True)
        raise typer.Exit(2)
    console, err = Console(), Console(stderr=True)
    failed = 0
    many = len(chosen) > 1
    for assignment in chosen:
        bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                       TextColumn("eta"), TimeRemainingColumn(), console=err, disable=not err.is_terminal)
        task = bar.add_task(f"{assignment.id} mutants", total=0)

        def started(todo: int, skipped: int, bar=bar, task=task) -> None:
            bar.update(task, total=todo, completed=0)
            if not err.is_terminal:
                typer.echo(f"{assignment.id}: {todo} notebooks to grade, {skipped} already graded", err=True)

        def finished(name: str, outcome: dict, bar=bar, task=task) -> None:
            bar.advance(task)
            if not err.is_terminal:
                typer.echo(f"  {name}: {outcome['status']} {outcome['score']:g}/{outcome['max_score']:g} ({outcome['seconds']:.1f} s)", err=True)

        with bar:
            report = run_mutants(assignment, max_per_item=max_per_item, seed=seed, workers=workers,
                                 out=out / assignment.id if out else None, only=items, progress=BatchProgress(started, finished))
        print_table(report, console)
        if json_path is not None:
            write_atomic(_per_assignment(json_path, assignment.id, many), report.model_dump_json(indent=2) + "\n")
        if html_path is not None:
            write_atomic(_per_assignment(html_path, assignment.id, many), render_page(report))
        failed += not strong_enough(report)
    raise typer.Exit(1 if failed else 0)
