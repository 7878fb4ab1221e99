"""`grade NOTEBOOK` on a terminal: which cell is running, then the items as they are judged.

A live line on stderr — cell index of total, its first line, seconds in
that cell — while the notebook runs; then which item is being checked; and
one printed line per item as it is judged. Only on a terminal and without
`--quiet`: in a pipe nothing extra is written, so scripts read the same
output as before.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .progress import CellStarted, Event, ItemJudged, KernelStarting, ProbeStarted

_STYLE = {"pass": "green", "fail": "red", "error": "red", "missing": "yellow", "manual": "cyan"}


class TerminalProgress:
    """A grader.progress callback drawing on a rich live line."""

    def __init__(self, console: Console, what: str):
        self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                            transient=True, refresh_per_second=8)
        self.task = self.bar.add_task(f"{escape(what)}: starting the kernel", total=None)
        self.what = what

    def __call__(self, event: Event) -> None:
        if isinstance(event, KernelStarting):
            self.bar.reset(self.task, description=f"{escape(self.what)}: starting the kernel")
        elif isinstance(event, CellStarted):
            self.bar.reset(self.task, description=f"cell {event.index} ({event.position} of {event.total}) [dim]{escape(event.first_line)}[/]")
        elif isinstance(event, ProbeStarted):
            self.bar.reset(self.task, description=f"checking {escape(event.item)} ({event.position} of {event.total})")
        elif isinstance(event, ItemJudged):
            item = event.item
            self.bar.console.print(f"  [{_STYLE.get(item.status, 'white')}]{item.status:7}[/] {escape(item.id)} "
                                   f"{item.score:g}/{item.max_score:g}", highlight=False)


def terminal_console(quiet: bool) -> Console | None:
    """Where progress is drawn: stderr when it is a terminal and not `--quiet`; else None (nothing extra)."""
    console = Console(stderr=True)
    return None if quiet or not console.is_terminal else console
