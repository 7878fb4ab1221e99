"""The Gradescope autograder: grade within the container's limits, and always leave a `results.json`.

Gradescope runs `run_autograder` in a container with a memory limit (its
cgroup) and a time limit, and kills the container at either. A killed
container writes no `results.json`, and the student sees 0 with no word
of why. So this runner, a small parent process:

1. reads the limits: memory from the cgroup files (`memory.max`, or
   cgroup v1's `memory.limit_in_bytes`), the time limit from
   `gradescope/autograder.toml` or `GRADER_TIME_LIMIT_S` (Gradescope does
   not tell the container its timeout; its default is 10 minutes);
2. grades in a child process (`python -m grader NOTEBOOK ...`) whose
   kernel may use the container's memory less what the grader needs, whose
   notebook limit leaves time for the checks, and which is stopped, with
   every process below it, at a deadline a margin before the container's;
3. writes `results.json` from the child's report, or, when the child ran
   out of time or died, from what is known, saying to the student which
   items were not graded and why.

It also reads `submission_metadata.json` for the student's identity (into
the report) and the submission time and due date (the late-work policy).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import __version__
from .atomic import write_atomic
from .export.gradescope import OutputFormat, SubmissionMetadata, Visibility, to_gradescope
from .export.public_view import split_report, student_view
from .kernel.processes import descendants, kill_all
from .late import LatePolicy, apply_late, parse_time
from .notebook import NotebookRejected, defining_cells, load
from .report import Report, Student, SubmissionRef
from .rubric import Assignment, RubricError, UnknownAssignment
from .loader import load_assignment

GRADESCOPE_MEMORY_MB = 768  # Gradescope's default container, when no cgroup says otherwise
GRADESCOPE_TIME_LIMIT_S = 600.0  # Gradescope's default autograder timeout (10 minutes)
GRADER_RESERVE_MB = 120  # what the grader's own processes need beside the kernel, at least
GRADER_CHILD_MB = 100  # the grading process beside the kernel (measured: 89 MB PSS grading a numpy notebook)


class AutograderConfig(BaseModel):
    """`gradescope/autograder.toml`: what the instructor sets for the Gradescope assignment (every field optional)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    assignment: str | None = Field(default=None, description="the assignment id (else `gradescope/assignment`, else detected)")
    hidden_visibility: Visibility = Field(default=Visibility.after_published, description="when students see hidden checks' tests")
    output_format: OutputFormat = Field(default=OutputFormat.md, description="`md`, or `html` to put the feedback page in the output")
    time_limit_s: float | None = Field(default=None, gt=0, description="the Gradescope assignment's autograder timeout")
    margin_s: float | None = Field(default=None, gt=0, description="kept free before the time limit to write results.json")
    late: LatePolicy | None = Field(default=None, description="late work; its due date defaults to Gradescope's")


@dataclass
class ContainerLimits:
    memory_mb: int | None  # None: the cgroup sets no limit
    time_limit_s: float
    cpus: float | None = None
    sources: dict[str, str] = field(default_factory=dict)


UNLIMITED = -1


def _cgroup_memory(root: Path) -> int | None:
    """MB the cgroup allows; UNLIMITED when it says so; None when there is no cgroup file to read."""
    for name in ("memory.max", "memory/memory.limit_in_bytes", "memory.limit_in_bytes"):
        try:
            text = (root / name).read_text().strip()
        except OSError:
            continue
        if text == "max" or not text.isdigit() or int(text) >= 2**60:
            return UNLIMITED
        return int(text) // 2**20
    return None


