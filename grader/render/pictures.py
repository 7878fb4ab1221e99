"""Pictures as inline PNG data URIs: plots of series and image-like arrays.

Matplotlib's object API (no pyplot): no global state, no display, safe in
any process.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..report import ArrayData, Plot

COLOURS = ["#c0392b", "#2c3e50", "#27ae60", "#8e44ad"]


def _data_uri(figure: Figure) -> str:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plot_uri(plot: Plot) -> str:
    """The plot's series as lines on one axis (the submission's against the reference's)."""
    figure = Figure(figsize=(6, 3))
    axes = figure.add_subplot()
    for colour, series in zip(COLOURS, plot.series):
        values = np.array([np.nan if v is None else v for v in series.values], dtype=float)
        axes.plot(np.arange(1, values.size + 1), values, label=series.label, color=colour,
                  linestyle="-" if series.label != "reference" else "--", linewidth=1.6)
    axes.set_xlabel(plot.x_label)
    axes.set_ylabel(plot.y_label)
    axes.set_title(plot.title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend()
    return _data_uri(figure)


def is_image_like(data: ArrayData) -> bool:
    """A 2-D array of at least 8×8, or (h, w, 1|3|4): shown as a picture rather than a table."""
    shape = data.shape
    if len(shape) == 2:
        return min(shape) >= 8
    return len(shape) == 3 and shape[2] in (1, 3, 4) and min(shape[:2]) >= 8


def image_uri(data: ArrayData, size: float = 1.6) -> str:
    values = np.array(data.values, dtype=float)
    values = np.where(np.isfinite(values), values, np.nan)
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[:, :, 0]
    if values.ndim == 3:
        low, high = np.nanmin(values), np.nanmax(values)
        values = (values - low) / (high - low) if high > low else np.zeros_like(values)
    figure = Figure(figsize=(size, size))
    axes = figure.add_subplot()
    axes.imshow(values, cmap="gray" if values.ndim == 2 else None, interpolation="nearest")
    axes.set_axis_off()
    return _data_uri(figure)
