"""What a probe works with: handles on objects an executor holds, and the operations on them.

A probe is ordinary Python that runs in the grader's process. It never
touches the object under test directly: it holds `Handle`s and asks its
`Context` for operations (call, read a value, describe), which an executor
carries out — next to the student's objects in their kernel, or in-process
next to the reference's (`grader.probes.executor`). The same probe function
runs against both, so "one probe, run twice" holds by construction.

Inputs a probe makes (arrays from its seeded generator, the grader's data)
stay in this process: what a probe records about them comes from here, not
from what a kernel reports back.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..kernel import agent
from . import protocol as p


class StudentError(Exception):
    """The code under test raised while a probe was using it."""

    def __init__(self, during: str, ename: str, evalue: str):
        super().__init__(during)
        self.during, self.ename, self.evalue = during, ename, evalue


class OperationFailed(Exception):
    """An operation other than a call raised: the object is not shaped as the probe expects."""

    def __init__(self, ename: str, evalue: str):
        super().__init__(f"{ename}: {evalue}")
        self.ename, self.evalue = ename, evalue


class ProbeOutcome(str, enum.Enum):
    """Why an item's probe gave no answer: a named state (the item's feedback says it in a sentence)."""

    KERNEL_DEAD = "kernel_dead"  # the kernel had died before the item's turn came
    TIMED_OUT = "timed_out"  # the item's time for checking ran out
    KERNEL_GONE = "kernel_gone"  # the kernel died while the item was being checked
    FORGED = "forged"  # an answer was not the one answer the protocol allows


class Stop(Exception):
    """Checking the item cannot go on: not the code under test's answer, so the probe does not record it."""


class ReferenceLeak(Stop):
    """A probe asked to ship reference code for an item that has not been checked yet (a grader bug)."""


class ProbeTimeout(Stop):
    """The item's time for checking ran out."""


class KernelGone(Stop):
    """The kernel died while an operation was being carried out."""


class Forged(Stop):
    """The answer to an operation was not the one answer the protocol allows."""


class Kind(str, enum.Enum):
    """What kind of value an observation is, so a rubric can be checked against its probe at load time."""

    VALUE = "value"  # anything comparable: array, number, sequence
    ARRAY = "array"
    ARRAYS = "arrays"  # a list of arrays
    NUMBER = "number"
    NUMBERS = "numbers"
    SHAPES = "shapes"
    FLAGS = "flags"  # a list of booleans
    FLAG = "flag"
    TEXT = "text"
    NAMES = "names"
    CASES = "cases"
    LAYERS = "layers"
    MAPPING = "mapping"


@dataclass(frozen=True)
class ProbeSpec:
    """A probe's declaration: what it observes, which reference definitions it ships to the kernel, and
    which observations the grader adds from the answer cells it runs after (`printed`: what they printed)."""

    fn: Callable
    observes: dict[str, Kind]
    ships: tuple[str, ...] = ()
    from_cells: dict[str, Kind] = field(default_factory=dict)


CELL_OBSERVATIONS = {"printed": Kind.TEXT}  # what a probe may ask the grader to add from its answer cells


def probe(*, observes: dict[str, Kind], ships: tuple[str, ...] = (), from_cells: tuple[str, ...] = ()):
    """Declare a probe function (see `ProbeSpec`)."""
    unknown = set(from_cells) - set(CELL_OBSERVATIONS)
    if unknown:
        raise ValueError(f"no observation {', '.join(sorted(unknown))} comes from the cells (known: {', '.join(CELL_OBSERVATIONS)})")

    def register(fn):
        fn.spec = ProbeSpec(fn, dict(observes), tuple(ships), {name: CELL_OBSERVATIONS[name] for name in from_cells})
        return fn
    return register


class Opaque(dict):
    """An object the executor could not send as data: its type and repr, kept as they came."""


def received(value):
    """An executor's value as grader data: arrays, numbers, lists; objects stay `Opaque`."""
    if isinstance(value, dict):
        if "__object__" in value:
            return Opaque(value)
        if "__seq__" in value:
            items = [received(v) for v in value["__seq__"]]
            return tuple(items) if value.get("tuple") else items
        if "__dict__" in value:
            return {k: received(v) for k, v in value["__dict__"].items()}
    return agent.decode(value)


