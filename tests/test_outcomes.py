"""Cell and probe outcomes are named states whose values are the strings reports and tests always read."""

from __future__ import annotations

import json

import nbformat

from grader.grade import _cells_summary
from grader.kernel.session import CellRecord, CellStatus, ProbeFailed, RunResult
from grader.probes.context import ProbeOutcome


def test_cell_outcomes_keep_their_string_values():
    assert [s.value for s in CellStatus] == ["ok", "error", "timeout", "not_run", "dead_kernel"]
    assert CellStatus.TIMEOUT == "timeout" and json.dumps([CellStatus.DEAD_KERNEL]) == '["dead_kernel"]'
    assert [s for s in CellStatus if not s.ran] == [CellStatus.NOT_RUN]
    assert [s for s in CellStatus if s.raised] == [CellStatus.ERROR, CellStatus.DEAD_KERNEL]


def test_the_report_s_cells_are_counted_from_the_named_states():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"x = {i}") for i in range(6)])
    result = RunResult(cells=[CellRecord(0, CellStatus.OK), CellRecord(1, CellStatus.ERROR, "ValueError", "bad"),
                              CellRecord(2, CellStatus.TIMEOUT, "CellTimeoutError", "late"),
                              CellRecord(3, CellStatus.DEAD_KERNEL, "MemoryLimit", "memory limit"),
                              CellRecord(4, CellStatus.NOT_RUN), CellRecord(5, CellStatus.NOT_RUN)], kernel_died_at=3)
    cells = _cells_summary(nb, result, {})
    assert (cells.total, cells.executed, cells.timed_out, cells.not_run, cells.kernel_died_at) == (6, 4, [2], [4, 5], 3)
    assert [(e.cell, e.ename) for e in cells.errors] == [(1, "ValueError"), (3, "MemoryLimit")]


def test_a_failed_probe_is_a_named_outcome_with_the_sentence_its_item_quotes():
    result = RunResult(probe_failures={"naive_relu": ProbeFailed(ProbeOutcome.TIMED_OUT, "checking it took longer than 30 s")})
    assert result.failure("naive_relu") == "checking it took longer than 30 s"
    assert result.failure("naive_add") is None
    assert result.probe_failures["naive_relu"].outcome is ProbeOutcome.TIMED_OUT
    assert {o.value for o in ProbeOutcome} == {"kernel_dead", "timed_out", "kernel_gone", "forged"}
