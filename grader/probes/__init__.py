"""Questions the grader asks of a submission's objects.

Each probe module holds functions `probe(target, ctx)` that use the object
under test and record what they see in `ctx.observed`. The same function
runs on the reference solution in a clean process, so the grader can
compare the two observations. Probes never judge: see `grader.checks`.
"""
