"""The gradebook of a batch (`grades.csv`) and its summary: pure functions of the reports."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_atomic
from .report import Report

FIXED_COLUMNS = ["file", "status", "score", "max_score"]


def item_ids(reports: list[Report], preferred: list[str] = ()) -> list[str]:
    """Every item id, in the assignment's order, then any others in order of appearance."""
    ids = list(preferred)
    for report in reports:
        ids += [i.id for i in report.items if i.id not in ids]
    return ids


LATE_COLUMNS = ["final_score", "late_penalty", "late_reason"]  # only when a late-work policy was applied


def gradebook_rows(reports: dict[str, Report], ids: list[str]) -> list[dict[str, str]]:
    rows = []
    late = any(r.late is not None for r in reports.values())
    for name, report in sorted(reports.items()):
        row = {"file": name, "status": report.status, "score": f"{report.score:g}", "max_score": f"{report.max_score:g}"}
        scores = {i.id: f"{i.score:g}" for i in report.items}
        row.update({item: scores.get(item, "") for item in ids})
        if late:
            row.update(final_score=f"{report.final_score():g}", late_penalty=f"{report.late.points_deducted:g}" if report.late else "",
                       late_reason=report.late.reason if report.late else "")
        rows.append(row)
    return rows


def write_gradebook(reports: dict[str, Report], path: Path, preferred: list[str] = ()) -> list[str]:
    ids = item_ids(list(reports.values()), preferred)
    buffer = io.StringIO()
    late = LATE_COLUMNS if any(r.late is not None for r in reports.values()) else []
    writer = csv.DictWriter(buffer, fieldnames=FIXED_COLUMNS + ids + late)
    writer.writeheader()
    writer.writerows(gradebook_rows(reports, ids))
    write_atomic(path, buffer.getvalue())
    return ids


@dataclass
class Summary:
    graded: int
    rejected: int
    failed: int
    pass_rates: dict[str, float]
    slowest: list[tuple[str, float]]
    warm_kernels: int = 0  # graded in a kernel started ahead of use
    wait_warm_s: float = 0.0  # mean wait for a ready kernel, when it was started ahead …
    wait_cold_s: float = 0.0  # … and when it was started on demand


def summarise(reports: dict[str, Report], ids: list[str], slowest: int = 3) -> Summary:
    graded = {n: r for n, r in reports.items() if r.status == "graded"}
    rates = {}
    for item in ids:
        statuses = [i.status for r in graded.values() for i in r.items if i.id == item]
        rates[item] = sum(s == "pass" for s in statuses) / len(statuses) if statuses else 0.0
    times = sorted(((n, r.timing.total_s) for n, r in graded.items()), key=lambda p: -p[1])
    warm = [r.timing.kernel_wait_s for r in graded.values() if r.timing.kernel_warm]
    cold = [r.timing.kernel_wait_s for r in graded.values() if not r.timing.kernel_warm]
    return Summary(
        graded=len(graded),
        rejected=sum(r.status == "rejected" for r in reports.values()),
        failed=sum(r.status == "error" for r in reports.values()),
        pass_rates=rates,
        slowest=times[:slowest],
        warm_kernels=len(warm),
        wait_warm_s=sum(warm) / len(warm) if warm else 0.0,
        wait_cold_s=sum(cold) / len(cold) if cold else 0.0,
    )
