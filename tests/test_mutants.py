"""Mutation testing of rubrics (issue 14): the operators, the classification, hints from mutants.

The fast tests need no kernel. The kernel tests build a one-item numpy
assignment in a temporary folder (tests/mutant_fixtures.py), run
`grade validate --mutants` on it with a deliberately weak rubric (a tolerance
of 1) and with the strengthened one, then grade two wrong submissions against
the strengthened rubric: one that makes a known mutant's mistake, written in
its own words, and one that makes another.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.mutants.models import Cascade, DeclaredMutant, Fate, HintStore, KnownMutant, MutantSpec
from grader.mutants.observe import response_digest
from grader.mutants.operators import Operator, mutations
from grader.mutants.plan import item_regions, plan, sample
from grader.report import Cells, CellError, ItemResult, Report, SubmissionRef

sys.path.insert(0, str(Path(__file__).parent))
from mutant_fixtures import RELU, SOLUTION, make_assignment, notebook  # noqa: E402


def _by(found, operator: Operator) -> list:
    return [m for m in found if m.operator is operator]


# --- the operators ------------------------------------------------------------------------------------

def test_every_mutant_is_one_change_that_parses_and_keeps_the_rest_of_the_cell():
    source = "def f(x):\n    # keep this comment\n    y = x.copy()   # and this one\n    for i in range(len(y)):\n        y[i] = y[i] * 2 + 1\n    return y\n"
    found = mutations(source)
    assert len(found) > 10
    dumps = {ast.dump(ast.parse(m.source)) for m in found}
    assert len(dumps) == len(found) and ast.dump(ast.parse(source)) not in dumps  # all distinct, none the original
    for m in found:
        assert "# keep this comment" in m.source and "# and this one" in m.source
        assert m.description and m.before and m.line >= 1


def test_arithmetic_comparison_boolean_and_unary_operators():
    found = mutations("def f(a, b):\n    if a < b and not a == 0:\n        return -a + b * 2\n    return a ** 2\n")
    assert any(m.after == "-a - b * 2" for m in _by(found, Operator.ARITHMETIC))
    assert any(m.after == "b / 2" for m in _by(found, Operator.ARITHMETIC))
    assert any(m.after == "a * 2" for m in _by(found, Operator.ARITHMETIC))  # ** → *
    assert any(m.after == "a <= b" for m in _by(found, Operator.COMPARISON))
    assert any(m.after == "a < b or not a == 0" for m in _by(found, Operator.BOOLEAN))
    assert any(m.after == "a == 0" for m in _by(found, Operator.UNARY_REMOVED))  # `not` removed
    assert any(m.after == "a" for m in _by(found, Operator.UNARY_REMOVED))      # `-a` → `a`


def test_a_changed_operator_keeps_its_precedence():
    (m,) = [m for m in mutations("y = c / (a + b)\n") if m.operator is Operator.ARITHMETIC and "-" in m.after]
    assert m.source == "y = c / (a - b)\n"
    (m,) = [m for m in mutations("y = c / a ** 2\n") if m.operator is Operator.ARITHMETIC and m.before == "a ** 2"]
    namespace = {"a": 3.0, "c": 12.0}
    exec(m.source, namespace)
    assert namespace["y"] == 2.0  # c / (a * 2), not c / a * 2


def test_off_by_one_in_range_bounds_and_slices():
    found = mutations("def f(x, n):\n    for i in range(1, n):\n        pass\n    return x[2:n]\n")
    ranges = {m.after for m in _by(found, Operator.RANGE_BOUND)}
    assert ranges == {"range(1, n - 1)", "range(1 + 1, n)"}
    slices = {m.after for m in _by(found, Operator.SLICE_BOUND)}
    assert slices == {"x[2:n - 1]", "x[2 + 1:n]"}
    early = next(m for m in _by(found, Operator.RANGE_BOUND) if "n - 1" in m.after)
    assert early.description == "a loop that runs one step too few (like `range(1, n - 1)` instead of `range(1, n)`)"


def test_constants_learning_rate_and_booleans():
    found = _by(mutations("opt = SGD(learning_rate=1e-3, nesterov=False)\nk = 0\n"), Operator.CONSTANT)
    after = {m.after for m in found}
    assert {"0.01", "True", "1", "-1"} <= after
    lr = next(m for m in found if m.after == "0.01")
    assert "ten times" in lr.description


def test_named_argument_removed_is_the_sgd_default_rate():
    (m,) = _by(mutations("optimizer = optimizers.SGD(learning_rate=1e-3)\n"), Operator.NAMED_ARGUMENT_REMOVED)
    assert m.after == "optimizers.SGD()" and "default" in m.description


def test_arguments_swapped_copy_removed_axis_activation_function():
    found = mutations("z = np.dot(a, b)\ny = x.copy()\nw = np.copy(x)\ns = x.sum(axis=1)\n"
                      "layer = Dense(10, activation='relu')\nh = tf.nn.softmax(z)\nm = np.maximum(x, 0)\n")
    assert {m.after for m in _by(found, Operator.ARGUMENTS_SWAPPED)} >= {"np.dot(b, a)", "np.maximum(0, x)"}
    assert {m.after for m in _by(found, Operator.COPY_REMOVED)} == {"x"}
    assert len(_by(found, Operator.COPY_REMOVED)) == 2
    assert any(m.after == "x.sum(axis=0)" for m in _by(found, Operator.AXIS_CHANGED))
    activations = {m.after for m in _by(found, Operator.ACTIVATION_SWAPPED)}
    assert "'sigmoid'" in activations and "tf.nn.sigmoid" in activations
    assert any(m.after == "np.minimum(x, 0)" for m in _by(found, Operator.FUNCTION_SWAPPED))


def test_statement_deleted_and_return_moved_into_the_loop():
    source = "def call(self, x):\n    for layer in self.layers:\n        x = layer(x)\n    return x\n"
    found = mutations(source)
    (moved,) = _by(found, Operator.RETURN_INTO_LOOP)
    assert moved.source == "def call(self, x):\n    for layer in self.layers:\n        x = layer(x)\n        return x\n"
    assert "inside the loop" in moved.description
    deleted = {m.before for m in _by(found, Operator.STATEMENT_DELETED)}
    assert deleted == {"x = layer(x)", "return x"}
    shown = mutations("grad = tape.gradient(z, x)\ngrad\nprint_it(grad)\n")
    assert {m.before for m in _by(shown, Operator.STATEMENT_DELETED)} == {"grad = tape.gradient(z, x)", "print_it(grad)"}  # not the display
    assert any(m.after == "[]" for m in _by(found, Operator.ZERO_ITERATION_LOOP))


def test_prints_docstrings_and_imports_are_left_alone_and_magics_kept():
    source = '%matplotlib inline\nimport numpy as np\ndef f(x):\n    """Double."""\n    print(f"x is {x + 1}")\n    if x % 100 == 0:\n        print("hundred")\n    return 2 * x\n'
    found = mutations(source)
    assert found and all(m.source.startswith("%matplotlib inline\nimport numpy as np\n") for m in found)
    assert not any("100" in m.before or "print" in m.before or "Double" in m.before or "x + 1" in m.before for m in found)
    assert {m.after for m in _by(found, Operator.ARITHMETIC)} == {"2 / x"}


def test_non_ascii_lines_are_edited_by_their_byte_offsets():
    source = "# 한국어 주석\ny = '가나' and a + b  # 끝\n"
    (m,) = [m for m in mutations(source) if m.operator is Operator.ARITHMETIC]
    assert m.source == "# 한국어 주석\ny = '가나' and a - b  # 끝\n"


# --- what defines an item, and the sample ------------------------------------------------------------

def test_regions_and_a_bounded_reproducible_sample(tmp_path):
    from grader.loader import load_rubric

    directory = make_assignment(tmp_path, strong=True)
    assignment = load_rubric(directory / "rubric.toml")
    nb = notebook(SOLUTION, RELU + "\nnaive_relu(np.array([-1.0, 2.0]))\n")
    assert item_regions(nb, assignment) == {"naive_relu": {2: {0}}}  # the example call is not the item's code
    first = plan(nb, assignment, max_per_item=5, seed=0)
    again = plan(nb, assignment, max_per_item=5, seed=0).mutants
    other = plan(nb, assignment, max_per_item=5, seed=1).mutants
    specs, generated = first.mutants["naive_relu"], first.generated
    assert [s.id for s in specs] == [s.id for s in again["naive_relu"]] and len(specs) == 6  # 5 sampled + 1 declared
    assert specs[0].declared and specs[0].after == "x = np.array(x)" and "np.array" in specs[0].source
    assert len({s.operator for s in specs[1:]}) == 5  # round-robin: five operators, not five constants
    assert [s.id for s in other["naive_relu"]] != [s.id for s in specs]
    assert generated["naive_relu"] > 10
    one = sample(specs, 2, 0, "x")
    assert len(one) == 2


def test_a_declared_mutant_that_does_not_apply_is_a_problem(tmp_path):
    from grader.mutants.plan import PlanError
    from grader.loader import load_rubric

    directory = make_assignment(tmp_path, strong=True)
    text = (directory / "rubric.toml").read_text().replace('find = "x = x.copy()"', 'find = "no such code"')
    (directory / "rubric.toml").write_text(text)
    assignment = load_rubric(directory / "rubric.toml")
    with pytest.raises(PlanError, match="not in the solution's code for naive_relu"):
        plan(notebook(SOLUTION, RELU), assignment, max_per_item=3)
    assert DeclaredMutant(item="a", find="x", replace="y", description="d").item == "a"


# --- code the sheet leaves free ---------------------------------------------------------------------

FREE = """
[[validate.free]]
item = "naive_relu"
find = "max(x[i], 0)"
why = "the sheet lets the student clip however they like"
"""


def _with_free(tmp_path, text: str = FREE):
    from grader.loader import load_rubric

    directory = make_assignment(tmp_path, strong=True)
    (directory / "rubric.toml").write_text((directory / "rubric.toml").read_text() + text)
    return load_rubric(directory / "rubric.toml")


def test_the_changed_span_is_what_lies_between_the_common_prefix_and_suffix():
    from grader.mutants.plan import changed_span

    assert changed_span("for e in range(100):", "for e in range(1, 100):") == (16, 16)  # an insertion: an empty span
    assert changed_span("y = 13 + a", "y = 12 + a") == (5, 6)
    assert changed_span("a\nx = f(x)\nb", "a\npass\nb") == (2, 10)  # a statement deleted: all of it
    assert changed_span("same", "same") == (4, 4)


def test_free_code_is_set_aside_before_sampling_counted_and_listed_with_its_reason(tmp_path):
    from grader.mutants.plan import changed_span, is_free

    nb = notebook(SOLUTION, RELU)
    assignment = _with_free(tmp_path)
    everything = plan(nb, load_rubric_plain(tmp_path), max_per_item=100)
    chosen = plan(nb, assignment, max_per_item=100)
    (free,) = chosen.free
    assert free.item == "naive_relu" and free.why.startswith("the sheet lets")
    changes = {(m.operator, m.after) for m in free.mutants}
    assert changes == {("constant", "1"), ("constant", "-1"), ("function_swapped", "min(x[i], 0)")}
    start = RELU.index("max(x[i], 0)")
    for m in free.mutants:  # each change lies inside the declared text ...
        lo, hi = changed_span(RELU, next(s for s in everything.mutants["naive_relu"] if s.id == m.id).source)
        assert start <= lo <= hi <= start + len("max(x[i], 0)")
    graded = chosen.mutants["naive_relu"]
    assert not {s.id for s in graded} & {m.id for m in free.mutants}  # ... and none of them is graded
    assert len(graded) == len(everything.mutants["naive_relu"]) - len(free.mutants)
    assert chosen.free_count("naive_relu") == len(free.mutants) and chosen.generated == everything.generated  # generated counts them
    # the sample is drawn from the mutants that matter: with room for two, neither is free, whatever the seed
    for seed in range(5):
        small = plan(nb, assignment, max_per_item=2, seed=seed)
        assert len(small.mutants["naive_relu"]) == 3 and small.free_count("naive_relu") == len(free.mutants)
        assert not any(s.after in ("1", "-1", "min(x[i], 0)") for s in small.mutants["naive_relu"])
        assert not any(is_free(s, [(2, start, start + len("max(x[i], 0)"))]) for s in small.mutants["naive_relu"] if not s.declared)


def load_rubric_plain(tmp_path):
    from grader.loader import load_rubric

    return load_rubric(make_assignment(tmp_path / "plain", strong=True) / "rubric.toml")


def test_a_free_declaration_limited_to_operators_leaves_the_other_changes_graded(tmp_path):
    nb = notebook(SOLUTION, RELU)
    chosen = plan(nb, _with_free(tmp_path, FREE.replace('why =', 'operators = ["constant"]\nwhy =')), max_per_item=100)
    assert {m.operator for m in chosen.free[0].mutants} == {"constant"}
    assert any(s.after == "min(x[i], 0)" for s in chosen.mutants["naive_relu"])  # max -> min is a mistake, not a choice
    # several texts in one declaration: `range(len(x))` adds the loop's bounds (not a loop that never runs)
    several = FREE.replace('find = "max(x[i], 0)"', 'find = ["max(x[i], 0)", "range(len(x))"]').replace(
        'why =', 'operators = ["constant", "range_bound"]\nwhy =')
    chosen = plan(nb, _with_free(tmp_path / "several", several), max_per_item=100)
    assert {m.after for m in chosen.free[0].mutants if m.operator == "range_bound"} == {"range(len(x) - 1)", "range(1, len(x))"}
    assert any(s.operator == "zero_iteration_loop" for s in chosen.mutants["naive_relu"])


@pytest.mark.parametrize("declaration, message", [
    (FREE.replace("max(x[i], 0)", "max(x[i], 1)"), r"validate\.free: `max\(x\[i\], 1\)` is not in the solution's code for naive_relu"),
    (FREE.replace('why =', 'operators = ["constants"]\nwhy ='), r"validate\.free of naive_relu: no operator 'constants' \(the operators are "),
    (FREE.replace("max(x[i], 0)", "x = x.copy()"), r"validate\.mutants: `x = x\.copy\(\)` of naive_relu is in code validate\.free declares free"),
])
def test_a_free_declaration_that_does_not_fit_the_solution_is_one_sentence(tmp_path, declaration, message):
    from grader.mutants.plan import PlanError

    with pytest.raises(PlanError, match=message) as raised:
        plan(notebook(SOLUTION, RELU), _with_free(tmp_path, declaration), max_per_item=3)
    assert "\n" not in str(raised.value)
    # text of the cell that is not the item's code (an example call) is not in its code either
    example = FREE.replace("max(x[i], 0)", "np.array([-1.0, 2.0])")
    with pytest.raises(PlanError, match="is not in the solution's code for naive_relu"):
        plan(notebook(SOLUTION, RELU + "\nnaive_relu(np.array([-1.0, 2.0]))\n"), _with_free(tmp_path / "example", example), max_per_item=3)


def test_the_rubric_refuses_a_free_declaration_of_no_item_and_documents_the_table(tmp_path):
    from grader.rubric import Assignment, RubricError

    with pytest.raises(RubricError, match="validate.free: no item 'nope'"):
        _with_free(tmp_path, FREE.replace('item = "naive_relu"', 'item = "nope"'))
    with pytest.raises(RubricError, match="why"):
        _with_free(tmp_path / "b", FREE.replace('why = "the sheet lets the student clip however they like"', ""))
    schema = Assignment.model_json_schema()
    free = schema["$defs"]["FreeCode"]
    assert {"item", "find", "operators", "why"} <= set(free["properties"]) and set(free["required"]) == {"item", "find", "why"}
    assert all(free["properties"][f].get("description") for f in ("find", "operators", "why"))
    assert "free" in schema["$defs"]["SelfTest"]["properties"]


def test_the_kill_rate_ignores_free_mutants_and_the_table_and_page_list_them_with_their_reason():
    from rich.console import Console

    from grader.cli_mutants import print_table, strong_enough
    from grader.mutants.models import FreeMutant, FreeResult, ItemTally, MutationReport
    from grader.mutants.page import render_page

    tally = ItemTally(killed=9, survived=1, equivalent=2, free=40, generated=60)
    assert tally.score == 0.9
    freed = FreeResult(item="a", find=["Dense(512, activation='relu')", "[[1, 2],\n [3, 4]]"], operators=["constant"],
                       why="the sheet lets the student <design> the hidden layer",
                       mutants=[FreeMutant(id="f1", cell=3, line=2, operator="constant", before="512", after="513",
                                           description="a number changed (`513` instead of `512`)")])
    report = MutationReport(assignment="t", version="1", seed=0, max_per_item=2, items={"a": tally}, free=[freed])
    assert strong_enough(report)
    again = MutationReport.model_validate_json(report.model_dump_json())
    assert again.items["a"].free == 40 and again.free[0].mutants[0].after == "513"
    assert '"free": 40' in report.model_dump_json(indent=1) and ItemTally().free == 0
    console = Console(record=True, width=200)
    print_table(report, console)
    out = console.export_text()
    assert "free" in out.splitlines()[2] and "│ 40 " in out and "90%" in out
    assert "free: a, 1 mutants in `Dense(512, activation='relu')`, `[[1, 2], …` (constant), not graded: the sheet lets" in out
    page = render_page(report)
    assert "<td>40</td>" in page and "Left free by the rubric" in page and "the sheet lets the student &lt;design&gt;" in page
    assert "a number changed (`513` instead of `512`)" in page


def test_the_shipped_free_declarations_set_aside_what_the_sheets_leave_open_and_nothing_else():
    from grader.loader import load_assignment

    def free_and_graded(assignment_id, item_id):
        assignment = load_assignment(assignment_id)
        nb = nbformat.read(assignment.directory / assignment.self_test.solution, as_version=4)
        chosen = plan(nb, assignment, max_per_item=1000)
        free = {(m.operator, m.before, m.after) for r in chosen.free if r.item == item_id for m in r.mutants}
        return free, {(s.operator, s.before, s.after) for s in chosen.mutants[item_id]}

    free, graded = free_and_graded("lab01-math", "tensor_ranks")
    assert ("constant", "13", "12") in free and {op for op, *_ in free} == {"constant"}
    assert {op for op, *_ in graded} == {"statement_deleted"}  # no example at all is still wrong
    free, graded = free_and_graded("lab01-math", "keras_model")
    assert ("constant", "512", "513") in free and ("constant", "10", "11") in graded  # the output layer is not free
    free, graded = free_and_graded("dnn-backprop", "svhn_model")
    assert ("activation_swapped", "'relu'", "'sigmoid'") in free and ("statement_deleted", "x = self.dense2(x)", "pass") in free
    assert ("activation_swapped", "'softmax'", "'sigmoid'") in graded and ("statement_deleted", "x = self.flatten(x)", "pass") in graded
    free, graded = free_and_graded("dnn-backprop", "dnn_tanh_training")
    assert ("arguments_swapped", "np.random.normal(0.0, 1.0, (2,))", "np.random.normal(1.0, 0.0, (2,))") in free
    assert ("range_bound", "range(100)", "range(1, 100)") in free
    assert ("zero_iteration_loop", "range(100)", "[]") in graded  # a loop that never runs trains nothing
    assert ("constant", "10", "11") in graded  # the data's shape must still fit the network


# --- observations and the classification ----------------------------------------------------------

def _npy(array) -> dict:
    from grader.kernel.agent import encode

    return encode(np.asarray(array))


def test_the_digest_is_behaviour_not_wording():
    a = {"observations": {"out": _npy([0.1 + 0.2, 1.0])}}
    b = {"observations": {"out": _npy([0.3, 1.0])}}  # differs in the last bit only
    c = {"observations": {"out": _npy([0.3, 1.1])}}
    assert response_digest([a]) == response_digest([b]) != response_digest([c])
    as_int = {"observations": {"out": _npy(np.array([0, 1]))}}
    as_float = {"observations": {"out": _npy(np.array([0.0, 1.0]))}}
    assert response_digest([as_int]) != response_digest([as_float])  # a dtype is behaviour too
    raised = {"observations": {}, "error": {"during": "f(x)", "ename": "IndexError", "evalue": "index 5 at 0x7f01"}}
    other_message = {"observations": {}, "error": {"during": "f(x)", "ename": "IndexError", "evalue": "index 5 at 0x7f99"}}
    assert response_digest([raised]) == response_digest([other_message])
    assert response_digest([None]) is None and response_digest([]) is None


def _item(item_id: str, status: str, observed: str | None) -> ItemResult:
    return ItemResult(id=item_id, title=item_id, status=status, score=float(status == "pass"), max_score=1, observed=observed,
                      feedback=f"{item_id} {status}")


def _graded(items, cells: Cells | None = None) -> Report:
    return Report(grader_version="t", status="graded", submission=SubmissionRef(path="m.ipynb"), items=items, cells=cells or Cells())


def _spec(item="a", cell=1) -> MutantSpec:
    return MutantSpec(id="m1", item=item, cell=cell, operator="constant", line=1, before="0", after="1", description="d",
                      source="x = 1", original="x = 0")


def test_killed_survived_equivalent_broken_and_cascades():
    from grader.mutants.campaign import classify, unstable_items
    from grader.rubric import Assignment

    assignment = Assignment.model_validate({"id": "t", "title": "t", "items": [
        {"id": "a", "title": "a", "points": 1, "kind": "function", "names": ["a"], "reference": "tensor_ops"},
        {"id": "b", "title": "b", "points": 1, "kind": "function", "names": ["b"], "reference": "tensor_ops", "depends_on": ["a"]},
        {"id": "c", "title": "c", "points": 1, "kind": "function", "names": ["c"], "reference": "tensor_ops"}]})
    solution = _graded([_item("a", "pass", "A"), _item("b", "pass", "B"), _item("c", "pass", "C")])
    fate = lambda report, **kw: classify(_spec(**kw), report, solution, assignment)
    assert fate(_graded([_item("a", "pass", "A"), _item("b", "pass", "B"), _item("c", "pass", "C")]))[0].fate is Fate.EQUIVALENT
    survived, _ = fate(_graded([_item("a", "pass", "A2"), _item("b", "pass", "B"), _item("c", "pass", "C")]))
    assert survived.fate is Fate.SURVIVED and survived.changed == ["a"]
    # its own observations unchanged, but another item's are: observable, so not equivalent
    assert fate(_graded([_item("a", "pass", "A"), _item("b", "pass", "B2"), _item("c", "pass", "C")]))[0].fate is Fate.SURVIVED
    killed, cascades = fate(_graded([_item("a", "fail", "A2"), _item("b", "fail", "B2"), _item("c", "error", "C2")]))
    assert killed.fate is Fate.KILLED and killed.status == "fail"
    assert [(c.failed, c.expected) for c in cascades] == [("b", True), ("c", False)]
    stopped = Cells(errors=[CellError(cell=1, ename="NameError")])
    assert fate(_graded([_item("a", "missing", None), _item("b", "pass", "B"), _item("c", "pass", "C")], stopped))[0].fate is Fate.BROKEN
    # the cell raised after defining the function, which is judged: killed, not broken
    assert fate(_graded([_item("a", "fail", "A2"), _item("b", "pass", "B"), _item("c", "pass", "C")], stopped))[0].fate is Fate.KILLED
    timed_out = _item("a", "error", None).model_copy(update={"feedback": "This item could not be checked: checking it took longer than 60 s."})
    assert fate(_graded([timed_out, _item("b", "pass", "B"), _item("c", "pass", "C")]))[0].fate is Fate.BROKEN
    assert unstable_items([solution, _graded([_item("a", "pass", "A"), _item("b", "pass", "B9"), _item("c", "pass", "C")])]) == ["b"]
    assert isinstance(cascades[0], Cascade)


def test_a_failing_item_that_behaves_like_a_known_mutant_gets_its_description(tmp_path, monkeypatch):
    import nbformat

    from grader.checks import Evidence
    from grader.checks.base import Judgement
    from grader.judging import item_result
    from grader.mutants import hints
    from grader.report import Cells
    from grader.loader import load_rubric
    from grader.secret import Inputs

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    assignment = load_rubric(make_assignment(tmp_path, strong=True) / "rubric.toml")
    wrong = {"observations": {"out": _npy([0.0, 1.0])}}
    other = {"observations": {"out": _npy([5.0, 1.0])}}
    hints.write_store(HintStore(assignment="mini-relu", version="2", inputs="public", grader_version="t", items={
        "naive_relu": [KnownMutant(id="m", description="a loop that stops one step early", digest=response_digest([wrong]))]}))
    spec = next(i for i in assignment.items if i.id == "naive_relu")

    def judged(response, status, inputs=Inputs()):
        """The item's one result, as grading builds it: its digest and the known mutant it behaves like go in with the evidence."""
        digest = hints.observed_digest(["naive_relu"], {"naive_relu": response})
        evidence = Evidence(nb=nbformat.v4.new_notebook(), cells=Cells(), observed=digest,
                            like_mutant=hints.like_mutant(hints.store_for(assignment, inputs), "naive_relu", digest))
        return item_result(spec, Judgement(status=status, score=0.0 if status != "pass" else 1.0, feedback="Wrong."), evidence)

    for response, status, hinted in ((wrong, "fail", True), (other, "fail", False), (wrong, "pass", False)):
        item = judged(response, status)
        assert item.observed == response_digest([response])
        assert (item.like_mutant is not None) is hinted
        assert ("This is what a loop that stops one step early gives." in item.feedback) is hinted
    item = judged(wrong, "fail", Inputs(secret_digest="abc"))
    assert item.like_mutant is None  # other inputs: other observations, no match is meaningful


