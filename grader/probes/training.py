"""Training judged by what it did: a training cell replayed, and the notebook's trained model on its own test data.

These probes run right after the cell that answers a question (see
`ProbeCheck`). They record raw observations only: weights before and after,
predictions and labels, input ranges, learning rates. Rules judge them.
"""

import ast

import numpy as np

from .context import Kind, OperationFailed, StudentError, probe


def _is_model(ctx, value) -> bool:
    """An instance of a class the notebook defined, or anything with Keras' trainable_variables."""
    described = ctx.describe(value, "trainable_variables")
    return not described["is_class"] and (described["module"] == "__main__" or described["has"]["trainable_variables"])


def _parts(ctx, value, depth=0, seen=None):
    """The model and every object it holds (its layers, their activations), breadth-first, a few levels deep.

    Yields (handle, description) pairs.
    """
    seen = set() if seen is None else seen
    (identity,) = ctx.ids([value])
    if identity in seen or depth > 3:
        return
    seen.add(identity)
    described = ctx.describe(value, "trainable_variables")
    yield value, described
    if described["type"] in ("list", "tuple", "dict"):
        children = ctx.items(value)
    elif described["module"] == "__main__" and not described["is_class"]:
        children = list(ctx.vars(value).values())
    else:
        children = []
    for child in children:
        kind = ctx.describe(child, "trainable_variables")
        if kind["type"] in ("list", "tuple", "dict") or (not kind["is_class"] and (kind["module"] == "__main__" or kind["has"]["trainable_variables"])):
            yield from _parts(ctx, child, depth + 1, seen)


