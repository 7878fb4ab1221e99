"""The grader's own grading datasets, shipped in the package (see README.md here)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASETS = {"mnist": HERE / "mnist.npz"}


def dataset_paths(names: list[str]) -> dict[str, str]:
    return {name: str(DATASETS[name]) for name in names}


@cache
def dataset_digest(name: str) -> str:
    return hashlib.sha256(DATASETS[name].read_bytes()).hexdigest()
