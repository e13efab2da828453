"""Cityscapes scoring, as the official benchmark computes it.

The official script (cityscapesscripts `evaluation/evalPixelLevelSemanticLabeling.py`)
works on label ids (0..33). We work on train ids (0..18) with one extra "void" column
for predictions of a label the benchmark does not score; the two are equal:

- class IoU = tp / (tp + fp + fn): fn is the whole ground-truth row, void predictions
  included (`getIouScoreForLabel`); fp counts only pixels whose ground truth is
  evaluated. Ground-truth pixels of non-evaluated labels are not counted at all.
- category IoU: the same on the matrix grouped by the 7 categories
  (`getIouScoreForCategory`; "void" is never evaluated).
- iIoU (instance-level, when *_instanceIds.png are given): tp and fn of each instance
  weighted by the class's average instance size over its size (`avgClassSize`), fp
  unweighted from the matrix.
- the means are over the classes (categories) whose score is not NaN.

Prediction ids are either train ids (0..18; 255 = void) or label ids (0..33; the
non-evaluated ones count as void). Anything else is an error.
"""

from __future__ import annotations

import numpy as np

from keras_drn.evaluation.scores import Scorer
from keras_drn.evaluation.scores import SegmentationScores
from keras_drn.meta.labels import CITYSCAPES_CATEGORIES
from keras_drn.meta.labels import CITYSCAPES_CLASSES
from keras_drn.meta.labels import CITYSCAPES_LABELS
from keras_drn.meta.labels import label_id_to_train_id_table
from keras_drn.meta.labels import train_id_to_label_id_table

NUM_CLASSES = len(CITYSCAPES_CLASSES)  # 19
NUM_LABEL_IDS = 1 + max(label.id for label in CITYSCAPES_LABELS)  # 34: ids 0..33
VOID = 255
ID_KINDS = ("train", "label")

# cityscapesscripts helpers/labels.py `hasInstances`: person .. bicycle (ids 24-33).
INSTANCE_LABEL_IDS = frozenset(range(24, 34))
# evalPixelLevelSemanticLabeling.py `args.avgClassSize`: the mean instance size (pixels)
# of each class over the training set, the weight of the iIoU.
AVERAGE_INSTANCE_SIZE = {
    "bicycle": 4672.3249222261,
    "caravan": 36771.8241758242,
    "motorcycle": 6298.7200839748,
    "rider": 3930.4788056518,
    "bus": 35732.1511111111,
    "train": 67583.7075812274,
    "car": 12794.0202738185,
    "person": 3462.4756337644,
    "truck": 27855.1264367816,
    "trailer": 16926.9763313609,
}


def _category_tables():
    label_category = np.full(256, -1, dtype=np.int16)  # -1: void or unknown
    class_category = np.zeros(NUM_CLASSES, dtype=np.int64)
    for label in CITYSCAPES_LABELS:
        category = label.category_id - 1  # 0..6 in CITYSCAPES_CATEGORIES order
        label_category[label.id] = category
        if label.train_id != VOID:
            class_category[label.train_id] = category
    train_category = np.full(256, -1, dtype=np.int16)
    train_category[:NUM_CLASSES] = class_category
    return label_category, class_category, train_category


# The id maps are `keras_drn.meta`'s; the category maps are the scorer's own.
LABEL_TO_TRAIN = label_id_to_train_id_table()
TRAIN_TO_LABEL = train_id_to_label_id_table()  # void -> 0 "unlabeled"
LABEL_CATEGORY, CLASS_CATEGORIES, TRAIN_CATEGORY = _category_tables()

# Categories whose every label has instances get an iIoU (human and vehicle).
INSTANCE_CATEGORIES = tuple(
    i for i, name in enumerate(CITYSCAPES_CATEGORIES)
    if all(label.id in INSTANCE_LABEL_IDS for label in CITYSCAPES_LABELS
           if label.category == name)
)
_INSTANCE_CLASSES = np.array(
    [TRAIN_TO_LABEL[t] in INSTANCE_LABEL_IDS for t in range(NUM_CLASSES)]
)


def check_ids(ids, kind: str, *, what: str = "prediction") -> np.ndarray:
    """Validates an id map of `kind` ("train" or "label"); returns it as int64.

    Raises:
        ValueError: naming the first out-of-range value and how many pixels hold it.
    """
    if kind not in ID_KINDS:
        raise ValueError(f"Invalid ids={kind!r}. Expected one of: 'train', 'label'.")
    ids = np.asarray(ids).astype(np.int64)
    if kind == "label":
        bad = (ids < 0) | (ids >= NUM_LABEL_IDS)
        expected = f"Cityscapes label ids 0..{NUM_LABEL_IDS - 1}"
    else:
        bad = ((ids < 0) | (ids >= NUM_CLASSES)) & (ids != VOID)
        expected = f"train ids 0..{NUM_CLASSES - 1} (or {VOID} for void)"
    if bad.any():
        value = int(ids[bad][0])
        count = int(np.count_nonzero(ids == value))
        hint = ""
        if kind == "train" and value < NUM_LABEL_IDS:
            hint = " If these are label ids, say so (ids='label', --ids label)."
        raise ValueError(
            f"The {what} holds id {value} ({count} pixels), outside {expected}.{hint}"
        )
    return ids


def to_train_ids(ids, kind: str, *, what: str = "prediction") -> np.ndarray:
    """Label ids or train ids (validated) to train ids, with 255 for void."""
    ids = check_ids(ids, kind, what=what)
    return LABEL_TO_TRAIN[ids] if kind == "label" else ids.astype(np.uint8)


