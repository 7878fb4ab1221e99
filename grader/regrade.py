"""Regrades with a record: keep the report a regrade replaces, and say what changed between two sets of reports.

A batch that grades a submission again over a report that is no longer
current (another rubric version, another grader version, a changed file)
first copies that report to `name.prev.json`, so `grade diff OUT` can
always show what the regrade changed. `grade diff OLD NEW` compares two
result folders (or two report files): per submission the total, per item
the status, the points and the checks whose verdict changed.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .report import Report

PREVIOUS = ".prev.json"


def previous_path(report_file: Path) -> Path:
    return report_file.with_name(report_file.name[: -len(".json")] + PREVIOUS)


def keep_previous(report_file: Path) -> Path | None:
    """Copy a report about to be replaced to `name.prev.json` (only a readable report; atomically)."""
    try:
        Report.model_validate_json(report_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    target = previous_path(report_file)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(report_file, partial)
    partial.replace(target)
    return target


def read_reports(path: Path) -> dict[str, Report]:
    """Every report in a results folder (keyed by file name, `.prev.json` copies left out), or one report file."""
    files = [path] if path.is_file() else sorted(p for p in path.glob("*.json") if not p.name.endswith(PREVIOUS))
    reports = {}
    for file in files:
        try:
            reports[file.name] = Report.model_validate_json(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not a report (results.json of Gradescope, a stray file)
    return reports


def previous_reports(path: Path) -> tuple[dict[str, Report], dict[str, Report]]:
    """In one results folder: the `name.prev.json` reports and the current `name.json` of each."""
    old, new = {}, {}
    for prev in sorted(path.glob(f"*{PREVIOUS}")):
        current = prev.with_name(prev.name[: -len(PREVIOUS)] + ".json")
        try:
            old[current.name] = Report.model_validate_json(prev.read_text(encoding="utf-8"))
            new[current.name] = Report.model_validate_json(current.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old.pop(current.name, None)
    return old, new


@dataclass
class ItemChange:
    item: str
    old_status: str | None
    new_status: str | None
    old_score: float
    new_score: float
    checks: list[str] = field(default_factory=list)  # "name: passed → failed", "name: new", "name: removed"


@dataclass
class SubmissionChange:
    name: str
    old_score: float | None
    new_score: float | None
    old_version: str | None = None
    new_version: str | None = None
    items: list[ItemChange] = field(default_factory=list)
    note: str = ""

    @property
    def delta(self) -> float:
        return round((self.new_score or 0) - (self.old_score or 0), 4)


def _check_changes(old, new) -> list[str]:
    before = {c.name: c.passed for c in old.checks} if old else {}
    after = {c.name: c.passed for c in new.checks} if new else {}
    changes = []
    word = {True: "passed", False: "failed"}
    for name in after:
        if name not in before:
            changes.append(f"{name}: new check, {word[after[name]]}")
        elif before[name] != after[name]:
            changes.append(f"{name}: {word[before[name]]} → {word[after[name]]}")
    changes += [f"{name}: check removed" for name in before if name not in after]
    return changes


def diff_reports(old: dict[str, Report], new: dict[str, Report]) -> list[SubmissionChange]:
    """What changed, submission by submission (only those with a change), in name order."""
    changes = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None or b is None:
            present = b or a
            changes.append(SubmissionChange(name, a.final_score() if a else None, b.final_score() if b else None,
                                            note="only in the new results" if a is None else "only in the old results",
                                            new_version=present.assignment.version))
            continue
        change = SubmissionChange(name, a.final_score(), b.final_score(), a.assignment.version, b.assignment.version)
        if a.status != b.status:
            change.note = f"status {a.status} → {b.status}"
        old_items, new_items = {i.id: i for i in a.items}, {i.id: i for i in b.items}
        for item_id in [*old_items, *[i for i in new_items if i not in old_items]]:
            x, y = old_items.get(item_id), new_items.get(item_id)
            checks = _check_changes(x, y)
            same = x is not None and y is not None and x.status == y.status and x.score == y.score and x.max_score == y.max_score
            if not same or checks:
                change.items.append(ItemChange(item_id, x.status if x else None, y.status if y else None,
                                               x.score if x else 0.0, y.score if y else 0.0, checks))
        if a.late != b.late and (a.late or b.late):
            change.note = (change.note + "; " if change.note else "") + "late penalty changed"
        if change.items or change.note or change.delta:
            changes.append(change)
    return changes