def test_the_shipped_store_serves_an_empty_cache_and_never_a_changed_rubric(tmp_path, monkeypatch):
    """`assignments/ID/mutant-hints.json`: read when the cache has no store, for the same grading content and inputs only."""
    from grader.loader import load_rubric
    from grader.mutants import hints
    from grader.mutants.models import ShippedHints
    from grader.secret import Inputs

    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    folder = make_assignment(tmp_path, strong=True)
    assignment = load_rubric(folder / "rubric.toml")
    shipped = HintStore(assignment="mini-relu", version="2", inputs="public", grader_version="t", items={
        "naive_relu": [KnownMutant(id="m", description="a loop that stops one step early", digest="D")]})
    path = hints.write_shipped(assignment, shipped)
    assert path == folder / "mutant-hints.json"
    written = ShippedHints.model_validate_json(path.read_text())
    assert written.grading_key == hints.grading_key(assignment) and set(written.stores) == {"public"}
    # a second set of inputs joins the file; the first stays
    hints.write_shipped(assignment, shipped.model_copy(update={"inputs": "abc"}))
    assert set(ShippedHints.model_validate_json(path.read_text()).stores) == {"public", "abc"}
    # an empty cache: the shipped store, for its own inputs only
    assert hints.store_for(assignment, Inputs()).items["naive_relu"][0].digest == "D"
    assert hints.store_for(assignment, Inputs(secret_digest="other")) is None
    # the cache's store, when there is one, comes first
    hints.write_store(shipped.model_copy(update={"items": {"naive_relu": [KnownMutant(id="n", description="d", digest="E")]}}))
    assert hints.store_for(assignment, Inputs()).items["naive_relu"][0].digest == "E"
    (tmp_path / "cache").rename(tmp_path / "old-cache")
    # a check edited without a new version: the grading content differs, the shipped store is stale and never used
    rubric = folder / "rubric.toml"
    rubric.write_text(rubric.read_text().replace('atol = 1e-6', 'atol = 1e-7'))
    edited = load_rubric(rubric)
    assert hints.stale(hints.read_shipped(edited), edited).startswith("it was computed for the rubric's grading content")
    assert hints.store_for(edited, Inputs()) is None
    # editing only [validate] (a free declaration, a known-wrong example) keeps it
    rubric.write_text(rubric.read_text().replace('atol = 1e-7', 'atol = 1e-6') + FREE)
    assert hints.store_for(load_rubric(rubric), Inputs()) is not None


