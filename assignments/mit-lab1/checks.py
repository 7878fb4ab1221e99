"""The checks only MIT 6.S191 lab 1 needs: probes of its Keras layers and models, and its reference builders.

The grader sets every weight itself (uniform values from its own seed), so
no check depends on TensorFlow's initializer or its random state. The rubric
names these probes `keras_layers.<function>` (`TOPIC`); `sgd_reference` builds
the reference for the package's generic `values.read`.
"""

from grader.probes.context import Kind, probe

TOPIC = "keras_layers"


def _x(ctx, d=2):
    """The grader's input batch, as a tensor beside the code under test."""
    return ctx.call("", ctx.kernel("tensorflow", "constant"), ctx.rng(2).uniform(-1, 1, (4, d)).astype("float32"))


def _set_weights(variables, ctx):
    rng = ctx.rng(1)
    for variable in variables:
        ctx.call("", variable.assign, rng.uniform(-1, 1, tuple(ctx.shape(variable))).astype("float32"))


def _describe_layers(ctx, model):
    """(class, units, activation) of each layer."""
    if not ctx.describe(model, "layers")["has"]["layers"]:
        return []
    described = []
    for layer in ctx.elements("reading model.layers", model.layers):
        units = ctx.value_or(layer.units)
        activation = ctx.value_or(ctx.attr(layer.activation, "__name__"))
        described.append([ctx.describe(layer)["type"], units if isinstance(units, int) else None,
                          activation if isinstance(activation, str) else None])
    return described


def _made_and_built(ctx, target, called: str, var: str, flag: tuple[str, str]):
    """`target(units)` made and built by one call on the grader's batch, recording whether it is a `flag[1]`."""
    n = ctx.params.get("units", 3)
    x = _x(ctx)
    made = ctx.call(f"{called}({n})", target, n)
    ctx.observed[flag[0]] = ctx.isa(made, flag[1])
    ctx.call(f"{var}(x) (which builds it)", made, x)
    return made, x


def _weights(ctx, model):
    return ctx.elements("reading model.trainable_variables", model.trainable_variables)


@probe(observes={"is_layer": Kind.FLAG, "weight_shapes": Kind.SHAPES, "output": Kind.ARRAY})
def dense_layer(target, ctx):
    """OurDenseLayer(3) built on 2 inputs; W and b set by the grader; called on a batch."""
    layer, x = _made_and_built(ctx, target, "OurDenseLayer", "layer", ("is_layer", "Layer"))
    weights = ctx.elements("reading layer.weights", layer.weights)
    ctx.observed["weight_shapes"] = [ctx.shape(w) for w in weights]
    _set_weights(weights, ctx)
    ctx.observed["output"] = ctx.attempt("layer(x) with W and b set by the grader", layer, x)


@probe(observes={"is_sequential": Kind.FLAG, "layers": Kind.LAYERS, "output": Kind.ARRAY})
def sequential(target, ctx):
    """The notebook's model as its cell left it: its kind, its layers, its output with grader-set weights."""
    model = target
    ctx.observed["is_sequential"] = ctx.isa(model, "Sequential")
    ctx.observed["layers"] = _describe_layers(ctx, model)
    if not ctx.value_or(model.built, False) or not _weights(ctx, model):
        ctx.call("model(x) (which builds it)", model, ctx.call("", ctx.kernel("tensorflow", "zeros"), (1, 2)))
    _set_weights(_weights(ctx, model), ctx)
    ctx.observed["output"] = ctx.attempt("model(x) with weights set by the grader", model, _x(ctx))


@probe(observes={"is_model": Kind.FLAG, "layers": Kind.LAYERS, "output": Kind.ARRAY,
                 "output_not_identity": Kind.ARRAY, "output_identity": Kind.ARRAY})
def subclass(target, ctx):
    """A new subclassed model of 3 units: a Keras Model whose call is its layer, with grader-set weights."""
    model, x = _made_and_built(ctx, target, ctx.params.get("name", "SubclassModel"), "model", ("is_model", "Model"))
    ctx.observed["layers"] = _describe_layers(ctx, model)
    _set_weights(_weights(ctx, model), ctx)
    ctx.observed["output"] = ctx.attempt("model(x) with weights set by the grader", model, x)
    if ctx.params.get("identity"):
        ctx.observed["output_not_identity"] = ctx.attempt("model.call(x, isidentity=False)", model.call, x, isidentity=False)
        ctx.observed["output_identity"] = ctx.attempt("model.call(x, isidentity=True)", model.call, x, isidentity=True)


def sequential_reference(ctx):
    """The sheet's Sequential model, built by the reference."""
    return ctx.call("", ctx.reference("make_sequential")["make_sequential"], ctx.params.get("units", 3))


def sgd_reference(ctx):
    """The reference's minimisation, its names bound where `read` looks."""
    found = ctx.call("sgd_minimize()", ctx.reference("sgd_minimize")["sgd_minimize"])
    ctx.call("", ctx.namespace().update, history=found[0], x=found[1], x_f=found[2])
    return ctx.get(found[1])
