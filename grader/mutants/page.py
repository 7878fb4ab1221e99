"""The page of surviving mutants: each one as a diff of the solution's cell, under its item, with the table above.

One self-contained HTML file (inline CSS, no script, no network), drawn by
Jinja2 with autoescaping: the code shown is the instructor's, but escaping
it is the rule everywhere.
"""

from __future__ import annotations

import difflib

from jinja2 import Environment, select_autoescape

from .models import Fate, MutationReport

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Mutants of {{ r.assignment }} (version {{ r.version }})</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; } td, th { padding: .2em .7em; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.low { color: #b00; font-weight: bold; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: 13px; }
pre span { display: block; min-height: 1em; } .add { background: #dfd; } .del { background: #fdd; } .hunk { color: #888; }
h3 { margin-bottom: .2em; } .desc { color: #444; margin: .2em 0 .4em; }
</style></head><body>
<h1>Mutants of {{ r.assignment }} <small>(rubric version {{ r.version }})</small></h1>
<p>{{ r.mutants|length }} mutants of the solution, at most {{ r.max_per_item }} per item (seed {{ r.seed }}), graded in {{ r.seconds }} s.
A <b>survivor</b> is a change of the solution that changes what the grader observes and still passes its item: a gap in the rubric.</p>
{% for problem in r.problems %}<p class="low">{{ problem }}</p>{% endfor %}
<table><tr><th>item</th><th>killed</th><th>survived</th><th>equivalent</th><th>broken</th><th>free</th><th>kill rate</th></tr>
{% for item, t in r.items.items() %}<tr><td>{{ item }}</td><td>{{ t.killed }}</td><td>{{ t.survived }}</td><td>{{ t.equivalent }}</td>
<td>{{ t.broken }}</td><td>{{ t.free }}</td><td class="{{ 'low' if t.score is not none and t.score < 0.9 else '' }}">{{ '%.0f%%' % (100 * t.score) if t.score is not none else '–' }}</td></tr>
{% endfor %}</table>
{% if cascades %}<h2>Cascades: a mutant of one item made another fail</h2><ul>
{% for c in cascades %}<li><code>{{ c.failed }}</code> ({{ c.status }}) by a mutant of <code>{{ c.item }}</code>{% if c.expected %} — expected: it depends on it{% endif %}</li>{% endfor %}</ul>{% endif %}
{% if r.free %}<h2>Left free by the rubric</h2>
<p>Code the sheet leaves to the student (<code>[[validate.free]]</code>): the mutants inside it were neither sampled nor graded, and do not count in the kill rate.</p>
{% for f in r.free %}<h3><code>{{ f.item }}</code>: {{ f.mutants|length }} mutants{% if f.operators %} ({{ f.operators|join(', ') }}){% endif %}</h3>
<p class="desc">{{ f.why }}</p>
{% for text in f.find %}<pre>{{ text }}</pre>{% endfor %}
{% if f.mutants %}<details><summary>the mutants left out</summary><ul>
{% for m in f.mutants %}<li>cell {{ m.cell }}, line {{ m.line }}: {{ m.description }}</li>{% endfor %}</ul></details>{% endif %}
{% endfor %}{% endif %}
<h2>Survivors</h2>
{% for item, group in survivors %}<h2 id="{{ item }}"><code>{{ item }}</code></h2>
{% for m, diff in group %}<h3>cell {{ m.cell }}, line {{ m.line }}: {{ m.operator }}</h3><p class="desc">{{ m.description }}</p>
<pre>{% for kind, line in diff %}<span class="{{ kind }}">{{ line }}</span>{% endfor %}</pre>
{% endfor %}{% else %}<p>None: every mutant that changes an observation fails its item.</p>{% endfor %}
</body></html>
"""


def _diff(original: str, mutated: str, cell: int) -> list[tuple[str, str]]:
    lines = difflib.unified_diff(original.splitlines(), mutated.splitlines(), f"solution, cell {cell}", "mutant", lineterm="", n=2)
    kinds = []
    for line in lines:
        kind = "hunk" if line.startswith(("@@", "---", "+++")) else "add" if line.startswith("+") else "del" if line.startswith("-") else ""
        kinds.append((kind, line))
    return kinds


def render_page(report: MutationReport) -> str:
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    survivors: dict[str, list] = {}
    for mutant in report.mutants:
        if mutant.fate is Fate.SURVIVED:
            survivors.setdefault(mutant.item, []).append((mutant, _diff(mutant.original, mutant.source, mutant.cell)))
    return env.from_string(_TEMPLATE).render(r=report, survivors=list(survivors.items()),
                                             cascades=[c for c in report.cascades])
