"""Segmentation data sources: what the data is, where its files are, how to read them.

A source is the resolved answer to "where is the data":

- `SegmentationSource`: a list of image paths, the matching label paths, how the label
  values become train ids, and the normalisation statistics. The dataset modules
  (`cityscapes`, `camvid`, `pascal_voc`) find these files in the layouts their users
  have.
- `SyntheticSource`: the procedural street scenes of `keras_drn.data.synthetic`.
- `TfdsSource`: a split of a tensorflow-datasets builder.

`keras_drn.data.pipeline` turns a source into a `tf.data.Dataset`. Nothing here imports
TensorFlow.

The reference's list files (fyu/drn README "Prepare Data"; segment.py:150-158) are read
by `read_list_source`: `{phase}_images.txt`, `{phase}_labels.txt` (paths relative to
the data directory) and `info.json` (mean and std of RGB on [0, 1]).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from dataclasses import field

import numpy as np

from keras_drn.files import read_image
from keras_drn.meta.normalization import NORMALIZATION
from keras_drn.meta.normalization import Normalization

IGNORE_LABEL = 255

# How a label file's values become train ids:
#   "train_ids": the file already holds 0..classes-1 and 255 (fyu/drn lists, CamVid
#     annotations after mapping, *_trainIds.png).
#   "label_ids": Cityscapes *_labelIds.png, mapped through `label_map`.
#   "palette": a palette PNG whose indices are the classes (VOC SegmentationClass).
#   "sbd_mat": an SBD `cls/*.mat` file (GTcls.Segmentation), read with scipy.
LABEL_ENCODINGS = ("train_ids", "label_ids", "palette", "sbd_mat")


class DataError(ValueError):
    """Bad or missing input data: the message names the file, what was expected, and
    what to do."""


@dataclass(frozen=True)
class SegmentationSource:
    """A resolved list of (image, label) files.

    Attributes:
        dataset: the dataset's name in `keras_drn.meta` ("cityscapes", "camvid", ...).
        images: absolute image paths.
        labels: absolute label paths, or None (e.g. the test split).
        names: a relative name per image (its listed path), used for output files.
        classes: number of classes; labels hold 0..classes-1 and 255.
        normalization: (mean, std) applied to RGB / 255.
        label_encoding: one of `LABEL_ENCODINGS`.
        label_map: a 256-entry uint8 table applied to label values (label_ids), or None.
        max_label_value: the largest raw value a valid label file may hold (before the
            map); larger values mean a wrong file was listed.
        eval_size: (height, width) every evaluation image is padded to, or None when
            all images share one size.
        description: where the data came from, for logs and error messages.
    """

    dataset: str
    images: tuple[str, ...]
    labels: tuple[str, ...] | None
    names: tuple[str, ...]
    classes: int
    normalization: Normalization
    label_encoding: str = "train_ids"
    label_map: np.ndarray | None = field(default=None, compare=False)
    max_label_value: int | None = None
    eval_size: tuple[int, int] | None = None
    description: str = ""

    def __post_init__(self):
        if self.label_encoding not in LABEL_ENCODINGS:
            raise ValueError(
                f"Invalid label_encoding={self.label_encoding!r}; expected one of "
                f"{LABEL_ENCODINGS}."
            )
        if self.labels is not None and len(self.labels) != len(self.images):
            raise DataError(
                f"{self.description}: {len(self.images)} images but "
                f"{len(self.labels)} labels; every image needs exactly one label."
            )
        if not self.images:
            raise DataError(f"{self.description}: no images found.")

    def __len__(self) -> int:
        return len(self.images)

    def check_files_exist(self) -> None:
        """Raises DataError naming the first listed file that does not exist."""
        groups = [("image", self.images)]
        if self.labels is not None:
            groups.append(("label", self.labels))
        for kind, paths in groups:
            for path in paths:
                if not os.path.isfile(path):
                    raise DataError(
                        f"The {kind} file {path} is listed in {self.description} but "
                        f"does not exist. Fix the list or restore the file."
                    )


@dataclass(frozen=True)
class SyntheticSource:
    """The procedural street scenes of `keras_drn.data.synthetic`, unlimited.

    Training scenes use seeds derived from the run's seed and the example index;
    validation (and "test") scenes are a fixed set, the same for every run, so that
    figures from different runs are comparable.

    Attributes:
        image_size: (height, width) of every scene.
        split: "train", "val" or "test".
        eval_count: how many scenes a "val" or "test" pass holds.
        classes, dataset, normalization: Cityscapes' 19 classes, "synthetic", and the
            scenes' statistics.
    """

    image_size: tuple[int, int] = (128, 256)
    split: str = "train"
    eval_count: int = 100
    classes: int = 19
    dataset: str = "synthetic"
    normalization: Normalization = NORMALIZATION["synthetic"]

    @property
    def description(self) -> str:
        h, w = self.image_size
        return f"synthetic street scenes ({self.split}, {h}x{w})"

    def __len__(self) -> int:
        return self.eval_count

    def scene_seed(self, index: int, run_seed: int = 0) -> int:
        """The `render_scene` seed of example `index` (see `_SCENE_BASES`)."""
        if self.split == "train":
            return run_seed * 2**32 + index
        return _SCENE_BASES[self.split] + index

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"{self.split}/scene_{i:06d}" for i in range(self.eval_count))


# Validation and test scenes live far from the training seeds (run_seed * 2**32 + g).
_SCENE_BASES = {"val": 2**62, "test": 2**62 + 2**40}


@dataclass(frozen=True)
class TfdsSource:
    """A split of a tensorflow-datasets segmentation builder (e.g. `cityscapes`), read
    with the images left encoded so that skipping to a resume position is cheap."""

    dataset_fn: object  # () -> tf.data.Dataset of dicts with encoded images
    count: int
    image_key: str
    label_key: str
    id_key: str
    classes: int
    normalization: Normalization
    label_map: np.ndarray | None
    max_label_value: int | None
    dataset: str
    description: str
    eval_size: tuple[int, int] | None = None

    def __len__(self) -> int:
        return self.count


def check_layout_arguments(title: str, data_dir: str | None, split: str, *,
                           splits: tuple[str, ...], require_labels: bool | None,
                           layouts_help: str) -> bool:
    """The checks every dataset finder starts with.

    Args:
        title: the dataset's name in messages ("CamVid").
        data_dir: the data directory given.
        split: the split asked for.
        splits: the dataset's splits.
        require_labels: whether labels are required; None: for every split but "test".
        layouts_help: what the error says about the accepted layouts.

    Returns:
        `require_labels`, resolved.

    Raises:
        ValueError: an unknown split.
        DataError: `data_dir` is not given or is not a directory.
    """
    if split not in splits:
        raise ValueError(f"Invalid split={split!r}; expected one of {splits}.")
    if not data_dir:
        raise DataError(f"No {title} data directory given (data_dir; -d/--data-dir on "
                        f"the command line).\n"
                        + layouts_help)
    if not os.path.isdir(data_dir):
        raise DataError(f"The {title} data directory {data_dir} does not exist.\n"
                        + layouts_help)
    return split != "test" if require_labels is None else require_labels


def read_info_json(data_dir: str, default: str | None = None) -> Normalization:
    """Reads `<data_dir>/info.json` ({"mean": [r, g, b], "std": [r, g, b]} on [0, 1],
    fyu/drn segment.py:350-352). Falls back to NORMALIZATION[default] when the file is
    absent and a default is given."""
    path = os.path.join(data_dir, "info.json")
    if not os.path.isfile(path):
        if default is None:
            raise DataError(
                f"{path} not found: the list-file layout needs info.json with the "
                f"training images' mean and std, e.g. "
                f'{{"mean": [0.2901, 0.3281, 0.2870], "std": [0.1830, 0.1866, 0.1845]}}.'
            )
        return NORMALIZATION[default]
    try:
        with open(path, encoding="utf-8") as f:
            info = json.load(f)
        mean = tuple(float(v) for v in info["mean"])
        std = tuple(float(v) for v in info["std"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(
            f"{path} could not be read as fyu/drn's info.json ({e}); expected "
            f'{{"mean": [r, g, b], "std": [r, g, b]}} on the [0, 1] scale.'
        ) from None
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise DataError(
            f"{path}: expected three means and three positive stds (RGB), received "
            f"mean={list(mean)}, std={list(std)}."
        )
    return Normalization(mean=mean, std=std, scale=1 / 255)


def _read_list(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def list_files_present(data_dir: str, phase: str, list_dir: str | None = None) -> bool:
    """Whether the reference's `{phase}_images.txt` is in `list_dir` (or `data_dir`)."""
    return os.path.isfile(os.path.join(list_dir or data_dir, f"{phase}_images.txt"))


