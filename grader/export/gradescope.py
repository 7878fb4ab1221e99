"""A report as Gradescope's `results.json`, so this grader can be a Gradescope autograder unchanged.

The models follow the autograder specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): a
top-level `score`, `execution_time`, `output` and `tests`, each test with
`name`, `score`, `max_score`, `status`, `output` and `visibility`. They are
the single source of truth of the file; `to_gradescope` is a pure function
of the report.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..report import Report

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]


class _Gradescope(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GradescopeTest(_Gradescope):
    """One test case on Gradescope: here, one item of the rubric."""

    name: str
    score: float
    max_score: float
    status: Literal["passed", "failed"]
    output: str = ""
    visibility: Visibility = "visible"
    number: str | None = None
    tags: list[str] = Field(default_factory=list)


class GradescopeResults(_Gradescope):
    """The whole `results.json`."""

    score: float
    execution_time: float = Field(description="seconds")
    output: str = ""
    visibility: Visibility = "visible"
    stdout_visibility: Visibility = "hidden"
    tests: list[GradescopeTest] = Field(default_factory=list)
    extra_data: dict = Field(default_factory=dict)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True)


def _test_output(item) -> str:
    lines = [item.feedback.strip()] if item.feedback.strip() else []
    failed = [c for c in item.checks if not c.passed]
    for check in failed:
        line = f"✗ {check.name}"
        if check.expected is not None and check.actual is not None:
            line += f" — expected {check.expected}, got {check.actual}"
        lines.append(line)
    if item.found is not None and item.found.cell is not None:
        lines.append(f"(found `{item.found.name}` in cell {item.found.cell})")
    return "\n".join(lines)


def to_gradescope(report: Report, *, hidden: frozenset[str] = frozenset(), visibility: Visibility = "visible",
                  hidden_visibility: Visibility = "after_published") -> GradescopeResults:
    """Gradescope's results for one report; a notebook that could not be graded scores 0 and says why.

    Items the rubric hides from students (`public = false`) are shown to them
    only once the grades are published.
    """
    if report.status != "graded":
        return GradescopeResults(score=0.0, execution_time=report.timing.total_s,
                                 output=f"This submission could not be graded: {report.reason or report.status}.",
                                 extra_data={"status": report.status})
    tests = []
    for number, item in enumerate(report.items, start=1):
        status = "passed" if item.status == "pass" else "failed"
        tests.append(GradescopeTest(name=f"{item.id}: {item.title}", score=item.score, max_score=item.max_score, status=status,
                                    output=_test_output(item), visibility=hidden_visibility if item.id in hidden else visibility, number=str(number), tags=[item.status]))
    manual = [i.id for i in report.items if i.status == "manual"]
    summary = f"{report.assignment.id}: {report.score:g} / {report.max_score:g} from the automatic checks."
    if manual:
        summary += f" {len(manual)} item(s) are left to a person: {', '.join(manual)}."
    if report.cells.errors:
        summary += f" {len(report.cells.errors)} cell(s) raised an error when the notebook ran."
    return GradescopeResults(score=report.score, execution_time=report.timing.total_s, output=summary, tests=tests,
                             extra_data={"assignment": report.assignment.id, "grader_version": report.grader_version})


def results_schema() -> str:
    return json.dumps(GradescopeResults.model_json_schema(), indent=2)