SHIPPED_HINTS = sorted(p.parent.name for p in (Path(__file__).resolve().parent.parent / "assignments").glob("*/mutant-hints.json"))


def test_every_assignment_ships_its_hint_store_for_the_public_seed():
    from grader.loader import assignment_ids, load_assignment
    from grader.mutants import hints

    assert set(SHIPPED_HINTS) == set(assignment_ids())
    for assignment_id in SHIPPED_HINTS:
        assert "public" in hints.read_shipped(load_assignment(assignment_id)).stores, assignment_id


@pytest.mark.parametrize("assignment_id", SHIPPED_HINTS)
def test_a_shipped_hint_store_belongs_to_its_rubric(assignment_id):
    """Like a lockfile: a rubric whose grading content changed needs its mutants graded again, or its hints are lost."""
    from grader.loader import load_assignment
    from grader.mutants import hints

    assignment = load_assignment(assignment_id)
    shipped = hints.read_shipped(assignment)
    assert shipped is not None, f"assignments/{assignment_id}/mutant-hints.json is not a ShippedHints file"
    why = hints.stale(shipped, assignment)
    assert why is None, (f"assignments/{assignment_id}/mutant-hints.json is stale: {why}. Run `grade validate {assignment_id} "
                         f"--mutants --max-per-item 4` (and again with --public-seed) and commit the file it writes.")
    items = {item.id for item in assignment.items if item.kind != "manual"}
    assert shipped.stores
    for inputs, store in shipped.stores.items():
        assert (store.assignment, store.version, store.inputs, store.grading_key) == (assignment_id, assignment.version, inputs, shipped.grading_key)
        assert set(store.items) <= items and any(store.items.values())
        for known in store.items.values():
            assert len({k.digest for k in known}) == len(known) and all(k.description for k in known)


