"""The kernel side of the probe protocol: executes primitive operations on handles, decides nothing.

A probe runs in the grader's process (`grader.probes.context`) and asks for
operations — look a name up, get an attribute, call a handle, send a value
back — one at a time. This module carries them out next to the objects and
answers with what happened. It holds no reference code, no verdict and no
knowledge of which item is being checked: the most code under test can do
by tampering with it is to change what it reports, which is no more than
returning those values itself.

It is shipped to the kernel as source (the kernel never imports the grader
package) and imported as an ordinary module by the grader for in-process use
(the reference process, tests, a student's own check), so it uses only the
standard library and numpy. Values travel as JSON with arrays as `.npy`
bytes; the grader reads them with ``allow_pickle=False``.

The wire format of operations and answers is described by the pydantic
models of `grader.probes.protocol`; this file reads and writes plain dicts.
"""

from __future__ import annotations

import base64
import importlib
import io
import itertools
import json
import math
import types

import numpy as np

MIME = "application/vnd.grader.v2+json"
MAX_REPR = 300
MAX_ARRAY_BYTES = 8 * 1024 * 1024
MAX_ITEMS = 10_000


# --- values ------------------------------------------------------------------------------------

def _npy(array: np.ndarray) -> dict:
    if array.dtype.kind not in "biufc":
        return {"__object__": {"type": f"ndarray[{array.dtype}]", "repr": _safe_repr(array)}}
    if array.nbytes > MAX_ARRAY_BYTES:
        return {"__object__": {"type": "ndarray", "repr": f"array of shape {array.shape} (too large to send)"}}
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)  # keeps 0-d arrays 0-d
    return {"__npy__": base64.b64encode(buffer.getvalue()).decode("ascii")}


def _safe_repr(value) -> str:
    try:
        return repr(value)[:MAX_REPR]
    except Exception as exc:  # a student's __repr__ may raise
        return f"<unprintable: {type(exc).__name__}>"


def encode(value, depth: int = 0):
    """Turn a value into JSON; anything that is not data becomes its type and repr."""
    if depth > 6:
        return {"__object__": {"type": type(value).__name__, "repr": "(nested too deep)"}}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value[:10000]
    if isinstance(value, int):
        return value if abs(value) < 2**53 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, (np.ndarray, np.generic)):
        return _npy(np.asarray(value))
    if isinstance(value, (list, tuple)):
        return {"__seq__": [encode(v, depth + 1) for v in value[:1000]], "tuple": isinstance(value, tuple)}
    if isinstance(value, dict):
        return {"__dict__": {str(k): encode(v, depth + 1) for k, v in list(value.items())[:1000]}}
    numpy_method = getattr(type(value), "numpy", None)
    if callable(numpy_method):  # tf.Tensor, tf.Variable, keras.Variable
        try:
            return _npy(np.asarray(value.numpy()))
        except Exception:
            pass
    if type(value).__module__.split(".")[0] in ("jax", "jaxlib") and hasattr(value, "__array__"):  # a JAX array: no .numpy()
        try:
            return _npy(np.asarray(value))
        except Exception:
            pass
    return {"__object__": {"type": type(value).__qualname__, "repr": _safe_repr(value)}}


def decode(value, handles: dict | None = None):
    """Inverse of `encode` for what the grader sends: arrays, sequences, mappings, handles."""
    if isinstance(value, dict):
        if "__npy__" in value:
            return np.load(io.BytesIO(base64.b64decode(value["__npy__"])), allow_pickle=False)
        if "__seq__" in value:
            items = [decode(v, handles) for v in value["__seq__"]]
            return tuple(items) if value.get("tuple") else items
        if "__dict__" in value:
            return {k: decode(v, handles) for k, v in value["__dict__"].items()}
        if "__float__" in value:
            return float(value["__float__"])
        if "__slice__" in value:
            return slice(*value["__slice__"])
        if "__handle__" in value:
            return _follow(handles[value["__handle__"]], value.get("path", []))
        if "__keep__" in value and handles is not None:  # the grader's data, kept under the handle it chose
            handle = value["__keep__"]
            if not isinstance(handle, int) or isinstance(handle, bool) or handle >= 0 or handle in handles:
                raise ValueError(f"a kept value needs a new negative handle, not {handle!r}")
            handles[handle] = decode(value["value"], handles)
            return handles[handle]
    return value


def _follow(obj, path):
    for step in path:
        obj = getattr(obj, step["attr"]) if "attr" in step else obj[decode(step["item"])]
    return obj


def _mro(value) -> list[str]:
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in type(value).__mro__]


def _length(value):
    try:
        return len(value)
    except Exception:
        return None


class _Spy:
    """A callable that forwards to another and logs the lengths of its arguments and its result."""

    def __init__(self, fn, log: list):
        self._fn, self._log = fn, log

    def __call__(self, *args, **kwargs):
        result = self._fn(*args, **kwargs)
        self._log.append({"arg_lengths": [_length(a) for a in args], "result": result})
        return result


