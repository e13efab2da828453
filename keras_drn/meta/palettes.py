"""Colour palettes (RGB) for label maps, one row per train id, and `colorize`, which
paints a label map with them."""

from __future__ import annotations

import numpy as np

# fyu/drn segment.py CITYSCAPE_PALETTE rows 0-18 (the official Cityscapes colours);
# fyu/dilation datasets/cityscapes.json has the same 19 rows.
_CITYSCAPES = [
    [128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153],
    [153, 153, 153], [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152],
    [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70],
    [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32],
]

# fyu/dilation datasets/camvid.json (also kitti.json).
_CAMVID = [
    [128, 0, 0], [128, 128, 0], [128, 128, 128], [64, 0, 128], [192, 128, 128],
    [128, 64, 128], [64, 64, 0], [64, 64, 128], [192, 192, 128], [0, 0, 192],
    [0, 128, 192],
]

# fyu/dilation datasets/pascal_voc.json (the standard VOC colour map).
_PASCAL_VOC = [
    [0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0], [0, 0, 128], [128, 0, 128],
    [0, 128, 128], [128, 128, 128], [64, 0, 0], [192, 0, 0], [64, 128, 0],
    [192, 128, 0], [64, 0, 128], [192, 0, 128], [64, 128, 128], [192, 128, 128],
    [0, 64, 0], [128, 64, 0], [0, 192, 0], [128, 192, 0], [0, 64, 128],
]

PALETTES: dict[str, np.ndarray] = {
    name: np.asarray(rows, dtype=np.uint8)
    for name, rows in {
        "cityscapes": _CITYSCAPES,
        "synthetic": _CITYSCAPES,
        "camvid": _CAMVID,
        "kitti": _CAMVID,
        "pascal_voc": _PASCAL_VOC,
    }.items()
}


def palette(dataset: str, ignore_color=(0, 0, 0)) -> np.ndarray:
    """A 256x3 uint8 palette for `dataset`: its class colours, then `ignore_color`.

    Indexing it with a uint8 label map (`palette(...)[labels]`) colours every class and
    paints 255 (ignore) and any other unused id with `ignore_color`.

    Args:
        dataset: a key of `PALETTES` ("cityscapes", "camvid", "kitti", "pascal_voc",
            "synthetic").
        ignore_color: the RGB colour of 255 and of every id the dataset does not use.

    Returns:
        A (256, 3) uint8 array.

    Raises:
        ValueError: `dataset` has no palette.
    """
    try:
        rows = PALETTES[dataset]
    except KeyError:
        raise ValueError(
            f"Unknown dataset={dataset!r} for a palette; expected one of "
            f"{sorted(PALETTES)}."
        ) from None
    full = np.empty((256, 3), dtype=np.uint8)
    full[:] = np.asarray(ignore_color, dtype=np.uint8)
    full[: len(rows)] = rows
    return full


def generic_palette(ignore_color=(0, 0, 0)) -> np.ndarray:
    """A 256x3 uint8 palette for the classes of no known dataset.

    It follows the PASCAL VOC colour map's construction (the bits of each id spread
    over the three channels), which gives every id its own colour.

    Args:
        ignore_color: the RGB colour of 255.

    Returns:
        A (256, 3) uint8 array.
    """
    ids = np.arange(256)
    colours = np.zeros((256, 3), dtype=np.int64)
    for shift in range(8):
        for channel in range(3):
            bit = (ids >> (3 * shift + channel)) & 1
            colours[:, channel] |= bit << (7 - shift)
    colours[255] = ignore_color
    return colours.astype(np.uint8)


def label_palette(dataset: str | None, ignore_color=(0, 0, 0)) -> np.ndarray:
    """The palette of `dataset` (`palette`), or `generic_palette` for None (a model
    that names no dataset).

    Args:
        dataset: a key of `PALETTES`, or None.
        ignore_color: the RGB colour of 255 (and of the ids the dataset does not use).

    Returns:
        A (256, 3) uint8 array.

    Raises:
        ValueError: `dataset` is neither None nor a key of `PALETTES`.
    """
    if dataset is None:
        return generic_palette(ignore_color)
    return palette(dataset, ignore_color)


def colorize(labels, dataset: str | None = "cityscapes", *, ignore_color=(0, 0, 0)
             ) -> np.ndarray:
    """Paints a label map in the colours of its dataset.

    Args:
        labels: an (H, W) array of class ids in [0, 255] (255: ignore).
        dataset: whose colours to use (a key of `PALETTES`), or None for
            `generic_palette`.
        ignore_color: the RGB colour of 255 and of the ids the dataset does not use.

    Returns:
        An (H, W, 3) uint8 RGB picture.

    Raises:
        ValueError: `labels` is not 2-D, holds ids outside [0, 255], or `dataset` has
            no palette.

    Example:
    ```python
    from keras_drn.meta import colorize
    picture = colorize(segmenter.predict_labels(images)[0], "cityscapes")
    ```
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"Expected an (H, W) label map, received shape {labels.shape}.")
    if labels.min(initial=0) < 0 or labels.max(initial=0) > 255:
        raise ValueError(
            f"Label ids must lie in [0, 255] to be coloured, received "
            f"[{labels.min()}, {labels.max()}]."
        )
    return label_palette(dataset, ignore_color)[labels.astype(np.uint8)]
