"""Answers a class wrote to one question, in groups a person can score at once.

Two levels, both pure functions of the answers' text:

- *identical*: the same after normalising Unicode, case, whitespace and comment
  markers (`## Avoiding side effects` and `# avoiding  side effects` are one
  answer) — one score fits them all;
- *near-identical*: groups whose character fingerprints (winnowed k-grams, the
  measure of `grader.similarity`, here over characters so that answers in
  languages written without spaces compare too) overlap by at least
  `NEAR` (Jaccard). They are offered together, never merged: a person decides.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

import numpy as np
from scipy import sparse

from ..similarity import winnow

NEAR = 0.4  # Jaccard overlap of fingerprints from which two groups are offered together
K, WINDOW = 4, 4  # characters per k-gram, winnowing window: any shared run of 7 characters is seen

# a comment or heading marker at the start of a line (`#`, `##`, `//`), and docstring quotes
_MARKERS = re.compile(r'^[ \t]*(?:#+|//+)|"""|\'\'\'', re.MULTILINE)

A = TypeVar("A")


def normalise_answer(text: str) -> str:
    """The answer without what does not change its meaning: case, spacing, comment markers."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(_MARKERS.sub(" ", text).casefold().split())


@dataclass
class Group(Generic[A]):
    """Answers identical after normalising (`key`), in the order given."""

    key: str
    answers: list[A] = field(default_factory=list)


@dataclass
class Cluster(Generic[A]):
    """Near-identical groups, largest first; most clusters hold one group."""

    groups: list[Group[A]]

    @property
    def size(self) -> int:
        return sum(len(g.answers) for g in self.groups)


def identical_groups(answers: Sequence[A], key: Callable[[A], str]) -> list[Group[A]]:
    """Answers with the same key in one group, groups in order of first appearance."""
    groups: dict[str, Group[A]] = {}
    for answer in answers:
        k = key(answer)
        groups.setdefault(k, Group(k)).answers.append(answer)
    return list(groups.values())


@lru_cache(maxsize=65536)  # a page is opened again and again: an answer's fingerprints are computed once
def _prints(key: str) -> frozenset[int]:
    """Winnowed fingerprints of the answer's characters (spaces left out), as `grader.similarity` winnows tokens."""
    text = key.replace(" ", "")
    if len(text) < K:
        return frozenset([zlib.crc32(text.encode())]) if text else frozenset()
    # crc32, not hash(): salted per process, it would make the groups differ from one run to the next
    return frozenset(h for _, h in winnow([zlib.crc32(text[i:i + K].encode()) for i in range(len(text) - K + 1)], WINDOW))


def near_pairs(keys: Sequence[str], threshold: float = NEAR) -> list[tuple[int, int, float]]:
    """Pairs (i, j, overlap) of keys whose fingerprints overlap by `threshold` or more (Jaccard), i < j.

    Every pair's intersection at once, as a sparse matrix product (keys ×
    fingerprints times its transpose): exact, and a class of 1,000 distinct
    answers takes milliseconds, not a million Python set operations.
    """
    prints = [_prints(k) for k in keys]
    columns: dict[int, int] = {}
    rows, cols = [], []
    for i, fp in enumerate(prints):
        for h in fp:
            rows.append(i)
            cols.append(columns.setdefault(h, len(columns)))
    if not columns:
        return []
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(prints), len(columns)))
    shared = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    overlap = shared.data / (sizes[shared.row] + sizes[shared.col] - shared.data)
    keep = overlap >= threshold
    return sorted(zip(shared.row[keep].tolist(), shared.col[keep].tolist(), overlap[keep].tolist()))


def clusters(groups: list[Group[A]], threshold: float = NEAR, near: bool = True) -> list[Cluster[A]]:
    """Groups joined into clusters of near-identical ones, the biggest cluster (and group) first."""
    parent = list(range(len(groups)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if near:
        for a, b, _ in near_pairs([g.key for g in groups], threshold):
            parent[root(b)] = root(a)
    members: dict[int, list[Group[A]]] = defaultdict(list)
    for i, group in enumerate(groups):
        members[root(i)].append(group)
    found = [Cluster(sorted(gs, key=lambda g: -len(g.answers))) for gs in members.values()]
    return sorted(found, key=lambda c: -c.size)  # stable: equal sizes keep the answers' order
