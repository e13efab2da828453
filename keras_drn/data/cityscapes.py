"""Cityscapes (Cordts et al., CVPR 2016) in the three layouts people have it in.

1. The reference's list files (fyu/drn README "Prepare Data"): `{split}_images.txt`,
   `{split}_labels.txt` and `info.json` in the data directory (or `list_dir`), paths
   relative to the data directory; labels usually `*_gtFine_trainIds.png` made by
   datasets/cityscapes/prepare_data.py.
2. The official directory layout, as unpacked from `leftImg8bit_trainvaltest.zip` and
   `gtFine_trainvaltest.zip`: `leftImg8bit/{split}/{city}/{id}_leftImg8bit.png` and
   `gtFine/{split}/{city}/{id}_gtFine_labelIds.png` (mapped to the 19 train ids, void
   255, with `keras_drn.meta.label_id_to_train_id_table`) or `..._gtFine_trainIds.png`
   (cityscapesscripts' createTrainIdLabelImgs) when present.
3. The tensorflow-datasets builder `cityscapes/semantic_segmentation`, prepared from
   the two zip files placed in a `manual_dir`.
"""

from __future__ import annotations

import os

from keras_drn.data.sources import DataError
from keras_drn.data.sources import SegmentationSource
from keras_drn.data.sources import check_layout_arguments
from keras_drn.data.sources import list_files_present
from keras_drn.data.sources import read_list_source
from keras_drn.meta import label_id_to_train_id_table
from keras_drn.meta.normalization import NORMALIZATION

SPLITS = ("train", "val", "test")
IMAGE_SUFFIX = "_leftImg8bit.png"
HOMEPAGE = "https://www.cityscapes-dataset.com"
MAX_LABEL_ID = 33  # the largest id in a *_labelIds.png (bicycle)
TFDS_NAME = "cityscapes/semantic_segmentation"
TFDS_ZIPS = ("leftImg8bit_trainvaltest.zip", "gtFine_trainvaltest.zip")


def layouts_help(split: str = "train") -> str:
    """What the error messages say about the accepted layouts and the download."""
    return (
        "Accepted layouts for Cityscapes:\n"
        f"  1. list files: <dir>/{split}_images.txt and {split}_labels.txt (paths "
        "relative to <dir>) with info.json, as fyu/drn's "
        "datasets/cityscapes/create_lists.sh makes;\n"
        f"  2. the official layout: <dir>/leftImg8bit/{split}/<city>/*_leftImg8bit.png "
        f"and <dir>/gtFine/{split}/<city>/*_gtFine_labelIds.png (or "
        "*_gtFine_trainIds.png);\n"
        "  3. --dataset cityscapes_tfds with --manual-dir holding "
        f"{' and '.join(TFDS_ZIPS)}.\n"
        f"Cityscapes is downloaded from {HOMEPAGE} after registering (free for "
        f"research); get {TFDS_ZIPS[0]} and {TFDS_ZIPS[1]}. To train without it, use "
        f"--dataset synthetic."
    )


def cityscapes_source(
    data_dir: str | None,
    split: str = "train",
    *,
    list_dir: str | None = None,
    classes: int = 19,
    require_labels: bool | None = None,
) -> SegmentationSource:
    """Finds Cityscapes `split` in `data_dir` (list files first, then the official
    layout) and returns its files. Raises DataError saying which layouts are accepted
    when neither is there."""
    require_labels = check_layout_arguments(
        "Cityscapes", data_dir, split, splits=SPLITS, require_labels=require_labels,
        layouts_help=layouts_help(split))
    if list_files_present(data_dir, split, list_dir):
        return read_list_source(
            data_dir, split, dataset="cityscapes", classes=classes, list_dir=list_dir,
            default_normalization="cityscapes", require_labels=require_labels)
    image_root = os.path.join(data_dir, "leftImg8bit", split)
    if os.path.isdir(image_root):
        return _directory_source(data_dir, split, classes, require_labels)
    found = sorted(os.listdir(data_dir))[:10]
    raise DataError(
        f"No Cityscapes {split} data in {data_dir}: neither {split}_images.txt nor "
        f"leftImg8bit/{split}/ is there (found: {found or 'nothing'}).\n"
        + layouts_help(split)
    )


