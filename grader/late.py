"""Late work: a policy (due date, grace period, penalty per day, cap) applied to a report's score, with the reason.

The policy comes from the rubric's `[late]` table or the command line. The
submission time comes from Gradescope's `submission_metadata.json`, a
`--submitted-at` CSV (`file,submitted_at`), or, only when asked for by
name, the file's modification time (and the reason then says so). Canvas
marks a late download in its file name (`…_late_…`) without the time: such
a submission is recorded as late with no penalty until its time is given.
A report's `score` stays the sum of its items; `late.score` is what the
gradebook records.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime, timezone
from pathlib import Path

from .report import LatePenalty, Report
from .rubric import LatePolicy

__all__ = ["LateError", "LatePolicy", "apply_late", "assess", "parse_time", "read_submitted_at"]


class LateError(Exception):
    """A policy or a submission-times file that cannot be used; the message names the file, line and problem."""


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (a trailing `Z` allowed); without a time zone it is read as UTC."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _span(minutes: float) -> str:
    days, rest = divmod(int(round(minutes)), 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts)


def assess(report: Report, policy: LatePolicy, submitted_at: datetime | None, source: str,
           marked_late: bool = False) -> LatePenalty | None:
    """The policy's verdict on one submission (None: on time, or no due date)."""
    if policy.due is None or report.status != "graded":
        return None
    due = policy.due.isoformat()
    if submitted_at is None:
        if not marked_late:
            return None
        return LatePenalty(due=due, source=source, score=report.score,
                           reason=f"{source.capitalize()} marks this submission late but gives no time; no penalty was applied "
                                  f"(give its time with --submitted-at to apply the policy).")
    minutes = (submitted_at - policy.due).total_seconds() / 60
    if minutes <= 0:
        return None
    when = f"submitted {submitted_at.isoformat()}, {_span(minutes)} after the due date {due}"
    if source == "mtime":
        when += " (time taken from the file's modification time, which may not be when it was submitted)"
    if minutes <= policy.grace_minutes:
        return LatePenalty(submitted_at=submitted_at.isoformat(), due=due, source=source, minutes_late=round(minutes, 1),
                           score=report.score, reason=f"{when[:1].upper()}{when[1:]}: within the {policy.grace_minutes:g}-minute grace period, no penalty.")
    days = math.ceil((minutes - policy.grace_minutes) / 1440)
    percent = min(policy.cap_percent, days * policy.penalty_per_day)
    base = report.score if policy.of == "score" else report.max_score
    deducted = round(min(report.score, base * percent / 100), 4)
    score = round(report.score - deducted, 4)
    reason = (f"{when[:1].upper()}{when[1:]}: {days} day{'s' if days != 1 else ''} late, {percent:g}% off "
              f"({policy.describe()}): {report.score:g} − {deducted:g} = {score:g} points.")
    return LatePenalty(submitted_at=submitted_at.isoformat(), due=due, source=source, minutes_late=round(minutes, 1), days_late=days,
                       penalty_percent=percent, points_deducted=deducted, score=score, reason=reason)


def apply_late(report: Report, policy: LatePolicy, submitted_at: datetime | None, source: str,
               marked_late: bool = False) -> Report:
    """The report with the policy's verdict in `late` (replacing an earlier one); idempotent."""
    return report.model_copy(update={"late": assess(report, policy, submitted_at, source, marked_late)})


def read_submitted_at(path: Path) -> dict[str, datetime]:
    """A `file,submitted_at` CSV: each submission's file name and time (ISO 8601)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise LateError(f"{path}: cannot be read ({exc.strerror})") from None
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames or not {"file", "submitted_at"} <= set(rows.fieldnames):
        raise LateError(f"{path}: needs the columns file,submitted_at")
    times = {}
    for line, row in enumerate(rows, start=2):
        try:
            times[Path(row["file"].strip()).name] = parse_time(row["submitted_at"] or "")
        except ValueError:
            raise LateError(f"{path}, line {line}: {row['submitted_at']!r} is not an ISO 8601 time") from None
    return times
