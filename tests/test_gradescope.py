"""Gradescope: results.json by the specification, without leaks, and run_autograder within the container's limits.

The five samples' reports are the real grader's, graded once with their own
assignments and kept in tests/fixtures/reports (see its README), so the
export is checked on them without starting a kernel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.autograder import AutograderConfig, ContainerLimits, plan, read_limits, run
from grader.export.gradescope import GradescopeResults, to_gradescope
from grader.export.public_view import student_view
from grader.render import render_html
from grader.report import Report
from grader.loader import load_assignment

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = {"dlwp-ch2_walkthrough": "dlwp-ch2", "week3_practice": "week3-questions", "lab01_math": "lab01-math",
           "dnn_backprop_review": "dnn-backprop", "mit_lab1_tensorflow": "mit-lab1"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def sample_report(stem: str) -> Report:
    return Report.model_validate_json((FIXTURES / "reports" / f"{stem}.json").read_text())


def check_documented_fields(results: dict) -> None:
    """The autograder specification's results.json, checked field by field (independently of our model)."""
    allowed = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format", "visibility",
               "stdout_visibility", "extra_data", "tests", "leaderboard"}
    assert set(results) <= allowed, set(results) - allowed
    assert isinstance(results["score"], (int, float)) and isinstance(results.get("execution_time", 0), (int, float))
    assert isinstance(results["output"], str)
    assert results.get("visibility", "visible") in VISIBILITY and results.get("stdout_visibility", "visible") in VISIBILITY
    for key in ("output_format", "test_output_format", "test_name_format"):
        assert results.get(key, "text") in FORMATS
    test_fields = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags", "visibility", "extra_data"}
    for test in results.get("tests", []):
        assert set(test) <= test_fields, set(test) - test_fields
        assert test.get("visibility", "visible") in VISIBILITY and test.get("name_format", "text") in FORMATS
        assert isinstance(test.get("tags", []), list) and isinstance(test.get("number", ""), str)
        if "score" in test:  # a graded test; a manual one has no score and no status
            assert 0 <= test["score"] <= test["max_score"] and test["status"] in ("passed", "failed")
            assert (test["status"] == "passed") == (test["score"] == test["max_score"])
        else:
            assert "status" not in test and "manual" in test["tags"]
    deducted = (results.get("extra_data") or {}).get("late", {}).get("points_deducted", 0)
    if results.get("tests"):
        assert results["score"] == pytest.approx(sum(t.get("score", 0) for t in results["tests"]) - deducted)


def secrets(report: Report, assignment) -> set[str]:
    """Every string of a hidden check or hidden item, found from the rubric alone (not from the export's own split)."""
    hidden, public = set(), set()
    for item in assignment.items:
        if item.id not in {i.id for i in report.items}:
            continue
        result = report.item(item.id)
        flags = {c.name: (item.public if c.public is None else c.public) for c in [*getattr(item, "checks", []), *getattr(item, "cases", [])]}
        wholly_hidden = not item.public and not any(flags.values())
        if result.checks and flags:  # the report names its checks as the rubric does: else nothing could be kept apart
            assert {n for n, shown in flags.items() if not shown} <= {c.name for c in result.checks}, item.id
        for check in result.checks:
            values = {v for v in (check.name, check.message, check.expected, check.actual) if v}
            (hidden if wholly_hidden or not flags.get(check.name, item.public) else public).update(values)
        if wholly_hidden:
            hidden |= {item.id, item.title, result.feedback}
        elif all(flags.values()):  # (the feedback of an item with hidden checks may quote them: not public)
            public.add(result.feedback)  # "All checks passed." is no secret of a hidden item that passed too
    # a value that a public check shows as well (e.g. the same output shape) is no secret of the hidden one
    return {s for s in hidden - public if len(s) >= 6 and not any(s in p for p in public)}


def visible_text(results: dict) -> str:
    shown = [t for t in results["tests"] if t.get("visibility", "visible") == "visible"]
    return "\n".join([results["output"], *(f"{t.get('name', '')}\n{t.get('output', '')}\n{json.dumps(t.get('extra_data'))}" for t in shown)])


