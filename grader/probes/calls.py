"""Call a function on the grader's inputs (function-equivalence items)."""

from .context import Kind, probe


@probe(observes={"cases": Kind.CASES})
def call_function(target, ctx):
    """Call `target` on each case; keep its result and its arguments afterwards."""
    results = []
    for args in ctx.inputs["cases"]:
        arguments = [ctx.put(a) for a in args]  # kept as objects of their own, to be read again after the call
        output, after = ctx.attempt_then_values(f"calling with {len(args)} argument(s)", target, arguments, arguments)
        results.append({"output": output, "args_after": after})
    ctx.observed["cases"] = results
