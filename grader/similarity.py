"""Code similarity between the submissions of a batch: possible copying.

Pure functions, no kernel, no I/O except `write_csv`. The method is MOSS's
(Schleimer, Wilkerson, Aiken 2003, "Winnowing: local algorithms for document
fingerprinting"):

1. `normalise_tokens` turns a cell's code into tokens in which names,
   numbers and strings are placeholders, so renaming variables, changing
   literals, comments or spacing does not hide a copy;
2. `fingerprints` hashes every k-gram of tokens and keeps, by winnowing, a
   small subset that is still guaranteed to catch any shared run of at
   least ``k + window - 1`` tokens;
3. `similar_pairs` compares, item by item, the fingerprints of every two
   submissions after removing what is not evidence of copying: code of
   the reference solution or starter notebook (`common`) and code most of
   the class typed in (the textbook example everybody copied).

A reported pair is a reason for a human to look at two notebooks, never a
verdict: the score says how much of the smaller submission's code for the
item also occurs in the other.
"""

from __future__ import annotations

import builtins
import csv
import hashlib
import io
import keyword
import re
from enum import Enum
import tokenize
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

# Names a notebook's code may use without them being "its" names. Taken from
# the builtins module but made independent of how Python was started: the
# `site` names are always in, the names IPython injects are always out, so
# the tokens (and fingerprints) are the same in a script, a kernel or `-S`.
_SITE_NAMES = {"copyright", "credits", "exit", "help", "license", "quit"}
_IPYTHON_NAMES = {"display", "get_ipython", "__IPYTHON__", "_"}
_BUILTINS = frozenset((set(dir(builtins)) | _SITE_NAMES) - _IPYTHON_NAMES)
_KEYWORDS = frozenset(keyword.kwlist)

_DROPPED = {tokenize.COMMENT, tokenize.NEWLINE, tokenize.NL, tokenize.INDENT,
            tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}
# f-strings (and t-strings) are one STRING token up to 3.11 and a run of
# tokens from 3.12 on; either way they become a single S.
_STRING_START = {getattr(tokenize, n) for n in ("FSTRING_START", "TSTRING_START") if hasattr(tokenize, n)}
_STRING_END = {getattr(tokenize, n) for n in ("FSTRING_END", "TSTRING_END") if hasattr(tokenize, n)}

# The fallback tokenizer, for cells that do not tokenize (a syntax error, an
# unclosed bracket, IPython syntax such as `x?`). Alternatives are tried in
# order, so strings come before names (`f"…"`) and long operators first.
_FALLBACK = re.compile(
    r"""
    (?P<skip>\#[^\n]*|\\\r?\n|\s+)
  | (?P<string>(?i:rb|br|fr|rf|tr|rt|r|b|f|u|t)?
        (?:'''(?:\\.|.)*?(?:'''|\Z) | \"\"\"(?:\\.|.)*?(?:\"\"\"|\Z)
         | '(?:\\.|[^'\\\n])*'? | "(?:\\.|[^"\\\n])*"?))
  | (?P<number>0[xXoObB][0-9a-fA-F_]+
        | (?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?[jJ]?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*=|//=|>>=|<<=|\.\.\.|->|:=|\*\*|//|<<|>>|<=|>=|==|!=|[-+*/%&|^@]=|\S)
    """,
    re.VERBOSE | re.DOTALL,
)


def _strip_magics(source: str) -> str:
    """Drop IPython shell escapes (`!pip …`) and magics (`%time`, `%%timeit`): not Python."""
    return "".join(line for line in source.splitlines(keepends=True)
                   if not line.lstrip().startswith(("!", "%")))


def _normalise_name(name: str) -> str:
    return name if name in _KEYWORDS or name in _BUILTINS else "V"


def _tokenize(source: str) -> list[str]:
    """Normalised tokens by the stdlib tokenizer; raises if the code does not tokenize."""
    out: list[str] = []
    depth = 0  # inside an f-string of Python ≥ 3.12: its parts are one S
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in _STRING_START:
            if depth == 0:
                out.append("S")
            depth += 1
        elif tok.type in _STRING_END:
            depth -= 1
        elif depth or tok.type in _DROPPED:
            continue
        elif tok.type == tokenize.NAME:
            out.append(_normalise_name(tok.string))
        elif tok.type == tokenize.NUMBER:
            out.append("N")
        elif tok.type == tokenize.STRING:
            out.append("S")
        elif tok.string.strip():  # OP, or an ERRORTOKEN such as `$`
            out.append(tok.string)
    return out


