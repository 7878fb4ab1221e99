"""A student's check of one item inside their own notebook: the live kernel's objects, judged at once.

`%load_ext grader` then `%check naive_relu` (or `from grader import check;
check("naive_relu")`) runs the item's probe request — the very request the
grader sends to a submission's kernel — through `LocalExecutor` over the
notebook's live namespace (`grader.probes.registry.run_request`), and judges
it with the check kind's own judgement against the bundle's stored answers
(`expected.json`) or, in a full install, the reference's answers computed in
a clean process and cached. Inputs come from the rubric's public seed, the
one the bundle's answers were computed for. No reference code enters the
student's kernel: an item whose check needs it (`uses`, `ships`, a reference
builder) says it cannot be previewed, and so does an item found by its
question (its answer is taken at its cell, which a live kernel has left
behind).

It is a preview: the code under test runs in the student's own process, on
whatever state the cells left, in whatever order they ran. The grade comes
from a fresh top-to-bottom run (`grade NOTEBOOK`), and the result says so.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import io
import os
import random
import re
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .checks import KINDS, Evidence
from .judging import judge_item
from .notebook import NotebookRejected, defining_cells, load
from .probes.executor import LocalExecutor
from .probes.registry import run_request
from .report import Cells, ItemResult
from .loader import assignment_ids, load_assignment

if TYPE_CHECKING:
    import nbformat
from .rubric import Assignment, Item, RubricError, UnknownAssignment
from .visibility import needs_reference_code
from .bundle import BundledAnswers, hidden_checks_of

ASSIGNMENT_ENV = "GRADER_ASSIGNMENT"  # which assignment `%check` checks, when the notebook cannot say
NOTEBOOK_ENV = "GRADER_NOTEBOOK"  # the notebook file, to say which cell defines a name
MIME = "application/x-grader-selfcheck+json"  # machine-readable result (tests, tools); not the grader's protocol type
PREVIEW = ("Preview on this notebook's current state, checked in this kernel with the public checks. "
           "Your grade comes from a fresh top-to-bottom run of the notebook (`grade NOTEBOOK`): cells run out "
           "of order, edited or deleted since can make the two differ.")


class Previewed(str, enum.Enum):
    """Whether an item could be checked in the live kernel."""

    CHECKED = "checked"
    NOT_PREVIEWABLE = "not previewable"


class CheckError(Exception):
    """`%check` cannot run: unknown item or assignment, or no assignment can be chosen; the message says what to do."""


@dataclass
class SelfCheck:
    """One item checked in the live kernel: `status`, `score`, `max_score`, `feedback` as the report's item."""

    item: str
    title: str
    status: str  # a report status (pass, fail, error, missing), or `not checked`
    score: float
    max_score: float
    feedback: str
    previewed: Previewed = Previewed.CHECKED
    assignment: str = ""
    seconds: float = 0.0
    result: ItemResult | None = None  # the judged item, as the report would hold it
    cells: list[str] | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def as_dict(self) -> dict:
        return {"item": self.item, "assignment": self.assignment, "status": self.status, "score": self.score,
                "max_score": self.max_score, "feedback": self.feedback, "previewed": self.previewed.value,
                "seconds": round(self.seconds, 4)}

    def __repr__(self) -> str:
        points = f"{self.score:g}/{self.max_score:g}" if self.previewed is Previewed.CHECKED else f"-/{self.max_score:g}"
        lines = [f"{self.item}: {self.status} ({points}) — {self.feedback}"]
        if self.result is not None:
            for check in self.result.checks:
                if not check.passed:
                    lines.append(f"  ✗ {check.name}: {check.message}")
                    if check.expected is not None or check.actual is not None:
                        lines.append(f"      expected {check.expected}, got {check.actual}")
        lines.append(f"({PREVIEW})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return _html([self])

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {MIME: self.as_dict()}


class SelfChecks(list):
    """Several items checked at once (`%check` with no item, or several)."""

    def __repr__(self) -> str:
        if not self:
            return "No item of the assignment has its objects defined in this kernel yet."
        return "\n".join(repr(r).rsplit("\n(", 1)[0] for r in self) + f"\n({PREVIEW})"

    def _repr_html_(self) -> str:
        return _html(list(self))

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {MIME: {"results": [r.as_dict() for r in self]}}


# --- the assignment, the namespace, the notebook file -------------------------------------------


def user_namespace() -> dict:
    """The live notebook's namespace (IPython's), else `__main__`'s."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    import __main__

    return vars(__main__)


def notebook_path(namespace: dict, given: str | Path | None = None) -> Path | None:
    """The notebook file, when the front end says (`__session__` in Jupyter, `__vsc_ipynb_file__` in VS Code)."""
    for candidate in (given, os.environ.get(NOTEBOOK_ENV), namespace.get("__vsc_ipynb_file__"),
                      namespace.get("__session__"), os.environ.get("JPY_SESSION_NAME")):
        if candidate and str(candidate).endswith(".ipynb") and Path(candidate).is_file():
            return Path(candidate)
    return None


def find_assignment(assignment_id: str | None, namespace: dict, notebook: Path | None) -> Assignment:
    """As `grade` chooses: named (`-a ID`, or GRADER_ASSIGNMENT), a bundle's only one, or the best fit."""
    chosen = assignment_id or os.environ.get(ASSIGNMENT_ENV)
    ids = assignment_ids()
    try:
        if chosen:
            return load_assignment(chosen)
        if len(ids) == 1:
            return load_assignment(ids[0])
        if notebook is not None:
            from .grade import AmbiguousAssignment, detect_assignment

            try:
                return detect_assignment(load(notebook))
            except (AmbiguousAssignment, NotebookRejected) as exc:
                raise CheckError(f"{exc} (here: `%check -a ID ...`)") from None
    except (UnknownAssignment, RubricError) as exc:
        raise CheckError(str(exc)) from None
    scored = []
    for one in ids:
        assignment = load_assignment(one)
        named = [item for item in assignment.items if item.names]
        hits = sum(any(n in namespace for n in item.names) for item in named)
        scored.append((hits / max(1, len(named)), assignment))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    if not scored or scored[0][0] == 0:
        raise CheckError(f"no assignment's items are defined in this kernel yet; name one: `%check -a ID` (known: {', '.join(ids)})")
    if len(scored) > 1 and scored[1][0] >= scored[0][0] - 0.1:
        raise CheckError(f"this notebook fits {scored[0][1].id} and {scored[1][1].id} about equally; name one: `%check -a ID ...`")
    return scored[0][1]


# --- checking one item ---------------------------------------------------------------------------


class _Answers:
    """The reference's answers, kept per item: the bundle's file, or computed in a clean process (cached on disk)."""

    def __init__(self):
        self.known: dict[tuple, dict | None] = {}
        self.bundles: dict[tuple, BundledAnswers] = {}

    def bundle(self, assignment: Assignment) -> BundledAnswers | None:
        """A student bundle's stored answers, read once; None in a full install."""
        if assignment.answers is None:
            return None
        key = (assignment.id, str(assignment.directory))
        if key not in self.bundles:
            self.bundles[key] = BundledAnswers(assignment.answers, [])
        return self.bundles[key]

    def fetch(self, assignment: Assignment, items: list[Item]) -> None:
        """Make sure the answers of `items` are known: one reference run for all those not known yet."""
        todo = [i for i in items if (assignment.id, str(assignment.directory), i.id) not in self.known
                and KINDS[i.kind].needs_reference and getattr(i, "reference", None) and not_previewable(i) is None]
        if not todo:
            return
        probes = {i.id: KINDS[i.kind].probes(i, assignment, []) for i in todo}
        requests = [p.request for i in todo for p in probes[i.id] if p.request.get("reference")]
        if assignment.answers is not None:
            answers = self.bundle(assignment).answers(requests)
        else:  # a full install: the reference in a clean process, with the rubric's public seed (cached on disk)
            from .grade import reference_answers

            answers = reference_answers(assignment.model_copy(update={"items": todo}), probes).answers()
        for i in todo:
            self.known[(assignment.id, str(assignment.directory), i.id)] = answers.get(i.id)

    def for_item(self, assignment: Assignment, item: Item) -> dict | None:
        self.fetch(assignment, [item])
        return self.known.get((assignment.id, str(assignment.directory), item.id))


ANSWERS = _Answers()


def not_previewable(item: Item) -> str | None:
    """Why this item cannot be checked in the live kernel (None: it can)."""
    if item.questions:
        looked = "; ".join(f"“{q.text}”" for q in item.questions)
        return (f"This item is found by its question ({looked}) and answered at its cell: its answer is taken right "
                f"after that cell runs, and this kernel may have changed those names since. It cannot be checked in the "
                f"live kernel reliably; run `grade` for it.")
    why = needs_reference_code(item)
    if why:
        return f"This item cannot be previewed in the notebook: {why}, and the reference stays out of your kernel. Run `grade` for it."
    if item.kind not in ("function", "behaviour"):
        return f"This item ({item.kind}) is not checked by calling your code; run `grade` for it."
    return None


def _undefined(item: Item, saved: nbformat.NotebookNode | None) -> str:
    name = item.names[0]
    also = f" (or {', '.join(f'`{n}`' for n in item.names[1:])})" if len(item.names) > 1 else ""
    if saved is not None:
        cell = _defining_cell(item, saved)
        if cell is not None:
            first = saved.cells[cell].source.strip().splitlines()[0][:80]
            return (f"No `{name}`{also} is defined in this kernel yet. Cell {cell} of the saved notebook (`{first}`) "
                    f"should define it: run it, then check again.")
        return f"No `{name}`{also} is defined in this kernel yet, and no cell of the saved notebook defines it: the item asks for it ({item.title})."
    return f"No `{name}`{also} is defined in this kernel yet: no cell has defined it yet ({item.title})."


def _defining_cell(item: Item, saved: nbformat.NotebookNode) -> int | None:
    """The saved notebook's cell that defines one of the item's names, the first name first."""
    defined = defining_cells(saved)
    return next((defined[n] for n in item.names if n in defined), None)


def _saved(notebook: Path | None) -> nbformat.NotebookNode | None:
    """The saved notebook, read once per check (None: there is none, or it is not a notebook)."""
    if notebook is None:
        return None
    try:
        return load(notebook).nb
    except NotebookRejected:
        return None


@contextlib.contextmanager
def _quiet_and_same_randomness():
    """What the code under test prints goes nowhere; the notebook's random state is as it was afterwards."""
    import numpy as np

    py_state, np_state = random.getstate(), np.random.get_state()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


def check_item(item: Item, assignment: Assignment, namespace: dict, saved: nbformat.NotebookNode | None = None) -> SelfCheck:
    """One item, checked on the live `namespace`: its probe request, its judgement, as in a full grade.

    `saved` is the notebook as last saved, if there is one (where the item's cell is)."""
    started = time.perf_counter()
    base = dict(item=item.id, title=item.title, max_score=item.points, assignment=assignment.id)
    why = not_previewable(item)
    if why:
        return SelfCheck(status="not checked", score=0.0, feedback=why, previewed=Previewed.NOT_PREVIEWABLE, **base)
    if not any(name in namespace for name in item.names):
        return SelfCheck(status="missing", score=0.0, feedback=_undefined(item, saved), seconds=time.perf_counter() - started, **base)
    probes = {item.id: KINDS[item.kind].probes(item, assignment, [])}
    expected = ANSWERS.for_item(assignment, item)
    if saved is not None:
        nb, found_cell = saved, _defining_cell(item, saved)
    else:
        import nbformat  # only here: `%check` in a kernel imports little

        nb, found_cell = nbformat.v4.new_notebook(), None
    responses = {}
    with _quiet_and_same_randomness():
        for probe in probes[item.id]:
            responses[probe.key] = run_request(probe.request, LocalExecutor(namespace))
    hidden = hidden_checks_of(ANSWERS.bundle(assignment))
    evidence = Evidence(nb=nb, cells=Cells(), responses=responses, expected=expected, found_cell=found_cell,
                        hidden_checks=None if hidden is None else hidden.get(item.id, 0))
    judged = judge_item(item, evidence)
    cells = [c.source for c in saved.cells] if saved is not None else None
    return SelfCheck(status=judged.status, score=judged.score, feedback=judged.feedback, result=judged,
                     seconds=time.perf_counter() - started, cells=cells, **base)


def check(*items: str, assignment: str | None = None, namespace: dict | None = None,
          notebook: str | Path | None = None) -> SelfCheck | SelfChecks:
    """Check items of the assignment on the notebook's live objects (a preview; the grade is a fresh run).

    `check("naive_relu")` returns one `SelfCheck`; `check()` checks every item
    whose objects exist now, `check("a", "b")` those named, as `SelfChecks`.
    """
    namespace = user_namespace() if namespace is None else namespace
    path = notebook_path(namespace, notebook)
    chosen = find_assignment(assignment, namespace, path)
    by_id = {item.id: item for item in chosen.items}
    unknown = [i for i in items if i not in by_id]
    if unknown:
        raise CheckError(f"{chosen.id} has no item {', '.join(map(repr, unknown))} (its items: {', '.join(by_id)})")
    if items:
        picked = [by_id[i] for i in items]
    else:
        picked = [item for item in chosen.items if any(n in namespace for n in item.names)]
    ANSWERS.fetch(chosen, [item for item in picked if any(n in namespace for n in item.names)])  # one reference run
    saved = _saved(path)
    results = [check_item(item, chosen, namespace, saved) for item in picked]
    return results[0] if len(items) == 1 else SelfChecks(results)


# --- display -------------------------------------------------------------------------------------


def _scoped_css() -> str:
    """The feedback page's style, limited to the check's own output (never the notebook's page)."""
    from .render.html import CSS

    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS):
        selectors = selectors.strip()
        if selectors == "body":
            continue
        scoped = ", ".join(f".grader-check {s.strip()}" for s in selectors.split(","))
        rules.append(f"{scoped} {{{body}}}")
    return "\n".join(rules)


