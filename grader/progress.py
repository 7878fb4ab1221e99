"""What a run reports while it goes: which cell is running, which item is being checked, which was judged.

The kernel session and the grading flow call an optional `progress`
callback with these events; the CLI draws them on a terminal
(`grader.cli_progress`) and nothing else listens, so a pipe, `--quiet` or
a batch gets nothing extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union


@dataclass(frozen=True)
class KernelStarting:
    """The kernel is being started (interpreter, preamble, preloads)."""


@dataclass(frozen=True)
class CellStarted:
    position: int  # 1-based among the code cells that run
    total: int
    index: int  # the cell's index in the notebook (as reports count)
    first_line: str


@dataclass(frozen=True)
class ProbeStarted:
    item: str
    position: int
    total: int


@dataclass(frozen=True)
class ItemJudged:
    item: object  # grader.report.ItemResult


Event = Union[KernelStarting, CellStarted, ProbeStarted, ItemJudged]
Callback = Callable[[Event], None]


def first_line(source: str, width: int = 60) -> str:
    line = next((s.strip() for s in source.splitlines() if s.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"
