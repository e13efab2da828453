"""Class names of the datasets the papers evaluate on, and Cityscapes' label ids with
the maps between its label ids (the *_labelIds.png values) and train ids (0..18)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class CityscapesLabel(NamedTuple):
    """One row of the Cityscapes label definition (cityscapesscripts helpers/labels.py)."""

    name: str
    id: int  # value stored in *_labelIds.png
    train_id: int  # 0..18, or 255 for classes not evaluated
    category: str
    category_id: int


# The Cityscapes label definition (Cordts et al., CVPR 2016): ids 0..33 as written in
# the *_labelIds.png files, the 19 evaluated classes mapped to train ids 0..18 and the
# rest to 255 (ignored). "license plate" (-1) exists only for instance annotations.
CITYSCAPES_LABELS: tuple[CityscapesLabel, ...] = tuple(
    CityscapesLabel(*row)
    for row in [
        ("unlabeled", 0, 255, "void", 0),
        ("ego vehicle", 1, 255, "void", 0),
        ("rectification border", 2, 255, "void", 0),
        ("out of roi", 3, 255, "void", 0),
        ("static", 4, 255, "void", 0),
        ("dynamic", 5, 255, "void", 0),
        ("ground", 6, 255, "void", 0),
        ("road", 7, 0, "flat", 1),
        ("sidewalk", 8, 1, "flat", 1),
        ("parking", 9, 255, "flat", 1),
        ("rail track", 10, 255, "flat", 1),
        ("building", 11, 2, "construction", 2),
        ("wall", 12, 3, "construction", 2),
        ("fence", 13, 4, "construction", 2),
        ("guard rail", 14, 255, "construction", 2),
        ("bridge", 15, 255, "construction", 2),
        ("tunnel", 16, 255, "construction", 2),
        ("pole", 17, 5, "object", 3),
        ("polegroup", 18, 255, "object", 3),
        ("traffic light", 19, 6, "object", 3),
        ("traffic sign", 20, 7, "object", 3),
        ("vegetation", 21, 8, "nature", 4),
        ("terrain", 22, 9, "nature", 4),
        ("sky", 23, 10, "sky", 5),
        ("person", 24, 11, "human", 6),
        ("rider", 25, 12, "human", 6),
        ("car", 26, 13, "vehicle", 7),
        ("truck", 27, 14, "vehicle", 7),
        ("bus", 28, 15, "vehicle", 7),
        ("caravan", 29, 255, "vehicle", 7),
        ("trailer", 30, 255, "vehicle", 7),
        ("train", 31, 16, "vehicle", 7),
        ("motorcycle", 32, 17, "vehicle", 7),
        ("bicycle", 33, 18, "vehicle", 7),
    ]
)

CITYSCAPES_CLASSES: tuple[str, ...] = tuple(
    label.name for label in sorted(
        (lab for lab in CITYSCAPES_LABELS if lab.train_id != 255),
        key=lambda lab: lab.train_id,
    )
)

# The seven categories the official benchmark reports ("category IoU"); "void" is not
# evaluated.
CITYSCAPES_CATEGORIES: tuple[str, ...] = (
    "flat", "construction", "object", "nature", "sky", "human", "vehicle",
)

# CamVid and KITTI as labelled for fyu/dilation (11 classes, in the order of its palette,
# datasets/camvid.json): the Sturgess et al. 11-class split.
CAMVID_CLASSES: tuple[str, ...] = (
    "building", "tree", "sky", "car", "sign", "road", "pedestrian", "fence",
    "pole", "sidewalk", "bicyclist",
)

PASCAL_VOC_CLASSES: tuple[str, ...] = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
    "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
    "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)

_CLASS_NAMES = {
    "cityscapes": CITYSCAPES_CLASSES,
    "synthetic": CITYSCAPES_CLASSES,
    "camvid": CAMVID_CLASSES,
    "kitti": CAMVID_CLASSES,
    "pascal_voc": PASCAL_VOC_CLASSES,
}


def class_names(dataset: str) -> tuple[str, ...]:
    """The class names of `dataset`, in train-id order.

    Args:
        dataset: "cityscapes", "synthetic", "camvid", "kitti" or "pascal_voc".

    Returns:
        A tuple of names, one per class.

    Raises:
        ValueError: an unknown dataset.
    """
    try:
        return _CLASS_NAMES[dataset]
    except KeyError:
        raise ValueError(
            f"Unknown dataset={dataset!r}; expected one of {sorted(_CLASS_NAMES)}."
        ) from None


def label_id_to_train_id_table() -> np.ndarray:
    """A 256-entry uint8 lookup table from Cityscapes label ids to train ids.

    Every value that is not a Cityscapes label id (and every non-evaluated class) maps
    to 255, so `table[label_ids]` turns a *_labelIds.png into train ids.

    Returns:
        A (256,) uint8 array.
    """
    table = np.full(256, 255, dtype=np.uint8)
    for label in CITYSCAPES_LABELS:
        table[label.id] = label.train_id
    return table


def train_id_to_label_id_table() -> np.ndarray:
    """A 256-entry uint8 lookup table from Cityscapes train ids to label ids.

    Train ids 0..18 map to their label ids (road 0 -> 7, ..., bicycle 18 -> 33); every
    other value, 255 (ignore) included, maps to 0 ("unlabeled").

    Returns:
        A (256,) uint8 array.
    """
    table = np.zeros(256, dtype=np.uint8)
    for label in CITYSCAPES_LABELS:
        if label.train_id != 255:
            table[label.train_id] = label.id
    return table


_TRAIN_TO_LABEL = train_id_to_label_id_table()


def train_ids_to_label_ids(train_ids) -> np.ndarray:
    """Cityscapes train ids to label ids, as the benchmark server wants them.

    Args:
        train_ids: an integer array of train ids (0..18; 255 or any other value is
            not a class).

    Returns:
        A uint8 array of the same shape: each class's label id, and 0 ("unlabeled")
        wherever the input is not a class.

    Example:
    ```python
    label_ids = train_ids_to_label_ids(predictor.predict(image))
    ```
    """
    train_ids = np.asarray(train_ids).astype(np.int64)
    valid = (train_ids >= 0) & (train_ids < len(CITYSCAPES_CLASSES))
    return np.where(valid, _TRAIN_TO_LABEL[np.where(valid, train_ids, 0)], 0).astype(
        np.uint8)
