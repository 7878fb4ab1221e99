"""Instructors' integrations: LMS gradebooks (Canvas, Moodle), late work, regrades with a record.

One small numpy-only batch (tests/fixtures/assignments/numpy-basics) is
graded twice per session, with rubric version 1 and then with a version 2
that adds a check, as an instructor's regrade after a rubric fix would.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest

from grader.late import LatePolicy, assess, read_submitted_at, LateError
from grader.lms import Key, LmsFormat, match_all, read_roster
from grader.regrade import diff_reports, previous_path, read_reports
from grader.report import Report, Student

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent

RELU = "import numpy as np\n\ndef naive_relu(x):\n    x = x.copy()\n    x[x < 0] = 0\n    return x"
RELU_FLOAT = "import numpy as np\n\ndef naive_relu(x):\n    return np.where(x > 0, x, 0.0)  # floats out, whatever comes in"
ADD = "def naive_add(x, y):\n    return x + y"
ADD_WRONG = "def naive_add(x, y):\n    return x - y"
DOT = "def naive_vector_dot(x, y):\n    return float(np.dot(x, y))"
QUESTION = "## Why do we use x.copy() in naive_relu?"
ANSWER = "# the caller's array must stay as it was"


def notebook(*cells: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(c[3:]) if c.startswith("## ") else nbformat.v4.new_code_cell(c) for c in cells]
    return nb


# Canvas names downloads `sortablename[_late]_userid_attachmentid_original`
SUBMISSIONS = {
    "doejane_501_90001_lab.ipynb": (RELU, ADD, DOT, QUESTION, ANSWER),
    "roerichard_late_502_90002_lab.ipynb": (RELU_FLOAT, ADD, DOT),
    "poeedgar_503_90003_lab.ipynb": (RELU, ADD_WRONG, DOT),
}
NOT_A_NOTEBOOK = "mystery.ipynb"  # a file no student is named in, and no notebook either: rejected, unmatched


def grade_batch(src: Path, out: Path, assignments: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "GRADER_ASSIGNMENTS_DIR": str(assignments)}
    proc = subprocess.run([sys.executable, "-m", "grader", str(src), "-a", "numpy-basics", "--out", str(out), "--workers", "2"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="session")
def regraded(tmp_path_factory):
    """The batch graded with rubric v1 (kept as `v1`), then regraded in place (`out`) with v2, which adds an integer case."""
    base = tmp_path_factory.mktemp("numpy-batch")
    src = base / "submissions"
    src.mkdir()
    for name, cells in SUBMISSIONS.items():
        nbformat.write(notebook(*cells), src / name)
    (src / NOT_A_NOTEBOOK).write_text("my answers are in the PDF")
    out = base / "out"
    first = grade_batch(src, out, FIXTURES / "assignments")
    shutil.copytree(out, base / "v1")
    v2 = base / "assignments"
    shutil.copytree(FIXTURES / "assignments", v2)
    rubric = v2 / "numpy-basics" / "rubric.toml"
    text = rubric.read_text().replace('version = "1"', 'version = "2"')
    text = text.replace('  { name = "zeros", ', '  { name = "integers", args = [{ random = "integers", shape = [2, 3], low = -5, high = 5, dtype = "int64" }] },\n'
                                                '  { name = "zeros", ')
    rubric.write_text(text)
    second = grade_batch(src, out, v2)
    return {"src": src, "v1": base / "v1", "out": out, "first": first, "second": second}


def grade(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd)


# --- regrades ------------------------------------------------------------------------------------


@pytest.mark.kernel
def test_a_regrade_keeps_the_previous_reports_and_diff_says_what_changed(regraded):
    out, v1 = regraded["out"], regraded["v1"]
    # another rubric version: every notebook's report is regraded (the rejected file's report holds for any rubric)
    assert "3 to grade, 1 already graded" in regraded["second"].stderr
    for name in SUBMISSIONS:  # the notebooks; the rejected file's report was current and stays
        report_file = out / f"{Path(name).stem}.json"
        assert Report.model_validate_json(previous_path(report_file).read_text()).assignment.version == "1"
        assert Report.model_validate_json(report_file.read_text()).assignment.version == "2"
    for proc, compared in ((grade("diff", v1, out), 4), (grade("diff", out), 3)):  # two folders, or one folder's name.prev.json
        assert proc.returncode == 0, proc.stderr
        text = " ".join(proc.stdout.split())
        assert "roerichard_late_502_90002_lab.json" in text and "pass → fail" in text and "naive_relu: pass → fail, 2 → 1.6" in text
        assert "integers: new check, failed" in text and "rubric v1 → v2" in text
        assert f"3 of {compared} submissions changed" in text  # the rejected file has no previous report
    changes = {c.name: c for c in diff_reports(read_reports(v1), read_reports(out))}
    richard = changes["roerichard_late_502_90002_lab.json"]
    assert richard.delta == -0.4 and [i.item for i in richard.items] == ["naive_relu"]
    jane = changes["doejane_501_90001_lab.json"]
    assert jane.delta == 0 and jane.items[0].checks == ["integers: new check, passed"]  # same score, one more check
    assert grade("diff", v1 / "nothing", out).returncode == 2


# --- LMS gradebooks ------------------------------------------------------------------------------


CANVAS = """Student,ID,SIS User ID,SIS Login ID,Section,Lab 0 (1001),Current Score
    Points Possible,,,,,10,(read only)