def _directory_source(data_dir, split, classes, require_labels) -> SegmentationSource:
    image_root = os.path.join(data_dir, "leftImg8bit", split)
    label_root = os.path.join(data_dir, "gtFine", split)
    names = []
    for city in sorted(os.listdir(image_root)):
        city_dir = os.path.join(image_root, city)
        if not os.path.isdir(city_dir):
            continue
        for file in sorted(os.listdir(city_dir)):
            if file.endswith(IMAGE_SUFFIX):
                names.append(f"leftImg8bit/{split}/{city}/{file}")
    if not names:
        raise DataError(
            f"{image_root} holds no <city>/*{IMAGE_SUFFIX} files.\n"
            + layouts_help(split))
    images = tuple(os.path.join(data_dir, n) for n in names)
    description = f"the Cityscapes directory {data_dir} ({split})"
    if not os.path.isdir(label_root):
        if require_labels:
            raise DataError(
                f"{label_root} not found: Cityscapes {split} needs the gtFine labels "
                f"next to leftImg8bit (unpack {TFDS_ZIPS[1]} into {data_dir})."
            )
        return SegmentationSource(
            dataset="cityscapes", images=images, labels=None, names=tuple(names),
            classes=classes, normalization=NORMALIZATION["cityscapes"],
            description=description)

    def label_path(image_path, kind):
        city = os.path.basename(os.path.dirname(image_path))
        stem = os.path.basename(image_path)[: -len(IMAGE_SUFFIX)]
        return os.path.join(label_root, city, f"{stem}_gtFine_{kind}.png")

    # Prefer prepared train ids when the first image has them; then all must.
    kind = "trainIds" if os.path.isfile(label_path(images[0], "trainIds")) else "labelIds"
    labels = tuple(label_path(p, kind) for p in images)
    for image, label in zip(images, labels):
        if not os.path.isfile(label):
            raise DataError(
                f"The label {label} of the image {image} does not exist. Every "
                f"leftImg8bit image needs its gtFine_{kind}.png (unpack "
                f"{TFDS_ZIPS[1]} again, or remove the image)."
            )
    mapped = kind == "labelIds"
    return SegmentationSource(
        dataset="cityscapes",
        images=images,
        labels=labels,
        names=tuple(names),
        classes=classes,
        normalization=NORMALIZATION["cityscapes"],
        label_encoding="label_ids" if mapped else "train_ids",
        label_map=label_id_to_train_id_table() if mapped else None,
        max_label_value=MAX_LABEL_ID if mapped else None,
        description=description,
    )


def cityscapes_tfds_source(split: str = "train", *, manual_dir: str | None = None,
                           data_dir: str | None = None, classes: int = 19):
    """The tensorflow-datasets `cityscapes/semantic_segmentation` split, prepared on
    first use from the zips in `manual_dir` into `data_dir` (tfds' default when None).
    Labels are the builder's labelIds, mapped to train ids here."""
    import tensorflow_datasets as tfds

    from keras_drn.data.sources import TfdsSource

    tfds_split = {"train": "train", "val": "validation", "test": "test"}[split]
    builder = tfds.builder(TFDS_NAME, data_dir=data_dir)
    if not builder.is_prepared():
        if manual_dir is None or not all(
            os.path.isfile(os.path.join(manual_dir, z)) for z in TFDS_ZIPS
        ):
            raise DataError(
                f"The tfds Cityscapes builder is not prepared and --manual-dir "
                f"{manual_dir!r} does not hold {' and '.join(TFDS_ZIPS)}.\n"
                + layouts_help(split))
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
    count = builder.info.splits[tfds_split].num_examples

    def dataset_fn():
        return builder.as_dataset(
            split=tfds_split, shuffle_files=False,
            decoders={"image_left": tfds.decode.SkipDecoding(),
                      "segmentation_label": tfds.decode.SkipDecoding()})

    return TfdsSource(
        dataset_fn=dataset_fn, count=count, image_key="image_left",
        label_key="segmentation_label", id_key="image_id", classes=classes,
        normalization=NORMALIZATION["cityscapes"], label_map=label_id_to_train_id_table(),
        max_label_value=MAX_LABEL_ID, dataset="cityscapes",
        description=f"{TFDS_NAME} ({tfds_split})", eval_size=(1024, 2048))