def _regex_tokenize(source: str) -> list[str]:
    """Normalised tokens by a regular expression: cruder, but never fails."""
    out: list[str] = []
    for match in _FALLBACK.finditer(source):
        kind = match.lastgroup
        if kind == "string":
            out.append("S")
        elif kind == "number":
            out.append("N")
        elif kind == "name":
            out.append(_normalise_name(match.group()))
        elif kind == "op":
            out.append(match.group())
    return out


def normalise_tokens(source: str) -> list[str]:
    """The tokens of a code cell with names → V, numbers → N, strings → S.

    Keywords, builtin names (`len`, `range`, `print`…) and operators are
    kept; comments, line breaks and indentation are dropped. Two snippets
    that differ only in names, literals, comments and layout give the same
    list, which is what makes a renamed copy look like a copy.
    """
    source = _strip_magics(source)
    try:
        return _tokenize(source)
    except (tokenize.TokenError, SyntaxError):  # IndentationError is a SyntaxError
        return _regex_tokenize(source)


def _hash(tokens: Sequence[str]) -> int:
    """A hash of a token run that is the same in every process (unlike the salted `hash()`)."""
    digest = hashlib.blake2b(" ".join(tokens).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def kgram_hashes(tokens: Sequence[str], k: int = 8) -> list[int]:
    """The hash of every run of k consecutive tokens, in order; one hash of it all if shorter."""
    if len(tokens) < k:
        return [_hash(tokens)] if tokens else []
    return [_hash(tokens[i:i + k]) for i in range(len(tokens) - k + 1)]


def winnow(hashes: Sequence[int], window: int = 4) -> list[tuple[int, int]]:
    """The (position, hash) pairs winnowing selects: the minimum of every window.

    Ties go to the rightmost minimum, and a position is recorded once even
    when several consecutive windows select it (the paper's robust
    winnowing). Fewer hashes than a window make one window.
    """
    if not hashes:
        return []
    window = max(1, min(window, len(hashes)))
    selected: list[tuple[int, int]] = []
    for start in range(len(hashes) - window + 1):
        span = hashes[start:start + window]
        low = min(span)
        position = start + max(i for i, h in enumerate(span) if h == low)
        if not selected or selected[-1][0] != position:
            selected.append((position, low))
    return selected


def fingerprints(tokens: Sequence[str], k: int = 8, window: int = 4) -> set[int]:
    """The winnowed fingerprints of a token list: what two submissions are compared on.

    Any run of at least ``k + window - 1`` tokens two lists share gives
    them at least one fingerprint in common; runs shorter than k tokens are
    noise (``x = y + 1``) and are not matched.
    """
    return {h for _, h in winnow(kgram_hashes(tokens, k), window)}


@dataclass(frozen=True)
class CodeUnit:
    """The code one submission wrote for one item, and the cells it came from."""

    submission: str
    item: str
    cells: tuple[int, ...]
    source: str


class Basis(str, Enum):
    """What two submissions share: their code for the item, or the same wrong behaviour on the grader's inputs."""

    CODE = "code"
    BEHAVIOUR = "behaviour"


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions whose code for an item, or whose wrong answer to it, is suspiciously alike (a < b)."""

    item: str
    a: str
    b: str
    score: float
    cells_a: tuple[int, ...]
    cells_b: tuple[int, ...]
    basis: Basis = Basis.CODE


@dataclass(frozen=True)
class Behaviour:
    """What one submission's failing item did on the grader's inputs: the digest of its observations (`items[].observed`)."""

    submission: str
    item: str
    digest: str
    cells: tuple[int, ...]
    like_mutant: bool  # it behaves like a known mutant of the solution: a mistake many make on their own


def behaviour_pairs(failures: list[Behaviour], *, majority: float = 0.5, submissions: int | None = None) -> list[SimilarPair]:
    """Pairs whose failing items gave identical wrong observations (the same wrong numbers, the same exception at the same point).

    Renaming, reformatting or reordering the code cannot hide them: the
    observations are what the code did. A failure like a known mutant, or one
    more than `majority` of the class shares, is a common mistake, not evidence.
    """
    groups: dict[tuple[str, str], list[Behaviour]] = {}
    for failure in failures:
        if not failure.like_mutant:
            groups.setdefault((failure.item, failure.digest), []).append(failure)
    total = submissions or len({f.submission for f in failures})
    pairs = []
    for (item, _), group in sorted(groups.items()):
        if len(group) < 2 or (total >= 4 and len(group) > majority * total):
            continue
        ordered = sorted(group, key=lambda f: f.submission)
        pairs += [SimilarPair(item, x.submission, y.submission, 1.0, x.cells, y.cells, Basis.BEHAVIOUR)
                  for i, x in enumerate(ordered) for y in ordered[i + 1:]]
    return pairs


def _common_hashes(common: Iterable[str], k: int) -> set[int]:
    """Every k-gram of the reference / starter code, not only its fingerprints.

    A submission that embeds the reference in code of its own may select,
    at the edges, k-grams the reference's own winnowing did not; all of
    them are textbook code all the same.
    """
    hashes: set[int] = set()
    for source in common:
        hashes.update(kgram_hashes(normalise_tokens(source), k))
    return hashes


def _merge(units: Iterable[CodeUnit]) -> dict[str, tuple[tuple[int, ...], str]]:
    """One (cells, source) per submission: several units of one submission for an item are joined."""
    cells: dict[str, set[int]] = defaultdict(set)
    sources: dict[str, list[str]] = defaultdict(list)
    for unit in units:
        cells[unit.submission].update(unit.cells)
        sources[unit.submission].append(unit.source)
    return {s: (tuple(sorted(cells[s])), "\n".join(sources[s])) for s in sources}


def _item_pairs(item: str, units: list[CodeUnit], excluded: set[int], *, threshold: float,
                majority: float, min_fingerprints: int, k: int, window: int) -> list[SimilarPair]:
    """The similar pairs among the submissions for one item."""
    merged = _merge(units)
    tokens = {s: normalise_tokens(source) for s, (_, source) in merged.items()}
    prints = {s: fingerprints(t, k, window) - excluded for s, t in tokens.items()}

    # Code most of the class typed in: counted over every k-gram a submission
    # contains (not only its selected ones), and only in batches of 3 or more
    # so that two copiers alone are never filtered out of their own match.
    if len(merged) >= 3:
        presence = Counter(h for t in tokens.values() for h in set(kgram_hashes(t, k)))
        popular = {h for h, n in presence.items() if n >= 3 and n > majority * len(merged)}
        prints = {s: fp - popular for s, fp in prints.items()}

    kept = sorted(s for s, fp in prints.items() if len(fp) >= max(1, min_fingerprints))
    pairs = []
    for a, b in combinations(kept, 2):
        score = len(prints[a] & prints[b]) / min(len(prints[a]), len(prints[b]))
        if score >= threshold:
            pairs.append(SimilarPair(item, a, b, score, merged[a][0], merged[b][0]))
    return pairs


def similar_pairs(units: list[CodeUnit], *, threshold: float = 0.8, common: Sequence[str] = (),
                  majority: float = 0.5, min_fingerprints: int = 3, k: int = 8,
                  window: int = 4) -> list[SimilarPair]:
    """Pairs of submissions whose code for the same item is alike, most alike first.

    Per item, each submission's fingerprints lose those found in `common`
    (reference solution, starter notebook) and those found in more than
    `majority` of the item's submissions (and in at least 3 of them; only
    for items with 3 submissions or more). Submissions left with fewer than
    `min_fingerprints` have too little code of their own to judge and are
    skipped. The score of a pair is |A ∩ B| / min(|A|, |B|): 1.0 when the
    smaller one's remaining code all occurs in the other. Pairs scoring at
    least `threshold` are returned, sorted by score descending, then item,
    a, b; within a pair, a < b.
    """
    excluded = _common_hashes(common, k)
    by_item: dict[str, list[CodeUnit]] = defaultdict(list)
    for unit in units:
        by_item[unit.item].append(unit)
    pairs = [pair for item, item_units in by_item.items()
             for pair in _item_pairs(item, item_units, excluded, threshold=threshold, majority=majority,
                                     min_fingerprints=min_fingerprints, k=k, window=window)]
    return sorted(pairs, key=lambda p: (-p.score, p.item, p.a, p.b))


CSV_HEADER = ("item", "submission_a", "submission_b", "score", "cells_a", "cells_b", "basis")


def write_csv(pairs: Iterable[SimilarPair], path: str | Path) -> Path:
    """Write the pairs as CSV for a spreadsheet; `path` is the file, or a directory to hold similarity.csv.

    Scores have 3 decimals; cells are space-separated 0-based indices.
    Returns the path written.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "similarity.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for p in pairs:
            writer.writerow([p.item, p.a, p.b, f"{p.score:.3f}",
                             " ".join(map(str, p.cells_a)), " ".join(map(str, p.cells_b)), p.basis.value])
    return path
