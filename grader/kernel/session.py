"""One kernel for one submission: start it fresh, run the cells, ask the probes, stop it.

nbclient drives the kernel; this module adds what grading needs around it:
a preamble before cell 0, a per-cell and a whole-notebook time limit (a cell
over its limit is interrupted and the run goes on), a record of what each
cell did, probe cells after the notebook's own, and a kill of the kernel's
whole process group at the end.

Starting (kernel, client, preamble) is a step of its own, so that a pool
(`grader.kernel.pool`) can start a kernel before the submission it will run
is known; `run` starts one itself when nobody did.
"""

from __future__ import annotations

import asyncio
import enum
import math
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_hook

from ..probes.context import Forged, KernelGone, OperationFailed, ProbeOutcome, ProbeTimeout
from ..progress import CellStarted, ProbeStarted, first_line
from ..probes.executor import KernelExecutor, answers_in, install_cell
from ..probes.protocol import Lookup
from ..lifetime import kernel_preexec
from . import processes, sandbox
from .specs import kernel_specs

TIMEOUT_ENAME = "CellTimeoutError"
STREAM_KEEP = 20_000  # characters of a cell's printed output kept for checks
PROBE_OUTPUT_BYTES = 64_000_000  # the largest answer a probe cell may send back


class CellStatus(str, enum.Enum):
    """How one code cell of the notebook ended."""

    OK = "ok"
    ERROR = "error"  # it raised
    TIMEOUT = "timeout"  # it was interrupted at its time limit
    NOT_RUN = "not_run"  # the notebook's time had run out, or the kernel had died, before it
    DEAD_KERNEL = "dead_kernel"  # the kernel died while it ran (its own doing, or the memory cap)

    @property
    def ran(self) -> bool:
        return self is not CellStatus.NOT_RUN

    @property
    def raised(self) -> bool:
        """It ended with an error the report lists (`cells.errors`)."""
        return self in (CellStatus.ERROR, CellStatus.DEAD_KERNEL)


@dataclass
class CellRecord:
    """What one code cell did."""

    index: int
    status: CellStatus
    ename: str | None = None
    evalue: str | None = None
    stdout: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class ProbeFailed:
    """An item's probe that gave no answer: why, as a named state, and the sentence the item's feedback quotes."""

    outcome: ProbeOutcome
    reason: str


@dataclass
class ProbeCall:
    """One item's probe: `run(executor)` asks the kernel through the executor and returns the probe's answer."""

    key: str
    run: Callable[[KernelExecutor], dict]
    timeout: float
    looks_up: tuple[str, ...] = ()  # the names its object is found by, first to last (none: it finds it otherwise)


@dataclass
class RunResult:
    cells: list[CellRecord] = field(default_factory=list)
    responses: dict[str, dict | None] = field(default_factory=dict)
    probe_failures: dict[str, ProbeFailed] = field(default_factory=dict)
    signals: dict[str, list[str]] = field(default_factory=dict)  # tampering seen, by item key ("notebook" for its cells)
    round_trips: dict[str, int] = field(default_factory=dict)  # operations each probe asked of the kernel
    kernel_died_at: int | None = None  # the notebook cell that killed the kernel
    dead: bool = False  # the kernel is gone (killed by a cell or by a probe)
    memory_exceeded: bool = False  # the grader stopped the kernel at its memory limit
    peak_memory: int = 0
    output_dropped: int = 0  # bytes of output not kept
    execute_s: float = 0.0
    probe_s: float = 0.0
    kernel_wait_s: float = 0.0  # from asking for a kernel to its preamble's end
    kernel_warm: bool = False  # the kernel was started before this run asked for it
    kernel_pid: int | None = None
    start_failure: str | None = None  # why the kernel never became ready (no cell ran)
    isolation: sandbox.Isolation | None = None  # what isolated this run's kernel

    def failure(self, key: str) -> str | None:
        """Why the probe `key` gave no answer, as its item's feedback says it (None: it answered, or never ran)."""
        failed = self.probe_failures.get(key)
        return failed.reason if failed is not None else None


