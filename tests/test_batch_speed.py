"""What makes a batch fast without changing a report: kernels primed with the batch's own spec, a kernel
ready as soon as it answers. No kernel starts here (the fast lane); the timing is `benchmarks/bench_batch.py`'s."""

from __future__ import annotations

import asyncio
from queue import Empty

import pytest

from grader import batch, grade
from grader.grade import grade_notebook
from grader.kernel import session
from grader.loader import load_assignment
from numpy_batch import numpy_batch


class _Asked(Exception):
    pass


class _RecordingPool:
    """Stands in for the kernel pool: records the spec a submission asks for, runs nothing."""

    def __init__(self):
        self.specs = []

    def run(self, spec, nb, probes, captures=None, *, ahead=True, progress=None):
        self.specs.append(spec)
        raise _Asked()


@pytest.mark.parametrize("limits", [{}, {"cell_timeout": 7.0, "notebook_timeout": 70.0, "memory_mb": 900}])
def test_the_spec_a_worker_primes_is_the_one_each_submission_asks_for(tmp_path, limits, monkeypatch):
    monkeypatch.setattr(grade, "reference_answers", lambda *args: None)  # no reference process: only the spec is looked at
    paths = numpy_batch(tmp_path / "subs", 3)
    assignment = load_assignment("dlwp-ch2")
    job_limits = {"cell_timeout": None, "notebook_timeout": None, "memory_mb": None, **limits,
                  "hidden": [str(tmp_path / "out"), str((tmp_path / "subs").resolve())],
                  "preload": batch.batch_preload(paths, assignment)}
    pool = _RecordingPool()
    for path in paths:
        with pytest.raises(_Asked):
            grade_notebook(path, "dlwp-ch2", **job_limits, pool=pool, ahead=1)
    primed = batch.worker_spec(assignment, job_limits)
    assert pool.specs == [primed] * len(paths)  # so the kernel started at the worker's start is taken, not discarded
    assert primed.limits.cell_timeout == (limits.get("cell_timeout") or assignment.limits.cell_timeout_s)


class _Channel:
    """A kernel client's channel whose messages arrive when `kernel_info` has been sent often enough."""

    def __init__(self, client, kind):
        self.client, self.kind = client, kind

    async def get_msg(self, timeout=None):
        while True:
            ready = self.client.deliverable(self.kind)
            if ready is not None:
                return ready
            if timeout is not None:
                await asyncio.sleep(min(timeout, 0.01))
                if self.client.deliverable(self.kind) is None:
                    raise Empty
            await asyncio.sleep(0.005)


class _Client:
    """A kernel that answers from its `boot`-th request and drops IOPub messages until its `subscribed`-th."""

    def __init__(self, boot: int = 1, subscribed: int = 1):
        self.boot, self.subscribed = boot, subscribed
        self.sent: list[str] = []
        self.queues = {"shell": [], "iopub": []}
        self.shell_channel, self.iopub_channel = _Channel(self, "shell"), _Channel(self, "iopub")
        self.handled = None

    def kernel_info(self):
        msg_id = f"req{len(self.sent)}"
        self.sent.append(msg_id)
        if len(self.sent) >= self.boot:
            self.queues["shell"].append({"msg_type": "kernel_info_reply", "parent_header": {"msg_id": msg_id}, "content": {}})
            if len(self.sent) >= self.subscribed:
                self.queues["iopub"].append({"msg_type": "status", "parent_header": {"msg_id": msg_id},
                                             "content": {"execution_state": "idle"}})
        return msg_id

    def deliverable(self, kind):
        return self.queues[kind].pop(0) if self.queues[kind] else None

    async def _async_is_alive(self):
        return True

    def _handle_kernel_info_reply(self, msg):
        self.handled = msg


def test_a_kernel_is_ready_as_soon_as_it_answers_and_its_iopub_delivers():
    client = _Client()
    asyncio.run(session._wait_until_ready(client, 10))
    assert client.sent == ["req0"] and client.handled["parent_header"]["msg_id"] == "req0"