def observation(value, depth: int = 0):
    """Encode what a probe recorded: as `agent.encode`, with `Opaque` values and raised markers kept."""
    if depth > 6:
        return agent.encode(value, 7)
    if isinstance(value, Opaque) or (isinstance(value, dict) and "__raised__" in value):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return {"__seq__": [observation(v, depth + 1) for v in value[:1000]], "tuple": isinstance(value, tuple)}
    if isinstance(value, dict):
        return {"__dict__": {str(k): observation(v, depth + 1) for k, v in list(value.items())[:1000]}}
    if isinstance(value, Handle):
        raise TypeError("a probe recorded a handle; record ctx.value(handle)")
    return agent.encode(value)


def raised_marker(during: str, ename: str, evalue: str) -> dict:
    return {"__raised__": {"during": during, "ename": ename, "evalue": evalue[:300]}}


class Handle:
    """A remote object: attribute and item access build a path; calling it asks the executor."""

    __slots__ = ("_ctx", "_id", "_path")

    def __init__(self, ctx: "Context", handle: int, path: tuple = ()):
        self._ctx, self._id, self._path = ctx, handle, path

    def __getattr__(self, name: str) -> "Handle":
        if name.startswith("__"):
            raise AttributeError(name)
        return Handle(self._ctx, self._id, self._path + ({"attr": name},))

    def __getitem__(self, key) -> "Handle":
        encoded = {"__slice__": [key.start, key.stop, key.step]} if isinstance(key, slice) else agent.encode(key)
        return Handle(self._ctx, self._id, self._path + ({"item": encoded},))

    def __call__(self, *args, **kwargs) -> "Handle":
        return self._ctx.call("calling it", self, *args, **kwargs)

    @property
    def target(self) -> p.Target:
        self._ctx._deliver(self._id)
        return p.Target(handle=self._id, path=list(self._path))

    def __repr__(self) -> str:
        path = "".join(f".{s['attr']}" if "attr" in s else f"[{s['item']!r}]" for s in self._path)
        return f"<handle {self._id}{path}>"


_own_handles = itertools.count(-1, -1)  # handles the grader names (`Context.put`): negative, never the agent's own


def _holds_handles(wired) -> bool:
    if isinstance(wired, dict):
        return "__handle__" in wired or "__keep__" in wired or any(_holds_handles(v) for v in wired.values())
    if isinstance(wired, list):
        return any(_holds_handles(v) for v in wired)
    return False


def wire(value):
    """An argument as the protocol carries it: handles by reference, data encoded.

    A handle to data the kernel has not received yet (`Context.put`) travels as
    that data, to be kept under the handle, the first time it is used.
    """
    if isinstance(value, Handle):
        return value._ctx._wired(value)
    if isinstance(value, (list, tuple)):
        return {"__seq__": [wire(v) for v in value], "tuple": isinstance(value, tuple)}
    if isinstance(value, dict):
        return {"__dict__": {str(k): wire(v) for k, v in value.items()}}
    return agent.encode(value)


