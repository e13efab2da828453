"""Images for int8 calibration and for parity checks: synthetic street scenes by
default (`keras_drn.data.synthetic.render_scene`, no download), or a directory of
real images (any folder of PNG/JPEG files, or a Cityscapes root in any layout that
`keras_drn.data.cityscapes` reads: its train split calibrates, its val split checks).

Images are resized (bilinear) to the export size: the deployed model sees whole frames
scaled to its input, so calibration does too. Calibration and validation draw disjoint
synthetic seeds, and by default different Cityscapes splits, so that a parity figure is
never measured on the calibration images.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".webp")
# Synthetic seeds: calibration from 0, validation from here (disjoint for any count a
# user would calibrate on).
VALIDATION_SEED = 1_000_000
DEFAULT_SPLIT = {"calibration": "train", "validation": "val"}


def synthetic_images(count: int, size, *, seed: int = 0) -> Iterator[np.ndarray]:
    """`count` uint8 RGB synthetic scenes of `size` (height, width), seeds seed.."""
    from keras_drn.data.synthetic import render_scene

    height, width = size
    for i in range(count):
        image, _ = render_scene(seed + i, height, width)
        yield image


def _is_cityscapes_root(data_dir: str, split: str) -> bool:
    from keras_drn.data.sources import list_files_present

    return (os.path.isdir(os.path.join(data_dir, "leftImg8bit"))
            or list_files_present(data_dir, split))


def list_images(data_dir: str, *, split: str | None = None) -> list[str]:
    """Image files of `data_dir`, sorted: with a `split`, a Cityscapes root (the
    official `leftImg8bit/` layout or the reference's `{split}_images.txt` lists, read
    by `keras_drn.data.cityscapes`) gives that split's images; any other folder gives
    every image file under it, recursively."""
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(
            f"Calibration/validation data directory {data_dir!r} does not exist. Pass "
            f"--data-dir a folder of PNG/JPEG images or a Cityscapes root (with "
            f"leftImg8bit/), or leave it out to use synthetic scenes."
        )
    if split and _is_cityscapes_root(data_dir, split):
        from keras_drn.data.cityscapes import cityscapes_source

        return sorted(cityscapes_source(data_dir, split, require_labels=False).images)
    files = []
    for folder, _, names in os.walk(data_dir):
        files.extend(
            os.path.join(folder, n) for n in names if n.lower().endswith(IMAGE_SUFFIXES)
        )
    if not files:
        raise FileNotFoundError(
            f"No images ({', '.join(IMAGE_SUFFIXES)}) under {data_dir!r}. Pass "
            f"--data-dir a folder that holds images."
        )
    return sorted(files)


def load_image(path: str, size=None) -> np.ndarray:
    """A uint8 RGB array, resized (bilinear) to `size` (height, width) if given."""
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
            if size is not None and image.size != (size[1], size[0]):
                image = image.resize((size[1], size[0]), Image.BILINEAR)
            return np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot read image {path!r}: {error}") from error


def directory_images(data_dir: str, count: int, size, *, seed: int = 0,
                     split: str | None = None) -> Iterator[np.ndarray]:
    """Up to `count` images from `data_dir`, a seeded random choice, resized to `size`."""
    files = list_images(data_dir, split=split)
    order = np.random.default_rng(seed).permutation(len(files))[:count]
    for index in sorted(order):
        yield load_image(files[index], size)


def representative_images(size, *, count: int = 32, data_dir: str | None = None,
                          purpose: str = "calibration", seed: int = 0):
    """A callable returning a fresh iterator of `count` uint8 images of `size`.

    `purpose`: "calibration" (synthetic seeds from `seed`, Cityscapes train split) or
    "validation" (synthetic seeds from VALIDATION_SEED + `seed`, Cityscapes val).
    A missing `data_dir` is an error here, before any conversion starts.
    """
    if purpose not in DEFAULT_SPLIT:
        raise ValueError(
            f"Invalid purpose={purpose!r}: expected 'calibration' or 'validation'."
        )
    if count < 1:
        raise ValueError(f"Invalid count={count!r}: expected at least one image.")
    if data_dir is not None:
        split = DEFAULT_SPLIT[purpose]
        list_images(data_dir, split=split)  # fail early, with the message above
        return lambda: directory_images(data_dir, count, size, seed=seed, split=split)
    start = seed + (VALIDATION_SEED if purpose == "validation" else 0)
    return lambda: synthetic_images(count, size, seed=start)
