"""The probe runtime: runs a check's question next to the code under test.

This file runs in two places: in the student's kernel, after the notebook's
own cells (shipped there as source, so the kernel never imports the grader
package), and in the clean reference process (imported). It therefore uses
only the standard library and numpy, and it never judges anything: it calls
the object under test, and encodes what it observed as JSON, with arrays as
`.npy` bytes that the grader reads back with ``allow_pickle=False``.
"""

from __future__ import annotations

import base64
import contextlib
import io
import math
import types

import numpy as np

MAX_REPR = 300
MAX_ARRAY_BYTES = 8 * 1024 * 1024


class StudentError(Exception):
    """The code under test raised while a probe was using it."""

    def __init__(self, during: str, exc: BaseException):
        super().__init__(during)
        self.during = during
        self.ename = type(exc).__name__
        self.evalue = str(exc)[:MAX_REPR]


def _raised(during: str, exc: BaseException) -> dict:
    return {"__raised__": {"during": during, "ename": type(exc).__name__, "evalue": str(exc)[:MAX_REPR]}}


def _npy(array: np.ndarray) -> dict:
    if array.dtype.kind not in "biufc":
        return {"__object__": {"type": f"ndarray[{array.dtype}]", "repr": repr(array)[:MAX_REPR]}}
    if array.nbytes > MAX_ARRAY_BYTES:
        return {"__object__": {"type": "ndarray", "repr": f"array of shape {array.shape} (too large to send)"}}
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, order="C"), allow_pickle=False)  # keeps 0-d arrays 0-d
    return {"__npy__": base64.b64encode(buffer.getvalue()).decode("ascii")}


def encode(value, depth: int = 0):
    """Turn an observed value into JSON; anything unknown becomes its type and repr."""
    if depth > 6:
        return {"__object__": {"type": type(value).__name__, "repr": "(nested too deep)"}}
    if value is None or isinstance(value, (bool, str)):
        return value if not isinstance(value, str) else value[:10000]
    if isinstance(value, int):
        return value if abs(value) < 2**53 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, (np.ndarray, np.generic)):
        return _npy(np.asarray(value))
    if isinstance(value, dict) and "__raised__" in value:
        return value
    if isinstance(value, (list, tuple)):
        return {"__seq__": [encode(v, depth + 1) for v in value[:1000]], "tuple": isinstance(value, tuple)}
    if isinstance(value, dict):
        return {"__dict__": {str(k): encode(v, depth + 1) for k, v in list(value.items())[:1000]}}
    numpy_method = getattr(type(value), "numpy", None)
    if callable(numpy_method):  # tf.Tensor, tf.Variable
        try:
            return _npy(np.asarray(value.numpy()))
        except Exception:
            pass
    return {"__object__": {"type": type(value).__qualname__, "repr": _safe_repr(value)}}


def _safe_repr(value) -> str:
    try:
        return repr(value)[:MAX_REPR]
    except Exception as exc:  # a student's __repr__ may raise
        return f"<unprintable: {type(exc).__name__}>"


def decode(value):
    """Inverse of `encode` for the grader's own inputs (arrays, lists, dicts)."""
    if isinstance(value, dict):
        if "__npy__" in value:
            return np.load(io.BytesIO(base64.b64decode(value["__npy__"])), allow_pickle=False)
        if "__seq__" in value:
            items = [decode(v) for v in value["__seq__"]]
            return tuple(items) if value.get("tuple") else items
        if "__dict__" in value:
            return {k: decode(v) for k, v in value["__dict__"].items()}
        if "__float__" in value:
            return float(value["__float__"])
    return value


class Context:
    """What a probe may use: the namespace, its parameters and inputs, the reference."""

    def __init__(self, ns: dict, params: dict, inputs, reference_source: str | None, data: dict):
        self.ns = ns
        self.params = params
        self.inputs = inputs
        self.data = data
        self._reference_source = reference_source
        self._reference = None
        self.observed: dict = {}

    @property
    def ref(self) -> types.ModuleType:
        """The reference solution, loaded on first use (it may import TensorFlow)."""
        if self._reference is None:
            module = types.ModuleType("grader_reference")
            exec(compile(self._reference_source, "<reference>", "exec"), module.__dict__)
            self._reference = module
        return self._reference

    def call(self, during: str, fn, *args, **kwargs):
        """Call student code; if it raises, the probe stops with a StudentError."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise StudentError(during, exc) from None

    def attempt(self, during: str, fn, *args, **kwargs):
        """Call student code; if it raises, return a marker the judgement reads."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            return _raised(during, exc)

    @contextlib.contextmanager
    def substitute(self, **names):
        """Let names the code under test looks up resolve to reference versions."""
        missing = object()
        saved = {name: self.ns.get(name, missing) for name in names}
        self.ns.update(names)
        try:
            yield
        finally:
            for name, old in saved.items():
                if old is missing:
                    self.ns.pop(name, None)
                else:
                    self.ns[name] = old

    @contextlib.contextmanager
    def fresh_optimizers(self, variables=None):
        """Rebind every Keras optimizer in the namespace to a fresh copy.

        Keras 3 optimizers refuse variables other than those they first saw,
        so a check with new variables needs a new optimizer of the same kind
        and learning rate. Given the `variables`, each copy is built for them
        (a `tf.function` may not create an optimizer's variables later).
        """
        fresh = {}
        for name, value in list(self.ns.items()):
            kind = type(value)
            if isinstance(value, type):
                continue
            if all(hasattr(kind, a) for a in ("apply_gradients", "get_config", "from_config")):
                try:
                    fresh[name] = kind.from_config(value.get_config())
                    if variables is not None:
                        fresh[name].build(list(variables))
                except Exception:
                    continue
        with self.substitute(**fresh):
            yield

    def grading_array(self, dataset: str, key: str) -> np.ndarray:
        """One array of the grader's own dataset (only that key is read)."""
        with np.load(self.data[dataset], allow_pickle=False) as f:
            return f[key]

    def rng(self, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng(int(self.params.get("seed", 0)) + salt)


def find_target(ns: dict, names: list[str]):
    for name in names:
        if name in ns:
            return name, ns[name]
    return None, None


def run_probe(request: dict, probe, resolve_target, ns: dict, reference_source: str | None) -> dict:
    """Run one probe on the object `resolve_target(ctx)` gives; keep what it saw before any error."""
    ctx = Context(ns, request.get("params", {}), decode(request.get("inputs")), reference_source, request.get("data", {}))
    response: dict = {}
    try:
        target = resolve_target(ctx)
        with ctx.substitute(**{name: getattr(ctx.ref, name) for name in request.get("uses", [])}):
            probe(target, ctx)
    except StudentError as err:
        response["error"] = {"during": err.during, "ename": err.ename, "evalue": err.evalue}
    except Exception as exc:  # the object is not shaped as the probe expects
        response["error"] = {"during": f"checking {request.get('item')}", "ename": type(exc).__name__, "evalue": str(exc)[:MAX_REPR]}
    response["observations"] = {key: encode(value) for key, value in ctx.observed.items()}
    return response
