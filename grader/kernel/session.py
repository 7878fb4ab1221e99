"""One kernel for one submission: start it fresh, run the cells, ask the probes, stop it.

nbclient drives the kernel; this module adds what grading needs around it:
a preamble before cell 0, a per-cell and a whole-notebook time limit (a cell
over its limit is interrupted and the run goes on), a record of what each
cell did, probe cells after the notebook's own, and a kill of the kernel's
whole process group at the end.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from .channel import read_response

TIMEOUT_ENAME = "CellTimeoutError"
STREAM_KEEP = 20_000  # characters of a cell's printed output kept for checks


@dataclass
class CellRecord:
    """What one code cell did."""

    index: int
    status: str  # ok | error | timeout | not_run | dead_kernel
    ename: str | None = None
    evalue: str | None = None
    stdout: str = ""
    seconds: float = 0.0


@dataclass
class ProbeCall:
    key: str
    source: str
    token: str
    timeout: float


@dataclass
class RunResult:
    cells: list[CellRecord] = field(default_factory=list)
    responses: dict[str, dict | None] = field(default_factory=dict)
    probe_failures: dict[str, str] = field(default_factory=dict)
    kernel_died_at: int | None = None  # the notebook cell that killed the kernel
    dead: bool = False  # the kernel is gone (killed by a cell or by a probe)
    execute_s: float = 0.0
    probe_s: float = 0.0


@dataclass
class Limits:
    cell_timeout: float
    notebook_timeout: float


def _code_cell(source: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(source)


def _stream_text(outputs: list) -> str:
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stdout")
    return text[:STREAM_KEEP]


class KernelSession:
    """Runs one prepared notebook in a fresh kernel, then its probe cells."""

    def __init__(self, nb: nbformat.NotebookNode, *, workdir: str, env: dict[str, str], limits: Limits, preamble: str):
        self.nb = nb
        self.workdir = workdir
        self.env = env
        self.limits = limits
        self.preamble = preamble
        self._reply: dict = {}
        self.client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=max(1, int(limits.cell_timeout)),
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "the cell ran past its time limit", "traceback": []},
            shutdown_kernel="immediate",
            record_timing=False,
            resources={"metadata": {"path": workdir}},
            on_cell_executed=self._on_cell_executed,
        )

    def _on_cell_executed(self, cell, cell_index, execute_reply):
        self._reply = execute_reply or {}

    async def _execute(self, cell, index: int, timeout: float, store_history: bool = True) -> dict:
        self.client.timeout = max(1, int(math.ceil(timeout)))
        self._reply = {}
        await self.client.async_execute_cell(cell, index, store_history=store_history)
        return self._reply.get("content", {})

    async def _execute_hidden(self, cell, timeout: float) -> dict:
        """Run a cell of the grader's own; nbclient wants it in the notebook, briefly."""
        self.nb.cells.append(cell)
        try:
            return await self._execute(cell, len(self.nb.cells) - 1, timeout, store_history=False)
        finally:
            self.nb.cells.pop()

    async def run(self, probes: list[ProbeCall], captures: dict[int, list[ProbeCall]] | None = None) -> RunResult:
        """Run the notebook, the `captures` right after their cells, then the `probes`."""
        self.captures = captures or {}
        result = RunResult()
        pgid = None
        try:
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # kernel logs are not for the student
            async with self.client.async_setup_kernel(env=self.env, cwd=self.workdir, **quiet):
                pgid = getattr(self.client.km.provisioner, "pgid", None)
                await self._execute_hidden(_code_cell(self.preamble), 60)
                await self._run_cells(result)
                await self._run_probes(probes, result)
        finally:
            _kill_group(pgid)
        return result

    async def _run_cells(self, result: RunResult) -> None:
        start = time.monotonic()
        deadline = start + self.limits.notebook_timeout
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0 or result.dead:
                result.cells.append(CellRecord(index, "not_run"))
                continue
            began = time.monotonic()
            try:
                reply = await self._execute(cell, index, min(self.limits.cell_timeout, remaining))
            except DeadKernelError:
                result.kernel_died_at, result.dead = index, True
                result.cells.append(CellRecord(index, "dead_kernel", "DeadKernelError", "the kernel died while running this cell"))
                continue
            record = CellRecord(index, "ok", stdout=_stream_text(cell.outputs), seconds=time.monotonic() - began)
            if reply.get("status") == "error":
                record.ename, record.evalue = reply.get("ename"), reply.get("evalue")
                record.status = "timeout" if record.ename == TIMEOUT_ENAME else "error"
            result.cells.append(record)
            cell.outputs = []
            await self._run_probes(self.captures.get(index, []), result)
        result.execute_s = time.monotonic() - start

    async def _run_probes(self, probes: list[ProbeCall], result: RunResult) -> None:
        start = time.monotonic()
        for probe in probes:
            if result.dead:
                result.probe_failures[probe.key] = "the kernel had died before this item could be checked"
                continue
            cell = _code_cell(probe.source)
            try:
                reply = await self._execute_hidden(cell, probe.timeout)
            except DeadKernelError:
                result.probe_failures[probe.key] = "the kernel died while this item was being checked"
                result.dead = True
                continue
            if reply.get("ename") == TIMEOUT_ENAME:
                result.probe_failures[probe.key] = f"checking it took longer than {probe.timeout:.0f} s"
            result.responses[probe.key] = read_response(cell.outputs, probe.token)
        result.probe_s += time.monotonic() - start


def _kill_group(pgid: int | None) -> None:
    """Kill whatever is left of the kernel's process group."""
    if not pgid or pgid == os.getpgrp():
        return
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_session(session: KernelSession, probes: list[ProbeCall]) -> RunResult:
    return asyncio.run(session.run(probes))
