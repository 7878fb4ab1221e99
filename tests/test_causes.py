"""Feedback names the cause: a failing item it relies on, or the notebook's own assert, in one line."""

from grader.causes import cell_raised, one_line, with_causes
from grader import judging
from grader.report import ItemResult
from grader.loader import load_assignment


def result(item_id: str, status: str, feedback: str) -> ItemResult:
    return ItemResult(id=item_id, title=item_id, status=status, score=0.0 if status != "pass" else 1.0, max_score=1.0, feedback=feedback)


def test_an_item_that_relies_on_a_failing_item_names_it_instead_of_its_hint():
    assignment = load_assignment("dlwp-ch2")
    hint = next(i for i in assignment.items if i.id == "trained_model").checks[0].hint
    spec = next(i for i in assignment.items if i.id == "trained_model")
    cause = result("naive_sequential", "fail", "model(x) returned after the first layer.")
    trained = with_causes(f"the output has shape (10000, 512), expected (10000, 10). {hint}", spec, [cause])
    assert trained.startswith("Likely cause: `naive_sequential` failed in this notebook too")
    assert "returned after the first layer" in trained and hint not in trained and "The output has shape (10000, 512)" in trained
    assert cause.feedback == "model(x) returned after the first layer."  # the cause itself is unchanged


def test_no_cause_when_what_it_relies_on_passed(monkeypatch):
    """Judging hands an item only the items it relies on that failed, judged before it."""
    assignment = load_assignment("dlwp-ch2")
    statuses = {"naive_sequential": "pass", "fit": "fail"}
    seen = {}

    def judged(item, evidence):
        return result(item.id, statuses.get(item.id, "fail"), "accuracy 0.1 is below 0.5.")

    monkeypatch.setattr(judging, "judge_item", judged)
    items = judging.judge_items(assignment, lambda item, failed: seen.setdefault(item.id, [f.id for f in failed]))
    assert [i.id for i in items] == [i.id for i in assignment.items]  # rubric order, whatever order they were judged in
    spec = next(i for i in assignment.items if i.id == "trained_model")
    assert seen["trained_model"] == [d for d in spec.depends_on if statuses.get(d, "fail") != "pass"]
    assert "naive_sequential" not in seen["trained_model"]
    assert with_causes("accuracy 0.1 is below 0.5.", spec, []) == "accuracy 0.1 is below 0.5."


def test_items_are_judged_after_what_they_rely_on():
    for assignment_id in ("dlwp-ch2", "lab01-math"):
        assignment = load_assignment(assignment_id)
        order = [item.id for item in judging.dependencies_first(assignment)]
        assert sorted(order) == sorted(i.id for i in assignment.items)
        for item in assignment.items:
            assert all(order.index(d) < order.index(item.id) for d in item.depends_on if d in order)


def test_the_lab_that_includes_the_item_gets_the_same_dependency():
    lab = load_assignment("lab01-math")
    assert "naive_sequential" in next(i for i in lab.items if i.id == "trained_model").depends_on


def test_a_notebook_s_own_assert_is_one_line():
    numpy_message = "\nNot equal to tolerance rtol=1e-07, atol=0\n\nMismatched elements: 4 / 4 (100%)\n ACTUAL: array([[2., 2.]])"
    note = cell_raised(3, "defines", "naive_add", "AssertionError", numpy_message)
    assert note == " Cell 3, which defines `naive_add`, stopped at one of its own asserts (Not equal to tolerance rtol=1e-07, atol=0 …)."
    assert "\n" not in note
    assert cell_raised(3, "defines", "f", "AssertionError", "") == " Cell 3, which defines `f`, stopped at one of its own asserts."
    assert cell_raised(1, "mentions", "tf", "NameError", "name 'tf' is not defined") == " Cell 1, which mentions `tf`, raised NameError: name 'tf' is not defined."
    assert one_line("ValueError", "x" * 500).endswith(" …") and len(one_line("ValueError", "x" * 500)) < 200
