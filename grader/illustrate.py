"""Small data for pictures: the values a check compared, and series worth a plot.

Feedback pages show expected against actual on the grader's own small
input, and a loss curve against the reference's. The numbers are already in
the observations the judgement used; this module copies the small ones into
the report (never re-running anything), so a page can be drawn from the
report alone. Pure functions of parsed observations.
"""

from __future__ import annotations

import numpy as np

from .compare import is_numeric
from .report import ArrayData, ItemResult, Plot, Series
from .rubric import Item
from .values import Malformed, parse_observations

MAX_ELEMENTS = 4096  # an array kept for display: a (64, 64) image, or a small table
MIN_SERIES = 3
PLOTTED_RULES = {"decreasing", "printed_falling"}  # rules about a value over steps or epochs: worth a curve


def array_data(value) -> ArrayData | None:
    """A small numeric value as JSON-able data, or None when it is not one."""
    if not is_numeric(value) or isinstance(value, str):
        return None
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or array.size > MAX_ELEMENTS:
        return None
    values = array.astype(float) if array.dtype.kind == "f" else array
    listed = np.where(np.isfinite(values), values, np.nan).tolist() if array.dtype.kind == "f" else values.tolist()
    return ArrayData(shape=list(array.shape), dtype=str(array.dtype), values=_nan_to_none(listed))


def _nan_to_none(value):
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _series(value) -> list[float] | None:
    """A 1-D run of at least MIN_SERIES numbers (a loss per step), or None."""
    if isinstance(value, (list, tuple)) and len(value) >= MIN_SERIES and all(is_numeric(v) and np.size(v) == 1 for v in value):
        return [float(np.ravel(v)[0]) for v in value]
    if is_numeric(value) and np.ndim(value) == 1 and np.size(value) >= MIN_SERIES:
        return [float(v) for v in np.asarray(value, dtype=float)]
    return None


def _parsed(response: dict | None) -> dict:
    if not isinstance(response, dict):
        return {}
    try:
        return parse_observations(response)
    except Malformed:
        return {}


def illustrate(item: Item, result: ItemResult, response: dict | None, expected: dict | None) -> ItemResult:
    """The item's result with the small values its checks compared, and a plot where one helps."""
    observed, reference = _parsed(response), _parsed(expected)
    if not observed:
        return result
    if item.kind == "function":
        _function_values(item, result, observed, reference)
    elif item.kind == "behaviour":
        _behaviour_values(item, result, observed, reference)
    return result


def _function_values(item: Item, result: ItemResult, observed: dict, reference: dict) -> None:
    got_cases, want_cases = observed.get("cases") or [], reference.get("cases") or []
    for index, case in enumerate(getattr(item, "cases", [])):
        check = next((c for c in result.checks if c.name == case.name), None)
        got = got_cases[index] if index < len(got_cases) and isinstance(got_cases[index], dict) else {}
        want = want_cases[index] if index < len(want_cases) and isinstance(want_cases[index], dict) else {}
        if check is None:
            continue
        inputs = [array_data(a) for a in want.get("args_after") or []]
        check.inputs = [a for a in inputs if a is not None] or None
        check.expected_value = array_data(want.get("output"))
        check.actual_value = array_data(got.get("output"))


def _behaviour_values(item: Item, result: ItemResult, observed: dict, reference: dict) -> None:
    for spec in getattr(item, "checks", []):
        check = next((c for c in result.checks if c.name == spec.name), None)
        if check is None or spec.observe not in observed:
            continue
        over_time = spec.rule in PLOTTED_RULES or "loss" in spec.observe
        mine, theirs = _series(observed[spec.observe]), _series(reference.get(spec.observe))
        if over_time and mine is not None and result.plot is None:
            series = [Series(label="your code", values=mine)]
            if theirs is not None:
                series.append(Series(label="reference", values=theirs))
            result.plot = Plot(title=f"{spec.name}: {spec.observe.replace('_', ' ')}", y_label=spec.observe.replace("_", " "), series=series)
            continue
        check.expected_value = array_data(reference.get(spec.observe))
        check.actual_value = array_data(observed[spec.observe])
