"""Grading inputs students cannot know: the rubric's seed mixed with the instructor's secret.

The rubric (public, like all of this repository) fixes a seed, and a student
bundle lists the reference's answers to the inputs it gives. A function that
memorised those outputs would pass if the instructor graded with the same
inputs. So instructor grading draws the inputs from the rubric seed mixed
with a secret only the instructor has: `GRADER_SECRET` if set, else the file
`GRADER_SECRET_FILE` (default `~/.config/grader/secret`), made on first use
(mode 0600). The same secret always gives the same inputs and so the same
report; the report records a digest of the secret, never the secret.

A student bundle, and `grade --public-seed`, use the rubric's seed as it is
and say so. The kernel's own seeds (the notebook's randomness) stay public
either way: a student's notebook runs as it ran for them.
"""

from __future__ import annotations

import enum
import hashlib
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, Field

from .rubric import Assignment

SECRET_ENV = "GRADER_SECRET"
SECRET_FILE_ENV = "GRADER_SECRET_FILE"
PUBLIC_ENV = "GRADER_PUBLIC_SEED"  # set by `grade --public-seed` (the kernel never sees GRADER_* variables)


class SeedKind(str, enum.Enum):
    PUBLIC = "public"
    SECRET = "secret"


class Inputs(BaseModel):
    """Where the grader's inputs came from (report field `inputs`)."""

    seed: SeedKind = SeedKind.PUBLIC
    secret_digest: str | None = Field(default=None, description="sha256 of the secret, first 16 hex digits: the same digest reproduces the report")
    note: str = ""


def secret_path() -> Path:
    return Path(os.environ.get(SECRET_FILE_ENV) or Path.home() / ".config" / "grader" / "secret")


def _read_or_make(path: Path) -> bytes:
    """The secret file's content, made once (atomically, 0600) when there is none."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()


def current_secret() -> tuple[bytes | None, str]:
    """The instructor's secret and where it came from; None when grading with the public seed."""
    if os.environ.get(PUBLIC_ENV):
        return None, "--public-seed"
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV].encode(), SECRET_ENV
    path = secret_path()
    return _read_or_make(path), str(path)


def mixed_seed(seed: int, secret: bytes) -> int:
    return int.from_bytes(hashlib.sha256(secret + b"\0" + str(seed).encode()).digest()[:6], "big")


def for_probes(assignment: Assignment) -> tuple[Assignment, Inputs]:
    """The assignment as its probes see it (its seed mixed with the secret), and the record for the report."""
    if assignment.answers is not None:
        return assignment, Inputs(note="student bundle: the rubric's public inputs, whose answers the bundle stores")
    secret, source = current_secret()
    if secret is None:
        return assignment, Inputs(note=f"the rubric's public inputs ({source})")
    digest = hashlib.sha256(secret).hexdigest()[:16]
    return (assignment.model_copy(update={"seed": mixed_seed(assignment.seed, secret)}),
            Inputs(seed=SeedKind.SECRET, secret_digest=digest, note=f"inputs drawn with the instructor's secret ({source})"))