"Doe, Jane",501,S501,jdoe@uni.edu,Sec A,8,80
"Roe, Richard",502,S502,rroe@uni.edu,Sec A,,
"Poe, Edgar",503,S503,epoe@uni.edu,Sec B,,
"Lee, Ann",504,S504,alee@uni.edu,Sec B,7,70
"""

MOODLE = """First name,Last name,ID number,Institution,Department,Email address,Assignment: Lab 0 (Real),Last downloaded from this course
Jane,Doe,S501,Uni,CS,jdoe@uni.edu,8.00,1700000000
Richard,Roe,S502,Uni,CS,rroe@uni.edu,-,1700000000
Edgar,Poe,S503,Uni,CS,epoe@uni.edu,-,1700000000
Edgar,Poe,S509,Uni,Math,epoe2@uni.edu,-,1700000000
Ann,Lee,S504,Uni,CS,alee@uni.edu,7.00,1700000000
"""


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.mark.kernel
def test_canvas_round_trip_fills_the_export_and_lists_the_unmatched_file(regraded, tmp_path):
    out = tmp_path / "results"
    shutil.copytree(regraded["out"], out)
    roster = tmp_path / "canvas.csv"
    roster.write_text(CANVAS)
    times = tmp_path / "times.csv"
    times.write_text("file,submitted_at\nroerichard_late_502_90002_lab.ipynb,2026-12-03T08:00:00Z\n")
    target = tmp_path / "import.csv"
    proc = grade("gradebook", out, "--roster", roster, "--format", "canvas", "--key", "login", "--out", target,
                 "--due", "2026-12-01T23:59:00Z", "--penalty-per-day", "10", "--submitted-at", times)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "3 of 4 submissions matched" in text and "unmatched mystery.ipynb" in text and "no Canvas download pattern" in text
    rows = read_csv(target)
    original = read_csv(roster)
    assert rows[0] == original[0] + ["NumPy basics"]  # every column Canvas exported, then the assignment's
    assert rows[1][:-1] == original[1] and rows[1][-1] == "6"  # Points Possible of the new column
    by_id = {r[1]: r for r in rows[2:]}
    scores = {n: Report.model_validate_json((out / f"{Path(n).stem}.json").read_text()) for n in SUBMISSIONS}
    assert Report.model_validate_json((out / "mystery.json").read_text()).status == "rejected"
    assert by_id["501"][-1] == f"{scores['doejane_501_90001_lab.ipynb'].score:g}"
    richard = scores["roerichard_late_502_90002_lab.ipynb"]
    assert by_id["502"][-1] == f"{richard.score * 0.8:g}"  # two started days late at 10 % a day
    assert by_id["504"] == original[5] + [""]  # no submission: the row as exported, the new cell empty
    report = Report.model_validate_json((out / "roerichard_late_502_90002_lab.json").read_text())
    assert report.late.days_late == 2 and report.late.source == "csv" and "20% off" in report.late.reason
    assert "late roerichard_late_502_90002_lab.ipynb: Submitted 2026-12-03T08:00:00+00:00" in text
    book = {r["file"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert "20% off" in book["roerichard_late_502_90002_lab.ipynb"]["late_reason"]
    assert book["doejane_501_90001_lab.ipynb"]["late_reason"] == ""
    # without the time, Canvas' late mark alone is recorded, not guessed into a penalty
    again = grade("gradebook", out, "--roster", roster, "--format", "canvas", "--key", "login", "--out", target,
                  "--due", "2026-12-01T23:59:00Z", "--penalty-per-day", "10")
    assert again.returncode == 0
    assert {r[1]: r for r in read_csv(target)[2:]}["502"][-1] == f"{richard.score:g}"
    assert "Canvas marks this submission late but gives no time" in " ".join(again.stdout.split())


@pytest.mark.kernel
def test_moodle_round_trip_lists_the_unmatched_and_the_doubly_matched(regraded, tmp_path):
    """The same batch downloaded from Moodle: `Full Name_participant_assignsubmission_file_name`."""
    out = tmp_path / "results"
    out.mkdir()
    moodle_names = {"doejane_501_90001_lab": "Jane Doe_4521_assignsubmission_file_lab.ipynb",
                    "roerichard_late_502_90002_lab": "Richard Roe_4522_assignsubmission_file_lab.ipynb",
                    "poeedgar_503_90003_lab": "Edgar Poe_4523_assignsubmission_file_lab.ipynb", "mystery": NOT_A_NOTEBOOK}
    for stem, name in moodle_names.items():
        report = Report.model_validate_json((regraded["out"] / f"{stem}.json").read_text())
        report.submission.path = str(regraded["src"].parent / "moodle" / name)
        (out / f"{Path(name).stem}.json").write_text(report.to_json())
    roster = tmp_path / "moodle.csv"
    roster.write_text(MOODLE)
    target = tmp_path / "import.csv"
    proc = grade("gradebook", out, "--roster", roster, "--format", "moodle", "--key", "email", "--out", target, "--items")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "2 of 4 submissions matched" in text and "unmatched mystery.ipynb" in text
    assert "ambiguous Edgar Poe_4523_assignsubmission_file_lab.ipynb" in text and "fits 2 students" in text
    rows = read_csv(target)
    assert rows[0][:8] == read_csv(roster)[0]
    assert rows[0][8:] == ["NumPy basics", "NumPy basics: naive_relu", "NumPy basics: naive_add", "NumPy basics: naive_vector_dot",
                           "NumPy basics: naive_matrix_vector_dot", "NumPy basics: why_copy", "NumPy basics (feedback)"]
    by_email = {r[5]: dict(zip(rows[0], r)) for r in rows[1:]}
    jane = Report.model_validate_json((out / "Jane Doe_4521_assignsubmission_file_lab.json").read_text())
    assert by_email["jdoe@uni.edu"]["NumPy basics"] == f"{jane.score:g}"
    assert by_email["jdoe@uni.edu"]["NumPy basics: naive_relu"] == f"{jane.item('naive_relu').score:g}"
    assert by_email["epoe@uni.edu"]["NumPy basics"] == "" and by_email["epoe2@uni.edu"]["NumPy basics"] == ""  # never guessed
    # a map settles what the names cannot: the file becomes Ann's; a student named by two files is listed, not filled
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,key\nmystery.ipynb,alee@uni.edu\n")
    mapped = grade("gradebook", out, "--roster", roster, "--format", "moodle", "--key", "email", "--out", target, "--map", mapping)
    assert mapped.returncode == 0 and "3 of 4 submissions matched" in " ".join(mapped.stdout.split())
    filled = {r[5]: dict(zip(read_csv(target)[0], r)) for r in read_csv(target)[1:]}
    assert filled["alee@uni.edu"]["NumPy basics"] == "0"  # Ann's file is no notebook: it earns nothing, and says why
    assert filled["alee@uni.edu"]["NumPy basics (feedback)"] == Report.model_validate_json((out / "mystery.json").read_text()).reason


@pytest.mark.kernel  # runs the `grade` command
def test_matching_by_gradescope_identity_and_the_errors_of_a_roster(tmp_path):
    roster_file = tmp_path / "moodle.csv"
    roster_file.write_text(MOODLE)
    roster = read_roster(roster_file, LmsFormat.moodle, Key.sis_id)
    report = Report.model_validate_json((FIXTURES / "reports" / "lab01_math.json").read_text())
    one = report.model_copy(update={"student": Student(name="Ann Lee", email="alee@uni.edu", sid="S504", source="gradescope"),
                                    "submission": report.submission.model_copy(update={"path": "submission_1/a.ipynb"})})
    two = report.model_copy(update={"student": Student(name="Ann Lee", sid="S504", source="gradescope"),
                                    "submission": report.submission.model_copy(update={"path": "submission_2/b.ipynb"})})
    matching = match_all(roster, {"a.json": one, "b.json": two}, {})
    assert not matching.matched and [n for n, _ in matching.ambiguous] == ["a.ipynb", "b.ipynb"]  # one student, two submissions
    assert "named by 2 submissions" in matching.ambiguous[0][1]
    only = match_all(roster, {"a.json": one}, {})
    assert list(only.matched) == [4] and "gradescope identity" in only.matched[4][2].how
    # a submission laid out as Gradescope does: its folder's submission_metadata.json names the student
    folder = tmp_path / "submission_77" / "submission"
    folder.mkdir(parents=True)
    (folder.parent / "submission_metadata.json").write_text(json.dumps(
        {"created_at": "2026-12-02T10:00:00Z", "users": [{"name": "Richard Roe", "email": "rroe@uni.edu", "sid": "S502", "id": 9}]}))
    laid_out = report.model_copy(update={"submission": report.submission.model_copy(update={"path": str(folder / "lab.ipynb")})})
    beside = match_all(roster, {"c.json": laid_out}, {})
    assert list(beside.matched) == [1] and beside.matched[1][2].student.email == "rroe@uni.edu"
    canvas = tmp_path / "canvas.csv"
    canvas.write_text(CANVAS)
    proc = grade("gradebook", FIXTURES / "reports", "--roster", canvas, "--format", "canvas", "--key", "email")
    assert proc.returncode == 2 and "several assignments" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(Exception, match="not a Moodle gradebook export"):
        read_roster(canvas, LmsFormat.moodle, Key.email)
    assert read_roster(canvas, LmsFormat.canvas, Key.email).key_column == "SIS Login ID"  # holds e-mail addresses here
    missing = grade("gradebook", tmp_path / "nowhere", "--roster", canvas, "--format", "canvas")
    assert missing.returncode == 2 and "no reports here" in missing.stderr


# --- late work -----------------------------------------------------------------------------------


def test_the_late_policy_charges_started_days_after_the_grace_up_to_the_cap(tmp_path):
    report = Report.model_validate_json((FIXTURES / "reports" / "lab01_math.json").read_text())  # 18 of 21
    policy = LatePolicy(due=datetime(2026, 12, 1, 23, 59), grace_minutes=15, penalty_per_day=10, cap_percent=25)
    at = lambda text: datetime.fromisoformat(text).replace(tzinfo=timezone.utc)  # noqa: E731
    assert assess(report, policy, at("2026-12-01T23:00"), "csv") is None  # on time
    within = assess(report, policy, at("2026-12-02T00:10"), "csv")
    assert within.points_deducted == 0 and "grace period" in within.reason
    one = assess(report, policy, at("2026-12-02T00:20"), "csv")
    assert (one.days_late, one.penalty_percent, one.score) == (1, 10, 16.2)
    capped = assess(report, policy, at("2026-12-09T12:00"), "gradescope")
    assert capped.penalty_percent == 25 and capped.score == 13.5 and "at most 25%" in capped.reason
    of_max = assess(report, policy.model_copy(update={"of": "max_score"}), at("2026-12-02T00:20"), "csv")
    assert of_max.points_deducted == 2.1
    mtime = assess(report, policy, at("2026-12-03T00:00"), "mtime")
    assert "modification time" in mtime.reason  # never from a file's time without saying so
    assert report.model_copy(update={"late": one}).final_score() == 16.2 and report.score == 18
    rubric = tmp_path / "numpy-basics" / "rubric.toml"  # the policy as a rubric writes it
    rubric.parent.mkdir()
    rubric.write_text((FIXTURES / "assignments" / "numpy-basics" / "rubric.toml").read_text()
                      + "\n[late]\ndue = 2026-12-01T23:59:00Z\ngrace_minutes = 15\npenalty_per_day = 10\ncap_percent = 50\n")
    from grader.loader import load_rubric

    late = load_rubric(rubric).late
    assert late.due == datetime(2026, 12, 1, 23, 59, tzinfo=timezone.utc) and late.cap_percent == 50
    bad = tmp_path / "times.csv"
    bad.write_text("file,submitted_at\nlab.ipynb,yesterday\n")
    with pytest.raises(LateError, match="line 2: 'yesterday' is not an ISO 8601 time"):
        read_submitted_at(bad)


@pytest.mark.kernel
def test_the_samples_batch_goes_into_a_canvas_export_by_a_map(sample_batch_run, tmp_path):
    """The five real samples graded as one dlwp-ch2 batch (the suite's shared batch): a map names five, one file stays out."""
    _, out = sample_batch_run
    results = tmp_path / "results"
    shutil.copytree(out, results)
    roster = tmp_path / "canvas.csv"
    students = [("Doe, Jane", 501), ("Roe, Richard", 502), ("Poe, Edgar", 503), ("Lee, Ann", 504), ("Kim, Min", 505), ("Ng, Tom", 506)]
    roster.write_text("Student,ID,SIS User ID,SIS Login ID,Section\n    Points Possible,,,,\n"
                      + "".join(f'"{n}",{i},S{i},u{i},A\n' for n, i in students))
    samples = ["dlwp-ch2_walkthrough", "week3_practice", "lab01_math", "dnn_backprop_review", "mit_lab1_tensorflow", "forever"]
    mapping = tmp_path / "map.csv"
    mapping.write_text("file,key\n" + "".join(f"{s}.ipynb,u{501 + k}\n" for k, s in enumerate(samples)))
    target = tmp_path / "import.csv"
    proc = grade("gradebook", results, "--roster", roster, "--format", "canvas", "--key", "login", "--map", mapping, "--out", target, "--items")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "6 of 7 submissions matched" in text and "unmatched readme.txt" in text
    rows = read_csv(target)
    title = "The mathematical building blocks of neural networks"
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and rows[0][5] == title
    assert rows[1][5] == "17" and rows[1][6:8] == ["1", "1"]  # Points Possible: the assignment's, then each item's
    by_login = {r[3]: dict(zip(rows[0], r)) for r in rows[2:]}
    for k, sample in enumerate(samples):
        report = Report.model_validate_json((results / f"{sample}.json").read_text())
        assert by_login[f"u{501 + k}"][title] == f"{report.score:g}"
        assert by_login[f"u{501 + k}"][f"{title}: naive_relu"] == f"{report.item('naive_relu').score:g}"
