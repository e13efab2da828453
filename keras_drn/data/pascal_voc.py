"""PASCAL VOC 2012 segmentation, with the SBD augmented set (Hariharan et al. 2011) when
present: the 10,582-image `train_aug` of DeepLab and fyu/dilation's VOC model.

Layouts (data_dir may be `VOCdevkit/VOC2012`, `VOCdevkit`, or its parent):
1. The reference's list files (`{split}_images.txt`, `{split}_labels.txt`, optional
   `info.json`) with labels as class-index PNGs (gray or palette) and 255 void.
2. The devkit: `JPEGImages/*.jpg`, `SegmentationClass/*.png` (palette PNGs whose indices
   are the 21 classes, 255 on object borders) and `ImageSets/Segmentation/{train,val}.txt`.
   For split "train", SBD is added when found:
     - `SegmentationClassAug/*.png` (the common conversion) with
       `ImageSets/SegmentationAug/train_aug.txt` if present, or
     - SBD itself, `benchmark_RELEASE/dataset/{cls/*.mat, train.txt, val.txt}` beside
       VOC2012 or in `sbd_dir`;
   the augmented training set is (SBD train + SBD val + VOC train) minus VOC val, with
   VOC's own label where an image has both.
"""

from __future__ import annotations

import os

from keras_drn.data.sources import DataError
from keras_drn.data.sources import SegmentationSource
from keras_drn.data.sources import check_layout_arguments
from keras_drn.data.sources import list_files_present
from keras_drn.data.sources import read_info_json
from keras_drn.data.sources import read_list_source

SPLITS = ("train", "val", "trainval", "test")
EVAL_SIZE = (512, 512)  # every VOC image is at most 500x500

LAYOUTS_HELP = (
    "Accepted layouts for PASCAL VOC:\n"
    "  1. list files: <dir>/{split}_images.txt and {split}_labels.txt (optionally "
    "info.json);\n"
    "  2. the VOC2012 devkit: <dir>/JPEGImages, SegmentationClass and "
    "ImageSets/Segmentation (with SBD as SegmentationClassAug/ or "
    "benchmark_RELEASE/dataset/ for the augmented training set).\n"
    "VOC 2012 comes from http://host.robots.ox.ac.uk/pascal/VOC/voc2012/ "
    "(VOCtrainval_11-May-2012.tar); SBD from "
    "http://home.bharathh.info/pubs/codes/SBD/download.html."
)


def _find_voc_root(data_dir: str) -> str | None:
    for candidate in (data_dir, os.path.join(data_dir, "VOC2012"),
                      os.path.join(data_dir, "VOCdevkit", "VOC2012")):
        if os.path.isdir(os.path.join(candidate, "JPEGImages")):
            return candidate
    return None


def _find_sbd(voc_root: str, data_dir: str, sbd_dir: str | None) -> str | None:
    candidates = [sbd_dir] if sbd_dir else []
    for base in (data_dir, os.path.dirname(voc_root), os.path.dirname(
            os.path.dirname(voc_root))):
        candidates += [os.path.join(base, "benchmark_RELEASE", "dataset"),
                       os.path.join(base, "SBD", "dataset"), os.path.join(base, "SBD")]
    for candidate in candidates:
        if candidate and os.path.isdir(os.path.join(candidate, "cls")):
            return candidate
    return None


def _read_ids(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.split()[0] for line in f if line.strip()]


def pascal_voc_source(data_dir: str | None, split: str = "train", *,
                      list_dir: str | None = None, classes: int = 21,
                      sbd_dir: str | None = None, use_sbd: bool = True,
                      require_labels: bool | None = None) -> SegmentationSource:
    require_labels = check_layout_arguments(
        "PASCAL VOC", data_dir, split, splits=SPLITS, require_labels=require_labels,
        layouts_help=LAYOUTS_HELP)
    if list_files_present(data_dir, split, list_dir):
        source = read_list_source(data_dir, split, dataset="pascal_voc", classes=classes,
                                  list_dir=list_dir, default_normalization="pascal_voc",
                                  label_encoding="palette", require_labels=require_labels)
        return _with_eval_size(source)
    root = _find_voc_root(data_dir)
    if root is None:
        raise DataError(f"No PASCAL VOC data in {data_dir}.\n" + LAYOUTS_HELP)
    sets = os.path.join(root, "ImageSets", "Segmentation")
    list_path = os.path.join(sets, f"{split}.txt")
    if not os.path.isfile(list_path):
        raise DataError(f"{list_path} not found (the VOC {split} list).\n" + LAYOUTS_HELP)
    ids = _read_ids(list_path)
    voc_label = lambda i: os.path.join(root, "SegmentationClass", f"{i}.png")  # noqa
    labels = {i: voc_label(i) for i in ids}
    description = f"PASCAL VOC 2012 in {root} ({split})"
    if split == "train" and use_sbd:
        extra, how = _sbd_labels(root, data_dir, sbd_dir)
        if extra:
            val_path = os.path.join(sets, "val.txt")
            val = set(_read_ids(val_path)) if os.path.isfile(val_path) else set()
            for i in sorted(extra):
                if i not in val and i not in labels:
                    ids.append(i)
                    labels[i] = extra[i]
            description = f"PASCAL VOC 2012 + SBD ({how}) in {root} (train_aug)"
    images = tuple(os.path.join(root, "JPEGImages", f"{i}.jpg") for i in ids)
    return SegmentationSource(
        dataset="pascal_voc", images=images,
        labels=tuple(labels[i] for i in ids) if split != "test" else None,
        names=tuple(f"{i}.jpg" for i in ids), classes=classes,
        normalization=read_info_json(data_dir, "pascal_voc"),
        label_encoding="palette", eval_size=EVAL_SIZE, description=description)


def _sbd_labels(root, data_dir, sbd_dir) -> tuple[dict, str]:
    """{image id: label path} of the augmented annotations, and where they came from."""
    aug_dir = os.path.join(root, "SegmentationClassAug")
    if os.path.isdir(aug_dir):
        listed = os.path.join(root, "ImageSets", "SegmentationAug", "train_aug.txt")
        if os.path.isfile(listed):
            ids = [os.path.splitext(os.path.basename(i))[0] for i in _read_ids(listed)]
        else:
            ids = [f[:-4] for f in os.listdir(aug_dir) if f.endswith(".png")]
        return {i: os.path.join(aug_dir, f"{i}.png") for i in ids}, "SegmentationClassAug"
    sbd = _find_sbd(root, data_dir, sbd_dir)
    if sbd is None:
        return {}, ""
    ids = []
    for name in ("train.txt", "val.txt"):
        path = os.path.join(sbd, name)
        if os.path.isfile(path):
            ids += _read_ids(path)
    return {i: os.path.join(sbd, "cls", f"{i}.mat") for i in ids}, sbd


def _with_eval_size(source: SegmentationSource) -> SegmentationSource:
    import dataclasses

    return dataclasses.replace(source, eval_size=EVAL_SIZE)
