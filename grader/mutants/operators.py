"""Single-point mutants of a cell's code, by the standard mutation operators.

The operators are those of mutmut and Cosmic Ray (arithmetic, comparison,
boolean and unary operator replacement, constants changed, a named argument
removed, a loop that never runs, break/continue swapped, a statement deleted)
and the mistakes of deep-learning sheets the issue names (off-by-one range
bounds and slices, arguments swapped, a `return` moved into the loop above it,
`copy()` removed, an axis changed, an activation swapped, min/max swapped).

The code is read with Python's `ast`; a mutant is written by replacing the
source text of the one node it changes with `ast.unparse` of its changed copy,
so the rest of the cell (comments, layout) stays as the author wrote it and a
diff shows one change. Each mutant carries a description in words a student
understands: a hint quotes it ("this is what a loop that runs one step too
few (like `range(len(x) - 1)` instead of `range(len(x))`) gives").
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterator

_MAGIC = re.compile(r"^\s*[!%]")


class Operator(str, Enum):
    """The mutation operators, by the name reports and rubrics use."""

    ARITHMETIC = "arithmetic"
    AUGMENTED = "augmented_assignment"
    COMPARISON = "comparison"
    BOOLEAN = "boolean"
    UNARY_REMOVED = "unary_removed"
    CONSTANT = "constant"
    RANGE_BOUND = "range_bound"
    SLICE_BOUND = "slice_bound"
    ARGUMENTS_SWAPPED = "arguments_swapped"
    NAMED_ARGUMENT_REMOVED = "named_argument_removed"
    STATEMENT_DELETED = "statement_deleted"
    RETURN_INTO_LOOP = "return_into_loop"
    COPY_REMOVED = "copy_removed"
    AXIS_CHANGED = "axis_changed"
    ACTIVATION_SWAPPED = "activation_swapped"
    FUNCTION_SWAPPED = "function_swapped"
    ZERO_ITERATION_LOOP = "zero_iteration_loop"
    BREAK_CONTINUE = "break_continue"


@dataclass(frozen=True)
class Mutation:
    """One mutant of a cell: what changed, where, and the whole cell as it now reads."""

    operator: Operator
    line: int  # 1-based, in the cell
    before: str
    after: str
    description: str
    source: str


_ARITHMETIC = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
               ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.MatMult: ast.Mult}
_COMPARISON = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
               ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
_BOOLEAN = {ast.And: ast.Or, ast.Or: ast.And}
_ACTIVATIONS = {"relu": "sigmoid", "softmax": "sigmoid", "sigmoid": "relu", "tanh": "relu", "elu": "relu", "gelu": "relu"}
_FUNCTIONS = {"max": "min", "min": "max", "maximum": "minimum", "minimum": "maximum", "argmax": "argmin", "argmin": "argmax",
              "reduce_mean": "reduce_sum", "reduce_sum": "reduce_mean", "mean": "sum", "sum": "mean",
              "assign_sub": "assign_add", "assign_add": "assign_sub", "floor": "ceil", "ceil": "floor"}
_COPIES = {"copy", "deepcopy"}


def _segment(source: str, node: ast.AST) -> str:
    return ast.get_source_segment(source, node) or ast.unparse(node)


class _Text:
    """The cell's source as UTF-8 bytes (ast's column offsets count bytes), edited by node positions."""

    def __init__(self, source: str):
        self.source = source
        self.data = source.encode("utf-8")
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def replace(self, node: ast.AST, text: str) -> str:
        start, end = self.offset(node.lineno, node.col_offset), self.offset(node.end_lineno, node.end_col_offset)
        indent = " " * node.col_offset
        text = text.replace("\n", "\n" + indent)  # a statement unparsed at column 0, set back at its own
        return (self.data[:start] + text.encode("utf-8") + self.data[end:]).decode("utf-8")


def _describe_change(before: str, after: str) -> str:
    return f"`{after}` instead of `{before}`"


class _Collector:
    """Walks the region of a cell and yields (operator, node, replacement text or edit, description)."""

    def __init__(self, source: str, tree: ast.Module, region: Callable[[ast.stmt], bool]):
        self.source, self.tree, self.text = source, tree, _Text(source)
        self.parents: dict[ast.AST, ast.AST] = {}
        self.region = [stmt for stmt in tree.body if region(stmt)]
        for stmt in self.region:
            for node in ast.walk(stmt):
                for child in ast.iter_child_nodes(node):
                    self.parents[child] = node
        self.skipped = self._skipped()

    def _skipped(self) -> set[ast.AST]:
        """Nodes no mutant touches: docstrings, f-strings, and `print(...)` calls (output only, never observed by a probe)."""
        skipped = set()
        for stmt in self.region:
            for node in ast.walk(stmt):
                if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"):
                    skipped.update(ast.walk(node))
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body \
                        and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) \
                        and isinstance(node.body[0].value.value, str):
                    skipped.update(ast.walk(node.body[0]))
                elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and node.value in skipped:
                    skipped.add(node)
        for stmt in self.region:  # an `if` that only prints: its test is output only too
            for node in ast.walk(stmt):
                if isinstance(node, ast.If) and not node.orelse and all(
                        isinstance(s, ast.Expr) and s.value in skipped for s in node.body):
                    skipped.update(ast.walk(node))
        # a print statement's own Expr node: its call is skipped, so is the statement
        for stmt in self.region:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Expr) and node.value in skipped:
                    skipped.add(node)
        return skipped

    # --- producing mutants ---------------------------------------------------------------------
    def _expr(self, node: ast.expr, new: ast.expr) -> str:
        text = ast.unparse(new)
        parent = self.parents.get(node)
        if isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.Attribute, ast.Subscript)) \
                and isinstance(new, (ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare)):
            text = f"({text})"
        return text

    def mutations(self) -> Iterator[Mutation]:
        for stmt in self.region:
            for node in ast.walk(stmt):
                if node in self.skipped:
                    continue
                yield from self._at(node)

    def _replaced(self, operator: Operator, node: ast.AST, new: ast.AST, description: str | None = None) -> Mutation:
        before = _segment(self.source, node)
        after = self._expr(node, new) if isinstance(node, ast.expr) else ast.unparse(new)
        source = self.text.replace(node, after)
        if after.startswith("(") and after != ast.unparse(new):  # parentheses only where the precedence needs them
            plain = self.text.replace(node, ast.unparse(new))
            try:
                if ast.dump(ast.parse(plain)) == ast.dump(ast.parse(source)):
                    after, source = ast.unparse(new), plain
            except SyntaxError:
                pass
        return Mutation(operator, node.lineno, before, after, description or _describe_change(before, after), source)

    def _at(self, node: ast.AST) -> Iterator[Mutation]:
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            new = copy.deepcopy(node)
            new.op = _ARITHMETIC[type(node.op)]()
            yield self._replaced(Operator.ARITHMETIC, node, new)
        elif isinstance(node, ast.AugAssign):
            if type(node.op) in _ARITHMETIC:
                new = copy.deepcopy(node)
                new.op = _ARITHMETIC[type(node.op)]()
                yield self._replaced(Operator.AUGMENTED, node, new)
            plain = ast.Assign(targets=[copy.deepcopy(node.target)], value=copy.deepcopy(node.value), lineno=node.lineno)
            m = self._replaced(Operator.AUGMENTED, node, plain)
            yield Mutation(m.operator, m.line, m.before, m.after,
                           f"{_describe_change(m.before, m.after)}: the value is replaced instead of updated", m.source)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARISON:
            new = copy.deepcopy(node)
            new.ops = [_COMPARISON[type(node.ops[0])]()]
            yield self._replaced(Operator.COMPARISON, node, new)
        elif isinstance(node, ast.BoolOp):
            new = copy.deepcopy(node)
            new.op = _BOOLEAN[type(node.op)]()
            yield self._replaced(Operator.BOOLEAN, node, new)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
                yield from self._constant(node, -node.operand.value if isinstance(node.operand.value, (int, float)) else None)
            else:
                yield self._replaced(Operator.UNARY_REMOVED, node, copy.deepcopy(node.operand))
        elif isinstance(node, ast.Constant):
            if isinstance(self.parents.get(node), ast.UnaryOp):
                return  # `-1`: changed as a whole, above
            if isinstance(node.value, bool):
                yield self._replaced(Operator.CONSTANT, node, ast.Constant(not node.value))
            elif isinstance(node.value, (int, float)):
                yield from self._constant(node, node.value)
            elif isinstance(node.value, str) and node.value in _ACTIVATIONS:
                yield self._replaced(Operator.ACTIVATION_SWAPPED, node, ast.Constant(_ACTIVATIONS[node.value]),
                                     f"the wrong activation (`{_ACTIVATIONS[node.value]}` instead of `{node.value}`)")
        elif isinstance(node, ast.Call):
            yield from self._call(node)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            yield from self._slice(node)
        elif isinstance(node, ast.Attribute) and node.attr in _ACTIVATIONS and isinstance(node.value, (ast.Name, ast.Attribute)):
            new = copy.deepcopy(node)
            new.attr = _ACTIVATIONS[node.attr]
            if isinstance(node.value, ast.Name) and node.value.id == "tf" and new.attr == "relu":
                new = ast.parse("tf.nn.relu", mode="eval").body  # TensorFlow has tf.sigmoid and tf.tanh, but no tf.relu
            yield self._replaced(Operator.ACTIVATION_SWAPPED, node, new,
                                 f"the wrong activation (`{ast.unparse(new)}` instead of `{_segment(self.source, node)}`)")
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            new_iter = ast.List(elts=[], ctx=ast.Load())
            m = self._replaced(Operator.ZERO_ITERATION_LOOP, node.iter, new_iter)
            yield Mutation(m.operator, m.line, m.before, m.after,
                           f"a loop whose body never runs (over `[]` instead of `{m.before}`)", m.source)
        elif isinstance(node, (ast.Break, ast.Continue)):
            new = ast.Continue() if isinstance(node, ast.Break) else ast.Break()
            yield self._replaced(Operator.BREAK_CONTINUE, node, new)
        if isinstance(node, ast.stmt):
            yield from self._statement(node)

    def _constant(self, node: ast.expr, value) -> Iterator[Mutation]:
        if value is None:
            return
        if isinstance(value, float) and 0 < abs(value) < 1:
            changed = [value * 10]
        elif isinstance(value, float):
            changed = [value + 1] if value else [1.0]
        else:
            changed = [value + 1, value - 1]
        for new_value in changed:
            new = ast.Constant(new_value) if new_value >= 0 else ast.UnaryOp(ast.USub(), ast.Constant(-new_value))
            before = _segment(self.source, node)
            after = ast.unparse(new)
            what = "a learning rate or scale ten times too large" if isinstance(value, float) and 0 < abs(value) < 1 else "a number changed"
            yield Mutation(Operator.CONSTANT, node.lineno, before, after, f"{what} (`{after}` instead of `{before}`)",
                           self.text.replace(node, after))

    def _call(self, node: ast.Call) -> Iterator[Mutation]:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name == "range" and 1 <= len(node.args) <= 2 and not node.keywords:
            stop = node.args[-1]
            shorter = copy.deepcopy(node)
            shorter.args[-1] = ast.BinOp(copy.deepcopy(stop), ast.Sub(), ast.Constant(1))
            m = self._replaced(Operator.RANGE_BOUND, node, shorter)
            # said by its effect, with this mutant's code as the example: where the loop's index is not used
            # (`for epoch in range(epochs)`), stopping early and skipping the first step behave the same, and a
            # hint quoting one of them reaches students who wrote the other
            yield Mutation(m.operator, m.line, m.before, m.after,
                           f"a loop that runs one step too few (like `{m.after}` instead of `{m.before}`)", m.source)
            later = copy.deepcopy(node)
            later.args = ([ast.Constant(1)] if len(node.args) == 1 else [ast.BinOp(copy.deepcopy(node.args[0]), ast.Add(), ast.Constant(1))]) + [copy.deepcopy(stop)]
            m = self._replaced(Operator.RANGE_BOUND, node, later)
            yield Mutation(m.operator, m.line, m.before, m.after,
                           f"a loop that runs one step too few (like `{m.after}` instead of `{m.before}`)", m.source)
        if name in _COPIES and not node.args and not node.keywords and isinstance(func, ast.Attribute):
            m = self._replaced(Operator.COPY_REMOVED, node, copy.deepcopy(func.value))
            yield Mutation(m.operator, m.line, m.before, m.after,
                           f"working on the caller's object instead of a copy (`{m.after}` instead of `{m.before}`), so the argument is changed in place", m.source)
        elif name in _COPIES and len(node.args) == 1 and not node.keywords:
            m = self._replaced(Operator.COPY_REMOVED, node, copy.deepcopy(node.args[0]))
            yield Mutation(m.operator, m.line, m.before, m.after,
                           f"working on the caller's object instead of a copy (`{m.after}` instead of `{m.before}`), so the argument is changed in place", m.source)
        if name in _FUNCTIONS:
            new = copy.deepcopy(node)
            if isinstance(new.func, ast.Name):
                new.func.id = _FUNCTIONS[name]
            else:
                new.func.attr = _FUNCTIONS[name]
            yield self._replaced(Operator.FUNCTION_SWAPPED, node, new)
        positional = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(positional) == len(node.args) >= 2 and name not in ("range", "print", "isinstance", "zip", "max", "min"):
            swapped = copy.deepcopy(node)
            swapped.args[0], swapped.args[1] = swapped.args[1], swapped.args[0]
            if ast.dump(swapped.args[0]) != ast.dump(swapped.args[1]):
                m = self._replaced(Operator.ARGUMENTS_SWAPPED, node, swapped)
                yield Mutation(m.operator, m.line, m.before, m.after, f"arguments in the wrong order (`{m.after}` instead of `{m.before}`)", m.source)
        for index, keyword in enumerate(node.keywords):
            if keyword.arg is None:
                continue
            if keyword.arg == "axis" and isinstance(keyword.value, (ast.Constant, ast.UnaryOp)):
                old = ast.unparse(keyword.value)
                new_axis = "1" if old in ("0", "-2") else "0"
                new = copy.deepcopy(node)
                new.keywords[index].value = ast.parse(new_axis, mode="eval").body
                m = self._replaced(Operator.AXIS_CHANGED, node, new)
                yield Mutation(m.operator, m.line, m.before, m.after, f"the wrong axis (`axis={new_axis}` instead of `axis={old}`)", m.source)
            removed = copy.deepcopy(node)
            del removed.keywords[index]
            m = self._replaced(Operator.NAMED_ARGUMENT_REMOVED, node, removed)
            yield Mutation(m.operator, m.line, m.before, m.after,
                           f"leaving out `{_segment(self.source, keyword)}`, so the default is used (`{m.after}` instead of `{m.before}`)", m.source)

    def _slice(self, node: ast.Subscript) -> Iterator[Mutation]:
        piece = node.slice
        if piece.upper is not None and piece.step is None:
            shorter = copy.deepcopy(node)
            shorter.slice.upper = ast.BinOp(copy.deepcopy(piece.upper), ast.Sub(), ast.Constant(1))
            m = self._replaced(Operator.SLICE_BOUND, node, shorter)
            yield Mutation(m.operator, m.line, m.before, m.after, f"a slice that leaves out its last element (`{m.after}` instead of `{m.before}`)", m.source)
            later = copy.deepcopy(node)
            later.slice.lower = ast.Constant(1) if piece.lower is None else ast.BinOp(copy.deepcopy(piece.lower), ast.Add(), ast.Constant(1))
            m = self._replaced(Operator.SLICE_BOUND, node, later)
            yield Mutation(m.operator, m.line, m.before, m.after, f"a slice that leaves out its first element (`{m.after}` instead of `{m.before}`)", m.source)

    def _statement(self, node: ast.stmt) -> Iterator[Mutation]:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass, ast.Global,
                             ast.Nonlocal)) or node in self.skipped:
            return
        if isinstance(node, ast.Expr) and not any(isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)) for n in ast.walk(node)):
            return  # a line that only shows a value (`x`, `grad`): without it the program does the same, it shows less
        if isinstance(node, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Assert, ast.Delete)):
            before = _segment(self.source, node)
            first = before.splitlines()[0] + (" …" if "\n" in before else "")
            yield Mutation(Operator.STATEMENT_DELETED, node.lineno, before, "pass", f"leaving out the line `{first}`",
                           self.text.replace(node, "pass"))
        if isinstance(node, ast.Return):
            yield from self._return_into_loop(node)

    def _return_into_loop(self, node: ast.Return) -> Iterator[Mutation]:
        block = self.parents.get(node)
        body = getattr(block, "body", None)
        if not body or node not in body:
            return
        index = body.index(node)
        loop = body[index - 1] if index > 0 else None
        if not isinstance(loop, (ast.For, ast.While)) or loop.orelse:
            return
        last = loop.body[-1]
        lines = self.source.splitlines(keepends=True)
        returned = lines[node.lineno - 1:node.end_lineno]
        if returned[0][:node.col_offset].strip() or returned[-1].encode("utf-8")[node.end_col_offset:].strip():
            return  # the return shares a line with other code: no clean move
        indent = " " * loop.body[0].col_offset
        moved = [indent + line.lstrip() if i == 0 else line for i, line in enumerate(returned)]
        if not moved[-1].endswith("\n"):
            moved[-1] += "\n"
        kept = lines[:node.lineno - 1] + lines[node.end_lineno:]
        at = last.end_lineno
        if kept[at - 1:at] and not kept[at - 1].endswith("\n"):
            kept[at - 1] += "\n"
        source = "".join(kept[:at] + moved + kept[at:])
        before = _segment(self.source, node)
        yield Mutation(Operator.RETURN_INTO_LOOP, node.lineno, before, before.strip(),
                       f"a `{before.strip()}` inside the loop, so the loop stops after its first pass", source)


def masked(source: str) -> str:
    """The cell with IPython's magic and shell lines turned to `pass` (line numbers kept): what `ast` can read."""
    return "\n".join("pass" if _MAGIC.match(line) else line for line in source.split("\n"))


