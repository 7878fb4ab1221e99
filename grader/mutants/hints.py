"""Hints from mutants: a failing answer that behaves exactly like a known mutant of the solution gets its description.

`grade validate --mutants` grades mutants of the solution with the grader's
inputs and keeps, per item, the observations of the mutants the rubric kills
(`HintStore`, in the grader's cache, one file per assignment version, inputs
and grader version, written atomically, read back as JSON only), and ships
them with the assignment (`assignments/ID/mutant-hints.json`, `ShippedHints`,
keyed by the rubric's grading content and the inputs like a lockfile), so a
fresh clone with an empty cache gives the same hints. Grading reads the
cache's store, else the shipped one for the same rubric and inputs. When a
submission fails an item and its observations on the same inputs have the same
digest as one of them, the feedback adds “This is what <description> gives.”:
the student learns which mistake their code makes, in the words the mutant's
operator (or the rubric's `[[validate.mutants]]`) gives it. Every graded item
also records its digest (`items[].observed`), which is how mutants are
compared with the solution and with each other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..atomic import write_atomic
from ..expected import cache_dir
from .models import HintStore, ShippedHints
from .observe import response_digest

if TYPE_CHECKING:
    from ..rubric import Assignment

SHIPPED = "mutant-hints.json"  # in the assignment's folder


def _root() -> Path:
    return cache_dir().parent / "mutants"  # beside the reference answers (hidden from every kernel with them)


def inputs_key(inputs) -> str:
    """`public`, or the digest of the instructor's secret the grader's inputs were drawn with."""
    return getattr(inputs, "secret_digest", None) or "public"


def grading_key(assignment: Assignment) -> str:
    """A digest of what grading a notebook depends on in the rubric: every field but `[validate]`, included items resolved.

    Declaring free code, a known-wrong example or a mutant changes which notebooks are graded, not how a
    notebook is graded, so the mutants graded before stay current; an edited check (or an edited rubric
    that another includes items from) starts afresh.
    """
    return hashlib.sha256(assignment.model_dump_json(exclude={"self_test"}).encode()).hexdigest()[:12]


def store_path(assignment_id: str, version: str, inputs: str) -> Path:
    return _root() / "hints" / f"{assignment_id}-v{version}-{inputs}-{__version__}.json"


def write_store(store: HintStore) -> Path:
    path = store_path(store.assignment, store.version, store.inputs)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, store.model_dump_json(indent=1) + "\n")
    return path


def read_store(assignment_id: str, version: str, inputs: str) -> HintStore | None:
    try:
        return HintStore.model_validate_json(store_path(assignment_id, version, inputs).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def hint_sentence(description: str) -> str:
    return f"This is what {description} gives."


def shipped_path(assignment: Assignment) -> Path:
    return assignment.directory / SHIPPED


def read_shipped(assignment: Assignment) -> ShippedHints | None:
    try:
        return ShippedHints.model_validate_json(shipped_path(assignment).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stale(shipped: ShippedHints, assignment: Assignment) -> str | None:
    """Why a shipped file does not belong to this rubric (None: it does)."""
    if shipped.assignment != assignment.id:
        return f"it is for assignment {shipped.assignment}, not {assignment.id}"
    if shipped.version != assignment.version:
        return f"it was computed for version {shipped.version} of the rubric, which is now version {assignment.version}"
    key = grading_key(assignment)
    if shipped.grading_key != key:
        return f"it was computed for the rubric's grading content {shipped.grading_key}, which is now {key}"
    return None


def shipped_store(assignment: Assignment, inputs: str) -> HintStore | None:
    """The store the assignment ships for these inputs, if it was computed with this rubric."""
    shipped = read_shipped(assignment)
    if shipped is None or stale(shipped, assignment) is not None:
        return None
    return shipped.stores.get(inputs)


def write_shipped(assignment: Assignment, store: HintStore) -> Path:
    """Put this store into the assignment's shipped file (the file's other inputs kept while it is for the same rubric)."""
    path = shipped_path(assignment)
    shipped = read_shipped(assignment)
    key = grading_key(assignment)
    if shipped is None or stale(shipped, assignment) is not None:
        shipped = ShippedHints(assignment=assignment.id, version=assignment.version, grading_key=key)
    stores = {**shipped.stores, store.inputs: store.model_copy(update={"grading_key": key})}
    shipped = shipped.model_copy(update={"stores": dict(sorted(stores.items()))})
    write_atomic(path, shipped.model_dump_json(indent=1) + "\n")
    return path


def known_store(assignment: Assignment, inputs: str) -> HintStore | None:
    """The cache's store for this rubric and these inputs, else the one the assignment ships."""
    cached = read_store(assignment.id, assignment.version, inputs)
    if cached is not None and cached.grading_key in (None, grading_key(assignment)):
        return cached
    return shipped_store(assignment, inputs)


def store_for(assignment, inputs) -> HintStore | None:
    """The known mutants' observations for this assignment version and these inputs (none for a student bundle)."""
    return None if assignment.answers is not None else known_store(assignment, inputs_key(inputs))


def observed_digest(keys: list[str], responses: dict) -> str | None:
    """The digest of what an item's probes observed (equal digests: equal behaviour on the grader's inputs)."""
    return response_digest([responses.get(key) for key in keys]) if keys else None


def like_mutant(store: HintStore | None, item_id: str, digest: str | None) -> str | None:
    """The description of the known mutant of this item that behaves exactly as observed, if there is one."""
    if store is None or digest is None:
        return None
    return next((m.description for m in store.items.get(item_id, []) if m.digest == digest), None)
