"""The `grade` command: parse, grade, print, exit. Thin on purpose.

Exit codes: 0 graded (whatever the score), 2 not gradable (bad file,
unknown or ambiguous assignment), 1 the grader itself failed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .grade import AmbiguousAssignment, grade_notebook
from .overrides import OverridesError, apply_overrides, read_overrides
from .report import Report, report_schema
from .rubric import Assignment, RubricError, UnknownAssignment

app = typer.Typer(add_completion=False, help="Grade a Jupyter notebook against an assignment's rubric.")

_STYLE = {"pass": "green", "fail": "red", "error": "red", "missing": "yellow", "manual": "cyan"}


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
    notebook: Optional[Path] = typer.Argument(None, help="The notebook to grade (.ipynb)."),
    assignment: Optional[str] = typer.Option(None, "--assignment", "-a", help="Assignment id; detected when omitted."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="Write the JSON report here."),
    cell_timeout: Optional[float] = typer.Option(None, help="Seconds a cell may run (default: the rubric's)."),
    timeout: Optional[float] = typer.Option(None, help="Seconds the whole notebook may run (default: the rubric's)."),
    overrides: Optional[Path] = typer.Option(None, "--overrides", help="CSV of scores a person gave (submission,item,score,comment)."),
    schema: bool = typer.Option(False, "--schema", help="Print the report's JSON Schema and exit."),
    rubric_schema: bool = typer.Option(False, "--rubric-schema", help="Print the rubric file's JSON Schema and exit."),
) -> None:
    """Grade NOTEBOOK and print a per-item summary."""
    if schema or rubric_schema:
        typer.echo(report_schema() if schema else Assignment.schema_json_text())
        raise typer.Exit(0)
    if notebook is None:
        _fail("give a notebook to grade (see grade --help)")
        raise typer.Exit(2)
    try:
        entries = read_overrides(overrides) if overrides is not None else []
        report = grade_notebook(notebook, assignment, cell_timeout=cell_timeout, notebook_timeout=timeout)
        if entries and report.status == "graded":
            report = apply_overrides(report, entries, overrides)
    except (UnknownAssignment, AmbiguousAssignment, RubricError, OverridesError) as exc:
        _fail(str(exc))
        raise typer.Exit(2)
    if json_path is not None:
        json_path.write_text(report.to_json() + "\n", encoding="utf-8")
    if report.status == "rejected":
        _fail(report.reason)
        raise typer.Exit(2)
    _print_report(report, Console())
    raise typer.Exit(0 if report.status == "graded" else 1)


def main() -> None:
    app(prog_name="grade")


if __name__ == "__main__":
    sys.exit(main())
