"""Grades back into the LMS: fill the instructor's own Canvas or Moodle gradebook export for re-import.

Each graded submission is matched to one student of the roster (the LMS's
export), first by a `--map` CSV (`file,key`), then by the identity in its
report or in a `submission_metadata.json` beside it (Gradescope's), then by
the name the LMS gave the downloaded file:

- Canvas: `doejane_12345_6789012_lab01.ipynb` (sortable name without
  punctuation, `late` when late, the user's Canvas `ID`, the attachment id,
  the original name) — matched on the `ID` column, and the name must agree;
- Moodle: `Jane Doe_4521_assignsubmission_file_lab01.ipynb` (or that
  folder name) — matched on `First name` + `Last name`.

A submission that matches no student, or more than one, and a student
matched by two submissions, is listed and left out: never guessed. The
output keeps every column and header row of the export and adds the
assignment's column (Canvas: with its `Points Possible`; Moodle: with a
feedback column holding the late-work reason), and per-item columns on
request.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from .export.gradescope import SubmissionMetadata
from .report import Report, Student


class LmsError(Exception):
    """A roster or map file that cannot be used; the message names the file and the problem."""


class LmsFormat(str, Enum):
    canvas = "canvas"
    moodle = "moodle"


class Key(str, Enum):
    """Which roster column identifies a student in `--map` files and Gradescope's metadata."""

    email = "email"
    login = "login"
    sis_id = "sis_id"


KEY_COLUMNS = {
    LmsFormat.canvas: {Key.sis_id: ["SIS User ID"], Key.login: ["SIS Login ID"], Key.email: ["Email", "SIS Login ID"]},
    LmsFormat.moodle: {Key.sis_id: ["ID number"], Key.login: ["Username"], Key.email: ["Email address"]},
}
STUDENT_FIELD = {Key.email: "email", Key.login: "login", Key.sis_id: "sid"}
CANVAS_NAME = re.compile(r"^(?P<name>[a-z0-9]+?)(?P<late>_late)?_(?P<uid>\d+)_(?P<attachment>\d+)_(?P<original>.+)$")
MOODLE_NAME = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?:file|onlinetext)_(?P<original>.*)$")


