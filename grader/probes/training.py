"""Training judged by what it did: a training cell replayed, and the notebook's trained model on its own test data.

These probes run right after the cell that answers a question (see
`ProbeCheck`). They record raw observations only: weights before and after,
predictions and labels, input ranges, learning rates. Rules judge them.
"""

import ast

import numpy as np

from .context import Kind, OperationFailed, StudentError, probe, raised_marker


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


def weight_slots(ctx, value, attrs):
    """Where a numpy model keeps its weights: (part, attribute name, array handle, array) for each of its parts'
    float array attributes named in `attrs`, parts breadth-first."""
    found = []
    for part, described in _parts(ctx, value):
        if described["type"] in ("list", "tuple", "dict") or described["module"] != "__main__":
            continue
        members = ctx.vars(part)
        for name in attrs:
            if name in members and ctx.describe(members[name])["type"] == "ndarray":
                array = ctx.value(members[name])
                if isinstance(array, np.ndarray) and array.dtype.kind == "f":
                    found.append((part, name, members[name], array))
    return found


def _keras(ctx, value) -> bool:
    return bool(ctx.describe(value, "trainable_variables")["has"]["trainable_variables"])


def _keras_weights(ctx, value):
    try:
        return [_sample(np.asarray(ctx.value(v))) for v in ctx.items(value.trainable_variables)]
    except OperationFailed:
        return []


def weights_of(ctx, value, attrs):
    """A model's trainable arrays: Keras' trainable_variables, or its parts' array attributes named in `attrs`."""
    if _keras(ctx, value):
        return _keras_weights(ctx, value)
    return [_sample(array) for _, _, _, array in weight_slots(ctx, value, attrs)]


def _statements(source: str) -> list[str]:
    """The cell's top-level statements as Python (IPython syntax turned into calls, as the kernel does)."""
    from IPython.core.inputtransformer2 import TransformerManager

    code = TransformerManager().transform_cell(source)
    return [ast.unparse(node) for node in ast.parse(code).body]


FD_STEP = 1e-3  # central differences along a unit direction: truncation ~1e-8 of the slope, rounding ~1e-13 of the loss


def _loss_at(ctx, model, loss, x, y) -> float:
    """The notebook's loss of the notebook's network on the grader's data, as loss(network(x), y)."""
    output = ctx.call("running the network on the grader's x", model, x)
    return float(np.asarray(ctx.call_value("computing the loss of the network's output", loss, output, y), dtype=float))


def one_step(ctx, model, slots, step: dict, namespace) -> None:
    """One step of the notebook's own step function on the grader's data, against the loss's slope along each weight.

    `step` (the item's `params.step`): `function`, the notebook's step, called as function(network, x, y, loss, rate)
    (the sheet's `gradient_descent`); `loss`, the notebook's loss class (an instance is called as loss(output, y));
    `data`, the names of the notebook's x and y, whose shapes the grader's data takes; `rate`. `slots` are where the
    network keeps its weights (`weight_slots`). For each weight array a random unit direction is drawn:
    `loss_along` is the slope of the loss along it at the weights before the step (central differences of the
    notebook's own forward pass and loss), `step_along` how far the step moved the weight along it. A right step moves every weight by −rate × (a positive multiple of) the
    gradient, so the two agree for every weight up to one common factor; a gradient wrong in some entries does not.
    """
    function, loss_name = step.get("function", "gradient_descent"), step.get("loss", "MeanSquaredError")
    data = list(step.get("data", ["x", "y"]))
    known = ctx.ids_of(namespace)
    missing = [name for name in (function, loss_name, *data) if name not in known]
    ctx.observed["step_missing"] = missing
    if missing or not slots:
        return
    rng = ctx.rng(salt=7)
    x, y = (ctx.put(rng.normal(0.0, 1.0, tuple(ctx.shape(namespace[name])))) for name in data)
    rate = float(step.get("rate", 0.01))
    fn, loss_class = namespace[function], namespace[loss_name]
    directions, slopes = [], []
    ctx.observed.update(step_rate=rate, fd_step=FD_STEP, step_shapes=[list(a.shape) for *_, a in slots])
    try:
        loss = ctx.call("building the loss", loss_class)
        for part, name, original, array in slots:
            direction = rng.normal(0.0, 1.0, array.shape)
            direction /= np.linalg.norm(direction) or 1.0
            losses = []
            for sign in (1.0, -1.0):
                ctx.setattr(part, name, array + sign * FD_STEP * direction)
                losses.append(_loss_at(ctx, model, loss, x, y))
            ctx.setattr(part, name, original)
            directions.append(direction)
            slopes.append((losses[0] - losses[1]) / (2 * FD_STEP))
        ctx.observed["step_loss"] = _loss_at(ctx, model, loss, x, y)
        ctx.observed["loss_along"] = slopes
        during = f"one step of {function}(network, x, y, loss, {rate:g}) on the grader's x and y"
        ctx.call(during, fn, model, x, y, ctx.call("building the loss", loss_class), rate)
        after = [np.asarray(a) for a in ctx.values([ctx.attr(part, name) for part, name, *_ in slots])]
    except StudentError as err:
        ctx.observed["step_along"] = raised_marker(err.during, err.ename, err.evalue)
        return
    if [a.shape for a in after] != [a.shape for *_, a in slots] or any(a.dtype.kind != "f" for a in after):
        ctx.observed["step_along"] = []  # the weights changed number, shape or kind: the rule says so
        return
    ctx.observed["step_along"] = [float(np.vdot(new - old, d)) for (*_, old), new, d in zip(slots, after, directions)]