@dataclass(frozen=True)
class Limits:
    cell_timeout: float
    notebook_timeout: float
    memory_bytes: int | None = None  # resident memory of the kernel and all it started
    output_bytes: int = 1_000_000  # output kept per cell; the rest is dropped, not stored
    file_bytes: int = 256 * 2**20  # largest file the kernel may write (RLIMIT_FSIZE)


async def _wait_until_ready(kc, timeout: float) -> None:
    """Return once the kernel has answered `kernel_info` on its shell channel and its IOPub channel delivers.

    jupyter_client's own `wait_for_ready` waits for the reply, then for an IOPub
    message within 0.2 s (else it asks again), then drains IOPub until it has been
    quiet for 0.2 s: at least 0.2 s, often 0.4 s, of a numpy-only kernel's 0.55 s
    start. The first IOPub message proves the subscription is in place (ipykernel
    sends a welcome on it; every request gets a status), and nothing has to be
    drained: nbclient reads only the messages of the request it sent. So the
    request is repeated at a short interval until both have come, and no longer.
    """
    deadline = time.monotonic() + timeout
    sent: set[str] = set()

    async def reply() -> dict:
        while True:
            msg = await ensure_async(kc.shell_channel.get_msg(timeout=None))
            if msg["msg_type"] == "kernel_info_reply" and msg.get("parent_header", {}).get("msg_id") in sent:
                return msg

    shell = asyncio.ensure_future(reply())
    iopub = asyncio.ensure_future(ensure_async(kc.iopub_channel.get_msg(timeout=None)))
    try:
        while not (shell.done() and iopub.done()):
            sent.add(kc.kernel_info())
            again = min(time.monotonic() + (0.05 if shell.done() else 1.0), deadline)
            while not (shell.done() and iopub.done()) and (left := again - time.monotonic()) > 0:
                await asyncio.wait([t for t in (shell, iopub) if not t.done()], timeout=left, return_when=asyncio.FIRST_COMPLETED)
            if shell.done() and iopub.done():
                break
            if not await kc._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        kc._handle_kernel_info_reply(shell.result())
    finally:
        for task in (shell, iopub):
            task.cancel()


class _CappedClient(NotebookClient):
    """An nbclient client that keeps at most `cap` bytes of output per cell, dropping the rest.

    A cell printing 200 MB must not grow the grader's memory or the report. Its
    kernel client is ready as soon as the kernel answers (`_wait_until_ready`).
    """

    cap: int = 1_000_000
    dropped: int = 0

    async def async_start_new_kernel_client(self):
        """As nbclient's, with the readiness handshake of `_wait_until_ready`."""
        assert self.km is not None
        try:
            self.kc = self.km.client()
            await ensure_async(self.kc.start_channels())
            await _wait_until_ready(self.kc, self.startup_timeout)
        except Exception:
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        await run_hook(self.on_notebook_start, notebook=self.nb)
        return self.kc

    def output(self, outs, msg, display_id, cell_index):
        content = msg.get("content", {})
        size = len(content.get("text", "")) + sum(len(str(v)) for v in content.get("data", {}).values())
        kept = sum(len(o.get("text", "")) + sum(len(str(v)) for v in o.get("data", {}).values()) for o in outs)
        if kept + size > self.cap:
            self.dropped += size
            return None
        return super().output(outs, msg, display_id, cell_index)


def _limit_files(file_bytes: int):
    """Runs in the kernel's process before exec: files it writes stay under a size cap; it dies with its starter."""
    import resource

    parent = os.getpid()

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        kernel_preexec(parent)  # a kernel whose worker died (even by SIGKILL) dies too
    return apply


