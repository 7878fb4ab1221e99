"""Values that came back from a kernel: parsed, validated, never trusted.

Everything is JSON; arrays are `.npy` bytes read with ``allow_pickle=False``
and only numeric dtypes are accepted. Objects the kernel could not turn
into data arrive as `Foreign` (their type and repr); an exception raised by
student code arrives as `Raised`.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

import numpy as np

MAX_ELEMENTS = 5_000_000


@dataclass(frozen=True)
class Foreign:
    """An object of a type the grader does not compare (a repr stands for it)."""

    type: str
    repr: str


@dataclass(frozen=True)
class Raised:
    """Student code raised instead of returning."""

    during: str
    ename: str
    evalue: str

    def sentence(self) -> str:
        return f"{self.during} raised {self.ename}: {self.evalue}"


class Malformed(Exception):
    """The kernel sent something that is not a value of ours."""


def _array(text) -> np.ndarray:
    if not isinstance(text, str):
        raise Malformed("array payload is not text")
    try:
        array = np.load(io.BytesIO(base64.b64decode(text, validate=True)), allow_pickle=False)
    except (ValueError, binascii.Error, OSError) as exc:
        raise Malformed(f"bad array payload: {exc}") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biufc" or array.size > MAX_ELEMENTS:
        raise Malformed("array of an unsupported kind or size")
    return array


def parse(value, depth: int = 0):
    """Turn one JSON value from the kernel into grader values."""
    if depth > 8:
        raise Malformed("nested too deep")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [parse(v, depth + 1) for v in value]
    if not isinstance(value, dict) or len(value) == 0:
        raise Malformed("unexpected value")
    if "__npy__" in value:
        return _array(value["__npy__"])
    if "__float__" in value:
        return float(str(value["__float__"]))
    if "__seq__" in value and isinstance(value["__seq__"], list):
        items = [parse(v, depth + 1) for v in value["__seq__"]]
        return tuple(items) if value.get("tuple") is True else items
    if "__dict__" in value and isinstance(value["__dict__"], dict):
        return {str(k): parse(v, depth + 1) for k, v in value["__dict__"].items()}
    if "__object__" in value and isinstance(value["__object__"], dict):
        obj = value["__object__"]
        return Foreign(str(obj.get("type", "?"))[:100], str(obj.get("repr", ""))[:300])
    if "__raised__" in value and isinstance(value["__raised__"], dict):
        r = value["__raised__"]
        return Raised(str(r.get("during", ""))[:200], str(r.get("ename", ""))[:100], str(r.get("evalue", ""))[:300])
    raise Malformed("unexpected object")


def parse_observations(response: dict) -> dict:
    observations = response.get("observations", {})
    if not isinstance(observations, dict):
        raise Malformed("observations are not a mapping")
    return {str(k): parse(v) for k, v in observations.items()}
