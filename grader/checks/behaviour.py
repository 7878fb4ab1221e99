"""Behaviour checks: a named probe exercises an object, named rules judge what it saw.

Used for classes (a layer, a model, a batch generator), for functions whose
effect matters more than their return value (a weight update, a training
step, a fit), and for trained models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..compare import Outcome
from ..values import Raised
from .base import ProbeCheck, Verdict
from .illustrate import behaviour_values
from .rules import rule_named

if TYPE_CHECKING:
    from ..rubric import Assignment, Item


class BehaviourCheck(ProbeCheck):
    name = "behaviour"

    def request(self, item: Item, assignment: Assignment) -> dict:
        return {"probe": item.probe}

    def verdicts(self, item: Item, observed: dict, expected: dict, error: Raised | None) -> list[Verdict]:
        verdicts = []
        for check in item.checks:
            if check.observe not in observed:
                reason = error.sentence() if error else f"nothing was observed for {check.observe!r}"
                outcome = Outcome(False, reason, raised=error is not None)
            else:
                outcome = rule_named(check.rule, item._folder)(check, observed, expected, item)
            verdicts.append(Verdict(check.name, outcome, check.weight, check.hint))
        return verdicts

    def shown(self, item: Item, verdicts: list[Verdict], observed: dict, expected: dict):
        return behaviour_values(item, verdicts, observed, expected)
