"""The checks only the back-propagation sheet needs: its activation class, its SVHN model and steps, one rule.

Steps are checked on a reference model with weights the grader sets and a
batch of the grader's SVHN stand-in, with the grader's own optimizer and
metrics, so only the step under test can make a difference. The rubric names
these probes `backprop.<function>` (`TOPIC`). The training cell and the
trained model are checked by the package's generic `training` probes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from grader.checks.rules import rule
from grader.compare import Outcome, describe, is_numeric
from grader.probes.context import Kind, probe

if TYPE_CHECKING:
    from grader.rubric import CheckSpec, Item

TOPIC = "backprop"

# --- the activation class (numpy) -------------------------------------------------------------------
LARGE = [-1000.0, -800.0, -720.0, -700.0, -20.0, 20.0, 700.0, 720.0, 800.0, 1000.0]


@probe(observes={"output": Kind.ARRAY, "grad": Kind.ARRAY, "large_inputs": Kind.ARRAY, "large_output": Kind.ARRAY})
def activation(target, ctx):
    """A fresh activation object on moderate inputs and its grad() after that call; then on large inputs."""
    x = ctx.rng().uniform(-3, 3, (4, 5))
    x[0, 0] = 0.0
    name = ctx.params.get("name", "Tanh")
    act = ctx.call(f"{name}()", target)
    ctx.observed["output"] = ctx.attempt("calling it on x", act, x.copy())
    ctx.observed["grad"] = ctx.attempt("grad() after calling it on x", act.grad)
    large = np.array(ctx.params.get("large", LARGE))
    ctx.observed["large_inputs"] = large
    act = ctx.call(f"{name}()", target)
    seterr = ctx.kernel("numpy", "seterr")
    saved = ctx.value(ctx.call("", seterr, all="ignore"))  # overflow in exp is the point of this input
    try:
        ctx.observed["large_output"] = ctx.attempt("calling it on large abs(x)", act, large.copy())
    finally:
        ctx.call("", seterr, **saved)


# --- the SVHN model, the train step, the test step ----------------------------------------------------


def _batch(ctx, n):
    """n test images as the sheet prepares them: (n, 32, 32, 3) in [0, 1], labels (n, 1) in 0..9, as tensors."""
    with np.load(ctx.data["svhn"], allow_pickle=False) as f:
        images = np.moveaxis(f["test_X"][..., :n], -1, 0).astype("float32") / 255.0
        labels = f["test_y"][:n].astype("int64") - 1
    constant = ctx.kernel("tensorflow", "constant")
    return ctx.call("", constant, images), ctx.call("", constant, labels)


def _reference_model(ctx):
    """The reference's model, built on two images, every weight set by the grader."""
    model = ctx.call("", ctx.reference("Mymodel")["Mymodel"])
    images, _ = _batch(ctx, 2)
    ctx.call("", model, images)
    rng = ctx.rng(1)
    for variable in ctx.items(model.trainable_variables):
        shape = tuple(ctx.shape(variable))
        limit = np.sqrt(6.0 / sum(shape)) if len(shape) == 2 else 0.05
        ctx.call("", variable.assign, rng.uniform(-limit, limit, shape).astype("float32"))
    return model


