"""The `grade` command: parse, grade, print, exit. Thin on purpose.

Exit codes: 0 graded (whatever the score), 2 not gradable (bad file,
unknown or ambiguous assignment), 1 the grader itself failed.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from .cli_common import fail
from .export.gradescope_visibility import Visibility

# Everything else is imported where a command uses it: `grade NOTEBOOK` never pays for matplotlib
# (--html), the batch machinery, the gradebook or the validator (see benchmarks/bench_startup.py).
app = typer.Typer(add_completion=False, help="Grade a Jupyter notebook against an assignment's rubric.")

_STYLE = {"pass": "green", "fail": "red", "error": "red", "missing": "yellow", "manual": "cyan"}


class UsageError(Exception):
    """The command line asks for something that cannot be done."""


_fail = fail  # one plain line on stderr (grader/cli_common.py)


def _print_report(report, console: Console) -> None:
    from rich.table import Table

    from .bundle import summary_line

    if report.status != "graded":
        console.print(f"[red]{report.status}[/]: {escape(report.reason or '')}")
        return
    how = " (detected: pass --assignment to choose)" if report.assignment.detected else ""
    scope = " (public checks)" if report.scope == "public" else ""
    console.print(f"[bold]{escape(report.submission.path)}[/] — {report.assignment.id}{how}: "
                  f"[bold]{report.score:g} / {report.max_score:g}[/]{scope}")
    public = summary_line(report)
    if public:
        console.print(f"[yellow]{escape(public)}[/]", soft_wrap=True)
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
    executor: str = typer.Option("local", "--executor", help="Batch: `local` (a process pool), `dask` (--scheduler), `slurm` or `kubernetes` (a Dask cluster started for the batch)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Batch with --executor dask: the scheduler's address."),
    shard: Optional[str] = typer.Option(None, "--shard", help="Batch: grade part I of N only (`2/8`, a job array's task); then --merge.", rich_help_panel="Clusters"),
    merge: bool = typer.Option(False, "--merge", help="Batch: grade nothing; build grades.csv, similarity.csv and the summary from the shards' reports.", rich_help_panel="Clusters"),
    image: Optional[str] = typer.Option(None, "--image", help="--executor kubernetes: a container image with the grader installed.", rich_help_panel="Clusters"),
    volume: Optional[str] = typer.Option(None, "--volume", help="--executor kubernetes: CLAIM:/PATH, the shared PersistentVolumeClaim and its mount path.", rich_help_panel="Clusters"),
    warm: bool = typer.Option(True, "--warm/--no-warm", help="Batch: start each worker's next kernel while it grades (default), or each on demand."),
    cell_timeout: Optional[float] = typer.Option(None, help="Seconds a cell may run (default: the rubric's)."),
    timeout: Optional[float] = typer.Option(None, help="Seconds the whole notebook may run (default: the rubric's)."),
    memory_limit: Optional[int] = typer.Option(None, "--memory-limit", help="MB of resident memory the kernel may use (default: the rubric's)."),
    overrides: Optional[Path] = typer.Option(None, "--overrides", help="CSV of scores a person gave (submission,item,score,comment)."),
    schema: bool = typer.Option(False, "--schema", help="Print the report's JSON Schema and exit."),
    rubric_schema: bool = typer.Option(False, "--rubric-schema", help="Print the rubric file's JSON Schema and exit."),
    html: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML feedback page here (one notebook)."),
    html_dir: Optional[Path] = typer.Option(None, "--html-dir", help="Batch: write one HTML feedback page per submission here."),
    output_format: str = typer.Option("report", "--format", help="What --json writes: `report` (schema v1) or `gradescope` (results.json)."),
    results: Optional[Path] = typer.Option(None, "--results", help="Write Gradescope's results.json here (one notebook)."),
    hidden_visibility: Visibility = typer.Option(Visibility.after_published, "--hidden-visibility",
                                                 help="Gradescope: when students see the tests of hidden checks and items "
                                                      "(after_published, after_due_date or hidden)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors (the exit code and files say the rest)."),
    fail_under: Optional[str] = typer.Option(None, "--fail-under", help="Exit 1 when the score is below this: points (`12`) or a share of the maximum (`80%`)."),
    public_seed: bool = typer.Option(False, "--public-seed", help="Draw the grader's inputs from the rubric's public seed, not the instructor's secret."),
    protocol_schema: bool = typer.Option(False, "--protocol-schema", help="Print the JSON Schema of the probe protocol's messages and exit."),
) -> None:
    """Grade a notebook and print a per-item summary, or grade a batch into --out."""
    one = notebooks and len(notebooks) == 1 and out is None and not (schema or rubric_schema or protocol_schema) and notebooks[0].is_file()
    progress = _watching(notebooks[0], quiet) if one else None  # on a terminal, the first line before anything is imported
    try:
        _grade(notebooks, assignment, json_path, out, workers, executor, scheduler, warm, cell_timeout, timeout, memory_limit,
               overrides, schema, rubric_schema, html, html_dir, output_format, results, quiet, fail_under, public_seed,
               protocol_schema, progress, hidden_visibility=hidden_visibility, shard=shard, merge=merge, image=image, volume=volume)
    finally:
        if progress is not None:
            progress.bar.stop()


def _watching(notebook: Path, quiet: bool):
    from .cli_progress import TerminalProgress, terminal_console

    console = terminal_console(quiet)
    if console is None:
        return None
    progress = TerminalProgress(console, str(notebook))
    progress.bar.start()
    return progress


def _grade(notebooks, assignment, json_path, out, workers, executor, scheduler, warm, cell_timeout, timeout, memory_limit,
           overrides, schema, rubric_schema, html, html_dir, output_format, results, quiet, fail_under, public_seed,
           protocol_schema, progress, *, hidden_visibility, shard, merge, image, volume) -> None:
    from .batch import MissingReports
    from .cli_cluster import BatchPlace, ClusterError, stopped_sentence
    from .grade import AmbiguousAssignment, grade_path
    from .lifetime import BatchStopped, OutLocked
    from .overrides import OverridesError, apply_overrides, read_overrides
    from .rubric import Assignment, RubricError, UnknownAssignment
    from .secret import PUBLIC_ENV

    if schema or rubric_schema or protocol_schema:
        from .probes.protocol import protocol_schema as protocol_text

        from .report import report_schema

        typer.echo(report_schema() if schema else protocol_text() if protocol_schema else Assignment.schema_json_text())
        raise typer.Exit(0)
    if public_seed:
        os.environ[PUBLIC_ENV] = "1"  # batch workers inherit it; kernels never see GRADER_* variables
    if not notebooks:
        _fail("give a notebook to grade (see grade --help)")
        raise typer.Exit(2)
    limits = {"cell_timeout": cell_timeout, "notebook_timeout": timeout, "memory_mb": memory_limit}
    try:
        if output_format not in ("report", "gradescope"):
            raise UsageError("--format is `report` or `gradescope`")
        if hidden_visibility == Visibility.visible:
            raise UsageError("--hidden-visibility visible would show hidden checks to students at once; mark them public in the rubric instead")
        bar = _bar(fail_under)
        entries = read_overrides(overrides) if overrides is not None else []
        if out is not None or len(notebooks) > 1 or notebooks[0].is_dir():
            _batch(notebooks, assignment, out, workers, executor, scheduler, limits, entries, overrides, html_dir, warm,
                   BatchPlace(shard, merge, image, volume))
            raise typer.Exit(0)
        graded = grade_path(notebooks[0], assignment, early=True, progress=progress, **limits)  # its kernel boots while the grader prepares
        report = graded.report
        if progress is not None:
            progress.bar.stop()  # the live line goes before the summary is printed
        if entries and report.status == "graded":
            report = apply_overrides(report, entries, overrides)
            graded = replace(graded, report=report)
    except (UnknownAssignment, AmbiguousAssignment, RubricError, OverridesError, UsageError, OutLocked, MissingReports, ClusterError) as exc:
        _fail(str(exc))
        raise typer.Exit(2)
    except BatchStopped as stopped:
        _fail(stopped_sentence(stopped))
        raise typer.Exit(128 + stopped.signum)
    _write_files(graded, json_path, results, html, output_format, hidden_visibility)
    if report.status == "rejected":
        _fail(report.reason)
        raise typer.Exit(2)
    if not quiet:
        _print_report(report, Console())
    if report.status != "graded":
        raise typer.Exit(1)
    if bar is not None and report.score < bar(report.max_score):
        if not quiet:
            typer.echo(f"grade: score {report.score:g} is below --fail-under {fail_under}", err=True)
        raise typer.Exit(1)
    raise typer.Exit(0)


def _write_files(graded, json_path: Path | None, results: Path | None, html: Path | None, output_format: str, hidden_visibility) -> None:
    """The files one graded notebook asked for: --json (a report or Gradescope's format), --results, --html."""
    report = graded.report
    if json_path is not None or results is not None:
        from .export.gradescope import to_gradescope

        gradescope = to_gradescope(report, graded.assignment, hidden_visibility=hidden_visibility).to_json()
    if json_path is not None:
        json_path.write_text((gradescope if output_format == "gradescope" else report.to_json()) + "\n", encoding="utf-8")
    if results is not None:
        results.parent.mkdir(parents=True, exist_ok=True)
        results.write_text(gradescope + "\n", encoding="utf-8")
    if html is not None:
        from .render import render_html

        html.write_text(render_html(report), encoding="utf-8")


def _bar(text: str | None):
    """--fail-under as a function of the maximum score: points, or a percentage of the maximum."""
    if text is None:
        return None
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise UsageError(f"--fail-under {text!r} is not a number of points or a percentage") from None
    return (lambda maximum: value / 100 * maximum) if text.endswith("%") else (lambda maximum: value)


def _batch(paths, assignment_id, out, workers, executor, scheduler, limits, entries, overrides_path, html_dir=None, warm=True,
           place=None) -> None:
    from .cli_cluster import CLUSTERS, BatchPlace
    from .submissions import Shard

    place = place or BatchPlace()
    if out is None and len(paths) == 1:
        raise UsageError(f"{paths[0]}: is a directory (to grade the notebooks in it, add --out DIR)")
    if assignment_id is None or out is None:
        raise UsageError("a batch needs --assignment ID and --out DIR")
    if executor not in ("local", "dask", *CLUSTERS) or (executor == "dask" and not scheduler):
        raise UsageError("--executor is `local`, `slurm`, `kubernetes`, or `dask` with --scheduler ADDRESS")
    try:
        shard = Shard.parse(place.shard) if place.shard else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if shard and place.merge:
        raise UsageError("--merge reads every shard's reports: give it without --shard")
    if shard and (html_dir is not None or entries):
        raise UsageError("--html-dir and --overrides go with --merge, which sees every shard's reports")
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise UsageError(f"{missing[0]}: no such file or directory")
    with _early_workers(paths, out, workers, executor, place, shard) as crew:
        _run_batch(paths, assignment_id, out, workers, executor, scheduler, limits, entries, overrides_path, html_dir, warm,
                   place, shard, crew)


def _early_workers(paths: list[Path], out: Path, workers: int, executor: str, place, shard):
    """Local workers started now, with the grader imported and before the batch is prepared (`grader.workers`),
    when some submission has no report yet (a re-run that finds every report current starts none)."""
    from contextlib import nullcontext

    from .submissions import collect, report_names

    if executor != "local" or place.merge:
        return nullcontext()
    submissions = collect(paths)
    names = report_names(submissions)
    mine = shard.select(submissions, names) if shard else submissions
    todo = [path for path in mine if not (out / names[path]).is_file()]
    if not todo:
        return nullcontext()
    from . import batch  # noqa: F401  (imported before the workers fork, so that they have it: grader.workers)
    from .workers import Workers

    return Workers(min(workers, len(todo)))


def _run_batch(paths, assignment_id, out, workers, executor, scheduler, limits, entries, overrides_path, html_dir, warm,
               place, shard, crew) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .batch import Progress as BatchProgress
    from .batch import finish_batch, run_batch
    from .cli_cluster import cluster_for
    from .loader import load_assignment

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

    with bar, cluster_for(executor, workers, place) as cluster:
        on_cluster = cluster is not None
        reports = run_batch(paths, assignment_rubric, out, workers=workers, executor="dask" if on_cluster else executor,
                            scheduler=cluster if on_cluster else scheduler, limits=limits, progress=BatchProgress(started, finished), warm=warm,
                            shard=shard, merge=place.merge, started=crew)
    if shard is not None:  # the gradebook and similarity need every shard: `--merge` builds them
        typer.echo(f"shard {shard}: {len(reports)} reports current in {out}; when every shard is done: "
                   f"grade {' '.join(map(str, paths))} -a {assignment_id} --out {out} --merge")
        return
    finished_batch = finish_batch(reports, paths, assignment_rubric, out, entries, overrides_path, html_dir)
    _print_summary(finished_batch.summary, finished_batch.pairs, out, Console())


def _print_summary(summary, pairs, out: Path, console: Console) -> None:
    from rich.table import Table

    console.print(f"[bold]{summary.graded} graded, {summary.rejected} refused, {summary.failed} failed[/] — reports in {escape(str(out))}")
    table = Table("item", "pass rate", show_header=True, header_style="bold")
    for item, rate in summary.pass_rates.items():
        table.add_row(item, f"{rate:.0%}")
    console.print(table)
    if summary.graded:
        console.print(f"kernels started ahead of use: {summary.warm_kernels} of {summary.graded} (waited {summary.wait_warm_s:.1f} s "
                      f"for those on average, {summary.wait_cold_s:.1f} s for one started on demand)")
    if summary.slowest:
        console.print("slowest: " + ", ".join(f"{escape(n)} {s:.1f} s" for n, s in summary.slowest))
    if pairs:
        console.print(f"[yellow]{len(pairs)} similar pair(s)[/] (similarity.csv):")
        for pair in pairs[:10]:
            how = "the same wrong answer on the grader's inputs" if pair.basis.value == "behaviour" else f"code {pair.score:.2f}"
            console.print(escape(f"  {pair.item}: {pair.a} ~ {pair.b} ({how}, cells {list(pair.cells_a)} / {list(pair.cells_b)})"))
    else:
        console.print("no similar pairs beyond the shared textbook and reference code")


# --- subcommands: `grade validate` and `grade export-student` --------------------------------------

tools = typer.Typer(add_completion=False, help="Instructors' tools: self-test an assignment, export a student bundle.")


@tools.command("validate")
def validate_command(
    assignments: Optional[list[str]] = typer.Argument(None, help="Assignment ids (default: every assignment)."),
    workers: int = typer.Option(2, "--workers", min=1, help="Notebooks graded at once."),
    out: Optional[Path] = typer.Option(None, "--out", help="Keep the reports of the solution and the examples here."),
    mutants: bool = typer.Option(False, "--mutants", help="Grade mutants of the solution instead: what each item's checks miss (grader/cli_mutants.py)."),
    max_per_item: int = typer.Option(8, "--max-per-item", min=1, help="With --mutants: at most this many mutants per item (a fixed-seed sample)."),
    seed: int = typer.Option(0, "--seed", help="With --mutants: the seed of the sample."),
    json_path: Optional[Path] = typer.Option(None, "--json", help="With --mutants: write the per-item counts, cascades and every mutant here."),
    html_path: Optional[Path] = typer.Option(None, "--html", help="With --mutants: a page of the surviving mutants as diffs."),
    items: Optional[list[str]] = typer.Option(None, "--item", help="With --mutants: only these items' code is mutated."),
    public_seed: bool = typer.Option(False, "--public-seed", help="Draw the grader's inputs from the rubric's public seed (the hints then serve --public-seed grading)."),
) -> None:
    """The solution must earn full marks; each known-wrong example must lose exactly the items it lists."""
    from .rubric import RubricError, UnknownAssignment
    from .loader import assignment_ids, load_assignment
    from .validate import validate

    if not mutants and (json_path or html_path or items):
        _fail("--json, --html and --item go with --mutants")
        raise typer.Exit(2)
    if public_seed:
        from .secret import PUBLIC_ENV

        os.environ[PUBLIC_ENV] = "1"  # batch workers inherit it; kernels never see GRADER_* variables
    if mutants:
        from .cli_mutants import mutants_command

        mutants_command(assignments, workers=workers, out=out, max_per_item=max_per_item, seed=seed, json_path=json_path,
                        html_path=html_path, items=items)
    try:
        chosen = [load_assignment(a) for a in (assignments or assignment_ids())]
    except (UnknownAssignment, RubricError) as exc:
        _fail(str(exc))
        raise typer.Exit(2)
    console, failed = Console(), 0
    for assignment in chosen:
        result = validate(assignment, workers=workers, out=out / assignment.id if out else None)
        mark = "[green]ok[/]" if result.ok else "[red]FAILED[/]"
        console.print(f"[bold]{assignment.id}[/]: {mark}", soft_wrap=True)
        for example in result.examples:
            what = (f"full marks ({example.score:g} / {example.max_score:g}{_manual_note(example)})" if example.role == "solution"
                    else f"loses {', '.join(example.must_lose)}")
            status = "[green]✓[/]" if example.ok else "[red]✗[/]"
            console.print(f"  {status} {example.role} {escape(example.notebook)}: {escape(what)}", soft_wrap=True)
            for problem in example.problems:
                console.print(f"      [red]{escape(problem)}[/]", soft_wrap=True)
        failed += not result.ok
    raise typer.Exit(1 if failed else 0)


def _manual_note(example) -> str:
    return f"; {example.manual} left to a person" if example.manual else ""


@tools.command("export-student")
def export_student_command(
    assignment: str = typer.Argument(..., help="Assignment id."),
    directory: Path = typer.Argument(..., help="Where to write the bundle (created)."),
) -> None:
    """Write a bundle that grades the public checks only and holds no reference solution code."""
    from .export.student import BundleError, export_student, wheel_name
    from .loader import load_assignment
    from .rubric import RubricError, UnknownAssignment

    try:
        chosen = load_assignment(assignment)
        rubric = export_student(chosen, directory)
    except (UnknownAssignment, RubricError, BundleError) as exc:
        _fail(str(exc))
        raise typer.Exit(2)
    wheel = directory / wheel_name(chosen)
    typer.echo(f"student bundle of {assignment} in {directory} (rubric {rubric.relative_to(directory)}) and as one file, {wheel}; "
               f"students run: pip install {wheel.name}, then in their notebook %load_ext grader and %check ITEM "
               f"(or grade NOTEBOOK -a {assignment}); see {directory / 'README.md'}")


from .cli_review import review_command  # noqa: E402  (its web server is imported when it runs)

tools.command("review")(review_command)


def _register_tools() -> None:
    """The tools that live in modules of their own, registered when a tool is run (grading never imports them)."""
    from . import cli_integrations

    cli_integrations.register(tools)  # `grade gradebook`, `grade diff`, `grade autograder`


SUBCOMMANDS = ("validate", "export-student", "review", "gradebook", "diff", "autograder")


def main() -> None:
    """`grade NOTEBOOK ...` grades; `grade validate|export-student ...` are the instructors' tools.

    Dispatched here, before typer parses, so the grading command keeps its
    positional notebooks (a file that happens to be called `validate` is
    still graded).
    """
    argv = sys.argv[1:]
    if argv and argv[0] in SUBCOMMANDS and not Path(argv[0]).exists():
        _register_tools()
        tools(args=argv, prog_name="grade")
    else:
        app(prog_name="grade")


if __name__ == "__main__":
    sys.exit(main())