def _cgroup_cpus(root: Path) -> float | None:
    try:
        quota, period = (root / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def read_limits(config: AutograderConfig, cgroup: Path, env: dict[str, str]) -> ContainerLimits:
    """The container's memory (cgroup) and time limit (config, environment, Gradescope's default), with where each came from."""
    sources = {}
    memory = _cgroup_memory(cgroup)
    if memory == UNLIMITED:
        memory, sources["memory"] = None, f"cgroup ({cgroup}): no limit"
    elif memory is not None:
        sources["memory"] = f"cgroup ({cgroup})"
    elif env.get("GRADER_MEMORY_MB", "").isdigit():
        memory, sources["memory"] = int(env["GRADER_MEMORY_MB"]), "GRADER_MEMORY_MB"
    else:
        memory, sources["memory"] = GRADESCOPE_MEMORY_MB, "Gradescope's default"
    if config.time_limit_s:
        limit, sources["time"] = config.time_limit_s, "gradescope/autograder.toml"
    elif env.get("GRADER_TIME_LIMIT_S"):
        limit, sources["time"] = float(env["GRADER_TIME_LIMIT_S"]), "GRADER_TIME_LIMIT_S"
    else:
        limit, sources["time"] = GRADESCOPE_TIME_LIMIT_S, "Gradescope's default"
    return ContainerLimits(memory, limit, _cgroup_cpus(cgroup), sources)


@dataclass
class Plan:
    """The child's limits, from the container's and the rubric's."""

    deadline_s: float  # the child is stopped this long after the runner started
    notebook_timeout_s: float
    cell_timeout_s: float
    memory_mb: int
    margin_s: float


def own_memory_mb() -> float:
    """This process's proportional share of memory (PSS: shared pages counted once across processes, as the cgroup does).

    Where the system has no PSS (macOS), the memory only this process holds (USS).
    """
    import psutil

    try:
        memory = psutil.Process().memory_full_info()
    except psutil.Error:
        return 80.0
    return getattr(memory, "pss", memory.uss) / 2**20


def plan(limits: ContainerLimits, assignment: Assignment | None, margin_s: float | None, started_s: float,
         reserve_mb: float | None = None) -> Plan:
    """The child's deadline and limits; `reserve_mb` is what the grader's processes need beside the kernel."""
    margin = margin_s or max(5.0, min(60.0, 0.1 * limits.time_limit_s))
    deadline = max(1.0, limits.time_limit_s - margin - started_s)
    rubric = assignment.limits if assignment is not None else None
    # the rest of 70 % is for the kernel's start, the checks after the notebook and the report; a notebook whose cell
    # stops the kernel is run again without it with the same limit, so the limit is halved: one such re-run fits
    notebook = 0.7 * deadline / 2
    if rubric is not None:
        notebook = min(notebook, rubric.notebook_timeout_s)
    cell = min(notebook, rubric.cell_timeout_s) if rubric is not None else notebook
    if limits.memory_mb is None:
        memory = rubric.memory_mb if rubric is not None else 4096
    else:
        reserve = max(GRADER_RESERVE_MB, int(reserve_mb or 0))
        memory = max(32, limits.memory_mb - reserve)
        if rubric is not None:
            memory = min(memory, rubric.memory_mb)
    return Plan(deadline, round(notebook, 1), round(cell, 1), memory, margin)


# --- what was not graded, and why ------------------------------------------------------------------


def _names(assignment: Assignment | None, report: Report, ids: list[str]) -> str:
    """Item ids for the student: public items by id, hidden ones only counted."""
    hidden = set()
    if assignment is not None:
        parts = {p.item.id: p for p in split_report(report, assignment)} if report.items else {}
        rubric = {i.id: i for i in assignment.items}
        hidden = {i for i in ids if (parts[i].public is None if i in parts else (i in rubric and not rubric[i].public))}
    shown = [f"`{i}`" for i in ids if i not in hidden]
    if hidden:
        shown.append(f"{len(hidden)} hidden item{'s' if len(hidden) != 1 else ''}")
    return ", ".join(shown)


def not_graded_notes(report: Report, assignment: Assignment | None, plan_: Plan, limits: ContainerLimits, notebook: Path | None) -> list[str]:
    """Sentences for the student: the items the limits kept from being graded, and which limit."""
    if report.status != "graded":
        return []
    notes = []
    cells = report.cells
    open_items = [i for i in report.items if i.status in ("missing", "error")]
    for removed in cells.removed:
        needing = [i.id for i in open_items if i.feedback.startswith(f"Cell {removed.cell}, which this item needs")]
        memory = "memory" in removed.evalue.lower()
        container = f" of the container's {limits.memory_mb} MB" if limits.memory_mb else ""
        why = (f"cell {removed.cell} used more memory than the autograder allows (the notebook may use {plan_.memory_mb} MB"
               f"{container})" if memory else f"cell {removed.cell} stopped the Python kernel ({removed.evalue})")
        tail = f"; not graded because of it: {_names(assignment, report, needing)}" if needing else ""
        notes.append(f"Not graded in full: {why}. The notebook was run again without that cell{tail}.")
    stopped = set(cells.not_run) | set(cells.timed_out)
    if stopped:
        defined = {}
        if notebook is not None:
            try:
                defined = defining_cells(load(notebook).nb)
            except (NotebookRejected, OSError):
                defined = {}
        rubric = {i.id: i for i in assignment.items} if assignment is not None else {}
        lost = [i.id for i in open_items
                if (i.found is not None and i.found.cell in stopped)
                or any(defined.get(name) in stopped for name in (rubric[i.id].names if i.id in rubric else []))]
        first = min(stopped)
        which = f"cells {first}–{max(stopped)}" if len(stopped) > 1 else f"cell {first}"
        why = (f"the notebook did not finish within the {plan_.notebook_timeout_s:g} s the autograder's {limits.time_limit_s:g} s time "
               f"limit leaves for running it: {which} did not run to the end")
        notes.append(f"Not graded: {_names(assignment, report, lost)} — {why}." if lost else f"Note: {why}.")
    return notes


def stopped_report(notebook: Path, assignment: Assignment | None, why: str) -> tuple[Report, list[str]]:
    """When the child did not finish: a report that says so, and the note naming what was not graded."""
    report = Report(grader_version=__version__, status="error", reason=why, submission=SubmissionRef(path=str(notebook)))
    if assignment is None:
        return report, [f"Nothing was graded: {why}."]
    names = _names(assignment, report, [i.id for i in assignment.items])
    return report, [f"Not graded: {names} — {why}."]


# --- the run -------------------------------------------------------------------------------------


def _read_config(source: Path) -> AutograderConfig:
    path = source / "gradescope" / "autograder.toml"
    data = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            print(f"run_autograder: {path} is not valid TOML ({exc}); using the defaults", file=sys.stderr)
    try:
        config = AutograderConfig.model_validate(data)
    except ValidationError as exc:
        print(f"run_autograder: {path}: {exc.errors()[0]['msg']}; using the defaults", file=sys.stderr)
        config = AutograderConfig()
    legacy = source / "gradescope" / "assignment"
    if config.assignment is None and legacy.is_file():
        config.assignment = legacy.read_text(encoding="utf-8").strip() or None
    return config


def _metadata(root: Path) -> SubmissionMetadata | None:
    try:
        return SubmissionMetadata.model_validate_json((root / "submission_metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _student(meta: SubmissionMetadata | None) -> Student | None:
    return meta.student() if meta is not None else None


def _late(report: Report, policy: LatePolicy | None, meta: SubmissionMetadata | None) -> Report:
    if policy is None or meta is None or not meta.created_at:
        return report
    try:
        if policy.due is None and meta.assignment.due_date:
            policy = policy.model_copy(update={"due": parse_time(meta.assignment.due_date)})
        return apply_late(report, policy, parse_time(meta.created_at), "gradescope")
    except ValueError:
        return report


def _notebook(submission: Path) -> Path:
    found = sorted(p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts) if submission.is_dir() else []
    return found[0] if found else submission / "no notebook was submitted.ipynb"


def prepare_reference(assignment: Assignment) -> bool:
    """Compute the reference's answers into the grader's cache (setup.sh does it when the image is built); False if it failed."""
    from .grade import reference_answers
    from .secret import for_probes

    try:
        reference_answers(for_probes(assignment)[0]).answers()  # the inputs grading draws (with the instructor's secret)
        return True
    except Exception as exc:  # the grading will say what the reference could not answer
        print(f"run_autograder: the reference answers of {assignment.id} could not be computed ({exc})", file=sys.stderr)
        return False


def prepare(root: Path) -> int:
    """`grade autograder --prepare`: cache the assignment's reference answers in the image (no reference process at run time)."""
    config = _read_config(root / "source")
    if not config.assignment:
        print("run_autograder: no assignment named in gradescope/autograder.toml or gradescope/assignment; nothing to prepare",
              file=sys.stderr)
        return 0
    try:
        assignment = load_assignment(config.assignment)
    except (UnknownAssignment, RubricError) as exc:
        print(f"run_autograder: {exc}", file=sys.stderr)
        return 2
    return 0 if prepare_reference(assignment) else 1


def run(root: Path, *, cgroup: Path | None = None, env: dict[str, str] | None = None, child: list[str] | None = None) -> Path:
    """Grade `root/submission` within the container's limits; write `root/results/results.json`; return its path.

    `child` replaces the grading command (tests: a child that never ends).
    """
    started = time.monotonic()
    env = dict(os.environ if env is None else env)
    source, results_dir = root / "source", root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    config = _read_config(source)
    assignment = None
    if config.assignment:
        try:
            assignment = load_assignment(config.assignment)
        except (UnknownAssignment, RubricError) as exc:
            print(f"run_autograder: {exc}", file=sys.stderr)
    limits = read_limits(config, cgroup or Path(env.get("AUTOGRADER_CGROUP", "/sys/fs/cgroup")), env)
    notebook = _notebook(root / "submission")
    if assignment is not None and child is None and limits.memory_mb is not None and notebook.is_file():
        # in a container with a memory limit: the reference's answers (cached by setup.sh) are computed now, if at all,
        # so that the reference process and the kernel never share the memory
        prepare_reference(assignment)
    chosen = plan(limits, assignment, config.margin_s, time.monotonic() - started, own_memory_mb() + GRADER_CHILD_MB)
    report_file = results_dir / "report.json"
    report_file.unlink(missing_ok=True)
    command = child or [sys.executable, "-m", "grader", str(notebook), *(["-a", config.assignment] if config.assignment else []),
                        "--json", str(report_file), "--timeout", str(chosen.notebook_timeout_s),
                        "--cell-timeout", str(chosen.cell_timeout_s), "--memory-limit", str(chosen.memory_mb), "--quiet"]
    print(f"run_autograder: container {limits.memory_mb or 'unlimited'} MB ({limits.sources['memory']}), {limits.time_limit_s:g} s "
          f"({limits.sources['time']}); kernel {chosen.memory_mb} MB, notebook {chosen.notebook_timeout_s:g} s, "
          f"grading stopped at {chosen.deadline_s:.0f} s", file=sys.stderr)
    proc = subprocess.Popen(command, cwd=source if source.is_dir() else root, env=env, start_new_session=True)
    remaining = chosen.deadline_s - (time.monotonic() - started)
    stopped = None
    try:
        proc.wait(timeout=max(0.1, remaining))
    except subprocess.TimeoutExpired:
        kill_all(descendants(proc.pid))  # the grader and every kernel it started
        proc.wait()
        stopped = (f"the grading was stopped after {chosen.deadline_s:.0f} s, to finish within the autograder's "
                   f"{limits.time_limit_s:g} s time limit")
    report = None
    if stopped is None:
        try:
            report = Report.model_validate_json(report_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stopped = f"the grader stopped without a report (exit {proc.returncode})"
            if assignment is not None and chosen.memory_mb < assignment.limits.memory_mb:
                stopped += (f"; the notebook may use {chosen.memory_mb} MB in this container, the assignment asks for up to "
                            f"{assignment.limits.memory_mb} MB (a larger Gradescope container may be needed)")
    if report is None:
        report, notes = stopped_report(notebook, assignment, stopped)
    else:
        notes = not_graded_notes(report, assignment, chosen, limits, notebook)
    meta = _metadata(root)
    report.student = _student(meta)
    report = _late(report, config.late or (assignment.late if assignment else None), meta)
    report.timing.total_s = round(time.monotonic() - started, 2)
    page = None
    try:
        from .render import render_html

        view = student_view(report, assignment)
        page = render_html(view)
        write_atomic(results_dir / "feedback.html", page)
    except Exception as exc:  # the page is a courtesy; results.json is not
        print(f"run_autograder: no feedback page ({type(exc).__name__}: {exc})", file=sys.stderr)
    results = to_gradescope(report, assignment, hidden_visibility=config.hidden_visibility, output_format=config.output_format,
                            page=page, notes=notes)
    results.extra_data = {**(results.extra_data or {}), "limits": {"container_memory_mb": limits.memory_mb, "time_limit_s": limits.time_limit_s,
                          "kernel_memory_mb": chosen.memory_mb, "notebook_timeout_s": chosen.notebook_timeout_s,
                          "sources": limits.sources}}
    if meta is not None and len(meta.users) > 1:
        results.extra_data["group"] = [u.model_dump(exclude_none=True) for u in meta.users]
    write_atomic(report_file, report.to_json() + "\n")
    target = results_dir / "results.json"
    write_atomic(target, results.to_json() + "\n")
    return target


def main(argv: list[str] | None = None) -> int:
    root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    run(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
