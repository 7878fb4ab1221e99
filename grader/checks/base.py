"""The one interface every check kind implements, and how an item's verdicts become its result.

A check kind says what to ask the kernel (`request`) and how to judge the
answer against the reference's answer to the same question (`verdicts`).
Judging runs in the grader's process, on parsed values only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from ..compare import Outcome
from ..report import CheckResult, Found, ItemResult
from ..rubric import Assignment, Item
from ..values import Malformed, Raised, parse_observations


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

    @abstractmethod
    def request(self, item: Item, assignment: Assignment) -> dict:
        """The probe request: which probe, on which names, with which inputs."""

    @abstractmethod
    def verdicts(self, item: Item, observed: dict, expected: dict, error: Raised | None) -> list[Verdict]:
        """Judge what the submission's object did against what the reference did."""


def _error(response: dict) -> Raised | None:
    error = response.get("error")
    if not isinstance(error, dict):
        return None
    return Raised(str(error.get("during", ""))[:200], str(error.get("ename", ""))[:100], str(error.get("evalue", ""))[:300])


def judge_item(kind: CheckKind, item: Item, response: dict | None, expected: dict | None, *, found_cell: int | None, problem: str | None = None) -> ItemResult:
    """Turn a probe's response into the item's status, score and feedback."""
    base = dict(id=item.id, title=item.title, max_score=item.points, score=0.0)
    if expected is None or "observations" not in expected:
        why = (expected or {}).get("error", {})
        return ItemResult(**base, status="error", feedback=f"The grader could not compute the reference answer for this item ({why}).")
    if response is None:
        return ItemResult(**base, status="error", feedback=f"This item could not be checked: {problem or 'the check gave no answer'}.")
    name = response.get("found")
    if not name:
        return ItemResult(**base, status="missing", feedback=_missing_feedback(item))
    found = Found(name=str(name), cell=found_cell)
    try:
        observed = parse_observations(response)
    except Malformed as exc:
        return ItemResult(**base, found=found, status="error", feedback=f"The answer of this item could not be read ({exc}).")
    error = _error(response)
    verdicts = kind.verdicts(item, observed, parse_observations(expected), error)
    total = sum(v.weight for v in verdicts) or 1.0
    earned = sum(v.weight for v in verdicts if v.outcome.passed)
    failed = [v for v in verdicts if not v.outcome.passed]
    if not failed and error is None:
        status, feedback = "pass", "All checks passed."
    else:
        raised = error is not None or all(v.outcome.raised for v in failed)
        status = "error" if raised and earned == 0 else "fail"
        feedback = _failure_feedback(item, failed, error)
    checks = [CheckResult(name=v.name, passed=v.outcome.passed, message=v.outcome.message, expected=v.outcome.expected, actual=v.outcome.actual) for v in verdicts]
    score = round(item.points * earned / total, 4) if status != "error" else 0.0
    return ItemResult(**base | {"score": score}, status=status, found=found, feedback=feedback, checks=checks)


def _missing_feedback(item: Item) -> str:
    also = f" (also accepted: {', '.join(item.names[1:])})" if len(item.names) > 1 else ""
    return f"No `{item.names[0]}`{also} was defined when the notebook finished running."


def _failure_feedback(item: Item, failed: list[Verdict], error: Raised | None) -> str:
    if failed:
        first = failed[0]
        sentence = first.outcome.message
        hint = first.hint or item.hint
    else:
        sentence, hint = error.sentence(), item.hint
    text = sentence if sentence.endswith((".", "?", "!")) else sentence + "."
    if len(failed) > 1:
        text += f" ({len(failed) - 1} more check{'s' if len(failed) > 2 else ''} failed.)"
    return f"{text} {hint}".strip()
