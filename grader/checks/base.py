"""The one interface every check kind implements, and what a judgement may look at.

A check kind says which probes to run (after the notebook, or right after
a cell for answers that must be taken when they are given) and how to
judge what came back. Judging runs in the grader's process, on parsed
values only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

import nbformat

from ..anchors import Anchor
from ..causes import cell_raised, one_line
from ..compare import Outcome
from ..data import dataset_paths
from ..notebook import bound_names
from ..probes.registry import probe_spec
from ..report import Answer, ArrayData, Cells, CellError, CheckResult, Found, ItemResult, Plot
from ..values import Malformed, Raised, parse_observations

if TYPE_CHECKING:
    from ..rubric import Assignment, Item


@dataclass(frozen=True)
class Probe:
    """One question for the kernel: run after the notebook, or right after cell `after_cell`."""

    key: str
    request: dict
    after_cell: int | None = None


@dataclass
class Evidence:
    """Everything a judgement may use."""

    nb: nbformat.NotebookNode
    cells: Cells
    anchors: list[Anchor] = field(default_factory=list)
    responses: dict[str, dict | None] = field(default_factory=dict)
    expected: dict | None = None
    found_cell: int | None = None
    problem: str | None = None
    question_cells: set[int] = field(default_factory=set)  # where every question of the assignment is
    cell_stdout: dict[int, str] = field(default_factory=dict)  # what each code cell printed
    # what the rest of the grade knows, for the notes `grader.judging` adds to the kind's judgement:
    removed: dict[int, CellError] = field(default_factory=dict)  # cells that killed the kernel, emptied for the re-run
    failed_dependencies: list[ItemResult] = field(default_factory=list)  # items it relies on (`depends_on`) that failed
    hidden_checks: int | None = None  # in a student bundle: this item's checks left out (None: not a bundle)
    flags: list[str] = field(default_factory=list)  # tampering seen while its probes ran
    round_trips: int = 0  # operations its probes asked of the kernel
    observed: str | None = None  # the digest of what its probes observed (grader/mutants/observe.py)
    like_mutant: str | None = None  # the known mutant of the solution that behaves exactly so, described for the student


@dataclass(frozen=True)
class Shown:
    """The small values a check compared, kept for the feedback page (expected against actual)."""

    inputs: list[ArrayData] | None = None
    expected: ArrayData | None = None
    actual: ArrayData | None = None


@dataclass(frozen=True)
class Verdict:
    """One judged property of an item."""

    name: str
    outcome: Outcome
    weight: float = 1.0
    hint: str = ""
    shown: Shown = Shown()


@dataclass(frozen=True)
class Judgement:
    """A kind's judgement of one item: what `grader.judging` builds the item's one `ItemResult` from.

    It holds what the kind itself decides; notes that need the rest of the
    grade (a lost cell, a failed dependency, the bundle's scope, how the
    question was found) are added when the result is built, never afterwards.
    """

    status: str
    score: float
    feedback: str
    checks: tuple[CheckResult, ...] = ()
    found: Found | None = None
    answer: Answer | None = None
    plot: Plot | None = None


class CheckKind(ABC):
    """A kind of check, chosen by name in a rubric item's `kind`."""

    name: ClassVar[str]
    needs_reference: ClassVar[bool] = False  # its after-notebook probe also runs on the reference

    def probes(self, item: Item, assignment: Assignment, anchors: list[Anchor]) -> list[Probe]:
        return []

    @abstractmethod
    def judge(self, item: Item, evidence: Evidence) -> Judgement:
        """The item's status, score and feedback."""


def scored(item: Item, verdicts: list[Verdict], error: Raised | None = None, **fields) -> Judgement:
    """Status, weighted score and feedback from an item's verdicts."""
    total = sum(v.weight for v in verdicts) or 1.0
    earned = sum(v.weight for v in verdicts if v.outcome.passed)
    failed = [v for v in verdicts if not v.outcome.passed]
    if not failed and error is None:
        status, feedback = "pass", "All checks passed."
    else:
        raised = error is not None or all(v.outcome.raised for v in failed)
        status = "error" if raised and earned == 0 else "fail"
        feedback = _failure_feedback(item, failed, error)
    checks = tuple(CheckResult(name=v.name, passed=v.outcome.passed, message=v.outcome.message,
                               expected=v.outcome.expected, actual=v.outcome.actual, inputs=v.shown.inputs,
                               expected_value=v.shown.expected, actual_value=v.shown.actual) for v in verdicts)
    score = round(item.points * earned / total, 4) if status != "error" else 0.0
    return Judgement(status=status, score=score, feedback=feedback, checks=checks, **fields)