def test_a_kernel_whose_iopub_missed_the_first_status_is_asked_again_until_it_delivers():
    client = _Client(subscribed=3)  # IOPub not subscribed yet when the first two statuses went out
    asyncio.run(session._wait_until_ready(client, 10))
    assert len(client.sent) == 3 and client.handled is not None  # asked again (every 0.05 s) until a status came through


def test_a_kernel_that_never_answers_is_reported_as_jupyter_client_reports_it():
    client = _Client(boot=10**6)
    with pytest.raises(RuntimeError, match="didn't respond"):  # the session tells a slow machine by this phrase
        asyncio.run(session._wait_until_ready(client, 0.3))


# --- fewer cells, same observations -----------------------------------------------------------------

import numpy as np  # noqa: E402

from grader.checks import KINDS  # noqa: E402
from grader.kernel import agent  # noqa: E402
from grader.probes import protocol as p  # noqa: E402
from grader.probes.context import Context, Forged, OperationFailed, observation, raised_marker, received  # noqa: E402
from grader.probes.executor import LocalExecutor  # noqa: E402
from grader.probes.registry import run_request  # noqa: E402
from grader.values import parse_observations  # noqa: E402


class Counting(LocalExecutor):
    """The in-process executor, keeping each operation it carried out (a batch's as one)."""

    def __init__(self, namespace):
        super().__init__(namespace)
        self.ops = []

    def send(self, operation):
        self.ops.append(operation.op)
        return super().send(operation)


def _one_by_one(target, ctx):
    """call_function as it was: a cell per put, per call and per value read."""
    results = []
    for args in ctx.inputs["cases"]:
        arguments = [ctx._handle(ctx._send(p.Put(value=agent.encode(a)))) for a in args]
        output = ctx.attempt(f"calling with {len(args)} argument(s)", target, *arguments)
        results.append({"output": output, "args_after": [ctx.value(a) for a in arguments]})
    ctx.observed["cases"] = results


FUNCTIONS = {
    "right": "def f(x, y=None):\n    return x * 2 if y is None else x + y",
    "mutates": "def f(x, y=None):\n    x += 1\n    return x",
    "raises": "def f(x, y=None):\n    raise ValueError('no')",
    "raises_after_mutating": "def f(x, y=None):\n    x[...] = 0\n    raise IndexError('late')",
    "returns_an_object": "def f(x, y=None):\n    return object",
}


@pytest.mark.parametrize("code", sorted(FUNCTIONS))
def test_a_call_takes_its_inputs_along_and_brings_them_back_observed_as_before(code):
    from grader.probes.calls import call_function

    cases = [[np.arange(6.0).reshape(2, 3)], [np.ones((2, 2)), np.full((2, 2), 3.0)], [np.float32(2.5)]]
    observed = {}
    for name, probe in (("before", _one_by_one), ("now", call_function)):
        namespace: dict = {}
        exec(FUNCTIONS[code], namespace)
        executor = Counting(namespace)
        ctx = Context(executor, inputs=cases)
        ctx.inputs = {"cases": cases}
        _, target = ctx.lookup("f")
        probe(target, ctx)
        observed[name] = (parse_observations({"observations": {"cases": observation(ctx.observed["cases"])}}), executor.ops)
    (before, ops_before), (now, ops_now) = observed["before"], observed["now"]
    assert repr(now) == repr(before)  # the same outputs and arguments afterwards, arrays and dtypes included
    raised = "raises" in code
    assert ops_now[:2] == ["lookup", "calls"] and "put" not in ops_now and "call" not in ops_now  # the 3 calls in one cell
    assert len(ops_now) == 2 + (3 if raised else 0) and len(ops_before) == 1 + 3 + 2 * 4  # 3 calls, 4 arguments


def test_dlwp_function_items_observe_the_same_in_fewer_operations():
    assignment = load_assignment("dlwp-ch2")
    namespace: dict = {"np": np}
    exec("def naive_relu(x):\n    x = x.copy()\n    return np.maximum(x, 0)\n"
         "def naive_add(x, y):\n    x += y\n    return x\n"
         "def naive_vector_dot(x, y):\n    return float(np.dot(x, y))", namespace)
    for item in assignment.items:
        if item.id not in ("naive_relu", "naive_add", "naive_vector_dot"):
            continue
        (probe,) = KINDS[item.kind].probes(item, assignment, [])
        executor = Counting(dict(namespace))
        response = run_request(probe.request, executor)
        cases = probe.request["inputs"]
        assert len(agent.decode(cases)["cases"]) > 1
        assert executor.ops == ["lookup", "calls"], item.id  # a lookup, then one cell for every case
        assert response["found"] == item.id and "error" not in response