# --- the agent -----------------------------------------------------------------------------------

class Agent:
    """Handles on live objects of one namespace, and the operations a probe may ask for."""

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.handles: dict[int, object] = {}
        self._next = itertools.count(1)
        self.fn, self.args, self.kwargs = None, (), {}  # the call being made from a cell (`prepare`)
        self._pending: dict | None = None
        self._calls: list[dict] = []  # the calls of a `calls` operation, and the answers of those made so far
        self._answers: list[dict] = []
        self._calls_token: str | None = None

    def _keep(self, obj) -> dict:
        handle = next(self._next)
        self.handles[handle] = obj
        return {"handle": handle, "type": type(obj).__qualname__}

    def _ref(self, target: dict):
        return _follow(self.handles[target["handle"]], target.get("path", []))

    # each operation: one method, the request's fields as arguments, a JSON-able answer
    def op_lookup(self, names):
        for name in names:
            if name in self.namespace:
                return {"name": name, **self._keep(self.namespace[name])}
        return {"name": None}

    def op_namespace(self):
        return self._keep(self.namespace)

    def op_import(self, module, path=()):
        obj = importlib.import_module(module)
        for attr in path:
            obj = getattr(obj, attr)
        return self._keep(obj)

    def op_put(self, value):
        return self._keep(decode(value, self.handles))

    def op_get(self, target):
        return self._keep(self._ref(target))

    def op_value(self, target):
        return {"value": encode(self._ref(target))}

    def op_describe(self, target, attrs=()):
        obj = self._ref(target)
        kind = type(obj)
        try:
            length = len(obj) if hasattr(kind, "__len__") and not isinstance(obj, type) else None
        except Exception:
            length = None
        shape = getattr(obj, "shape", None) if not isinstance(obj, type) else None
        try:
            shape = [int(n) if n is not None else None for n in shape] if shape is not None else None
        except Exception:
            shape = None
        return {"type": kind.__qualname__, "module": kind.__module__, "mro": _mro(obj), "is_class": isinstance(obj, type),
                "callable": callable(obj), "len": length, "shape": shape,
                "has": {a: hasattr(kind, a) for a in attrs}}

    def op_items(self, target, limit=MAX_ITEMS):
        obj = self._ref(target)
        values = obj.values() if isinstance(obj, dict) else obj
        return {"handles": [self._keep(v)["handle"] for v in itertools.islice(iter(values), limit)]}

    def op_vars(self, target):
        obj = self._ref(target)
        found = vars(obj) if hasattr(obj, "__dict__") and not isinstance(obj, dict) else (obj if isinstance(obj, dict) else {})
        return {"handles": {str(k): self._keep(v)["handle"] for k, v in list(found.items())[:MAX_ITEMS]}}

    def op_ids(self, targets=None, mapping=None):
        if mapping is not None:
            return {"ids": {str(k): id(v) for k, v in list(self._ref(mapping).items())[:MAX_ITEMS]}}
        return {"ids": [id(self._ref(t)) for t in targets]}

    def op_scan(self, attrs):
        """Names of the namespace whose values (not classes) have all `attrs` on their type."""
        found = {}
        for name, value in list(self.namespace.items()):
            if not isinstance(value, type) and all(hasattr(type(value), a) for a in attrs):
                found[name] = self._keep(value)["handle"]
        return {"handles": found}

    def op_bind(self, names):
        """Rebind names of the namespace to handles; answers a handle that `restore` takes back."""
        missing = object()
        saved = {name: self.namespace.get(name, missing) for name in names}
        for name, target in names.items():
            self.namespace[name] = self._ref(target)
        return self._keep((saved, missing))

    def op_restore(self, saved):
        previous, missing = self.handles[saved["handle"]]
        for name, old in previous.items():
            if old is missing:
                self.namespace.pop(name, None)
            else:
                self.namespace[name] = old
        return {}

    def op_setattr(self, target, name, value):
        setattr(self._ref(target), name, decode(value, self.handles))
        return {}

    def op_spy(self, target):
        log: list = []
        return {"spy": self._keep(_Spy(self._ref(target), log))["handle"], "log": self._keep(log)["handle"]}

    def op_reference(self, module, source, names):
        """Reference definitions the grader sent, in a module of their own (only the names asked for)."""
        namespace = types.ModuleType(f"reference_{module}")
        exec(compile(source, f"<reference {module}>", "exec"), namespace.__dict__)
        found = {name: self._keep(getattr(namespace, name))["handle"] for name in names if name != "__module__"}
        return {"handles": {**found, "__module__": self._keep(namespace)["handle"]}}

    def op_batch(self, operations):
        """Each operation in turn, up to the first that raises; no calls (each has a cell of its own)."""
        answers = []
        for op in operations:
            answers.append({"raised": {"ename": "ValueError", "evalue": "a batch carries no call or batch"}}
                           if op.get("op") in ("call", "batch") else self.serve(op))
            if "raised" in answers[-1]:
                break
        return {"answers": answers}

    def serve(self, op: dict) -> dict:
        """Carry out one operation (not a call); exceptions become an answer, as data."""
        fields = {k: v for k, v in op.items() if k not in ("op", "token")}
        try:
            return {"ok": getattr(self, f"op_{op['op']}")(**fields)}
        except Exception as exc:
            return {"raised": {"ename": type(exc).__name__, "evalue": str(exc)[:MAX_REPR]}}

    # a call happens in the caller's own frame: `prepare` finds the callee and arguments, the caller calls, `finish` answers
    def prepare(self, op: dict):
        self._pending = op
        self.args = tuple(decode(a, self.handles) for a in op.get("args", []))
        self.kwargs = {k: decode(v, self.handles) for k, v in op.get("kwargs", {}).items()}
        self.fn = self._ref(op["target"])
        return self.fn

    def finish(self, result) -> dict:
        op, self._pending = self._pending, None
        self.fn, self.args, self.kwargs = None, (), {}
        answer = self._keep(result)
        if op.get("fetch"):
            answer["value"] = encode(result)
        if op.get("read_after"):
            try:
                answer["after"] = [encode(self._ref(target)) for target in op["read_after"]]
            except Exception:  # not the call's failure: the grader reads them one by one, and hears why
                pass
        return {"ok": answer}

    # several calls, each in the caller's frame and its own `try`: `begin_calls`, then per call `next_call` (the
    # callee; its arguments in `args`/`kwargs`) and `call_done` or `call_raised`, then `finish_calls` answers them all
    def begin_calls(self, op: dict) -> None:
        self._calls, self._answers = list(op.get("calls", [])), []
        self._calls_token = op.get("token")

    def next_call(self):
        return self.prepare(self._calls[len(self._answers)])

    def call_done(self, result) -> None:
        self._answers.append(self.finish(result))

    def call_raised(self, exc: BaseException) -> None:
        self._pending, self.fn, self.args, self.kwargs = None, None, (), {}
        self._answers.append(_raised_by_call(exc))

    def finish_calls(self) -> dict:
        answers, self._calls, self._answers = self._answers, [], []
        return {"ok": {"answers": answers}}

    def call_here(self, op: dict) -> dict:
        """A call (or `calls`) made from this frame (in-process executors); a raised exception is part of the answer."""
        if op.get("op") == "calls":
            return {"ok": {"answers": [self.call_here(call) for call in op["calls"]]}}
        try:
            fn = self.prepare(op)
            return self.finish(fn(*self.args, **self.kwargs))
        except Exception as exc:
            self._pending = None
            return _raised_by_call(exc)


