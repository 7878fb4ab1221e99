"""The real student notebooks graded as dlwp-ch2: what the issue says a grader must find."""

import pytest
from conftest import statuses

pytestmark = pytest.mark.kernel  # every test here starts a kernel or a grader process

ALL_ITEMS = {
    "naive_relu", "naive_add", "naive_vector_dot", "naive_matrix_vector_dot", "naive_matrix_dot",
    "naive_dense", "naive_sequential", "batch_generator", "update_weights", "one_training_step",
    "fit", "trained_model",
}


def test_walkthrough_passes_all_but_the_two_undefined_dot_products(real_reports):
    report = real_reports["walkthrough"]
    assert report["status"] == "graded" and report["schema_version"] == 1
    assert report["assignment"] == {"id": "dlwp-ch2", "title": report["assignment"]["title"], "detected": False, "version": "2"}
    got = statuses(report)
    assert set(got) == ALL_ITEMS
    assert got["naive_matrix_vector_dot"] == "missing" and got["naive_matrix_dot"] == "missing"
    assert {k for k, v in got.items() if v == "pass"} == ALL_ITEMS - {"naive_matrix_vector_dot", "naive_matrix_dot"}
    assert report["score"] == report["max_score"] - 2
    missing = next(i for i in report["items"] if i["id"] == "naive_matrix_dot")
    assert "naive_matrix_dot" in missing["feedback"] and missing["found"] is None
    relu = next(i for i in report["items"] if i["id"] == "naive_relu")
    assert {k: v for k, v in relu["found"].items() if k != "source"} == {"name": "naive_relu", "cell": 20}
    assert relu["found"]["source"].startswith("def naive_relu(x):")  # the cell as graded, for pages and similarity
    assert report["cells"]["errors"] == [] and report["cells"]["executed"] == report["cells"]["total"]


def test_week3_practice_passes_every_dlwp_item(real_reports):
    report = real_reports["week3"]
    assert statuses(report) == {item: "pass" for item in ALL_ITEMS}
    assert report["score"] == report["max_score"]


def test_lab01_fails_sequential_and_trained_model(real_reports):
    report = real_reports["lab01"]
    got = statuses(report)
    assert got["naive_sequential"] == "fail" and got["trained_model"] == "fail"
    for item in ("naive_relu", "naive_add", "naive_dense", "batch_generator", "update_weights", "one_training_step", "fit"):
        assert got[item] == "pass", item
    for item in ("naive_vector_dot", "naive_matrix_vector_dot", "naive_matrix_dot"):
        assert got[item] == "missing", item
    sequential = next(i for i in report["items"] if i["id"] == "naive_sequential")
    assert "after the first layer" in sequential["feedback"]
    assert "(4, 512)" in sequential["feedback"] and "(4, 10)" in sequential["feedback"]
    assert "return" in sequential["feedback"]
    trained = next(i for i in report["items"] if i["id"] == "trained_model")
    assert "512" in trained["feedback"]
    # the cause is the notebook's own NaiveSequential, not missing training: the feedback says so, not "train with fit()"
    assert trained["feedback"].startswith("Likely cause: `naive_sequential` failed") and "fit()" not in trained["feedback"]


def test_feedback_never_holds_a_traceback(real_reports):
    for report in real_reports.values():
        for item in report["items"]:
            assert "Traceback" not in item["feedback"]
            assert item["score"] <= item["max_score"]
