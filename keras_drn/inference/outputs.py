"""Pictures and files made from a prediction: colourised label maps, overlays on the
image, label PNGs (train ids, and Cityscapes label ids for the benchmark server)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from keras_drn.meta.palettes import palette


def generic_palette(ignore_color=(0, 0, 0)) -> np.ndarray:
    """A 256x3 uint8 palette for classes of no known dataset: the PASCAL VOC colour
    map's construction (the bits of each id spread over the three channels), which
    gives distinct colours to every id; 255 gets `ignore_color`."""
    ids = np.arange(256)
    colours = np.zeros((256, 3), dtype=np.int64)
    for shift in range(8):
        for channel in range(3):
            bit = (ids >> (3 * shift + channel)) & 1
            colours[:, channel] |= bit << (7 - shift)
    colours[255] = ignore_color
    return colours.astype(np.uint8)


def label_palette(dataset: str | None, ignore_color=(0, 0, 0)) -> np.ndarray:
    """The dataset's palette (`keras_drn.meta.palette`), or `generic_palette` for
    None (a model that names no dataset)."""
    if dataset is None:
        return generic_palette(ignore_color)
    return palette(dataset, ignore_color)


def colorize(labels, dataset: str | None = "cityscapes", *, ignore_color=(0, 0, 0)
             ) -> np.ndarray:
    """(H, W) class ids to an (H, W, 3) uint8 RGB picture in the dataset's colours
    (255 and unused ids get `ignore_color`); `dataset=None` colours with
    `generic_palette`."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"Expected an (H, W) label map, received shape {labels.shape}.")
    if labels.min(initial=0) < 0 or labels.max(initial=0) > 255:
        raise ValueError(
            f"Label ids must lie in [0, 255] to be coloured, received "
            f"[{labels.min()}, {labels.max()}]."
        )
    return label_palette(dataset, ignore_color)[labels.astype(np.uint8)]


def overlay(image, labels, dataset: str | None = "cityscapes", *, alpha: float = 0.5
            ) -> np.ndarray:
    """Blends the colourised labels over the (H, W, 3) image: (1 - alpha) * image +
    alpha * colours, uint8. Pixels labelled 255 (ignore) keep the image."""
    image = np.asarray(image)
    labels = np.asarray(labels)
    if image.shape[:2] != labels.shape:
        raise ValueError(
            f"The image is {image.shape[:2]} but the labels are {labels.shape}; they "
            f"must have the same height and width."
        )
    if not 0 <= alpha <= 1:
        raise ValueError(f"Invalid alpha={alpha!r}: expected a value in [0, 1].")
    colors = colorize(labels, dataset).astype(np.float32)
    base = image.astype(np.float32)
    blend = (1 - alpha) * base + alpha * colors
    blend = np.where((labels == 255)[..., None], base, blend)
    return np.clip(np.rint(blend), 0, 255).astype(np.uint8)


def save_png(array, path) -> Path:
    """Writes a uint8 (H, W) or (H, W, 3) array as PNG, atomically (temp + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        Image.fromarray(np.asarray(array)).save(tmp, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_image(path) -> np.ndarray:
    """Reads an image file as (H, W, 3) uint8 RGB."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot read the image {path}: {error}") from None
