"""Probes of the from-scratch model of DLwP ch. 2.5 (layers, batches, training).

Every probe that needs a model builds it from *reference* layers with
weights the grader sets, and lets the helpers the code under test calls
resolve to reference versions: one mistake costs one item.
"""

import numpy as np


def _mnist_slice(ctx, split: str, n: int):
    images = ctx.grading_array("mnist", f"x_{split}")[:n].reshape((n, 28 * 28)).astype("float32") / 255
    labels = ctx.grading_array("mnist", f"y_{split}")[:n]
    return images, labels


def _set_weights(model_layers, rng):
    for layer in model_layers:
        w, b = layer.weights
        w.assign(rng.uniform(-0.1, 0.1, tuple(w.shape)).astype("float32"))
        b.assign(rng.uniform(-0.1, 0.1, tuple(b.shape)).astype("float32"))


def _reference_model(ctx, sizes):
    model = ctx.ref.make_model(tuple(sizes))
    _set_weights(model.layers, ctx.rng(1))
    return model


def dense(target, ctx):
    """Build NaiveDense layers, check their weights, set W and b, call them."""
    import tensorflow as tf

    rng = ctx.rng()
    x = rng.uniform(-1, 1, (5, 6)).astype("float32")
    for label, activation in (("relu", tf.nn.relu), ("softmax", tf.nn.softmax)):
        layer = ctx.call(f"NaiveDense(6, 4, activation=tf.nn.{label})", target, 6, 4, activation)
        weights = list(ctx.call("reading layer.weights", lambda: layer.weights))
        if label == "relu":
            ctx.observed["weight_shapes"] = [list(np.shape(w)) for w in weights]
            ctx.observed["trainable"] = [isinstance(w, tf.Variable) and bool(w.trainable) for w in weights]
        if len(weights) != 2:
            return
        W = rng.uniform(-1, 1, (6, 4)).astype("float32")
        b = rng.uniform(-1, 1, (4,)).astype("float32")
        ctx.call("assigning W and b", lambda: (weights[0].assign(W), weights[1].assign(b)))
        ctx.observed[f"output_{label}"] = ctx.attempt(f"layer(x) with tf.nn.{label}", layer, x)


def sequential(target, ctx):
    """Chain reference layers with the submission's NaiveSequential."""
    sizes = ctx.params.get("sizes", [784, 512, 10])
    layers = _reference_model(ctx, sizes).layers
    model = ctx.call("NaiveSequential(layers)", target, layers)
    x = ctx.rng(2).uniform(0, 1, (4, sizes[0])).astype("float32")
    ctx.observed["output"] = ctx.attempt("model(x)", model, x)
    weights = ctx.call("reading model.weights", lambda: list(model.weights))
    expected = [w for layer in layers for w in layer.weights]
    ctx.observed["weights_order"] = [next((i for i, e in enumerate(expected) if e is w), -1) for w in weights]


