"""The kernel wall on its own, without a kernel: values, the one-answer rule, each operation, probes in-process."""

import io
import json
import shutil
import sys

import numpy as np
import pytest

from grader.checks import KINDS
from grader.grade import plan_probes
from grader.kernel import agent
from grader.notebook import load, prepare
from grader.probes import protocol as p
from grader.probes.context import Context, Forged, Handle, OperationFailed, ReferenceLeak, StudentError, observation, received
from grader.probes.executor import AGENT_MODULE, LocalExecutor, install_cell, operation_cell, read_answer
from grader.probes.reference_code import sliced
from grader.probes.registry import all_probes, probe_spec, run_request, ships
from grader.loader import load_assignment
from grader.values import Foreign, Malformed, Raised, parse_observations

from conftest import NOTEBOOKS

ROOT = NOTEBOOKS.parent.parent


def ctx_over(namespace: dict, **fields) -> Context:
    return Context(LocalExecutor(namespace), **fields)


# --- values ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    np.arange(6, dtype="int64").reshape(2, 3), np.float32(2.5), np.array(3.0), np.zeros((0, 4)), np.array([1 + 2j]),
])
def test_arrays_round_trip_with_shape_and_dtype(value):
    back = agent.decode(agent.encode(value))
    assert isinstance(back, np.ndarray) and back.shape == np.shape(value) and back.dtype == np.asarray(value).dtype
    assert np.array_equal(back, value)


def test_nested_values_round_trip():
    value = {"a": [1, 2.5, (3, "x")], "b": None, "c": True}
    assert agent.decode(agent.encode(value)) == {"a": [1, 2.5, (3, "x")], "b": None, "c": True}
    assert agent.decode(agent.encode(float("nan"))) != agent.decode(agent.encode(float("nan")))  # nan stays nan
    assert agent.decode(agent.encode(float("inf"))) == float("inf")


def test_objects_and_huge_arrays_travel_as_type_and_repr():
    class Thing:
        def __repr__(self):
            raise RuntimeError("no")

    encoded = agent.encode(Thing())
    assert encoded["__object__"]["type"].endswith("Thing") and "unprintable" in encoded["__object__"]["repr"]
    assert "too large" in agent.encode(np.zeros(3_000_000))["__object__"]["repr"]
    assert agent.encode(np.array(["a", "b"]))["__object__"]["type"].startswith("ndarray")


def test_pickled_arrays_are_refused_by_both_readers():
    buffer = io.BytesIO()
    np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
    import base64
    wire = {"__npy__": base64.b64encode(buffer.getvalue()).decode()}
    with pytest.raises(ValueError):
        agent.decode(wire)
    with pytest.raises(Malformed):
        parse_observations({"observations": {"x": wire}})


def test_received_keeps_objects_opaque_and_observation_keeps_them_as_sent():
    sent = {"__seq__": [{"__object__": {"type": "Foo", "repr": "Foo()"}}, agent.encode(np.ones(2))], "tuple": False}
    value = received(sent)
    parsed = parse_observations({"observations": {"v": observation(value)}})["v"]
    assert isinstance(parsed[0], Foreign) and parsed[0].type == "Foo"
    assert np.array_equal(parsed[1], np.ones(2))


def test_raised_markers_survive_observation():
    marker = {"__raised__": {"during": "calling it", "ename": "ValueError", "evalue": "bad"}}
    assert isinstance(parse_observations({"observations": {"v": observation(marker)}})["v"], Raised)


# --- the one-answer rule -----------------------------------------------------------------------------

def _display(token: str, answer: dict) -> dict:
    return {"output_type": "display_data", "data": {agent.MIME: {"token": token, "answer": answer}}, "metadata": {}}


def test_exactly_one_answer_with_the_token_is_accepted():
    signals: list[str] = []
    answer = read_answer([{"output_type": "stream", "text": "hi"}, _display("t1", {"ok": {"handle": 3}})], {"status": "ok"}, "t1", signals, "get")
    assert answer.ok == {"handle": 3} and signals == []


def test_a_second_answer_is_refused_and_recorded():
    signals: list[str] = []
    outputs = [_display("t1", {"ok": {"value": 1}}), _display("t1", {"ok": {"value": 2}})]
    with pytest.raises(Forged):
        read_answer(outputs, {"status": "ok"}, "t1", signals, "value")
    assert signals and "2 answers" in signals[0]


def test_another_tokens_answer_is_refused_and_recorded():
    signals: list[str] = []
    with pytest.raises(Forged):
        read_answer([_display("other", {"ok": {}})], {"status": "ok"}, "t1", signals, "value")
    assert "token" in signals[0]


