"""Batches for the review: the week-3 sample and variants of its `why_copy` answer, and made-up reports.

`week3_variants` writes notebooks to grade (the sample itself, and copies cut
to its numpy-only questions, so that each grades in about a second);
`synthetic_batch` writes reports directly, as a graded class of any size
would leave them, for tests and the benchmark that need no kernel.
"""

from __future__ import annotations

import random
from pathlib import Path

import nbformat

from grader import __version__
from grader.gradebook import write_gradebook
from grader.report import Answer, AnswerCell, AssignmentRef, ItemResult, Report, SubmissionRef

NOTEBOOKS = Path(__file__).parent / "notebooks"
SAMPLE = NOTEBOOKS / "week3_practice.ipynb"
QUESTION = "Why we use x.copy()?"
ORIGINAL = "## Preventing Modification of Original Data\n## Maintaining Data Integrity\n## Avoiding Side Effects"
HOSTILE = '## <script>document.title = "pwned"; window.pwned = 1;</script><img src=x onerror="window.pwned = 2">'

# why_copy's answer in each variant; the sample itself keeps ORIGINAL
VARIANTS = {
    "same_case.ipynb": "# preventing modification of original data\n#   maintaining data integrity\n# AVOIDING SIDE EFFECTS",
    "same_spacing.ipynb": "##Preventing Modification of Original Data\n\n## Maintaining Data Integrity   \n## Avoiding Side Effects\n",
    "reworded.ipynb": "## Preventing modification of the original data\n## Maintaining the integrity of data\n## Avoiding side-effects",
    "wrong.ipynb": "## Because copying makes the loop run faster.",
    "hostile.ipynb": HOSTILE,
}
IDENTICAL = ["same_case.ipynb", "same_spacing.ipynb", "week3_practice.ipynb"]


def _questions_only(answer: str) -> nbformat.NotebookNode:
    """The sample from `why_copy`'s question up to the TensorFlow questions, with `why_copy` answered by `answer`."""
    nb = nbformat.read(SAMPLE, as_version=4)
    start = next(i for i, c in enumerate(nb.cells) if c.source.strip() == QUESTION)
    end = next(i for i, c in enumerate(nb.cells) if c.source.startswith("Say x, y are scalar"))
    assert nb.cells[start + 1].source == ORIGINAL
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np")] + nb.cells[start:end]
    nb.cells[2].source = answer
    return nb


def week3_variants(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    for name, answer in VARIANTS.items():
        nbformat.write(_questions_only(answer), directory / name)
    return directory


WEEK3_ITEMS = [("why_copy", True), ("why_slow", True), ("broadcasting_example", True), ("reshape_example", True),
               ("grad_xy", False), ("grad_linear", False), ("grad_cubic", False)]


def report(name: str, answers: dict[str, str]) -> Report:
    """A graded week3-questions report whose free-text items were answered with `answers` (item → text)."""
    items = []
    for item_id, manual in WEEK3_ITEMS:
        if manual:
            text = answers.get(item_id)
            answer = Answer(question=item_id, cells=[AnswerCell(cell=5, cell_type="code", source=text, ran=True)]) if text else None
            items.append(ItemResult(id=item_id, title=item_id, status="manual" if text else "missing", score=0.0, max_score=1.0,
                                    feedback=f"Left for a person to grade. The answer:\n[cell 5] {text}" if text else "not found",
                                    answer=answer))
        else:
            items.append(ItemResult(id=item_id, title=item_id, status="pass", score=1.0, max_score=1.0, feedback="All checks passed."))
    return Report(grader_version=__version__, status="graded", assignment=AssignmentRef(id="week3-questions", version="1"),
                  submission=SubmissionRef(path=f"/class/{name}", sha256="0" * 64), score=3.0, max_score=7.0, items=items)


def class_answers(n: int, same: int, seed: int = 0) -> list[str]:
    """n answers to why_copy: `same` of them one answer written in varied case and spacing, the rest distinct."""
    rng = random.Random(seed)
    words = ("array original copy caller change modify function side effect data input loop value memory "
             "reference view numpy element shape safe return").split()
    out = []
    for i in range(n):
        if i < same:
            out.append(rng.choice([ORIGINAL, ORIGINAL.lower(), ORIGINAL.replace("## ", "# "), ORIGINAL.replace("\n", "\n\n")]))
        else:
            out.append(" ".join(rng.choice(words) for _ in range(rng.randint(8, 40))) + f" (student {i})")
    rng.shuffle(out)
    return out


def synthetic_batch(directory: Path, answers: list[str]) -> dict[str, Report]:
    """A results directory of one report per answer (`s0000.ipynb` …) and its gradebook."""
    directory.mkdir(parents=True, exist_ok=True)
    reports = {}
    for i, text in enumerate(answers):
        name = f"s{i:04d}.ipynb"
        reports[name] = report(name, {"why_copy": text, "why_slow": "Python loops" if i % 2 else "loops in Python"})
        (directory / f"s{i:04d}.json").write_text(reports[name].to_json() + "\n", encoding="utf-8")
    write_gradebook(reports, directory / "grades.csv", [i for i, _ in WEEK3_ITEMS])
    return reports
