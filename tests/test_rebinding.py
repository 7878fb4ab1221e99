"""Names a notebook binds more than once (grader/rebinding.py): where they are bound, which binding is judged, what the report says.

No kernel here: the planning reads the notebooks, the chooser and the job run on
captured answers made up as the kernel's agent gives them. The notebooks graded
in a kernel are tests/notebooks/published/lab1_one_section, lab1_import_heading
and third_edition_jax (tests/test_published.py).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from published import EXPECTED

from grader import rebinding
from grader.anchors import locate_items
from grader.notebook import prepare
from grader.checks import Evidence
from grader.checks.base import Judgement
from grader.judging import item_result
from grader.report import Cells, Found, ItemResult
from grader.loader import load_assignment
from grader.rubric import BehaviourItem, Binding, Item

ROOT = Path(__file__).resolve().parent.parent
SEQUENTIAL = ("keras.src.models.sequential.Sequential", "keras.src.models.model.Model", "builtins.object")
SUBCLASS = ("__main__.SubclassModel", "keras.src.models.model.Model", "builtins.object")
NAIVE = ("__main__.NaiveSequential", "builtins.object")


def _plan(path: Path, assignment_id: str) -> dict[str, list[int]]:
    nb = prepare(nbformat.read(path, as_version=4))
    items = load_assignment(assignment_id).items
    return {item_id: r.cells for item_id, r in rebinding.plan(nb, items, locate_items(nb, items)).items()}


@pytest.mark.parametrize("source, bound", [
    ("model = Sequential()", True),
    ("model, other = a, b", True),
    ("for model in models:\n    pass", True),
    ("if fresh:\n    model = make()\nelse:\n    pass", True),
    ("with open(p) as model:\n    pass", True),
    ("try:\n    model = make()\nexcept Exception:\n    pass", True),
    ("from keras import model", True),
    ("(model := make())", True),
    ("%%time\nmodel = make()", True),  # a magic line is read without it
    ("def build():\n    model = make()\n    return model", False),  # a function's own name
    ("class SubclassModel:\n    model = None", False),
    ("print(model)", False),
    ("model.add(layer)", False),
    ("model = (", False),  # does not parse: no binding is claimed
])
def test_which_cells_bind_a_name(source, bound):
    assert rebinding.binds(source, ["model"]) is bound


def test_items_with_a_rule_get_captures_where_their_name_is_rebound():
    published = ROOT / "tests" / "notebooks" / "published"
    # no question for the Sequential: every binding of the notebook is a candidate
    assert _plan(published / "lab1_one_section.ipynb", "mit-lab1") == {"sequential_model": [7, 8, 9]}
    # the question found (by meaning) at the heading of the imports: the bindings among its answer cells
    assert _plan(published / "lab1_import_heading.ipynb", "mit-lab1") == {"sequential_model": [9, 11, 12]}
    # the chapter's Keras listing binds `model` first, the from-scratch model second
    assert _plan(ROOT / "tests" / "notebooks" / "dlwp-ch2_walkthrough.ipynb", "dlwp-ch2") == {"trained_model": [6, 36]}
    assert _plan(published / "third_edition_jax.ipynb", "dlwp-ch2") == {"trained_model": [6, 18]}


@pytest.mark.parametrize("path", [ROOT / "tests" / "notebooks" / "mit_lab1_tensorflow.ipynb", ROOT / "assignments" / "mit-lab1" / "solution.ipynb",
                                  EXPECTED["colab_lab1"].path("colab_lab1"), EXPECTED["lab1_own_headings"].path("lab1_own_headings")])
def test_a_question_whose_answer_binds_the_name_once_is_probed_as_before(path):
    """The lab's question found, its answer binding `model` once: no capture, the probe after the answer as before."""
    assert _plan(path, "mit-lab1") == {}


def _seen(cell, classes, identity=None):
    return rebinding.Seen(cell, "model", classes, identity if identity is not None else 1000 + cell, 50 + cell)


def test_the_last_binding_that_satisfies_the_rule_is_judged():
    rule = Binding(isa=["Sequential"])
    seen = [_seen(20, SUBCLASS), _seen(14, SEQUENTIAL), _seen(18, SUBCLASS), _seen(16, SEQUENTIAL)]
    choice = rebinding.choose(seen, rule, [14, 16, 18, 20])
    assert choice.seen.cell == 16 and choice.cell == 16 and choice.cells == [14, 16, 18, 20]


def test_a_cell_that_raised_before_rebinding_is_not_a_binding_of_its_own():
    """Its capture saw the previous object (same identity): that object was bound by the earlier cell."""
    seen = [_seen(7, SEQUENTIAL, identity=1), _seen(8, SEQUENTIAL, identity=1), _seen(9, SUBCLASS, identity=2)]
    choice = rebinding.choose(seen, Binding(isa=["Sequential"]), [7, 8, 9])
    assert choice.seen.cell == 7 and choice.cells == [7, 9]


