"""Scores of a whole evaluation, and the accumulator that produces them.

    scorer = Scorer(class_names)            # or CityscapesScorer() for the benchmark
    for label, prediction in pairs:
        scorer.update(label, prediction)    # ground truth and prediction, any shape
    scores = scorer.result()                # SegmentationScores
    scores.mean_iou, scores.per_class_iou, scores.to_dict()

All IoUs are fractions in [0, 1]; NaN marks a class that appears in neither the
ground truth nor the predictions (left out of the means, as the benchmark does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from keras_drn.evaluation.confusion import ConfusionMatrix
from keras_drn.evaluation.confusion import group_classes
from keras_drn.evaluation.confusion import iou_per_class
from keras_drn.evaluation.confusion import pixel_accuracy


def nanmean(values) -> float:
    """The mean of the non-NaN values; NaN when there are none (no warning)."""
    values = np.asarray(values, dtype=np.float64)
    valid = values[~np.isnan(values)]
    return float(valid.mean()) if valid.size else float("nan")


def _json_number(value):
    value = float(value)
    return None if math.isnan(value) else value


@dataclass
class SegmentationScores:
    """What an evaluation measured.

    Attributes:
        class_names: the evaluated classes, in class-id order.
        matrix: the confusion matrix, (n, n), or (n, n + 1) with a void column.
        num_images: images scored.
        category_names, category_matrix: the category level (Cityscapes), or None.
        per_class_iiou, per_category_iiou: instance-weighted IoU (Cityscapes' iIoU,
            when instance ground truth was given), NaN for classes without instances.
        dataset: a name for reports.
    """

    class_names: tuple[str, ...]
    matrix: np.ndarray
    num_images: int = 0
    category_names: tuple[str, ...] | None = None
    category_matrix: np.ndarray | None = None
    per_class_iiou: np.ndarray | None = None
    per_category_iiou: np.ndarray | None = None
    dataset: str = ""

    @property
    def per_class_iou(self) -> np.ndarray:
        return iou_per_class(self.matrix)

    @property
    def mean_iou(self) -> float:
        return nanmean(self.per_class_iou)

    @property
    def pixel_accuracy(self) -> float:
        return pixel_accuracy(self.matrix)

    @property
    def per_category_iou(self) -> np.ndarray | None:
        if self.category_matrix is None:
            return None
        return iou_per_class(self.category_matrix)

    @property
    def category_iou(self) -> float | None:
        """The mean over categories (the benchmark's "category IoU")."""
        ious = self.per_category_iou
        return None if ious is None else nanmean(ious)

    @property
    def mean_iiou(self) -> float | None:
        return None if self.per_class_iiou is None else nanmean(self.per_class_iiou)

    @property
    def category_iiou(self) -> float | None:
        if self.per_category_iiou is None:
            return None
        return nanmean(self.per_category_iiou)

    def iou_dict(self) -> dict[str, float]:
        """Class name to IoU."""
        return dict(zip(self.class_names, map(float, self.per_class_iou)))

    def to_dict(self, *, include_matrix: bool = True) -> dict:
        """A JSON-ready summary: NaN becomes None (null).

        Args:
            include_matrix: add the confusion matrix and its column names.

        Returns:
            A dict of plain Python values: the means, and a name -> value dict per
            measured level (classes, categories, their iIoU).
        """
        def named(names, values) -> dict:
            return {name: _json_number(v) for name, v in zip(names, values)}

        out = {
            "dataset": self.dataset,
            "num_images": int(self.num_images),
            "mean_iou": _json_number(self.mean_iou),
            "pixel_accuracy": _json_number(self.pixel_accuracy),
            "per_class_iou": named(self.class_names, self.per_class_iou),
        }
        if self.category_names is not None:
            out["category_iou"] = _json_number(self.category_iou)
            out["per_category_iou"] = named(self.category_names, self.per_category_iou)
        if self.per_class_iiou is not None:
            out["mean_iiou"] = _json_number(self.mean_iiou)
            out["per_class_iiou"] = named(self.class_names, self.per_class_iiou)
        if self.per_category_iiou is not None:
            out["category_iiou"] = _json_number(self.category_iiou)
            out["per_category_iiou"] = named(self.category_names,
                                             self.per_category_iiou)
        if include_matrix:
            out["confusion_matrix"] = np.asarray(self.matrix).astype(int).tolist()
            out["confusion_matrix_columns"] = list(self.class_names) + (
                ["void"] if self.matrix.shape[1] > self.matrix.shape[0] else []
            )
        return out


class Scorer:
    """Accumulates the confusion matrix of a dataset, image by image.

    Args:
        class_names: names in class-id order; their number is the class count.
        void_label: a prediction value counted as a miss rather than an error.
        categories: optional category names, with `class_categories` the category
            index of each class: category IoUs are computed from the grouped matrix.
        dataset: a name for reports.
    """

    def __init__(self, class_names: Sequence[str], *, void_label: int | None = None,
                 categories: Sequence[str] | None = None,
                 class_categories: Sequence[int] | None = None, dataset: str = ""):
        self.class_names = tuple(class_names)
        self.confusion = ConfusionMatrix(len(self.class_names), void_label=void_label)
        if (categories is None) != (class_categories is None):
            raise ValueError("Pass both categories and class_categories, or neither.")
        self.categories = None if categories is None else tuple(categories)
        self.class_categories = class_categories
        self.dataset = dataset
        self.num_images = 0

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def update(self, labels, predictions) -> None:
        """Adds one image (or a batch): ground-truth ids and predicted ids."""
        self.confusion.update(labels, predictions)
        self.num_images += 1

    def result(self) -> SegmentationScores:
        category_matrix = None
        if self.categories is not None:
            category_matrix = group_classes(self.confusion.matrix, self.class_categories,
                                            len(self.categories))
        return SegmentationScores(
            class_names=self.class_names,
            matrix=self.confusion.matrix.copy(),
            num_images=self.num_images,
            category_names=self.categories,
            category_matrix=category_matrix,
            dataset=self.dataset,
        )
