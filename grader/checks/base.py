"""The one interface every check kind implements, and what a judgement may look at.

A check kind says which probes to run (after the notebook, or right after
a cell for answers that must be taken when they are given) and how to
judge what came back. Judging runs in the grader's process, on parsed
values only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import nbformat

from ..anchors import Anchor
from ..compare import Outcome
from ..data import dataset_paths
from ..report import Cells, CheckResult, Found, ItemResult
from ..rubric import Assignment, Item
from ..values import Malformed, Raised, parse_observations


@dataclass(frozen=True)
class Probe:
    """One question for the kernel: run after the notebook, or right after cell `after_cell`."""

    key: str
    request: dict
    after_cell: int | None = None


@dataclass
class Evidence:
    """Everything a judgement may use."""

    nb: nbformat.NotebookNode
    cells: Cells
    anchors: list[Anchor] = field(default_factory=list)
    responses: dict[str, dict | None] = field(default_factory=dict)
    expected: dict | None = None
    found_cell: int | None = None
    problem: str | None = None
    question_cells: set[int] = field(default_factory=set)  # where every question of the assignment is


@dataclass(frozen=True)
class Verdict:
    """One judged property of an item."""

    name: str
    outcome: Outcome
    weight: float = 1.0
    hint: str = ""


class CheckKind(ABC):
    """A kind of check, chosen by name in a rubric item's `kind`."""

    name: ClassVar[str]
    needs_reference: ClassVar[bool] = False  # its after-notebook probe also runs on the reference

    def probes(self, item: Item, assignment: Assignment, anchors: list[Anchor]) -> list[Probe]:
        return []

    @abstractmethod
    def judge(self, item: Item, evidence: Evidence) -> ItemResult:
        """The item's status, score and feedback."""


def scored(item: Item, verdicts: list[Verdict], error: Raised | None = None, **fields) -> ItemResult:
    """Status, weighted score and feedback from an item's verdicts."""
    total = sum(v.weight for v in verdicts) or 1.0
    earned = sum(v.weight for v in verdicts if v.outcome.passed)
    failed = [v for v in verdicts if not v.outcome.passed]
    if not failed and error is None:
        status, feedback = "pass", "All checks passed."
    else:
        raised = error is not None or all(v.outcome.raised for v in failed)
        status = "error" if raised and earned == 0 else "fail"
        feedback = _failure_feedback(item, failed, error)
    checks = [CheckResult(name=v.name, passed=v.outcome.passed, message=v.outcome.message,
                          expected=v.outcome.expected, actual=v.outcome.actual) for v in verdicts]
    score = round(item.points * earned / total, 4) if status != "error" else 0.0
    return ItemResult(id=item.id, title=item.title, max_score=item.points, score=score, status=status,
                      feedback=feedback, checks=checks, **fields)


def unscored(item: Item, status: str, feedback: str, **fields) -> ItemResult:
    return ItemResult(id=item.id, title=item.title, max_score=item.points, score=0.0, status=status, feedback=feedback, **fields)


def _failure_feedback(item: Item, failed: list[Verdict], error: Raised | None) -> str:
    if failed:
        sentence, hint = failed[0].outcome.message, failed[0].hint or item.hint
    else:
        sentence, hint = error.sentence(), item.hint
    text = sentence if sentence.endswith((".", "?", "!")) else sentence + "."
    if len(failed) > 1:
        text += f" ({len(failed) - 1} more check{'s' if len(failed) > 2 else ''} failed.)"
    return f"{text} {hint}".strip()


def response_error(response: dict) -> Raised | None:
    error = response.get("error")
    if not isinstance(error, dict):
        return None
    return Raised(str(error.get("during", ""))[:200], str(error.get("ename", ""))[:100], str(error.get("evalue", ""))[:300])


class ProbeCheck(CheckKind):
    """Kinds that ask a named object after the notebook ran, and the reference the same."""

    needs_reference = True

    @abstractmethod
    def request(self, item: Item, assignment: Assignment) -> dict:
        """The kind's part of the probe request: which probe, with which inputs."""

    @abstractmethod
    def verdicts(self, item: Item, observed: dict, expected: dict, error: Raised | None) -> list[Verdict]:
        """Judge what the submission's object did against what the reference did."""

    def probes(self, item: Item, assignment: Assignment, anchors: list[Anchor]) -> list[Probe]:
        """One probe after the notebook; the same request goes to the reference."""
        request = {
            "item": item.id,
            "names": item.names,
            "params": {"seed": assignment.seed, **item.params},
            "reference": item.reference,
            "reference_target": item.reference_target or item.names[0],
            "reference_builder": item.reference_builder,
            "uses": item.uses,
            "data": dataset_paths(assignment.datasets),
        }
        request.update(self.request(item, assignment))
        return [Probe(item.id, request)]

    def judge(self, item: Item, evidence: Evidence) -> ItemResult:
        expected, response = evidence.expected, evidence.responses.get(item.id)
        if expected is None or "observations" not in expected:
            why = (expected or {}).get("error", "no answer")
            return unscored(item, "error", f"The grader could not compute the reference answer for this item ({why}).")
        if response is None:
            return unscored(item, "error", f"This item could not be checked: {evidence.problem or 'the check gave no answer'}.")
        name = response.get("found")
        if not name:
            also = f" (also accepted: {', '.join(item.names[1:])})" if len(item.names) > 1 else ""
            return unscored(item, "missing", f"No `{item.names[0]}`{also} was defined when the notebook finished running.")
        found = Found(name=str(name), cell=evidence.found_cell)
        try:
            observed = parse_observations(response)
        except Malformed as exc:
            return unscored(item, "error", f"The answer of this item could not be read ({exc}).", found=found)
        error = response_error(response)
        return scored(item, self.verdicts(item, observed, parse_observations(expected), error), error, found=found)
