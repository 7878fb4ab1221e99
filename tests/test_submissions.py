"""Which files a batch grades and how each is named: no kernel started here."""

from pathlib import Path

from grader.submissions import report_names, submission_keys


def test_a_second_file_of_the_same_name_has_its_own_key_and_report():
    files = [Path("a/lab.ipynb"), Path("b/lab.ipynb"), Path("a/other.ipynb")]
    assert list(submission_keys(files).values()) == ["lab.ipynb", "b/lab.ipynb", "other.ipynb"]
    assert list(report_names(files).values()) == ["lab.json", "b__lab.json", "other.json"]