def unscored(item: Item, status: str, feedback: str, **fields) -> Judgement:
    return Judgement(status=status, score=0.0, feedback=feedback, **fields)


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _failure_feedback(item: Item, failed: list[Verdict], error: Raised | None) -> str:
    if failed:
        sentence, hint = failed[0].outcome.message, failed[0].hint or item.hint
    else:
        sentence, hint = error.sentence(), item.hint
    text = sentence if sentence.endswith((".", "?", "!")) else sentence + "."
    if item.feedback == "all" and len(failed) > 1:
        text = " ".join(_sentence(v.outcome.message) for v in failed)
    elif len(failed) > 1:
        text += f" ({len(failed) - 1} more check{'s' if len(failed) > 2 else ''} failed.)"
    return f"{text} {hint}".strip()


def response_error(response: dict) -> Raised | None:
    error = response.get("error")
    if not isinstance(error, dict):
        return None
    return Raised(str(error.get("during", ""))[:200], str(error.get("ename", ""))[:100], str(error.get("evalue", ""))[:300])


class ProbeCheck(CheckKind):
    """Kinds that ask a named object and the reference the same question.

    The probe runs after the notebook; for an item found by its question, it
    runs right after the question's last answer cell instead, so a name the
    notebook rebinds later (`model`) is asked as the answer left it. Either
    way the reference answers the same request. An item without a reference
    module is judged by its rules alone; one without names probes the
    answer cells themselves.
    """

    needs_reference = True

    @abstractmethod
    def request(self, item: Item, assignment: Assignment) -> dict:
        """The kind's part of the probe request: which probe, with which inputs."""

    @abstractmethod
    def verdicts(self, item: Item, observed: dict, expected: dict, error: Raised | None) -> list[Verdict]:
        """Judge what the submission's object did against what the reference did."""

    def shown(self, item: Item, verdicts: list[Verdict], observed: dict, expected: dict) -> tuple[list[Verdict], Plot | None]:
        """The verdicts with the small values they compared, and a plot where one helps (none by default)."""
        return verdicts, None

    def probes(self, item: Item, assignment: Assignment, anchors: list[Anchor]) -> list[Probe]:
        anchor = anchors[0] if anchors else None
        if anchor is not None and not anchor.found and not item.names:
            return []  # nothing to ask: the judgement says the question was not found
        request = {
            "item": item.id,
            "names": item.names,
            "params": {"seed": assignment.seed, **item.params},
            "reference": item.reference,
            "reference_target": item.reference_target or (item.names[0] if item.names else None),
            "reference_builder": getattr(item, "reference_builder", None),
            "uses": item.uses,
            "data": dataset_paths(assignment.datasets),
            "folder": None if item._folder is None else str(item._folder),  # where its probe and reference resolve
        }
        request.update(self.request(item, assignment))
        after = anchor.answers[-1] if anchor is not None and anchor.found else None
        return [Probe(item.id, request, after_cell=after)]

    def judge(self, item: Item, evidence: Evidence) -> Judgement:
        judgement = self._judge(item, evidence)
        stopped = answer_stopped(item, evidence)
        if stopped is not None and judgement.status == "pass":
            # judged on what its answer cells did: a cell that stopped early did only part of it (a loop that raised after one epoch)
            check = CheckResult(name="the answer's cells run to their end", passed=False, message=stopped.strip())
            return replace(judgement, status="fail", score=0.0, feedback=f"{stopped.strip()} {item.hint}".strip(),
                           checks=(*judgement.checks, check))
        if judgement.status not in ("fail", "error", "missing"):
            return judgement
        note = cell_error_note(item, evidence, judgement.feedback) or (stopped or "")
        return replace(judgement, feedback=judgement.feedback + note)

    def _judge(self, item: Item, evidence: Evidence) -> Judgement:
        anchor = evidence.anchors[0] if evidence.anchors else None
        if anchor is not None and not anchor.found and not item.names:
            looked = "; ".join(f"“{q.text}”" for q in item.questions)
            return unscored(item, "missing", f"The question {looked} was not found in the notebook, or no code answers it.")
        expected, response = evidence.expected, evidence.responses.get(item.id)
        if item.reference is None:
            expected = {"observations": {}}
        if expected is None or "observations" not in expected:
            why = (expected or {}).get("error", "no answer")
            return unscored(item, "error", f"The grader could not compute the reference answer for this item ({why}).")
        if response is None:
            return unscored(item, "error", f"This item could not be checked: {evidence.problem or 'the check gave no answer'}.")
        name = response.get("found")
        if not item.names:
            found = Found(name="answer", cell=anchor.answers[-1])
        elif not name:
            also = f" (also accepted: {', '.join(item.names[1:])})" if len(item.names) > 1 else ""
            when = "when the notebook finished running" if anchor is None or not anchor.found else f"after cell {anchor.answers[-1]}"
            return unscored(item, "missing", f"No `{item.names[0]}`{also} was defined {when}.")
        elif anchor is not None and anchor.found:  # the answer cell that bound it, not a later rebinding
            cell = next((i for i in reversed(anchor.answers) if str(name) in bound_names(evidence.nb.cells[i].source)), anchor.answers[-1])
            found = Found(name=str(name), cell=cell)
        else:
            found = Found(name=str(name), cell=evidence.found_cell)
        try:
            observed = parse_observations(response)
        except Malformed as exc:
            return unscored(item, "error", f"The answer of this item could not be read ({exc}).", found=found)
        if anchor is not None and anchor.found:  # what the probe declares it takes from its answer cells
            for name in probe_spec(response_probe(item), item._folder).from_cells:
                observed[name] = "\n".join(evidence.cell_stdout.get(i, "") for i in anchor.answers)
        error = response_error(response)
        reference = parse_observations(expected)
        verdicts, plot = self.shown(item, self.verdicts(item, observed, reference, error), observed, reference)
        return scored(item, verdicts, error, found=found, plot=plot)


