"""Free-text and open-ended answers: found, shown, left to a person (score 0 until then)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..anchors import answer_text
from ..report import Answer, AnswerCell, Found
from .base import CheckKind, Evidence, Judgement, unscored

if TYPE_CHECKING:
    from ..rubric import Item

SHOWN = 1500  # characters of the answer kept in the feedback


def _answer(nb, cells: list[int]) -> str:
    parts = []
    for index in cells:
        cell = nb.cells[index]
        parts.append(f"[cell {index}] {cell.source.strip()}")
    text = "\n".join(parts)
    return text if len(text) <= SHOWN else text[:SHOWN] + " …"


class ManualCheck(CheckKind):
    name = "manual"

    def judge(self, item: Item, evidence: Evidence) -> Judgement:
        anchor = evidence.anchors[0]
        if anchor.question is None:
            looked = "; ".join(f"“{q.text}”" for q in item.questions)
            return unscored(item, "missing", f"The question {looked} was not found in the notebook.")
        cells = answer_text(evidence.nb, anchor.question, evidence.question_cells - {anchor.question})
        if not cells:
            return unscored(item, "missing", f"Nothing answers the question “{anchor.text}”.")
        ran = ""
        if item.run:
            code = [i for i in cells if evidence.nb.cells[i].cell_type == "code"]
            errors = [e for e in evidence.cells.errors if e.cell in code]
            if not code:
                ran = " No code was written for it."
            elif errors:
                ran = f" Cell {errors[0].cell} raised {errors[0].ename}: {errors[0].evalue}."
            else:
                ran = " The answer cells ran without error."
        feedback = f"Left for a person to grade.{ran} The answer:\n{_answer(evidence.nb, cells)}"
        return unscored(item, "manual", feedback, found=Found(name="answer", cell=cells[0]),
                        answer=_as_written(evidence, anchor.question, cells))


def _as_written(evidence: Evidence, question: int, cells: list[int]) -> Answer:
    """The question and answer cells verbatim, and whether each code cell ran: what a reviewer reads."""
    failed = {e.cell for e in evidence.cells.errors} | set(evidence.cells.timed_out) | set(evidence.cells.not_run)
    nb = evidence.nb
    return Answer(question=nb.cells[question].source.strip(), cells=[
        AnswerCell(cell=i, cell_type=nb.cells[i].cell_type, source=nb.cells[i].source[:20_000],
                   ran=(i not in failed) if nb.cells[i].cell_type == "code" else None) for i in cells])
