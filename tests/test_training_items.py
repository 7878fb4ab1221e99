"""dnn-backprop's training items, judged by what the training did (issue 14's survivors, closed by their kind).

- `dnn_tanh_training`: one step of the notebook's own `gradient_descent` on the grader's data must move every
  weight down the gradient of the notebook's own loss (finite differences), not only lower the loss and move
  every weight array: a back-propagation wrong in some entries (a column of `grad_W` skipped) still trains.
- `svhn_training`: the loop must train the sheet's 10 epochs, at least (counted by the optimizer's steps), and an item
  judged on what its answer cells did cannot pass when one of them stopped early (a `test_step` that raises
  after the first epoch's training).

The probe runs in-process over the agent (`LocalExecutor`, no kernel) on the solution's own numpy cells.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.anchors import Anchor
from grader.checks import KINDS, Evidence
from grader.checks.base import Judgement, answer_stopped
from grader.checks.behaviour import BehaviourCheck
from grader.checks.rules import rules_for
from grader.loader import load_assignment
from grader.probes.executor import LocalExecutor
from grader.probes.registry import run_request
from grader.report import CellError, Cells
from grader.values import Raised, parse_observations

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "assignments" / "dnn-backprop" / "solution.ipynb"
RULES = rules_for(ROOT / "assignments" / "dnn-backprop")
ASSIGNMENT = load_assignment("dnn-backprop")
TRAINING = next(i for i in ASSIGNMENT.items if i.id == "dnn_tanh_training")
SVHN = next(i for i in ASSIGNMENT.items if i.id == "svhn_training")


def _cells() -> dict[str, str]:
    nb = nbformat.read(SOLUTION, as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    pick = {key: next(s for s in sources if s.lstrip().startswith(start)) for key, start in (
        ("loss", "## 역전파"), ("activations", "# ## Activation Function"), ("dnn", "# Dense"),
        ("training", "x = np.random.normal(0.0, 1.0, (10,))\ny = np.random.normal(0.0, 1.0, (2,))\n\ndnn = DNN(hidden_depth=5"))}
    assert "range(100)" in pick["training"]
    pick["training"] = pick["training"].replace("range(100)", "range(3)")  # a few epochs: the check takes one step of its own
    return pick


CELLS = _cells()


def _observe(dnn_edit: tuple[str, str] | None = None) -> dict:
    """The replay probe's observations of the training cell, the example's DNN code changed by `dnn_edit`."""
    dnn = CELLS["dnn"]
    if dnn_edit is not None:
        assert dnn_edit[0] in dnn
        dnn = dnn.replace(*dnn_edit)
    namespace: dict = {"__name__": "__main__"}  # the classes are the notebook's own, as in a kernel
    np.random.seed(0)
    with contextlib.redirect_stdout(io.StringIO()):
        for source in (CELLS["loss"], CELLS["activations"], dnn, CELLS["training"]):
            exec(source, namespace)
        (probe,) = KINDS[TRAINING.kind].probes(TRAINING, ASSIGNMENT, [])
        response = run_request(probe.request, LocalExecutor(namespace), cell_source=CELLS["training"])
    assert "error" not in response, response
    return parse_observations(response)


def _step_check():
    return next(c for c in TRAINING.checks if c.rule == "follows_gradient")


def _follows(observed: dict):
    check = _step_check()
    return RULES[check.rule](check, observed, {}, TRAINING)


def test_the_example_backprop_follows_the_loss_gradient():
    observed = _observe()
    assert len(observed["step_along"]) == len(observed["loss_along"]) == 14  # 7 layers' W and b
    outcome = _follows(observed)
    # the example differentiates ½·sum((h − y)²) while its loss is ½·mean: a common factor of 2, which is a rate, not an error
    assert outcome.passed, outcome.message
    assert "−0.02 × its gradient" in outcome.message


@pytest.mark.parametrize("edit, wrong", [
    # issue 14's survivor: the first column of every dW is left at its initial ones
    (("for j in range(grad.shape[1])", "for j in range(1, grad.shape[1])"), "weights 1 (10×32), 3 (32×32)"),
    (("for j in range(grad.shape[1])", "for j in range(grad.shape[1] - 1)"), "weights 1 (10×32), 3 (32×32)"),
    # the back-propagation loop stops before the first layer: its dW stays at zeros
    (("for i in range(len(self.sequence) - 1, 0, -1):", "for i in range(len(self.sequence) - 1, 1, -1):"), "weights 1 (10×32) and 2 (32) of the 14"),
    # the biases' gradient with the wrong sign: the biases move up their gradient, the weights down
    (("return dh * self.a.grad()", "return -dh * self.a.grad()"), "weights 2 (32), 4 (32)"),
])
def test_a_backprop_wrong_in_some_entries_is_caught(edit, wrong):
    observed = _observe(edit)
    outcome = _follows(observed)
    assert not outcome.passed
    assert wrong in outcome.message and "down the loss's gradient" in outcome.message, outcome.message
    # the check the item had before still passes such a network: every weight array moved
    check = next(c for c in TRAINING.checks if c.rule == "all_changed")
    if "range(len(self.sequence) - 1, 1, -1)" not in edit[1]:
        assert RULES["all_changed"](check, observed, {}, TRAINING).passed


def test_gradient_ascent_and_a_missing_step_are_said():
    observed = _observe(("layer.W += -alpha * layer.dW\n        layer.b += -alpha * layer.db",
                         "layer.W += alpha * layer.dW\n        layer.b += alpha * layer.db"))
    outcome = _follows(observed)
    assert not outcome.passed and "gradient ascent" in outcome.message
    outcome = _follows({**observed, "step_missing": ["gradient_descent"]})
    assert not outcome.passed and "no `gradient_descent`" in outcome.message
    raised = {**observed, "step_along": Raised("one step of gradient_descent", "ValueError", "shapes (10,) and (3,) not aligned")}
    outcome = _follows(raised)
    assert not outcome.passed and outcome.raised and "ValueError" in outcome.message


# --- svhn_training: the epochs, counted by the optimizer's steps ---------------------------------------------

def _epochs(steps, batches):
    check = next(c for c in SVHN.checks if c.rule == "epochs_trained")
    return RULES[check.rule](check, {"optimizer_steps": steps, "train_batches": batches}, {}, SVHN)


def test_the_loop_must_train_the_sheets_ten_epochs():
    assert _epochs([1250.0], 125).passed
    assert _epochs([0.0, 1251.0], 125).passed  # a stray test call of the step is no epoch
    # a test_step that trains takes steps too (10 × 32 test batches): its own item's mistake, not held against this one
    assert _epochs([1250.0 + 320.0], 125).passed
    nine = _epochs([1125.0], 125)
    assert not nine.passed and "trained 9 epochs" in nine.message and "fewer than the sheet's 10" in nine.message
    assert not _epochs([1249.0], 125).passed  # a loop that stops inside its last epoch
    assert "no optimizer" in _epochs([], 125).message
    assert "could not be read" in _epochs([1250.0], None).message


# --- an item judged on what its answer cells did, when one of them stopped early -----------------------------

class _Passing(BehaviourCheck):
    """The behaviour kind with its checks all passed, to see what the answer cells' state adds."""

    def _judge(self, item, evidence):
        return Judgement(status="pass", score=item.points, feedback="All checks passed.")


