"""Question-anchored answers: the value a question's answer cells left, taken when they ran.

The answer is captured right after its last cell (the displayed value and
the names the cells bind, plus any names the rubric asks for), so a name
reused later in the notebook does not hide it. It passes when one of those
values matches what the rubric expects: a constant, or a reference function
of the captured names (computed here, in the grader's process).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from ..anchors import Anchor
from ..compare import Outcome, compare, describe, is_numeric
from ..folders import reference_file
from ..report import Found
from ..values import Foreign, Malformed, Raised, parse_observations
from .base import CheckKind, Evidence, Judgement, Probe, Verdict, scored, unscored

if TYPE_CHECKING:
    from ..rubric import Assignment, Item


def capture_key(item: Item, index: int) -> str:
    return f"{item.id}#{index}"


def candidates(observed: dict) -> list[tuple[str, object]]:
    """The values an answer left: what it displayed first, then the names it bound."""
    found = []
    if "displayed" in observed:
        found.append(("the displayed value", observed["displayed"]))
    for name, value in (observed.get("names") or {}).items():
        found.append((f"`{name}`", value))
    return [(label, value) for label, value in found if not isinstance(value, (Foreign, Raised)) and value is not None]


@cache
def _reference_module(path):
    spec = importlib.util.spec_from_file_location(f"reference_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reference_function(path: str, folder=None):
    """`module.function` of the item's folder's `reference/`, else of the top-level one."""
    module, function = path.rsplit(".", 1)
    return getattr(_reference_module(reference_file(module, folder)), function)


class AnswerCheck(CheckKind):
    name = "answer"

    def probes(self, item: Item, assignment: Assignment, anchors: list[Anchor]) -> list[Probe]:
        probes = []
        for index, anchor in enumerate(anchors):
            if not anchor.found:
                continue
            params = {"names": sorted(set(item.capture) | set(anchor.bound)), "displayed": anchor.displays}
            request = {"item": item.id, "names": [], "probe": "capture.snapshot", "params": params, "reference": None}
            probes.append(Probe(capture_key(item, index), request, after_cell=anchor.answers[-1]))
        return probes

    def judge(self, item: Item, evidence: Evidence) -> Judgement:
        verdicts, missing, first_found = [], [], None
        for index, (question, anchor) in enumerate(zip(item.questions, evidence.anchors)):
            if not anchor.found:
                missing.append(question.text)
                verdicts.append(Verdict(question.text, Outcome(False, f"no answer was found for the question “{question.text}”")))
                continue
            first_found = first_found if first_found is not None else anchor.answers[0]
            verdicts.append(Verdict(question.text, self._judge_one(item, question, anchor, evidence.responses.get(capture_key(item, index)), evidence)))
        if len(missing) == len(item.questions):
            looked = "; ".join(f"“{text}”" for text in missing)
            return unscored(item, "missing", f"The question {looked} was not found in the notebook, or nothing answers it.")
        return scored(item, verdicts, found=Found(name="answer", cell=first_found))

    def _judge_one(self, item: Item, question, anchor: Anchor, response: dict | None, evidence: Evidence) -> Outcome:
        errors = [e for e in evidence.cells.errors if e.cell in anchor.answers]
        if response is None:
            return Outcome(False, f"the answer to “{question.text}” could not be read ({evidence.problem or 'no capture'})")
        try:
            observed = parse_observations(response)
        except Malformed as exc:
            return Outcome(False, f"the answer could not be read ({exc})")
        found = candidates(observed)
        if not found:
            why = f": cell {errors[0].cell} raised {errors[0].ename}: {errors[0].evalue}" if errors else ""
            return Outcome(False, f"the answer to “{question.text}” left no value to check{why}", raised=bool(errors))
        if item.match == "rank":
            want = int(question.expected)
            ranks = [(label, np.ndim(value)) for label, value in found if is_numeric(value)]
            if any(rank == want for _, rank in ranks):
                return Outcome(True)
            shown = ", ".join(f"{label} has rank {rank}" for label, rank in ranks) or "no array"
            return Outcome(False, f"the answer to “{question.text}” should be a rank-{want} array: {shown}", f"rank {want}", shown)
        expected = self._expected(item, question, observed)
        if isinstance(expected, Outcome):
            return expected
        outcomes = [compare(expected, value, rtol=item.rtol, atol=item.atol) for _, value in found]
        if any(o.passed for o in outcomes):
            return Outcome(True)
        label, value = found[0]
        return Outcome(False, f"the answer to “{question.text}”: {label} is {describe(value, 120)}, expected {describe(expected, 120)}",
                       describe(expected), describe(value))

    @staticmethod
    def _expected(item: Item, question, observed: dict):
        if item.expected_from is None:
            return question.expected if question.expected is not None else item.expected
        names = observed.get("names") or {}
        missing = [n for n in item.capture if not is_numeric(names.get(n))]
        if missing:
            return Outcome(False, f"the answer needs {', '.join(f'`{n}`' for n in missing)} as arrays, and the notebook had none then")
        return _reference_function(item.expected_from, item._folder)(*(np.asarray(names[n]) for n in item.capture))

