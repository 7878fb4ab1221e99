"""Call a function on the grader's inputs (function-equivalence items)."""

from .context import Kind, probe


@probe(observes={"cases": Kind.CASES})
def call_function(target, ctx):
    """Call `target` on each case; keep its result and its arguments afterwards."""
    cases = [(f"calling with {len(args)} argument(s)", [ctx.put(a) for a in args])  # arguments: objects of their own,
             for args in ctx.inputs["cases"]]                                       # read again after the call
    ctx.observed["cases"] = [{"output": output, "args_after": after} for output, after in ctx.attempt_each_then_values(target, cases)]
