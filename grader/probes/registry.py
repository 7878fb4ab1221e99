"""Probe requests, as check kinds make them, run against an executor: the one way a probe is run.

A request names its probe (`module.function`: a module of `grader.probes`,
or the `checks.py` of the item's assignment folder, whose `TOPIC` is the
module name, `checks` by default), the item's folder, names, parameters,
inputs, and the reference definitions it needs. The grader runs it against
the submission's kernel; the reference process runs the very same request
against the reference's objects.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from .. import folders
from ..kernel import agent
from .context import Context, Handle, ProbeSpec, run_probe

PROBES_DIR = Path(__file__).resolve().parent
_NOT_PROBES = {"context", "executor", "protocol", "reference_code", "registry"}


def topic(folder) -> str:
    """The module name rubrics give the probes of a folder's `checks.py` (its `TOPIC`, default `checks`)."""
    module = folders.checks_module(folder)
    return getattr(module, "TOPIC", "checks") if module is not None else ""


def probe_module(path: str, folder=None):
    """The module a probe name `module.function` points at: the folder's `checks.py` when its topic, else the package's."""
    name = path.rsplit(".", 1)[0]
    if folder is not None and folders.checks_module(folder) is not None and topic(folder) == name:
        return folders.checks_module(folder)
    if name in _NOT_PROBES or not (PROBES_DIR / f"{name}.py").is_file():
        raise KeyError(f"no probe {path!r}")
    return importlib.import_module(f"grader.probes.{name}")


def _module(name: str):
    return importlib.import_module(f"grader.probes.{name}")


def _probe_spec(path: str, folder: str | None) -> ProbeSpec:
    try:
        spec = getattr(getattr(probe_module(path, folder), path.rsplit(".", 1)[-1]), "spec", None)
    except (ImportError, AttributeError):
        spec = None
    if not isinstance(spec, ProbeSpec):
        raise KeyError(f"no probe {path!r}")
    return spec


def probe_spec(path: str, folder=None) -> ProbeSpec:
    """The declared probe `module.function` (in the folder's `checks.py`, or the package's); KeyError when there is none.

    Without a folder (a listing, a test), a name the package does not have is
    looked for among the assignments' folders: it must be in exactly one.
    """
    if folder is None:
        try:
            return _probe_spec(path, None)
        except KeyError:
            found = [spec for f, spec in _every_folder_probe().items() if f == path]
            if len(found) != 1:
                raise
            return found[0]
    return _probe_spec(path, str(folder))


def _every_folder_probe() -> dict[str, ProbeSpec]:
    found = {}
    for checks in sorted(folders.assignments_dir().glob(f"*/{folders.CHECKS_FILE}")):
        for name, spec in folder_probes(checks.parent).items():
            found[name] = None if name in found else spec  # a name two folders declare is nobody's
    return {name: spec for name, spec in found.items() if spec is not None}


def folder_probes(folder) -> dict[str, ProbeSpec]:
    """The probes a folder's `checks.py` declares, by their rubric names."""
    return {f"{topic(folder)}.{name}": fn.spec for name, fn in folders.declared(folder, "spec").items()}


def all_probes(folder=None) -> dict[str, ProbeSpec]:
    """Every declared probe a rubric in `folder` may name: the package's, and the folder's own."""
    found = {}
    for info in pkgutil.iter_modules([str(PROBES_DIR)]):
        if info.name in _NOT_PROBES:
            continue
        for name, value in vars(_module(info.name)).items():
            if isinstance(getattr(value, "spec", None), ProbeSpec):
                found[f"{info.name}.{name}"] = value.spec
    if folder is None:  # every assignment's, for a listing
        found.update(_every_folder_probe())
    else:
        found.update(folder_probes(folder))
    return found


def ships(request: dict) -> frozenset[str]:
    """The reference definitions a request puts beside the code under test: its probe's and its `uses`."""
    return frozenset(probe_spec(request["probe"], request.get("folder")).ships) | frozenset(request.get("uses") or [])


def builder_function(probe: str, name: str, folder=None):
    """A `reference_builder`: in the folder's `checks.py` when it defines it, else beside the probe."""
    own = folders.checks_module(folder)
    if own is not None and callable(getattr(own, name, None)):
        return getattr(own, name)
    return getattr(probe_module(probe, folder), name)


def run_request(request: dict, executor, *, reference_side: bool = False, forbidden: frozenset = frozenset(),
                may_ship: bool = True, cell_source: str | None = None, held: tuple[str, int] | None = None) -> dict:
    """Run one request: find its object (or, on the reference side, build it), substitute its `uses`, probe.

    `held` is `(name, handle)` of an object a capture kept in the kernel (an earlier binding of a name the
    notebook rebound, grader/rebinding.py): the probe judges that object instead of looking the name up.
    """
    folder = request.get("folder")
    spec = probe_spec(request["probe"], folder)
    ctx = Context(executor, item=request.get("item", ""), params=request.get("params", {}),
                  inputs=agent.decode(request.get("inputs")), data=request.get("data", {}),
                  reference_module=request.get("reference"), forbidden=forbidden, may_ship=may_ship,
                  cell_source=cell_source, folder=folder)
    uses = list(request.get("uses") or [])
    builder = request.get("reference_builder") if reference_side else None
    resolve = (lambda c: builder_function(request["probe"], builder, folder)(c)) if builder else None
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