def test_a_loop_one_step_short_is_said_by_its_effect_and_the_store_takes_the_current_words(tmp_path, monkeypatch):
    """`range(epochs - 1)` and `range(1, epochs)` behave alike where the index is unused: the hint must fit both."""
    from grader.mutants.campaign import hint_store
    from grader.mutants.hints import write_store
    from grader.mutants.models import MutantResult
    from grader.rubric import Assignment

    found = {m.after: m.description for m in _by(mutations("for epoch in range(epochs):\n    step()\n"), Operator.RANGE_BOUND)}
    assert set(found) == {"range(epochs - 1)", "range(1, epochs)"}
    assert found["range(1, epochs)"] == "a loop that runs one step too few (like `range(1, epochs)` instead of `range(epochs)`)"
    assert found["range(epochs - 1)"].startswith("a loop that runs one step too few (like `range(epochs - 1)`")  # no claim of which end
    # a store written with an operator's earlier words takes its current ones; a declared mutant's words stay
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "cache"))
    assignment = Assignment.model_validate({"id": "t", "title": "t", "items": [
        {"id": "a", "title": "a", "points": 1, "kind": "function", "names": ["a"], "reference": "tensor_ops"},
        {"id": "b", "title": "b", "points": 1, "kind": "function", "names": ["b"], "reference": "tensor_ops"}]})
    solution = _graded([_item("a", "pass", "A"), _item("b", "pass", "B")])
    write_store(HintStore(assignment="t", version="1", inputs="public", grader_version="t", items={
        "a": [KnownMutant(id="m1", description="a loop that skips its first step", digest="A2")],
        "b": [KnownMutant(id="declared", description="the rubric's words", digest="B2")]}))
    killed = [MutantResult(**_spec(item).model_dump() | {"id": f"m-{item}", "description": found["range(1, epochs)"]}, fate=Fate.KILLED)
              for item in ("a", "b")]
    killed[0].id = "m1"
    reports = {"m1": _graded([_item("a", "fail", "A2"), _item("b", "pass", "B")]),
               "m-b": _graded([_item("a", "pass", "A"), _item("b", "fail", "B2")])}
    store = hint_store(assignment, killed, reports, solution)
    assert [k.description for k in store.items["a"]] == [found["range(1, epochs)"]]
    assert [k.description for k in store.items["b"]] == ["the rubric's words"]


