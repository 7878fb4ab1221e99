"""Feedback people read: the HTML page (in a real headless browser), and the terminal's --quiet / --fail-under."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import NOTEBOOKS

from grader.render import render_html
from grader.render.pictures import is_image_like
from grader.report import ArrayData, CheckResult, ItemResult, Plot, Report, Series, SubmissionRef

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "chromium is not installed: run scripts/setup-system.sh (the README's test command does)"
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


def cells_of(path: Path) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells]


@pytest.fixture(scope="module")
def lab01_page(real_reports, tmp_path_factory):
    """lab01_math.ipynb's report (graded against dlwp-ch2 in the session's batch), as a page."""
    report = Report.model_validate(real_reports["lab01"])
    page = tmp_path_factory.mktemp("page") / "lab01.html"
    page.write_text(render_html(report, cells_of(NOTEBOOKS / "lab01_math.ipynb")), encoding="utf-8")
    return report, page


@pytest.mark.kernel
def test_the_page_fetches_nothing(lab01_page):
    _, page = lab01_page
    text = page.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text, re.I)
    assert "<link" not in text and "<script" not in text and "@import" not in text
    assert "<style>" in text


@pytest.mark.kernel
def test_chromium_renders_the_failing_items_with_their_feedback(lab01_page, tmp_path):
    report, page = lab01_page
    failing = [i for i in report.items if i.status in ("fail", "error", "missing")]
    assert "naive_sequential" in [i.id for i in failing]
    dom = chromium(page, tmp_path / "profile-dom", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for item in failing:
        section = re.search(rf'<section class="item {item.status}" id="item-{item.id}".*?</section>', dom.stdout, re.S)
        assert section, item.id
        assert item.feedback[:80] in html.unescape(section.group(0))
    sequential = re.search(r'id="item-naive_sequential".*?</section>', dom.stdout, re.S).group(0)
    assert "returned after the first layer" in sequential and "Is the `return` inside the for loop?" in sequential
    assert "cell 47" in sequential and "class NaiveSequential" in sequential  # the student's own code, with its cell
    assert "expected (4×10, float32)" in sequential and "your code gave (4×512, float32)" in sequential
    assert f"{report.score:g} / {report.max_score:g}" in dom.stdout
    # failures come before the first passing item
    order = [m.group(1) for m in re.finditer(r'<section class="item (\w+)"', dom.stdout)]
    assert order.index("pass") > max(i for i, s in enumerate(order) if s in ("fail", "error", "missing"))
    shot = tmp_path / "lab01.png"
    proc = chromium(page, tmp_path / "profile-shot", "--window-size=1100,1500", f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.stat().st_size > 50_000, proc.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")


def _array(values) -> ArrayData:
    import numpy as np

    a = np.asarray(values)
    return ArrayData(shape=list(a.shape), dtype=str(a.dtype), values=a.tolist())


def test_arrays_are_tables_images_are_pictures_and_series_are_plots():
    import numpy as np

    image = _array(np.arange(28 * 28, dtype=float).reshape(28, 28) / 784)
    small = _array([[1.0, -2.0], [3.0, 4.0]])
    wide = _array(np.zeros((3, 40)))
    assert is_image_like(image) and not is_image_like(small) and not is_image_like(wide)
    item = ItemResult(id="x", title="t", status="fail", score=0, max_score=1, feedback="Wrong values.",
                      checks=[CheckResult(name="c", passed=False, message="m", inputs=[image],
                                          expected_value=small, actual_value=_array([[1.0, 0.0], [3.0, 4.0]]))],
                      plot=Plot(title="loss", series=[Series(label="your code", values=[3, 2, None, 1]), Series(label="reference", values=[3, 2, 1, 0.5])]))
    fit = ItemResult(id="w", title="t", status="fail", score=0, max_score=1, checks=[CheckResult(name="c", passed=False, actual_value=wide)])
    report = Report(grader_version="t", status="graded", submission=SubmissionRef(path="nb.ipynb"), items=[item, fit], score=0, max_score=2)
    page = render_html(report)
    assert page.count("data:image/png;base64,") == 2  # the image-like input and the loss plot
    assert '<td class="diff">0</td>' in page  # the one entry that differs from the expected
    assert page.count("<td>…</td>") == 3  # a 40-column array is cut at 10 columns, on each of its 3 rows


@pytest.fixture(scope="module")
def tiny_week3(tmp_path_factory):
    """A notebook that answers one week3-questions item (1 of 7 points): fast, no reference process."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_markdown_cell("Say x, y are scalar, find derivatives of f(x,y) = x^2*y + x*y + 3*y with respect to x and y."),
        nbformat.v4.new_code_cell("x, y = 2.0, 1.0\n[2 * x * y + y, x * x + x + 3]"),
    ])
    path = tmp_path_factory.mktemp("tiny") / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def grade(*args):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.kernel
def test_quiet_and_fail_under_for_scripts(tiny_week3, tmp_path):
    below = grade(str(tiny_week3), "-a", "week3-questions", "--quiet", "--fail-under", "2", "--html", str(tmp_path / "f.html"))
    assert below.returncode == 1 and below.stdout == "", below.stderr[-2000:]
    assert "grad_xy" in (tmp_path / "f.html").read_text()
    above = grade(str(tiny_week3), "-a", "week3-questions", "--fail-under", "10%")
    assert above.returncode == 0, above.stderr[-2000:]
    assert "1 / 7" in above.stdout
    lines = [line for line in above.stdout.splitlines() if re.search(r"\b(pass|missing|manual)\b", line)]
    statuses = [re.search(r"\b(pass|missing|manual)\b", line).group(1) for line in lines]
    assert statuses[0] == "missing" and statuses[-1] == "pass"  # failures first, each with its reason
    assert "was not found" in above.stdout
    bad = grade(str(tiny_week3), "-a", "week3-questions", "--fail-under", "lots")
    assert bad.returncode == 2 and "--fail-under" in bad.stderr
