"""Tamper notebooks written by someone who has read the grader's source (issue 11's classes of attack).

Each notebook has the same wrong items — `naive_relu` without its clamp,
`naive_add` that returns x, and (in some) a `NaiveSequential` whose `return`
is inside the loop — and one right item, `naive_vector_dot`; then one attack
that tries to make the wrong items pass without computing their answers: by
reaching the harness, the reference, or the grader's decision, or by telling
the grader's calls from the notebook's. Every attack reads the grader's
public source for its names (the agent module, the MIME type, the handles).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np

HEAD = "import numpy as np"
WRONG_RELU = "def naive_relu(x):\n    return x.copy()  # no clamp"
WRONG_ADD = "def naive_add(x, y):\n    return x"
RIGHT_DOT = "def naive_vector_dot(x, y):\n    return np.dot(x, y)"
WRONG_SEQUENTIAL = '''class NaiveSequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, inputs):
        x = inputs
        for layer in self.layers:
            x = layer(x)
            return x  # returns after the first layer

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]'''

WRONG = ("naive_relu", "naive_add")
RIGHT = ("naive_vector_dot",)

# every attack: (cells after the items, whether it has the wrong NaiveSequential, whether it forges messages)
ATTACKS: dict[str, tuple[str, bool, bool]] = {
    # hooks on display and output: a forged answer published before the genuine one, built from whatever the frames hold
    "display_hook": ('''import sys
_called, _real_relu, _real_add = [], naive_relu, naive_add
def naive_relu(x):
    _called.append("naive_relu")
    return _real_relu(x)
def naive_add(x, y):
    _called.append("naive_add")
    return _real_add(x, y)
ip = get_ipython()
real_publish = ip.display_pub.publish
def hooked(data=None, metadata=None, **kw):
    for mime, payload in list((data or {}).items()):
        if mime.startswith("application/vnd.grader") and isinstance(payload, dict) and _called:
            _called.clear()  # the answer to a call of one of ours: forge one first, from whatever the frames hold
            frame, loot = sys._getframe(1), {}
            while frame is not None:  # what the old harness left in its frames: _payload, _request, _runtime, ctx
                loot.update({k: v for k, v in frame.f_globals.items() if k.startswith("_") or k == "ctx"})
                frame = frame.f_back
            answer = payload.get("answer", {}).get("ok", {})
            forged = {"token": payload.get("token"), "answer": {"ok": dict(answer, value=None)}}
            real_publish(data={mime: forged}, metadata={})
    return real_publish(data=data, metadata=metadata, **kw)
ip.display_pub.publish = hooked''', True, True),
    # rebinding builtins: the agent's source is compiled through builtins.compile; swap its call target for a reference
    "rebound_builtins": ('''import builtins, sys
real_compile = builtins.compile
def compile_(source, filename, mode, *args, **kwargs):
    if isinstance(source, str) and "agent" in str(filename) and "class Agent" in source:
        source = source.replace("self.fn = self._ref(op[\\"target\\"])",
                                "self.fn = next((getattr(m, 'naive_relu') for n, m in list(__import__('sys').modules.items()) "
                                "if 'reference' in n and hasattr(m, 'naive_relu')), self._ref(op[\\"target\\"]))")
    return real_compile(source, filename, mode, *args, **kwargs)
builtins.compile = compile_
real_loads = __import__("json").loads
def loads(text, *args, **kwargs):  # every call answers with its value, to read what the grader is after
    if isinstance(text, str):
        text = text.replace('"fetch": false', '"fetch": true')
    return real_loads(text, *args, **kwargs)
__import__("json").loads = loads''', False, False),
    # stack and gc walking from inside the code under test, then a forged answer with the token found in the caller's code
    "stack_and_gc": ('''import gc, json, sys
_honest_relu = naive_relu
def naive_relu(x):
    frame = sys._getframe(1)
    for obj in gc.get_objects():  # any reference module or grader context object
        try:
            name = getattr(obj, "__name__", "")
            if type(obj).__name__ in ("Context", "Agent") or (isinstance(name, str) and name.startswith("reference")):
                ref = getattr(obj, "naive_relu", None) or getattr(getattr(obj, "ref", None), "naive_relu", None)
                if callable(ref):
                    return ref(x)
        except Exception:
            continue
    # the operation travels in the cell's code; several calls in one cell: the agent holds their token
    tokens = [json.loads(c)["token"] for c in frame.f_code.co_consts if isinstance(c, str) and '"token"' in c]
    tokens += [getattr(getattr(sys.modules.get("_grader_agent"), "agent", None), "_calls_token", None)] if not tokens else []
    for token in filter(None, tokens):
        get_ipython().display_pub.publish(
            data={"application/vnd.grader.v2+json": {"token": token, "answer": {"ok": {"handle": 1, "type": "x", "value": None}}}},
            metadata={})
    return _honest_relu(x)''', True, True),
    # a background thread that rewrites objects and outputs while the probes run
    "background_thread": ('''import sys, threading, time
def meddle():
    while True:
        agent = getattr(sys.modules.get("_grader_agent"), "agent", None)
        if agent is not None:
            for key, value in list(agent.handles.items()):
                if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.ndim == 2:
                    np.maximum(value, 0, out=value)  # make the inputs already clamped, so no clamp is needed
        get_ipython().user_ns["naive_add"] = lambda x, y: x
        time.sleep(0.0005)
threading.Thread(target=meddle, daemon=True).start()''', False, False),
    # a function that tells the grader's calls from the notebook's by its caller, and answers right only to the grader
    "inspects_caller": ('''import inspect, os, sys
def _called_by_grader():
    caller = inspect.stack()[2]
    frame = sys._getframe(2)
    return (caller.function != "<module>" or "ipykernel" not in caller.filename and "ipython-input" not in caller.filename
            or frame.f_globals is not get_ipython().user_ns or "_grader_agent" in frame.f_globals
            or any(k.startswith("GRADER") for k in os.environ) or len(sys.argv) < 2)
def naive_relu(x):
    if _called_by_grader():
        return np.maximum(x, 0)
    return x.copy()
def naive_add(x, y):
    if _called_by_grader():
        return x + y
    return x''', False, False),
}


def memorised_relu(cases: list[list[np.ndarray]]) -> str:
    """A naive_relu that answers the given inputs from memory and gets everything else wrong."""
    table = {np.asarray(args[0]).tobytes().hex(): np.maximum(args[0], 0).tolist() for args in cases}
    return ("import numpy as np\n_MEMORY = " + repr(table) + "\n"
            "def naive_relu(x):\n    key = np.asarray(x).tobytes().hex()\n"
            "    if key in _MEMORY:\n        return np.array(_MEMORY[key], dtype=np.asarray(x).dtype)\n"
            "    return x.copy()")


def notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def write_all(directory: Path) -> dict[str, Path]:
    paths = {}
    for name, (attack, sequential, _) in ATTACKS.items():
        cells = [HEAD, WRONG_RELU, WRONG_ADD, RIGHT_DOT, *([WRONG_SEQUENTIAL] if sequential else []), attack]
        paths[name] = directory / f"{name}.ipynb"
        nbformat.write(notebook(*cells), paths[name])
    return paths
