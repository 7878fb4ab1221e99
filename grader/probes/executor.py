"""Executors: where a probe's operations are carried out — in a student's kernel, or in this process.

`KernelExecutor` turns each operation into a cell of the grader's own in the
submission's kernel (a call is written in the cell itself, so the code under
test is called from a cell frame, as the notebook's own cells call it) and
accepts exactly one answer carrying that operation's token. Anything else of
the grader's message type — a second answer, a wrong token, no answer where
one was due — is a tamper signal the report records, and the operation fails.

`LocalExecutor` runs the same agent over a live namespace in this process:
the reference's objects in the clean reference process, or, later, a
student's own kernel checking itself.
"""

from __future__ import annotations

import json
import secrets
import time
from abc import ABC, abstractmethod
from functools import cache
from pathlib import Path
from typing import Callable

from pydantic import ValidationError

from ..kernel import agent
from . import protocol as p
from .context import Forged, OperationFailed, ProbeTimeout

AGENT_MODULE = "_grader_agent"


class Executor(ABC):
    """Carries out operations; counts them."""

    def __init__(self):
        self.round_trips = 0
        self.signals: list[str] = []  # tampering seen (a kernel's executor)

    @abstractmethod
    def send(self, operation) -> dict:
        """The operation's answer fields; raises `OperationFailed` when it raised."""

    def send_all(self, operations: list) -> list[dict]:
        """Several operations other than calls in one round trip (`Batch`): each one's answer fields, in order.

        The first that raised raises `OperationFailed`, as it would have sent
        alone (the agent carries out none after it); an answer that does not
        account for every operation is refused as forged.
        """
        if len(operations) == 1:
            return [self.send(operations[0])]
        answers = self.send(p.Batch(operations=operations)).get("answers")
        parsed = self._answers(answers, len(operations), partial=True, what=f"a batch's answer that does not answer each of its "
                               f"{len(operations)} operations")
        return [_accept(answer) for answer in parsed]

    def send_calls(self, calls: list) -> list[p.Answer]:
        """Several calls in one round trip (`Calls`): each one's `Answer`, a raise included (a call that raised does
        not stop the next); an answer that does not account for every call is refused as forged."""
        answers = self.send(p.Calls(calls=calls)).get("answers")
        return self._answers(answers, len(calls), partial=False,
                             what=f"an answer to {len(calls)} calls that does not answer each of them")

    def _answers(self, answers, count: int, *, partial: bool, what: str) -> list[p.Answer]:
        """The answers of a `Batch` or `Calls`, one per operation (`partial`: or up to the first that raised); else a
        tamper signal (`what`) and `Forged`."""
        try:
            parsed = [p.Answer.model_validate(answer) for answer in answers]
        except (ValidationError, TypeError):
            parsed = None
        complete = parsed is not None and (len(parsed) == count or
                                           (partial and 0 < len(parsed) < count and parsed[-1].raised is not None))
        if not complete:
            self.signals.append(what)
            raise Forged("an answer did not answer each operation")
        return parsed

def _accept(answer: p.Answer) -> dict:
    if answer.raised is not None:
        raise OperationFailed(answer.raised.ename, answer.raised.evalue)
    return answer.ok or {}


class LocalExecutor(Executor):
    """The agent in this process, over `namespace`."""

    def __init__(self, namespace: dict):
        super().__init__()
        self.agent = agent.Agent(namespace)

    def send(self, operation) -> dict:
        self.round_trips += 1
        request = operation.model_dump()
        answer = self.agent.call_here(request) if request["op"] in ("call", "calls") else self.agent.serve(request)
        return _accept(p.Answer.model_validate(answer))


@cache
def agent_source() -> str:
    return Path(agent.__file__).read_text(encoding="utf-8")


def install_cell() -> str:
    """The cell that puts the agent into a kernel (as a statement: nothing is displayed or bound)."""
    return (f"if 1: (lambda m: (exec(compile({agent_source()!r}, '<grader agent>', 'exec'), m.__dict__), m.install({AGENT_MODULE!r})))"
            f"(__import__('types').ModuleType('grader_agent'))")


SPILL_BYTES = 32_000  # a request larger than this goes by file: IPython runs a long cell slowly


