"""Probes of the SVHN part of the back-propagation sheet: the model, the train step, the test step.

Steps are checked on a reference model with weights the grader sets and a
batch of the grader's SVHN stand-in, with the grader's own optimizer and
metrics, so only the step under test can make a difference.
"""

import numpy as np


def _batch(ctx, n):
    """n test images as the sheet prepares them: (n, 32, 32, 3) in [0, 1], labels (n, 1) in 0..9."""
    import tensorflow as tf

    with np.load(ctx.data["svhn"], allow_pickle=False) as f:
        images = np.moveaxis(f["test_X"][..., :n], -1, 0).astype("float32") / 255.0
        labels = f["test_y"][:n].astype("int64") - 1
    return tf.constant(images), tf.constant(labels)


def _reference_model(ctx):
    model = ctx.ref.Mymodel()
    images, _ = _batch(ctx, 2)
    model(images)
    rng = ctx.rng(1)
    for variable in model.trainable_variables:
        shape = tuple(variable.shape)
        limit = np.sqrt(6.0 / sum(shape)) if len(shape) == 2 else 0.05
        variable.assign(rng.uniform(-limit, limit, shape).astype("float32"))
    return model


def _weights(model):
    """Every trainable weight, as an evenly spaced sample of at most 4096 of its entries.

    The first kernel alone is 98,304 numbers; whole weights before and after
    would make an answer larger than a kernel message can carry.
    """
    sampled = []
    for variable in model.trainable_variables:
        flat = np.ravel(variable.numpy())
        sampled.append(flat[:: max(1, flat.size // 4096)].copy())
    return sampled


def _metrics(ctx):
    import tensorflow as tf

    return tf.keras.metrics.Mean(), tf.keras.metrics.SparseCategoricalAccuracy()


def model_output(target, ctx):
    """A new model on a few grading images."""
    images, _ = _batch(ctx, ctx.params.get("n", 8))
    model = ctx.call("Mymodel()", target)
    ctx.observed["output"] = ctx.attempt("model(images) on (8, 32, 32, 3) images", model, images)


def train_step(target, ctx):
    """One call on a reference model, a grading batch, the grader's SGD and fresh metrics."""
    import tensorflow as tf

    model = _reference_model(ctx)
    images, labels = _batch(ctx, ctx.params.get("batch", 64))
    loss_object = tf.keras.losses.SparseCategoricalCrossentropy()
    optimizer = tf.keras.optimizers.SGD(learning_rate=ctx.params.get("learning_rate", 0.05))
    optimizer.build(model.trainable_variables)  # a tf.function may not create the optimizer's variables later
    loss_metric, accuracy_metric = _metrics(ctx)
    ctx.observed["before"] = _weights(model)
    ctx.observed["loss_before"] = float(loss_object(labels, model(images)))
    with ctx.fresh_optimizers(model.trainable_variables):
        ctx.call("train_step(model, images, labels, loss_object, optimizer, train_loss, train_accuracy)",
                 target, model, images, labels, loss_object, optimizer, loss_metric, accuracy_metric)
    ctx.observed["after"] = _weights(model)
    ctx.observed["loss_after"] = float(loss_object(labels, model(images)))
    ctx.observed["metric_loss"] = float(loss_metric.result())
    ctx.observed["metric_accuracy"] = float(accuracy_metric.result())


def test_step(target, ctx):
    """One call on a reference model and a grading batch, with fresh metrics."""
    import tensorflow as tf

    model = _reference_model(ctx)
    images, labels = _batch(ctx, ctx.params.get("batch", 64))
    loss_object = tf.keras.losses.SparseCategoricalCrossentropy()
    loss_metric, accuracy_metric = _metrics(ctx)
    ctx.observed["before"] = _weights(model)
    try:
        with ctx.fresh_optimizers(model.trainable_variables):
            ctx.call("test_step(model, images, labels, loss_object, test_loss, test_accuracy)",
                     target, model, images, labels, loss_object, loss_metric, accuracy_metric)
    finally:
        ctx.observed["after"] = _weights(model)
    ctx.observed["metric_loss"] = float(loss_metric.result())
    ctx.observed["metric_accuracy"] = float(accuracy_metric.result())
