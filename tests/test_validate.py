"""`grade validate`: every shipped assignment's solution earns full marks, each known-wrong example loses exactly its items."""

from __future__ import annotations

import pytest

import subprocess
import sys
import time
from pathlib import Path

from grader.report import ItemResult, Report, SubmissionRef
from grader.loader import load_assignment
from grader.validate import judge_example

ROOT = Path(__file__).resolve().parent.parent
# every shipped assignment; together they cost about a minute and a half on two cores
IN_CI = ["dlwp-ch2", "week3-questions", "lab01-math", "dnn-backprop", "mit-lab1"]


@pytest.mark.kernel
def test_the_shipped_assignments_pass_their_self_test():
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "grader", "validate", *IN_CI], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    for assignment in IN_CI:
        assert f"{assignment}: ok" in proc.stdout
        for example in load_assignment(assignment).self_test.wrong:
            assert f"✓ wrong {example.notebook}: loses {', '.join(sorted(example.loses))}" in proc.stdout
    assert proc.stdout.count("✓ solution solution.ipynb: full marks") == len(IN_CI)
    assert "full marks (3 / 7; 4 left to a person)" in proc.stdout  # week3's free-text items are found, not lost
    print(f"validate {' '.join(IN_CI)}: {time.monotonic() - started:.0f} s")


def _report(statuses: dict[str, str]) -> Report:
    items = [ItemResult(id=i, title=i, status=s, score=1.0 if s == "pass" else 0.0, max_score=1.0, feedback=f"{i} is {s}")
             for i, s in statuses.items()]
    return Report(grader_version="t", status="graded", submission=SubmissionRef(path="x.ipynb"), items=items,
                  score=sum(i.score for i in items), max_score=len(items))


def test_an_example_must_lose_exactly_its_items():
    assert judge_example(_report({"a": "pass", "b": "fail", "m": "manual"}), "wrong", ["b"], "w.ipynb").ok
    more = judge_example(_report({"a": "error", "b": "fail"}), "wrong", ["b"], "w.ipynb")
    assert more.problems == ["a should pass but is error: a is error"]
    fewer = judge_example(_report({"a": "pass", "b": "pass"}), "wrong", ["a", "b"], "w.ipynb")
    assert fewer.problems == ["a should be lost but passed", "b should be lost but passed"]
    solution = judge_example(_report({"a": "pass", "q": "missing"}), "solution", [], "s.ipynb")
    assert not solution.ok and "q should pass but is missing" in solution.problems[0]


def test_a_rubric_that_lists_an_unknown_item_is_refused(tmp_path):
    from grader.rubric import RubricError
    from grader.loader import load_rubric

    text = (ROOT / "assignments" / "week3-questions" / "rubric.toml").read_text().replace('loses = ["grad_xy"]', 'loses = ["grad_zz"]')
    (tmp_path / "rubric.toml").write_text(text)
    try:
        load_rubric(tmp_path / "rubric.toml")
    except RubricError as exc:
        assert "no item grad_zz" in str(exc)
    else:
        raise AssertionError("an unknown item in [validate] was accepted")


@pytest.mark.kernel
def test_both_command_forms(tmp_path):
    unknown = subprocess.run([sys.executable, "-m", "grader", "validate", "no-such-assignment"], capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "unknown assignment 'no-such-assignment'" in unknown.stderr
    # a file that happens to be called `validate` is graded, not taken for the subcommand
    (tmp_path / "validate").write_text("not a notebook")
    graded = subprocess.run([sys.executable, "-m", "grader", "validate", "-a", "dlwp-ch2"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert graded.returncode == 2 and "not JSON" in graded.stderr
    usage = subprocess.run([sys.executable, "-m", "grader", "export-student"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "Missing argument" in usage.stderr
