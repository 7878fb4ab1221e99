"""Probes of Keras layers and models (MIT 6.S191 lab 1): built, given weights the grader sets, called.

The grader sets every weight itself (uniform values from its own seed), so
no check depends on TensorFlow's initializer or its random state.
"""


def _x(ctx, d=2):
    return ctx.rng(2).uniform(-1, 1, (4, d)).astype("float32")


def _set_weights(variables, ctx):
    rng = ctx.rng(1)
    for variable in variables:
        variable.assign(rng.uniform(-1, 1, tuple(variable.shape)).astype("float32"))


def _describe_layers(model):
    """(class, units, activation) of each layer."""
    described = []
    for layer in getattr(model, "layers", []):
        activation = getattr(layer, "activation", None)
        described.append([type(layer).__name__, getattr(layer, "units", None), getattr(activation, "__name__", None)])
    return described


def _kinds(value):
    return [cls.__name__ for cls in type(value).__mro__]


def dense_layer(target, ctx):
    """OurDenseLayer(3) built on 2 inputs; W and b set by the grader; called on a batch."""
    import tensorflow as tf

    n = ctx.params.get("units", 3)
    x = tf.constant(_x(ctx))
    layer = ctx.call(f"OurDenseLayer({n})", target, n)
    ctx.observed["is_layer"] = "Layer" in _kinds(layer)
    ctx.call("layer(x) (which builds it)", layer, x)
    weights = list(ctx.call("reading layer.weights", lambda: layer.weights))
    ctx.observed["weight_shapes"] = [list(w.shape) for w in weights]
    _set_weights(weights, ctx)
    ctx.observed["output"] = ctx.attempt("layer(x) with W and b set by the grader", layer, x)


def sequential(target, ctx):
    """The notebook's model as its cell left it: its kind, its layers, its output with grader-set weights."""
    import tensorflow as tf

    model = target
    ctx.observed["is_sequential"] = "Sequential" in _kinds(model)
    ctx.observed["layers"] = _describe_layers(model)
    if not getattr(model, "built", False) or not model.trainable_variables:
        ctx.call("model(x) (which builds it)", model, tf.zeros((1, 2)))
    _set_weights(model.trainable_variables, ctx)
    ctx.observed["output"] = ctx.attempt("model(x) with weights set by the grader", model, tf.constant(_x(ctx)))


def subclass(target, ctx):
    """A new subclassed model of 3 units: a Keras Model whose call is its layer, with grader-set weights."""
    import tensorflow as tf

    n = ctx.params.get("units", 3)
    x = tf.constant(_x(ctx))
    model = ctx.call(f"{ctx.params.get('name', 'SubclassModel')}({n})", target, n)
    ctx.observed["is_model"] = "Model" in _kinds(model)
    ctx.call("model(x) (which builds it)", model, x)
    ctx.observed["layers"] = _describe_layers(model)
    _set_weights(model.trainable_variables, ctx)
    ctx.observed["output"] = ctx.attempt("model(x) with weights set by the grader", model, x)
    if ctx.params.get("identity"):
        ctx.observed["output_not_identity"] = ctx.attempt("model.call(x, isidentity=False)", model.call, x, isidentity=False)
        ctx.observed["output_identity"] = ctx.attempt("model.call(x, isidentity=True)", model.call, x, isidentity=True)


def sequential_reference(ctx):
    """The sheet's Sequential model, built by the reference."""
    return ctx.ref.make_sequential(ctx.params.get("units", 3))
