"""The checks only DLwP ch. 2 needs: probes of its from-scratch model (layers, batches, training) and two rules.

Every probe that needs a model builds it from *reference* layers with
weights the grader sets, and lets the helpers the code under test calls
resolve to reference versions: one mistake costs one item. Each declares
the reference definitions it ships to the kernel (`ships`): never the
answer of an item that is not checked yet.

The rubric names these probes `from_scratch.<function>` (`TOPIC`); lab01-math
uses two of them (its items say `origin = "dlwp-ch2"`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from grader.checks.rules import equal, rule
from grader.compare import Outcome, compare, describe, is_numeric
from grader.probes.context import Kind, OperationFailed, StudentError, probe

if TYPE_CHECKING:
    from grader.rubric import CheckSpec, Item

TOPIC = "from_scratch"


def _mnist_slice(ctx, split: str, n: int):
    """The first n grading images (flattened, in [0, 1]) and labels, read in the grader's process."""
    images = ctx.grading_array("mnist", f"x_{split}")[:n].reshape((n, 28 * 28)).astype("float32") / 255
    labels = ctx.grading_array("mnist", f"y_{split}")[:n]
    return images, labels


def _mnist_remote(ctx, split: str, n: int):
    """The same arrays loaded beside the code under test from the grader's file (too large to send)."""
    archive = ctx.call("", ctx.kernel("numpy", "load"), ctx.data["mnist"], allow_pickle=False)
    raw = ctx.call("", ctx.kernel("numpy", "asarray"), archive[f"x_{split}"][:n])
    flat = ctx.call("", ctx.call("", raw.reshape, (n, 28 * 28)).astype, "float32")
    images = ctx.call("", ctx.kernel("numpy", "divide"), flat, np.float32(255))
    labels = ctx.call("", ctx.kernel("numpy", "asarray"), archive[f"y_{split}"][:n])
    return images, labels


def keras_backend(ctx) -> str:
    """The backend of the Keras 3 the kernel has imported ("tensorflow" where it has none: Keras 2, or TensorFlow alone)."""
    if not ctx.value(ctx.call("", ctx.kernel("operator", "contains"), ctx.kernel("sys", "modules"), "keras")):
        return "tensorflow"
    try:
        return str(ctx.value(ctx.call("", ctx.kernel("keras", "backend", "backend"))))
    except (OperationFailed, StudentError):  # a Keras without `backend.backend()`: TensorFlow's terms
        return "tensorflow"


def _reference_layers(ctx, sizes, dense, ops: bool = False):
    """The sheet's layers (ReLU, then softmax last) from the reference's NaiveDense, weights set by the grader.

    With `ops`, `dense` is the reference's OpsDense and the activations Keras' own, so that code under test
    written for Keras 3 on JAX can differentiate through them.
    """
    where = ("keras", "ops") if ops else ("tensorflow", "nn")
    relu, softmax = ctx.kernel(where[0], where[1], "relu"), ctx.kernel(where[0], where[1], "softmax")
    rng = ctx.rng(1)
    layers, weights, values = [], [], []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layer = ctx.call("", dense, n_in, n_out, relu if i < len(sizes) - 2 else softmax)
        for variable, shape in ((layer.W, (n_in, n_out)), (layer.b, (n_out,))):
            value = rng.uniform(-0.1, 0.1, shape).astype("float32")
            ctx.call("", variable.assign, value)
            weights.append(ctx.get(variable))
            values.append(value)
        layers.append(layer)
    return layers, weights, values


def _reference_model(ctx, sizes, refs, dense: str = "NaiveDense"):
    layers, weights, values = _reference_layers(ctx, sizes, refs[dense], ops=dense == "OpsDense")
    return ctx.call("", refs["NaiveSequential"], layers), weights, values


@probe(observes={"weight_shapes": Kind.SHAPES, "trainable": Kind.FLAGS, "output_relu": Kind.ARRAY, "output_softmax": Kind.ARRAY})
def dense(target, ctx):
    """Build NaiveDense layers, check their weights, set W and b, call them."""
    rng = ctx.rng()
    x = rng.uniform(-1, 1, (5, 6)).astype("float32")
    for label in ("relu", "softmax"):
        layer = ctx.call(f"NaiveDense(6, 4, activation=tf.nn.{label})", target, 6, 4, ctx.kernel("tensorflow", "nn", label))
        weights = ctx.elements("reading layer.weights", layer.weights)
        if label == "relu":
            ctx.observed["weight_shapes"] = [ctx.shape(w) for w in weights]
            ctx.observed["trainable"] = [ctx.isa(w, "Variable") and bool(ctx.value(w.trainable)) for w in weights]
        if len(weights) != 2:
            return
        W = rng.uniform(-1, 1, (6, 4)).astype("float32")
        b = rng.uniform(-1, 1, (4,)).astype("float32")
        ctx.call("assigning W and b", weights[0].assign, W)
        ctx.call("assigning W and b", weights[1].assign, b)
        ctx.observed[f"output_{label}"] = ctx.attempt(f"layer(x) with tf.nn.{label}", layer, x)