def categories_of(ids, kind: str) -> np.ndarray:
    """The category index (0..6, -1 for void) of each pixel of an id map."""
    table = LABEL_CATEGORY if kind == "label" else TRAIN_CATEGORY
    return table[np.asarray(ids).astype(np.int64)]


class CityscapesScorer(Scorer):
    """The benchmark's class IoU, category IoU and (with instance maps) iIoU.

    Args:
        instances: whether `update` receives instance maps for the iIoU.
    """

    def __init__(self, *, instances: bool = False):
        super().__init__(
            CITYSCAPES_CLASSES, void_label=VOID, categories=CITYSCAPES_CATEGORIES,
            class_categories=CLASS_CATEGORIES, dataset="cityscapes",
        )
        self.instances = instances
        self._class_tp = np.zeros(NUM_CLASSES)
        self._class_fn = np.zeros(NUM_CLASSES)
        self._category_tp = np.zeros(len(CITYSCAPES_CATEGORIES))
        self._category_fn = np.zeros(len(CITYSCAPES_CATEGORIES))
        self._category_void_fp = np.zeros(len(CITYSCAPES_CATEGORIES))

    def update(self, labels, predictions, *, label_ids: str = "train",
               prediction_ids: str = "train", instance_ids=None) -> None:
        """Adds one image.

        Args:
            labels: ground truth, train ids (255 ignored) or label ids.
            predictions: predicted ids of the same shape.
            label_ids, prediction_ids: "train" or "label", the kind of each.
            instance_ids: the *_instanceIds.png map (label_id * 1000 + instance for
                objects), required when the scorer was built with instances=True.
        """
        labels = np.asarray(labels)
        predictions = np.asarray(predictions)
        if labels.shape != predictions.shape:
            raise ValueError(
                f"The prediction is {predictions.shape}, the ground truth "
                f"{labels.shape}; they must have the same size."
            )
        gt = to_train_ids(labels, label_ids, what="ground truth")
        pred = to_train_ids(predictions, prediction_ids, what="prediction")
        super().update(gt, pred)
        if self.instances:
            if instance_ids is None:
                raise ValueError(
                    "This scorer computes iIoU (instances=True): pass instance_ids."
                )
            pred_categories = categories_of(predictions, prediction_ids)
            self._add_instances(np.asarray(instance_ids), pred, pred_categories)
            # getInstanceIouScoreForCategory counts as false positives the predictions
            # of *every* label of the category, caravan and trailer included, which
            # our void column hides: count those separately.
            void = (pred == VOID) & (gt != VOID) & (pred_categories >= 0)
            if void.any():
                gt_categories = TRAIN_CATEGORY[gt[void]]
                cats = pred_categories[void]
                other = cats != gt_categories
                self._category_void_fp += np.bincount(
                    cats[other], minlength=len(CITYSCAPES_CATEGORIES))

    def _add_instances(self, instance_ids, pred, pred_categories) -> None:
        # evaluatePair: every instance (id > 1000) of an evaluated class with
        # instances adds its tp and fn, weighted by avgClassSize / instance size.
        if instance_ids.shape != pred.shape:
            raise ValueError(
                f"The instance map is {instance_ids.shape}, the prediction "
                f"{pred.shape}; they must have the same size."
            )
        objects = instance_ids > 1000
        if not objects.any():
            return
        ids, inverse = np.unique(instance_ids[objects], return_inverse=True)
        label_of = ids // 1000
        unknown = label_of >= NUM_LABEL_IDS
        if unknown.any():
            raise ValueError(
                f"The instance map holds id {int(ids[unknown][0])}, whose label id "
                f"{int(label_of[unknown][0])} is not a Cityscapes label."
            )
        train_of = LABEL_TO_TRAIN[label_of]
        sizes = np.bincount(inverse, minlength=ids.size).astype(np.float64)
        hits = pred[objects] == train_of[inverse]
        tp = np.bincount(inverse, weights=hits, minlength=ids.size)
        category_of = LABEL_CATEGORY[label_of]
        in_category = pred_categories[objects] == category_of[inverse]
        category_tp = np.bincount(inverse, weights=in_category, minlength=ids.size)
        for k in range(ids.size):
            train_id = int(train_of[k])
            if train_id == VOID:  # caravan, trailer: ignored in evaluation
                continue
            weight = AVERAGE_INSTANCE_SIZE[CITYSCAPES_CLASSES[train_id]] / sizes[k]
            self._class_tp[train_id] += tp[k] * weight
            self._class_fn[train_id] += (sizes[k] - tp[k]) * weight
            category = int(category_of[k])
            if category in INSTANCE_CATEGORIES:
                self._category_tp[category] += category_tp[k] * weight
                self._category_fn[category] += (sizes[k] - category_tp[k]) * weight

    def result(self) -> SegmentationScores:
        scores = super().result()
        if not self.instances:
            return scores
        n = NUM_CLASSES
        matrix = scores.matrix.astype(np.float64)
        fp = matrix[:, :n].sum(0) - np.diag(matrix[:, :n])
        scores.per_class_iiou = _weighted_iou(self._class_tp, fp, self._class_fn,
                                              _INSTANCE_CLASSES)
        grouped = scores.category_matrix.astype(np.float64)
        g = grouped.shape[0]
        category_fp = grouped[:, :g].sum(0) - np.diag(grouped[:, :g])
        category_fp = category_fp + self._category_void_fp
        has = np.isin(np.arange(g), INSTANCE_CATEGORIES)
        scores.per_category_iiou = _weighted_iou(self._category_tp, category_fp,
                                                 self._category_fn, has)
        return scores


def _weighted_iou(tp, fp, fn, defined) -> np.ndarray:
    denominator = tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(denominator > 0, tp / np.where(denominator > 0, denominator, 1),
                       np.nan)
    return np.where(defined, iou, np.nan)
