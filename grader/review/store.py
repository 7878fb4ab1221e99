"""A graded batch on disk as the review sees it, and the one way a person's decision is written.

The batch is the `--out` directory of `grade SUBMISSIONS --out DIR`: one
report per submission (`*.json`), `grades.csv`, and here `overrides.csv`,
the file `grade --overrides` reads. A decision (a score and a comment for
some answers of one item) is written at once, under a lock, in this order:
the overrides CSV (the source of truth), each report concerned (through
`apply_overrides`, so the item gets `set_by: "person"` and the comment),
then the gradebook — each file atomically. Two tabs, or two `grade review`
processes, serialise on the lock and re-read from disk what they change, so
neither loses the other's score. Reports are cached in memory by
modification time, which keeps a class of 1,000 fast to open.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..atomic import write_atomic
from ..gradebook import write_gradebook
from ..overrides import Override, OverridesError, apply_overrides, read_overrides
from ..report import Answer, AnswerCell, ItemResult, Report
from ..rubric import Assignment, RubricError, UnknownAssignment
from ..loader import load_assignment

try:
    import fcntl
except ImportError:  # Windows: the in-process lock alone (one `grade review` per batch)
    fcntl = None

OVERRIDES = "overrides.csv"
GRADEBOOK = "grades.csv"
LOCK = ".review.lock"
HEADER = ("submission", "item", "score", "comment")
_CELL_MARK = re.compile(r"^\[cell (\d+)\] ", re.MULTILINE)  # how manual.py's feedback marks each answer cell


class BatchError(Exception):
    """A results directory that cannot be reviewed; the message is one sentence."""


@dataclass(frozen=True)
class ItemInfo:
    """What the review shows of one item of the assignment."""

    id: str
    title: str
    points: float
    manual: bool
    question: str  # the rubric's question text ("" for items found by name)
    run: bool = False


@dataclass
class _Cached:
    stamp: tuple[int, int, int]  # (inode, mtime_ns, size) of the file when read: an atomic write makes a new inode
    report: Report


class Batch:
    """The reports of one results directory, the overrides CSV beside them, and the lock."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise BatchError(f"{directory}: no such directory (give the --out directory of a graded batch)")
        self.overrides_path = self.directory / OVERRIDES
        self.gradebook_path = self.directory / GRADEBOOK
        self._cache: dict[str, _Cached] = {}  # report file name → report
        self._thread_lock = threading.Lock()  # decisions, one at a time
        self._cache_lock = threading.RLock()  # the cache, read by pages while a decision writes it
        self._file_of: dict[str, str] = {}  # submission file name → report file name
        self.refresh()
        graded = [r for r in self._reports().values() if r.assignment.id and r.status == "graded"]
        if not graded:
            raise BatchError(f"{directory}: holds no grading report (grade a batch into it with --out first)")
        self.assignment_id = Counter(r.assignment.id for r in graded).most_common(1)[0][0]
        self.rubric = _rubric(self.assignment_id)
        self.items = self._items()
        self.entries()  # a broken overrides file stops here, with its line

    # --- reading ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the reports changed on disk since last time (by another process too)."""
        with self._cache_lock:
            self._refresh()

    def _refresh(self) -> None:
        seen = set()
        for path in self.directory.glob("*.json"):
            if path.name.startswith("."):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            seen.add(path.name)
            cached = self._cache.get(path.name)
            if cached is not None and cached.stamp == stamp:
                continue
            try:
                report = Report.model_validate_json(path.read_bytes())
            except (OSError, ValueError):
                self._cache.pop(path.name, None)  # not a report (or half a copy): not ours to show
                continue
            self._cache[path.name] = _Cached(stamp, report)
        for gone in set(self._cache) - seen:
            del self._cache[gone]

    def _reports(self) -> dict[str, Report]:
        """Report file name → report, of this batch's assignment (rejected files included)."""
        return {name: c.report for name, c in sorted(self._cache.items())}

    def reports(self) -> dict[str, Report]:
        """Submission file name → report: the graded submissions of the assignment, current."""
        with self._cache_lock:
            self._refresh()
            graded = {name: r for name, r in self._reports().items() if r.status == "graded" and r.assignment.id == self.assignment_id}
            self._file_of = {submission_name(r): name for name, r in graded.items()}
        return {submission_name(r): r for r in graded.values()}

    def entries(self) -> dict[tuple[str, str], Override]:
        """The decisions made so far, by (submission, item); the last line for a pair wins."""
        if not self.overrides_path.exists():
            return {}
        try:
            return {(e.submission, e.item): e for e in read_overrides(self.overrides_path)}
        except OverridesError as exc:
            raise BatchError(str(exc)) from None

    def item(self, item_id: str) -> ItemInfo | None:
        return next((i for i in self.items if i.id == item_id), None)

    def _items(self) -> list[ItemInfo]:
        if self.rubric is not None:
            return [ItemInfo(i.id, i.title, i.points, i.kind == "manual", i.questions[0].text if i.questions else "", getattr(i, "run", False))
                    for i in self.rubric.items]
        found: dict[str, ItemResult] = {}  # no rubric here: the items as the reports have them
        for report in self.reports().values():
            for result in report.items:
                if result.id not in found or result.answer is not None:
                    found[result.id] = result
        return [ItemInfo(r.id, r.title, r.max_score, r.status == "manual" or r.answer is not None,
                         r.answer.question if r.answer else "") for r in found.values()]

    # --- writing ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self):
        """One decision at a time: across threads of this server and across processes."""
        with self._thread_lock:
            if fcntl is None:
                yield
                return
            with open(self.directory / LOCK, "a+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def decide(self, item_id: str, submissions: list[str], score: float, comment: str) -> list[Report]:
        """Give `score` and `comment` for `item_id` to every one of `submissions`; return their reports.

        Everything is checked before anything is written: an unknown item or
        submission, or a score outside 0..points, changes no file.
        """
        info = self.item(item_id)
        if info is None:
            raise BatchError(f"{self.assignment_id} has no item {item_id!r}")
        if not submissions:
            raise BatchError("no answer was chosen")
        if not (0 <= score <= info.points):
            raise BatchError(f"a score for {item_id} is between 0 and {info.points:g} (got {score:g})")
        comment = " ".join(comment.split())  # one line in the CSV, as a person would type it
        with self.locked():
            reports = self.reports()
            unknown = [s for s in submissions if s not in reports]
            if unknown:
                raise BatchError(f"no graded submission {unknown[0]!r} in {self.directory}")
            entries = self.entries()
            for name in submissions:
                entries[(name, item_id)] = Override(0, name, item_id, float(score), comment)
            self._write_overrides(entries)
            # each report changed is read afresh: another server may have written it a moment ago
            changed = [self._apply(self._read(name), [entries[(name, item_id)]]) for name in dict.fromkeys(submissions)]
            self._write_gradebook()
        return changed

    def sync(self) -> int:
        """Bring every report in line with the overrides CSV (a batch graded again, a CSV edited by hand).

        Returns how many reports changed; entries of submissions that are not in the batch are left alone.
        """
        with self.locked():
            reports, changed = self.reports(), 0
            by_submission: dict[str, list[Override]] = {}
            for entry in self.entries().values():
                by_submission.setdefault(entry.submission, []).append(entry)
            for name, entries in by_submission.items():
                report = reports.get(name)
                if report is None:
                    continue
                ids = {i.id: i for i in report.items}
                stale = [e for e in entries if e.item in ids and not _holds(ids[e.item], e)]
                if stale:
                    self._apply(report, stale)
                    changed += 1
            if changed or not self.gradebook_path.exists():
                self._write_gradebook()
        return changed

    def export(self) -> str:
        """The overrides CSV as `grade --overrides` reads it (a header alone when nothing is decided)."""
        with self.locked():
            return _csv_text(self.entries())

    def _read(self, submission: str) -> Report:
        try:
            return Report.model_validate_json((self.directory / self._file_of[submission]).read_bytes())
        except (OSError, ValueError) as exc:
            raise BatchError(f"the report of {submission} cannot be read ({exc})") from None

    def _apply(self, report: Report, entries: list[Override]) -> Report:
        """The report with these decisions, written (atomically) and cached."""
        report = report.model_copy(deep=True)
        for item in report.items:  # an older report keeps its answer only in the feedback, which a person's score replaces
            if item.answer is None and any(e.item == item.id for e in entries):
                item.answer = answer_from_feedback(item)
        try:
            changed = apply_overrides(report, entries, self.overrides_path)
        except OverridesError as exc:
            raise BatchError(str(exc)) from None
        name = self._file_of[submission_name(report)]
        path = self.directory / name
        write_atomic(path, changed.to_json() + "\n")
        stat = path.stat()
        with self._cache_lock:
            self._cache[name] = _Cached((stat.st_ino, stat.st_mtime_ns, stat.st_size), changed)
        return changed

    def _write_overrides(self, entries: dict[tuple[str, str], Override]) -> None:
        write_atomic(self.overrides_path, _csv_text(entries))

    def _write_gradebook(self) -> None:
        order = [i.id for i in self.rubric.items] if self.rubric is not None else []
        write_gradebook(self.reports(), self.gradebook_path, order)


def answer_from_feedback(result: ItemResult) -> Answer | None:
    """A manual item's answer as a report written before `items[].answer` has it: in its feedback.

    (Cut at 1,500 characters there; the cell type is not known: "".)
    """
    if result.status != "manual" or "The answer:\n" not in result.feedback:
        return None
    text = result.feedback.split("The answer:\n", 1)[1]
    marks = list(_CELL_MARK.finditer(text))
    if not marks:
        return Answer(question="", cells=[AnswerCell(cell=-1, cell_type="", source=text)])
    ends = [m.start() for m in marks[1:]] + [len(text)]
    return Answer(question="", cells=[AnswerCell(cell=int(m.group(1)), cell_type="", source=text[m.end():end].rstrip("\n"))
                                      for m, end in zip(marks, ends)])


def submission_name(report: Report) -> str:
    """The name the overrides CSV and the gradebook use for a submission: its file name."""
    return os.path.basename(report.submission.path)


def _holds(item: ItemResult, entry: Override) -> bool:
    return item.set_by == "person" and item.score == entry.score and (item.review_comment or "") == entry.comment


def _csv_text(entries: dict[tuple[str, str], Override]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for entry in entries.values():
        writer.writerow([entry.submission, entry.item, f"{entry.score:g}", entry.comment])
    return buffer.getvalue()


def _rubric(assignment_id: str) -> Assignment | None:
    try:
        return load_assignment(assignment_id)
    except (UnknownAssignment, RubricError):
        return None