def test_a_malformed_answer_is_refused_and_recorded():
    signals: list[str] = []
    with pytest.raises(Forged):
        read_answer([_display("t1", {"ok": {}, "verdict": "pass"})], {"status": "ok"}, "t1", signals, "value")
    assert "malformed" in signals[0]


def test_no_answer_after_an_error_is_what_the_code_under_test_raised():
    answer = read_answer([], {"status": "error", "ename": "ValueError", "evalue": "x"}, "t1", [], "call")
    assert answer.raised.ename == "ValueError" and answer.raised.student


def test_no_answer_without_an_error_is_a_signal():
    signals: list[str] = []
    with pytest.raises(Forged):
        read_answer([], {"status": "ok"}, "t1", signals, "call")
    assert "no answer" in signals[0]


def test_requests_and_envelopes_are_validated_by_the_models():
    request = p.Request(token="t", operation=p.Call(target=p.Target(handle=1), args=[1], fetch=True))
    assert p.Request.model_validate(request.model_dump()) == request
    with pytest.raises(Exception):
        p.Request.model_validate({"token": "t", "operation": {"op": "exec", "code": "1"}})
    schema = json.loads(p.protocol_schema())
    assert {"request", "envelope"} <= set(schema)


# --- each operation, in-process --------------------------------------------------------------------

class Box:
    def __init__(self):
        self.items = [1, 2, 3]
        self.W = np.ones((2, 2))

    def grow(self, n):
        self.items.append(n)
        return len(self.items)


def test_lookup_put_call_value_and_get_paths():
    ctx = ctx_over({"box": Box(), "f": lambda x: x * 2})
    assert ctx.lookup("nothing") == (None, None)
    name, box = ctx.lookup("missing", "box")
    assert name == "box" and isinstance(box, Handle)
    assert ctx.value(box.items[1]) == 2 and ctx.value(box.items[1:]) == [2, 3]
    assert ctx.value(ctx.call("", box.grow, 9)) == 4
    _, f = ctx.lookup("f")
    assert np.array_equal(ctx.attempt("f(x)", f, np.arange(3)), [0, 2, 4])
    pinned = ctx.get(box.items)
    ctx.call("", box.grow, 10)
    assert ctx.value(pinned)[-1] == 10


def test_a_raising_call_is_the_code_under_tests_error():
    ctx = ctx_over({"f": lambda: 1 / 0})
    _, f = ctx.lookup("f")
    with pytest.raises(StudentError) as err:
        ctx.call("f()", f)
    assert err.value.ename == "ZeroDivisionError" and err.value.during == "f()"
    assert ctx.attempt("f()", f)["__raised__"]["ename"] == "ZeroDivisionError"


def test_a_failing_operation_is_not_a_call_error():
    ctx = ctx_over({"box": Box()})
    _, box = ctx.lookup("box")
    with pytest.raises(OperationFailed):
        ctx.value(box.nothing)


def test_describe_items_vars_ids_and_scan():
    ctx = ctx_over({"box": Box(), "n": 3})
    _, box = ctx.lookup("box")
    described = ctx.describe(box, "grow", "fly")
    assert described["type"] == "Box" and described["has"] == {"grow": True, "fly": False} and not described["is_class"]
    assert ctx.describe(box.W)["shape"] == [2, 2] and ctx.isa(box.W, "ndarray")
    assert [ctx.value(h) for h in ctx.items(box.items)] == [1, 2, 3]
    assert set(ctx.vars(box)) == {"items", "W"}
    first, again = ctx.ids([box.items, box.items])
    assert first == again
    assert set(ctx.ids_of(ctx.namespace())) == {"box", "n"}
    assert set(ctx.scan("grow")) == {"box"}


def test_substitute_binds_and_restores_names():
    namespace = {"helper": lambda: "student"}
    exec("def uses_helper():\n    return helper()", namespace)
    ctx = ctx_over(namespace)
    _, fn = ctx.lookup("uses_helper")
    other = ctx.put("reference")
    swap = ctx.call("", ctx.kernel("builtins", "str").upper, other)
    with ctx.substitute(helper=ctx.call("", ctx.kernel("functools", "partial"), ctx.kernel("builtins", "str"), swap)):
        assert ctx.value(ctx.call("", fn)) == "REFERENCE"
    assert ctx.value(ctx.call("", fn)) == "student"
    with ctx.substitute(brand_new=other):
        assert "brand_new" in namespace
    assert "brand_new" not in namespace