def response_probe(item: Item) -> str:
    return getattr(item, "probe", None) or "calls.call_function"


def answer_stopped(item: Item, evidence: Evidence) -> str | None:
    """For an item found by its question: the note that one of its answer cells raised or was cut at its time limit.

    Such an item is judged on the state its answer cells left (the model a training loop trained); a cell that
    stopped early left only part of it, which may still pass every check.
    """
    text = item.questions[0].text if item.questions else ""
    quoted = f", an answer to “{text[:80]}{'…' if len(text) > 80 else ''}”," if text else ""
    raised = {e.cell: e for e in evidence.cells.errors}
    for cell in sorted({i for anchor in evidence.anchors if anchor.found for i in anchor.answers}):
        question = next((a.question for a in evidence.anchors if cell in a.answers), None)
        answers = quoted if question is not None else ""
        if cell in raised:
            error = raised[cell]
            how = ("stopped at one of its own asserts" if error.ename == "AssertionError"
                   else f"raised {one_line(error.ename, error.evalue).rstrip('.')}")
            return (f" Cell {cell}{answers} {how} and did not run to its end: "
                    f"what the item judged is only what the cell did before the error.")
        if cell in evidence.cells.timed_out:
            return (f" Cell {cell}{answers} was stopped at the time limit and did not run to its end: "
                    f"what the item judged is only what the cell did until then.")
    return None


def cell_error_note(item: Item, evidence: Evidence, feedback: str) -> str:
    """A cell that defines (or else mentions) one of the item's names raised: say which, and why."""
    for mention in (False, True):
        for error in evidence.cells.errors:
            source = evidence.nb.cells[error.cell].source
            names = [n for n in item.names if (n in source if mention else n in bound_names(source))]
            if names:
                name = next((n for n in names if f"`{n}`" in feedback), names[0])
                how = "mentions" if mention else "defines"
                return cell_raised(error.cell, how, name, error.ename, error.evalue)
    return ""
