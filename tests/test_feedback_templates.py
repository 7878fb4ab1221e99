"""The feedback page's templates: whatever a report holds is escaped by Jinja2, and the page stays one self-contained file."""

from __future__ import annotations

import html

from grader.render import render_html
from grader.render.html import TEMPLATES
from grader.report import ArrayData, CheckResult, Found, ItemResult, Report, SubmissionRef

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & \'quoted\''


def _report(**changes) -> Report:
    check = CheckResult(name=HOSTILE, passed=False, message=HOSTILE, actual=HOSTILE,
                        expected_value=ArrayData(shape=[2], dtype="float64", values=[1.0, 2.0]))
    item = ItemResult(id="naive_relu", title=HOSTILE, status="fail", score=0, max_score=1, feedback=HOSTILE,
                      checks=[check], found=Found(name=HOSTILE, cell=0))
    return Report(grader_version=HOSTILE, status="graded", submission=SubmissionRef(path=HOSTILE), items=[item],
                  score=0, max_score=1, **changes)


def test_student_text_anywhere_on_the_page_is_escaped():
    page = render_html(_report(), [HOSTILE])
    assert "<script" not in page and "<img src=x" not in page and "onerror=alert(1)>" not in page
    text = html.unescape(page)
    # the page's title and heading (the path), the item's title and feedback, the check's name, message and value,
    # the object's name, its code, the grader's version
    assert text.count(HOSTILE) == 10


def test_a_refused_notebook_s_reason_is_escaped_too():
    page = render_html(Report(grader_version="t", status="rejected", reason=HOSTILE, submission=SubmissionRef(path=HOSTILE)))
    assert "<script" not in page and f"This notebook was not graded: {HOSTILE}" in html.unescape(page)


def test_templates_escape_by_default_and_the_stylesheet_is_inline():
    assert TEMPLATES.autoescape is True
    page = render_html(_report())
    assert page.startswith('<!DOCTYPE html><html lang="en"><head>') and page.endswith("</body></html>\n")
    assert '<style>\nbody { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;' in page  # quotes of CSS left alone
    assert "<link" not in page and "<script" not in page
