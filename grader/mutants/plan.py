"""Which code defines each item in the solution, and a bounded, reproducible sample of its mutants.

An item found by name is defined by the top-level statements of its cell that
bind one of its names, with the cell's other module-level statements that no
other item's names bind (`optimizer = SGD(learning_rate=1e-3)` beside
`update_weights`); an example call left at the cell's end is not part of it.
An item found by its question is defined by its answer cells. Free-text
(`manual`) items have no automatic check to test.

The sample: at most `max_per_item` mutants per item, drawn with a fixed seed
round-robin over the operators (so a cell full of constants does not crowd out
its one `return`), plus every mutant the rubric declares. Before drawing, the
mutants whose change lies inside code the rubric declares free
(`[[validate.free]]`: the entries of an example array, the width of a hidden
layer the student designs) are set aside and counted, so the sample is drawn
from the mutants that matter.
"""

from __future__ import annotations

import ast
import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..anchors import locate_items
from ..notebook import bound_names, defining_cells
from ..rubric import Assignment, FreeCode, Item
from .models import DeclaredMutant, FreeMutant, FreeResult, MutantSpec
from .operators import Mutation, Operator, masked, mutations


class PlanError(Exception):
    """The solution or a declared mutant cannot be planned (one sentence)."""


def _binds(stmt: ast.stmt) -> set[str]:
    return bound_names(ast.unparse(stmt)) if not isinstance(stmt, ast.Expr) else set()