@dataclass
class Context:
    """The operations a probe may use, over one executor, with the item's parameters and inputs."""

    executor: "object"  # grader.probes.executor.Executor
    item: str = ""
    params: dict = field(default_factory=dict)
    inputs: object = None
    data: dict = field(default_factory=dict)  # dataset name -> path of the grader's file
    reference_module: str | None = None
    forbidden: frozenset = frozenset()  # reference definitions that may not be shipped yet
    may_ship: bool = True  # False while the notebook's own cells are still running
    cell_source: str | None = None  # the cell a capture probe runs after, as the grader read it
    folder: str | None = None  # the item's assignment folder: its own reference/ comes first
    observed: dict = field(default_factory=dict)
    _unsent: dict = field(default_factory=dict)  # handle -> data put but not yet in the kernel

    # --- operations ------------------------------------------------------------------------
    def _send(self, operation) -> dict:
        return self.executor.send(operation)

    def _wired(self, handle: Handle) -> dict:
        """A handle as an argument: the data itself with the handle to keep it under, the first time it is used."""
        if handle._id in self._unsent and not handle._path:
            return {"__keep__": handle._id, "value": self._unsent.pop(handle._id)}
        self._deliver(handle._id)
        return {"__handle__": handle._id, "path": list(handle._path)}

    def _deliver(self, handle: int) -> None:
        """Put data in the kernel now, when an operation needs it there before its first use as an argument."""
        if handle in self._unsent:
            try:
                self._send(p.Put(value={"__keep__": handle, "value": self._unsent.pop(handle)}))
            except OperationFailed as exc:  # the agent refused the grader's own data: not the code under test's doing
                self.executor.signals.append(f"the kernel's side refused the grader's input ({exc.ename})")
                raise Forged("the grader's input was refused") from None

    def _handle(self, answer: dict) -> Handle:
        return Handle(self, int(answer["handle"]))

    def lookup(self, *names: str) -> tuple[str | None, Handle | None]:
        answer = self._send(p.Lookup(names=list(names)))
        return (answer["name"], self._handle(answer)) if answer.get("name") else (None, None)

    def namespace(self) -> Handle:
        return self._handle(self._send(p.Namespace()))

    def kernel(self, module: str, *path: str) -> Handle:
        """A module (or one of its attributes) as the executor's side imports it."""
        return self._handle(self._send(p.Import(module=module, path=list(path))))

    def put(self, value) -> Handle:
        """The value as an object of the kernel's own. Data goes with the operation that first uses it
        (no cell of its own); a value that refers to handles is put at once."""
        wired = wire(value)
        if _holds_handles(wired):
            return self._handle(self._send(p.Put(value=wired)))
        handle = Handle(self, next(_own_handles))
        self._unsent[handle._id] = wired
        return handle

    def get(self, handle: Handle) -> Handle:
        return self._handle(self._send(p.Get(target=handle.target)))

    def value(self, handle: Handle):
        return received(self._send(p.Value(target=handle.target))["value"])

    def values(self, handles: list[Handle]) -> list:
        """`value` of each handle, in one round trip; the first that fails raises, as `value` would."""
        if not handles:
            return []
        return [received(answer["value"]) for answer in self.executor.send_all([p.Value(target=h.target) for h in handles])]

    def describe(self, handle: Handle, *attrs: str) -> dict:
        return self._send(p.Describe(target=handle.target, attrs=list(attrs)))

    def shape(self, handle: Handle) -> list:
        """The object's shape as it says (a tensor's, an array's), else numpy's reading of its value."""
        shape = self.describe(handle)["shape"]
        return shape if shape is not None else list(np.shape(self.value(handle)))

    def attr(self, handle: Handle, name: str) -> Handle:
        """An attribute of any name (`__name__` included, which `handle.name` syntax keeps for Python)."""
        return Handle(self, handle._id, handle._path + ({"attr": name},))

    @contextlib.contextmanager
    def _under_test(self, during: str):
        """Code under test runs inside: what fails there is its error (a StudentError saying `during`), not the probe's."""
        try:
            yield
        except OperationFailed as exc:
            raise StudentError(during, exc.ename, exc.evalue) from None

    def read(self, during: str, handle: Handle) -> Handle:
        """Evaluate an attribute path as code under test (a property may raise)."""
        with self._under_test(during):
            return self.get(handle)

    def elements(self, during: str, handle: Handle) -> list[Handle]:
        """The elements of a sequence the code under test gives (reading it may raise)."""
        with self._under_test(during):
            return self.items(handle)

    def value_or(self, handle: Handle, default=None):
        try:
            return self.value(handle)
        except OperationFailed:
            return default

    def isa(self, handle: Handle, class_name: str) -> bool:
        """Whether a class of this name is in the object's MRO (Keras 3 and Keras 2 classes alike)."""
        return any(entry.rsplit(".", 1)[-1] == class_name for entry in self.describe(handle)["mro"])

    def items(self, handle: Handle, limit: int = 10_000) -> list[Handle]:
        return [Handle(self, int(h)) for h in self._send(p.Items(target=handle.target, limit=limit))["handles"]]

    def vars(self, handle: Handle) -> dict[str, Handle]:
        return {k: Handle(self, int(h)) for k, h in self._send(p.Vars(target=handle.target))["handles"].items()}

    def ids(self, handles: list[Handle]) -> list[int]:
        return [int(i) for i in self._send(p.Ids(targets=[h.target for h in handles]))["ids"]]

    def ids_of(self, mapping: Handle) -> dict[str, int]:
        return {k: int(v) for k, v in self._send(p.Ids(mapping=mapping.target))["ids"].items()}

    def scan(self, *attrs: str) -> dict[str, Handle]:
        return {k: Handle(self, int(h)) for k, h in self._send(p.Scan(attrs=list(attrs)))["handles"].items()}

    def setattr(self, handle: Handle, name: str, value) -> None:
        self._send(p.SetAttr(target=handle.target, name=name, value=wire(value)))

    def spy(self, handle: Handle) -> tuple[Handle, Handle]:
        """A callable that forwards to `handle`, and a log of each call's argument lengths and result."""
        answer = self._send(p.Spy(target=handle.target))
        return Handle(self, int(answer["spy"])), Handle(self, int(answer["log"]))

    def _call(self, during: str, fn: Handle, args, kwargs, fetch: bool, read_after=()) -> dict:
        target, wired_args = fn.target, [wire(a) for a in args]  # in the agent's order: the callee, then the arguments
        wired_kwargs = {k: wire(v) for k, v in kwargs.items()}
        after = [h.target for h in read_after]
        with self._under_test(during):
            return self._send(p.Call(target=target, args=wired_args, kwargs=wired_kwargs, fetch=fetch, read_after=after))

    def call(self, during: str, fn: Handle, *args, **kwargs) -> Handle:
        """Call code under test; if it raises, the probe stops with a StudentError."""
        return self._handle(self._call(during, fn, args, kwargs, fetch=False))

    def call_value(self, during: str, fn: Handle, *args, **kwargs):
        """Call code under test and return its result's value, in one round trip; if it raises, the probe stops with a
        StudentError."""
        return received(self._call(during, fn, args, kwargs, fetch=True)["value"])

    def attempt(self, during: str, fn: Handle, *args, **kwargs):
        """Call code under test and return its result's value, or a marker of what it raised."""
        try:
            return self.call_value(during, fn, *args, **kwargs)
        except StudentError as err:
            return raised_marker(during, err.ename, err.evalue)

    def attempt_then_values(self, during: str, fn: Handle, args: list, after: list[Handle]) -> tuple[object, list]:
        """`attempt(during, fn, *args)`, then the `values` of `after` as the call left them, in the same round trip
        when the call returns (read one round trip later when it raised)."""
        try:
            answer = self._call(during, fn, args, {}, fetch=True, read_after=after)
        except StudentError as err:
            return raised_marker(during, err.ename, err.evalue), self.values(after)
        return self._returned(answer["value"], answer.get("after"), after)

    def attempt_each_then_values(self, fn: Handle, cases: list[tuple[str, list]]) -> list[tuple[object, list]]:
        """`attempt_then_values(during, fn, args, args)` for each case `(during, args)`, in order, all in one round trip
        (`Calls`): each result's value, or a marker of what it raised, with its arguments as the call left them."""
        if len(cases) < 2:
            return [self.attempt_then_values(during, fn, args, args) for during, args in cases]
        calls = [p.Call(target=fn.target, args=[wire(a) for a in args], fetch=True, read_after=[h.target for h in args])
                 for _, args in cases]
        with self._under_test(cases[0][0]):
            answers = self.executor.send_calls(calls)
        results = []
        for (during, args), answer in zip(cases, answers):
            if answer.raised is not None:
                results.append((raised_marker(during, answer.raised.ename, answer.raised.evalue), self.values(args)))
            else:
                ok = answer.ok or {}
                results.append(self._returned(ok.get("value"), ok.get("after"), args))
        return results

    def _returned(self, value, read, after: list[Handle]) -> tuple[object, list]:
        """A call's value and `after` as it left them: as its answer brought them back, else read again."""
        if not isinstance(read, list) or len(read) != len(after):  # the agent could not read them there: ask again
            return received(value), self.values(after)
        return received(value), [received(v) for v in read]

    @contextlib.contextmanager
    def substitute(self, **names: Handle):
        """Let names the code under test looks up resolve to other objects (reference versions) meanwhile."""
        if not names:
            yield
            return
        saved = self._handle(self._send(p.Bind(names={k: v.target for k, v in names.items()})))
        try:
            yield
        finally:
            self._send(p.Restore(saved=saved.target))

    @contextlib.contextmanager
    def fresh_optimizers(self, variables: Handle | None = None):
        """Rebind every Keras optimizer of the namespace to a fresh copy of the same kind and learning rate.

        Keras 3 optimizers refuse variables other than those they first saw.
        Given the `variables`, each copy is built for them (a `tf.function` may
        not create an optimizer's variables later).
        """
        fresh = {}
        for name, optimizer in self.scan("apply_gradients", "get_config", "from_config").items():
            try:
                config = self.call("", optimizer.get_config)
                kind = self.call("", self.kernel("builtins", "type"), optimizer)
                copy = self.call("", kind.from_config, config)
                if variables is not None:
                    self.call("", copy.build, variables)
            except StudentError:
                continue
            fresh[name] = copy
        with self.substitute(**fresh):
            yield

    def reference(self, *names: str) -> dict[str, Handle]:
        """Reference definitions beside the code under test: only those named, never an unchecked item's."""
        from .reference_code import sliced

        if not self.may_ship:
            raise ReferenceLeak("reference code may reach the kernel only after the notebook's own cells have run")
        leaked = sorted(set(names) & self.forbidden)
        if leaked:
            raise ReferenceLeak(f"reference {', '.join(leaked)} would reach the kernel before its item is checked")
        source, kept = sliced(self.reference_module, names, self.folder)
        if kept & self.forbidden:
            raise ReferenceLeak(f"reference {', '.join(sorted(kept & self.forbidden))} would come along with {', '.join(names)}")
        answer = self._send(p.Reference(module=self.reference_module, source=source, names=list(names)))
        return {k: Handle(self, int(h)) for k, h in answer["handles"].items()}

    # --- the grader's own inputs -------------------------------------------------------------
    def grading_array(self, dataset: str, key: str) -> np.ndarray:
        """One array of the grader's own dataset, read in this process (only that key)."""
        with np.load(self.data[dataset], allow_pickle=False) as f:
            return f[key]

    def rng(self, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng(int(self.params.get("seed", 0)) + salt)


def run_probe(spec: ProbeSpec, ctx: Context, names: list[str], resolve: Callable | None = None) -> dict:
    """Run one probe on the object `names` find (or `resolve(ctx)` builds); keep what it saw before any error.

    The answer has the shape the judgement reads: `found`, `observations`, and `error` when the code under
    test raised (or the object is not shaped as the probe expects).
    """
    response: dict = {}
    try:
        if resolve is not None:
            found, target = names[0] if names else "", resolve(ctx)
        elif names:
            try:
                found, target = ctx.lookup(*names)
            except OperationFailed as err:  # the agent itself failed: nothing the item's code did
                raise Forged(f"looking the item up failed in the kernel ({err.ename}: {err.evalue[:100]})") from None
            if found is None:
                return {"found": None}
        else:
            found, target = "", None
        response["found"] = found
        spec.fn(target, ctx)
    except StudentError as err:
        response["error"] = {"during": err.during, "ename": err.ename, "evalue": err.evalue[:300]}
    except OperationFailed as err:  # the object is not shaped as the probe expects
        response["error"] = {"during": f"checking {ctx.item}", "ename": err.ename, "evalue": err.evalue[:300]}
    except Stop:
        raise
    except Exception as exc:  # what came back is not shaped as the probe expects (a list where a tuple was due ...)
        response["error"] = {"during": f"checking {ctx.item}", "ename": type(exc).__name__, "evalue": str(exc)[:300]}
    response["observations"] = {key: observation(value) for key, value in ctx.observed.items()}
    return response
