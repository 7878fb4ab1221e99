"""The comparison ladder and the rules: pure functions, no kernel."""

import numpy as np

from pathlib import Path

from grader.checks.rules import rules_for
from grader.compare import compare
from grader.rubric import BehaviourItem as Item
from grader.rubric import CheckSpec
from grader.values import Foreign, Raised

RULES = rules_for(Path(__file__).resolve().parent.parent / "assignments" / "dlwp-ch2")  # the generic rules and dlwp-ch2's own


def test_each_rung_says_what_differs():
    assert compare(np.zeros((2, 2)), np.zeros((2, 2))).passed
    assert "returned None" in compare(np.zeros(2), None).message
    assert "expected a number or an array" in compare(np.zeros(2), Foreign("MeanSquaredError", "<…>")).message
    assert compare(np.zeros((4, 10)), np.zeros((4, 512))).message == "output shape (4, 512), expected (4, 10)"
    assert "dtype float64" in compare(np.zeros(2, int), np.zeros(2), dtype="kind").message
    assert compare(np.zeros(2, int), np.zeros(2)).passed
    wrong = compare(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0]))
    assert not wrong.passed and "index (1,)" in wrong.message and wrong.max_error == 0.5
    assert "nan" in compare(np.array([1.0]), np.array([np.nan])).message
    raised = compare(np.zeros(2), Raised("calling f", "NameError", "name 'Tf' is not defined"))
    assert raised.raised and "NameError" in raised.message


def test_sequences_compare_element_by_element():
    assert compare([np.ones(2), 3], [np.ones(2), 3]).passed
    assert "2 elements" in compare([1, 2, 3], [1, 2]).message
    assert "[1]" in compare([np.ones(2), np.ones(2)], [np.ones(2), np.zeros(2)]).message


def _item(**params):
    return Item(id="x", title="x", points=1, kind="behaviour", names=["x"], reference="from_scratch", probe="from_scratch.fit", params=params)


def test_sgd_step_tells_descent_from_ascent():
    check = CheckSpec(name="step", observe="after", rule="sgd_step")
    before, g = [np.ones(3)], [np.array([1.0, -2.0, 0.5])]
    descent = {"before": before, "gradients": g, "after": [before[0] - 0.01 * g[0]]}
    ascent = {"before": before, "gradients": g, "after": [before[0] + 0.01 * g[0]]}
    still = {"before": before, "gradients": g, "after": [before[0]]}
    assert RULES["sgd_step"](check, descent, {}, _item()).passed
    assert "gradient ascent" in RULES["sgd_step"](check, ascent, {}, _item()).message
    assert "no weight changed" in RULES["sgd_step"](check, still, {}, _item()).message


def test_sgd_step_compares_the_rate_with_the_sheet_s():
    """The rate used is (before − after) / gradient: Keras' default 0.01 is not the sheet's 1e-3, and the feedback says so."""
    check = CheckSpec(name="step", observe="after", rule="sgd_step", params={"learning_rate": 1e-3})
    rng = np.random.default_rng(0)
    before = [rng.uniform(-1, 1, (5, 3)).astype("float32"), rng.uniform(-1, 1, 3).astype("float32")]
    g = [rng.uniform(-1, 1, w.shape).astype("float32") for w in before]

    def stepped(rate):
        return {"before": before, "gradients": g, "after": [(w - np.float32(rate) * d).astype("float32") for w, d in zip(before, g)]}

    sheet = RULES["sgd_step"](check, stepped(1e-3), {}, _item())
    assert sheet.passed and sheet.message == "learning rate 1e-3"
    default = RULES["sgd_step"](check, stepped(0.01), {}, _item())
    assert not default.passed and "a learning rate of 0.01, not the sheet's 1e-3" in default.message
    assert "default of Keras' SGD" in default.message and (default.expected, default.actual) == ("w − 1e-3 × g", "w − 0.01 × g")
    other = RULES["sgd_step"](check, stepped(0.05), {}, _item())
    assert not other.passed and "0.05, not the sheet's 1e-3" in other.message and "default" not in other.message
    assert "gradient ascent" in RULES["sgd_step"](check, stepped(-1e-3), {}, _item()).message
    assert RULES["sgd_step"](CheckSpec(name="step", observe="after", rule="sgd_step"), stepped(0.01), {}, _item()).passed
    from grader.checks.rules import _rate

    assert [_rate(r) for r in (0.0099999, 0.010001, 0.00099995, 2e-4, 0.05)] == ["0.01", "0.01", "1e-3", "0.0002", "0.05"]


def test_layers_applied_names_the_layer_where_the_chain_stopped():
    check = CheckSpec(name="chain", observe="output", rule="layers_applied")
    outcome = RULES["layers_applied"](check, {"output": np.zeros((4, 512))}, {"output": np.zeros((4, 10))}, _item(sizes=[784, 512, 10]))
    assert "after the first layer" in outcome.message


def test_batches_catches_a_generator_that_never_advances():
    check = CheckSpec(name="batches", observe="batches", rule="batches")
    first = [np.arange(4.0), np.arange(4)]
    second = [np.arange(4.0, 8.0), np.arange(4, 8)]
    outcome = RULES["batches"](check, {"batches": [first, first]}, {"batches": [first, second]}, _item())
    assert "advance" in outcome.message


def test_decreasing_and_accuracy():
    check = CheckSpec(name="falls", observe="losses", rule="decreasing")
    assert RULES["decreasing"](check, {"losses": [3, 3, 2, 2]}, {}, _item(epochs=2)).passed
    assert not RULES["decreasing"](check, {"losses": [2, 2, 3, 3]}, {}, _item(epochs=2)).passed
    acc = CheckSpec(name="acc", observe="output_shape", rule="accuracy")
    labels = np.arange(10) % 10
    perfect = np.eye(10)[labels]
    expected = {"labels": labels, "output_shape": [10, 10], "predictions": perfect}
    assert RULES["accuracy"](acc, {"output_shape": [10, 10], "predictions": perfect}, expected, _item()).passed
    stuck = np.eye(10)[np.zeros(10, int)]
    assert "below" in RULES["accuracy"](acc, {"output_shape": [10, 10], "predictions": stuck}, expected, _item()).message
    assert "(10, 512)" in RULES["accuracy"](acc, {"output_shape": [10, 512]}, expected, _item()).message
