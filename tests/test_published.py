"""Notebooks in the styles people publish get the verdicts they deserve (tests/published.py says which, and why).

A Colab lab whose import cell starts with `%tensorflow_version`, a year's lab and a
student's copy that word the Sequential question their own way, a reworded and
numbered week-3 sheet, and two third-edition chapter-2 notebooks (the `*_product`
names, `%%backend` cells, an `SGD()` left at Keras' default rate); lab-1 copies whose
`model` is rebound where the Sequential question cannot be told apart, and a
third-edition notebook on Keras 3 with JAX.
"""

import nbformat
import pytest
from conftest import grade_all, item
from published import EXPECTED, question_cells, wrong_verdicts

from grader.rebinding import binds

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="session")
def published_reports(tmp_path_factory):
    jobs = {name: (expected.path(name), ("-a", expected.assignment)) for name, expected in EXPECTED.items()}
    return grade_all(jobs, tmp_path_factory.mktemp("published-reports"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_item_gets_the_verdict_it_deserves(published_reports, name):
    assert wrong_verdicts(name, published_reports[name]) == []


def test_a_colab_magic_first_line_leaves_the_imports_working(published_reports):
    report = published_reports["colab_lab1"]
    assert report["cells"]["errors"] == [] and report["score"] == report["max_score"]


def test_questions_found_by_meaning_say_so(published_reports):
    for name, key in (("colab_lab1", "sequential_model#0"), ("lab1_own_headings", "sequential_model#0"),
                      ("week3_reworded", "grad_cubic#0"), ("week3_reworded", "grad_xy#0")):
        found = item(published_reports[name], key.split("#")[0])
        assert found["found"]["anchored_by"] == "meaning", (name, key)
        assert f"the grader took cell {question_cells(name)[key]} for it" in found["feedback"], (name, key)
    sequential = item(published_reports["colab_lab1"], "sequential_model")
    assert "`Sequential` and `Dense`" in sequential["feedback"]
    assert "anchored_by" not in item(published_reports["week3_reworded"], "grad_linear")["found"]  # found by its words


def test_third_edition_backend_cells_run_as_the_notebook_says(published_reports):
    report = published_reports["third_edition_ch2"]
    assert report["cells"]["errors"] == [] and report["score"] == report["max_score"]
    for item_id, name in (("naive_vector_dot", "naive_vector_product"), ("naive_matrix_dot", "naive_matrix_product")):
        assert item(report, item_id)["found"]["name"] == name


def test_a_step_at_keras_default_rate_names_both_rates(published_reports):
    update = item(published_reports["third_edition_student"], "update_weights")
    assert update["status"] == "fail"
    assert "a learning rate of 0.01, not the sheet's 1e-3" in update["feedback"] and "SGD" in update["feedback"]
    assert item(published_reports["third_edition_ch2"], "update_weights")["checks"][0]["message"] == "learning rate 1e-3"


def test_a_rebound_model_is_judged_at_the_binding_the_rubric_asks_for(published_reports):
    """`model` is a Sequential, then a SubclassModel, then an IdentityModel: the Sequential item judges the first."""
    for name, cells, judged in (("lab1_one_section", [7, 8, 9], 7), ("lab1_import_heading", [9, 11, 12], 9)):
        sequential = item(published_reports[name], "sequential_model")
        assert sequential["status"] == "pass", (name, sequential["feedback"])
        assert sequential["found"]["cell"] == judged
        assert sequential["found"]["binding"] == {"cells": cells, "judged": judged, "rule": "a `Sequential`", "matched": True}
        assert f"the grader judged the binding of cell {judged}, the one that is a `Sequential`" in sequential["feedback"]
    # the question found by its words, its answer binding `model` once: judged as before, nothing added to the report
    assert "binding" not in item(published_reports["colab_lab1"], "sequential_model")["found"]
    # DLwP: the Keras listing's `model` first, the from-scratch model last; the one of the notebook's own class is judged
    trained = item(published_reports["third_edition_jax"], "trained_model")
    assert trained["found"]["binding"] == {"cells": [6, 18], "judged": 18, "rule": "of a class the notebook defines", "matched": True}
    assert trained["feedback"] == "All checks passed."  # the last binding: nothing to explain


def test_keras_3_on_jax_is_graded_on_its_own_backend(published_reports):
    """The notebook sets KERAS_BACKEND=jax and asserts it in cell 3: TensorFlow was not imported before it, and every item passes."""
    report = published_reports["third_edition_jax"]
    assert report["cells"]["errors"] == [] and report["score"] == report["max_score"]


def test_no_item_is_anchored_to_a_cell_that_does_not_bind_it(published_reports):
    """Every item found by a name points at a cell that binds that name (a rebound one: the binding judged)."""
    wrong = []
    for name, report in published_reports.items():
        nb = nbformat.read(EXPECTED[name].path(name), as_version=4)
        for found in (i["found"] for i in report["items"] if i.get("found")):
            if found["name"] != "answer" and found["cell"] is not None and not binds(nb.cells[found["cell"]].source, [found["name"]]):
                wrong.append(f"{name}: {found}")
    assert not wrong, wrong