def read_list_source(
    data_dir: str,
    phase: str,
    *,
    dataset: str,
    classes: int,
    list_dir: str | None = None,
    normalization: Normalization | None = None,
    default_normalization: str | None = None,
    label_encoding: str = "train_ids",
    label_map: np.ndarray | None = None,
    max_label_value: int | None = None,
    require_labels: bool = True,
) -> SegmentationSource:
    """The reference's list-file layout: `{phase}_images.txt` and `{phase}_labels.txt`
    in `list_dir` (default `data_dir`), one path per line relative to `data_dir`."""
    list_dir = list_dir or data_dir
    image_list = os.path.join(list_dir, f"{phase}_images.txt")
    label_list = os.path.join(list_dir, f"{phase}_labels.txt")
    if not os.path.isfile(image_list):
        raise DataError(f"{image_list} not found (the list of {phase} images).")
    images = _read_list(image_list)
    labels = None
    if os.path.isfile(label_list):
        labels = _read_list(label_list)
        if len(labels) != len(images):
            raise DataError(
                f"{image_list} lists {len(images)} images but {label_list} lists "
                f"{len(labels)} labels; line i of one must match line i of the other."
            )
    elif require_labels:
        raise DataError(
            f"{label_list} not found: the {phase} phase needs labels. Create it (one "
            f"label path per line, matching {image_list}) or use --phase test."
        )
    if normalization is None:
        normalization = read_info_json(data_dir, default_normalization)
    join = lambda p: os.path.normpath(os.path.join(data_dir, p))  # noqa: E731
    if labels and label_encoding == "train_ids" and label_map is None and all(
        p.endswith("_labelIds.png") for p in labels[:1]
    ):
        # A Cityscapes list pointing at raw label ids rather than prepare_data.py's
        # *_trainIds.png: map them instead of failing on ids >= 19.
        from keras_drn.meta import label_id_to_train_id_table

        label_encoding, label_map, max_label_value = (
            "label_ids", label_id_to_train_id_table(), 33)
    return SegmentationSource(
        dataset=dataset,
        images=tuple(join(p) for p in images),
        labels=None if labels is None else tuple(join(p) for p in labels),
        names=tuple(images),
        classes=classes,
        normalization=normalization,
        label_encoding=label_encoding,
        label_map=label_map,
        max_label_value=max_label_value,
        description=f"the list file {image_list}",
    )


