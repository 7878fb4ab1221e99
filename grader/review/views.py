"""What the review pages show, built from the reports alone: answers, groups, progress.

Plain data for the templates; nothing here renders HTML (the templates do,
with autoescaping: every string below may be a hostile student's text).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..overrides import Override
from ..report import ItemResult, Report
from .grouping import Cluster, clusters, identical_groups, normalise_answer
from .store import ItemInfo, answer_from_feedback

@dataclass(frozen=True)
class Cell:
    index: int | None
    kind: str  # markdown, code, raw; "" when not known (an older report)
    source: str
    ran: bool | None = None


@dataclass
class AnswerView:
    """One submission's answer to the item, and where its grading stands."""

    submission: str
    result: ItemResult
    cells: list[Cell]
    decision: Override | None = None

    @property
    def text(self) -> str:
        return "\n".join(c.source for c in self.cells)

    @property
    def ran(self) -> str:
        """Whether its code ran, in a few words (`""` for an answer without code)."""
        code = [c for c in self.cells if c.kind == "code" and c.ran is not None]
        if not code:
            return ""
        failed = [c for c in code if not c.ran]
        return f"cell {failed[0].index} did not run cleanly" if failed else "its code ran"

    @property
    def reviewed(self) -> bool:
        """Decided here, or scored by a person some other way (`grade --overrides` with another file)."""
        return self.decision is not None or self.result.set_by == "person"


@dataclass
class ItemPage:
    info: ItemInfo
    clusters: list[Cluster[AnswerView]]
    total: int
    reviewed: int
    missing: list[str] = field(default_factory=list)  # submissions whose report has no such item


@dataclass(frozen=True)
class Progress:
    info: ItemInfo
    total: int
    reviewed: int
    answered: int  # answers found (not `missing`)


def answer_cells(result: ItemResult) -> list[Cell]:
    """The answer as written: from the report's `answer` field, or an older report's feedback."""
    answer = result.answer or answer_from_feedback(result)
    if answer is None:
        return []
    return [Cell(c.cell if c.cell >= 0 else None, c.cell_type, c.source, c.ran) for c in answer.cells]


def _automatic_key(view: AnswerView) -> str:
    """Automatic items group by verdict: the same status, score and feedback."""
    r = view.result
    return f"{r.status}\x00{r.score:g}\x00{r.set_by}\x00{r.feedback}"


def item_page(info: ItemInfo, reports: dict[str, Report], decisions: dict[tuple[str, str], Override]) -> ItemPage:
    views, missing = [], []
    for name, report in reports.items():
        result = next((i for i in report.items if i.id == info.id), None)
        if result is None:
            missing.append(name)
            continue
        views.append(AnswerView(name, result, answer_cells(result), decisions.get((name, info.id))))
    if info.manual:
        groups = identical_groups(views, lambda v: normalise_answer(v.text) if v.cells else "\x00" + v.result.status)
        found = clusters(groups)
    else:
        found = clusters(identical_groups(views, _automatic_key), near=False)
    return ItemPage(info, found, len(views), sum(v.reviewed for v in views), missing)


def progress(items: list[ItemInfo], reports: dict[str, Report], decisions: dict[tuple[str, str], Override]) -> list[Progress]:
    out = []
    for info in items:
        results = [next((i for i in r.items if i.id == info.id), None) for r in reports.values()]
        names = [n for n, res in zip(reports, results) if res is not None]
        done = sum((n, info.id) in decisions or res.set_by == "person" for n, res in zip(reports, results) if res is not None)
        out.append(Progress(info, len(names), done,
                            sum(res is not None and res.status != "missing" for res in results)))
    return out


def agreed(answers: list[AnswerView]) -> Override | None:
    """The decision every one of these answers has, if they all have the same one (to fill in the form)."""
    decisions = {(a.decision.score, a.decision.comment) if a.decision else None for a in answers}
    return answers[0].decision if len(decisions) == 1 and None not in decisions else None


def num(value: float) -> str:
    return f"{value:g}"
