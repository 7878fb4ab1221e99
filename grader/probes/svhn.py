"""Probes of the SVHN part of the back-propagation sheet: the model, the train step, the test step.

Steps are checked on a reference model with weights the grader sets and a
batch of the grader's SVHN stand-in, with the grader's own optimizer and
metrics, so only the step under test can make a difference.
"""

import numpy as np

from .context import Kind, probe


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
