"""Pictures of an evaluation: the confusion matrix and a per-class IoU bar chart.

Drawn with matplotlib's Agg canvas directly (no pyplot), so nothing changes the
backend of the caller's session and nothing needs a display. matplotlib is an optional
dependency (`pip install keras-drn[plots]`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def new_figure(width: float, height: float, dpi: int = 100):
    """A matplotlib Figure on an Agg canvas (raises a clear ImportError without
    matplotlib)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "Pictures need matplotlib: pip install matplotlib (or keras-drn[plots])."
        ) from None
    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    return path


def plot_confusion_matrix(matrix, class_names: Sequence[str], path, *,
                          normalize: bool = True, title: str | None = None) -> Path:
    """Draws a confusion matrix (rows ground truth, columns prediction) as a heat map.

    Args:
        matrix: (n, n) or (n, n + 1) counts; a last "void" column is drawn too.
        normalize: show each row as fractions of its ground-truth pixels (recall),
            which makes rare classes readable.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    n = matrix.shape[0]
    columns = list(class_names) + (["void"] if matrix.shape[1] == n + 1 else [])
    values = matrix
    if normalize:
        totals = matrix.sum(1, keepdims=True)
        values = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
    size = 2.5 + 0.42 * len(columns)
    figure = new_figure(size, size * n / len(columns) + 0.6)
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(values, cmap="viridis", vmin=0,
                        vmax=1 if normalize else None, interpolation="nearest")
    axes.set_xticks(range(len(columns)), columns, rotation=90, fontsize=8)
    axes.set_yticks(range(n), list(class_names), fontsize=8)
    axes.set_xlabel("prediction")
    axes.set_ylabel("ground truth")
    if n <= 40:
        bright = 0.6 * values.max()
        for i, j in zip(*np.nonzero(values >= (0.01 if normalize else 1))):
            value = values[i, j]
            text = f"{100 * value:.0f}" if normalize else f"{value:.0f}"
            axes.text(j, i, text, ha="center", va="center", fontsize=6,
                      color="black" if value > bright else "white")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04,
                    label="fraction of the row" if normalize else "pixels")
    axes.set_title(title or ("Confusion matrix (rows normalised, %)" if normalize
                             else "Confusion matrix (pixels)"))
    figure.tight_layout()
    return save_figure(figure, path)


def plot_iou_bars(per_class_iou, class_names: Sequence[str], path, *,
                  title: str | None = None, colors=None) -> Path:
    """Draws per-class IoU (fractions) as horizontal bars with the mean as a line.

    Args:
        colors: optional (n, 3) uint8 RGB, e.g. `keras_drn.meta.palette(dataset)`.
    """
    ious = np.asarray(per_class_iou, dtype=np.float64)
    n = len(class_names)
    figure = new_figure(7, 1 + 0.3 * n)
    axes = figure.add_subplot(1, 1, 1)
    shown = np.nan_to_num(ious, nan=0.0) * 100
    bar_colors = None
    if colors is not None:
        bar_colors = np.asarray(colors, dtype=np.float64)[:n] / 255
    axes.barh(range(n), shown, color=bar_colors if bar_colors is not None else "tab:blue",
              edgecolor="black", linewidth=0.5)
    for i, value in enumerate(ious):
        axes.text(min(shown[i] + 1, 95), i,
                  "n/a" if np.isnan(value) else f"{100 * value:.1f}",
                  va="center", fontsize=8)
    valid = ious[~np.isnan(ious)]
    if valid.size:
        mean = 100 * valid.mean()
        axes.axvline(mean, color="black", linestyle="--", linewidth=1,
                     label=f"mean {mean:.1f}")
        axes.legend(loc="lower right", fontsize=8)
    axes.set_yticks(range(n), list(class_names), fontsize=8)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("IoU (%)")
    axes.set_title(title or "Per-class IoU")
    figure.tight_layout()
    return save_figure(figure, path)