def test_a_batch_stops_at_the_first_operation_that_raises():
    class Box:
        touched = False

    box = Box()
    executor = Counting({"box": box})
    ctx = Context(executor)
    _, handle = ctx.lookup("box")
    with pytest.raises(OperationFailed):
        executor.send_all([p.Value(target=handle.target), p.Get(target=handle.nothing.target),
                           p.SetAttr(target=handle.target, name="touched", value=True)])
    assert box.touched is False  # as if each had been sent alone: nothing after the failure was carried out
    assert ctx.values([handle.touched, handle.touched]) == [False, False] and executor.ops[-1] == "batch"


def test_a_batch_answer_that_leaves_an_operation_out_is_refused_as_forged():
    class Truncating(LocalExecutor):
        def send(self, operation):
            answer = super().send(operation)
            if operation.op == "batch":
                answer["answers"] = answer["answers"][:1]
            return answer

    executor = Truncating({"a": 1, "b": 2})
    ctx = Context(executor)
    (_, a), (_, b) = ctx.lookup("a"), ctx.lookup("b")
    with pytest.raises(Forged):
        ctx.values([a, b])
    assert executor.signals and "batch" in executor.signals[0]


def test_kept_values_need_a_fresh_negative_handle():
    handles: dict = {5: "agent's"}
    assert agent.decode({"__keep__": -1, "value": [1, 2]}, handles) == [1, 2] and handles[-1] == [1, 2]
    for bad in (-1, 5, 0, True, "x"):
        with pytest.raises(ValueError):
            agent.decode({"__keep__": bad, "value": 1}, handles)
    assert agent.decode({"__keep__": -2, "value": 1}) == {"__keep__": -2, "value": 1}  # grader side: data, not a handle


def test_put_data_reaches_an_operation_that_is_not_a_call_too():
    executor = Counting({})
    ctx = Context(executor)
    kept = ctx.put(np.arange(3))
    assert executor.ops == []  # nothing sent yet
    assert list(ctx.value(kept)) == [0, 1, 2] and executor.ops == ["put", "value"]
    assert ctx.values([kept, kept])[1].tolist() == [0, 1, 2] and executor.ops[-1] == "batch"
    assert received(agent.encode([1])) == [1] and raised_marker("d", "E", "v")["__raised__"]["ename"] == "E"


def test_one_notebooks_kernel_started_before_preparing_is_the_one_it_asks_for(tmp_path, monkeypatch):
    from grader import early_kernel as early_module

    class Primed(_RecordingPool):
        made, primed, closed = [], [], []

        def __init__(self):
            super().__init__()
            self.made.append(self)

        def prime(self, spec, count=1):
            self.primed.append(spec)

        def close(self):
            self.closed.append(True)

    monkeypatch.setattr(early_module, "KernelPool", Primed)
    monkeypatch.setattr(grade, "reference_answers", lambda *args: None)
    (path,) = numpy_batch(tmp_path / "one", 1)
    limits = {"cell_timeout": 9.0, "notebook_timeout": None, "memory_mb": None}
    with pytest.raises(_Asked):
        grade.grade_path(path, "dlwp-ch2", early=True, **limits)
    (pool,) = Primed.made
    assert pool.specs == Primed.primed and len(Primed.primed) == 1  # the kernel started early is the one the run takes
    assert Primed.closed == [True]
    with pytest.raises(_Asked):  # detected: the kernel still starts before the grader prepares
        grade.grade_path(path, None, early=True, **limits)
    assert len(Primed.made) == 2 and Primed.made[1].specs == Primed.primed[1:]
    rejected = grade.grade_path(tmp_path / "missing.ipynb", "dlwp-ch2", early=True, **limits)
    assert rejected.report.status == "rejected" and len(Primed.made) == 2  # nothing started: the one sentence that says why