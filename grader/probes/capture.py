"""Take a question's answer when it is given: the displayed value and the names it bound."""

from .context import Kind, probe


@probe(observes={"displayed": Kind.VALUE, "names": Kind.MAPPING})
def snapshot(target, ctx):
    """Record what the last cell displayed (if it did) and the named values, as they are now.

    The displayed value is read from IPython's output history: `_` is not
    reliable, since a notebook may use `_` as a loop variable. The grader's
    own cells are not stored in the history, so the last count is the cell's.
    """
    if ctx.params.get("displayed"):
        _, outputs = ctx.lookup("Out")
        shell = ctx.call("", ctx.kernel("IPython", "get_ipython"))
        if outputs is not None:
            last = ctx.value(shell.execution_count) - 1
            if ctx.value(ctx.call("", ctx.kernel("operator", "contains"), outputs, last)):
                ctx.observed["displayed"] = ctx.value(outputs[last])
    names = {}
    for name in ctx.params.get("names", []):
        _, value = ctx.lookup(name)
        if value is not None:
            names[name] = ctx.value(value)
    ctx.observed["names"] = names


@probe(observes={"mro": Kind.NAMES, "id": Kind.NUMBER, "handle": Kind.NUMBER})
def binding(target, ctx):
    """What a cell bound to the item's name, taken right after the cell: its classes, and a handle that keeps it.

    The handle keeps the object alive in the kernel's agent, so the item's own
    probe can judge this binding after the notebook, when a later cell has
    rebound the name (grader/rebinding.py chooses which). Ships nothing.
    """
    ctx.observed["mro"] = ctx.describe(target)["mro"]
    ctx.observed["id"] = ctx.ids([target])[0]
    ctx.observed["handle"] = target._id