def test_results_for_the_five_samples_follow_the_specification_and_leak_nothing():
    for stem, assignment_id in SAMPLES.items():
        report, assignment = sample_report(stem), load_assignment(SAMPLES[stem])
        results = json.loads(to_gradescope(report, assignment).to_json())
        check_documented_fields(results)
        GradescopeResults.model_validate(results)
        assert results["output_format"] == "md" and results["test_output_format"] == "md"
        # every item has its test(s), in the rubric's order, numbered 1, 2, … (an item cut in two: 3.1 and 3.2)
        assert list(dict.fromkeys(t["extra_data"]["item"] for t in results["tests"])) == [i.id for i in report.items]
        assert all(t["number"].split(".")[0] == str([i.id for i in report.items].index(t["extra_data"]["item"]) + 1) for t in results["tests"])
        text = visible_text(results)
        leaked = [s for s in secrets(report, assignment) if s in text]
        assert not leaked, (stem, leaked)
        hidden_items = {i.id for i in assignment.items if not i.public} & {i.id for i in report.items}
        for test in results["tests"]:
            if test["extra_data"]["item"] in hidden_items:
                assert test["visibility"] == "after_published" and test["extra_data"]["part"] == "hidden"
        for item in report.items:
            if item.status == "manual":  # a test without a score, saying a person grades it
                test = next(t for t in results["tests"] if t["extra_data"]["item"] == item.id)
                assert "score" not in test and "A person will grade this answer" in test["output"]
    lab01 = json.loads(to_gradescope(sample_report("lab01_math")).to_json())
    sequential = next(t for t in lab01["tests"] if t["extra_data"]["item"] == "naive_sequential")
    assert sequential["status"] == "failed" and sequential["visibility"] == "after_published"
    assert "Is the `return` inside the for loop?" in sequential["output"] and "cell 47" in sequential["output"]
    assert "naive_sequential" not in visible_text(lab01)
    week3 = json.loads(to_gradescope(sample_report("week3_practice")).to_json())
    assert week3["score"] == 3 and "4 answer(s) worth 4 points will be graded by a person" in week3["output"]


def test_a_failed_hidden_check_of_a_public_item_stays_out_of_its_visible_test():
    """naive_dense's softmax check is hidden: failed, its name, values and the grader's sentence go to the second test only."""
    report = sample_report("dlwp-ch2_walkthrough")
    dense = report.item("naive_dense")
    softmax = next(c for c in dense.checks if c.name == "layer(x) with softmax")
    softmax.passed, softmax.message = False, "layer(x) returned values off by 0.3141 on the softmax input"
    softmax.expected, softmax.actual = "shape (4, 3) float32: [[0.1234, 0.5678]]", "shape (4, 3) float32: [[0.4375, 0.8819]]"
    dense.status, dense.score = "fail", 1.5
    dense.feedback = f"{softmax.message}. (1 more check failed.) The layer computes activation(x @ W + b)."
    assignment = load_assignment("dlwp-ch2")
    results = to_gradescope(report, assignment, hidden_visibility="hidden")
    public, hidden = [t for t in results.tests if t.extra_data["item"] == "naive_dense"]
    assert (public.number, hidden.number) == ("6.1", "6.2")
    assert public.status == "passed" and public.visibility == "visible" and (public.score, public.max_score) == (1.5, 1.5)
    assert hidden.status == "failed" and hidden.visibility == "hidden" and (hidden.score, hidden.max_score) == (0.0, 0.5)
    for secret in ("softmax", "0.3141", "0.4375", "0.1234", "more check"):
        assert secret not in visible_text(json.loads(results.to_json()))
    assert "0.4375" in hidden.output and "layer(x) with softmax" in hidden.output
    assert results.score == report.score
    # the student's page (output_format html) is drawn from the public view: no hidden check there either
    page = render_html(student_view(report, assignment))
    assert "softmax" not in page and "naive_matrix_vector_dot" not in page
    html = to_gradescope(report, assignment, output_format="html", page=page)
    assert html.output_format == "html" and html.output.startswith("<!DOCTYPE html>") and html.test_output_format == "md"
    with pytest.raises(ValueError, match="cannot be made visible"):
        to_gradescope(report, assignment, hidden_visibility="visible")


def test_without_the_rubric_every_item_is_treated_as_hidden():
    report = sample_report("lab01_math")
    results = to_gradescope(report.model_copy(update={"assignment": report.assignment.model_copy(update={"id": "no-such-rubric"})}))
    assert results.tests and all(t.visibility == "after_published" for t in results.tests)


