"""The streaming confusion matrix and the scores derived from it (numpy).

Rows are ground truth, columns predictions (fyu/drn segment.py `fast_hist`, 452-455).
Ground-truth values outside [0, num_classes) (255, the ignore label) are skipped.

An optional extra last column counts "void" predictions: pixels where the model
predicted none of the evaluated classes (a Cityscapes prediction of a label id the
benchmark does not score, e.g. "parking"). They are misses of the ground-truth class,
as the official benchmark counts them (cityscapesscripts evalPixelLevelSemanticLabeling
`getIouScoreForLabel`: the false negatives are the whole row), but no class's false
positives. Every score below accepts both shapes, (n, n) and (n, n + 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

IGNORE_LABEL = 255


def confusion_matrix(labels, predictions, num_classes: int, *,
                     void_label: int | None = None) -> np.ndarray:
    """Counts (ground truth, prediction) pairs over every pixel with a valid label.

    Args:
        labels: ground-truth class ids, any shape; values outside [0, num_classes)
            (255) are not counted.
        predictions: predicted class ids, the same number of elements.
        num_classes: the number of classes n.
        void_label: if given, predictions equal to it are counted in an extra last
            column (the matrix is then n x (n + 1)) instead of being an error.

    Returns:
        int64 array (n, n), or (n, n + 1) with `void_label`.

    Predictions outside [0, num_classes) (other than `void_label`) are an error: they
    cannot come from a model of `num_classes` classes.
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
    columns = num_classes
    if void_label is not None:
        if 0 <= void_label < num_classes:
            raise ValueError(
                f"void_label={void_label} is one of the {num_classes} classes; pass a "
                f"value outside [0, {num_classes}), e.g. 255."
            )
        columns = num_classes + 1
        bad = ((predictions < 0) | (predictions >= num_classes)) & (
            predictions != void_label)
        predictions = np.where(predictions == void_label, num_classes, predictions)
    else:
        bad = (predictions < 0) | (predictions >= num_classes)
    if predictions.size and bad.any():
        value = predictions[bad][0]
        allowed = f"[0, {num_classes})"
        if void_label is not None:
            allowed += f" or {void_label} (void)"
        raise ValueError(f"A prediction holds class id {value}, outside {allowed}.")
    counts = np.bincount(labels * columns + predictions, minlength=num_classes * columns)
    return counts.reshape(num_classes, columns)


def _split(matrix) -> tuple[np.ndarray, int]:
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] not in (matrix.shape[0], matrix.shape[0] + 1):
        raise ValueError(
            f"Expected a confusion matrix of shape (n, n) or (n, n + 1), received "
            f"{matrix.shape}."
        )
    return matrix, matrix.shape[0]


def iou_per_class(matrix: np.ndarray) -> np.ndarray:
    """tp / (tp + fp + fn) per class; NaN for a class absent from both.

    tp is the diagonal, tp + fn the row sum (void predictions included), tp + fp the
    column sum over the ground-truth rows.
    """
    matrix, n = _split(matrix)
    tp = np.diag(matrix[:, :n])
    union = matrix.sum(1) + matrix[:, :n].sum(0) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)


def mean_iou(matrix: np.ndarray) -> float:
    """The mean over classes that occur (nanmean), as segment.py and the benchmark."""
    ious = iou_per_class(matrix)
    return float(np.nanmean(ious)) if np.any(~np.isnan(ious)) else float("nan")


def pixel_accuracy(matrix: np.ndarray) -> float:
    """Correct pixels over all pixels with a valid label (void predictions are wrong)."""
    matrix, n = _split(matrix)
    total = matrix.sum()
    return float(np.trace(matrix[:, :n]) / total) if total else float("nan")


def group_classes(matrix: np.ndarray, groups: Sequence[int], num_groups: int) -> np.ndarray:
    """Merges classes into groups: rows and columns of the classes in one group are
    summed. The void column, if any, stays the last column.

    With Cityscapes' class-to-category map this gives the category confusion matrix,
    whose `iou_per_class` is the benchmark's category IoU (`getIouScoreForCategory`).
    """
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    groups = np.asarray(groups, dtype=np.int64)
    if groups.shape != (n,) or groups.min() < 0 or groups.max() >= num_groups:
        raise ValueError(
            f"groups must give one group id in [0, {num_groups}) per class ({n} "
            f"classes), received {groups.tolist()}."
        )
    one_hot = np.zeros((n, num_groups), dtype=matrix.dtype)
    one_hot[np.arange(n), groups] = 1
    rows = one_hot.T @ matrix  # (g, columns)
    grouped = rows[:, :n] @ one_hot
    if matrix.shape[1] == n + 1:
        grouped = np.concatenate([grouped, rows[:, n:]], axis=1)
    return grouped


class ConfusionMatrix:
    """Accumulates a confusion matrix over batches.

    Args:
        num_classes: the number of classes.
        void_label: optional prediction value counted as a miss in an extra column
            (see `confusion_matrix`).
    """

    def __init__(self, num_classes: int, *, void_label: int | None = None):
        self.num_classes = int(num_classes)
        self.void_label = void_label
        columns = self.num_classes + (void_label is not None)
        self.matrix = np.zeros((self.num_classes, columns), dtype=np.int64)

    def update(self, labels, predictions) -> None:
        self.matrix += confusion_matrix(labels, predictions, self.num_classes,
                                        void_label=self.void_label)

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
