"""Each single-defect variant fails exactly its item; tampering with numpy changes nothing."""

import pytest
from conftest import statuses
from variants import FAILS

pytestmark = pytest.mark.kernel  # every test here starts a kernel or a grader process


def test_base_earns_full_marks(variant_reports):
    report = variant_reports["base"]
    assert set(statuses(report).values()) == {"pass"}
    assert report["score"] == report["max_score"]


@pytest.mark.parametrize("name", sorted(FAILS))
def test_variant_fails_exactly_its_items(variant_reports, name):
    got = statuses(variant_reports[name])
    failing = {item for item, status in got.items() if status != "pass"}
    assert failing == FAILS[name]
    for item in FAILS[name]:
        feedback = next(i["feedback"] for i in variant_reports[name]["items"] if i["id"] == item)
        assert feedback and "Traceback" not in feedback


def test_feedback_names_the_defect(variant_reports):
    def feedback(name, item):
        return next(i["feedback"] for i in variant_reports[name]["items"] if i["id"] == item)

    assert "in place" in feedback("relu_mutates_input", "naive_relu")
    assert "gradient ascent" in feedback("update_gradient_ascent", "update_weights")
    assert "bias" in feedback("dense_activation_before_bias", "naive_dense")
    assert "below" in feedback("never_trained", "trained_model")
    assert "Likely cause" not in feedback("never_trained", "trained_model")  # nothing it relies on failed
    assert feedback("update_gradient_ascent", "trained_model").startswith("Likely cause: `update_weights` failed")
    assert feedback("dense_activation_before_bias", "trained_model").startswith("Likely cause: `naive_dense` failed")


def test_grading_twice_gives_the_same_report(variant_reports):
    first, second = variant_reports["base"], variant_reports["base_again"]
    assert statuses(first) == statuses(second)
    assert [i["score"] for i in first["items"]] == [i["score"] for i in second["items"]]
    assert [i["feedback"] for i in first["items"]] == [i["feedback"] for i in second["items"]]
