"""Names a notebook binds more than once: capture every binding, judge the one the rubric asks for.

MIT's lab 1 binds `model` to a Sequential, then to a SubclassModel, then to an
IdentityModel; DLwP's chapter 2 binds it to the Keras listing's model, then to
the from-scratch one. An item with a `binding` rule (rubric.Binding) whose
name is bound in two or more cells gets a capture probe right after each of
those cells (`capture.binding`: the object's classes, its identity, and a
handle that keeps it alive in the kernel's agent; no reference code). When the
item's own probe runs, `choose` picks the last binding that satisfies the rule
and the probe judges that object through its handle; when none does, the
probe looks the name up as it always has (the last binding). The response
carries the choice, and `judged_binding` says it for the report (`found.cell`,
`found.binding`) and, where it made a difference, into the feedback.

Where the item's question was found, only the bindings among its answer
cells are candidates; the probe still runs right after the last of them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import nbformat

from .anchors import Anchor
from .checks.base import Probe
from .report import Binding as BindingReport
from .report import ItemResult
from .rubric import Binding, Item
from .values import Malformed, parse_observations

CAPTURE_PROBE = "capture.binding"


def _scope_bindings(body: list[ast.stmt]) -> set[str]:
    """Names bound at module scope by these statements, inside `if`/`for`/`with`/`try` blocks too (not in functions)."""
    names: set[str] = set()

    def targets(node: ast.AST) -> None:
        names.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))

    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                targets(target)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets(node.target)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for with_item in node.items:
                if with_item.optional_vars is not None:
                    targets(with_item.optional_vars)
        for walrus in (n for n in ast.walk(node) if isinstance(n, ast.NamedExpr)):
            targets(walrus.target)
        for block in ("body", "orelse", "finalbody"):
            names |= _scope_bindings(getattr(node, block, []) or [])
        for handler in getattr(node, "handlers", []) or []:
            if handler.name:
                names.add(handler.name)
            names |= _scope_bindings(handler.body)
    return names


def binds(source: str, names: list[str]) -> bool:
    """Whether a cell's code binds one of `names` at the notebook's top level (a cell with a magic line is read without it)."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    return bool(_scope_bindings(tree.body) & set(names))


def binding_cells(nb: nbformat.NotebookNode, names: list[str], among: list[int] | None = None) -> list[int]:
    """The code cells (of `among`, if given) that bind one of the item's names, in order."""
    cells = range(len(nb.cells)) if among is None else among
    return [i for i in cells if nb.cells[i].cell_type == "code" and binds(nb.cells[i].source, names)]


@dataclass(frozen=True)
class Seen:
    """One captured binding: the cell after which it was taken, the name, the object's classes, identity and handle."""

    cell: int
    name: str
    classes: tuple[str, ...]  # the MRO, as `module.qualname`
    identity: int
    handle: int


def satisfies(rule: Binding, mro: tuple[str, ...]) -> bool:
    """Whether an object whose MRO (`module.qualname` entries) is this satisfies the rule."""
    classes = {entry.rsplit(".", 1)[-1] for entry in mro}
    if rule.isa and not classes & set(rule.isa):
        return False
    if classes & set(rule.not_isa):
        return False
    if rule.own_class is not None and mro and mro[0].startswith("__main__.") != rule.own_class:
        return False
    return True


@dataclass(frozen=True)
class Choice:
    """Which binding is judged: `seen` (None: the name as the notebook left it), among the cells that bound it."""

    seen: Seen | None
    cells: list[int]
    last: int

    @property
    def cell(self) -> int:
        return self.seen.cell if self.seen is not None else self.last


def choose(seen: list[Seen], rule: Binding, cells: list[int]) -> Choice:
    """The last distinct binding that satisfies the rule, else none (the name as left: the last binding).

    A cell that raised before rebinding leaves the previous object: a capture
    of an object already seen is that earlier binding, not a new one.
    """
    distinct, identities = [], set()
    for entry in sorted(seen, key=lambda s: s.cell):
        if entry.identity not in identities:
            identities.add(entry.identity)
            distinct.append(entry)
    bound = [s.cell for s in distinct] or list(cells)
    matching = [s for s in distinct if satisfies(rule, s.classes)]
    return Choice(matching[-1] if matching else None, bound, bound[-1] if bound else cells[-1])


