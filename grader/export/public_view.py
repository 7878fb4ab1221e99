"""What students may see of a report at once, and what waits: each item split by the rubric's `public` flags.

A hidden item (`public = false`) is wholly hidden. A public item with hidden
checks or cases is cut in two: its public checks, with a feedback sentence
written from them alone (the grader's own sentence may quote a hidden check
or count it: "1 more check failed"), and its hidden checks. The points are
split by the checks' weights, so the two parts add up to the item's score.
Gradescope's export and the student's feedback page are built from these
parts; nothing of a hidden part is ever put into a visible one.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..report import CheckResult, ItemResult, Report
from ..rubric import Assignment, Item
from ..visibility import is_public


@dataclass
class ItemParts:
    """One item as students see it now (`public`) and as it waits (`hidden`); either may be None."""

    item: ItemResult
    public: ItemResult | None
    hidden: ItemResult | None


def _spec_weights(item: Item) -> tuple[dict[str, float], dict[str, bool], dict[str, str]]:
    """Per check name: its weight, whether students may see it, and its hint."""
    weights, visible, hints = {}, {}, {}
    for check in getattr(item, "checks", []):
        weights[check.name] = check.weight
        visible[check.name] = is_public(check.public, item)
        hints[check.name] = check.hint or item.hint
    for case in getattr(item, "cases", []):
        weights[case.name] = case.weight
        visible[case.name] = is_public(case.public, item)
        hints[case.name] = item.hint
    return weights, visible, hints


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _feedback(checks: list[CheckResult], hints: dict[str, str], all_passed: str) -> str:
    """A feedback sentence from these checks only: every failure's reason and hint, or `all_passed`."""
    failed = [c for c in checks if not c.passed]
    if not failed:
        return all_passed
    parts, seen_hints = [], set()
    for check in failed:
        parts.append(_sentence(check.message or f"{check.name} failed"))
        hint = hints.get(check.name, "")
        if hint and hint not in seen_hints:
            parts.append(hint)
            seen_hints.add(hint)
    return " ".join(parts)


def _status(checks: list[CheckResult], score: float, original: str) -> str:
    if original in ("missing", "manual"):
        return original
    if all(c.passed for c in checks):
        return "pass" if original != "error" else "error"
    return "error" if original == "error" and score == 0 else "fail"


def split_item(result: ItemResult, item: Item | None) -> ItemParts:
    """The item's public and hidden parts, by the rubric item (None: an item the rubric no longer has, shown whole)."""
    if item is None:
        return ItemParts(result, result, None)
    if not item.public and not any((c.public is True) for c in [*getattr(item, "checks", []), *getattr(item, "cases", [])]):
        return ItemParts(result, None, result)
    weights, visible, hints = _spec_weights(item)
    shown = [c for c in result.checks if visible.get(c.name, item.public)]
    kept = [c for c in result.checks if not visible.get(c.name, item.public)]
    hidden_specs = [n for n, v in visible.items() if not v]
    if not hidden_specs:
        return ItemParts(result, result, None)
    total_weight = sum(weights.get(c.name, 1.0) for c in result.checks)
    spec_total = sum(weights.values()) or 1.0
    hidden_share = sum(weights[n] for n in hidden_specs) / spec_total
    if result.checks and result.set_by == "grader" and total_weight > 0:
        public_max = round(result.max_score * sum(weights.get(c.name, 1.0) for c in shown) / total_weight, 4)
        public_score = 0.0 if result.score == 0 else round(result.max_score * sum(weights.get(c.name, 1.0) for c in shown if c.passed) / total_weight, 4)
    else:  # not judged check by check (missing, an error, a person's score): split by the rubric's weights
        public_max = round(result.max_score * (1 - hidden_share), 4)
        public_score = round(result.score * (1 - hidden_share), 4)
    public_score = min(public_score, result.score)
    hidden_max = round(result.max_score - public_max, 4)
    hidden_score = min(max(0.0, round(result.score - public_score, 4)), hidden_max)  # rounding never takes it past its bounds
    if result.checks and result.set_by == "grader":
        public_feedback = _feedback(shown, hints, "All public checks passed; further checks are graded separately.")
        hidden_feedback = _feedback(kept, hints, "All hidden checks passed.")
    else:
        public_feedback = result.feedback
        hidden_feedback = f"The hidden checks were not run: {result.feedback}" if result.status in ("missing", "error") else result.feedback
    public = result.model_copy(deep=True, update={
        "checks": shown, "max_score": public_max, "score": public_score, "feedback": public_feedback,
        "status": _status(shown, public_score, result.status), "plot": result.plot if not kept else None})
    hidden = result.model_copy(deep=True, update={
        "title": f"{result.title} (hidden checks)", "checks": kept, "max_score": hidden_max, "score": hidden_score,
        "feedback": hidden_feedback, "status": _status(kept, hidden_score, result.status)})
    return ItemParts(result, public, hidden)


def split_report(report: Report, assignment: Assignment | None) -> list[ItemParts]:
    """Every item of the report, split; without the rubric, every item counts as hidden (nothing leaks)."""
    if assignment is None:
        return [ItemParts(i, None, i) for i in report.items]
    items = {item.id: item for item in assignment.items}
    return [split_item(i, items.get(i.id)) for i in report.items]


def student_view(report: Report, assignment: Assignment | None) -> Report:
    """The report as students may see it at once: public items and public checks only, scores of those."""
    parts = split_report(report, assignment)
    items = [p.public for p in parts if p.public is not None]
    view = report.model_copy(deep=True, update={"items": items, "score": round(sum(i.score for i in items), 4),
                                                "max_score": round(sum(i.max_score for i in items), 4), "late": None})
    return view
