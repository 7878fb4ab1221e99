"""A report as one self-contained HTML page a student wants to read.

Score, then the items, failures first: status, the feedback sentence, each
check with expected against actual on the grader's small input (arrays as
tables, image-like arrays as pictures), a plot where numbers say less than a
picture, and the student's own code of the item with its cell number.
Everything is inline (CSS, PNG data URIs): the page fetches nothing.

The markup is in Jinja2 templates (`grader/templates/`) with autoescape on:
whatever a report holds (feedback, names, the student's code) is escaped
there, never by hand. This module only decides what is shown: the order,
what is cut, which entries differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.ext import Extension

from ..report import ArrayData, CheckResult, ItemResult, Report
from .pictures import image_uri, is_image_like, plot_uri

ORDER = {"fail": 0, "error": 1, "missing": 2, "manual": 3, "pass": 4}
LABEL = {"pass": "passed", "fail": "failed", "error": "error", "missing": "missing", "manual": "for a person"}
MAX_ROWS, MAX_COLUMNS = 8, 10
MAX_CODE_LINES = 60


class JoinLines(Extension):
    """HTML templates are written one element a line, indented, and render as one line (the page's bytes stay as they were).

    Only the template's own text is joined: values (feedback, code) keep
    their new lines. The stylesheet is not an HTML template and is left whole.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if not (name or "").endswith(".html.j2"):
            return source
        return "".join(line.lstrip() for line in source.splitlines())


TEMPLATES = Environment(loader=PackageLoader("grader", "templates"), autoescape=True, undefined=StrictUndefined,
                        keep_trailing_newline=True, extensions=[JoinLines])
TEMPLATES.filters["g"] = lambda number: f"{number:g}"
CSS = TEMPLATES.loader.get_source(TEMPLATES, "feedback.css")[0]


@dataclass
class Row:
    cells: list[tuple[str, bool]]  # each entry's text, and whether it differs from the other array's
    cut: bool  # more columns than are shown


@dataclass
class Figure:
    """One value beside a check: an array (as a table or a picture), or the text of a value that is not data."""

    caption: str
    shape: str = ""
    dtype: str = ""
    image: str | None = None  # a PNG data URI, for an image-like array
    rows: list[Row] = field(default_factory=list)
    more_rows: int = 0
    colspan: int = 0
    code: str | None = None  # the value's text, when it is not an array


@dataclass
class CheckView:
    name: str
    passed: bool
    message: str
    figures: list[Figure]


@dataclass
class Code:
    cell: int
    name: str | None  # the item's object, when it has one
    text: str


@dataclass
class ItemView:
    """What the item's section shows, decided here; `item.html.j2` draws it."""

    item: ItemResult
    label: str
    checks: list[CheckView]
    plot: str | None  # a PNG data URI
    code: Code | None


def _format(value) -> str:
    if value is None:
        return "nan"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _rows(data: ArrayData) -> list[list]:
    values = data.values
    if len(data.shape) == 0:
        return [[values]]
    if len(data.shape) == 1:
        return [values]
    while len(data.shape) > 2 and isinstance(values, list) and values and isinstance(values[0], list) and isinstance(values[0][0], list):
        values = values[0]  # the first 2-D slice of a higher-rank array
    return values


def array_figure(caption: str, data: ArrayData, other: ArrayData | None = None) -> Figure:
    """An array as a table cut at MAX_ROWS × MAX_COLUMNS (entries that differ from `other` marked), or as a picture."""
    figure = Figure(caption, "×".join(str(n) for n in data.shape) or "scalar", data.dtype)
    if is_image_like(data):
        figure.image = image_uri(data)
        return figure
    rows = _rows(data)
    other_rows = _rows(other) if other is not None and other.shape == data.shape else None
    for r, row in enumerate(rows[:MAX_ROWS]):
        cells = [(_format(value), other_rows is not None and _format(other_rows[r][c]) != _format(value))
                 for c, value in enumerate(row[:MAX_COLUMNS])]
        figure.rows.append(Row(cells, len(row) > MAX_COLUMNS))
    if len(rows) > MAX_ROWS:
        figure.more_rows, figure.colspan = len(rows) - MAX_ROWS, min(len(rows[0]), MAX_COLUMNS) + 1
    return figure


def _figures(check: CheckResult) -> list[Figure]:
    """The check's input, expected and actual values, for a check that failed."""
    if check.passed:
        return []
    inputs = check.inputs or []
    figures = [array_figure(f"input {index + 1}" if len(inputs) > 1 else "input", data) for index, data in enumerate(inputs)]
    if check.expected_value is not None:
        figures.append(array_figure("expected", check.expected_value))
    if check.actual_value is not None:
        figures.append(array_figure("your code gave", check.actual_value, check.expected_value))
    elif check.actual is not None and check.expected_value is not None:
        figures.append(Figure("your code gave", code=check.actual))
    return figures


def _code(item: ItemResult, cells: list[str] | None) -> Code | None:
    """The student's code for the item: the found cell's source the report carries (or, for an older report, from `cells`)."""
    if item.found is None or item.found.cell is None:
        return None
    source = item.found.source
    if source is None and cells is not None and 0 <= item.found.cell < len(cells):
        source = cells[item.found.cell]
    if source is None:
        return None
    lines = source.splitlines()
    shown = "\n".join(lines[:MAX_CODE_LINES]) + ("\n…" if len(lines) > MAX_CODE_LINES else "")
    return Code(item.found.cell, item.found.name if item.found.name != "answer" else None, shown)


def item_view(item: ItemResult, cells: list[str] | None) -> ItemView:
    """The item's section: `cells` are the notebook's cell sources, to show the student's code."""
    checks = [CheckView(c.name, c.passed, c.message, _figures(c)) for c in item.checks]
    return ItemView(item, LABEL[item.status], checks, plot_uri(item.plot) if item.plot is not None else None, _code(item, cells))


def _notices(report: Report) -> list[str]:
    from ..bundle import summary_line

    notes = []
    line = summary_line(report)
    if line:
        notes.append(line)
    if report.assignment.detected:
        notes.append("The assignment was detected from the notebook; name it with --assignment to be sure.")
    if report.cells.errors:
        shown = "; ".join(f"cell {e.cell}: {e.ename}: {e.evalue}" for e in report.cells.errors[:5])
        notes.append(f"{len(report.cells.errors)} cell(s) raised an error when the notebook ran — {shown}")
    if report.cells.timed_out:
        notes.append(f"Cells over their time limit: {', '.join(map(str, report.cells.timed_out))}.")
    return notes


def render_html(report: Report, cells: list[str] | None = None) -> str:
    """The feedback page of one report; `cells` are the notebook's cell sources, to show the student's code."""
    graded = report.status == "graded"
    return TEMPLATES.get_template("feedback.html.j2").render(
        report=report,
        title=f"{report.assignment.id or 'notebook'} — {report.submission.path}",
        items=[item_view(i, cells) for i in sorted(report.items, key=lambda i: ORDER[i.status])] if graded else [],
        notices=_notices(report) if graded else [],
        failing=sum(i.status in ("fail", "error", "missing") for i in report.items),
        passed=sum(i.status == "pass" for i in report.items),
    )
