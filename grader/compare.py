"""The comparison ladder every check uses: found → type → shape → dtype → values.

Pure functions on grader values (see `grader.values`): no kernel, no I/O.
Each rung that fails says so in one sentence a student can act on, and the
values rung reports where the largest error is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .values import Foreign, Raised

_KINDS = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}


@dataclass(frozen=True)
class Outcome:
    """The verdict on one comparison, worded for the student."""

    passed: bool
    message: str = ""
    expected: str | None = None
    actual: str | None = None
    max_error: float | None = None
    raised: bool = False  # the code under test raised instead of answering


def is_numeric(value) -> bool:
    return isinstance(value, (np.ndarray, np.generic, bool, int, float)) and not isinstance(value, str)


def describe(value, limit: int = 160) -> str:
    """A short description of a value: shape and dtype for arrays, with a glimpse of the data."""
    if isinstance(value, Raised):
        return f"an exception ({value.ename})"
    if isinstance(value, Foreign):
        return f"a {value.type} object ({value.repr[:80]})"
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        inner = ", ".join(describe(v, 60) for v in value[:3])
        more = ", …" if len(value) > 3 else ""
        return f"a {kind} of {len(value)} [{inner}{more}]"[:limit]
    if is_numeric(value):
        array = np.asarray(value)
        text = np.array2string(array, precision=4, threshold=12, edgeitems=2, separator=", ").replace("\n", "")
        if array.ndim == 0:
            return text
        return f"shape {array.shape} {array.dtype}: {text}"[:limit]
    return repr(value)[:limit]


def _fail(message: str, expected, actual, max_error: float | None = None) -> Outcome:
    return Outcome(False, message, describe(expected), describe(actual), max_error)


def compare(expected, actual, *, rtol: float = 1e-5, atol: float = 1e-6, dtype: str = "ignore", where: str = "") -> Outcome:
    """Compare an actual value with the expected one, rung by rung."""
    at = f" {where}" if where else ""
    if isinstance(actual, Raised):
        return Outcome(False, actual.sentence(), describe(expected), describe(actual), raised=True)
    if actual is None and expected is not None:
        return _fail(f"returned None{at}: is a `return` missing?", expected, actual)
    if isinstance(expected, (list, tuple)):
        return _compare_sequences(expected, actual, rtol=rtol, atol=atol, dtype=dtype, where=where)
    if isinstance(expected, dict):
        for key, value in expected.items():
            outcome = compare(value, actual.get(key) if isinstance(actual, dict) else None, rtol=rtol, atol=atol, dtype=dtype, where=f"{where}[{key!r}]")
            if not outcome.passed:
                return outcome
        return Outcome(True)
    if is_numeric(expected):
        return _compare_arrays(np.asarray(expected), actual, rtol=rtol, atol=atol, dtype=dtype, at=at)
    if expected == actual:
        return Outcome(True)
    return _fail(f"got {describe(actual)}{at}, expected {describe(expected)}", expected, actual)


def _compare_sequences(expected, actual, **options) -> Outcome:
    where = options.pop("where")
    at = f" {where}" if where else ""
    if not isinstance(actual, (list, tuple)):
        return _fail(f"got {describe(actual)}{at}, expected a sequence of {len(expected)}", expected, actual)
    if len(actual) != len(expected):
        return _fail(f"got {len(actual)} elements{at}, expected {len(expected)}", expected, actual)
    for i, (e, a) in enumerate(zip(expected, actual)):
        outcome = compare(e, a, where=f"{where}[{i}]", **options)
        if not outcome.passed:
            return outcome
    return Outcome(True)


def _compare_arrays(expected: np.ndarray, actual, *, rtol: float, atol: float, dtype: str, at: str) -> Outcome:
    if not is_numeric(actual):
        return _fail(f"got {describe(actual)}{at}, expected a number or an array", expected, actual)
    actual_array = np.asarray(actual)
    if actual_array.shape != expected.shape:
        return _fail(f"output shape {actual_array.shape}{at}, expected {expected.shape}", expected, actual)
    if dtype == "kind" and _KINDS.get(actual_array.dtype.kind) != _KINDS.get(expected.dtype.kind):
        return _fail(
            f"dtype {actual_array.dtype}{at}, expected {_KINDS.get(expected.dtype.kind, expected.dtype)} values",
            expected,
            actual,
        )
    e = expected.astype(np.complex128 if expected.dtype.kind == "c" else np.float64)
    a = actual_array.astype(np.complex128 if actual_array.dtype.kind == "c" else np.float64)
    bad_nan = np.isnan(a) & ~np.isnan(e)
    if bad_nan.any():
        index = tuple(int(i) for i in np.argwhere(bad_nan)[0])
        return _fail(f"nan{at} at index {index}, where {e[index]:.6g} was expected", expected, actual)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(a - e)
        error = np.where(np.isnan(error), 0.0, error)
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    max_error = float(error.max()) if error.size else 0.0
    if close.all():
        return Outcome(True, max_error=max_error)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.where(close, -1, error))), e.shape))
    spot = f" at index {index}" if e.ndim else ""
    return _fail(
        f"wrong values{at}: {a[index]:.6g} instead of {e[index]:.6g}{spot} (largest error {max_error:.3g})",
        expected,
        actual,
        max_error,
    )