def operation_cell(request: dict, spill_dir: Path | None = None) -> str:
    """The cell for one operation. A call is made in the cell's own frame: `finish(prepare(op)(*args, **kwargs))`.

    A large request is written to a file in the kernel's working directory
    and the cell names the file; the agent reads it once and removes it.
    """
    agent_ref = f"__import__('sys').modules[{AGENT_MODULE!r}]"
    op = json.dumps({"token": request["token"], **request["operation"]})
    read = "serve" if request["operation"]["op"] != "call" else "prepare"
    if spill_dir is not None and len(op) > SPILL_BYTES:
        path = spill_dir / f".grader-{request['token']}.json"
        path.write_text(op, encoding="utf-8")
        path.chmod(0o644)
        read, op = f"{read}_path", str(path)
    kind = request["operation"]["op"]
    if kind == "calls":
        begin = "begin_calls_path" if read.endswith("_path") else "begin_calls"
        return calls_cell(agent_ref, begin, op, len(request["operation"]["calls"]))
    if kind != "call":
        return f"{agent_ref}.{read}({op!r})"
    return f"{agent_ref}.finish({agent_ref}.{read}({op!r})(*{agent_ref}.agent.args, **{agent_ref}.agent.kwargs))"


def calls_cell(agent_ref: str, begin: str, op: str, count: int) -> str:
    """The cell for several calls: each made in the cell's own frame, in a `try` of its own (the name an `except`
    binds is unbound again when it ends, so the notebook's namespace gains nothing), then one answer for all."""
    call = (f"try:\n    {agent_ref}.agent.call_done({agent_ref}.agent.next_call()(*{agent_ref}.agent.args, **{agent_ref}.agent.kwargs))\n"
            f"except KeyboardInterrupt:\n    raise\n"  # the time limit's interrupt ends the cell, as it ends a single call
            f"except BaseException as _grader_raised:\n    {agent_ref}.agent.call_raised(_grader_raised)\n")
    return f"{agent_ref}.{begin}({op!r})\n" + call * count + f"{agent_ref}.finish_calls()"


def answers_in(outputs: list) -> list:
    """Every message of the grader's type among a cell's outputs (there should be exactly one)."""
    found = []
    for output in outputs:
        if output.get("output_type") not in ("display_data", "execute_result", "update_display_data"):
            continue
        data = output.get("data", {})
        if agent.MIME in data or any(str(k).startswith("application/vnd.grader") for k in data):
            found.append(data.get(agent.MIME))
    return found


def read_answer(outputs: list, reply: dict, token: str, signals: list[str], what: str) -> p.Answer:
    """The one answer to an operation, or the reason there is none (a forged or missing one is a signal)."""
    messages = answers_in(outputs)
    if len(messages) > 1:
        signals.append(f"{len(messages)} answers of the grader's type to one operation ({what}): all were refused")
        raise Forged("more than one answer came back for one operation")
    if not messages:
        if reply.get("status") == "error":
            return p.Answer(raised=p.RaisedAnswer(ename=str(reply.get("ename", ""))[:200], evalue=str(reply.get("evalue", ""))[:2000], student=True))
        signals.append(f"no answer came back for an operation ({what}): the kernel's side was changed")
        raise Forged("no answer came back")
    try:
        envelope = p.Envelope.model_validate(json.loads(messages[0]) if isinstance(messages[0], str) else messages[0])
    except (ValidationError, ValueError, TypeError):
        signals.append(f"a malformed answer of the grader's type ({what})")
        raise Forged("a malformed answer came back") from None
    if envelope.token != token:
        signals.append(f"an answer with another operation's token ({what})")
        raise Forged("an answer with the wrong token came back")
    return envelope.answer


class KernelExecutor(Executor):
    """Operations as cells of a kernel, through `roundtrip(code, timeout) -> (reply content, outputs)`."""

    def __init__(self, roundtrip: Callable[[str, float], tuple[dict, list]], timeout: float, timeout_ename: str,
                 spill_dir: Path | None = None):
        super().__init__()
        self.spill_dir = spill_dir
        self.roundtrip = roundtrip
        self.deadline = time.monotonic() + timeout
        self.timeout_ename = timeout_ename
        self.sent: list[dict] = []  # every request, as it went to the kernel (tests read what reached it)

    def send(self, operation) -> dict:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ProbeTimeout()
        self.round_trips += 1
        request = p.Request(token=secrets.token_hex(16), operation=operation).model_dump()
        self.sent.append(request)
        reply, outputs = self.roundtrip(operation_cell(request, self.spill_dir), remaining)
        if reply.get("ename") == self.timeout_ename:
            raise ProbeTimeout()
        return _accept(read_answer(outputs, reply, request["token"], self.signals, operation.op))
