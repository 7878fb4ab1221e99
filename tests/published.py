"""The notebooks of tests/notebooks/published/ and what each deserves: the verdict of every item, and where each question is.

They imitate what people publish (see that folder's README.md). The expected
verdicts are read off their code, not off the grader; `questions` names the
markdown cell (by how it starts) that asks each question, found by its words
or, where they differ from the rubric's, by its meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

PUBLISHED = Path(__file__).parent / "notebooks" / "published"

MIT_ITEMS = ("tensor_basics", "our_dense_layer", "sequential_model", "subclass_model", "identity_model", "gradient_tape", "sgd_minimize")


@dataclass(frozen=True)
class Expected:
    assignment: str
    kinds: tuple[str, ...]  # the kinds of issue 15 the notebook is written to show
    verdicts: dict[str, str]
    questions: dict[str, str] = field(default_factory=dict)  # "item#i" -> how the markdown cell that asks it starts
    elsewhere: dict[str, str] = field(default_factory=dict)  # items whose right verdict needs work of another point of the issue
    item_kinds: dict[str, str] = field(default_factory=dict)  # the kind an item's verdict shows, where not the notebook's first

    def kind(self, item: str) -> str:
        return self.item_kinds.get(item, self.kinds[0])

    def path(self, name: str) -> Path:
        return PUBLISHED / f"{name}.ipynb"


EXPECTED = {
    "colab_lab1": Expected(
        "mit-lab1", ("colab magics", "questions by meaning"), {item: "pass" for item in MIT_ITEMS},
        {"sequential_model#0": "TensorFlow already provides"},
        item_kinds={"sequential_model": "questions by meaning"},
    ),
    "lab1_own_headings": Expected(
        "mit-lab1", ("questions by meaning",), {item: "pass" for item in MIT_ITEMS},
        {"sequential_model#0": "## Part C."},
    ),
    "lab1_one_section": Expected(
        "mit-lab1", ("rebound names",), {item: "pass" for item in MIT_ITEMS},
    ),
    "lab1_import_heading": Expected(
        "mit-lab1", ("rebound names",), {item: "pass" for item in MIT_ITEMS},
        {"sequential_model#0": "### Imports for the Keras part"},
    ),
    "week3_reworded": Expected(
        "week3-questions", ("questions by meaning",),
        {"why_copy": "manual", "why_slow": "manual", "broadcasting_example": "manual", "reshape_example": "manual",
         "grad_xy": "pass", "grad_linear": "pass", "grad_cubic": "pass"},
        {"why_copy#0": "**Q1.**", "why_slow#0": "**Q2.**", "broadcasting_example#0": "**Q3.**", "reshape_example#0": "**Q4.**",
         "grad_xy#0": "**Q5.**", "grad_linear#0": "**Q6.**", "grad_cubic#0": "**Q7.**"},
    ),
    "third_edition_ch2": Expected(
        "dlwp-ch2", ("third edition", "learning rate"),
        {"naive_relu": "pass", "naive_add": "pass", "naive_vector_dot": "pass", "naive_matrix_vector_dot": "pass",
         "naive_matrix_dot": "pass", "naive_dense": "pass", "naive_sequential": "pass", "batch_generator": "pass",
         "update_weights": "pass", "one_training_step": "pass", "fit": "pass", "trained_model": "pass"},
        elsewhere={"naive_dense": "its W and b are keras.Variable objects, which the check must accept (issue 15 point 4, on main)"},
        item_kinds={"update_weights": "learning rate"},
    ),
    "third_edition_student": Expected(
        "dlwp-ch2", ("third edition", "learning rate"),
        {"naive_relu": "pass", "naive_add": "pass", "naive_vector_dot": "pass", "naive_matrix_vector_dot": "pass",
         "naive_matrix_dot": "fail", "naive_dense": "missing", "naive_sequential": "missing", "batch_generator": "pass",
         "update_weights": "fail", "one_training_step": "missing", "fit": "missing", "trained_model": "missing"},
        item_kinds={"update_weights": "learning rate"},
    ),
}


EXPECTED["third_edition_jax"] = Expected(
    "dlwp-ch2", ("keras 3 on jax", "rebound names"),
    {item: "pass" for item in EXPECTED["third_edition_ch2"].verdicts},
)  # `model` is rebound too (the Keras listing's, then the from-scratch one): the last binding is the one judged


def question_cells(name: str) -> dict[str, int]:
    """The expected question cells of a published notebook, as cell indices."""
    expected = EXPECTED[name]
    nb = nbformat.read(expected.path(name), as_version=4)
    cells = {}
    for key, starts in expected.questions.items():
        found = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith(starts)]
        assert len(found) == 1, (name, key, starts, found)
        cells[key] = found[0]
    return cells


def wrong_verdicts(name: str, report: dict) -> list[str]:
    """The items whose verdict is not the one the notebook deserves, each with what it got."""
    got = {item["id"]: item["status"] for item in report.get("items", [])}
    return [f"{item}: {got.get(item, 'absent')} (deserves {want})" for item, want in EXPECTED[name].verdicts.items()
            if got.get(item) != want]
