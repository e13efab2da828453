"""Files: one atomic writer, one image reader, one list of image suffixes.

Every file keras_drn writes (checkpoints, run state, presets, exports, PNGs, caches)
goes through `atomic_path`: the content is written to a temporary name in the target's
own folder and renamed over the target only once complete, so a crash or a stop never
leaves a half-written file where a finished one is expected.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np

# Image files keras_drn reads from a folder (lower-case suffixes).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff", ".webp")


def _temporary_sibling(path: Path) -> Path:
    # The target's own suffix is kept (".weights.h5", ".keras", ".png") because some
    # writers (Keras, PIL) pick their format from it.
    suffix = path.suffix
    if path.name.endswith(".weights.h5"):
        suffix = ".weights.h5"
    return path.with_name(f".tmp-{uuid.uuid4().hex[:12]}-{path.stem}{suffix}")


@contextlib.contextmanager
def atomic_path(path, *, directory: bool = False) -> Iterator[str]:
    """Yields a temporary path beside `path`; on a clean exit it replaces `path`.

    The caller writes a file (or, with `directory=True`, fills a folder) at the
    yielded path. On any exception the temporary is removed and `path` is untouched.
    A folder target that already exists is replaced whole.

    Args:
        path: the final file or folder.
        directory: whether the target is a folder.

    Example:
    ```python
    with atomic_path("run/model.weights.h5") as tmp:
        model.save_weights(tmp)
    ```
    """
    path = Path(os.fspath(path)).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_sibling(path)
    try:
        yield str(tmp)
        if directory and path.is_dir():
            old = path.with_name(f".old-{uuid.uuid4().hex[:12]}-{path.name}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def write_bytes_atomic(path, data: bytes) -> None:
    """Writes `data` to `path` through `atomic_path`."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def write_text_atomic(path, text: str) -> None:
    """Writes `text` (UTF-8) to `path` through `atomic_path`."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path, data, **dump_kwargs) -> None:
    """Writes `data` as indented JSON (keys sorted unless told otherwise) to `path`
    through `atomic_path`."""
    dump_kwargs.setdefault("indent", 2)
    dump_kwargs.setdefault("sort_keys", True)
    write_text_atomic(path, json.dumps(data, **dump_kwargs) + "\n")


def is_image_file(path) -> bool:
    """Whether `path`'s suffix is one of `IMAGE_SUFFIXES` (any case)."""
    return os.fspath(path).lower().endswith(IMAGE_SUFFIXES)


def list_image_files(folder, *, recursive: bool = True) -> list[str]:
    """The image files under `folder` (see `IMAGE_SUFFIXES`), sorted.

    Raises:
        FileNotFoundError: `folder` is not a directory.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder!r} is not a directory.")
    if recursive:
        found = [os.path.join(root, name) for root, _, names in os.walk(folder)
                 for name in names if is_image_file(name)]
    else:
        found = [os.path.join(folder, name) for name in os.listdir(folder)
                 if is_image_file(name) and os.path.isfile(os.path.join(folder, name))]
    return sorted(found)


def read_image(path, *, mode: str = "RGB", size=None) -> np.ndarray:
    """Reads an image file as a uint8 array.

    Args:
        path: the file.
        mode: "RGB" gives (H, W, 3); "L" (label maps) gives (H, W) with the stored
            8-bit values (a palette image's indices, not its colours).
        size: optional (height, width) to resize to (bilinear for RGB, nearest
            otherwise).

    Raises:
        ValueError: the file cannot be read as an image; the message names it.
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            if mode == "RGB":
                image = image.convert("RGB")
            elif image.mode not in ("L", "P"):
                image = image.convert("L")
            if size is not None and image.size != (size[1], size[0]):
                resample = Image.BILINEAR if mode == "RGB" else Image.NEAREST
                image = image.resize((size[1], size[0]), resample)
            return np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError) as error:
        raise ValueError(f"Cannot read the image {os.fspath(path)!r}: {error}") from None