@dataclass
class Roster:
    """An LMS gradebook export: its header, the header rows below it (Canvas' `Points Possible`), the students."""

    format: LmsFormat
    columns: list[str]
    header_rows: list[list[str]]
    students: list[dict[str, str]]
    key: Key
    key_column: str


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _compact(text: str) -> str:
    """A name as Canvas writes it into file names: lower case letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


def read_roster(path: Path, lms: LmsFormat, key: Key) -> Roster:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LmsError(f"{path}: cannot be read ({exc.strerror})") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not rows[0]:
        raise LmsError(f"{path}: is empty")
    columns = [c.strip() for c in rows[0]]
    needed = ["Student", "ID"] if lms == LmsFormat.canvas else ["First name", "Last name"]
    missing = [c for c in needed if c not in columns]
    if missing:
        raise LmsError(f"{path}: not a {lms.value.capitalize()} gradebook export (no column {', '.join(missing)})")
    header_rows, students = [], []
    for row in rows[1:]:
        row = row + [""] * (len(columns) - len(row))
        record = dict(zip(columns, row))
        if lms == LmsFormat.canvas and (record["Student"].strip() in ("Points Possible", "") or not record["ID"].strip()):
            header_rows.append(row)  # "    Points Possible", Canvas' posting-policy row
        elif any(cell.strip() for cell in row):
            students.append(record)
    candidates = [c for c in KEY_COLUMNS[lms][key] if c in columns]
    if key == Key.email and lms == LmsFormat.canvas and candidates == ["SIS Login ID"]:
        if not all("@" in s["SIS Login ID"] for s in students if s["SIS Login ID"].strip()):
            candidates = []
    if not candidates:
        raise LmsError(f"{path}: has no column for --key {key.value} ({' or '.join(KEY_COLUMNS[lms][key])})")
    return Roster(lms, columns, header_rows, students, key, candidates[0])


def read_map(path: Path) -> dict[str, str]:
    """A `file,key` CSV: a submission's file name and the student's key value."""
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise LmsError(f"{path}: cannot be read ({exc.strerror})") from None
    if rows and not {"file", "key"} <= set(rows[0]):
        raise LmsError(f"{path}: needs the columns file,key")
    return {Path(r["file"].strip()).name: r["key"].strip() for r in rows}


@dataclass
class Match:
    submission: str
    students: list[int]  # indices into the roster's students
    how: str
    marked_late: bool = False
    student: Student | None = None


@dataclass
class Matching:
    matched: dict[int, tuple[str, Report, Match]] = field(default_factory=dict)  # student index -> (submission, report, how)
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (submission, why)
    ambiguous: list[tuple[str, str]] = field(default_factory=list)  # (submission, why)


def _display(roster: Roster, index: int) -> str:
    s = roster.students[index]
    name = s["Student"] if roster.format == LmsFormat.canvas else f"{s['First name']} {s['Last name']}"
    return f"{name.strip()} ({s.get(roster.key_column, '').strip()})"


def _by_key(roster: Roster, value: str) -> list[int]:
    return [i for i, s in enumerate(roster.students) if value and _norm(s.get(roster.key_column, "")) == _norm(value)]


def _file_names(report: Report, name: str) -> list[str]:
    path = Path(report.submission.path)
    return [path.name, path.parent.name] if path.name == name else [name, path.name, path.parent.name]


def match_one(roster: Roster, name: str, report: Report, mapping: dict[str, str]) -> Match:
    """The students one submission names, and how it names them."""
    if name in mapping or Path(report.submission.path).name in mapping:
        value = mapping.get(name) or mapping[Path(report.submission.path).name]
        return Match(name, _by_key(roster, value), f"--map ({roster.key.value} {value})")
    student = report.student
    if student is None:  # a Gradescope-style folder: submission_metadata.json beside the submission
        meta = SubmissionMetadata.beside(Path(report.submission.path))
        student = meta.student() if meta is not None else None
    if student is not None and (value := getattr(student, STUDENT_FIELD[roster.key])):
        return Match(name, _by_key(roster, value), f"{student.source} identity ({roster.key.value} {value})", student=student)
    for candidate in _file_names(report, name):
        if roster.format == LmsFormat.canvas and (m := CANVAS_NAME.match(candidate)):
            found = [i for i, s in enumerate(roster.students) if s["ID"].strip() == m["uid"]]
            agree = [i for i in found if _compact(roster.students[i]["Student"]) == m["name"]]
            if found and not agree:
                return Match(name, [], f"Canvas file name says {m['name']!r} but Canvas ID {m['uid']} is {roster.students[found[0]]['Student']}")
            return Match(name, agree, f"Canvas file name (ID {m['uid']})", marked_late=bool(m["late"]))
        if roster.format == LmsFormat.moodle and (m := MOODLE_NAME.match(candidate)):
            wanted = _norm(m["name"])
            found = [i for i, s in enumerate(roster.students) if _norm(f"{s['First name']} {s['Last name']}") == wanted]
            return Match(name, found, f"Moodle file name ({m['name']})")
    return Match(name, [], f"its name follows no {roster.format.value.capitalize()} download pattern and no --map entry or "
                           f"Gradescope identity names it")


def match_all(roster: Roster, reports: dict[str, Report], mapping: dict[str, str]) -> Matching:
    result, claims = Matching(), {}
    for key, report in sorted(reports.items()):
        name = Path(report.submission.path).name or key  # the submission's own file name, as the instructor knows it
        found = match_one(roster, name, report, mapping)
        if not found.students:
            why = found.how if "says" in found.how or "pattern" in found.how else f"no student fits its {found.how}"
            result.unmatched.append((name, why))
        elif len(found.students) > 1:
            who = "; ".join(_display(roster, i) for i in found.students)
            result.ambiguous.append((name, f"its {found.how} fits {len(found.students)} students: {who}"))
        else:
            claims.setdefault(found.students[0], []).append((name, report, found))
    for index, claimed in claims.items():
        if len(claimed) == 1:
            result.matched[index] = claimed[0]
        else:
            names = ", ".join(n for n, _, _ in claimed)
            for name, _, _ in claimed:
                result.ambiguous.append((name, f"{_display(roster, index)} is named by {len(claimed)} submissions: {names}"))
    return result


def _existing_column(roster: Roster, title: str, assignment_id: str, chosen: str | None) -> str | None:
    if chosen:
        return chosen
    for column in roster.columns:
        bare = re.sub(r"\s*\(\d+\)$", "", column)  # Canvas: "Lab 1 (12345)"
        bare = re.sub(r"^Assignment:\s*|\s*\((Real|Points|Percentage|Letter)\)$", "", bare)  # Moodle: "Assignment: Lab 1 (Real)"
        if _norm(bare) in (_norm(title), _norm(assignment_id)):
            return column
    return None


def _number(value: float) -> str:
    return f"{value:g}"


def fill(roster: Roster, matching: Matching, *, title: str, assignment_id: str, max_score: float,
         column: str | None = None, items: list[tuple[str, float]] = ()) -> tuple[str, str]:
    """The roster's CSV with the assignment's column (and per-item columns) filled in; returns (csv text, column)."""
    target = _existing_column(roster, title, assignment_id, column) or title
    columns = list(roster.columns)
    added = [] if target in columns else [target]
    item_columns = {item_id: f"{title}: {item_id}" for item_id, _ in items}
    added += [c for c in item_columns.values() if c not in columns]
    feedback = f"{target} (feedback)" if roster.format == LmsFormat.moodle else None
    if feedback and feedback not in columns:
        added.append(feedback)
    columns += added
    points = {target: max_score, **{item_columns[i]: p for i, p in items}}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in roster.header_rows:
        record = dict(zip(roster.columns, row))
        if record.get("Student", "").strip() == "Points Possible":
            record.update({c: _number(points[c]) for c in added if c in points})
        writer.writerow([record.get(c, "") for c in columns])
    for index, student in enumerate(roster.students):
        record = dict(student)
        if index in matching.matched:
            _, report, _ = matching.matched[index]
            if report.status == "graded":
                record[target] = _number(report.final_score())
                scores = {i.id: i.score for i in report.items}
                record.update({item_columns[i]: _number(scores[i]) for i, _ in items if i in scores})
            elif report.status == "rejected":  # a file that is not a gradable notebook earns nothing
                record[target] = "0"
            # status `error`: the grader failed, not the student; the cell stays as exported (the command lists it)
            if feedback:
                record[feedback] = (report.late.reason if report.late else "") if report.status == "graded" else (report.reason or "")
        writer.writerow([record.get(c, "") for c in columns])
    return out.getvalue(), target
