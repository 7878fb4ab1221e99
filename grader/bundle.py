"""Bundle mode: grading with the reference's answers stored as data, and no reference code anywhere.

A rubric with an `expected.json` beside it (`grade export-student` writes
both, `grader.export.student`) is graded in bundle mode: the reference's
answers are read from the file instead of computed, the report says
`scope: public` and counts what the instructor's grading adds, and students
read "public checks passed", never "all checks passed", when hidden checks
exist.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, Field

from .report import HiddenChecks, Report
from .rubric import Assignment


class StoredAnswers(BaseModel):
    """`expected.json` of a bundle: the reference's answers, and what they answer."""

    grader_version: str
    assignment: str
    version: str
    answers: dict[str, dict] = Field(description="item id -> the reference's response to that item's probe")
    requests: dict[str, str] = Field(description="item id -> digest of the probe request the answer is for")
    hidden: HiddenChecks
    hidden_checks: dict[str, int] = Field(default_factory=dict, description="item id -> its checks left out of the bundle")


def request_digest(request: dict) -> str:
    """What an answer depends on in a request (the data paths and the assignment's folder differ from machine to machine)."""
    text = json.dumps({k: v for k, v in request.items() if k not in ("data", "folder")}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


class BundledAnswers:
    """Stands in for `ExpectedAnswers` in bundle mode: answers read from the file, never computed.

    An answer whose request changed since the export (an edited rubric) is
    left out, so the item says it has no reference answer instead of
    comparing with the wrong one.
    """

    cached = True

    def __init__(self, path: Path, requests: list[dict]):
        self.stored = StoredAnswers.model_validate_json(path.read_text(encoding="utf-8"))
        self.requests = requests

    def answers(self, requests: list[dict] | None = None) -> dict[str, dict]:
        """The stored answers to `requests` (by default, those given when it was made)."""
        digests = {r["item"]: request_digest(r) for r in (self.requests if requests is None else requests)}
        return {item: answer for item, answer in self.stored.answers.items() if self.stored.requests.get(item) == digests.get(item)}


def hidden_checks_of(answers) -> dict[str, int] | None:
    """Graded by a student bundle: per item, the checks its rubric left out; otherwise None (every check ran)."""
    return answers.stored.hidden_checks if isinstance(answers, BundledAnswers) else None


def hidden_of(answers) -> HiddenChecks | None:
    """Graded by a student bundle: what the instructor's grading adds (hidden items, checks, points); otherwise None."""
    return answers.stored.hidden if isinstance(answers, BundledAnswers) else None


def summary_line(report: Report) -> str | None:
    """One sentence on what a public-only score means, or None for an instructor's report."""
    if report.scope != "public" or report.hidden is None:
        return None
    judged = [i for i in report.items if i.status != "manual"]  # free text waits for a person either way
    passed = sum(i.status == "pass" for i in judged)
    hidden = report.hidden
    text = f"Public checks only: {passed} of {len(judged)} items passed their public checks."
    extra = []
    if hidden.items:
        extra.append(f"{hidden.items} hidden item{'s' if hidden.items != 1 else ''} ({hidden.points:g} point{'s' if hidden.points != 1 else ''})")
    if hidden.checks:
        extra.append(f"{hidden.checks} hidden check{'s' if hidden.checks != 1 else ''} of the items above")
    if extra:
        text += f" Your instructor also grades {' and '.join(extra)}, so the final score may be lower."
    return text
