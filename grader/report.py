"""The grading report (schema version 1): models, JSON Schema, text for a terminal.

The models are the single source of truth for the public report format of
the spec; `grade --schema` prints the JSON Schema generated from them.
Fields may gain siblings, never lose or rename one, without a new
`schema_version`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field, model_serializer

from .kernel.sandbox import Isolation
from .secret import Inputs

SCHEMA_VERSION = 1

ItemStatus = Literal["pass", "fail", "missing", "error", "manual"]


class AssignmentRef(BaseModel):
    id: str | None = None
    title: str | None = None
    detected: bool = False
    version: str | None = None


class SubmissionRef(BaseModel):
    path: str
    sha256: str | None = None


class Binding(BaseModel):
    """Which of several bindings of an item's name was judged (the rubric's `binding` rule chose it)."""

    cells: list[int] = Field(description="0-based indices of the cells that bound the name, each captured when it ran")
    judged: int = Field(description="the cell whose binding was judged (also `found.cell`)")
    rule: str = Field(description="what the rubric asks the binding to be, in words")
    matched: bool = Field(description="false when no binding satisfies the rule and the last one was judged")


class Found(BaseModel):
    name: str
    cell: int | None = Field(default=None, description="0-based index of the cell that defines it")
    anchored_by: Literal["meaning"] | None = Field(default=None, description=(
        "present when the item's question was not found in its words but by its answer's code and place "
        "in the sheet (the feedback says which cell); absent otherwise"))
    binding: Binding | None = Field(default=None, description=(
        "present when the notebook binds the item's name in several cells and the rubric says which to judge; absent otherwise"))
    source: str | None = Field(default=None, description=(
        "the source of that cell as graded, so a feedback page or a similarity check needs no notebook; absent when unknown"))

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler):
        data = handler(self)
        if isinstance(data, dict):
            for name in ("anchored_by", "binding", "source"):
                if data.get(name) is None:
                    data.pop(name, None)
        return data


class ArrayData(BaseModel):
    """A small array kept in the report so feedback can show it (a table, or an image)."""

    shape: list[int]
    dtype: str
    values: Any = Field(description="nested lists of numbers; nan and infinities as null")


class CheckResult(BaseModel):
    name: str
    passed: bool
    message: str = ""
    expected: str | None = None
    actual: str | None = None
    inputs: list[ArrayData] | None = Field(default=None, description="the grader's input for this check, when small")
    expected_value: ArrayData | None = Field(default=None, description="the reference's answer, when small")
    actual_value: ArrayData | None = Field(default=None, description="the submission's answer, when small")


class Series(BaseModel):
    label: str
    values: list[float | None]


class Plot(BaseModel):
    """Small series an item observed (a loss per step), drawn against the reference's."""

    title: str
    x_label: str = "step"
    y_label: str = ""
    series: list[Series]


class HiddenChecks(BaseModel):
    """What a student bundle does not grade: the instructor's hidden items and checks."""

    items: int = 0
    checks: int = Field(default=0, description="hidden checks (or cases) of items that are otherwise public")
    points: float = Field(default=0.0, description="the points of the hidden items")


class AnswerCell(BaseModel):
    cell: int = Field(description="0-based index of the cell")
    cell_type: str = Field(description="`markdown`, `code` or `raw`")
    source: str = Field(description="the cell's text as the student wrote it (cut at 20,000 characters)")
    ran: bool | None = Field(default=None, description="code cells: it ran without error (false: it raised, timed out or was not run)")


class Answer(BaseModel):
    """A free-text answer as written, for the person who grades it (`grade review`)."""

    question: str = Field(description="the question as the notebook asks it (its markdown cell)")
    cells: list[AnswerCell] = Field(default_factory=list)


class ItemResult(BaseModel):
    id: str
    title: str
    status: ItemStatus
    score: float
    max_score: float
    found: Found | None = None
    feedback: str = ""
    checks: list[CheckResult] = Field(default_factory=list)
    set_by: Literal["grader", "person"] = Field(default="grader", description="`person` when an overrides file set the score")
    review_comment: str | None = None
    answer: Answer | None = Field(default=None, description="`manual` items: the question and the answer cells as written")
    plot: Plot | None = None
    hidden_checks: int = Field(default=0, description="in a student bundle: this item's checks that were not run")
    flags: list[str] = Field(default_factory=list, description="tampering seen while this item was checked (see the report's `tampering`)")
    round_trips: int | None = Field(default=None, description="operations the item's probes asked of the kernel")
    observed: str | None = Field(default=None, description="digest of what the item's probes observed on the grader's inputs "
                                 "(equal digests: equal behaviour; grader/mutants/observe.py)")
    like_mutant: str | None = Field(default=None, description="the known mutant of the solution this failing answer behaves "
                                    "exactly like, described for the student (the feedback ends with it)")