def test_the_page_shows_each_survivor_as_a_diff_escaped():
    from grader.mutants.models import ItemTally, MutantResult, MutationReport
    from grader.mutants.page import render_page

    survivor = MutantResult(**_spec().model_dump() | {"source": "x = 1  # <b>", "original": "x = 0  # <b>"}, fate=Fate.SURVIVED)
    page = render_page(MutationReport(assignment="t", version="1", seed=0, max_per_item=3, items={"a": ItemTally(killed=1, survived=1)},
                                      mutants=[survivor]))
    assert "-x = 0  # &lt;b&gt;" in page and "+x = 1  # &lt;b&gt;" in page and "<b>" not in page.split("<body>")[1].replace("<b>survivor</b>", "")
    assert "50%" in page


# --- end to end, in kernels ------------------------------------------------------------------------

def _validate(root: Path, report: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "validate", "mini-relu", "--mutants", "--max-per-item", "20",
                           "--json", str(report), "--html", str(report.with_suffix(".html"))],
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="session")
def mutant_runs(tmp_path_factory):
    """The weak rubric's mutants, then the strengthened rubric's, then two wrong submissions graded against it."""
    root = tmp_path_factory.mktemp("mutant-assignments")
    env = {**os.environ, "GRADER_ASSIGNMENTS_DIR": str(root)}
    make_assignment(root, strong=False)
    weak_json = root / "weak.json"
    weak = _validate(root, weak_json, env)
    make_assignment(root, strong=True)
    strong_json = root / "strong.json"
    strong = _validate(root, strong_json, env)
    subs = root / "submissions"
    subs.mkdir()
    like = "import numpy as np\n\ndef naive_relu(values):\n    # ReLU, my way\n    out = values.copy()\n    for k in range(len(out) - 1):  out[k] = max(out[k], 0)\n    return out\n"
    unlike = "import numpy as np\n\ndef naive_relu(values):\n    return np.abs(values)\n"
    # behavioural similarity: a renamed, reformatted copy of `unlike`, and a second student making the mutant's mistake on their own
    copied = "import numpy as np\n\n\ndef naive_relu(xs):\n    magnitudes = np.abs(xs)   # every entry made positive\n\n    return magnitudes\n"
    like_too = ("import numpy as np\n\ndef naive_relu(a):\n    b = a.copy()\n    i = 0\n    while i < len(b) - 1:\n"
                "        if b[i] < 0:\n            b[i] = 0\n        i += 1\n    return b\n")
    nbformat.write(notebook(like), subs / "like_a_mutant.ipynb")
    nbformat.write(notebook(unlike), subs / "another_mistake.ipynb")
    nbformat.write(notebook(copied), subs / "copied_mistake.ipynb")
    nbformat.write(notebook(like_too), subs / "like_a_mutant_too.ipynb")
    graded = subprocess.run([sys.executable, "-m", "grader", str(subs), "-a", "mini-relu", "--out", str(root / "out")],
                            capture_output=True, text=True, timeout=300, env=env)
    assert graded.returncode == 0, graded.stderr[-2000:]
    reports = {name: Report.model_validate_json((root / "out" / f"{name}.json").read_text())
               for name in ("like_a_mutant", "another_mistake", "copied_mistake", "like_a_mutant_too")}
    return weak, json.loads(weak_json.read_text()), strong, json.loads(strong_json.read_text()), reports, root


