"""Tables of per-class IoU, in the layout of the papers' tables.

A row per model, a column per class, mean IoU last; IoUs shown as percentages.

    rows = {"DRN-C-26": scores.per_class_iou, "DRN-D-22": other.per_class_iou}
    print(format_iou_table(rows, CITYSCAPES_CLASSES))
    write_iou_table(rows, CITYSCAPES_CLASSES, "results/val")  # val.csv, val.md

`format_scores` prints one evaluation the way the official Cityscapes script does (a
line per class, then categories), with our numbers.

Stable interface (train/cityscapes.py calls it):
    format_iou_table(rows, class_names, *, digits=1, short_names=True) -> str
    markdown_iou_table(rows, class_names, *, digits=1) -> str
    write_iou_table(rows, class_names, path_prefix, *, digits=1) -> (csv_path, md_path)
    format_scores(scores) -> str
`rows` maps a model name to its per-class IoUs (fractions in [0, 1], NaN for a class
that was never seen), in class order, or to anything with a `per_class_iou`
attribute (a `SegmentationScores`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from keras_drn.evaluation.scores import SegmentationScores
from keras_drn.evaluation.scores import nanmean
from keras_drn.files import write_text_atomic  # noqa: F401  (re-exported)

# Column headers of the terminal table, short enough for 19 columns on one screen.
SHORT_NAMES = {
    "sidewalk": "sidewk",
    "building": "build",
    "traffic light": "light",
    "traffic sign": "sign",
    "vegetation": "veget",
    "terrain": "terrain",
    "motorcycle": "motor",
    "bicycle": "bike",
    "diningtable": "table",
    "pottedplant": "plant",
    "tvmonitor": "tv",
    "aeroplane": "plane",
    "motorbike": "mbike",
    "pedestrian": "pedestr",
    "bicyclist": "cyclist",
}
MEAN_HEADER = "mean IoU"


def _row_values(values, num_classes: int, name: str) -> np.ndarray:
    values = getattr(values, "per_class_iou", values)
    if isinstance(values, Mapping):
        raise TypeError(
            f"Row {name!r}: pass the IoUs as a sequence in class order, not a mapping."
        )
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if values.size != num_classes:
        raise ValueError(
            f"Row {name!r} has {values.size} IoUs; expected one per class "
            f"({num_classes})."
        )
    return values


def table_rows(rows: Mapping[str, Sequence[float]], class_names: Sequence[str]
               ) -> list[tuple[str, np.ndarray, float]]:
    """(model name, per-class IoUs, mean IoU) for each row, validated."""
    out = []
    for name, values in rows.items():
        values = _row_values(values, len(class_names), name)
        out.append((str(name), values, nanmean(values)))
    return out


def _percent(value: float, digits: int) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.{digits}f}"


def format_iou_table(rows: Mapping[str, Sequence[float]], class_names: Sequence[str],
                     *, digits: int = 1, short_names: bool = True) -> str:
    """A plain-text table: a row per model, a column per class, mean IoU last."""
    headers = ["model"] + [
        SHORT_NAMES.get(n, n) if short_names else n for n in class_names
    ] + [MEAN_HEADER]
    body = [
        [name] + [_percent(v, digits) for v in values] + [_percent(mean, digits)]
        for name, values, mean in table_rows(rows, class_names)
    ]
    widths = [max(len(r[i]) for r in [headers, *body]) for i in range(len(headers))]
    lines = [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths))
        )
        for row in [headers, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_iou_table(rows: Mapping[str, Sequence[float]], class_names: Sequence[str],
                       *, digits: int = 1) -> str:
    """The same table in Markdown (full class names)."""
    headers = ["Model", *class_names, MEAN_HEADER]
    lines = [
        "| " + " | ".join(headers) + " |",
        "| --- |" + " ---: |" * (len(headers) - 1),
    ]
    for name, values, mean in table_rows(rows, class_names):
        cells = [name] + [_percent(v, digits) for v in values] + [_percent(mean, digits)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def csv_iou_table(rows: Mapping[str, Sequence[float]], class_names: Sequence[str],
                  *, digits: int = 1) -> str:
    """The same table as CSV (percentages; empty cells for NaN)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", *class_names, "mean_iou"])
    for name, values, mean in table_rows(rows, class_names):
        cells = [_percent(v, digits) for v in [*values, mean]]
        writer.writerow([name] + ["" if c == "-" else c for c in cells])
    return buffer.getvalue()


def write_iou_table(rows: Mapping[str, Sequence[float]], class_names: Sequence[str],
                    path_prefix, *, digits: int = 1) -> tuple[Path, Path]:
    """Writes `<path_prefix>.csv` and `<path_prefix>.md` (atomically); returns both
    paths."""
    prefix = Path(path_prefix)
    csv_path = prefix.with_name(prefix.name + ".csv")
    md_path = prefix.with_name(prefix.name + ".md")
    write_text_atomic(csv_path, csv_iou_table(rows, class_names, digits=digits))
    write_text_atomic(md_path, markdown_iou_table(rows, class_names, digits=digits))
    return csv_path, md_path


def format_scores(scores: SegmentationScores, *, digits: int = 3) -> str:
    """One evaluation as the official Cityscapes script prints it.

    A line per class (IoU, and iIoU when measured), then the categories when there are
    any, the means and the pixel accuracy. Values are fractions, as the official
    script prints them.

    Args:
        scores: the evaluation.
        digits: decimals of every value.

    Returns:
        The text, lines joined by newlines.
    """
    def cell(value) -> str:
        return "  nan" if value is None or math.isnan(value) else f"{value:.{digits}f}"

    def block(title, names, ious, iious, mean, mean_iiou) -> list[str]:
        head = f"{title:<17}IoU" + ("     iIoU" if iious is not None else "")
        lines = [head, "-" * len(head)]
        for i, name in enumerate(names):
            line = f"{name:<14}: {cell(ious[i])}"
            if iious is not None:
                line += f"    {cell(iious[i])}"
            lines.append(line)
        lines.append("-" * len(head))
        average = f"{'Score Average':<14}: {cell(mean)}"
        if iious is not None:
            average += f"    {cell(mean_iiou)}"
        return lines + [average, ""]

    lines = block("classes", scores.class_names, scores.per_class_iou,
                  scores.per_class_iiou, scores.mean_iou, scores.mean_iiou)
    if scores.category_names is not None:
        lines += block("categories", scores.category_names, scores.per_category_iou,
                       scores.per_category_iiou, scores.category_iou,
                       scores.category_iiou)
    lines.append(f"pixel accuracy: {cell(scores.pixel_accuracy)} "
                 f"({scores.num_images} images)")
    return "\n".join(lines)