@pytest.mark.kernel  # runs the `grade` command
def test_the_command_line_writes_results_with_the_chosen_hidden_visibility(tmp_path):
    bad = tmp_path / "essay.ipynb"
    bad.write_text("not json")
    proc = subprocess.run([sys.executable, "-m", "grader", str(bad), "-a", "dlwp-ch2", "--format", "gradescope", "--json", str(tmp_path / "r.json"),
                           "--hidden-visibility", "after_due_date"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    results = json.loads((tmp_path / "r.json").read_text())
    check_documented_fields(results)
    assert results["score"] == 0 and "not JSON" in results["output"]
    refused = subprocess.run([sys.executable, "-m", "grader", str(bad), "--hidden-visibility", "visible"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "mark them public" in refused.stderr and "Traceback" not in refused.stderr


# --- run_autograder ------------------------------------------------------------------------------


def autograder_root(tmp_path: Path, submitted: dict[str, bytes], assignment: str, *, config: str = "", memory_mb: int | None = None,
                    metadata: dict | None = None) -> Path:
    """/autograder as Gradescope lays it out (source, submission, results, metadata), and a cgroup folder beside it."""
    root = tmp_path / "autograder"
    (root / "source" / "gradescope").mkdir(parents=True)
    (root / "source" / "gradescope" / "assignment").write_text(assignment + "\n")
    if config:
        (root / "source" / "gradescope" / "autograder.toml").write_text(config)
    (root / "submission").mkdir()
    for name, data in submitted.items():
        (root / "submission" / name).write_bytes(data)
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    (cgroup / "memory.max").write_text(f"{memory_mb * 2**20}\n" if memory_mb else "max\n")
    shutil.copy(ROOT / "gradescope" / "run_autograder", root / "run_autograder")
    return root


def run_autograder(root: Path, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_CGROUP": str(root.parent / "cgroup"),
           "GRADE": f"{sys.executable} -m grader", "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(["bash", str(root / "run_autograder")], capture_output=True, text=True, timeout=300, env=env)


def numpy_notebook(*cells: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("## ") else nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(nb).encode()


RELU = "import numpy as np\n\ndef naive_relu(x):\n    x = x.copy()\n    x[x < 0] = 0\n    return x"
NUMPY_BASICS = {"GRADER_ASSIGNMENTS_DIR": str(FIXTURES / "assignments")}


@pytest.mark.kernel
def test_run_autograder_grades_the_submitted_notebook(tmp_path):
    week3 = (ROOT / "assignments" / "week3-questions" / "wrong" / "grad_xy_dropped_y.ipynb").read_bytes()
    root = autograder_root(tmp_path, {"notes.txt": b"hello", "week3.ipynb": week3}, "week3-questions")
    proc = run_autograder(root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    check_documented_fields(results)
    by_item = {t["extra_data"]["item"]: t for t in results["tests"]}
    assert by_item["grad_xy"]["status"] == "failed" and by_item["grad_linear"]["status"] == "passed"
    assert "score" not in by_item["why_copy"] and "manual" in by_item["why_copy"]["tags"]
    assert results["score"] == 2 and "will be graded by a person" in results["output"]
    assert by_item["grad_linear"]["visibility"] == "after_published"  # a hidden item: shown once grades are published
    assert by_item["grad_xy"]["visibility"] == "visible"
    assert (root / "results" / "feedback.html").read_text().count('class="item') == 5  # the page shows public items only


@pytest.mark.kernel
def test_run_autograder_stays_within_a_small_container_and_says_what_was_not_graded(tmp_path):
    """300 MB and 40 s: a cell over the memory the container leaves, a cell that never ends; results.json all the same."""
    notebook = numpy_notebook(
        RELU,
        "big = np.ones((400, 2**17))  # 400 MB, more than the container leaves the kernel\nbig.sum()",
        "def naive_add(x, y):\n    return x + y",
        "import time\ntime.sleep(600)",
        "def naive_vector_dot(x, y):\n    return float(np.dot(x, y))",
    )
    metadata = {"id": 7, "created_at": "2026-12-02T10:30:00+00:00",
                "assignment": {"due_date": "2026-12-01T23:59:00+00:00", "late_due_date": None, "title": "NumPy basics", "total_points": 6},
                "users": [{"email": "jane@uni.edu", "id": 42, "name": "Jane Doe", "sid": "S123"}]}
    root = autograder_root(tmp_path, {"lab.ipynb": notebook}, "numpy-basics", config="time_limit_s = 40\n[late]\npenalty_per_day = 10\n",
                           memory_mb=300, metadata=metadata)
    started = time.monotonic()
    proc = run_autograder(root, **NUMPY_BASICS)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert took < 40, took
    results = json.loads((root / "results" / "results.json").read_text())
    check_documented_fields(results)
    limits = results["extra_data"]["limits"]
    assert limits["container_memory_mb"] == 300 and limits["kernel_memory_mb"] < 300 and limits["notebook_timeout_s"] < 40
    output = results["output"]
    assert "cell 1 used more memory than the autograder allows" in output and "of the container's 300 MB" in output
    assert "Not graded: `naive_vector_dot`" in output and "40 s time limit" in output
    assert "naive_matrix_vector_dot" not in output  # a hidden item is never named to the student
    by_item = {t["extra_data"]["item"]: t for t in results["tests"] if t["extra_data"]["part"] != "hidden"}
    assert by_item["naive_relu"]["status"] == "passed" and by_item["naive_add"]["status"] == "passed"
    assert by_item["naive_vector_dot"]["status"] == "failed"
    report = Report.model_validate_json((root / "results" / "report.json").read_text())
    assert report.student.email == "jane@uni.edu" and report.student.sid == "S123"
    assert report.late.days_late == 1 and report.late.penalty_percent == 10 and report.late.source == "gradescope"
    assert results["score"] == pytest.approx(report.score * 0.9) and "Late work: Submitted" in output


def test_a_grading_that_overruns_is_stopped_and_results_are_still_written(tmp_path):
    """The child never ends: stopped (with everything it started) a margin before the limit; results.json names every item."""
    root = autograder_root(tmp_path, {"lab.ipynb": numpy_notebook(RELU)}, "dlwp-ch2", config="time_limit_s = 8\nmargin_s = 4\n", memory_mb=768)
    started = time.monotonic()
    pid_file = tmp_path / "grandchild.pid"
    never = [sys.executable, "-c", "import subprocess, sys, time; p = subprocess.Popen(['sleep', '300'], start_new_session=True); "
             f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(300)"]
    target = run(root, cgroup=tmp_path / "cgroup", child=never)
    assert time.monotonic() - started < 8
    results = json.loads(target.read_text())
    check_documented_fields(results)
    assert results["score"] == 0
    assert "Not graded: `naive_relu`, `naive_add`" in results["output"] and "hidden items" in results["output"]
    assert "stopped after 4 s, to finish within the autograder's 8 s time limit" in results["output"]
    assert "naive_sequential" not in results["output"]
    from grader.kernel.processes import alive

    assert not alive(int(pid_file.read_text()))  # the grandchild that left the process group was stopped too


@pytest.mark.kernel
def test_run_autograder_without_a_notebook_still_writes_results(tmp_path):
    root = autograder_root(tmp_path, {"answers.pdf": b"%PDF-1.4"}, "dlwp-ch2")
    proc = run_autograder(root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    check_documented_fields(results)
    assert results["score"] == 0 and "could not be graded" in results["output"]


def test_limits_come_from_the_cgroup_the_configuration_and_gradescopes_defaults(tmp_path):
    v2, v1, none = tmp_path / "v2", tmp_path / "v1", tmp_path / "none"
    (v2).mkdir()
    (v2 / "memory.max").write_text(f"{512 * 2**20}\n")
    (v2 / "cpu.max").write_text("200000 100000\n")
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text(f"{2**30}\n")
    none.mkdir()
    first = read_limits(AutograderConfig(time_limit_s=120), v2, {})
    assert (first.memory_mb, first.time_limit_s, first.cpus) == (512, 120, 2.0)
    assert read_limits(AutograderConfig(), v1, {"GRADER_TIME_LIMIT_S": "90"}).memory_mb == 1024
    assert read_limits(AutograderConfig(), v1, {"GRADER_TIME_LIMIT_S": "90"}).time_limit_s == 90
    default = read_limits(AutograderConfig(), none, {})
    assert (default.memory_mb, default.time_limit_s) == (768, 600)  # Gradescope's default container
    # dlwp-ch2 asks 900 s and 4 GiB; in Gradescope's default container it gets what fits, with a margin to write results.json
    chosen = plan(default, load_assignment("dlwp-ch2"), None, 1.0)
    assert chosen.deadline_s <= 600 - 60 and chosen.notebook_timeout_s < chosen.deadline_s and chosen.memory_mb <= 768 - 120
    (none / "memory.max").write_text("max\n")  # a cgroup without a limit: the rubric's own memory cap holds
    unlimited = read_limits(AutograderConfig(), none, {})
    assert unlimited.memory_mb is None and plan(unlimited, load_assignment("dlwp-ch2"), None, 0.0).memory_mb == 4096
    tiny = plan(ContainerLimits(300, 20), None, None, 0.0)
    assert tiny.memory_mb == 180 and tiny.deadline_s == 15


def test_templates_are_executable_and_documented():
    for name in ("run_autograder", "setup.sh"):
        path = ROOT / "gradescope" / name
        assert os.access(path, os.X_OK) and path.read_text().startswith("#!/usr/bin/env bash")
    assert "/autograder/results/results.json" in (ROOT / "gradescope" / "run_autograder").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "gradescope/run_autograder" in readme and "--hidden-visibility" in readme and "autograder.toml" in readme
