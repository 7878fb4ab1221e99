"""Training judged by what it did: a training cell replayed, and the notebook's trained model on its own test data.

These probes run right after the cell that answers a question (see
`ProbeCheck`). They record raw observations only: weights before and after,
predictions and labels, input ranges, learning rates. Rules judge them.
"""

import ast
import contextlib
import io

import numpy as np


def _is_model(value) -> bool:
    """An instance of a class the notebook defined, or anything with Keras' trainable_variables."""
    if isinstance(value, type):
        return False
    return type(value).__module__ == "__main__" or hasattr(type(value), "trainable_variables")


def _parts(value, depth=0, seen=None):
    """The model and every object it holds (its layers, their activations), breadth-first, a few levels deep."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 3:
        return
    seen.add(id(value))
    yield value
    children = []
    if isinstance(value, (list, tuple)):
        children = list(value)
    elif isinstance(value, dict):
        children = list(value.values())
    elif isinstance(getattr(value, "__dict__", None), dict) and type(value).__module__ == "__main__":
        children = list(vars(value).values())
    for child in children:
        if isinstance(child, (list, tuple, dict)) or _is_model(child):
            yield from _parts(child, depth + 1, seen)


def _sample(array):
    """At most 4096 evenly spaced entries: whole weights of a large model would not fit in one answer."""
    flat = np.ravel(array)
    return flat[:: max(1, flat.size // 4096)].copy()


def weights_of(value, attrs):
    """A model's trainable arrays: Keras' trainable_variables, or its parts' array attributes named in `attrs`."""
    if hasattr(type(value), "trainable_variables"):
        try:
            return [_sample(v.numpy()) for v in value.trainable_variables]
        except Exception:
            return []
    found = []
    for part in _parts(value):
        for name in attrs:
            array = getattr(part, name, None) if not isinstance(part, (list, tuple, dict)) else None
            if isinstance(array, np.ndarray) and array.dtype.kind == "f":
                found.append(_sample(array))
    return found


def replay_cell(target, ctx):
    """Run the cell that just ran once more, statement by statement, in a copy of the namespace.

    Each model a statement binds is noted with its weights as bound; at the
    end its weights are read again. The notebook's own names are untouched.
    """
    shell = __import__("IPython").get_ipython()
    source = ctx.ns["In"][shell.execution_count - 1]
    attrs = ctx.params.get("weight_attrs", ["W", "b"])
    ns = dict(ctx.ns)
    tracked = []  # (name, model, weights when bound)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for node in ast.parse(source).body:
                before = {name: id(value) for name, value in ns.items()}
                code = compile(ast.Module(body=[node], type_ignores=[]), "<training cell>", "exec")
                ctx.call("running the training cell again", exec, code, ns)
                for name, value in list(ns.items()):
                    if before.get(name) != id(value) and _is_model(value) and all(value is not m for _, m, _ in tracked):
                        weights = weights_of(value, attrs)
                        if weights:
                            tracked.append((name, value, weights))
    finally:
        ctx.observed["models"] = [name for name, _, _ in tracked]
        ctx.observed["before"] = [w for _, _, weights in tracked for w in weights]
        ctx.observed["after"] = [w for _, model, _ in tracked for w in weights_of(model, attrs)]
        ctx.observed["classes"] = sorted({type(part).__name__ for _, model, _ in tracked for part in _parts(model)})


def _learning_rates(ns):
    rates = []
    for value in list(ns.values()):
        kind = type(value)
        if isinstance(value, type) or not all(hasattr(kind, a) for a in ("apply_gradients", "get_config")):
            continue
        try:
            rate = value.get_config().get("learning_rate")
            rates.append(float(rate))
        except Exception:
            continue
    return rates


def _from_logits(ns):
    """For each Keras loss object in the namespace, whether it takes logits."""
    found = []
    for value in list(ns.values()):
        if isinstance(value, type) or not hasattr(type(value), "get_config") or not callable(value):
            continue
        try:
            config = value.get_config()
        except Exception:
            continue
        if isinstance(config, dict) and "from_logits" in config:
            found.append(bool(config["from_logits"]))
    return found


def _test_batches(ctx):
    """The notebook's test data as its loop feeds it: a dataset of (images, labels) batches, or two arrays."""
    for name in ctx.params.get("datasets", ["test_ds"]):
        if name in ctx.ns and hasattr(ctx.ns[name], "__iter__") and not isinstance(ctx.ns[name], (np.ndarray, str)):
            return ctx.ns[name]
    for images_name, labels_name in ctx.params.get("arrays", [["x_test", "y_test"]]):
        if images_name in ctx.ns and labels_name in ctx.ns:
            images, labels = np.asarray(ctx.ns[images_name]), np.asarray(ctx.ns[labels_name])
            return [(images[i:i + 256], labels[i:i + 256]) for i in range(0, len(images), 256)]
    raise LookupError("no test data found in the notebook (looked for " + ", ".join(ctx.params.get("datasets", ["test_ds"])) + ")")


def classify_own_test_data(target, ctx):
    """The notebook's trained model on the notebook's own test data; what it predicts and what was fed."""
    predicted, labels, input_max = [], [], 0.0
    for images, batch_labels in _test_batches(ctx):
        output = np.asarray(ctx.call("model(test images)", target, images))
        if not predicted:
            ctx.observed["output_row_sums"] = output.reshape(len(output), -1).sum(axis=1)
        predicted.append(np.argmax(output, axis=-1).ravel())
        labels.append(np.asarray(batch_labels).ravel())
        input_max = max(input_max, float(np.max(np.asarray(images))))
    ctx.observed["predicted"] = np.concatenate(predicted).astype("int64")
    ctx.observed["labels"] = np.concatenate(labels).astype("int64")
    ctx.observed["input_max"] = input_max
    ctx.observed["learning_rates"] = _learning_rates(ctx.ns)
    ctx.observed["from_logits"] = _from_logits(ctx.ns)
