"""Colour palettes (RGB) for label maps, one row per train id."""

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