def batch_generator(target, ctx):
    """Draw every batch of a small labelled set and the default batch count."""
    n, size = ctx.params.get("n", 10), ctx.params.get("batch_size", 4)
    images = np.arange(n * 3, dtype="float32").reshape((n, 3))
    labels = np.arange(n)
    gen = ctx.call(f"BatchGenerator(images, labels, batch_size={size})", target, images, labels, size)
    ctx.observed["num_batches"] = ctx.call("reading num_batches", lambda: gen.num_batches)
    batches = []
    for i in range(-(-n // size)):
        batch = ctx.call(f"next() call {i + 1}", gen.next)
        batches.append([np.asarray(part) for part in batch])
    ctx.observed["batches"] = batches
    default = ctx.call("BatchGenerator(images, labels)", target, np.zeros((300, 3)), np.zeros(300))
    ctx.observed["num_batches_default"] = default.num_batches


def update_weights(target, ctx):
    """One call on variables and gradients the grader chose."""
    import tensorflow as tf

    rng = ctx.rng()
    weights = [tf.Variable(rng.uniform(-1, 1, shape).astype("float32")) for shape in ((5, 3), (3,))]
    gradients = [tf.constant(rng.uniform(-1, 1, tuple(w.shape)).astype("float32")) for w in weights]
    ctx.observed["before"] = [w.numpy() for w in weights]
    ctx.observed["gradients"] = [g.numpy() for g in gradients]
    with ctx.fresh_optimizers():
        ctx.call("update_weights(gradients, weights)", target, gradients, weights)
    ctx.observed["after"] = [w.numpy() for w in weights]


def one_training_step(target, ctx):
    """One step on a reference model and a grading batch, with the reference update."""
    model = _reference_model(ctx, ctx.params.get("sizes", [784, 32, 10]))
    images, labels = _mnist_slice(ctx, "test", ctx.params.get("batch", 32))
    ctx.observed["before"] = [w.numpy() for w in model.weights]
    with ctx.fresh_optimizers(), ctx.substitute(update_weights=ctx.ref.update_weights):
        loss = ctx.call("one_training_step(model, images, labels)", target, model, images, labels)
    ctx.observed["loss"] = loss
    ctx.observed["after"] = [w.numpy() for w in model.weights]


def fit(target, ctx):
    """A short fit on a grading slice, counting and recording every step."""
    ref = ctx.ref
    ref.learning_rate = ctx.params.get("learning_rate", 0.05)  # ctx.ref is this probe's own copy
    model = _reference_model(ctx, ctx.params.get("sizes", [784, 32, 10]))
    images, labels = _mnist_slice(ctx, "test", ctx.params.get("n", 512))
    steps, reference_step = [], ref.one_training_step

    def recording_step(model_, images_batch, labels_batch):
        loss = reference_step(model_, images_batch, labels_batch)
        steps.append((len(images_batch), float(loss)))
        return loss

    epochs = ctx.params.get("epochs", 3)
    helpers = {"one_training_step": recording_step, "BatchGenerator": ref.BatchGenerator, "update_weights": ref.update_weights}
    with ctx.fresh_optimizers(), ctx.substitute(**helpers):
        ctx.call(f"fit(model, images, labels, {epochs}, 128)", target, model, images, labels, epochs, 128)
    ctx.observed["batch_sizes"] = [size for size, _ in steps]
    ctx.observed["step_losses"] = [loss for _, loss in steps]
    ctx.observed["weights_after"] = [w.numpy() for w in model.weights]


def classify_test_set(target, ctx):
    """The model's outputs on the grading test set, prepared as the sheet does."""
    n = ctx.params.get("n", 10000)
    images, labels = _mnist_slice(ctx, "test", n)
    predictions = np.asarray(ctx.call("model(test_images)", target, images))
    ctx.observed["output_shape"] = list(predictions.shape)
    ctx.observed["labels"] = labels
    if predictions.ndim == 2 and predictions.shape[1] <= 100:
        ctx.observed["predictions"] = predictions


def trained_reference(ctx):
    """The reference model trained as the sheet says, on the grading data."""
    images, labels = _mnist_slice(ctx, "train", 60000)
    return ctx.ref.make_trained_model(images, labels, epochs=ctx.params.get("epochs", 10))


def compute_accuracy(target, ctx):
    """Accuracy of a reference model with grader-set weights, by the submission's function."""
    model = _reference_model(ctx, ctx.params.get("sizes", [784, 32, 10]))
    images, labels = _mnist_slice(ctx, "test", ctx.params.get("n", 300))
    predicted = np.argmax(np.asarray(model(images)), axis=1)
    labels = labels.copy()
    labels[::3] = predicted[::3]  # at least a third right, so the accuracy is far from chance
    ctx.observed["accuracy"] = ctx.call("compute_accuracy(model, images, labels)", target, model, images, labels)
