"""`%check` in a student's notebook: the same verdict as the full grade, from the same engine.

The in-notebook check runs the item's probe request on the live kernel's
objects and judges with the same check kind; so after a top-to-bottom run
its verdict on an item must equal the full grade's. Shown on the numpy part
of each dlwp-ch2 sample and of each single-defect variant (the cells that
define the assignment's numpy items, run with nbclient, then a cell of
`%check` lines), against the reports the session already has (no second
grading). Items the live kernel cannot check must say so.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from conftest import NOTEBOOKS, item

from grader.notebook import defining_cells
from grader.loader import load_assignment
from grader.selfcheck import MIME, PREVIEW, Previewed, SelfCheck, check, not_previewable

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "dlwp-ch2"
SAMPLES = {"walkthrough": "dlwp-ch2_walkthrough.ipynb", "week3": "week3_practice.ipynb", "lab01": "lab01_math.ipynb"}
NUMPY_VARIANTS = ["base", "relu_mutates_input", "add_overwrites", "vector_dot_wrong_index", "matrix_vector_dot_transposed",
                  "matrix_dot_wrong_column", "tampered_numpy"]


def numpy_items() -> list:
    """The assignment's items answered with numpy alone (functions), whose cells run in a second."""
    return [i for i in load_assignment(ASSIGNMENT).items if i.kind == "function"]


def numpy_part(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """The cells that define the numpy items (last definition of each, in order), then `%check` of each."""
    defined = defining_cells(nb)
    items = [i for i in numpy_items() if any(n in defined for n in i.names)]
    keep = sorted({defined[n] for i in items for n in i.names if n in defined})
    part = nbformat.v4.new_notebook()
    part.cells = [nbformat.v4.new_code_cell("import numpy as np")] + [nbformat.v4.new_code_cell(nb.cells[k].source) for k in keep]
    part.cells.append(nbformat.v4.new_code_cell("%load_ext grader"))
    part.cells.append(nbformat.v4.new_code_cell("\n".join(f"%check -a {ASSIGNMENT} {i.id}" for i in items)))
    return part, [i.id for i in items]


def in_notebook_verdicts(nb: nbformat.NotebookNode) -> dict[str, dict]:
    """Execute the notebook with nbclient (this checkout on the kernel's path); the last cell's `%check` results."""
    from nbclient import NotebookClient

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True)
    client.km = client.create_kernel_manager()
    with client.setup_kernel(env=env):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
    found = {}
    for output in nb.cells[-1].outputs:
        data = output.get("data", {}).get(MIME)
        if data is not None:
            found[data["item"]] = data
    return found


@pytest.fixture(scope="module")
def compared(real_reports, variant_reports):
    """(subject, item) -> (in-notebook result, the full grade's item), for every numpy item of every subject."""
    from variants import base, variant

    subjects = {name: (nbformat.read(NOTEBOOKS / file, as_version=4), real_reports[name]) for name, file in SAMPLES.items()}
    subjects.update({f"variant {name}": (base() if name == "base" else variant(name), variant_reports[name]) for name in NUMPY_VARIANTS})

    def run(name):
        part, items = numpy_part(subjects[name][0])
        return name, items, in_notebook_verdicts(part)

    import time

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(run, subjects))
    print(f"{len(runs)} notebooks executed with %check in {time.monotonic() - began:.1f} s")
    pairs = {}
    for name, items, verdicts in runs:
        for item_id in items:
            pairs[(name, item_id)] = (verdicts.get(item_id), item(subjects[name][1], item_id))
    print("compared:", json.dumps(sorted(f"{n}: {i} {v[0] and v[0]['previewed']}" for (n, i), v in pairs.items()), indent=0))
    return pairs


