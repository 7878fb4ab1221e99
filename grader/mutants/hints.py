"""Hints from mutants: a failing answer that behaves exactly like a known mutant of the solution gets its description.

`grade validate --mutants` grades mutants of the solution with the grader's
inputs and keeps, per item, the observations of the mutants the rubric kills
(`HintStore`, in the grader's cache, one file per assignment version, inputs
and grader version, written atomically, read back as JSON only). When a
submission fails an item and its observations on the same inputs have the same
digest as one of them, the feedback adds “This is what <description> gives.”:
the student learns which mistake their code makes, in the words the mutant's
operator (or the rubric's `[[validate.mutants]]`) gives it. Every graded item
also records its digest (`items[].observed`), which is how mutants are
compared with the solution and with each other.
"""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..atomic import write_atomic
from ..expected import cache_dir
from .models import HintStore
from .observe import response_digest


def _root() -> Path:
    return cache_dir().parent / "mutants"  # beside the reference answers (hidden from every kernel with them)


def inputs_key(inputs) -> str:
    """`public`, or the digest of the instructor's secret the grader's inputs were drawn with."""
    return getattr(inputs, "secret_digest", None) or "public"


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


def store_for(assignment, inputs) -> HintStore | None:
    """The known mutants' observations for this assignment version and these inputs (none for a student bundle)."""
    return None if assignment.answers is not None else read_store(assignment.id, assignment.version, inputs_key(inputs))


def observed_digest(keys: list[str], responses: dict) -> str | None:
    """The digest of what an item's probes observed (equal digests: equal behaviour on the grader's inputs)."""
    return response_digest([responses.get(key) for key in keys]) if keys else None


def like_mutant(store: HintStore | None, item_id: str, digest: str | None) -> str | None:
    """The description of the known mutant of this item that behaves exactly as observed, if there is one."""
    if store is None or digest is None:
        return None
    return next((m.description for m in store.items.get(item_id, []) if m.digest == digest), None)