def test_setattr_and_spy():
    ctx = ctx_over({"box": Box()})
    _, box = ctx.lookup("box")
    ctx.setattr(box, "label", "x")
    assert ctx.value(box.label) == "x"
    spy, log = ctx.spy(box.grow)
    ctx.call("", spy, [1, 2])
    entries = ctx.value(log)
    assert entries[0]["arg_lengths"] == [2] and entries[0]["result"] == 4


def test_reference_ships_only_the_names_asked_for_and_what_they_use():
    source, kept = sliced("from_scratch", ["update_weights"])
    assert kept == {"update_weights", "learning_rate"}
    assert "def update_weights" in source and "class NaiveDense" not in source and "def fit" not in source
    source, kept = sliced("from_scratch", ["make_model"])
    assert kept == {"make_model", "NaiveDense", "NaiveSequential"}
    with pytest.raises(KeyError):
        sliced("from_scratch", ["nothing_of_that_name"])


def test_reference_code_for_an_unchecked_item_is_refused():
    ctx = ctx_over({}, reference_module="from_scratch", forbidden=frozenset({"NaiveSequential"}))
    with pytest.raises(ReferenceLeak):
        ctx.reference("NaiveSequential")
    with pytest.raises(ReferenceLeak):  # it would come along with make_model
        ctx.reference("make_model")
    with pytest.raises(ReferenceLeak):
        ctx_over({}, reference_module="tensor_ops", may_ship=False).reference("naive_relu")
    handles = ctx_over({}, reference_module="tensor_ops").reference("naive_relu")
    assert set(handles) == {"naive_relu", "__module__"}


# --- calls come from a cell frame ------------------------------------------------------------------

def test_a_call_is_made_from_a_frame_of_the_notebooks_namespace(monkeypatch):
    """The operation's cell calls the function itself: its caller is module-level code over the notebook's globals."""
    seen = {}
    namespace = {"__name__": "__main__"}
    exec("import sys\ndef probe_me(x):\n    caller = sys._getframe(1)\n"
         "    seen['name'] = caller.f_code.co_name\n    seen['globals'] = caller.f_globals is globals()\n    return x", namespace)
    namespace["seen"] = seen
    answers = []
    agent_ = agent.install(AGENT_MODULE, namespace, send=lambda token, answer: answers.append((token, answer)))
    try:
        lookup = p.Request(token="t0", operation=p.Lookup(names=["probe_me"])).model_dump()
        exec(operation_cell(lookup), namespace)
        handle = answers[-1][1]["ok"]["handle"]
        call = p.Request(token="t1", operation=p.Call(target=p.Target(handle=handle), args=[5], fetch=True)).model_dump()
        exec(compile(operation_cell(call), "/tmp/ipykernel_1/123.py", "exec"), namespace)
    finally:
        del sys.modules[AGENT_MODULE]
    assert answers[-1][0] == "t1" and answers[-1][1]["ok"]["value"] == 5
    assert seen == {"name": "<module>", "globals": True}
    assert agent_.args == ()
    assert "probe" not in install_cell().split("install(")[-1]  # the agent is given no item, probe or reference


# --- probes, in-process ----------------------------------------------------------------------------

def test_every_probe_declares_what_it_observes():
    probes = all_probes()
    assert {"calls.call_function", "from_scratch.fit", "training.replay_cell", "keras_layers.subclass"} <= set(probes)
    for name, spec in probes.items():
        assert spec.observes, name


def _request(assignment_id: str, item_id: str) -> dict:
    assignment = load_assignment(assignment_id)
    item = next(i for i in assignment.items if i.id == item_id)
    (probe,) = KINDS[item.kind].probes(item, assignment, [])
    return probe.request


def test_function_probe_on_a_wrong_function_in_process():
    request = _request("dlwp-ch2", "naive_relu")
    namespace = {"np": np}
    exec("def naive_relu(x):\n    x = x.copy()\n    return x", namespace)
    response = run_request(request, LocalExecutor(namespace))
    assert response["found"] == "naive_relu"
    cases = parse_observations(response)["cases"]
    assert len(cases) == 4 and np.array_equal(cases[0]["output"], cases[0]["args_after"][0])