def _html(results: list[SelfCheck]) -> str:
    from markupsafe import Markup

    from .render.html import TEMPLATES, item_view

    shown = []
    for result in results:
        if result.result is not None:
            shown.append({"view": item_view(result.result, result.cells)})
        else:
            status = result.status if result.status in ("pass", "fail", "error", "missing") else "manual"
            label = "not checked here" if result.previewed is Previewed.NOT_PREVIEWABLE else result.status
            shown.append({"view": None, "css_status": status, "status": result.status, "max_score": result.max_score,
                          "item": result.item, "label": label, "title": result.title, "feedback": result.feedback})
    # the stylesheet is the grader's own, not text from the notebook: it goes in as it is
    return TEMPLATES.get_template("selfcheck.html.j2").render(results=shown, css=Markup(_scoped_css()), preview=PREVIEW)


# --- the IPython extension -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="%check", add_help=False)
    parser.add_argument("items", nargs="*")
    parser.add_argument("-a", "--assignment")
    parser.add_argument("--notebook")
    return parser


def check_magic(line: str) -> None:
    """`%check [-a ID] [--notebook PATH] [ITEM ...]`: check items now and show the result below the cell."""
    from IPython.display import display

    try:
        args = _parser().parse_args(shlex.split(line))
    except SystemExit:
        print("usage: %check [-a ASSIGNMENT] [--notebook PATH] [ITEM ...]")
        return
    try:
        result = check(*args.items, assignment=args.assignment, notebook=args.notebook)
    except CheckError as exc:
        print(f"%check: {exc}")
        return
    display(result)


def load_ipython_extension(ipython) -> None:
    ipython.register_magic_function(check_magic, "line", "check")