@pytest.mark.kernel
def test_a_weak_rubric_shows_its_survivor_and_the_strengthened_one_kills_it(mutant_runs):
    weak, weak_json, strong, strong_json, _, root = mutant_runs
    assert weak.returncode == 1, weak.stdout[-3000:] + weak.stderr[-2000:]  # below 90 %: the command says so by its exit code
    survivors = [m for m in weak_json["mutants"] if m["fate"] == "survived"]
    # a tolerance of 1 hides `max(x[i], 1)` and `max(x[i], -1)` on any inputs; the session's secret draws the inputs,
    # on which a loop one step short may survive too (when the entry it skips lies in (-1, 0))
    assert {m["after"] for m in survivors if m["operator"] == "constant"} == {"1", "-1"}
    assert weak_json["items"]["naive_relu"]["survived"] == len(survivors)
    assert "survived: naive_relu" in weak.stdout and "naive_relu" in weak.stdout
    page = (root / "weak.html").read_text()
    assert "+        x[i] = max(x[i], -1)" in page or "+        x[i] = max(x[i], 1)" in page
    assert strong.returncode == 0, strong.stdout[-3000:] + strong.stderr[-2000:]
    fates = {m["id"]: m["fate"] for m in strong_json["mutants"]}
    assert all(fates[m["id"]] == "killed" for m in survivors)  # the same mutants, now killed
    assert strong_json["items"]["naive_relu"]["survived"] == 0 and strong_json["cascades"] == []