def test_behaviour_probe_on_a_batch_generator_in_process():
    request = _request("dlwp-ch2", "batch_generator")
    namespace: dict = {}
    exec("class BatchGenerator:\n    def __init__(self, images, labels, batch_size=128):\n"
         "        self.images, self.labels, self.batch_size, self.index = images, labels, batch_size, 0\n"
         "        self.num_batches = len(images) // batch_size\n"
         "    def next(self):\n        i = self.index\n        self.index += self.batch_size\n"
         "        return self.images[i:i + self.batch_size], self.labels[i:i + self.batch_size]", namespace)
    observed = parse_observations(run_request(request, LocalExecutor(namespace)))
    assert observed["num_batches"] == 2  # floor, not ceil: the rule will fail it
    assert [len(b[0]) for b in observed["batches"]] == [4, 4, 2] and observed["num_batches_default"] == 2


def test_a_missing_name_is_found_none():
    assert run_request(_request("dlwp-ch2", "naive_add"), LocalExecutor({})) == {"found": None}


def test_activation_probe_in_process():
    request = _request("dnn-backprop", "tanh")
    namespace = {"np": np}
    exec("class Tanh:\n    def __call__(self, x):\n        self.y = np.tanh(x)\n        return self.y\n"
         "    def grad(self):\n        return 1 - self.y ** 2", namespace)
    observed = parse_observations(run_request(request, LocalExecutor(namespace)))
    assert observed["output"].shape == (4, 5) and np.allclose(observed["grad"], 1 - observed["output"] ** 2)
    assert np.array_equal(observed["large_output"], np.tanh(observed["large_inputs"]))


# --- the plan: which reference code reaches a kernel, and when --------------------------------------

@pytest.mark.parametrize("assignment_id", ["dlwp-ch2", "lab01-math", "dnn-backprop", "mit-lab1", "week3-questions"])
def test_no_probe_ships_the_reference_of_an_item_not_yet_checked(assignment_id):
    assignment = load_assignment(assignment_id)
    nb = prepare(load(NOTEBOOKS / "dlwp-ch2_walkthrough.ipynb").nb)
    probes = {item.id: KINDS[item.kind].probes(item, assignment, []) for item in assignment.items}
    after, _ = plan_probes(nb, assignment, probes)
    requests = {probe.key: probe.request for found in probes.values() for probe in found}
    checked = set()
    for call in after:
        request = requests[call.key]
        target = request.get("reference_target")
        shipped = set(ships(request))
        if shipped:
            _, kept = sliced(request["reference"], shipped, request.get("folder"))
            shipped |= kept
        pending = {requests[c.key].get("reference_target") for c in after if c.key not in checked}
        assert not shipped & pending, (call.key, shipped & pending)
        assert target not in shipped
        checked.add(call.key)
    first_shipping = next((i for i, c in enumerate(after) if ships(requests[c.key])), len(after))
    assert all(not ships(requests[c.key]) for c in after[:first_shipping])
    assert all(probe_spec(requests[c.key]["probe"]) for c in after)


# --- the contract between probes and rules -----------------------------------------------------------

def _with_check(tmp_path, old: str, new: str):
    from grader.rubric import RubricError
    from grader.loader import load_rubric

    text = (ROOT / "assignments" / "dlwp-ch2" / "rubric.toml").read_text()
    assert old in text
    (tmp_path / "rubric.toml").write_text(text.replace(old, new, 1))
    shutil.copy(ROOT / "assignments" / "dlwp-ch2" / "checks.py", tmp_path)  # the folder's own probes come with it
    with pytest.raises(RubricError) as err:
        load_rubric(tmp_path / "rubric.toml")
    return str(err.value)


def test_a_check_that_observes_what_its_probe_does_not_record_is_refused(tmp_path):
    message = _with_check(tmp_path, 'observe = "weights_order"', 'observe = "weight_order"')
    assert "rubric.toml" in message and "naive_sequential" in message and "observe" in message
    assert "observes no 'weight_order'" in message and "weights_order" in message


def test_a_rule_fed_the_wrong_kind_of_value_is_refused(tmp_path):
    message = _with_check(tmp_path, 'observe = "step_losses"\nrule = "decreasing"', 'observe = "weights_after"\nrule = "decreasing"')
    assert "fit" in message and "decreasing reads numbers" in message and "'weights_after' as arrays" in message


def test_every_rule_declares_what_it_reads():
    from grader.checks.rules import RULES

    assert all(getattr(fn, "reads", None) is not None and fn.reads.kinds for fn in RULES.values())


def test_probes_record_only_what_they_declare():
    request = _request("dlwp-ch2", "naive_relu")
    namespace = {"np": np}
    exec("def naive_relu(x):\n    return np.maximum(x, 0)", namespace)
    observed = run_request(request, LocalExecutor(namespace))["observations"]
    assert set(observed) <= set(probe_spec(request["probe"]).observes)