def test_without_a_satisfying_binding_the_name_as_left_is_judged():
    choice = rebinding.choose([_seen(7, SUBCLASS), _seen(9, SUBCLASS)], Binding(isa=["Sequential"]), [7, 9])
    assert choice.seen is None and choice.cell == 9
    nothing = rebinding.choose([], Binding(isa=["Sequential"]), [7, 9])  # no capture came back (the kernel died …)
    assert nothing.seen is None and nothing.cell == 9


@pytest.mark.parametrize("rule, classes, ok", [
    (Binding(own_class=True), NAIVE, True),
    (Binding(own_class=True), SEQUENTIAL, False),
    (Binding(own_class=False), SEQUENTIAL, True),
    (Binding(isa=["Sequential", "Functional"]), SEQUENTIAL, True),
    (Binding(isa=["Model"], not_isa=["Sequential"]), SEQUENTIAL, False),
    (Binding(isa=["Model"], not_isa=["Sequential"]), SUBCLASS, True),
    (Binding(), SUBCLASS, True),
])
def test_rules(rule, classes, ok):
    assert rebinding.satisfies(rule, classes) is ok


def test_the_jobs_capture_each_binding_then_judge_the_chosen_one_through_its_handle():
    item = load_assignment("mit-lab1").items[2]
    rebound = rebinding.Rebound(item, [7, 8, 9])
    probes = rebound.probes()
    assert [(p.key, p.after_cell, p.request["probe"]) for p in probes] == [
        ("sequential_model#binding7", 7, "capture.binding"), ("sequential_model#binding8", 8, "capture.binding"),
        ("sequential_model#binding9", 9, "capture.binding")]
    assert not probes[0].request.get("reference") and not probes[0].request.get("uses")  # ships no reference code
    held_by = []
    answers = {7: SEQUENTIAL, 8: SUBCLASS, 9: ("__main__.IdentityModel", "keras.src.models.model.Model")}

    def run_capture(cell):
        def run(executor, held):
            obs = {"mro": {"__seq__": list(answers[cell]), "tuple": False}, "id": 100 + cell, "handle": 10 + cell}
            return {"found": "model", "observations": obs}
        return run

    for probe, cell in zip(probes, [7, 8, 9]):
        rebound.job(probe, run_capture(cell))(None)

    def run_item(executor, held):
        held_by.append(held)
        return {"found": held[0] if held else "model", "observations": {}}

    from grader.checks.base import Probe
    response = rebound.job(Probe("sequential_model", {}), run_item)(None)
    assert held_by == [("model", 17)]
    assert response["binding"] == {"cells": [7, 8, 9], "judged": 7, "matched": True}


def _result(item, response: dict, found=True) -> ItemResult:
    """The item's one result, as judging builds it from a passing judgement and the probe's response."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"model = Model{i}()") for i in range(10)])
    judgement = Judgement(status="pass", score=1, feedback="All checks passed.", found=Found(name="model", cell=9) if found else None)
    return item_result(item, judgement, Evidence(nb=nb, cells=Cells(), responses={item.id: {"found": "model", **response}}))


def test_the_report_says_which_binding_was_judged_and_the_feedback_why():
    item = load_assignment("mit-lab1").items[2]
    result = _result(item, {"binding": {"cells": [7, 8, 9], "judged": 7, "matched": True}})
    assert result.found.cell == 7 and result.found.source == "model = Model7()"
    assert result.found.model_dump()["binding"] == {"cells": [7, 8, 9], "judged": 7, "rule": "a `Sequential`", "matched": True}
    assert "`model` is bound in cells 7, 8 and 9: the grader judged the binding of cell 7, the one that is a `Sequential`" in result.feedback

    fallback = _result(item, {"binding": {"cells": [7, 9], "judged": 9, "matched": False}})
    assert fallback.found.cell == 9 and fallback.found.binding.matched is False
    assert "none of them is a `Sequential`: the grader judged the last one (cell 9)" in fallback.feedback

    last = _result(item, {"binding": {"cells": [7, 9], "judged": 9, "matched": True}})
    assert last.feedback == "All checks passed." and last.found.binding.judged == 9  # the last one: nothing to explain

    plain = _result(item, {})  # no rebinding: the report as before
    assert "binding" not in plain.found.model_dump() and plain.found.cell == 9
    assert _result(item, {"binding": {"cells": [7], "judged": 7, "matched": True}}, found=False).found is None


def test_a_binding_rule_needs_names():
    with pytest.raises(ValueError, match="binding"):
        BehaviourItem(id="x", title="x", points=1, kind="behaviour", probe="values.read", questions=[{"text": "q"}],
             binding={"isa": ["Sequential"]})
    assert BehaviourItem(id="x", title="x", points=1, kind="behaviour", probe="values.read", names=["model"],
                binding={"own_class": True}).binding.describe() == "of a class the notebook defines"


def test_the_shipped_rubrics_choose_where_model_is_rebound():
    rules = {(a, i.id): i.binding for a in ("mit-lab1", "dlwp-ch2", "dnn-backprop") for i in load_assignment(a).items if i.binding}
    assert rules == {("mit-lab1", "sequential_model"): Binding(isa=["Sequential"]),
                     ("dlwp-ch2", "trained_model"): Binding(own_class=True),
                     ("dnn-backprop", "svhn_training"): Binding(isa=["Model"])}
