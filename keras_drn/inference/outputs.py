"""Pictures and files made from a prediction: colourised label maps, overlays on the
image, label PNGs (train ids, and Cityscapes label ids for the benchmark server).

The colours are `keras_drn.meta`'s (`colorize`, `palette`, `generic_palette`), the file
helpers `keras_drn.files`'; both are re-exported here for the callers of this module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from keras_drn.files import atomic_path
from keras_drn.files import read_image  # noqa: F401  (re-exported)
from keras_drn.meta.palettes import colorize
from keras_drn.meta.palettes import generic_palette  # noqa: F401  (re-exported)
from keras_drn.meta.palettes import label_palette  # noqa: F401  (re-exported)


def overlay(image, labels, dataset: str | None = "cityscapes", *, alpha: float = 0.5
            ) -> np.ndarray:
    """Blends the colourised labels over an image.

    Args:
        image: an (H, W, 3) RGB image.
        labels: its (H, W) class ids; 255 (ignore) keeps the image.
        dataset: whose colours to use (`keras_drn.meta.colorize`), None for generic
            colours.
        alpha: the colours' weight, in [0, 1].

    Returns:
        An (H, W, 3) uint8 picture, `(1 - alpha) * image + alpha * colours`.

    Raises:
        ValueError: the image and the labels differ in size, or alpha is outside
            [0, 1].
    """
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
    """Writes a uint8 (H, W) or (H, W, 3) array as a PNG, atomically
    (`keras_drn.files.atomic_path`).

    Args:
        array: the picture or label map.
        path: the file to write; its folder is created.

    Returns:
        `path` as a `Path`.
    """
    from PIL import Image

    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(np.asarray(array)).save(tmp, format="PNG")
    return path
