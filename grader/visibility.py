"""Which items and checks students may run and see: the rubric's `public` flags, read one way everywhere.

An item is public unless the rubric says `public = false`; a check or a
function case takes its item's flag unless it sets its own. A public item
cannot be checked without the reference solution when its check needs
reference code beside the student's (`uses`, `reference_builder`,
`expected_from`, or a probe that ships reference definitions): such an item
cannot be public. The student bundle (`grader.export.student`), bundle mode
(`grader.bundle`), `%check` and Gradescope's split (`grader.export.public_view`)
all read the flags through here.
"""

from __future__ import annotations

from .probes.registry import probe_spec
from .report import HiddenChecks
from .rubric import Assignment, Item


def is_public(flag: bool | None, item: Item) -> bool:
    """A check's or a case's own `public` flag, or its item's when it sets none."""
    return item.public if flag is None else flag


def public_part(assignment: Assignment) -> tuple[Assignment, HiddenChecks, dict[str, int]]:
    """The assignment cut down to what students may run (perhaps no item), what was left out, and per item how many checks."""
    items, hidden, per_item = [], HiddenChecks(), {}
    for item in assignment.items:
        all_checks, all_cases = getattr(item, "checks", []), getattr(item, "cases", [])
        checks = [c for c in all_checks if is_public(c.public, item)]
        cases = [c for c in all_cases if is_public(c.public, item)]
        has_parts = bool(all_checks or all_cases)
        if (has_parts and not (checks or cases)) or (not has_parts and not item.public):
            hidden.items += 1
            hidden.points += item.points
            continue
        left_out = len(all_checks) - len(checks) + len(all_cases) - len(cases)
        if left_out:
            per_item[item.id] = left_out
            hidden.checks += left_out
        parts = {name: value for name, value in (("checks", checks), ("cases", cases)) if name in type(item).model_fields}
        items.append(item.model_copy(update={**parts, "public": True}))
    return assignment.model_copy(update={"items": items}), hidden, per_item


def needs_reference_code(item: Item) -> str | None:
    """Why checking this item would need reference code beside the student's (None: it does not)."""
    if getattr(item, "expected_from", None):
        return f"its expected answer is computed by reference.{item.expected_from} from the student's own values"
    if item.kind not in ("function", "behaviour") or not item.reference:
        return None
    if item.uses:
        return f"it lets {', '.join(item.uses)} resolve to the reference's versions in the student's kernel"
    if getattr(item, "reference_builder", None):
        return f"its probe builds the reference's object ({item.reference_builder}) in the student's kernel"
    probe = item.probe if item.kind == "behaviour" else "calls.call_function"
    if probe_spec(probe, item._folder).ships:
        return f"its probe {probe} uses reference code in the student's kernel ({', '.join(probe_spec(probe, item._folder).ships)})"
    return None
