"""Which assignment a notebook answers, when `--assignment` is not given: the evidence, weighed.

Each assignment's evidence is the items the notebook answers (a name it
defines, a question it asks) and the cells those answers are in. An
assignment scores the share of its own items found, times the share of its
cells that no assignment answering *more* items also explains. So a small
assignment whose names are a subset of a large one's (the writing guide's
numpy-net: `naive_relu` and `NaiveSequential` are dlwp-ch2's too) finds all
its items in a dlwp-ch2 notebook but explains nothing there that dlwp-ch2
does not, and scores 0; two assignments that each explain their own part of
a notebook (the week-3 notebook: dlwp-ch2's functions and week3-questions'
questions) still fit about equally, and the grader asks which. Adding an
assignment changes no other notebook's detection unless it explains cells
of that notebook that the detected one does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .anchors import find_question
from .loader import assignment_ids, load_assignment
from .notebook import Submission, defining_cells
from .rubric import Assignment

MARGIN = 0.1  # two assignments this close in score fit about equally


class AmbiguousAssignment(Exception):
    """Several assignments fit the notebook about equally well."""


@dataclass(frozen=True)
class Fit:
    """What of one assignment a notebook answers."""

    assignment: Assignment
    found: int  # items found
    cells: frozenset[int]  # the cells that answer them

    @property
    def share(self) -> float:
        return self.found / len(self.assignment.items)


def fit(nb, assignment: Assignment, defined: dict[str, int] | None = None) -> Fit:
    """The items of `assignment` the notebook answers, and in which cells."""
    defined = defining_cells(nb) if defined is None else defined
    found, cells = 0, set()
    for item in assignment.items:
        named = [defined[name] for name in item.names if name in defined]
        asked = [cell for q in item.questions if (cell := find_question(nb, q.texts)) is not None]
        if named or asked:
            found += 1
            cells.update(named[:1] or asked)
    return Fit(assignment, found, frozenset(cells))


def scores(nb, assignments: list[Assignment]) -> list[tuple[float, Fit]]:
    """Each assignment's score, best first: the share of its items found × the share of its cells only it explains
    among the assignments that answer at least as many items."""
    defined = defining_cells(nb)
    found = [fit(nb, a, defined) for a in assignments]
    scored = []
    for e in found:
        stronger = set().union(*(other.cells for other in found if other.found > e.found))
        own = len(e.cells - stronger) / len(e.cells) if e.cells else 0.0
        scored.append((e.share * own, e))
    return sorted(scored, key=lambda pair: pair[0], reverse=True)


def detect_assignment(submission: Submission, root: Path | None = None) -> Assignment:
    """The assignment the notebook answers best; AmbiguousAssignment when none, or two about equally."""
    return choose(submission.nb, [load_assignment(a, root) for a in assignment_ids(root)])


def choose(nb, assignments: list[Assignment]) -> Assignment:
    """The best of `assignments` for the notebook; AmbiguousAssignment when none fits, or two about equally."""
    scored = scores(nb, assignments)
    if not scored or scored[0][0] == 0:
        raise AmbiguousAssignment("no assignment's items were found in this notebook; name one with --assignment")
    if len(scored) > 1 and scored[1][0] >= scored[0][0] - MARGIN:
        names = " and ".join(e.assignment.id for _, e in scored[:2])
        raise AmbiguousAssignment(f"this notebook fits {names} about equally; name one with --assignment")
    return scored[0][1].assignment
