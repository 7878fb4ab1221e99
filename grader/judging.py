"""Judge every item once: its kind's judgement, and the notes that need the rest of the grade, built into one result.

A kind judges an item from its `Evidence` (`grader.checks`). Some of what the
student must read depends on more than the item: a cell the item needed
killed the kernel and was left out of the re-run; an item it relies on failed
too (`depends_on`), so that is the likely cause; a student bundle ran only the
public checks; the question was found by its answer's code, not its words;
the answer behaves exactly like a known mutant of the solution (a hint).
Those facts travel in the evidence too, and the item's `ItemResult` is built
here, once, from the judgement and them — nothing edits a result afterwards.
Items are judged in an order where what an item relies on comes first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from graphlib import TopologicalSorter

from .anchors import how_found_notes
from .causes import FAILED, with_causes
from .mutants.hints import hint_sentence
from .rebinding import judged_binding
from .checks import KINDS, Evidence
from .checks.base import Judgement
from .report import CellError, Found, ItemResult
from .rubric import Assignment, Item

ALL_PASSED = "All checks passed."


def lost_cell(evidence: Evidence) -> tuple[int, CellError] | None:
    """The first cell this item needs (where it was found, or a question's answer) that was left out of the re-run."""
    needed = {evidence.found_cell} | {i for anchor in evidence.anchors for i in anchor.answers}
    lost = sorted(needed & set(evidence.removed))
    return (lost[0], evidence.removed[lost[0]]) if lost else None


def _passed_feedback(judgement: Judgement, evidence: Evidence) -> str:
    """In a student bundle, a pass says it is a pass of the public checks, and how many more the instructor runs."""
    if evidence.hidden_checks is None or judgement.feedback != ALL_PASSED:
        return judgement.feedback
    more = f" ({evidence.hidden_checks} more run when your instructor grades it)" if evidence.hidden_checks else ""
    return f"All public checks passed{more}."


def item_result(item: Item, judgement: Judgement, evidence: Evidence) -> ItemResult:
    """The item's one result: the kind's judgement with what the rest of the grade adds to it."""
    status, score = judgement.status, judgement.score
    bound = judged_binding(item, evidence.responses.get(item.id)) if judgement.found is not None else None
    feedback = " ".join([_passed_feedback(judgement, evidence) if status == "pass" else judgement.feedback,
                         *how_found_notes(evidence.anchors), bound[1] if bound else ""]).strip()
    lost = lost_cell(evidence) if status != "pass" else None
    if lost is not None:
        cell, why = lost
        status, score = "error", 0.0
        feedback = (f"Cell {cell}, which this item needs, stopped the kernel ({why.evalue}); the notebook was "
                    f"run again without it. {feedback}").strip()
    if status in FAILED:
        feedback = with_causes(feedback, item, evidence.failed_dependencies)
    like = evidence.like_mutant if status in ("fail", "error") else None
    if like is not None:
        feedback = f"{feedback} {hint_sentence(like)}".strip()
    found = judgement.found
    if found is not None:
        cells, cell = evidence.nb.cells, bound[0].judged if bound else found.cell  # a rebound name: the binding judged
        found = Found(name=found.name, cell=cell, binding=bound[0] if bound else None,
                      anchored_by="meaning" if any(anchor.by == "meaning" for anchor in evidence.anchors) else None,
                      source=cells[cell].source if cell is not None and 0 <= cell < len(cells) else None)
    return ItemResult(id=item.id, title=item.title, max_score=item.points, status=status, score=score, feedback=feedback,
                      found=found, checks=list(judgement.checks), answer=judgement.answer, plot=judgement.plot,
                      hidden_checks=evidence.hidden_checks or 0, flags=evidence.flags, round_trips=evidence.round_trips or None,
                      observed=evidence.observed, like_mutant=like)


def judge_item(item: Item, evidence: Evidence) -> ItemResult:
    return item_result(item, KINDS[item.kind].judge(item, evidence), evidence)


def dependencies_first(assignment: Assignment) -> Iterator[Item]:
    """The assignment's items, each after the items it relies on (rubric order otherwise)."""
    by_id = {item.id: item for item in assignment.items}
    order = TopologicalSorter({item.id: [d for d in item.depends_on if d in by_id] for item in assignment.items})
    order.prepare()
    while order.is_active():
        ready = set(order.get_ready())
        for item in assignment.items:
            if item.id in ready:
                yield item
                order.done(item.id)


def judge_items(assignment: Assignment, evidence_for: Callable[[Item, list[ItemResult]], Evidence],
                judged: Callable[[ItemResult], None] = lambda result: None) -> list[ItemResult]:
    """Every item judged once, given its evidence and the failed items it relies on; results in rubric order."""
    results: dict[str, ItemResult] = {}
    for item in dependencies_first(assignment):
        failed = [results[d] for d in item.depends_on if d in results and results[d].status in FAILED]
        results[item.id] = judge_item(item, evidence_for(item, failed))
        judged(results[item.id])
    return [results[item.id] for item in assignment.items]