def item_regions(nb: nbformat.NotebookNode, assignment: Assignment) -> dict[str, dict[int, set[int]]]:
    """For each item: {cell index: indices of the cell's top-level statements that define it}."""
    defined = defining_cells(nb)
    anchors = locate_items(nb, assignment.items)
    all_names = {name for item in assignment.items for name in item.names}
    regions: dict[str, dict[int, set[int]]] = {}
    claimed: set[tuple[int, int]] = set()
    for item in assignment.items:
        if item.kind == "manual":
            continue
        found = [a for a in anchors.get(item.id, []) if a.found]
        cells: dict[int, set[int]] = {}
        if found:
            for anchor in found:
                for index in anchor.answers:
                    tree = _tree(nb.cells[index].source)
                    if tree is not None:
                        cells[index] = set(range(len(tree.body)))
        else:
            for name in item.names:
                if name not in defined:
                    continue
                index = defined[name]
                tree = _tree(nb.cells[index].source)
                if tree is None:
                    continue
                own = {i for i, stmt in enumerate(tree.body) if name in _binds(stmt)}
                shared = {i for i, stmt in enumerate(tree.body)
                          if not isinstance(stmt, (ast.Expr, ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                          and not (_binds(stmt) & (all_names - set(item.names))) and (index, i) not in claimed}
                cells.setdefault(index, set()).update(own | shared)
        for index, statements in cells.items():
            claimed.update((index, i) for i in statements)
        if cells:
            regions[item.id] = cells
    return regions


def _tree(source: str) -> ast.Module | None:
    try:
        return ast.parse(masked(source))
    except SyntaxError:
        return None


def mutant_id(item_id: str, cell: int, source: str) -> str:
    return hashlib.sha256(f"{item_id}\0{cell}\0{source}".encode()).hexdigest()[:12]


def _spec(item: Item, cell: int, original: str, mutation: Mutation, declared: bool = False) -> MutantSpec:
    return MutantSpec(id=mutant_id(item.id, cell, mutation.source), item=item.id, cell=cell, operator=mutation.operator.value,
                      line=mutation.line, before=mutation.before, after=mutation.after, description=mutation.description,
                      source=mutation.source, original=original, declared=declared)


def _declared(nb, item: Item, cells: dict[int, set[int]], declared: DeclaredMutant) -> MutantSpec:
    for index in sorted(cells):
        original = nb.cells[index].source
        if declared.find in original:
            source = original.replace(declared.find, declared.replace, 1)
            line = original[:original.index(declared.find)].count("\n") + 1
            return MutantSpec(id=mutant_id(item.id, index, source), item=item.id, cell=index, operator="declared", line=line,
                              before=declared.find, after=declared.replace, description=declared.description, source=source,
                              original=original, declared=True)
    raise PlanError(f"validate.mutants: `{declared.find}` is not in the solution's code for {item.id}")


def changed_span(original: str, mutated: str) -> tuple[int, int]:
    """The part of `original` a mutant rewrites, [start, end) in characters: what lies between the common prefix and suffix.

    A pure insertion (`range(100)` -> `range(1, 100)`) is the empty span where it goes in.
    """
    limit = min(len(original), len(mutated))
    start = 0
    while start < limit and original[start] == mutated[start]:
        start += 1
    end = 0
    while end < limit - start and original[-1 - end] == mutated[-1 - end]:
        end += 1
    return start, len(original) - end


def _statement_spans(source: str, statements: set[int]) -> list[tuple[int, int]]:
    """[start, end) in characters of the cell's top-level statements with these indices (ast counts columns in UTF-8 bytes)."""
    tree = _tree(source)
    if tree is None:
        return []
    lines = source.split("\n")  # the masked text has the same lines: positions are read in the cell as written
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def at(line: int, col: int) -> int:
        return starts[line - 1] + len(lines[line - 1].encode("utf-8")[:col].decode("utf-8", "ignore"))

    return [(at(stmt.lineno, stmt.col_offset), at(stmt.end_lineno, stmt.end_col_offset))
            for i, stmt in enumerate(tree.body) if i in statements]


def _short(text: str) -> str:
    first = text.strip().split("\n")[0]
    return first + (" …" if first != text.strip() else "")


def free_occurrences(nb, item_id: str, cells: dict[int, set[int]], free: FreeCode) -> list[tuple[int, int, int]]:
    """(cell, start, end) of every occurrence of the declaration's texts inside the item's statements; each text must occur."""
    found = []
    for text in free.find:
        mine = []
        for index, statements in sorted(cells.items()):
            source = nb.cells[index].source
            spans = _statement_spans(source, statements)
            at = source.find(text)
            while at >= 0:
                if any(start <= at and at + len(text) <= end for start, end in spans):
                    mine.append((index, at, at + len(text)))
                at = source.find(text, at + 1)
        if not mine:
            raise PlanError(f"validate.free: `{_short(text)}` is not in the solution's code for {item_id}")
        found += mine
    return found


def is_free(spec: MutantSpec, occurrences: list[tuple[int, int, int]], operators=()) -> bool:
    """The mutant's change lies inside one of the occurrences (and is by one of `operators`, when any are named)."""
    if operators and spec.operator not in operators:
        return False
    start, end = changed_span(spec.original, spec.source)
    return any(cell == spec.cell and lo <= start and end <= hi for cell, lo, hi in occurrences)


def set_free_aside(found: list[MutantSpec], declarations: list[tuple[FreeCode, list[tuple[int, int, int]]]]
                   ) -> tuple[list[MutantSpec], list[FreeResult]]:
    """The mutants left to sample, and per declaration the ones inside its code (a mutant goes to the first that covers it)."""
    results = [FreeResult(item=d.item, find=d.find, operators=d.operators, why=d.why) for d, _ in declarations]
    kept = []
    for spec in found:
        owner = next((r for r, (d, occ) in zip(results, declarations) if is_free(spec, occ, d.operators)), None)
        if owner is None:
            kept.append(spec)
        else:
            owner.mutants.append(FreeMutant(id=spec.id, cell=spec.cell, line=spec.line, operator=spec.operator, before=spec.before,
                                            after=spec.after, description=spec.description))
    return kept, results


@dataclass
class Plan:
    """Per item, the mutants to grade and how many the operators produced; the free declarations with what they set aside."""

    mutants: dict[str, list[MutantSpec]] = field(default_factory=dict)
    generated: dict[str, int] = field(default_factory=dict)
    free: list[FreeResult] = field(default_factory=list)

    def free_count(self, item_id: str) -> int:
        return sum(len(r.mutants) for r in self.free if r.item == item_id)


def sample(found: list[MutantSpec], limit: int, seed: int, item_id: str) -> list[MutantSpec]:
    """At most `limit` of them, round-robin over their operators in an order fixed by the seed and the item."""
    rng = random.Random(f"{seed}:{item_id}")
    groups: dict[str, list[MutantSpec]] = defaultdict(list)
    for spec in found:
        groups[spec.operator].append(spec)
    order = sorted(groups)
    rng.shuffle(order)
    for name in order:
        rng.shuffle(groups[name])
    chosen: list[MutantSpec] = []
    while len(chosen) < limit and any(groups.values()):
        for name in order:
            if groups[name] and len(chosen) < limit:
                chosen.append(groups[name].pop())
    return chosen


def plan(nb: nbformat.NotebookNode, assignment: Assignment, *, max_per_item: int, seed: int = 0,
         only: list[str] | None = None) -> Plan:
    """Per item, the mutants to grade (the declared ones and a sample of the rest, free code set aside first)."""
    regions = item_regions(nb, assignment)
    by_id = {item.id: item for item in assignment.items}
    for declared in assignment.self_test.mutants:
        if declared.item not in regions:
            raise PlanError(f"validate.mutants: the solution has no code for {declared.item}")
    frees: dict[str, list] = defaultdict(list)
    names = {o.value for o in Operator}
    for free in assignment.self_test.free:
        unknown = [o for o in free.operators if o not in names]
        if unknown:
            raise PlanError(f"validate.free of {free.item}: no operator {', '.join(map(repr, unknown))} "
                            f"(the operators are {', '.join(sorted(names))})")
        if free.item not in regions:
            raise PlanError(f"validate.free: the solution has no code for {free.item}")
        frees[free.item].append((free, free_occurrences(nb, free.item, regions[free.item], free)))
    result = Plan()
    for item_id, cells in regions.items():
        if only and item_id not in only:
            continue
        item = by_id[item_id]
        found = []
        for index, statements in sorted(cells.items()):
            original = nb.cells[index].source
            tree = _tree(original)
            # statements are matched by position: the collector parses the same masked text
            positions = {(tree.body[i].lineno, tree.body[i].col_offset) for i in statements}
            found += [_spec(item, index, original, m) for m in mutations(original, lambda s: (s.lineno, s.col_offset) in positions)]
        declared = [_declared(nb, item, cells, d) for d in assignment.self_test.mutants if d.item == item_id]
        for spec in declared:
            # a declaration limited to some operators leaves other changes there to be graded, the rubric's own included
            inside = next((d for d, occ in frees[item_id] if not d.operators and is_free(spec, occ)), None)
            if inside is not None:
                raise PlanError(f"validate.mutants: `{_short(spec.before)}` of {item_id} is in code validate.free declares free "
                                f"(`{_short(inside.find[0])}`): a mistake there cannot be one")
        described = {(d.cell, d.source): d for d in declared}
        found = [s for s in found if (s.cell, s.source) not in described]
        result.generated[item_id] = len(found) + len(declared)
        kept, set_aside = set_free_aside(found, frees[item_id])
        result.free += set_aside
        result.mutants[item_id] = declared + sample(kept, max_per_item, seed, item_id)
    return result


def clean_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the solution without outputs (the same bytes for the same code)."""
    clean = nbformat.reads(nbformat.writes(nb), as_version=4)
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return clean


def mutant_notebook(nb: nbformat.NotebookNode, spec: MutantSpec) -> nbformat.NotebookNode:
    """The solution with the one mutated cell, outputs dropped."""
    mutant = clean_notebook(nb)
    mutant.cells[spec.cell].source = spec.source
    return mutant


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb)
    if not path.is_file() or path.read_text(encoding="utf-8") != text:  # unchanged content: its report stays current
        path.write_text(text, encoding="utf-8")
