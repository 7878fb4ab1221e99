"""Feedback that names the cause: another item the notebook relies on, or the notebook's own test cell.

An item judged on what the notebook built with its own code (the model its
own `fit` trained with its own layers) fails when one of those parts fails,
and its own hint ("train the model with fit()…") then sends the student the
wrong way. The rubric says which items an item relies on (`depends_on`);
when one of them failed too, the feedback names it first as the likely
cause. An error raised by the notebook's own test code (an old `assert` in
the cell that defines an item) is shown as one line, not its whole text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .report import ItemResult

if TYPE_CHECKING:
    from .rubric import Item

FAILED = ("fail", "error", "missing")
WIDTH = 160


def one_line(ename: str, evalue: str, width: int = WIDTH) -> str:
    """`ename: first line of evalue`, cut to `width` (a multi-line message ends with …)."""
    lines = [line.strip() for line in (evalue or "").splitlines() if line.strip()]
    text = lines[0] if lines else ""
    if len(lines) > 1 or len(text) > width:
        text = text[:width].rstrip() + " …"
    return f"{ename}: {text}" if text else ename


def cell_raised(cell: int, how: str, name: str, ename: str, evalue: str) -> str:
    """The note for a cell of the item that raised: an assert of the notebook's own, or another error, in one line."""
    if ename == "AssertionError":
        message = one_line("", evalue).lstrip(": ")
        return f" Cell {cell}, which {how} `{name}`, stopped at one of its own asserts{' (' + message + ')' if message else ''}."
    line = one_line(ename, evalue)
    return f" Cell {cell}, which {how} `{name}`, raised {line}" + ("" if line.endswith((".", "…")) else ".")


def with_causes(feedback: str, spec: Item, causes: list[ItemResult]) -> str:
    """The feedback of an item that failed, led by the items it relies on that failed too, without its now misleading hints."""
    if not causes:
        return feedback
    for hint in [c.hint for c in getattr(spec, "checks", [])] + [spec.hint]:
        if hint and hint in feedback:
            feedback = feedback.replace(hint, "").replace("  ", " ").strip()
    names = ", ".join(f"`{c.id}`" for c in causes)
    first = causes[0]
    return (f"Likely cause: {names} failed in this notebook too, and this item is judged on what the notebook "
            f"built with {'it' if len(causes) == 1 else 'them'} ({first.id}: {_short(first.feedback)}). "
            f"Fix {'it' if len(causes) == 1 else 'those'} first. {feedback[:1].upper() + feedback[1:]}").strip()


def _short(text: str, width: int = 120) -> str:
    text = text.strip().rstrip(".")
    return text if len(text) <= width else text[:width].rstrip() + " …"