@probe(observes={"output": Kind.ARRAY, "weights_order": Kind.NUMBERS}, ships=("NaiveDense",))
def sequential(target, ctx):
    """Chain reference layers with the submission's NaiveSequential."""
    sizes = ctx.params.get("sizes", [784, 512, 10])
    layers, expected, _ = _reference_layers(ctx, sizes, ctx.reference("NaiveDense")["NaiveDense"])
    model = ctx.call("NaiveSequential(layers)", target, layers)
    x = ctx.rng(2).uniform(0, 1, (4, sizes[0])).astype("float32")
    ctx.observed["output"] = ctx.attempt("model(x)", model, x)
    weights = ctx.elements("reading model.weights", model.weights)
    order = ctx.ids(expected)
    ctx.observed["weights_order"] = [order.index(i) if i in order else -1 for i in ctx.ids(weights)]


@probe(observes={"num_batches": Kind.NUMBER, "batches": Kind.VALUE, "num_batches_default": Kind.NUMBER})
def batch_generator(target, ctx):
    """Draw every batch of a small labelled set and the default batch count."""
    n, size = ctx.params.get("n", 10), ctx.params.get("batch_size", 4)
    images = np.arange(n * 3, dtype="float32").reshape((n, 3))
    labels = np.arange(n)
    gen = ctx.call(f"BatchGenerator(images, labels, batch_size={size})", target, images, labels, size)
    ctx.observed["num_batches"] = ctx.value(ctx.read("reading num_batches", gen.num_batches))
    batches = []
    for i in range(-(-n // size)):
        batch = ctx.call(f"next() call {i + 1}", gen.next)
        batches.append([np.asarray(ctx.value(part)) for part in ctx.elements(f"next() call {i + 1}", batch)])
    ctx.observed["batches"] = batches
    default = ctx.call("BatchGenerator(images, labels)", target, np.zeros((300, 3)), np.zeros(300))
    ctx.observed["num_batches_default"] = ctx.value(default.num_batches)


@probe(observes={"before": Kind.ARRAYS, "gradients": Kind.ARRAYS, "after": Kind.ARRAYS})
def update_weights(target, ctx):
    """One call on variables and gradients the grader chose."""
    rng = ctx.rng()
    before = [rng.uniform(-1, 1, shape).astype("float32") for shape in ((5, 3), (3,))]
    gradients = [rng.uniform(-1, 1, w.shape).astype("float32") for w in before]
    weights = [ctx.call("", ctx.kernel("tensorflow", "Variable"), w) for w in before]
    tensors = [ctx.call("", ctx.kernel("tensorflow", "constant"), g) for g in gradients]
    ctx.observed["before"], ctx.observed["gradients"] = before, gradients
    with ctx.fresh_optimizers():
        ctx.call("update_weights(gradients, weights)", target, tensors, weights)
    ctx.observed["after"] = [ctx.value(w) for w in weights]


@probe(observes={"before": Kind.ARRAYS, "loss": Kind.NUMBER, "after": Kind.ARRAYS},
       ships=("NaiveDense", "OpsDense", "NaiveSequential", "update_weights"))
def one_training_step(target, ctx):
    """One step on a reference model and a grading batch, with the reference update.

    The student's step differentiates with the notebook's backend: on Keras 3 with JAX (no
    GradientTape), the model's layers hold keras.Variables and compute with keras.ops.
    """
    ops = keras_backend(ctx) != "tensorflow"
    refs = ctx.reference("OpsDense" if ops else "NaiveDense", "NaiveSequential", "update_weights")
    model, weights, values = _reference_model(ctx, ctx.params.get("sizes", [784, 32, 10]), refs, "OpsDense" if ops else "NaiveDense")
    images, labels = _mnist_slice(ctx, "test", ctx.params.get("batch", 32))
    ctx.observed["before"] = values
    with ctx.fresh_optimizers(), ctx.substitute(update_weights=refs["update_weights"]):
        loss = ctx.call("one_training_step(model, images, labels)", target, model, images, labels)
    ctx.observed["loss"] = ctx.value(loss)
    ctx.observed["after"] = [ctx.value(w) for w in weights]


@probe(observes={"batch_sizes": Kind.NUMBERS, "step_losses": Kind.NUMBERS, "weights_after": Kind.ARRAYS},
       ships=("NaiveDense", "OpsDense", "NaiveSequential", "one_training_step", "ops_one_training_step", "BatchGenerator",
              "update_weights"))
def fit(target, ctx):
    """A short fit on a grading slice, counting and recording every step (the reference's steps, in the notebook's backend's terms)."""
    ops = keras_backend(ctx) != "tensorflow"
    dense, step = ("OpsDense", "ops_one_training_step") if ops else ("NaiveDense", "one_training_step")
    refs = ctx.reference(dense, "NaiveSequential", step, "BatchGenerator", "update_weights")
    ctx.setattr(refs["__module__"], "learning_rate", ctx.params.get("learning_rate", 0.05))  # this check's own copy
    model, weights, _ = _reference_model(ctx, ctx.params.get("sizes", [784, 32, 10]), refs, dense)
    images, labels = _mnist_slice(ctx, "test", ctx.params.get("n", 512))
    recording_step, log = ctx.spy(refs[step])
    epochs = ctx.params.get("epochs", 3)
    helpers = {"one_training_step": recording_step, "BatchGenerator": refs["BatchGenerator"], "update_weights": refs["update_weights"]}
    with ctx.fresh_optimizers(), ctx.substitute(**helpers):
        ctx.call(f"fit(model, images, labels, {epochs}, 128)", target, model, images, labels, epochs, 128)
    steps = ctx.value(log)
    ctx.observed["batch_sizes"] = [step["arg_lengths"][1] for step in steps]
    ctx.observed["step_losses"] = [float(step["result"]) for step in steps]
    ctx.observed["weights_after"] = [ctx.value(w) for w in weights]


@probe(observes={"output_shape": Kind.SHAPES, "labels": Kind.ARRAY, "predictions": Kind.ARRAY})
def classify_test_set(target, ctx):
    """The model's outputs on the grading test set, prepared as the sheet does."""
    n = ctx.params.get("n", 10000)
    images, _ = _mnist_remote(ctx, "test", n)
    predictions = ctx.call("model(test_images)", target, images)
    shape = ctx.shape(predictions)
    ctx.observed["output_shape"] = shape
    ctx.observed["labels"] = ctx.grading_array("mnist", "y_test")[:n]
    if len(shape) == 2 and shape[1] <= 100:
        ctx.observed["predictions"] = np.asarray(ctx.value(predictions))


def trained_reference(ctx):
    """The reference model trained as the sheet says, on the grading data."""
    images, labels = _mnist_remote(ctx, "train", 60000)
    make = ctx.reference("make_trained_model")["make_trained_model"]
    return ctx.call("", make, images, labels, epochs=ctx.params.get("epochs", 10))


@probe(observes={"accuracy": Kind.NUMBER}, ships=("NaiveDense", "NaiveSequential"))
def compute_accuracy(target, ctx):
    """Accuracy of a reference model with grader-set weights, by the submission's function."""
    model, _, _ = _reference_model(ctx, ctx.params.get("sizes", [784, 32, 10]), ctx.reference("NaiveDense", "NaiveSequential"))
    images, labels = _mnist_slice(ctx, "test", ctx.params.get("n", 300))
    predicted = np.argmax(np.asarray(ctx.value(ctx.call("", model, images))), axis=1)
    labels = labels.copy()
    labels[::3] = predicted[::3]  # at least a third right, so the accuracy is far from chance
    ctx.observed["accuracy"] = ctx.value(ctx.call("compute_accuracy(model, images, labels)", target, model, images, labels))


# --- rules ------------------------------------------------------------------------------------------

_ORDINALS = ["first", "second", "third", "fourth", "fifth"]


def _ordinal(n: int) -> str:
    return _ORDINALS[n - 1] if 0 < n <= len(_ORDINALS) else f"#{n}"


@rule({Kind.ARRAY})
def layers_applied(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """A chained model's output; an output as wide as a hidden layer means the chain stopped there."""
    outcome = equal(check, observed, expected, item)
    actual = observed[check.observe]
    sizes = item.params.get("sizes", [])
    if outcome.passed or not is_numeric(actual) or np.ndim(actual) < 1:
        return outcome
    width, want = np.shape(actual)[-1], np.shape(expected[check.observe])
    hidden = sizes[1:-1]
    if width in hidden and width != sizes[-1]:
        layer = hidden.index(width) + 1
        message = f"model(x) returned after the {_ordinal(layer)} layer: output shape {np.shape(actual)}, expected {want}"
        return Outcome(False, message, f"shape {want}", f"shape {np.shape(actual)}")
    return outcome


@rule({Kind.VALUE})
def batches(check: CheckSpec, observed: dict, expected: dict, item: Item) -> Outcome:
    """Successive next() calls give consecutive, aligned, non-overlapping slices."""
    got, want = observed[check.observe], expected[check.observe]
    for i, (g, w) in enumerate(zip(got, want)):
        if i and isinstance(g, list) and compare(got[i - 1], g).passed:
            return Outcome(False, f"next() call {i + 1} returned the same batch as call {i}: does next() advance its index?",
                           describe(w), describe(g))
        outcome = compare(w, g, where=f"in next() call {i + 1}")
        if not outcome.passed:
            return outcome
    return Outcome(True)
