"""Attacks by someone who has read the grader: every wrong item still fails, every right item still passes."""

from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from grader.checks.function import make_cases
from grader.grade import grade_notebook
from grader.probes import executor as executor_module
from grader.probes.reference_code import reference_source
from grader.loader import load_assignment

from .trusted import ATTACKS, RIGHT, RIGHT_DOT, WRONG, memorised_relu, notebook, write_all

pytestmark = pytest.mark.kernel  # every test here starts a kernel or a grader process


def _grade(path, out, *args):
    return subprocess.run([sys.executable, "-m", "grader", str(path), "-a", "dlwp-ch2", *args],
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    src = tmp_path_factory.mktemp("trusted")
    out = tmp_path_factory.mktemp("trusted-reports")
    write_all(src)
    cases = make_cases(next(i for i in load_assignment("dlwp-ch2").items if i.id == "naive_relu"), load_assignment("dlwp-ch2").seed)
    nbformat.write(notebook(memorised_relu(cases)), src / "memorised.ipynb")
    proc = _grade(src, out, "--out", str(out), "--workers", "2", "--no-warm", "--cell-timeout", "30")
    public = _grade(src / "memorised.ipynb", out, "--public-seed", "--json", str(out / "memorised-public.json"))
    reports = {path.stem: json.loads(path.read_text()) for path in out.glob("*.json")}
    return {"proc": proc, "public": public, "reports": reports}


def status(report, item):
    return next(i["status"] for i in report["items"] if i["id"] == item)


def test_the_batch_grades_every_attack(attacked):
    assert attacked["proc"].returncode == 0, attacked["proc"].stderr[-2000:]
    assert set(ATTACKS) | {"memorised"} <= set(attacked["reports"])


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_wrong_items_still_fail_and_right_items_still_pass(attacked, name):
    report = attacked["reports"][name]
    for item in WRONG:
        assert status(report, item) != "pass", (name, item, report["items"])
    if ATTACKS[name][1]:
        assert status(report, "naive_sequential") != "pass", name
    for item in RIGHT:
        assert status(report, item) == "pass", (name, item)


@pytest.mark.parametrize("name", sorted(n for n, (_, _, forges) in ATTACKS.items() if forges))
def test_a_forged_message_is_flagged_in_the_report(attacked, name):
    report = attacked["reports"][name]
    assert report["tampering"], name
    flagged = {i["id"] for i in report["items"] if i["flags"]}
    assert flagged & {"naive_relu", "naive_add", "naive_sequential"}, (name, flagged)
    assert not flagged & set(RIGHT)


def test_honest_notebooks_raise_no_flag(attacked):
    for name in ("rebound_builtins", "background_thread", "inspects_caller", "memorised"):
        assert not attacked["reports"][name]["tampering"], name


def test_memorised_public_inputs_fail_with_the_instructors_secret(attacked):
    graded = attacked["reports"]["memorised"]
    assert graded["inputs"]["seed"] == "secret" and graded["inputs"]["secret_digest"]
    assert status(graded, "naive_relu") == "fail"
    assert attacked["public"].returncode == 0, attacked["public"].stderr[-2000:]
    public = attacked["reports"]["memorised-public"]
    assert public["inputs"]["seed"] == "public"
    assert status(public, "naive_relu") == "pass"  # what memorising the public inputs would have earned


def test_no_reference_code_reaches_the_kernel_for_items_that_do_not_need_it(tmp_path, monkeypatch):
    sent = []
    real_init = executor_module.KernelExecutor.__init__

    def recording_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        sent.append(self.sent)

    monkeypatch.setattr(executor_module.KernelExecutor, "__init__", recording_init)
    path = tmp_path / "numpy_items.ipynb"
    nbformat.write(notebook("import numpy as np", "def naive_relu(x):\n    return np.maximum(x, 0)", RIGHT_DOT,
                            "def naive_matrix_vector_dot(x, y):\n    return np.array([naive_vector_dot(row, y) for row in x])"), path)
    report = grade_notebook(path, "dlwp-ch2")
    assert {i.id: i.status for i in report.items if i.id in ("naive_relu", "naive_vector_dot", "naive_matrix_vector_dot")} == \
        {"naive_relu": "pass", "naive_vector_dot": "pass", "naive_matrix_vector_dot": "pass"}
    requests = [request for executor in sent for request in executor]
    shipped = [r["operation"] for r in requests if r["operation"]["op"] == "reference"]
    assert len(shipped) == 1 and set(shipped[0]["names"]) <= {"naive_vector_dot", "naive_vector_product"}  # only for the item that uses it
    assert "def naive_vector_dot" in shipped[0]["source"] and "naive_matrix_vector_dot" not in shipped[0]["source"]
    others = json.dumps([r for r in requests if r["operation"]["op"] != "reference"])
    assert "np.maximum(x, 0)" not in others and "def " not in others
    assert "return np.maximum(x, 0)" in reference_source("tensor_ops")
    assert all(i.round_trips for i in report.items if i.status == "pass")