@pytest.mark.kernel
def test_free_code_is_counted_not_graded_and_declaring_it_regrades_nothing(mutant_runs):
    _, _, _, strong_json, _, root = mutant_runs
    rubric = root / "mini-relu" / "rubric.toml"
    text = rubric.read_text()
    rubric.write_text(text + FREE.replace("why =", 'operators = ["constant"]\nwhy ='))
    try:
        run = _validate(root, root / "free.json", {**os.environ, "GRADER_ASSIGNMENTS_DIR": str(root)})
    finally:
        rubric.write_text(text)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    result = json.loads((root / "free.json").read_text())
    constants = {m["id"] for m in strong_json["mutants"] if m["operator"] == "constant"}  # max(x[i], 1) and max(x[i], -1)
    assert len(constants) == 2 and result["items"]["naive_relu"]["free"] == 2
    assert {m["id"] for m in result["free"][0]["mutants"]} == constants and not constants & {m["id"] for m in result["mutants"]}
    assert len(result["mutants"]) == len(strong_json["mutants"]) - 2
    # the grading content is the strong rubric's: its reports are current, nothing is graded again
    assert "mini-relu: 0 notebooks to grade" in run.stderr and "notebooks to grade, 0 already graded" not in run.stderr
    assert "free: naive_relu, 2 mutants in `max(x[i], 0)` (constant), not graded: the sheet lets" in run.stdout
    assert "Left free by the rubric" in (root / "free.html").read_text()


