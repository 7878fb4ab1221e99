"""The probe protocol: the operations a probe may ask of an executor, and the answers it accepts.

Every message across the kernel wall is one of these models. The grader
builds operations with them and validates every answer against them before
a probe sees it; `grade --protocol-schema` prints their JSON Schema. The
kernel side (`grader.kernel.agent`) reads and writes the same shapes as
plain dicts, since the kernel never imports the grader.

Values are the JSON of `grader.kernel.agent.encode` (arrays as `.npy`
bytes, read with ``allow_pickle=False``); an argument may also be a handle,
``{"__handle__": n, "path": [...]}``, or data to keep under a handle the
grader chose, ``{"__keep__": -n, "value": ...}`` (negative: the agent's own
are positive), so that a probe's input reaches the kernel with the operation
that first uses it instead of in a cell of its own.

Fewer cells, same rules: a `Batch` carries several operations other than
calls in one cell and is answered by one message under its one token; a
`Call` may ask for values as they are once it has returned (`read_after`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Target(_Wire):
    handle: int
    path: list[dict] = Field(default_factory=list, description="steps: {attr: name} or {item: encoded key}")


class Lookup(_Wire):
    op: Literal["lookup"] = "lookup"
    names: list[str]


class Namespace(_Wire):
    op: Literal["namespace"] = "namespace"


class Import(_Wire):
    op: Literal["import"] = "import"
    module: str
    path: list[str] = Field(default_factory=list)


class Put(_Wire):
    op: Literal["put"] = "put"
    value: Any


class Get(_Wire):
    op: Literal["get"] = "get"
    target: Target


class Value(_Wire):
    op: Literal["value"] = "value"
    target: Target


class Describe(_Wire):
    op: Literal["describe"] = "describe"
    target: Target
    attrs: list[str] = Field(default_factory=list, description="attributes whose presence on the type is reported")


class Items(_Wire):
    op: Literal["items"] = "items"
    target: Target
    limit: int = 10_000


class Vars(_Wire):
    op: Literal["vars"] = "vars"
    target: Target


class Ids(_Wire):
    op: Literal["ids"] = "ids"
    targets: list[Target] | None = None
    mapping: Target | None = None


class Scan(_Wire):
    op: Literal["scan"] = "scan"
    attrs: list[str]


class Bind(_Wire):
    op: Literal["bind"] = "bind"
    names: dict[str, Target]


class Restore(_Wire):
    op: Literal["restore"] = "restore"
    saved: Target


class SetAttr(_Wire):
    op: Literal["setattr"] = "setattr"
    target: Target
    name: str
    value: Any


class Spy(_Wire):
    op: Literal["spy"] = "spy"
    target: Target


class Reference(_Wire):
    """Reference definitions for a check that needs them beside the code under test (only those named)."""

    op: Literal["reference"] = "reference"
    module: str
    source: str
    names: list[str]


class Call(_Wire):
    """Call a handle; made from a cell of the kernel's own, as the notebook's cells call."""

    op: Literal["call"] = "call"
    target: Target
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    fetch: bool = Field(default=False, description="send the result's value back with its handle")
    read_after: list[Target] = Field(default_factory=list,
                                     description="values sent back too (`after`), read once the call has returned")


Batched = Annotated[Union[Lookup, Namespace, Import, Put, Get, Value, Describe, Items, Vars, Ids, Scan, Bind, Restore,
                          SetAttr, Spy, Reference], Field(discriminator="op")]


class Batch(_Wire):
    """Several operations (no call: a call has a cell of its own) carried out in order in one cell, up to the
    first that raises; answered by one message, `answers` holding an `Answer` for each carried out."""

    op: Literal["batch"] = "batch"
    operations: list[Batched] = Field(min_length=1)


class Calls(_Wire):
    """Several calls of code under test in one cell, each made from the cell's own frame in its own `try`, in order:
    one raising does not stop the next. Answered by one message, `answers` holding an `Answer` for each call
    (`raised.student` for one that raised). Something that ends the cell itself (the time limit's interrupt)
    leaves no answer: the operation fails as a single call would."""

    op: Literal["calls"] = "calls"
    calls: list[Call] = Field(min_length=1)


Operation = Annotated[Union[Lookup, Namespace, Import, Put, Get, Value, Describe, Items, Vars, Ids, Scan, Bind, Restore,
                            SetAttr, Spy, Reference, Call, Batch, Calls], Field(discriminator="op")]


class Request(_Wire):
    """One operation with its own token: exactly one answer carrying it is accepted."""

    token: str
    operation: Operation


class RaisedAnswer(_Wire):
    ename: str = Field(max_length=200)
    evalue: str = Field(default="", max_length=2000)
    student: bool = Field(default=False, description="raised by the code under test during a call")


class Answer(BaseModel):
    """What came back for one operation: `ok` with the operation's fields, or `raised`."""

    model_config = ConfigDict(extra="forbid")
    ok: dict[str, Any] | None = None
    raised: RaisedAnswer | None = None


class Envelope(BaseModel):
    """The display message a kernel sends: the request's token and its answer."""

    model_config = ConfigDict(extra="forbid")
    token: str
    answer: Answer


def protocol_schema() -> str:
    """JSON Schema of a request and of the envelope an answer comes in."""
    return json.dumps({"request": Request.model_json_schema(), "envelope": Envelope.model_json_schema()}, indent=2)