def mutations(source: str, region: Callable[[ast.stmt], bool] = lambda stmt: True) -> list[Mutation]:
    """Every single-point mutant of the cell's top-level statements in `region`, each a different program.

    A mutant whose code reads the same as the original or as an earlier mutant
    (by its syntax tree) is dropped; the magic lines of a cell are left as they are.
    """
    readable = masked(source)
    try:
        tree = ast.parse(readable)
    except SyntaxError:
        return []
    original = ast.dump(tree)
    seen, found = {original}, []
    for mutation in _Collector(readable, tree, region).mutations():
        try:
            dumped = ast.dump(ast.parse(mutation.source))
        except SyntaxError:
            continue
        if dumped in seen:
            continue
        seen.add(dumped)
        found.append(_unmask(mutation, source))
    return found


def _unmask(mutation: Mutation, source: str) -> Mutation:
    """Put the magic lines back into a mutant of the masked cell (a change never spans lines that were magic)."""
    original = source.split("\n")
    if original == masked(source).split("\n"):
        return mutation
    lines = mutation.source.split("\n")
    magic = {i: line for i, line in enumerate(original) if _MAGIC.match(line)}
    if len(lines) == len(original):
        lines = [magic.get(i, line) for i, line in enumerate(lines)]
    return Mutation(mutation.operator, mutation.line, mutation.before, mutation.after, mutation.description, "\n".join(lines))
