"""Function equivalence: the submission's function and the reference on the same inputs."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

import numpy as np

from ..compare import Outcome, compare, describe
from ..kernel.agent import encode
from ..values import Raised
from .base import ProbeCheck, Verdict
from .illustrate import function_values

if TYPE_CHECKING:
    from ..rubric import ArgSpec, Assignment, Item


def make_argument(spec: ArgSpec, rng: np.random.Generator):
    """One input the grader chose, from its rubric description."""
    if spec.value is not None:
        return np.asarray(spec.value, dtype=spec.dtype)
    if spec.fill is not None:
        return np.full(spec.shape, spec.fill, dtype=spec.dtype)
    shape = tuple(spec.shape)
    if spec.random == "integers":
        return rng.integers(int(spec.low), int(spec.high) + 1, size=shape).astype(spec.dtype)
    if spec.random == "normal":
        return rng.normal(0.0, 1.0, size=shape).astype(spec.dtype)
    return rng.uniform(spec.low, spec.high, size=shape).astype(spec.dtype)


def make_cases(item: Item, seed: int) -> list[list[np.ndarray]]:
    """Every case's arguments; the same item and seed always give the same inputs."""
    return [
        [make_argument(spec, np.random.default_rng([seed, zlib.crc32(item.id.encode()), i])) for spec in case.args]
        for i, case in enumerate(item.cases)
    ]


class FunctionCheck(ProbeCheck):
    name = "function"

    def request(self, item: Item, assignment: Assignment) -> dict:
        return {"probe": "calls.call_function", "inputs": encode({"cases": make_cases(item, assignment.seed)})}

    def verdicts(self, item: Item, observed: dict, expected: dict, error: Raised | None) -> list[Verdict]:
        actual_cases = observed.get("cases") or []
        verdicts, mutated = [], None
        for i, (case, want) in enumerate(zip(item.cases, expected["cases"])):
            got = actual_cases[i] if i < len(actual_cases) and isinstance(actual_cases[i], dict) else {}
            inputs = ", ".join(describe(a, 70) for a in want["args_after"])
            outcome = compare(want["output"], got.get("output", error), rtol=item.rtol, atol=item.atol, dtype=item.dtype)
            if not outcome.passed:
                outcome = Outcome(False, f"on {case.name} input ({inputs}): {outcome.message}", outcome.expected, outcome.actual, outcome.max_error)
            verdicts.append(Verdict(case.name, outcome, case.weight, hint=item.hint))
            if mutated is None and "args_after" in got and not compare(want["args_after"], got["args_after"]).passed:
                mutated = Outcome(False, f"it changed its argument in place (on {case.name} input)", describe(want["args_after"]), describe(got["args_after"]))
        if any(v.outcome.passed or not v.outcome.raised for v in verdicts):
            verdicts.append(Verdict("leaves its arguments unchanged", mutated or Outcome(True), item.unchanged_weight,
                                    hint="Work on a copy (`x = x.copy()`)."))
        return verdicts

    def shown(self, item: Item, verdicts: list[Verdict], observed: dict, expected: dict):
        return function_values(item, verdicts, observed, expected), None