def _evidence(errors=(), timed_out=()) -> Evidence:
    anchor = Anchor(text=SVHN.questions[0].text, question=26, answers=(27,))
    return Evidence(nb=nbformat.v4.new_notebook(), cells=Cells(total=28, executed=28, errors=list(errors), timed_out=list(timed_out)),
                    anchors=[anchor])


def test_a_loop_whose_cell_raised_does_not_pass():
    error = CellError(cell=27, ename="TypeError", evalue="Inputs to a layer should be tensors. Got: <Mymodel object>\nmore lines")
    judged = _Passing().judge(SVHN, _evidence([error]))
    assert judged.status == "fail" and judged.score == 0
    assert judged.feedback.startswith("Cell 27, an answer to “for문을 사용하여")
    assert "raised TypeError: Inputs to a layer should be tensors. Got: <Mymodel object> …" in judged.feedback
    assert "did not run to its end" in judged.feedback
    assert judged.checks[-1].name == "the answer's cells run to their end" and not judged.checks[-1].passed
    cut = _Passing().judge(SVHN, _evidence(timed_out=[27]))
    assert cut.status == "fail" and "stopped at the time limit" in cut.feedback
    # another cell's error is not this item's; the answer cell that ran to its end passes
    assert _Passing().judge(SVHN, _evidence([CellError(cell=3, ename="KeyboardInterrupt", evalue="")])).status == "pass"
    assert answer_stopped(SVHN, _evidence()) is None