def _sample(array):
    """At most 4096 evenly spaced entries: whole weights of a large model would not fit in one answer."""
    flat = np.ravel(array)
    return flat[:: max(1, flat.size // 4096)].copy()


def weights_of(ctx, value, attrs):
    """A model's trainable arrays: Keras' trainable_variables, or its parts' array attributes named in `attrs`."""
    if ctx.describe(value, "trainable_variables")["has"]["trainable_variables"]:
        try:
            return [_sample(np.asarray(ctx.value(v))) for v in ctx.items(value.trainable_variables)]
        except OperationFailed:
            return []
    found = []
    for part, described in _parts(ctx, value):
        if described["type"] in ("list", "tuple", "dict") or described["module"] != "__main__":
            continue
        members = ctx.vars(part)
        for name in attrs:
            if name in members and ctx.describe(members[name])["type"] == "ndarray":
                array = ctx.value(members[name])
                if isinstance(array, np.ndarray) and array.dtype.kind == "f":
                    found.append(_sample(array))
    return found


def _statements(source: str) -> list[str]:
    """The cell's top-level statements as Python (IPython syntax turned into calls, as the kernel does)."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(source)
    return [ast.unparse(node) for node in ast.parse(code).body]


@probe(observes={"models": Kind.NAMES, "before": Kind.ARRAYS, "after": Kind.ARRAYS, "classes": Kind.NAMES}, from_cells=("printed",))
def replay_cell(target, ctx):
    """Run the cell that just ran once more, statement by statement, in a copy of the namespace.

    `printed` is what the answer cells printed when the notebook ran them
    (the grader adds it: `from_cells`), for rules that read a printed loss.

    Each model a statement binds is noted with its weights as bound; at the
    end its weights are read again. The notebook's own names are untouched.
    The cell's source is the grader's copy, not the kernel's history.
    """
    attrs = ctx.params.get("weight_attrs", ["W", "b"])
    namespace = ctx.call("", ctx.kernel("builtins", "dict"), ctx.namespace())
    run = ctx.kernel("builtins", "exec")
    tracked = []  # (name, model handle, its identity, weights when bound)
    try:
        for statement in _statements(ctx.cell_source or ""):
            before = ctx.ids_of(namespace)
            ctx.call("running the training cell again", run, statement, namespace)
            for name, identity in ctx.ids_of(namespace).items():
                if before.get(name) == identity or any(identity == t[2] for t in tracked):
                    continue
                value = ctx.get(namespace[name])
                if _is_model(ctx, value):
                    weights = weights_of(ctx, value, attrs)
                    if weights:
                        tracked.append((name, value, identity, weights))
    finally:
        ctx.observed["models"] = [name for name, _, _, _ in tracked]
        ctx.observed["before"] = [w for _, _, _, weights in tracked for w in weights]
        ctx.observed["after"] = [w for _, model, _, _ in tracked for w in weights_of(ctx, model, attrs)]
        ctx.observed["classes"] = sorted({d["type"] for _, model, _, _ in tracked for _, d in _parts(ctx, model)
                                          if d["type"] not in ("list", "tuple", "dict")})


def _configs(ctx, *attrs):
    """The configuration dict of each object of the namespace whose type has `get_config` and `attrs`."""
    for _, value in ctx.scan("get_config", *attrs).items():
        try:
            config = ctx.value(ctx.call("", value.get_config))
        except StudentError:
            continue
        if isinstance(config, dict):
            yield value, config


def _learning_rates(ctx):
    rates = []
    for _, config in _configs(ctx, "apply_gradients"):
        try:
            rates.append(float(config.get("learning_rate")))
        except (TypeError, ValueError):
            continue
    return rates


def _from_logits(ctx):
    """For each Keras loss object in the namespace, whether it takes logits."""
    return [bool(config["from_logits"]) for value, config in _configs(ctx, "__call__") if "from_logits" in config]


def _test_batches(ctx):
    """The notebook's test data as its loop feeds it: (images, labels) handles per batch."""
    for name in ctx.params.get("datasets", ["test_ds"]):
        _, data = ctx.lookup(name)
        if data is not None:
            described = ctx.describe(data, "__iter__")
            if described["has"]["__iter__"] and described["type"] not in ("ndarray", "str"):
                return [(batch[0], batch[1]) for batch in ctx.elements(f"iterating {name}", data)]
    for images_name, labels_name in ctx.params.get("arrays", [["x_test", "y_test"]]):
        _, images = ctx.lookup(images_name)
        _, labels = ctx.lookup(labels_name)
        if images is not None and labels is not None:
            asarray = ctx.kernel("numpy", "asarray")
            images, labels = ctx.call("", asarray, images), ctx.call("", asarray, labels)
            count = ctx.describe(images)["len"] or 0
            return [(images[i:i + 256], labels[i:i + 256]) for i in range(0, count, 256)]
    raise OperationFailed("LookupError", "no test data found in the notebook (looked for " + ", ".join(ctx.params.get("datasets", ["test_ds"])) + ")")


@probe(observes={"output_row_sums": Kind.ARRAY, "predicted": Kind.ARRAY, "labels": Kind.ARRAY, "input_max": Kind.NUMBER,
                 "learning_rates": Kind.NUMBERS, "from_logits": Kind.FLAGS})
def classify_own_test_data(target, ctx):
    """The notebook's trained model on the notebook's own test data; what it predicts and what was fed."""
    predicted, labels, input_max = [], [], 0.0
    largest = ctx.kernel("numpy", "max")
    for images, batch_labels in _test_batches(ctx):
        output = np.asarray(ctx.value(ctx.call("model(test images)", target, images)))
        if not predicted:
            ctx.observed["output_row_sums"] = output.reshape(len(output), -1).sum(axis=1)
        predicted.append(np.argmax(output, axis=-1).ravel())
        labels.append(np.asarray(ctx.value(batch_labels)).ravel())
        input_max = max(input_max, float(ctx.value(ctx.call("", largest, images))))
    ctx.observed["predicted"] = np.concatenate(predicted).astype("int64")
    ctx.observed["labels"] = np.concatenate(labels).astype("int64")
    ctx.observed["input_max"] = input_max
    ctx.observed["learning_rates"] = _learning_rates(ctx)
    ctx.observed["from_logits"] = _from_logits(ctx)
