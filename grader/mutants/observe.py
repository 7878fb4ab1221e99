"""A digest of what an item's probes observed: equal digests, equal behaviour on the grader's inputs.

Two programs are told apart by their observations, not their verdicts: a
mutant whose observations equal the solution's is equivalent, and a
submission whose observations equal a known mutant's made that mutant's
mistake. Values are parsed as the judgement parses them (never unpickled);
floating-point numbers are compared to about ten significant digits, so a
sum taken in another order is the same observation; an exception is its
type and where it was raised (its message may hold addresses); a foreign
object is its type.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..values import Foreign, Malformed, Raised, parse

MANTISSA_BITS = 34  # ~10 significant digits


def _feed(h, value) -> None:
    if isinstance(value, np.ndarray) or isinstance(value, (float, np.floating, np.integer)):
        array = np.asarray(value)
        h.update(f"a{array.dtype.kind}{array.shape}".encode())
        if array.dtype.kind in "fc":
            for part in (array.real, array.imag) if array.dtype.kind == "c" else (array,):
                part = part.astype(np.float64)
                special = ~np.isfinite(part)
                h.update(np.packbits(special).tobytes() + np.packbits(np.isnan(part)).tobytes() + np.packbits(part > 0).tobytes())
                mantissa, exponent = np.frexp(np.where(special, 0.0, part))
                h.update(np.round(mantissa * 2 ** MANTISSA_BITS).astype(np.int64).tobytes() + exponent.astype(np.int32).tobytes())
        else:
            h.update(array.astype(np.int64).tobytes())
    elif isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}[{len(value)}".encode())
        for item in value:
            _feed(h, item)
        h.update(b"]")
    elif isinstance(value, dict):
        h.update(f"d{{{len(value)}".encode())
        for key in sorted(value):
            h.update(f"{key!r}:".encode())
            _feed(h, value[key])
        h.update(b"}")
    elif isinstance(value, Foreign):
        h.update(f"foreign:{value.type};".encode())
    elif isinstance(value, Raised):
        h.update(f"raised:{value.ename}@{value.during};".encode())
    else:
        h.update(f"?{type(value).__name__};".encode())


def response_digest(responses: list[dict | None]) -> str | None:
    """The digest of one item's responses (one per probe), or None when no probe answered."""
    if not responses or all(r is None for r in responses):
        return None
    h = hashlib.sha256()
    for response in responses:
        if response is None:
            h.update(b"none;")
            continue
        observations = response.get("observations", {})
        try:
            parsed = {str(k): parse(v) for k, v in observations.items()} if isinstance(observations, dict) else "?"
        except Malformed:
            parsed = "malformed"
        _feed(h, parsed)
        error = response.get("error")
        if isinstance(error, dict):
            h.update(f"error:{error.get('ename')}@{error.get('during')};".encode())
        h.update(b"|")
    return h.hexdigest()[:24]
