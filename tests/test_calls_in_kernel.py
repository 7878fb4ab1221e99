"""Several calls of code under test in one cell (`Calls`): in a real kernel they observe what one cell per call did."""

from __future__ import annotations

import asyncio

import nbformat
import numpy as np
import pytest

from grader.data import dataset_paths
from grader.grade import kernel_env
from grader.kernel.preamble import preamble_source
from grader.kernel.session import KernelSession, KernelSpec, Limits, ProbeCall
from grader.loader import load_assignment
from grader.probes.calls import call_function
from grader.probes.context import Context, ProbeSpec, run_probe

pytestmark = pytest.mark.kernel

FUNCTIONS = {  # each, called on three cases: what the kernel's one cell must observe as separate cells would
    "f_right": "def f_right(x, y=None):\n    return x * 2 if y is None else x + y",
    "f_mutates": "def f_mutates(x, y=None):\n    x += 1\n    return x",
    "f_raises_on_two": "def f_raises_on_two(x, y=None):\n    if y is not None:\n        raise ValueError('two arguments')\n    return x",
    "f_exits": "def f_exits(x, y=None):\n    import sys\n    sys.exit(3)",
    "f_prints": "def f_prints(x, y=None):\n    print('noise', x)\n    return -x",
}
CASES = [[np.arange(6.0).reshape(2, 3)], [np.ones((2, 2)), np.full((2, 2), 3.0)], [np.float32(2.5)]]


def _one_cell_per_call(target, ctx):
    """`call_function` as it was: one cell per call."""
    cases = [[ctx.put(a) for a in args] for args in ctx.inputs["cases"]]
    ctx.observed["cases"] = [dict(zip(("output", "args_after"), ctx.attempt_then_values(f"calling with {len(args)} argument(s)",
                                                                                      target, args, args))) for args in cases]


def _observed(response: dict):
    return repr(response.get("observations")), response.get("error")


@pytest.fixture(scope="module")
def in_kernel():
    spec = KernelSpec.make(kernel_env(load_assignment("dlwp-ch2")), Limits(20, 120), preamble_source(0, dataset_paths([])))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\n" + "\n".join(FUNCTIONS.values()) + "\nkept = 1")]

    def job(name, probe):
        def run(executor, held=None):
            ctx = Context(executor, item=name, inputs={"cases": CASES})
            return run_probe(probe, ctx, [name])
        return run

    def names(target, ctx):  # the notebook's names once every cell of calls has run
        ctx.observed["names"] = ctx.value(ctx.call("", ctx.kernel("builtins", "sorted"), ctx.namespace()))

    probes = [ProbeCall(f"{name}#{way}", job(name, probe), 30) for name in FUNCTIONS
              for way, probe in (("one cell", call_function.spec), ("a cell each", ProbeSpec(_one_cell_per_call, {}, (), {})))]
    probes.append(ProbeCall("names", lambda executor, held=None: run_probe(ProbeSpec(names, {}, (), {}), Context(executor), ["kept"]), 30))
    # items looked up by name: those no name finds are told so by one cell for all, before any probe runs
    for name, looks_up in (("absent", ("nothing_here", "nor_here")), ("also_absent", ("missing",)), ("present", ("missing", "f_right"))):
        probes.append(ProbeCall(name, job(looks_up[-1], call_function.spec), 30, looks_up))
    return asyncio.run(KernelSession(spec).run(nb, probes))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_one_cell_of_calls_observes_what_separate_calls_do(in_kernel, name):
    together, apart = in_kernel.responses[f"{name}#one cell"], in_kernel.responses[f"{name}#a cell each"]
    assert _observed(together) == _observed(apart)
    assert "cases" in together["observations"] and together.get("error") is None
    raised = sum("raised" in repr(case) for case in together["observations"]["cases"]["__seq__"])
    assert in_kernel.round_trips[f"{name}#one cell"] == 2 + raised  # a lookup, one cell of calls, a read of the arguments per raise
    assert in_kernel.round_trips[f"{name}#a cell each"] == 1 + 3 + raised
    assert not in_kernel.signals, in_kernel.signals


def test_the_cell_of_calls_leaves_the_notebooks_namespace_as_it_was(in_kernel):
    names = repr(in_kernel.responses["names"]["observations"]["names"])
    assert all(f"'{n}'" in names for n in ("kept", "np", *FUNCTIONS))
    assert "grader" not in names, names


def test_items_no_name_finds_are_found_absent_in_one_cell_and_the_others_run(in_kernel):
    assert in_kernel.responses["absent"] == {"found": None} == in_kernel.responses["also_absent"]
    assert in_kernel.round_trips["absent"] == 0 == in_kernel.round_trips["also_absent"]
    present = in_kernel.responses["present"]
    assert present["found"] == "f_right" and present.get("error") is None and in_kernel.round_trips["present"] == 2
