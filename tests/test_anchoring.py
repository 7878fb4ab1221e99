"""Questions found by their words or by their meaning: no question of any assignment is anchored to the wrong cell.

Every notebook the tests use (the samples, the solutions and known-wrong
examples, every variant the tests build, the published-style notebooks) is
located against every assignment, without a kernel. Wherever today's
matching of the words finds a question, the anchor must be exactly that one;
where it finds none, the question must stay not found, unless the notebook
is one of the published-style ones and the anchor is the cell that asks it.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

import questions
import tf_variants
import variants
from adversarial import attacks
from published import EXPECTED, question_cells

from grader.anchors import code_tokens, how_found_notes, locate_all, locate_items
from grader.checks import Evidence
from grader.checks.base import Judgement
from grader.judging import item_result
from grader.report import Cells, Found, ItemResult
from grader.loader import assignment_ids, load_assignment

ROOT = Path(__file__).resolve().parent.parent


def every_notebook() -> dict[str, nbformat.NotebookNode]:
    found = {}
    for path in sorted((ROOT / "tests" / "notebooks").rglob("*.ipynb")) + sorted((ROOT / "assignments").rglob("*.ipynb")):
        found[str(path.relative_to(ROOT))] = nbformat.read(path, as_version=4)
    found["variants:base"] = variants.base()
    found.update({f"variants:{name}": variants.variant(name) for name in variants.FAILS})
    found["tf_variants:dnn_base"], found["tf_variants:mit_base"] = tf_variants.dnn_base(), tf_variants.mit_base()
    found.update({f"tf_variants:{name}": tf_variants.variant(name) for name in tf_variants.FAILS})
    found.update({f"questions:{name}": make() for name, make in questions.VARIANTS.items()})
    found.update({f"adversarial:{name}": attacks.notebook(name) for name in attacks.ATTACKS})
    return found


def test_no_question_is_anchored_to_a_wrong_cell():
    labelled = {f"tests/notebooks/published/{name}.ipynb": (e.assignment, question_cells(name)) for name, e in EXPECTED.items()}
    wrong, by_meaning, counts = [], [], {"by words": 0, "by meaning": 0, "not found": 0}
    rubrics = {assignment_id: load_assignment(assignment_id).items for assignment_id in assignment_ids()}
    for label, nb in every_notebook().items():
        for assignment_id, items in rubrics.items():
            today = locate_all(nb, {f"{item.id}#{i}": q.texts for item in items for i, q in enumerate(item.questions)})
            located = locate_items(nb, items)
            now = {f"{item.id}#{i}": anchor for item in items for i, anchor in enumerate(located[item.id])}
            want = labelled[label][1] if label in labelled and labelled[label][0] == assignment_id else {}
            for key, anchor in now.items():
                if today[key].question is not None:
                    counts["by words"] += 1
                    if anchor != today[key]:
                        wrong.append(f"{label} / {assignment_id} / {key}: found at cell {today[key].question} by its words, now {anchor.question}")
                elif anchor.question is not None:
                    counts["by meaning"] += 1
                    by_meaning.append(f"{Path(label).stem} {key}")
                    if want.get(key) != anchor.question:
                        wrong.append(f"{label} / {assignment_id} / {key}: anchored by meaning at cell {anchor.question}, "
                                     f"deserves {want.get(key)}")
                else:
                    counts["not found"] += 1
                if key in want and anchor.question != want[key]:
                    wrong.append(f"{label} / {assignment_id} / {key}: at cell {anchor.question}, asked at cell {want[key]}")
    assert not wrong, "\n".join(wrong)
    # where the words differ from the rubric's, the published-style notebooks' questions were found by their meaning
    assert sorted(by_meaning) == ["colab_lab1 sequential_model#0", "lab1_import_heading sequential_model#0", "lab1_own_headings sequential_model#0",
                                  "week3_reworded grad_cubic#0", "week3_reworded grad_xy#0", "week3_reworded why_copy#0"]
    assert counts["by words"] > 100, counts


def test_the_order_of_the_sheet_bounds_where_a_question_is_looked_for():
    """The Sequential question moved after SubclassModel is no longer where the sheet asks it: not found, rather than guessed."""
    nb = nbformat.read(EXPECTED["colab_lab1"].path("colab_lab1"), as_version=4)
    items = load_assignment("mit-lab1").items
    assert locate_items(nb, items)["sequential_model"][0].by == "meaning"
    start = next(i for i, c in enumerate(nb.cells) if c.source.startswith("### 1.2.2"))
    moved = nb.cells[start:start + 5]
    del nb.cells[start:start + 5]
    after = next(i for i, c in enumerate(nb.cells) if "class SubclassModel" in c.source) + 1
    nb.cells[after:after] = moved
    assert locate_items(nb, items)["sequential_model"][0].question is None


def test_a_notebook_of_another_sheet_gives_no_place_to_look():
    """The DLwP walkthrough has a Keras Sequential of Dense layers bound to `model`, but nothing of lab 1: no anchor."""
    nb = nbformat.read(ROOT / "tests" / "notebooks" / "dlwp-ch2_walkthrough.ipynb", as_version=4)
    assert locate_items(nb, load_assignment("mit-lab1").items)["sequential_model"][0].question is None


@pytest.mark.parametrize("source, present, absent", [
    ("model = tf.keras.Sequential([tf.keras.layers.Dense(3, activation='sigmoid')])",
     {"Sequential", "keras.Sequential", "layers.Dense", "Dense", "sigmoid"}, {"Sequential model"}),
    ("%%backend tensorflow\nz = (x @ W + b) ** 3  # uses tf.pow", {"@", "**", "3", "W"}, {"pow", "tf.pow", "backend"}),
    ("'''TODO: use Sequential and Dense'''\nmodel = None", {"model", "None"}, {"Sequential", "Dense"}),
    ("grads = tape.gradient(z, [W, b]", {"tape.gradient", "gradient"}, set()),  # unfinished: what was read counts
])
def test_code_tokens(source, present, absent):
    tokens = code_tokens(source)
    assert present <= tokens and not absent & tokens


def test_feedback_says_a_question_was_found_by_its_meaning():
    nb = nbformat.read(EXPECTED["colab_lab1"].path("colab_lab1"), as_version=4)
    assignment = load_assignment("mit-lab1")
    item = next(i for i in assignment.items if i.id == "sequential_model")
    anchors = locate_items(nb, assignment.items)["sequential_model"]
    judgement = Judgement(status="pass", score=1, feedback="All checks passed.", found=Found(name="model", cell=anchors[0].answers[0]))
    result = item_result(item, judgement, Evidence(nb=nb, cells=Cells(), anchors=anchors))
    assert result.found.anchored_by == "meaning" and result.found.model_dump()["anchored_by"] == "meaning"
    assert result.found.source == nb.cells[anchors[0].answers[0]].source
    assert how_found_notes(anchors)[0] in result.feedback
    assert f"took cell {anchors[0].question} for it" in result.feedback and "`Sequential` and `Dense`" in result.feedback
    assert "anchored_by" not in Found(name="naive_relu", cell=20).model_dump()