def _raised_by_call(exc: BaseException) -> dict:
    """The answer for a call of code under test that raised."""
    try:
        evalue = str(exc)[:MAX_REPR]
    except Exception:  # an exception whose text itself raises
        evalue = "(its message could not be read)"
    return {"raised": {"ename": type(exc).__name__, "evalue": evalue, "student": True}}


# --- in a kernel -----------------------------------------------------------------------------------

def publish(token: str, answer: dict) -> None:
    """Send one answer back to the grader as a display message of our MIME type."""
    shell = __import__("IPython").get_ipython()
    shell.display_pub.publish(data={MIME: {"token": token, "answer": answer}}, metadata={})


def _take(path: str) -> str:
    """A large request the grader left in a file instead of the cell (a long cell is slow to run): read once."""
    import os

    with open(path, encoding="utf-8") as f:
        text = f.read()
    os.unlink(path)
    return text


def install(name: str, namespace: dict | None = None, send=publish) -> Agent:
    """Register an agent over the kernel's namespace as module `name`, which the grader's cells call."""
    import sys

    agent = Agent(__import__("IPython").get_ipython().user_ns if namespace is None else namespace)
    holder = types.ModuleType(name)
    holder.agent = agent
    holder.serve = lambda text: send(json.loads(text)["token"], agent.serve(json.loads(text)))
    holder.prepare = lambda text: agent.prepare(json.loads(text))
    holder.serve_path = lambda path: holder.serve(_take(path))
    holder.prepare_path = lambda path: holder.prepare(_take(path))
    holder.finish = lambda result: send(agent._pending["token"], agent.finish(result))
    holder.begin_calls = lambda text: agent.begin_calls(json.loads(text))
    holder.begin_calls_path = lambda path: holder.begin_calls(_take(path))
    holder.finish_calls = lambda: send(agent._calls_token, agent.finish_calls())
    sys.modules[name] = holder
    return agent