def diagnose(source: SegmentationSource, indices=None) -> None:
    """Reads files of `source` with Pillow and raises DataError for the first problem:
    unreadable image or label, different sizes, label values outside [0, classes) and
    255. Used to name the culprit when TensorFlow's decoders fail without a file name.
    Returns normally if every checked file is fine."""
    indices = range(len(source)) if indices is None else indices
    for i in indices:
        image_path = source.images[i]
        try:
            height, width = read_image(image_path).shape[:2]
        except Exception as e:  # noqa: BLE001 - any decoder failure is the message
            # read_image's own error (a ValueError) already names the file.
            reason = str(e) if isinstance(e, ValueError) else (
                f"Cannot decode the image {image_path}: {e}")
            raise DataError(
                f"{reason}. Re-download or re-extract it, or remove it from "
                f"{source.description}."
            ) from None
        size = (width, height)
        if source.labels is None:
            continue
        label_path = source.labels[i]
        try:
            label = read_label_file(label_path, source.label_encoding)
        except Exception as e:  # noqa: BLE001
            raise DataError(
                f"Cannot decode the label {label_path}: {e}. Re-download or re-extract "
                f"it, or remove it from {source.description}."
            ) from None
        check_label_array(label, source, label_path, image_size=size)


def read_label_file(path: str, encoding: str) -> np.ndarray:
    """Raw label values (before any label map) of one file, as a 2-D array. A `.mat`
    path is read as an SBD annotation whatever the encoding (VOC + SBD mixes both)."""
    if encoding == "sbd_mat" or path.endswith(".mat"):
        from scipy.io import loadmat  # MATLAB data, not a pickle

        mat = loadmat(path, squeeze_me=False, struct_as_record=False)
        return np.asarray(mat["GTcls"][0, 0].Segmentation)
    from PIL import Image

    with Image.open(path) as im:
        if encoding != "palette" and im.mode not in ("L", "P", "I", "I;16"):
            raise DataError(
                f"The label {path} is a {im.mode} image; expected a single-channel PNG "
                f"of class ids (8-bit gray), not a colour rendering."
            )
        return np.asarray(im)


def check_label_array(label: np.ndarray, source: SegmentationSource, path: str, *,
                      image_size=None) -> None:
    """Raises DataError if `label` (raw values from `path`) does not fit `source`."""
    if label.ndim != 2:
        raise DataError(f"The label {path} has shape {label.shape}; expected (H, W).")
    if image_size is not None and (label.shape[1], label.shape[0]) != tuple(image_size):
        raise DataError(
            f"The label {path} is {label.shape[1]}x{label.shape[0]} (WxH) but its image "
            f"is {image_size[0]}x{image_size[1]}; an image and its label must have the "
            f"same size."
        )
    values = np.unique(label)
    if source.max_label_value is not None:
        bad = values[(values > source.max_label_value) & (values != IGNORE_LABEL)]
    else:
        bad = values[(values >= source.classes) & (values != IGNORE_LABEL)]
    if bad.size:
        limit = (f"[0, {source.max_label_value}]" if source.max_label_value is not None
                 else f"[0, {source.classes})")
        raise DataError(
            f"The label {path} holds values {bad[:8].tolist()} outside {limit} and "
            f"{IGNORE_LABEL} (ignore). Check --classes ({source.classes}) and that the "
            f"file holds {'label ids' if source.label_map is not None else 'train ids'}."
        )