@probe(observes={"models": Kind.NAMES, "before": Kind.ARRAYS, "after": Kind.ARRAYS, "classes": Kind.NAMES,
                 "step_along": Kind.NUMBERS, "loss_along": Kind.NUMBERS, "step_loss": Kind.NUMBER, "step_rate": Kind.NUMBER,
                 "fd_step": Kind.NUMBER, "step_shapes": Kind.SHAPES, "step_missing": Kind.NAMES}, from_cells=("printed",))
def replay_cell(target, ctx):
    """Run the cell that just ran once more, statement by statement, in a copy of the namespace.

    `printed` is what the answer cells printed when the notebook ran them
    (the grader adds it: `from_cells`), for rules that read a printed loss.

    Each model a statement binds is noted with its weights as bound; at the
    end its weights are read again. The notebook's own names are untouched.
    The cell's source is the grader's copy, not the kernel's history. With
    `params.step`, the first model the cell trained then takes one more step
    of the notebook's own step function on the grader's data (`one_step`).
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
        slots = [None if _keras(ctx, model) else weight_slots(ctx, model, attrs) for _, model, _, _ in tracked]
        ctx.observed["models"] = [name for name, _, _, _ in tracked]
        ctx.observed["before"] = [w for _, _, _, weights in tracked for w in weights]
        ctx.observed["after"] = [w for (_, model, _, _), held in zip(tracked, slots)
                                 for w in (_keras_weights(ctx, model) if held is None else [_sample(a) for *_, a in held])]
        ctx.observed["classes"] = sorted({d["type"] for _, model, _, _ in tracked for _, d in _parts(ctx, model)
                                          if d["type"] not in ("list", "tuple", "dict")})
    if tracked and ctx.params.get("step"):
        one_step(ctx, tracked[0][1], slots[0], dict(ctx.params["step"]), namespace)


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


def _optimizer_steps(ctx) -> list[float]:
    """How many steps each Keras optimizer of the namespace has applied (its `iterations`)."""
    steps = []
    for _, optimizer in ctx.scan("apply_gradients", "iterations").items():
        try:
            steps.append(float(np.asarray(ctx.value(ctx.read("", optimizer.iterations)))))
        except (StudentError, OperationFailed, TypeError, ValueError):
            continue
    return steps


def _batches(ctx) -> int | None:
    """How many batches one pass over the notebook's training data is (`len(train_ds)`), if it says."""
    for name in ctx.params.get("train_datasets", ["train_ds"]):
        _, data = ctx.lookup(name)
        if data is not None:
            length = ctx.describe(data)["len"]
            if isinstance(length, int) and length > 0:
                return length
    return None


@probe(observes={"output_row_sums": Kind.ARRAY, "predicted": Kind.ARRAY, "labels": Kind.ARRAY, "input_max": Kind.NUMBER,
                 "learning_rates": Kind.NUMBERS, "from_logits": Kind.FLAGS, "optimizer_steps": Kind.NUMBERS,
                 "train_batches": Kind.NUMBER})
def classify_own_test_data(target, ctx):
    """The notebook's trained model on the notebook's own test data; what it predicts and what was fed.

    Also how many steps the notebook's optimizers took and how many batches its training data has per pass,
    for a rule that counts the epochs the loop trained (`optimizer_steps`, `train_batches`).
    """
    ctx.observed["optimizer_steps"] = _optimizer_steps(ctx)
    ctx.observed["train_batches"] = _batches(ctx)
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
