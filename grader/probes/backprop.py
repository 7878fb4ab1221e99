"""Probes of the back-propagation sheet's activation classes (numpy)."""

import numpy as np

from .context import Kind, probe

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