@pytest.mark.kernel
def test_every_numpy_item_of_every_sample_and_variant_was_compared(compared):
    subjects = {name for name, _ in compared}
    assert subjects == set(SAMPLES) | {f"variant {n}" for n in NUMPY_VARIANTS}
    assert all(mine is not None for mine, _ in compared.values()), [k for k, (m, _) in compared.items() if m is None]
    checked = [k for k, (mine, _) in compared.items() if mine["previewed"] == Previewed.CHECKED.value]
    needs_reference = {i.id for i in numpy_items() if not_previewable(i)}
    assert needs_reference == {"naive_matrix_vector_dot", "naive_matrix_dot"}
    assert set(checked) == {k for k in compared if k[1] not in needs_reference} and len(checked) >= 25
    failing = {k for k, (mine, full) in compared.items() if full["status"] != "pass"}
    assert ("variant relu_mutates_input", "naive_relu") in failing and ("variant add_overwrites", "naive_add") in failing


@pytest.mark.kernel
def test_in_notebook_verdict_equals_the_full_grade(compared):
    for key, (mine, full) in compared.items():
        if mine["previewed"] != Previewed.CHECKED.value:
            continue
        assert (mine["status"], mine["score"], mine["max_score"]) == (full["status"], full["score"], full["max_score"]), (key, mine, full)
        if full["status"] == "pass":
            assert mine["feedback"] == full["feedback"], key


@pytest.mark.kernel
def test_items_that_need_reference_code_say_they_cannot_be_previewed(compared):
    for (name, item_id), (mine, full) in compared.items():
        if item_id in ("naive_matrix_vector_dot", "naive_matrix_dot"):
            assert mine["previewed"] == Previewed.NOT_PREVIEWABLE.value and mine["status"] == "not checked", (name, mine)
            assert "cannot be previewed" in mine["feedback"] and "`grade`" in mine["feedback"]


# --- without a kernel --------------------------------------------------------------------------------


def test_an_item_found_by_its_question_is_not_guessed():
    week3 = load_assignment("week3-questions")
    anchored = next(i for i in week3.items if i.id == "grad_xy")
    why = not_previewable(anchored)
    assert "answered at its cell" in why and "run `grade` for it" in why and anchored.questions[0].text in why
    result = check("grad_xy", assignment="week3-questions", namespace={})
    assert result.previewed is Previewed.NOT_PREVIEWABLE and result.status == "not checked"
    assert PREVIEW in repr(result) and "not checked here" in result._repr_html_()


def test_a_name_not_defined_yet_says_which_cell_should_define_it(tmp_path):
    nb = nbformat.read(NOTEBOOKS / "lab01_math.ipynb", as_version=4)
    path = tmp_path / "lab01.ipynb"
    nbformat.write(nb, path)
    cell = defining_cells(nb)["naive_relu"]
    known = check("naive_relu", assignment=ASSIGNMENT, namespace={}, notebook=path)
    assert known.status == "missing" and f"Cell {cell} of the saved notebook" in known.feedback and "def naive_relu" in known.feedback
    unknown = check("naive_relu", assignment=ASSIGNMENT, namespace={})
    assert unknown.status == "missing" and "no cell has defined it yet" in unknown.feedback


def test_the_assignment_is_found_from_the_live_names_or_named():
    from grader.selfcheck import CheckError, find_assignment

    week3 = nbformat.read(NOTEBOOKS / "week3_practice.ipynb", as_version=4)
    names = {n: None for n in defining_cells(week3)}
    assert find_assignment(None, names, None).id in (ASSIGNMENT, "lab01-math")
    with pytest.raises(CheckError, match="%check -a ID"):
        find_assignment(None, {}, None)
    with pytest.raises(CheckError, match="no item 'nope'"):
        check("nope", assignment=ASSIGNMENT, namespace={})


def test_text_and_html_say_it_is_a_preview_and_mark_differences():
    from grader.report import ArrayData, CheckResult, ItemResult

    judged = ItemResult(id="naive_relu", title="relu", status="fail", score=0.0, max_score=1.0, feedback="wrong values.",
                        checks=[CheckResult(name="floats", passed=False, message="wrong values", expected="1", actual="2",
                                            expected_value=ArrayData(shape=[2], dtype="float64", values=[1.0, 0.0]),
                                            actual_value=ArrayData(shape=[2], dtype="float64", values=[1.0, -3.0]))])
    result = SelfCheck(item="naive_relu", title="relu", status="fail", score=0.0, max_score=1.0, feedback="wrong values.", result=judged)
    text, page = repr(result), result._repr_html_()
    assert "naive_relu: fail (0/1)" in text and "expected 1, got 2" in text and PREVIEW in text
    assert '<td class="diff">-3</td>' in page and "grader-check" in page and "fresh top-to-bottom run" in page
    assert "body {" not in page  # the notebook page's own style is left alone
    assert result._repr_mimebundle_()[MIME]["status"] == "fail"


