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

from keras_drn.files import IMAGE_SUFFIXES
from keras_drn.files import list_image_files
from keras_drn.files import read_image

# Synthetic seeds: calibration from 0, validation from here (disjoint for any count a
# user would calibrate on).
VALIDATION_SEED = 1_000_000
DEFAULT_SPLIT = {"calibration": "train", "validation": "val"}


def synthetic_images(count: int, size, *, seed: int = 0) -> Iterator[np.ndarray]:
    """Synthetic street scenes (`keras_drn.data.synthetic.render_scene`).

    Args:
        count: how many.
        size: their (height, width).
        seed: the first scene's seed; the others follow it.

    Yields:
        uint8 RGB arrays of shape (height, width, 3).
    """
    from keras_drn.data.synthetic import render_scene

    height, width = size
    for i in range(count):
        image, _ = render_scene(seed + i, height, width)
        yield image


def _is_cityscapes_root(data_dir: str, split: str) -> bool:
    from keras_drn.data.sources import list_files_present

    return (os.path.isdir(os.path.join(data_dir, "leftImg8bit"))
            or list_files_present(data_dir, split))


def list_images(data_dir, *, split: str | None = None) -> list[str]:
    """The image files of a calibration or validation folder.

    Args:
        data_dir: a folder of images (searched recursively), or a Cityscapes root:
            the official `leftImg8bit/` layout or the reference's
            `{split}_images.txt` lists, read by `keras_drn.data.cityscapes`.
        split: with a Cityscapes root, the split to list ("train", "val"); without
            one, every image file under `data_dir` is listed.

    Returns:
        The files, sorted.

    Raises:
        FileNotFoundError: `data_dir` is not a folder, or holds no images.
        keras_drn.data.sources.DataError: a Cityscapes root without `split`.
    """
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(
            f"Calibration/validation data directory data_dir={data_dir!r} does not "
            f"exist. Give data_dir a folder of PNG/JPEG images or a Cityscapes root "
            f"(with leftImg8bit/), or leave data_dir unset to use synthetic scenes."
        )
    if split and _is_cityscapes_root(data_dir, split):
        from keras_drn.data.cityscapes import cityscapes_source

        return sorted(cityscapes_source(data_dir, split, require_labels=False).images)
    files = list_image_files(data_dir)
    if not files:
        raise FileNotFoundError(
            f"No images ({', '.join(IMAGE_SUFFIXES)}) under data_dir={data_dir!r}. "
            f"Give data_dir a folder that holds images."
        )
    return files


def load_image(path, size=None) -> np.ndarray:
    """Reads an image as RGB, resized (bilinear) to the export size.

    Args:
        path: the image file.
        size: optional (height, width).

    Returns:
        A uint8 (height, width, 3) array.

    Raises:
        ValueError: the file is not a readable image; the message names it.
    """
    return read_image(path, mode="RGB", size=size)


def directory_images(data_dir, count: int, size, *, seed: int = 0,
                     split: str | None = None) -> Iterator[np.ndarray]:
    """A seeded random choice of the images of a folder (see `list_images`).

    Args:
        data_dir: the folder or Cityscapes root.
        count: how many images at most.
        size: their (height, width) after resizing.
        seed: the choice's seed.
        split: the Cityscapes split, if `data_dir` is a Cityscapes root.

    Yields:
        uint8 RGB arrays, in file order.
    """
    files = list_images(data_dir, split=split)
    order = np.random.default_rng(seed).permutation(len(files))[:count]
    for index in sorted(order):
        yield load_image(files[index], size)


def representative_images(size, *, count: int = 32, data_dir: str | None = None,
                          purpose: str = "calibration", seed: int = 0):
    """Images for int8 calibration or for a parity check.

    A missing or empty `data_dir` is an error here, before any conversion starts.

    Args:
        size: (height, width) of the export.
        count: how many images.
        data_dir: None for synthetic scenes, or a folder of images or a Cityscapes
            root (see `list_images`).
        purpose: "calibration" (synthetic seeds from `seed`, the Cityscapes train
            split) or "validation" (synthetic seeds from `VALIDATION_SEED + seed`,
            the val split), so that parity is never measured on calibration images.
        seed: the synthetic seeds' or the random choice's seed.

    Returns:
        A callable that returns a fresh iterator of `count` uint8 images of `size`
        (the form `convert_to_tflite(representative_images=...)` takes).

    Raises:
        ValueError: an unknown `purpose`, or `count` < 1.
        FileNotFoundError: `data_dir` does not exist or holds no images.

    Example:
    ```python
    calibration = representative_images((512, 1024), count=64)
    content = convert_to_tflite(segmenter, (512, 1024), quantize="int8",
                                representative_images=calibration)
    ```
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
