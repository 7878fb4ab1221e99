"""Which files a batch grades, which of them a shard grades, and the name of each one's report.

Apart from `grader.batch` so that the command can count a class's
submissions (and start its workers) before it imports the grader.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


def collect(paths: Iterable[Path]) -> list[Path]:
    """The submissions: files as given, and every visible file inside a directory."""
    found = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        else:
            found.append(path)
    return found


def _unique(submissions: list[Path], plain, in_folder) -> dict[Path, str]:
    """A name per submission: `plain(path)`, or `in_folder(path)` for a second of the same plain name."""
    named, used = {}, set()
    for path in submissions:
        name = plain(path)
        if name in used:
            name = in_folder(path)
        used.add(name)
        named[path] = name
    return named


def submission_keys(submissions: list[Path]) -> dict[Path, str]:
    """How the gradebook and similarity name each submission: its file name, or `folder/file` for a second of the
    same name in another folder (whose report is `folder__stem.json`, `report_names`)."""
    return _unique(submissions, lambda path: path.name, lambda path: f"{path.parent.name}/{path.name}")


def report_names(submissions: list[Path]) -> dict[Path, str]:
    """A report file name per submission, named after it (`lab01.ipynb` → `lab01.json`)."""
    return _unique(submissions, lambda path: f"{path.stem}.json", lambda path: f"{path.parent.name}__{path.stem}.json")


@dataclass(frozen=True)
class Shard:
    """Part I of N of a batch (`--shard I/N`, for a job array): every N-th submission in the order of their report names.

    The shards of one set of submissions cover each of them exactly once, whatever
    machine or order they run in; a final `--merge` builds the gradebook from all.
    """

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Shard":
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise ValueError(f"--shard {text!r} is not I/N (e.g. 2/8)") from None
        if not 1 <= index <= count:
            raise ValueError(f"--shard {text}: I must be between 1 and N")
        return cls(index, count)

    def select(self, submissions: list[Path], names: dict[Path, str]) -> list[Path]:
        ordered = sorted(submissions, key=lambda path: names[path])
        return [path for k, path in enumerate(ordered) if k % self.count == self.index - 1]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
