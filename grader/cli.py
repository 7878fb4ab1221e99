"""The `grade` command: parse, grade, print, exit. Thin on purpose.

Exit codes: 0 graded (whatever the score), 2 not gradable (bad file,
unknown or ambiguous assignment), 1 the grader itself failed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .batch import Progress as BatchProgress
from .batch import collect, report_names, run_batch, similarity
from .grade import AmbiguousAssignment, grade_notebook
from .gradebook import summarise, write_atomic, write_gradebook
from .similarity import write_csv
from .overrides import OverridesError, apply_overrides, read_overrides
from .report import Report, report_schema
from .rubric import Assignment, RubricError, UnknownAssignment, load_assignment

app = typer.Typer(add_completion=False, help="Grade a Jupyter notebook against an assignment's rubric.")

_STYLE = {"pass": "green", "fail": "red", "error": "red", "missing": "yellow", "manual": "cyan"}


class UsageError(Exception):
    """The command line asks for something that cannot be done."""


def _fail(sentence: str) -> None:
    """One plain line on stderr: no markup, no wrapping, no traceback."""
    typer.echo(f"grade: {sentence}", err=True)


def _print_report(report: Report, console: Console) -> None:
    if report.status != "graded":
        console.print(f"[red]{report.status}[/]: {escape(report.reason or '')}")
        return
    how = " (detected: pass --assignment to choose)" if report.assignment.detected else ""
    console.print(f"[bold]{escape(report.submission.path)}[/] — {report.assignment.id}{how}: "
                  f"[bold]{report.score:g} / {report.max_score:g}[/]")
    table = Table(show_header=True, header_style="bold", expand=False)
    table.add_column("item")
    table.add_column("status")
    table.add_column("points", justify="right")
    table.add_column("feedback", overflow="fold")
    order = {"fail": 0, "error": 1, "missing": 2, "manual": 3, "pass": 4}
    for item in sorted(report.items, key=lambda i: order[i.status]):
        feedback = "" if item.status == "pass" and item.set_by == "grader" else item.feedback
        who = " (person)" if item.set_by == "person" else ""
        table.add_row(item.id, f"[{_STYLE[item.status]}]{item.status}[/]{who}", f"{item.score:g}/{item.max_score:g}", escape(feedback))
    console.print(table)
    errors = report.cells.errors
    if errors:
        shown = "; ".join(f"cell {e.cell}: {e.ename}" for e in errors[:5])
        console.print(escape(f"{len(errors)} cell(s) raised: {shown}"))
    if report.cells.timed_out:
        console.print(f"cells over their time limit: {report.cells.timed_out}")
    console.print(f"[dim]{report.timing.total_s:.1f} s[/]")


@app.command()
def grade(
    notebooks: Optional[list[Path]] = typer.Argument(None, help="Notebook(s) to grade, or directories of submissions."),
    assignment: Optional[str] = typer.Option(None, "--assignment", "-a", help="Assignment id; detected when omitted (one notebook)."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write the JSON report here (one notebook)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Batch: write one report per submission, grades.csv and similarity.csv here."),
    workers: int = typer.Option(os.cpu_count() or 1, "--workers", min=1, help="Batch: submissions graded at once."),
    executor: str = typer.Option("local", "--executor", help="Batch: `local` (a process pool) or `dask`."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Batch with --executor dask: the scheduler's address."),
    cell_timeout: Optional[float] = typer.Option(None, help="Seconds a cell may run (default: the rubric's)."),
    timeout: Optional[float] = typer.Option(None, help="Seconds the whole notebook may run (default: the rubric's)."),
    overrides: Optional[Path] = typer.Option(None, "--overrides", help="CSV of scores a person gave (submission,item,score,comment)."),
    schema: bool = typer.Option(False, "--schema", help="Print the report's JSON Schema and exit."),
    rubric_schema: bool = typer.Option(False, "--rubric-schema", help="Print the rubric file's JSON Schema and exit."),
) -> None:
    """Grade a notebook and print a per-item summary, or grade a batch into --out."""
    if schema or rubric_schema:
        typer.echo(report_schema() if schema else Assignment.schema_json_text())
        raise typer.Exit(0)
    if not notebooks:
        _fail("give a notebook to grade (see grade --help)")
        raise typer.Exit(2)
    limits = {"cell_timeout": cell_timeout, "notebook_timeout": timeout}
    try:
        entries = read_overrides(overrides) if overrides is not None else []
        if out is not None or len(notebooks) > 1 or notebooks[0].is_dir():
            _batch(notebooks, assignment, out, workers, executor, scheduler, limits, entries, overrides)
            raise typer.Exit(0)
        report = grade_notebook(notebooks[0], assignment, **limits)
        if entries and report.status == "graded":
            report = apply_overrides(report, entries, overrides)
    except (UnknownAssignment, AmbiguousAssignment, RubricError, OverridesError, UsageError) as exc:
        _fail(str(exc))
        raise typer.Exit(2)
    if json_path is not None:
        json_path.write_text(report.to_json() + "\n", encoding="utf-8")
    if report.status == "rejected":
        _fail(report.reason)
        raise typer.Exit(2)
    _print_report(report, Console())
    raise typer.Exit(0 if report.status == "graded" else 1)


def _batch(paths, assignment_id, out, workers, executor, scheduler, limits, entries, overrides_path) -> None:
    if assignment_id is None or out is None:
        raise UsageError("a batch needs --assignment ID and --out DIR")
    if executor not in ("local", "dask") or (executor == "dask" and not scheduler):
        raise UsageError("--executor is `local`, or `dask` with --scheduler ADDRESS")
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"{missing[0]}: no such file or directory")
    assignment_rubric = load_assignment(assignment_id)
    console = Console(stderr=True)
    live = console.is_terminal
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console, disable=not live)
    task = bar.add_task("grading", total=0)
    done = [0]

    def started(todo: int, skipped: int) -> None:
        bar.update(task, total=todo)
        message = f"{todo} to grade, {skipped} already graded (report current)"
        bar.console.print(message) if live else typer.echo(message, err=True)

    def finished(name: str, outcome: dict) -> None:
        done[0] += 1
        bar.advance(task)
        if not live:
            total = bar.tasks[0].total
            typer.echo(f"[{done[0]}/{total:g}] {name}: {outcome['status']} {outcome['score']:g}/{outcome['max_score']:g} "
                       f"({outcome['seconds']:.1f} s)", err=True)

    with bar:
        reports = run_batch(paths, assignment_rubric, out, workers=workers, executor=executor, scheduler=scheduler,
                            limits=limits, progress=BatchProgress(started, finished))
    if entries:
        names = report_names(collect(paths))
        for path, name in names.items():
            report = apply_overrides(reports[path.name], entries, overrides_path)
            write_atomic(out / name, report.to_json() + "\n")
    ids = write_gradebook(reports, out / "grades.csv", [i.id for i in assignment_rubric.items])
    pairs = similarity(reports, assignment_rubric)
    write_csv(pairs, out / "similarity.csv")
    _print_summary(summarise(reports, ids), pairs, out, Console())


def _print_summary(summary, pairs, out: Path, console: Console) -> None:
    console.print(f"[bold]{summary.graded} graded, {summary.rejected} refused, {summary.failed} failed[/] — reports in {escape(str(out))}")
    table = Table("item", "pass rate", show_header=True, header_style="bold")
    for item, rate in summary.pass_rates.items():
        table.add_row(item, f"{rate:.0%}")
    console.print(table)
    if summary.slowest:
        console.print("slowest: " + ", ".join(f"{escape(n)} {s:.1f} s" for n, s in summary.slowest))
    if pairs:
        console.print(f"[yellow]{len(pairs)} similar pair(s)[/] (similarity.csv):")
        for pair in pairs[:10]:
            console.print(escape(f"  {pair.item}: {pair.a} ~ {pair.b} ({pair.score:.2f}, cells {list(pair.cells_a)} / {list(pair.cells_b)})"))
    else:
        console.print("no similar pairs beyond the shared textbook and reference code")


def main() -> None:
    app(prog_name="grade")


if __name__ == "__main__":
    sys.exit(main())