def _weights(ctx, model):
    """Every trainable weight, as an evenly spaced sample of at most 4096 of its entries.

    The first kernel alone is 98,304 numbers; whole weights before and after
    would make an answer larger than a kernel message can carry.
    """
    sampled = []
    for variable in ctx.items(model.trainable_variables):
        flat = np.ravel(np.asarray(ctx.value(variable)))
        sampled.append(flat[:: max(1, flat.size // 4096)].copy())
    return sampled


def _metrics(ctx):
    metrics = ("tensorflow", "keras", "metrics")
    return ctx.call("", ctx.kernel(*metrics, "Mean")), ctx.call("", ctx.kernel(*metrics, "SparseCategoricalAccuracy"))


def _loss(ctx, loss_object, labels, model, images) -> float:
    return float(ctx.value(ctx.call("", loss_object, labels, ctx.call("", model, images))))


@probe(observes={"output": Kind.ARRAY})
def model_output(target, ctx):
    """A new model on a few grading images."""
    images, _ = _batch(ctx, ctx.params.get("n", 8))
    model = ctx.call("Mymodel()", target)
    ctx.observed["output"] = ctx.attempt("model(images) on (8, 32, 32, 3) images", model, images)


@probe(observes={"before": Kind.ARRAYS, "after": Kind.ARRAYS, "loss_before": Kind.NUMBER, "loss_after": Kind.NUMBER,
                 "metric_loss": Kind.NUMBER, "metric_accuracy": Kind.NUMBER}, ships=("Mymodel",))
def train_step(target, ctx):
    """One call on a reference model, a grading batch, the grader's SGD and fresh metrics."""
    model = _reference_model(ctx)
    images, labels = _batch(ctx, ctx.params.get("batch", 64))
    loss_object = ctx.call("", ctx.kernel("tensorflow", "keras", "losses", "SparseCategoricalCrossentropy"))
    optimizer = ctx.call("", ctx.kernel("tensorflow", "keras", "optimizers", "SGD"), learning_rate=ctx.params.get("learning_rate", 0.05))
    ctx.call("", optimizer.build, model.trainable_variables)  # a tf.function may not create the optimizer's variables later
    loss_metric, accuracy_metric = _metrics(ctx)
    ctx.observed["before"] = _weights(ctx, model)
    ctx.observed["loss_before"] = _loss(ctx, loss_object, labels, model, images)
    with ctx.fresh_optimizers(model.trainable_variables):
        ctx.call("train_step(model, images, labels, loss_object, optimizer, train_loss, train_accuracy)",
                 target, model, images, labels, loss_object, optimizer, loss_metric, accuracy_metric)
    ctx.observed["after"] = _weights(ctx, model)
    ctx.observed["loss_after"] = _loss(ctx, loss_object, labels, model, images)
    ctx.observed["metric_loss"] = float(ctx.value(ctx.call("", loss_metric.result)))
    ctx.observed["metric_accuracy"] = float(ctx.value(ctx.call("", accuracy_metric.result)))


@probe(observes={"before": Kind.ARRAYS, "after": Kind.ARRAYS, "metric_loss": Kind.NUMBER, "metric_accuracy": Kind.NUMBER},
       ships=("Mymodel",))
def test_step(target, ctx):
    """One call on a reference model and a grading batch, with fresh metrics."""
    model = _reference_model(ctx)
    images, labels = _batch(ctx, ctx.params.get("batch", 64))
    loss_object = ctx.call("", ctx.kernel("tensorflow", "keras", "losses", "SparseCategoricalCrossentropy"))
    loss_metric, accuracy_metric = _metrics(ctx)
    ctx.observed["before"] = _weights(ctx, model)
    try:
        with ctx.fresh_optimizers(model.trainable_variables):
            ctx.call("test_step(model, images, labels, loss_object, test_loss, test_accuracy)",
                     target, model, images, labels, loss_object, loss_metric, accuracy_metric)
    finally:
        ctx.observed["after"] = _weights(ctx, model)
    ctx.observed["metric_loss"] = float(ctx.value(ctx.call("", loss_metric.result)))
    ctx.observed["metric_accuracy"] = float(ctx.value(ctx.call("", accuracy_metric.result)))


# --- rules --------------------------------------------------------------------------------------------

@rule({Kind.ARRAY}, needs=("labels",))
def beats_majority(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """A trained classifier beats always answering the commonest class; one stuck on a class is told why."""
    predicted, labels = observed.get("predicted"), observed.get("labels")
    if not (is_numeric(predicted) and is_numeric(labels)) or np.size(labels) == 0 or np.shape(predicted) != np.shape(labels):
        return Outcome(False, f"the model could not be evaluated on the test data ({describe(predicted)})")
    predicted, labels = np.ravel(predicted).astype(int), np.ravel(labels).astype(int)
    accuracy = float((predicted == labels).mean())
    majority = float(np.bincount(labels - labels.min()).max() / labels.size)
    needed = majority + float(check.params.get("margin", 0.05))
    text = f"test accuracy {accuracy:.3f} on {labels.size} test images; the majority-class rate is {majority:.3f}"
    if accuracy >= needed:
        return Outcome(True, text, f"≥ {needed:.3f}", f"{accuracy:.3f}")
    values, counts = np.unique(predicted, return_counts=True)
    share = counts.max() / predicted.size
    message = f"{text}, and the model should beat it by {needed - majority:.2f}"
    if share >= float(check.params.get("stuck", 0.9)):
        message = f"the model predicts class {values[counts.argmax()]} for {share:.0%} of the test images: it is stuck on one class ({text})"
    causes = []
    input_max = observed.get("input_max")
    if is_numeric(input_max) and float(input_max) > float(check.params.get("max_input", 2.0)):
        causes.append(f"the images reach the model unscaled (values up to {float(input_max):g}): divide them by 255")
    rates = [float(np.asarray(r)) for r in observed.get("learning_rates") or [] if is_numeric(r) and np.size(r) == 1]
    if rates and max(rates) > float(check.params.get("max_learning_rate", 0.1)):
        causes.append(f"the learning rate {max(rates):g} is far too large")
    sums = observed.get("output_row_sums")
    if is_numeric(sums) and np.size(sums) and not np.allclose(sums, 1, atol=1e-3) and not any(observed.get("from_logits") or []):
        causes.append("its outputs are not probabilities (rows sum to "
                      f"{float(np.ravel(sums)[0]):.3g}, …) while the loss expects probabilities: is the last softmax missing?")
    if causes:
        message += "; " + " and ".join(causes)
    return Outcome(False, message, f"≥ {needed:.3f}", f"{accuracy:.3f}")
