"""Scores a person gave: one CSV file per batch, merged into reports when grading again.

    submission,item,score,comment
    week3_practice.ipynb,why_copy,1,"Prevents side effects on the caller's array."

`submission` is the notebook's file name. An entry that cannot be used (a bad
score, an item the assignment does not have, a missing column) is an error
naming its line: a person's grade is never dropped silently.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .report import Report

COLUMNS = ("submission", "item", "score")


class OverridesError(Exception):
    """An overrides file or entry that cannot be used; the message names the line."""


@dataclass(frozen=True)
class Override:
    line: int
    submission: str
    item: str
    score: float
    comment: str


def read_overrides(path: Path) -> list[Override]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise OverridesError(f"{path}: cannot be read ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise OverridesError(f"{path}:1: missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)},comment)")
    entries = []
    for row in reader:
        line = reader.line_num
        if not (row.get("submission") or "").strip() or not (row.get("item") or "").strip():
            raise OverridesError(f"{path}:{line}: `submission` and `item` must not be empty")
        try:
            score = float(row["score"])
        except (TypeError, ValueError):
            raise OverridesError(f"{path}:{line}: score {row.get('score')!r} is not a number") from None
        if score < 0:
            raise OverridesError(f"{path}:{line}: score {score:g} is negative")
        entries.append(Override(line, row["submission"].strip(), row["item"].strip(), score, (row.get("comment") or "").strip()))
    return entries


def apply_overrides(report: Report, overrides: list[Override], path: Path) -> Report:
    """The report with a person's scores in place of the grader's, for this submission's entries."""
    name = Path(report.submission.path).name
    ids = {item.id: item for item in report.items}
    for entry in overrides:
        if entry.submission != name:
            continue
        item = ids.get(entry.item)
        if item is None:
            raise OverridesError(f"{path}:{entry.line}: {report.assignment.id} has no item {entry.item!r}")
        if entry.score > item.max_score:
            raise OverridesError(f"{path}:{entry.line}: score {entry.score:g} is above {entry.item}'s {item.max_score:g} points")
        item.score = entry.score
        item.status = "pass" if entry.score == item.max_score else "fail"
        item.set_by = "person"
        item.review_comment = entry.comment or None
        item.feedback = f"Graded by a person: {entry.score:g}/{item.max_score:g}." + (f" {entry.comment}" if entry.comment else "")
    report.score = round(sum(i.score for i in report.items), 4)
    return report
