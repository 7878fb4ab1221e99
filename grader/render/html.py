"""A report as one self-contained HTML page a student wants to read.

Score, then the items, failures first: status, the feedback sentence, each
check with expected against actual on the grader's small input (arrays as
tables, image-like arrays as pictures), a plot where numbers say less than a
picture, and the student's own code of the item with its cell number.
Everything is inline (CSS, PNG data URIs): the page fetches nothing.
"""

from __future__ import annotations

from html import escape

from ..report import ArrayData, CheckResult, ItemResult, Report
from .pictures import image_uri, is_image_like, plot_uri

ORDER = {"fail": 0, "error": 1, "missing": 2, "manual": 3, "pass": 4}
LABEL = {"pass": "passed", "fail": "failed", "error": "error", "missing": "missing", "manual": "for a person"}
MAX_ROWS, MAX_COLUMNS = 8, 10
MAX_CODE_LINES = 60

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 980px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
.meta { color: #666; margin-top: 0; }
.score { font-size: 2em; font-weight: 700; }
.notice { background: #fff8e1; border-left: 4px solid #f5a623; padding: .6em .9em; margin: 1em 0; }
.item { border: 1px solid #ddd; border-radius: 6px; margin: 1em 0; padding: .4em 1em .8em; }
.item h2 { font-size: 1.1em; margin: .4em 0; }
.item.fail, .item.error { border-left: 6px solid #c0392b; }
.item.missing { border-left: 6px solid #e67e22; }
.item.manual { border-left: 6px solid #2980b9; }
.item.pass { border-left: 6px solid #27ae60; }
.badge { display: inline-block; font-size: .8em; font-weight: 600; padding: .1em .6em; border-radius: 1em; color: #fff; margin-left: .4em; }
.badge.fail, .badge.error { background: #c0392b; } .badge.missing { background: #e67e22; }
.badge.manual { background: #2980b9; } .badge.pass { background: #27ae60; }
.points { float: right; font-weight: 600; }
.feedback { white-space: pre-wrap; background: #fafafa; padding: .5em .8em; border-radius: 4px; }
table.checks { border-collapse: collapse; width: 100%; margin: .5em 0; }
table.checks td, table.checks th { border-top: 1px solid #eee; padding: .3em .5em; text-align: left; vertical-align: top; }
.ok { color: #27ae60; font-weight: 700; } .no { color: #c0392b; font-weight: 700; }
.values { display: flex; flex-wrap: wrap; gap: 1.2em; margin: .4em 0 .6em; }
.values figure { margin: 0; } .values figcaption { font-size: .85em; color: #555; }
table.array { border-collapse: collapse; font: 12px/1.2 ui-monospace, monospace; }
table.array td { border: 1px solid #ddd; padding: .15em .4em; text-align: right; }
table.array td.diff { background: #fdecea; }
pre.code { background: #f6f8fa; border: 1px solid #e1e4e8; padding: .6em; overflow-x: auto; font: 12.5px/1.4 ui-monospace, monospace; }
.cell { color: #666; font-size: .85em; }
img.plot { max-width: 100%; }
details summary { cursor: pointer; color: #444; }
"""


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


def array_table(data: ArrayData, other: ArrayData | None = None) -> str:
    """An array as a table, truncated with …; cells that differ from `other` are marked."""
    rows = _rows(data)
    other_rows = _rows(other) if other is not None and other.shape == data.shape else None
    html = ['<table class="array">']
    for r, row in enumerate(rows[:MAX_ROWS]):
        cells = []
        for c, value in enumerate(row[:MAX_COLUMNS]):
            differs = other_rows is not None and _format(other_rows[r][c]) != _format(value)
            cells.append(f'<td class="diff">{_format(value)}</td>' if differs else f"<td>{_format(value)}</td>")
        if len(row) > MAX_COLUMNS:
            cells.append("<td>…</td>")
        html.append("<tr>" + "".join(cells) + "</tr>")
    if len(rows) > MAX_ROWS:
        html.append(f'<tr><td colspan="{min(len(rows[0]), MAX_COLUMNS) + 1}">… {len(rows) - MAX_ROWS} more rows</td></tr>')
    html.append("</table>")
    return "".join(html)


def array_figure(caption: str, data: ArrayData, other: ArrayData | None = None) -> str:
    shape = "×".join(str(n) for n in data.shape) or "scalar"
    body = (f'<img alt="{escape(caption)}" src="{image_uri(data)}">' if is_image_like(data) else array_table(data, other))
    return f"<figure>{body}<figcaption>{escape(caption)} ({shape}, {escape(data.dtype)})</figcaption></figure>"


def _check_values(check: CheckResult) -> str:
    parts = []
    for index, data in enumerate(check.inputs or []):
        parts.append(array_figure(f"input {index + 1}" if len(check.inputs) > 1 else "input", data))
    if check.expected_value is not None:
        parts.append(array_figure("expected", check.expected_value))
    if check.actual_value is not None:
        parts.append(array_figure("your code gave", check.actual_value, check.expected_value))
    elif check.actual is not None and check.expected_value is not None:
        parts.append(f"<figure><code>{escape(check.actual)}</code><figcaption>your code gave</figcaption></figure>")
    return f'<div class="values">{"".join(parts)}</div>' if parts else ""


def _checks(item: ItemResult) -> str:
    if not item.checks:
        return ""
    rows = []
    for check in item.checks:
        mark = '<span class="ok">✓</span>' if check.passed else '<span class="no">✗</span>'
        detail = escape(check.message) if not check.passed else ""
        values = _check_values(check) if not check.passed else ""
        rows.append(f"<tr><td>{mark}</td><td>{escape(check.name)}{values}</td><td>{detail}</td></tr>")
    return '<table class="checks"><tr><th></th><th>check</th><th>what happened</th></tr>' + "".join(rows) + "</table>"


def _code(item: ItemResult, cells: list[str] | None) -> str:
    if item.found is None or item.found.cell is None or cells is None or not 0 <= item.found.cell < len(cells):
        return ""
    lines = cells[item.found.cell].splitlines()
    shown = "\n".join(lines[:MAX_CODE_LINES]) + ("\n…" if len(lines) > MAX_CODE_LINES else "")
    return (f'<p class="cell">Your code for this item: cell {item.found.cell}'
            f"{' (`' + escape(item.found.name) + '`)' if item.found.name != 'answer' else ''}</p>"
            f'<pre class="code">{escape(shown)}</pre>')


def item_section(item: ItemResult, cells: list[str] | None) -> str:
    plot = f'<img class="plot" alt="{escape(item.plot.title)}" src="{plot_uri(item.plot)}">' if item.plot is not None else ""
    body = f'<div class="feedback">{escape(item.feedback)}</div>{_checks(item)}{plot}{_code(item, cells)}'
    if item.status == "pass":
        body = f"<details><summary>details</summary>{body}</details>"
    who = " (set by a person)" if item.set_by == "person" else ""
    return (f'<section class="item {item.status}" id="item-{escape(item.id)}" data-status="{item.status}">'
            f'<h2><span class="points">{item.score:g} / {item.max_score:g}</span>{escape(item.id)}'
            f'<span class="badge {item.status}">{LABEL[item.status]}{who}</span></h2>'
            f'<p class="meta">{escape(item.title)}</p>{body}</section>')


def _notices(report: Report) -> str:
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
    return "".join(f'<div class="notice">{escape(n)}</div>' for n in notes)


def render_html(report: Report, cells: list[str] | None = None) -> str:
    """The feedback page of one report; `cells` are the notebook's cell sources, to show the student's code."""
    title = f"{report.assignment.id or 'notebook'} — {report.submission.path}"
    if report.status != "graded":
        body = f'<h1>{escape(title)}</h1><div class="notice">This notebook was not graded: {escape(report.reason or report.status)}</div>'
    else:
        items = sorted(report.items, key=lambda i: ORDER[i.status])
        scope = " (public checks)" if report.scope == "public" else ""
        failing = sum(i.status in ("fail", "error", "missing") for i in report.items)
        body = (f"<h1>{escape(report.assignment.title or report.assignment.id or '')}</h1>"
                f'<p class="meta">{escape(report.submission.path)} · {escape(report.assignment.id or "")}</p>'
                f'<p><span class="score" id="score">{report.score:g} / {report.max_score:g}</span>{scope} · '
                f"{failing} item(s) to fix · {sum(i.status == 'pass' for i in report.items)} passed</p>"
                f"{_notices(report)}" + "".join(item_section(i, cells) for i in items))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}"
            f'<p class="meta">grader {escape(report.grader_version)} · {report.timing.total_s:.1f} s</p></body></html>\n')