class CellError(BaseModel):
    cell: int
    ename: str
    evalue: str = ""


class Cells(BaseModel):
    total: int = 0
    executed: int = 0
    errors: list[CellError] = Field(default_factory=list)
    timed_out: list[int] = Field(default_factory=list)
    not_run: list[int] = Field(default_factory=list, description="cells skipped after the notebook's time limit or a dead kernel")
    kernel_died_at: int | None = None
    removed: list[CellError] = Field(default_factory=list, description="cells that stopped the kernel; the notebook was re-run without them")
    output_dropped_bytes: int = 0
    peak_memory_mb: float = 0.0


class Timing(BaseModel):
    total_s: float = 0.0
    execute_s: float = 0.0
    checks_s: float = 0.0
    kernel_wait_s: float = Field(default=0.0, description="how long grading waited for a ready kernel (started, preamble run)")
    kernel_warm: bool = Field(default=False, description="the kernel was started ahead of use (batch grading), not on demand")


class Student(BaseModel):
    """Who submitted: from Gradescope's `submission_metadata.json`, an LMS download's file name, or a map file."""

    name: str | None = None
    email: str | None = None
    sid: str | None = Field(default=None, description="the student id the LMS or Gradescope holds (SIS id)")
    login: str | None = None
    lms_id: str | None = Field(default=None, description="the LMS's own user id (Canvas `ID`, Gradescope user id)")
    source: Literal["gradescope", "canvas", "moodle", "map"] = "gradescope"


class LatePenalty(BaseModel):
    """A late-work policy applied to this submission: how late, how much it cost, and why."""

    submitted_at: str | None = Field(default=None, description="ISO 8601; None when only the LMS's late mark is known")
    due: str = Field(description="ISO 8601 due date the policy measured against")
    source: Literal["gradescope", "canvas", "moodle", "csv", "mtime"] = Field(description="where the submission time came from")
    minutes_late: float = 0.0
    days_late: int = Field(default=0, description="days charged: started days after the due date and the grace period")
    penalty_percent: float = 0.0
    points_deducted: float = 0.0
    score: float = Field(description="the score after the penalty (the report's `score` stays the sum of the items)")
    reason: str = Field(description="one sentence for the student and the gradebook")


class TamperSignal(BaseModel):
    """A message across the kernel wall that broke the one-answer rule (the item it concerns fails or errs)."""

    item: str | None = Field(default=None, description="the item being checked, or null for a notebook cell")
    what: str


class Report(BaseModel):
    schema_version: Literal[1] = SCHEMA_VERSION
    grader_version: str
    status: Literal["graded", "rejected", "error"]
    reason: str | None = None
    assignment: AssignmentRef = Field(default_factory=AssignmentRef)
    submission: SubmissionRef
    score: float = 0.0
    max_score: float = 0.0
    items: list[ItemResult] = Field(default_factory=list)
    cells: Cells = Field(default_factory=Cells)
    timing: Timing = Field(default_factory=Timing)
    isolation: Isolation = Field(default_factory=Isolation, description="what kept the kernel from the network and the grader's files")
    scope: Literal["all", "public"] = Field(default="all", description="`public`: graded by a student bundle, with the public checks only")
    hidden: HiddenChecks | None = Field(default=None, description="with scope `public`: what the instructor's grading adds")
    student: Student | None = Field(default=None, description="who submitted, when known (Gradescope metadata, an LMS file name)")
    late: LatePenalty | None = Field(default=None, description="the late-work policy's verdict, when one was applied")
    inputs: Inputs | None = Field(default=None, description="where the grader's inputs came from: the public seed, or the instructor's secret (by digest)")
    tampering: list[TamperSignal] = Field(default_factory=list, description="messages of the grader's type that the protocol refused: forged, doubled or missing answers")

    def item(self, item_id: str) -> ItemResult:
        return next(i for i in self.items if i.id == item_id)

    def final_score(self) -> float:
        """The score a gradebook records: after a late penalty, if any."""
        return self.late.score if self.late is not None else self.score

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


def report_schema() -> str:
    return json.dumps(Report.model_json_schema(), indent=2)
