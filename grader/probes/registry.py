"""Probe requests, as check kinds make them, run against an executor: the one way a probe is run.

A request names its probe (`module.function` under `grader.probes`), the
item's names, parameters, inputs, and the reference definitions it needs. The
grader runs it against the submission's kernel; the reference process runs
the very same request against the reference's objects.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

from ..kernel import agent
from .context import Context, Handle, ProbeSpec, run_probe

PROBES_DIR = Path(__file__).resolve().parent
_NOT_PROBES = {"context", "executor", "protocol", "reference_code", "registry"}


def _module(name: str):
    return importlib.import_module(f"grader.probes.{name}")


@cache
def probe_spec(path: str) -> ProbeSpec:
    """The declared probe `module.function`; KeyError when there is none."""
    module, function = path.rsplit(".", 1)
    try:
        spec = getattr(getattr(_module(module), function), "spec", None)
    except (ImportError, AttributeError):
        spec = None
    if spec is None:
        raise KeyError(f"no probe {path!r}")
    return spec


def all_probes() -> dict[str, ProbeSpec]:
    """Every declared probe, by its rubric name."""
    found = {}
    for info in pkgutil.iter_modules([str(PROBES_DIR)]):
        if info.name in _NOT_PROBES:
            continue
        for name, value in vars(_module(info.name)).items():
            if isinstance(getattr(value, "spec", None), ProbeSpec):
                found[f"{info.name}.{name}"] = value.spec
    return found


def ships(request: dict) -> frozenset[str]:
    """The reference definitions a request puts beside the code under test: its probe's and its `uses`."""
    return frozenset(probe_spec(request["probe"]).ships) | frozenset(request.get("uses") or [])


def run_request(request: dict, executor, *, reference_side: bool = False, forbidden: frozenset = frozenset(),
                may_ship: bool = True, cell_source: str | None = None, held: tuple[str, int] | None = None) -> dict:
    """Run one request: find its object (or, on the reference side, build it), substitute its `uses`, probe.

    `held` is `(name, handle)` of an object a capture kept in the kernel (an earlier binding of a name the
    notebook rebound, grader/rebinding.py): the probe judges that object instead of looking the name up.
    """
    spec = probe_spec(request["probe"])
    ctx = Context(executor, item=request.get("item", ""), params=request.get("params", {}),
                  inputs=agent.decode(request.get("inputs")), data=request.get("data", {}),
                  reference_module=request.get("reference"), forbidden=forbidden, may_ship=may_ship,
                  cell_source=cell_source)
    uses = list(request.get("uses") or [])
    builder = request.get("reference_builder") if reference_side else None
    resolve = (lambda c: getattr(_module(request["probe"].rsplit(".", 1)[0]), builder)(c)) if builder else None
    names = [request["reference_target"]] if reference_side else list(request.get("names") or [])
    if held is not None and not reference_side:
        names, resolve = [held[0]], (lambda c: Handle(c, held[1]))

    def probe(target, c: Context) -> None:
        if not uses:
            return spec.fn(target, c)
        helpers = c.reference(*uses)
        with c.substitute(**{name: helpers[name] for name in uses}):
            spec.fn(target, c)

    return run_probe(ProbeSpec(probe, spec.observes, spec.ships), ctx, names, resolve)
