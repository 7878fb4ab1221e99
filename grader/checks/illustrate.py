"""Small data for pictures: the values a check compared, and series worth a plot.

Feedback pages show expected against actual on the grader's own small
input, and a loss curve against the reference's. The numbers are already in
the observations the judgement used; a check kind passes them here while it
judges, and the small ones go into the report (never re-running anything), so
a page can be drawn from the report alone. Pure functions of parsed
observations.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..compare import is_numeric
from ..report import ArrayData, Plot, Series
from .base import Shown, Verdict

if TYPE_CHECKING:
    from ..rubric import Item

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


def function_values(item: Item, verdicts: list[Verdict], observed: dict, reference: dict) -> list[Verdict]:
    """Each case's verdict with its input, the reference's output and the submission's, when small."""
    got_cases, want_cases = observed.get("cases") or [], reference.get("cases") or []
    shown = {}
    for index, case in enumerate(item.cases):
        got = got_cases[index] if index < len(got_cases) and isinstance(got_cases[index], dict) else {}
        want = want_cases[index] if index < len(want_cases) and isinstance(want_cases[index], dict) else {}
        inputs = [a for a in (array_data(a) for a in want.get("args_after") or []) if a is not None]
        shown.setdefault(case.name, Shown(inputs or None, array_data(want.get("output")), array_data(got.get("output"))))
    return [replace(v, shown=shown[v.name]) if v.name in shown else v for v in verdicts]


def behaviour_values(item: Item, verdicts: list[Verdict], observed: dict, reference: dict) -> tuple[list[Verdict], Plot | None]:
    """Each check's verdict with the values its rule compared, and the first series over time as a plot."""
    plot, shown = None, {}
    judged = {v.name for v in verdicts}
    for spec in item.checks:
        if spec.name not in judged or spec.observe not in observed or spec.name in shown:
            continue
        over_time = spec.rule in PLOTTED_RULES or "loss" in spec.observe
        mine, theirs = _series(observed[spec.observe]), _series(reference.get(spec.observe))
        if over_time and mine is not None and plot is None:
            series = [Series(label="your code", values=mine)]
            if theirs is not None:
                series.append(Series(label="reference", values=theirs))
            plot = Plot(title=f"{spec.name}: {spec.observe.replace('_', ' ')}", y_label=spec.observe.replace("_", " "), series=series)
            continue
        shown[spec.name] = Shown(expected=array_data(reference.get(spec.observe)), actual=array_data(observed[spec.observe]))
    return [replace(v, shown=shown[v.name]) if v.name in shown else v for v in verdicts], plot
