"""Finding answers that have no fixed name: the question's markdown cell and the cells after it.

Students reword nothing on purpose but a lot by accident (numbering, case,
punctuation, a typo), so a question is found by a tolerant match of its
words, and its answer is the code that follows it up to the next markdown
cell. Sheets are also republished in other words (a new year's lab, a
heading of the student's own): a question whose words are not found is
looked for by its meaning, what its answer's code contains (the rubric's
`evidence`) or, without evidence, nearly all its words, in its place among
the questions and definitions the notebook does have (`locate_items`).
Pure functions of the notebook: nothing here runs code.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import unicodedata
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

import nbformat

from .notebook import bound_names

if TYPE_CHECKING:
    from .report import ItemResult
    from .rubric import Item

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
    return _score(normalise(question), normalise(cell_text))


def _score(q: str, c: str) -> float:
    if not q or not c:
        return 0.0
    if q in c:
        return 1.0
    matcher = SequenceMatcher(None, q, c, autojunk=False)
    # the share of the question found in the cell, in order, in runs of 4 or more characters
    # (short runs such as "the" or "of" match anywhere and prove nothing)
    matched = sum(block.size for block in matcher.get_matching_blocks() if block.size >= 4)
    return matched / len(q)


def _covered(q: str, grams: set[str]) -> int:
    """How many characters of `q` lie in a 4-character run that the cell also has: a bound on what `_score` can match."""
    covered = [False] * len(q)
    for j in range(len(q) - 3):
        if q[j:j + 4] in grams:
            covered[j:j + 4] = [True] * 4
    return sum(covered)


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
    by: str = "text"  # "meaning": its words were not found; its answer's code (or nearly its words) and its place were
    evidence: tuple[str, ...] = ()  # the evidence entries the answer's code contains

    @property
    def found(self) -> bool:
        return self.question is not None and bool(self.answers)


def locate_all(nb: nbformat.NotebookNode, questions: dict[str, list[str]], threshold: float = THRESHOLD) -> dict[str, Anchor]:
    """Anchor every question at once: each markdown cell answers at most one question.

    Sheets ask near-identical questions ("… of a rank-1 tensor", "… of a
    rank-3 tensor"), so the best matches are taken first and a cell that
    one question claimed is not given to another.
    """
    cells = {i: normalise(c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"}
    grams = {i: {text[j:j + 4] for j in range(len(text) - 3)} for i, text in cells.items()}
    wanted = {key: [q for q in map(normalise, texts) if q] for key, texts in questions.items()}

    def score(key: str, i: int) -> float:
        # only runs of 4 characters count, so a cell holding too few of the question's 4-grams cannot
        # reach the threshold: the costly matching is skipped (scores below the threshold are never used)
        return max((_score(q, cells[i]) for q in wanted[key] if len(q) < 4 or _covered(q, grams[i]) >= threshold * len(q)), default=0.0)

    pairs = sorted(((score(key, i), key, i) for key in questions for i in cells), key=lambda p: (-p[0], p[2]))
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


# --- questions found by their answers, where their words are not found ----------------------------

_MAGIC_LINE = re.compile(r"^\s*[!%]")
_LINK = re.compile(r"\]\([^)]*\)")
_STOPWORDS = frozenset("""a an and are as at be by do for from how in is it its of on or our so that the their then this
    to we what when which with you your""".split())


def code_tokens(source: str) -> frozenset[str]:
    """What a code cell contains: its names, dotted names (each suffix: `layers.Dense`, `Dense`),
    operators, numbers and one-word strings (`'sigmoid'`); comments and prose strings do not count."""
    text = "\n".join("pass" if _MAGIC_LINE.match(line) else line for line in source.splitlines()) + "\n"
    found: set[str] = set()
    chain: list[str] = []
    after_dot = False

    def close():
        found.update(".".join(chain[i:]) for i in range(len(chain)))
        chain.clear()

    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NAME:
                if not after_dot:
                    close()
                chain.append(token.string)
                found.add(token.string)
                after_dot = False
            elif token.type == tokenize.OP and token.string == "." and chain and not after_dot:
                after_dot = True
            else:
                close()
                after_dot = False
                if token.type in (tokenize.OP, tokenize.NUMBER):
                    found.add(token.string)
                elif token.type == tokenize.STRING:
                    try:
                        value = ast.literal_eval(token.string)
                    except (ValueError, SyntaxError):
                        continue
                    if isinstance(value, str) and value.isidentifier():
                        found.add(value)
    except (tokenize.TokenError, SyntaxError):  # an unfinished cell: what was read so far counts
        pass
    close()
    return frozenset(found)


def _words(text: str) -> set[str]:
    return {w for w in normalise(_LINK.sub("]", text)).split() if len(w) > 1 and w not in _STOPWORDS}


def _heading_above(nb: nbformat.NotebookNode, index: int) -> str:
    """The nearest markdown heading at or above a cell (a section title names what follows it)."""
    for i in range(index, -1, -1):
        cell = nb.cells[i]
        if cell.cell_type == "markdown":
            headings = [line for line in cell.source.splitlines() if line.lstrip().startswith("#")]
            if headings:
                return headings[-1]
    return ""


def _definitions(nb: nbformat.NotebookNode) -> dict[str, int]:
    """For each function or class the notebook defines (`def`, `class`), the first cell that does.

    Only definitions mark the sheet's structure: a variable such as `model`
    or `x` is bound all over a notebook.
    """
    where: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse("\n".join("pass" if _MAGIC_LINE.match(l) else l for l in cell.source.splitlines()))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                where.setdefault(node.name, index)
    return where


def _longest_increasing(known: list[tuple[int, int]]) -> list[int]:
    """The slots of the longest run of (slot, cell) pairs whose cells rise with the slots: the sheet's order as the notebook keeps it."""
    best: list[list[int]] = []
    for k, (slot, cell) in enumerate(known):
        chains = [best[j] for j in range(k) if known[j][1] < cell]
        best.append(max(chains, key=len, default=[]) + [k])
    longest = max(best, key=len, default=[])
    return [known[k][0] for k in longest]


def _satisfied(evidence: list, tokens: frozenset[str]) -> tuple[str, ...] | None:
    """The entry (or alternative) of each evidence item the code contains, or None if one is absent."""
    shown = []
    for entry in evidence:
        options = [entry] if isinstance(entry, str) else list(entry)
        hit = next((o for o in options if o in tokens), None)
        if hit is None:
            return None
        shown.append(hit)
    return tuple(shown)


def _align(keys: list[str], cells: list[int], pair) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Give questions (in the sheet's order) cells (in the notebook's order), keeping both orders:
    as many questions as possible, then the closest wording (`pair` scores one, or None if it cannot be)."""
    n, m = len(keys), len(cells)
    score = [[(0, 0.0)] * (m + 1) for _ in range(n + 1)]
    scored = {(i, j): pair(keys[i], cells[j]) for i in range(n) for j in range(m)}
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            options = [score[i - 1][j], score[i][j - 1]]
            found = scored[i - 1, j - 1]
            if found is not None:
                count, words = score[i - 1][j - 1]
                options.append((count + 1, words + found[0]))
            score[i][j] = max(options)
    chosen, i, j = {}, n, m
    while i and j:
        found = scored[i - 1, j - 1]
        if score[i][j] == score[i - 1][j]:
            i -= 1
        elif score[i][j] == score[i][j - 1]:
            j -= 1
        else:
            chosen[keys[i - 1]] = (cells[j - 1], found[1])
            i, j = i - 1, j - 1
    return chosen


def locate_items(nb: nbformat.NotebookNode, items: list["Item"]) -> dict[str, list[Anchor]]:
    """Every item's questions anchored: by their words (`locate_all`), then, for those not found,
    by their answers' evidence, in their place in the sheet.

    The sheet's order is read off what was found: questions found by their
    words and the functions and classes the items name, in rubric order, as
    far as the notebook keeps that order. A question not found is looked for
    only between its found neighbours, among markdown cells no question
    claimed, whose answer cells contain all its evidence (and bind the
    item's name, if it has one); the closest wording (the cell and the
    heading above it) decides between candidates. A notebook with nothing
    of the assignment found gives no place to look: the question stays
    not found.
    """
    keys = {f"{item.id}#{i}": (item, q) for item in items for i, q in enumerate(item.questions)}
    located = locate_all(nb, {key: q.texts for key, (item, q) in keys.items()})
    defined = _definitions(nb)
    slots: list[tuple[str | None, int | None]] = []
    for item in items:
        if item.questions:
            slots.extend((f"{item.id}#{i}", located[f"{item.id}#{i}"].question) for i in range(len(item.questions)))
        else:
            cells = [defined[name] for name in item.names if name in defined]
            slots.append((None, min(cells) if cells else None))
    spine = _longest_increasing([(i, cell) for i, (_, cell) in enumerate(slots) if cell is not None])
    if spine:
        taken = {anchor.question for anchor in located.values() if anchor.question is not None}
        marks = [(-1, -1), *((i, slots[i][1]) for i in spine), (len(slots), len(nb.cells))]
        for (low_slot, low_cell), (high_slot, high_cell) in zip(marks, marks[1:]):
            wanted = [key for key, cell in slots[low_slot + 1:high_slot] if key and cell is None]
            cells = [i for i in range(low_cell + 1, high_cell) if nb.cells[i].cell_type == "markdown" and i not in taken]
            if wanted and cells:
                for key, (cell, shown) in _align(wanted, cells, lambda k, c: _candidate(nb, *keys[k], c)).items():
                    item, question = keys[key]
                    located[key] = replace(_anchor(nb, question.text, cell), by="meaning", evidence=shown)
    return {item.id: [located[f"{item.id}#{i}"] for i in range(len(item.questions))] for item in items}


WORDS_FOUND = 0.8  # a question without evidence: the share of its words the cell must hold
WORDS_OWN = 0.5  # … and the share of the cell's words that are the question's (a question, not a paragraph)


def _candidate(nb: nbformat.NotebookNode, item: "Item", question, cell: int) -> tuple[float, tuple[str, ...]] | None:
    """How well a markdown cell fits a question it may be (None: it cannot be).

    With evidence, its answer cells must hold all of it (and bind the item's
    name, if it has one); the wording of the cell and its heading only ranks
    the candidates. Without, the cell itself must ask nearly all of the
    question's words and little else.
    """
    if not question.evidence:
        own = _words(nb.cells[cell].source)
        fits = [(len(_words(text) & own) / max(len(_words(text)), 1), len(_words(text) & own) / max(len(own), 1))
                for text in question.texts]
        recall, share = max(fits)
        return (recall, ()) if recall >= WORDS_FOUND and share >= WORDS_OWN else None
    answers = answer_cells(nb, cell)
    if not answers:
        return None
    tokens = frozenset().union(*(code_tokens(nb.cells[i].source) for i in answers))
    shown = _satisfied(question.evidence, tokens)
    if shown is None:
        return None
    if item.names and not any(set(item.names) & bound_names(nb.cells[i].source) for i in answers):
        return None
    context = _words(nb.cells[cell].source + "\n" + _heading_above(nb, cell))
    wording = max((len(_words(text) & context) / max(len(_words(text)), 1) for text in question.texts), default=0.0)
    return wording, shown


def how_found_notes(anchors: list[Anchor]) -> list[str]:
    """Sentences for the feedback: each question found by its answer's code and place, not its words, and which cell it took."""
    notes = []
    for anchor in anchors:
        if anchor.by == "meaning":
            why = (f"since the code after it uses {' and '.join(f'`{entry}`' for entry in anchor.evidence)}" if anchor.evidence
                   else "since it asks nearly the same words")
            notes.append(f"The question “{anchor.text}” is not in the notebook in these words: the grader took cell "
                         f"{anchor.question} for it, where the sheet asks it, {why}.")
    return notes