@pytest.mark.kernel
def test_check_lines_left_in_a_submission_do_nothing_when_graded_and_old_asserts_are_one_line(tmp_path):
    """The grading kernel's `grader` is a stand-in: `%check` runs no grader code inside the kernel under test."""
    from conftest import run_grade

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\ndef naive_relu(x):\n    return np.maximum(x, 0)"),
                nbformat.v4.new_code_cell("%load_ext grader\n%check naive_relu\nfrom grader import check\nassert check('naive_relu') is None"),
                # an old test left in the cell that defines a wrong item: one line in its feedback, not numpy's whole message
                nbformat.v4.new_code_cell("def naive_add(x, y):\n    return x - y\n"
                                          "np.testing.assert_allclose(naive_add(np.ones((2, 2)), np.ones((2, 2))), 2 * np.ones((2, 2)))")]
    path = tmp_path / "with_checks.ipynb"
    nbformat.write(nb, path)
    proc, report = run_grade(path, tmp_path / "r.json", "-a", ASSIGNMENT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [e["cell"] for e in report["cells"]["errors"]] == [2] and item(report, "naive_relu")["status"] == "pass"
    add = item(report, "naive_add")
    assert add["status"] == "fail" and "Cell 2, which defines `naive_add`, stopped at one of its own asserts (Not equal to tolerance" in add["feedback"]
    assert "\n" not in add["feedback"] and "Mismatched elements" not in add["feedback"]


def notebook_page(nb: nbformat.NotebookNode) -> str:
    """An executed notebook as a page: each cell's code, then its outputs as a notebook front end shows them."""
    from html import escape

    parts = []
    for number, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        parts.append(f'<div class="cell"><div class="prompt">In [{number + 1}]:</div><pre class="input">{escape(cell.source)}</pre>')
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data:
                parts.append(f'<div class="output">{data["text/html"]}</div>')
            elif "text/plain" in data or "text" in output:
                parts.append(f'<pre class="output">{escape(data.get("text/plain") or output.get("text", ""))}</pre>')
        parts.append("</div>")
    style = ("body{font:14px system-ui;margin:1em 2em} .cell{margin:1em 0} .prompt{color:#303f9f;font:12px monospace}"
             " pre.input{background:#f5f5f5;border:1px solid #e0e0e0;padding:.5em}")
    return f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>{style}</style></head><body>{"".join(parts)}</body></html>'


@pytest.mark.kernel
def test_a_notebook_page_shows_the_failing_item_with_expected_and_actual(tmp_path):
    """Headless Chromium on a notebook page whose `%check` output shows a failing item: expected against actual, marked."""
    import html
    import re

    from test_feedback import chromium

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\ndef naive_relu(x):\n    return np.abs(x)  # wrong: |x|, not max(x, 0)"),
                nbformat.v4.new_code_cell("%load_ext grader"),
                nbformat.v4.new_code_cell(f"%check -a {ASSIGNMENT} naive_relu")]
    in_notebook_verdicts(nb)
    page = tmp_path / "notebook.html"
    page.write_text(notebook_page(nb), encoding="utf-8")
    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    section = re.search(r'<section class="item fail".*?</section>', dom.stdout, re.S)
    assert section, dom.stdout[-3000:]
    text = html.unescape(section.group(0))
    assert "naive_relu" in text and "wrong values" in text
    assert "expected (" in text and "your code gave (" in text and 'class="diff"' in text
    assert "fresh top-to-bottom run" in html.unescape(dom.stdout)
    shot = tmp_path / "notebook.png"
    proc = chromium(page, tmp_path / "profile-shot", "--window-size=1000,1400", f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 30_000, proc.stderr[-2000:]
    print(f"screenshot: {shot}")
