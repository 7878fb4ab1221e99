"""Probes that read named values the notebook left (tensors, a gradient, an optimisation's result)."""

from .context import Kind, probe


@probe(observes={"shapes": Kind.MAPPING})
def shapes(target, ctx):
    """The shape of each named tensor, or None for a name the notebook never bound."""
    found = {}
    for name in ctx.params["tensors"]:
        _, value = ctx.lookup(name)
        if value is None:
            found[name] = None
            continue
        shape = ctx.describe(value)["shape"]
        found[name] = shape if shape is not None else list(__import__("numpy").shape(ctx.value(value)))
    ctx.observed["shapes"] = found


@probe(observes={"*": Kind.VALUE})
def read(target, ctx):
    """The values of the names the rubric lists, as they are now (a list stands for its last element).

    With `lengths`, a list's length is recorded too, as NAME_len (how many steps a loop recorded).
    """
    for name in ctx.params["read"]:
        _, value = ctx.lookup(name)
        if value is None:
            continue
        described = ctx.describe(value)
        ctx.observed[name] = ctx.value(value[-1] if described["type"] == "list" and described["len"] else value)
        if name in ctx.params.get("lengths", []) and described["type"] == "list":
            ctx.observed[f"{name}_len"] = described["len"]

