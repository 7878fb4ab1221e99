"""Finding answers that have no fixed name: the question's markdown cell and the cells after it.

Students reword nothing on purpose but a lot by accident (numbering, case,
punctuation, a typo), so a question is found by a tolerant match of its
words, and its answer is the code that follows it up to the next markdown
cell. Pure functions of the notebook: nothing here runs code.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

import nbformat

from .notebook import bound_names

THRESHOLD = 0.85

_NUMBERING = re.compile(r"^\s*(?:q(?:uestion)?\s*)?(?:\d+(?:\.\d+)*|[a-z])[.):]\s+", re.IGNORECASE)
_MARKUP = re.compile(r"[#*_`>|]|\$+")
_NON_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """Lower-case words only: no markdown, numbering, punctuation or extra spaces."""
    text = unicodedata.normalize("NFKC", text)
    lines = [_NUMBERING.sub("", _MARKUP.sub(" ", line)) for line in text.splitlines()]
    return " ".join(_NON_WORD.sub(" ", " ".join(lines).lower()).split())


def match_score(question: str, cell_text: str) -> float:
    """How much of the question the cell contains: 1.0 when it is there word for word."""
    q, c = normalise(question), normalise(cell_text)
    if not q or not c:
        return 0.0
    if q in c:
        return 1.0
    matcher = SequenceMatcher(None, q, c, autojunk=False)
    # the share of the question found in the cell, in order, in runs of 4 or more characters
    # (short runs such as "the" or "of" match anywhere and prove nothing)
    matched = sum(block.size for block in matcher.get_matching_blocks() if block.size >= 4)
    return matched / len(q)


def find_question(nb: nbformat.NotebookNode, texts: list[str], threshold: float = THRESHOLD) -> int | None:
    """The markdown cell that asks one of `texts` (the first of the best matches)."""
    return locate_all(nb, {"q": texts}, threshold)["q"].question


def answer_cells(nb: nbformat.NotebookNode, question: int) -> list[int]:
    """The code cells after a question, up to the next markdown cell."""
    cells = []
    for index in range(question + 1, len(nb.cells)):
        cell = nb.cells[index]
        if cell.cell_type == "markdown" and cell.source.strip():
            break
        if cell.cell_type == "code" and cell.source.strip():
            cells.append(index)
    return cells


def answer_text(nb: nbformat.NotebookNode, question: int, stops: set[int]) -> list[int]:
    """Every cell (markdown or code) of a free-text answer, up to the next question in `stops`."""
    cells = []
    for index in range(question + 1, len(nb.cells)):
        if index in stops or nb.cells[index].source.lstrip().startswith("#") and nb.cells[index].cell_type == "markdown":
            break
        if nb.cells[index].source.strip():
            cells.append(index)
    return cells


def ends_with_expression(source: str) -> bool:
    """Whether a cell displays a value (its last statement is an expression without `;`)."""
    try:
        tree = ast.parse("\n".join("pass" if re.match(r"^\s*[!%]", l) else l for l in source.splitlines()))
    except SyntaxError:
        return False
    return bool(tree.body) and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";")


@dataclass(frozen=True)
class Anchor:
    """Where one question of an item was found, and the cells that answer it."""

    text: str
    question: int | None
    answers: tuple[int, ...] = ()
    bound: tuple[str, ...] = ()  # names the answer cells bind
    displays: bool = False  # the last answer cell displays a value

    @property
    def found(self) -> bool:
        return self.question is not None and bool(self.answers)


def locate_all(nb: nbformat.NotebookNode, questions: dict[str, list[str]], threshold: float = THRESHOLD) -> dict[str, Anchor]:
    """Anchor every question at once: each markdown cell answers at most one question.

    Sheets ask near-identical questions ("… of a rank-1 tensor", "… of a
    rank-3 tensor"), so the best matches are taken first and a cell that
    one question claimed is not given to another.
    """
    markdown = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]
    pairs = sorted(
        ((max(match_score(t, nb.cells[i].source) for t in texts), key, i) for key, texts in questions.items() for i in markdown),
        key=lambda p: (-p[0], p[2]),
    )
    where: dict[str, int] = {}
    taken: set[int] = set()
    for score, key, index in pairs:
        if score < threshold:
            break
        if key not in where and index not in taken:
            where[key] = index
            taken.add(index)
    return {key: _anchor(nb, texts[0], where.get(key)) for key, texts in questions.items()}


def _anchor(nb: nbformat.NotebookNode, text: str, question: int | None) -> Anchor:
    if question is None:
        return Anchor(text, None)
    answers = tuple(answer_cells(nb, question))
    bound = sorted(set().union(set(), *(bound_names(nb.cells[i].source) for i in answers)))
    displays = bool(answers) and ends_with_expression(nb.cells[answers[-1]].source)
    return Anchor(text, question, answers, tuple(bound), displays)