@dataclass
class Rebound:
    """One item's bindings: where they are, what the captures saw while the notebook ran."""

    item: Item
    cells: list[int]
    seen: list[Seen] = field(default_factory=list)

    def key(self, cell: int) -> str:
        return f"{self.item.id}#binding{cell}"

    def probes(self) -> list[Probe]:
        """A capture right after each binding cell (before the item's own probe, if that runs at the same cell)."""
        request = {"item": self.item.id, "probe": CAPTURE_PROBE, "names": self.item.names, "params": {}}
        return [Probe(self.key(cell), dict(request), after_cell=cell) for cell in self.cells]

    def record(self, cell: int, response: dict) -> None:
        """Keep what the capture after `cell` saw (nothing, if the name was not bound or the answer is malformed)."""
        if not response.get("found") or response.get("error"):
            return
        try:
            observed = parse_observations(response)
            mro = tuple(str(entry) for entry in observed["mro"])
            self.seen.append(Seen(cell, str(response["found"]), mro, int(observed["id"]), int(observed["handle"])))
        except (Malformed, KeyError, TypeError, ValueError):
            return

    def job(self, probe: Probe, run):
        """The probe's job: a capture records what it saw; the item's probe judges the chosen binding.

        `run(executor, held)` runs the probe's request, on the object of handle
        `(name, handle)` when `held` is given, else on the name's lookup.
        """
        cell = next((c for c in self.cells if probe.key == self.key(c)), None)
        if cell is not None:
            def capture(executor) -> dict:
                response = run(executor, None)
                self.record(cell, response)
                return response
            return capture
        if probe.key != self.item.id:  # another probe of the item (an answer's capture): as it is
            return lambda executor: run(executor, None)

        def judged(executor) -> dict:
            choice = choose(self.seen, self.item.binding, self.cells)
            held = (choice.seen.name, choice.seen.handle) if choice.seen is not None else None
            response = run(executor, held)
            response["binding"] = {"cells": choice.cells, "judged": choice.cell, "matched": choice.seen is not None}
            return response
        return judged


def plan(nb: nbformat.NotebookNode, items: list[Item], anchors: dict[str, list[Anchor]]) -> dict[str, Rebound]:
    """The items with a `binding` rule whose name the notebook binds in two or more cells (of the answer, if found)."""
    planned = {}
    for item in items:
        if item.binding is None or not item.names:
            continue
        found = [a for a in anchors.get(item.id, []) if a.found]
        cells = binding_cells(nb, item.names, found[0].answers if found else None)
        if len(cells) >= 2:
            planned[item.id] = Rebound(item, cells)
    return planned


def judged_binding(item: Item, response: dict | None) -> tuple[BindingReport, str] | None:
    """Which binding was judged (for `found`) and, where the rule chose an earlier one or found none, a sentence saying so."""
    binding = (response or {}).get("binding")
    if not isinstance(binding, dict) or getattr(item, "binding", None) is None:
        return None
    cells, judged, matched = list(binding["cells"]), int(binding["judged"]), bool(binding["matched"])
    report = BindingReport(cells=cells, judged=judged, rule=item.binding.describe(), matched=matched)
    name, where = (item.names or ["the name"])[0], _cells_text(cells)
    found = response.get("found")
    name = str(found) if found else name
    if matched and judged != cells[-1]:
        return report, (f"`{name}` is bound in {where}: the grader judged the binding of cell {judged}, the one that is "
                        f"{item.binding.describe()}, not the later ones.")
    if not matched and len(cells) > 1:
        return report, (f"`{name}` is bound in {where}, and none of them is {item.binding.describe()}: "
                        f"the grader judged the last one (cell {judged}).")
    return report, ""


def _cells_text(cells: list[int]) -> str:
    if len(cells) == 1:
        return f"cell {cells[0]}"
    return "cells " + ", ".join(map(str, cells[:-1])) + f" and {cells[-1]}"
