"""The streaming confusion matrix and the scores derived from it (numpy).

Rows are ground truth, columns predictions (fyu/drn segment.py `fast_hist`, 452-455).
Ground-truth values outside [0, num_classes) (255, the ignore label) are skipped.
"""

from __future__ import annotations

import numpy as np

IGNORE_LABEL = 255


def confusion_matrix(labels, predictions, num_classes: int) -> np.ndarray:
    """Counts (ground truth, prediction) pairs over every pixel with a valid label.

    Predictions outside [0, num_classes) are an error: they cannot come from a model of
    `num_classes` classes.
    """
    labels = np.asarray(labels).reshape(-1)
    predictions = np.asarray(predictions).reshape(-1)
    if labels.shape != predictions.shape:
        raise ValueError(
            f"labels and predictions differ in size: {labels.size} vs "
            f"{predictions.size} pixels."
        )
    valid = (labels >= 0) & (labels < num_classes)
    labels = labels[valid].astype(np.int64)
    predictions = predictions[valid].astype(np.int64)
    if predictions.size and (predictions.min() < 0 or predictions.max() >= num_classes):
        bad = predictions[(predictions < 0) | (predictions >= num_classes)][0]
        raise ValueError(
            f"A prediction holds class id {bad}, outside [0, {num_classes})."
        )
    counts = np.bincount(labels * num_classes + predictions,
                         minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def iou_per_class(matrix: np.ndarray) -> np.ndarray:
    """diag / (row sum + column sum - diag); NaN for a class absent from both."""
    matrix = np.asarray(matrix, dtype=np.float64)
    tp = np.diag(matrix)
    union = matrix.sum(0) + matrix.sum(1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)


def mean_iou(matrix: np.ndarray) -> float:
    """The mean over classes that occur (nanmean), as segment.py and the benchmark."""
    ious = iou_per_class(matrix)
    return float(np.nanmean(ious)) if np.any(~np.isnan(ious)) else float("nan")


def pixel_accuracy(matrix: np.ndarray) -> float:
    matrix = np.asarray(matrix, dtype=np.float64)
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else float("nan")


class ConfusionMatrix:
    """Accumulates a confusion matrix over batches."""

    def __init__(self, num_classes: int):
        self.num_classes = int(num_classes)
        self.matrix = np.zeros((self.num_classes, self.num_classes), dtype=np.int64)

    def update(self, labels, predictions) -> None:
        self.matrix += confusion_matrix(labels, predictions, self.num_classes)

    def merge(self, other: ConfusionMatrix | np.ndarray) -> None:
        self.matrix += getattr(other, "matrix", other)

    def reset(self) -> None:
        self.matrix[:] = 0

    def iou(self) -> np.ndarray:
        return iou_per_class(self.matrix)

    def mean_iou(self) -> float:
        return mean_iou(self.matrix)

    def pixel_accuracy(self) -> float:
        return pixel_accuracy(self.matrix)