@dataclass(frozen=True)
class KernelSpec:
    """Everything a kernel is started with: two kernels of equal specs are interchangeable until used."""

    env: tuple[tuple[str, str], ...]
    limits: Limits
    preamble: str
    hidden: tuple[str, ...] = ()
    readable: tuple[str, ...] = ()

    @classmethod
    def make(cls, env: dict[str, str], limits: Limits, preamble: str, hidden=(), readable=()) -> "KernelSpec":
        def paths(given) -> tuple[str, ...]:
            return tuple(sorted({str(Path(p).resolve()) for p in given}))
        return cls(tuple(sorted(env.items())), limits, preamble, paths(hidden), paths(readable))


def _why(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _code_cell(source: str) -> nbformat.NotebookNode:
    """A cell of the grader's own, built as nbformat's `new_code_cell` builds one but not validated against the
    notebook schema: a batch worker makes dozens per submission, and a validation (0.3 ms) is a third of what a
    round trip costs the grader."""
    return nbformat.from_dict({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source})


def _empty_notebook() -> nbformat.NotebookNode:
    """The notebook a session's client holds until it is given the submission's (unvalidated, like `_code_cell`)."""
    return nbformat.from_dict({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _stream_text(outputs: list) -> str:
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stdout")
    return text[:STREAM_KEEP]


class KernelSession:
    """One kernel, used for one notebook: `start` it (or let `run` do it), `run` the notebook and probes; it then stops."""

    def __init__(self, spec: KernelSpec):
        self.spec = spec
        self.limits = spec.limits
        self.workdir = tempfile.mkdtemp(prefix="grader-run-")
        self._reply: dict = {}
        self.tracked: processes.Tracked = {}
        self.peak_memory = 0
        self.memory_exceeded = False
        self.started_at: float | None = None  # time.monotonic() when the kernel was asked for
        self.ready_at: float | None = None  # ... and when its preamble had run
        self.pid: int | None = None
        self._monitor: asyncio.Future | None = None
        self._stopped = False
        self._agent_ready = False
        km = self._kernel_manager()  # None: nbclient makes a plain one at start
        self.progress = None  # optional grader.progress callback: cells and probes as they start
        self.nb = _empty_notebook()
        self.client = _CappedClient(
            self.nb,
            km=km,
            kernel_name="python3",
            timeout=max(1, int(self.limits.cell_timeout)),
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "the cell ran past its time limit", "traceback": []},
            shutdown_kernel="immediate",
            record_timing=False,
            resources={"metadata": {"path": self.workdir}},
            on_cell_executed=self._on_cell_executed,
        )
        self.client.cap = self.limits.output_bytes

    def _kernel_manager(self):
        """The manager of the strongest isolation that works (`self.isolation`), with the environment and launch options it needs."""
        home = Path(self.workdir)
        while True:
            self.isolation = sandbox.available()
            try:
                launch = sandbox.kernel_manager(self.isolation, home, [Path(p) for p in self.spec.hidden],
                                                [Path(p) for p in self.spec.readable])
                break
            except Exception as exc:  # e.g. the kernel's user vanished: the next mechanism
                if self.isolation.tool == sandbox.Tool.none:
                    raise
                sandbox.demote(self.isolation.tool, _why(exc))
        self.isolation, self._launch = launch.isolation, launch.popen
        self.env = {**dict(self.spec.env), "IPYTHONDIR": str(home / ".ipython"), "MPLCONFIGDIR": str(home / ".matplotlib"),
                    "KERAS_HOME": str(home / ".keras"), **launch.env}
        return launch.km

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
        self.client.cap = PROBE_OUTPUT_BYTES  # a probe's answer (e.g. 10,000 predictions) is no student output
        try:
            return await self._execute(cell, len(self.nb.cells) - 1, timeout, store_history=False)
        finally:
            self.client.cap = self.limits.output_bytes
            self.nb.cells.pop()

    async def start(self) -> None:
        """Start the kernel and its client, watch its processes, run the preamble.

        A kernel that does not start in its sandbox is started in the next mechanism
        (`grader.kernel.sandbox`), and `self.isolation` says why.
        """
        self.started_at = time.monotonic()
        while True:
            client = self.client
            if client.km is None:
                client.km = client.create_kernel_manager()
                client.km.kernel_spec_manager = kernel_specs()
            km = client.km
            launch = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,  # kernel logs are not for the student
                      "preexec_fn": _limit_files(self.limits.file_bytes), **self._launch}
            try:
                await client.async_start_new_kernel(env=self.env, cwd=self.workdir, **launch)
                self.pid = getattr(km.provisioner, "pid", None)
                self._monitor = asyncio.ensure_future(self._watch(self.pid)) if self.pid else None
                await client.async_start_new_kernel_client()
                reply = await self._execute_hidden(_code_cell(self.spec.preamble), 120)
                if reply.get("status") == "error" and reply.get("ename") != TIMEOUT_ENAME and self.isolation.tool != sandbox.Tool.none:
                    raise RuntimeError(f"the preamble failed: {reply.get('ename')}: {reply.get('evalue')}")
                break
            except Exception as exc:
                # only a kernel the sandbox broke moves on; one that was slow (a loaded machine) or over its memory fails as before
                if self.isolation.tool == sandbox.Tool.none or self.memory_exceeded or "didn't respond" in str(exc):
                    await self.stop()
                    raise
                why = "; ".join(filter(None, [_why(exc), sandbox.diagnose(km)]))
                await self._abandon(km)
                sandbox.demote(self.isolation.tool, why)
                self.client.km = self._kernel_manager()
            except BaseException:
                await self.stop()
                raise
        self.ready_at = time.monotonic()
        self._unwatch()  # a ready kernel runs nothing until it is given its notebook (a pool's may wait a while)

    def _unwatch(self) -> None:
        if self._monitor is not None:
            self._monitor.cancel()
            self._monitor = None

    async def _shut_down(self, km) -> None:
        """Stop the kernel `km`, its client, its process group and every process it was seen to start."""
        self._unwatch()
        if self.pid:
            self.tracked.update(processes.descendants(self.pid))  # last look before the kernel goes
        pgid = getattr(getattr(km, "provisioner", None), "pgid", None)
        if km is not None:
            try:
                if km.has_kernel:
                    await km.shutdown_kernel(now=True)
            except Exception:
                pass
            try:
                await km.cleanup_resources()
            except Exception:
                pass
        if self.client.kc is not None:
            self.client.kc.stop_channels()
            self.client.kc = None
        processes.kill_all(self.tracked)
        processes.kill_group(pgid)

    async def _abandon(self, km) -> None:
        """Stop a kernel that did not start in its sandbox, and everything it started; empty its working directory."""
        await self._shut_down(km)
        self.client.km = None
        self.tracked, self.pid = {}, None
        shutil.rmtree(self.workdir, ignore_errors=True)
        os.mkdir(self.workdir, 0o700)

    async def alive(self) -> bool:
        km = self.client.km
        return not self._stopped and km is not None and await km.is_alive()

    async def stop(self) -> None:
        """Stop the kernel and every process it started; remove its working directory. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        await self._shut_down(self.client.km)
        shutil.rmtree(self.workdir, ignore_errors=True)

    async def run(self, nb: nbformat.NotebookNode, probes: list[ProbeCall],
                  captures: dict[int, list[ProbeCall]] | None = None, *, asked: float | None = None,
                  progress=None) -> RunResult:
        """Run the notebook, the `captures` right after their cells, then the `probes`; then stop.

        `asked` (time.monotonic()) is when the caller asked for a kernel: the run says
        whether this one was started before that, and how long the caller waited.
        """
        asked = time.monotonic() if asked is None else asked
        result = RunResult()
        self.progress = progress or self.progress
        try:
            if self.started_at is None:
                try:
                    await self.start()
                except Exception as exc:  # a report says why, even when no cell could run
                    cap = (self.limits.memory_bytes or 0) / 2**20
                    result.start_failure = (f"the kernel went over its memory limit ({cap:.0f} MB) while starting" if self.memory_exceeded
                                            else f"the kernel did not start ({type(exc).__name__}: {str(exc)[:200]})")
                    result.dead, result.isolation = True, self.isolation
                    result.cells = [CellRecord(i, CellStatus.NOT_RUN) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
                    return result
            if self.pid:  # watched again from its first cell: its processes, its memory
                self._monitor = asyncio.ensure_future(self._watch(self.pid))
            result.kernel_warm = self.started_at < asked
            result.kernel_wait_s = max(0.0, self.ready_at - asked)
            result.kernel_pid, result.isolation = self.pid, self.isolation
            self.nb = self.client.nb = nb
            await self._run_cells(result, captures or {})
            await self._run_probes(probes, result)
        finally:
            await self.stop()
            result.output_dropped = self.client.dropped
            result.peak_memory = self.peak_memory
            result.memory_exceeded = self.memory_exceeded
        return result

    def _measure(self, pid: int) -> bool:
        """Track the processes the kernel has started and their memory; past the memory limit, stop them all (True)."""
        tree = processes.descendants(pid)
        self.tracked.update(tree)
        used = processes.resident_bytes(tree)
        self.peak_memory = max(self.peak_memory, used)
        if self.limits.memory_bytes and used > self.limits.memory_bytes:
            self.memory_exceeded = True
            processes.kill_all(tree)
            return True
        return False

    async def _watch(self, pid: int) -> None:
        """Track every process the kernel starts; stop them all past the memory limit (five times a second)."""
        while not self._measure(pid):
            await asyncio.sleep(0.2)

    async def _run_cells(self, result: RunResult, captures: dict[int, list[ProbeCall]]) -> None:
        start = time.monotonic()
        deadline = start + self.limits.notebook_timeout
        runnable = [i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and c.source.strip()]
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            if self.progress is not None:
                self.progress(CellStarted(runnable.index(index) + 1, len(runnable), index, first_line(cell.source)))
            remaining = deadline - time.monotonic()
            if remaining <= 0 or result.dead:
                result.cells.append(CellRecord(index, CellStatus.NOT_RUN))
                continue
            began = time.monotonic()
            try:
                reply = await self._execute(cell, index, min(self.limits.cell_timeout, remaining))
                # the watch stopped the kernel during this cell, whatever reply came back; or it had not looked since
                # the cell went over (a loaded machine): measured at each cell's end too, so the next cell is not blamed
                if self.memory_exceeded or (self.pid and self._measure(self.pid)):
                    raise DeadKernelError("stopped at its memory limit")
            except DeadKernelError:
                result.kernel_died_at, result.dead = index, True
                if self.memory_exceeded:
                    cap = self.limits.memory_bytes / 2**30
                    record = CellRecord(index, CellStatus.DEAD_KERNEL, "MemoryLimit", f"memory limit: the kernel went over {cap:.1f} GiB and was stopped")
                else:
                    record = CellRecord(index, CellStatus.DEAD_KERNEL, "DeadKernelError", "the kernel died while running this cell")
                result.cells.append(record)
                continue
            record = CellRecord(index, CellStatus.OK, stdout=_stream_text(cell.outputs), seconds=time.monotonic() - began)
            if reply.get("status") == "error":
                record.ename, record.evalue = reply.get("ename"), reply.get("evalue")
                record.status = CellStatus.TIMEOUT if record.ename == TIMEOUT_ENAME else CellStatus.ERROR
            result.cells.append(record)
            forged = answers_in(cell.outputs)
            if forged:
                result.signals.setdefault("notebook", []).append(f"cell {index} sent {len(forged)} message(s) of the grader's type")
            cell.outputs = []
            await self._run_probes(captures.get(index, []), result)
        result.execute_s = time.monotonic() - start

    async def _roundtrip(self, code: str, timeout: float) -> tuple[dict, list]:
        """One cell of the grader's own: its reply and its outputs."""
        cell = _code_cell(code)
        try:
            reply = await self._execute_hidden(cell, timeout)
        except DeadKernelError:
            raise KernelGone() from None
        return reply, list(cell.outputs)

    def _bridge(self, loop: asyncio.AbstractEventLoop) -> Callable[[str, float], tuple[dict, list]]:
        """`_roundtrip` for a probe running in a thread of its own, while this loop drives the kernel."""
        def roundtrip(code: str, timeout: float) -> tuple[dict, list]:
            return asyncio.run_coroutine_threadsafe(self._roundtrip(code, timeout), loop).result()
        return roundtrip

    async def _absent(self, probes: list[ProbeCall], result: RunResult, loop) -> set[str]:
        """The probes whose object no name finds, asked of the namespace in one cell for all (a submission without
        most items would otherwise spend a cell on each); the others look their object up themselves, as they run."""
        asking = [probe for probe in probes if probe.looks_up]
        if len(asking) < 2 or result.dead:
            return set()
        executor = KernelExecutor(self._bridge(loop), 60, TIMEOUT_ENAME, spill_dir=Path(self.workdir))
        try:
            await self._install_agent(result)
            answers = await loop.run_in_executor(None, executor.send_all, [Lookup(names=list(p.looks_up)) for p in asking])
        except (ProbeTimeout, KernelGone, Forged, OperationFailed):
            return set()  # each probe then looks for its own object, and meets the same trouble in its own name
        finally:
            if executor.signals:
                result.signals.setdefault("notebook", []).extend(executor.signals)
        return {probe.key for probe, answer in zip(asking, answers) if not answer.get("name")}

    async def _install_agent(self, result: RunResult) -> None:
        if not self._agent_ready:
            reply, _ = await self._roundtrip(install_cell(), 60)
            if reply.get("status") == "error":  # the notebook changed Python so that the agent cannot start
                result.signals.setdefault("notebook", []).append(
                    f"the grader's agent could not start in the kernel ({reply.get('ename')}: {str(reply.get('evalue'))[:100]})")
            self._agent_ready = True

    async def _run_probes(self, probes: list[ProbeCall], result: RunResult) -> None:
        """Each probe runs in the grader's process (a worker thread); only its operations reach the kernel."""
        start = time.monotonic()
        loop = asyncio.get_running_loop()
        absent = await self._absent(probes, result, loop)
        for position, probe in enumerate(probes, 1):
            if self.progress is not None:
                self.progress(ProbeStarted(probe.key.split("#")[0], position, len(probes)))
            if result.dead:
                result.probe_failures[probe.key] = ProbeFailed(ProbeOutcome.KERNEL_DEAD, "the kernel had died before this item could be checked")
                continue
            if probe.key in absent:
                result.responses[probe.key] = {"found": None}  # what its own lookup would have said
                result.round_trips[probe.key] = 0
                continue
            executor = KernelExecutor(self._bridge(loop), probe.timeout, TIMEOUT_ENAME, spill_dir=Path(self.workdir))
            try:
                await self._install_agent(result)
                result.responses[probe.key] = await loop.run_in_executor(None, probe.run, executor)
            except ProbeTimeout:
                result.probe_failures[probe.key] = ProbeFailed(ProbeOutcome.TIMED_OUT, f"checking it took longer than {probe.timeout:.0f} s")
            except KernelGone:
                result.probe_failures[probe.key] = ProbeFailed(ProbeOutcome.KERNEL_GONE, "the kernel died while this item was being checked")
                result.dead = True
            except Forged as exc:
                result.probe_failures[probe.key] = ProbeFailed(
                    ProbeOutcome.FORGED, f"its answer was not accepted ({exc}): the notebook tampered with the grader's messages")
            finally:
                if executor.signals:
                    result.signals[probe.key] = executor.signals
                result.round_trips[probe.key] = executor.round_trips
        result.probe_s += time.monotonic() - start
