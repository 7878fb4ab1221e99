"""The instructor's self-test of an assignment: `grade validate ASSIGNMENT`.

The assignment's own solution notebook must earn full marks (every item
passes; an item left to a person must at least be found), and each
known-wrong example listed in the rubric's `[validate]` section must lose
exactly the items it lists, no more and no fewer. A rubric, a reference or
a probe that drifted shows up here before a student sees it. The notebooks
are graded as a batch: the reference answers once, two notebooks at a time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import BaseModel, Field

from .batch import run_batch
from .report import Report
from .rubric import Assignment

KEPT = ("pass", "manual")  # a solution's manual items are found and left to a person


class ExampleResult(BaseModel):
    notebook: str
    role: str = Field(description="`solution` or `wrong`")
    score: float = 0.0
    max_score: float = 0.0
    must_lose: list[str] = Field(default_factory=list)
    lost: list[str] = Field(default_factory=list)
    manual: int = Field(default=0, description="items left to a person (found, score 0 until a person sets it)")
    problems: list[str] = Field(default_factory=list, description="why this example fails the self-test; empty when it passes")

    @property
    def ok(self) -> bool:
        return not self.problems


class Validation(BaseModel):
    assignment: str
    examples: list[ExampleResult]

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.examples)


def lost_items(report: Report) -> list[str]:
    return [i.id for i in report.items if i.status not in KEPT]


def judge_example(report: Report, role: str, must_lose: list[str], notebook: str) -> ExampleResult:
    """Compare one graded example with what the rubric says it must lose (pure)."""
    result = ExampleResult(notebook=notebook, role=role, score=report.score, max_score=report.max_score, must_lose=sorted(must_lose))
    if report.status != "graded":
        result.problems.append(f"it was not graded: {report.reason}")
        return result
    result.lost = sorted(lost_items(report))
    result.manual = sum(i.status == "manual" for i in report.items)
    by_id = {i.id: i for i in report.items}
    for item_id in sorted(set(result.lost) - set(must_lose)):
        item = by_id[item_id]
        result.problems.append(f"{item_id} should pass but is {item.status}: {item.feedback}")
    for item_id in sorted(set(must_lose) - set(result.lost)):
        result.problems.append(f"{item_id} should be lost but passed")
    return result


def validate(assignment: Assignment, *, workers: int = 2, out: Path | None = None) -> Validation:
    """Grade the solution and the known-wrong examples; say what does not hold."""
    directory = assignment.directory
    wanted = [("solution", assignment.self_test.solution, [])] + [("wrong", w.notebook, w.loses) for w in assignment.self_test.wrong]
    missing = [ExampleResult(notebook=name, role=role, must_lose=list(loses), problems=[f"no file {directory / name}"])
               for role, name, loses in wanted if not (directory / name).is_file()]
    present = [(role, name, loses) for role, name, loses in wanted if (directory / name).is_file()]
    names = [Path(name).name for _, name, _ in present]
    if len(set(names)) != len(names):
        raise ValueError("the solution and the known-wrong examples need distinct file names")
    with tempfile.TemporaryDirectory(prefix="grader-validate-") as scratch:
        reports = run_batch([directory / name for _, name, _ in present], assignment, out or Path(scratch), workers=workers) if present else {}
    examples = [judge_example(reports[Path(name).name], role, list(loses), name) for role, name, loses in present]
    return Validation(assignment=assignment.id, examples=missing + examples)