@pytest.mark.kernel
def test_an_equivalent_mutant_is_classed_equivalent_not_survived(mutant_runs):
    _, weak_json, _, strong_json, _, _ = mutant_runs
    for run in (weak_json, strong_json):
        (declared,) = [m for m in run["mutants"] if m["declared"]]
        assert declared["after"] == "x = np.array(x)" and declared["fate"] == "equivalent" and declared["changed"] == []
    assert strong_json["items"]["naive_relu"]["equivalent"] >= 1


@pytest.mark.kernel
def test_a_hint_comes_from_the_mutant_a_submission_behaves_like_and_only_from_it(mutant_runs):
    _, _, _, strong_json, reports, _ = mutant_runs
    like, unlike = reports["like_a_mutant"].item("naive_relu"), reports["another_mistake"].item("naive_relu")
    early = next(m for m in strong_json["mutants"] if m["after"] == "range(len(x) - 1)")
    assert early["fate"] == "killed"
    assert like.status == "fail" and like.like_mutant == early["description"]
    assert like.feedback.endswith(f"This is what {early['description']} gives.")
    assert unlike.status == "fail" and unlike.like_mutant is None and "This is what" not in unlike.feedback
    assert like.observed and unlike.observed and like.observed != unlike.observed


@pytest.mark.kernel
def test_a_fresh_clone_gets_the_hint_from_the_store_the_assignment_ships(mutant_runs, tmp_path):
    """`--mutants` wrote the killed mutants' observations into the assignment's folder: with an empty cache
    (a fresh machine, the same instructor's secret) the submission that behaves like one still gets its words."""
    from grader.mutants.models import ShippedHints

    _, _, _, strong_json, reports, root = mutant_runs
    shipped = ShippedHints.model_validate_json((root / "mini-relu" / "mutant-hints.json").read_text())
    assert strong_json["shipped"] == str(root / "mini-relu" / "mutant-hints.json")
    (store,) = shipped.stores.values()
    early = next(m for m in strong_json["mutants"] if m["after"] == "range(len(x) - 1)")
    assert early["id"] in {k.id for k in store.items["naive_relu"]}
    empty = tmp_path / "empty-cache"
    env = {**os.environ, "GRADER_ASSIGNMENTS_DIR": str(root), "GRADER_CACHE_DIR": str(empty)}
    out = tmp_path / "like.json"
    graded = subprocess.run([sys.executable, "-m", "grader", str(root / "submissions" / "like_a_mutant.ipynb"), "-a", "mini-relu",
                             "--json", str(out), "--quiet"], capture_output=True, text=True, timeout=300, env=env)
    assert graded.returncode == 0, graded.stderr[-2000:]
    like = Report.model_validate_json(out.read_text()).item("naive_relu")
    assert like.status == "fail" and like.like_mutant == early["description"] == reports["like_a_mutant"].item("naive_relu").like_mutant
    assert not (empty / "mutants").exists()  # nothing came from a cache: the hint is the shipped store's


@pytest.mark.kernel
def test_a_disguised_copy_of_a_wrong_answer_is_paired_by_behaviour_and_a_common_mistake_is_not(mutant_runs):
    *_, reports, root = mutant_runs
    rows = list(csv.DictReader((root / "out" / "similarity.csv").read_text().splitlines()))
    behaviour = {(r["item"], r["submission_a"], r["submission_b"]) for r in rows if r["basis"] == "behaviour"}
    assert ("naive_relu", "another_mistake.ipynb", "copied_mistake.ipynb") in behaviour  # renamed, reformatted: the same wrong numbers
    assert reports["like_a_mutant_too"].item("naive_relu").like_mutant is not None  # the mutant's mistake, made on its own
    assert not [pair for pair in behaviour if "like_a_mutant.ipynb" in pair or "like_a_mutant_too.ipynb" in pair]


@pytest.mark.parametrize("assignment_id", ["dlwp-ch2", "lab01-math", "week3-questions", "dnn-backprop", "mit-lab1"])
def test_every_shipped_assignment_has_mutants_for_its_automatic_items_and_its_declared_ones_apply(assignment_id):
    from grader.loader import load_assignment

    assignment = load_assignment(assignment_id)
    nb = nbformat.read(assignment.directory / assignment.self_test.solution, as_version=4)
    chosen = plan(nb, assignment, max_per_item=3)
    planned, generated = chosen.mutants, chosen.generated
    automatic = {item.id for item in assignment.items if item.kind != "manual"}
    assert set(planned) == automatic
    assert all(generated[i] >= len(planned[i]) > 0 for i in planned)
    declared = [s for specs in planned.values() for s in specs if s.declared]
    assert len(declared) == len(assignment.self_test.mutants)
    for spec in declared:  # each one changes the solution's cell, and still parses
        assert spec.source != spec.original and ast.parse(spec.source)


def test_the_command_refuses_mutant_options_without_mutants_and_unknown_assignments():
    from typer.testing import CliRunner

    from grader.cli import tools

    alone = CliRunner().invoke(tools, ["validate", "dlwp-ch2", "--json", "m.json"])
    assert alone.exit_code == 2 and "go with --mutants" in alone.output
    unknown = CliRunner().invoke(tools, ["validate", "no-such", "--mutants"])
    assert unknown.exit_code == 2 and "unknown assignment 'no-such'" in unknown.output
