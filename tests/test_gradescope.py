"""Gradescope: results.json from reports, checked against the documented fields, and run_autograder end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.export.gradescope import GradescopeResults, to_gradescope
from grader.report import Report

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ["dlwp-ch2_walkthrough", "week3_practice", "lab01_math", "dnn_backprop_review", "mit_lab1_tensorflow"]
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}


def check_documented_fields(results: dict) -> None:
    """The autograder specification's results.json, checked field by field (independently of our model)."""
    allowed = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format", "visibility",
               "stdout_visibility", "extra_data", "tests", "leaderboard"}
    assert set(results) <= allowed, set(results) - allowed
    assert isinstance(results["score"], (int, float)) and isinstance(results["execution_time"], (int, float))
    assert isinstance(results["output"], str)
    assert results.get("visibility", "visible") in VISIBILITY and results.get("stdout_visibility", "visible") in VISIBILITY
    test_fields = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags", "visibility", "extra_data"}
    for test in results.get("tests", []):
        assert set(test) <= test_fields, set(test) - test_fields
        assert {"score", "max_score", "name", "status", "output", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITY
        assert 0 <= test["score"] <= test["max_score"]
        assert (test["status"] == "passed") == (test["score"] == test["max_score"] and "pass" in test["tags"])
    if results.get("tests"):
        assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))


@pytest.mark.kernel
def test_results_for_the_five_samples_follow_the_documented_format(sample_batch_run):
    _, out = sample_batch_run
    for stem in SAMPLES:
        report = Report.model_validate_json((out / f"{stem}.json").read_text())
        results = json.loads(to_gradescope(report).to_json())
        check_documented_fields(results)
        GradescopeResults.model_validate(results)
        assert [t["name"].split(":")[0] for t in results["tests"]] == [i.id for i in report.items]
        failed = [t for t in results["tests"] if t["status"] == "failed"]
        for test in failed:
            item = report.item(test["name"].split(":")[0])
            assert item.feedback.strip()[:60] in test["output"]
    lab01 = Report.model_validate_json((out / "lab01_math.json").read_text())
    test = next(t for t in to_gradescope(lab01).tests if t.name.startswith("naive_sequential"))
    assert test.status == "failed" and "Is the `return` inside the for loop?" in test.output and "cell 47" in test.output


@pytest.mark.kernel
def test_a_file_that_is_not_a_notebook_scores_zero_with_the_reason(tmp_path):
    bad = tmp_path / "essay.ipynb"
    bad.write_text("not json")
    proc = subprocess.run([sys.executable, "-m", "grader", str(bad), "-a", "dlwp-ch2", "--format", "gradescope", "--json", str(tmp_path / "r.json")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    results = json.loads((tmp_path / "r.json").read_text())
    check_documented_fields(results)
    assert results["score"] == 0 and "not JSON" in results["output"]


def autograder_root(tmp_path: Path, submitted: dict[str, bytes], assignment: str) -> Path:
    """/autograder as Gradescope lays it out: source (this repository), submission, results."""
    root = tmp_path / "autograder"
    (root / "source" / "gradescope").mkdir(parents=True)
    (root / "source" / "gradescope" / "assignment").write_text(assignment + "\n")
    (root / "submission").mkdir()
    for name, data in submitted.items():
        (root / "submission" / name).write_bytes(data)
    shutil.copy(ROOT / "gradescope" / "run_autograder", root / "run_autograder")
    return root


def run_autograder(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADE": f"{sys.executable} -m grader", "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", str(root / "run_autograder")], capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.kernel
def test_run_autograder_grades_the_submitted_notebook(tmp_path):
    week3 = (ROOT / "assignments" / "week3-questions" / "wrong" / "grad_xy_dropped_y.ipynb").read_bytes()
    root = autograder_root(tmp_path, {"notes.txt": b"hello", "week3.ipynb": week3}, "week3-questions")
    proc = run_autograder(root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    check_documented_fields(results)
    by_name = {t["name"].split(":")[0]: t for t in results["tests"]}
    assert by_name["grad_xy"]["status"] == "failed" and by_name["grad_linear"]["status"] == "passed"
    assert by_name["why_copy"]["status"] == "failed" and "manual" in by_name["why_copy"]["tags"]
    assert results["score"] == 2 and "left to a person" in results["output"]
    assert by_name["grad_linear"]["visibility"] == "after_published"  # hidden from students until grades are published
    assert by_name["grad_xy"]["visibility"] == "visible"
    assert (root / "results" / "feedback.html").read_text().count('class="item') == 7


@pytest.mark.kernel
def test_run_autograder_without_a_notebook_still_writes_results(tmp_path):
    root = autograder_root(tmp_path, {"answers.pdf": b"%PDF-1.4"}, "dlwp-ch2")
    proc = run_autograder(root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    check_documented_fields(results)
    assert results["score"] == 0 and "could not be graded" in results["output"]


def test_templates_are_executable_and_documented():
    for name in ("run_autograder", "setup.sh"):
        path = ROOT / "gradescope" / name
        assert os.access(path, os.X_OK) and path.read_text().startswith("#!/usr/bin/env bash")
    assert "/autograder/results/results.json" in (ROOT / "gradescope" / "run_autograder").read_text()
    assert "gradescope/run_autograder" in (ROOT / "README.md").read_text()
