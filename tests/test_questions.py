"""Answers with no fixed name (week3-questions, lab01-math), manual review, overrides, detection."""

import subprocess
import sys

import pytest
from conftest import NOTEBOOKS, grade_all, item, statuses
from questions import write_all

from grader.grade import AmbiguousAssignment, detect_assignment
from grader.notebook import load
from grader.overrides import OverridesError, apply_overrides, read_overrides
from grader.report import Report


@pytest.fixture(scope="session")
def question_reports(tmp_path_factory):
    small = write_all(tmp_path_factory.mktemp("questions"))
    jobs = {
        "week3": (NOTEBOOKS / "week3_practice.ipynb", ("-a", "week3-questions")),
        "lab01": (NOTEBOOKS / "lab01_math.ipynb", ("-a", "lab01-math")),
    }
    for name, path in small.items():
        assignment = "lab01-math" if name.startswith(("lab01", "rank2")) else "week3-questions"
        jobs[name] = (path, ("-a", assignment))
    return grade_all(jobs, tmp_path_factory.mktemp("question-reports"))



@pytest.mark.kernel
def test_week3_questions(question_reports):
    report = question_reports["week3"]
    got = statuses(report)
    assert got == {"grad_xy": "pass", "grad_linear": "pass", "grad_cubic": "pass", "why_copy": "manual",
                   "why_slow": "manual", "broadcasting_example": "manual", "reshape_example": "manual"}
    assert "Preventing Modification of Original Data" in item(report, "why_copy")["feedback"]
    assert "使用者定義関数" in item(report, "why_slow")["feedback"]
    for manual in ("broadcasting_example", "reshape_example"):
        assert "ran without error" in item(report, manual)["feedback"]
        assert item(report, manual)["score"] == 0
    assert report["score"] == 3 and report["max_score"] == 7


@pytest.mark.kernel
def test_lab01_math(question_reports):
    got = statuses(question_reports["lab01"])
    for passing in ("tensor_ranks", "naive_relu", "naive_add", "relu_numpy", "add_numpy", "keras_model", "compute_accuracy",
                    "naive_dense", "batch_generator", "update_weights", "one_training_step", "fit"):
        assert got[passing] == "pass", passing
    assert got["naive_sequential"] == "fail" and got["trained_model"] == "fail"


@pytest.mark.kernel
def test_small_notebooks_and_their_variants(question_reports):
    assert statuses(question_reports["week3_questions"])["grad_cubic"] == "pass"
    assert statuses(question_reports["lab01_tensors"])["tensor_ranks"] == "pass"
    wrong = item(question_reports["wrong_grad_xy"], "grad_xy")
    assert wrong["status"] == "fail" and "expected" in wrong["feedback"]
    assert statuses(question_reports["wrong_grad_xy"])["grad_linear"] == "pass"
    assert statuses(question_reports["reworded_and_split"])["grad_xy"] == "pass"
    deleted = statuses(question_reports["deleted_answer"])
    assert deleted["grad_linear"] == "missing"
    assert deleted["grad_xy"] == "pass" and deleted["grad_cubic"] == "pass"
    assert "Find derivatives of f(W, b) = (xW + b)" in item(question_reports["deleted_answer"], "grad_linear")["feedback"]
    ranks = item(question_reports["rank2_for_rank3"], "tensor_ranks")
    assert ranks["status"] == "fail" and 0 < ranks["score"] < ranks["max_score"]
    assert "rank-3" in ranks["feedback"] and "rank 2" in ranks["feedback"]


@pytest.mark.kernel
def test_overrides_turn_manual_into_scored(question_reports, tmp_path):
    report = Report.model_validate(question_reports["week3"])
    path = tmp_path / "overrides.csv"
    path.write_text("submission,item,score,comment\n"
                    "week3_practice.ipynb,why_copy,1,Right: the caller's array is left alone.\n"
                    "someone_else.ipynb,why_copy,0,\n")
    merged = apply_overrides(report, read_overrides(path), path)
    why = merged.item("why_copy")
    assert (why.status, why.score, why.set_by) == ("pass", 1, "person")
    assert "caller's array" in why.feedback and merged.score == 4


@pytest.mark.parametrize("text, words", [
    ("submission,item,score\nweek3_practice.ipynb,why_copy,lots\n", ":2: score 'lots' is not a number"),
    ("submission,item\nweek3_practice.ipynb,why_copy\n", ":1: missing column(s) score"),
    ("submission,item,score\nweek3_practice.ipynb,no_such_item,1\n", ":2: week3-questions has no item 'no_such_item'"),
    ("submission,item,score\n\nweek3_practice.ipynb,why_copy,5\n", ":3: score 5 is above why_copy's 1 points"),
])
@pytest.mark.kernel
def test_bad_overrides_name_the_line(question_reports, tmp_path, text, words):
    path = tmp_path / "overrides.csv"
    path.write_text(text)
    with pytest.raises(OverridesError, match=None) as info:
        apply_overrides(Report.model_validate(question_reports["week3"]), read_overrides(path), path)
    assert words in str(info.value)


@pytest.mark.kernel
def test_overrides_from_the_command_line_are_exit_2_when_malformed(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("submission,item,score\nx.ipynb,why_copy,nope\n")
    proc = subprocess.run([sys.executable, "-m", "grader", str(NOTEBOOKS / "week3_practice.ipynb"), "-a", "week3-questions",
                           "--overrides", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and f"{path}:2:" in proc.stderr


def test_detection():
    assert detect_assignment(load(NOTEBOOKS / "dlwp-ch2_walkthrough.ipynb")).id == "dlwp-ch2"
    assert detect_assignment(load(NOTEBOOKS / "lab01_math.ipynb")).id == "lab01-math"
    with pytest.raises(AmbiguousAssignment, match="dlwp-ch2") as info:
        detect_assignment(load(NOTEBOOKS / "week3_practice.ipynb"))
    assert "week3-questions" in str(info.value)


def test_question_matching_tolerates_numbering_case_and_small_edits():
    from grader.anchors import match_score

    assert match_score("Why we use x.copy()?", "### 3. why we use X.copy() ?") == 1.0
    assert match_score("Why the naive version of the code slower?", "Why is the naive version of the code slower") > 0.85
    assert match_score("Why we use x.copy()?", "Try to use broadcasting with your own example.") < 0.6
    assert match_score("find derivatives of f(x,y) = x^2*y + x*y + 3*y",
                       "Say x, y are scalar, find derivatives of f(x,y) = x^2*y + x*y + 3*y with respect to x and y.") == 1.0
