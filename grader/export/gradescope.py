"""A report as Gradescope's `results.json`, so this grader can be a Gradescope autograder unchanged.

The models follow the autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/, "Output
format"): every top-level and test field it documents, with its documented
values, and nothing else (`extra="forbid"`). They are the single source of
truth of the file; `to_gradescope` is a pure function of the report and the
rubric.

What students see at once never holds a hidden check: each item is split by
`public_view` into a visible test (its public checks) and, when it has
hidden checks or is hidden, a second test with the visibility the
instructor picks (`hidden_visibility`). Items left to a person are tests
without a score, saying so.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..report import ItemResult, Report, Student
from ..rubric import Assignment, RubricError, UnknownAssignment
from ..loader import load_assignment
from .public_view import split_report
from .gradescope_visibility import Visibility


class OutputFormat(str, Enum):
    """How Gradescope renders a string (the specification's "Output String Formatting")."""

    text = "text"
    html = "html"
    simple_format = "simple_format"
    md = "md"
    ansi = "ansi"


class _Gradescope(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class GradescopeTest(_Gradescope):
    """One test case: here one item, or the hidden part of one."""

    score: float | None = Field(default=None, description="optional when the top-level score is given")
    max_score: float | None = None
    status: Literal["passed", "failed"] | None = Field(default=None, description="optional; shown as the test's mark")
    name: str | None = None
    name_format: OutputFormat | None = None
    number: str | None = Field(default=None, description="e.g. `1.1`; tests are numbered in order without it")
    output: str | None = None
    output_format: OutputFormat | None = None
    tags: list[str] | None = None
    visibility: Visibility | None = None
    extra_data: dict | None = None

    @model_validator(mode="after")
    def _score_within_max(self) -> "GradescopeTest":
        if self.score is not None and self.max_score is not None and self.score > self.max_score + 1e-9:
            raise ValueError(f"test {self.name!r}: score {self.score} above max_score {self.max_score}")
        return self


class LeaderboardEntry(_Gradescope):
    name: str
    value: float | str
    order: Literal["asc", "desc"] | None = None


class GradescopeResults(_Gradescope):
    """The whole `results.json`."""

    score: float | None = Field(default=None, description="overrides the tests' total when given")
    execution_time: float | None = Field(default=None, description="seconds")
    output: str | None = None
    output_format: OutputFormat | None = None
    test_output_format: OutputFormat | None = None
    test_name_format: OutputFormat | None = None
    visibility: Visibility | None = None
    stdout_visibility: Visibility | None = None
    extra_data: dict | None = None
    tests: list[GradescopeTest] | None = None
    leaderboard: list[LeaderboardEntry] | None = None

    @model_validator(mode="after")
    def _a_score_somewhere(self) -> "GradescopeResults":
        if self.score is None and not (self.tests and all(t.score is not None for t in self.tests)):
            raise ValueError("a top-level score is required unless every test has one")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True)


def _md_code(text: str) -> str:
    """`text` as inline markdown code, whatever backticks it holds."""
    text = " ".join(text.split())
    longest = 0
    run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _test_output(item: ItemResult) -> str:
    """Markdown for one test: the feedback, each failed check with expected and actual, where it was found."""
    lines = [item.feedback.strip()] if item.feedback.strip() else []
    failed = [c for c in item.checks if not c.passed]
    if failed:
        lines.append("")
        for check in failed:
            line = f"- ✗ {check.name}"
            if check.expected is not None and check.actual is not None:
                line += f": expected {_md_code(check.expected)}, got {_md_code(check.actual)}"
            lines.append(line)
    if item.found is not None and item.found.cell is not None:
        lines += ["", f"Found `{item.found.name}` in cell {item.found.cell}."]
    return "\n".join(lines)


def _test(item: ItemResult, number: str, visibility: Visibility, part: str) -> GradescopeTest:
    extra = {"item": item.id, "part": part, "status": item.status, "set_by": item.set_by}
    if item.status == "manual":
        return GradescopeTest(name=f"{item.id}: {item.title}", name_format=OutputFormat.text, number=number,
                              output=f"A person will grade this answer ({item.max_score:g} point{'s' if item.max_score != 1 else ''}); "
                                     f"the score above does not include it yet.\n\n{item.feedback.strip()}",
                              tags=["manual", part], visibility=visibility, extra_data={**extra, "max_points": item.max_score})
    return GradescopeTest(name=f"{item.id}: {item.title}", name_format=OutputFormat.text, number=number,
                          score=item.score, max_score=item.max_score, status="passed" if item.status == "pass" else "failed",
                          output=_test_output(item), tags=[item.status, part], visibility=visibility, extra_data=extra)


def _assignment(report: Report) -> Assignment | None:
    if not report.assignment.id:
        return None
    try:
        return load_assignment(report.assignment.id)
    except (UnknownAssignment, RubricError):
        return None


VISIBILITY_HELP = {
    Visibility.after_published: "shown once you publish the grades; Gradescope then also shows the total",
    Visibility.after_due_date: "shown after the (late) due date",
    Visibility.hidden: "never shown to students",
}


def to_gradescope(report: Report, assignment: Assignment | None = None, *,
                  hidden_visibility: Visibility | str = Visibility.after_published,
                  output_format: OutputFormat | str = OutputFormat.md, page: str | None = None,
                  notes: list[str] = ()) -> GradescopeResults:
    """Gradescope's results for one report; a notebook that could not be graded scores 0 and says why.

    `assignment` is the rubric the report was graded with (loaded by id when
    omitted; when it cannot be loaded every item is treated as hidden, so
    nothing leaks). With `output_format="html"` the top-level output is
    `page` (the student's feedback page, built from the public view);
    `notes` are sentences for the student put first (the autograder's: what
    was not graded, and why).
    """
    hidden_visibility = Visibility(hidden_visibility)
    if hidden_visibility == Visibility.visible:
        raise ValueError("hidden checks cannot be made visible: mark them `public = true` in the rubric instead")
    output_format = OutputFormat(output_format)
    extra = {"assignment": report.assignment.id, "assignment_version": report.assignment.version,
             "grader_version": report.grader_version, "status": report.status}
    if report.student is not None:
        extra["student"] = report.student.model_dump(exclude_none=True)
    if report.status != "graded":
        text = "\n\n".join([*notes, f"This submission could not be graded: {report.reason or report.status}."])
        return GradescopeResults(score=0.0, execution_time=report.timing.total_s, output=text, output_format=OutputFormat.md,
                                 visibility=Visibility.visible, stdout_visibility=Visibility.hidden, extra_data=extra, tests=[])
    assignment = assignment if assignment is not None else _assignment(report)
    tests = []
    for number, parts in enumerate(split_report(report, assignment), start=1):
        both = parts.public is not None and parts.hidden is not None
        if parts.public is not None:
            tests.append(_test(parts.public, f"{number}.1" if both else str(number), Visibility.visible, "public"))
        if parts.hidden is not None:
            tests.append(_test(parts.hidden, f"{number}.2" if both else str(number), hidden_visibility, "hidden"))
    public_score = sum(t.score or 0 for t in tests if t.visibility == Visibility.visible.value)
    public_max = sum(t.max_score or 0 for t in tests if t.visibility == Visibility.visible.value and t.score is not None)
    hidden_max = sum(t.max_score or 0 for t in tests if t.visibility != Visibility.visible.value and t.score is not None)
    manual = [t for t in tests if "manual" in (t.tags or [])]
    lines = list(notes)
    lines.append(f"**{report.assignment.title or report.assignment.id}**: {public_score:g} / {public_max:g} points from the checks you can see now.")
    if hidden_max:
        lines.append(f"Further checks worth {hidden_max:g} points are graded too; their results are {VISIBILITY_HELP[hidden_visibility]}.")
    if manual:
        points = sum((t.extra_data or {}).get("max_points", 0) for t in manual)
        lines.append(f"{len(manual)} answer(s) worth {points:g} points will be graded by a person.")
    if report.cells.errors:
        lines.append(f"{len(report.cells.errors)} cell(s) raised an error when the notebook ran.")
    if report.late is not None:
        lines.append(f"Late work: {report.late.reason}")
        extra["late"] = report.late.model_dump(exclude_none=True)
    output = "\n\n".join(lines)
    if output_format == OutputFormat.html and page is not None:
        output = "".join(f"<p>{html.escape(line)}</p>" for line in notes) + page
    else:
        output_format = OutputFormat.md
    return GradescopeResults(score=round(report.final_score(), 4), execution_time=report.timing.total_s, output=output,
                             output_format=output_format, test_output_format=OutputFormat.md, test_name_format=OutputFormat.text,
                             visibility=Visibility.visible, stdout_visibility=Visibility.hidden, tests=tests, extra_data=extra)


# --- Gradescope's submission_metadata.json (what the autograder and the gradebook read of it) ----------


class GradescopeUser(BaseModel):
    """A submitter in Gradescope's `submission_metadata.json`."""

    model_config = ConfigDict(extra="ignore")

    email: str | None = None
    id: int | str | None = None
    name: str | None = None
    sid: str | None = None


class GradescopeAssignmentMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    due_date: str | None = None
    late_due_date: str | None = None
    title: str | None = None
    total_points: float | str | None = None


class SubmissionMetadata(BaseModel):
    """The fields of Gradescope's `/autograder/submission_metadata.json` this runner uses."""

    model_config = ConfigDict(extra="ignore")

    id: int | str | None = None
    created_at: str | None = None
    assignment: GradescopeAssignmentMeta = Field(default_factory=GradescopeAssignmentMeta)
    users: list[GradescopeUser] = Field(default_factory=list)

    def student(self) -> Student | None:
        """Who submitted; of a group submission, the first member (the autograder keeps them all in extra_data)."""
        if not self.users:
            return None
        user = self.users[0]
        return Student(name=user.name, email=user.email, sid=user.sid, lms_id=str(user.id) if user.id is not None else None,
                       source="gradescope")

    @classmethod
    def beside(cls, submission: Path) -> "SubmissionMetadata | None":
        """The `submission_metadata.json` of a submission laid out as Gradescope does (in its folder or the one above)."""
        for folder in (submission.parent, submission.parent.parent):
            try:
                return cls.model_validate_json((folder / "submission_metadata.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
        return None



def results_schema() -> str:
    return json.dumps(GradescopeResults.model_json_schema(), indent=2)
