"""The resizing the reference's testing does, reproduced exactly (numpy + PIL).

- `resize_image`: the multi-scale inputs, PIL BICUBIC on the uint8 image
  (fyu/drn segment.py `SegListMS.__getitem__`, 177-181).
- `resize_scores`: score maps back to the image size, PIL BILINEAR channel by channel
  on float32 (segment.py `resize_4d_tensor`, 527-560). PIL's filters widen their
  support when they shrink, so downsizing the 1.25-1.75 passes is antialiased.
- `interp_map`: fyu/dilation util.py:13-28, bilinear with source = dest / zoom (no
  half-pixel offset), used to zoom the stride-8 Dilation outputs.

All arrays are channels last: (H, W) or (H, W, C).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image


def _size(size) -> tuple[int, int]:
    height, width = (int(s) for s in size)
    if height < 1 or width < 1:
        raise ValueError(f"Invalid size={size!r}: expected (height, width) >= 1.")
    return height, width


def resize_image(image: np.ndarray, size) -> np.ndarray:
    """Resizes an (H, W, 3) image to `size` = (height, width) with PIL BICUBIC.

    uint8 images are resized as RGB images (rounded and clipped to uint8, as the
    reference); other dtypes channel by channel in float32 (mode "F").

    Args:
        image: the (H, W, 3) image.
        size: (height, width).

    Returns:
        The resized image, uint8 for uint8 input, else float32.
    """
    height, width = _size(size)
    image = np.asarray(image)
    if image.shape[:2] == (height, width):
        return image
    if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        return np.asarray(Image.fromarray(image).resize((width, height), Image.BICUBIC))
    return _per_channel(image.astype(np.float32), (height, width), Image.BICUBIC)


def resize_scores(scores: np.ndarray, size) -> np.ndarray:
    """Resizes float (H, W, C) score maps to `size` with PIL BILINEAR per channel.

    Args:
        scores: the (H, W, C) maps.
        size: (height, width).

    Returns:
        A float32 (height, width, C) array.
    """
    height, width = _size(size)
    scores = np.asarray(scores, dtype=np.float32)
    if scores.shape[:2] == (height, width):
        return scores
    return _per_channel(scores, (height, width), Image.BILINEAR)


def _per_channel(array: np.ndarray, size, resample) -> np.ndarray:
    height, width = size
    squeeze = array.ndim == 2
    if squeeze:
        array = array[..., None]
    out = np.empty((height, width, array.shape[2]), dtype=np.float32)

    def resize_channel(c: int) -> None:
        channel = Image.fromarray(np.ascontiguousarray(array[:, :, c]))  # mode "F"
        out[:, :, c] = np.asarray(channel.resize((width, height), resample))

    # PIL releases the GIL while resizing: one thread per channel, as the reference's
    # resize_4d_tensor does.
    workers = min(array.shape[2], os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(resize_channel, range(array.shape[2])))
    else:
        for c in range(array.shape[2]):
            resize_channel(c)
    return out[..., 0] if squeeze else out


def interp_map(prob: np.ndarray, zoom: int, height: int, width: int, *,
               chunk_rows: int = 256) -> np.ndarray:
    """fyu/dilation `util.interp_map` on a channels-last (h, w, C) map.

    Output pixel (y, x) reads the source at (y / zoom, x / zoom): rows r0 = y // zoom
    and r0 + 1 with weight t = y / zoom - r0, likewise columns, computed in float64
    and stored as float32 as the numba original. The original reads one row (column)
    past the end when the output needs it (its last tile ends exactly at the image
    edge); we repeat the last row (column) there instead.

    Args:
        prob: the (h, w, C) map.
        zoom: the upsampling factor.
        height, width: the output's size.
        chunk_rows: output rows computed at a time (bounds the memory).

    Returns:
        A float32 (height, width, C) array.
    """
    prob = np.asarray(prob, dtype=np.float32)
    zoom = int(zoom)
    rows = np.arange(height)
    r0 = rows // zoom
    rt = rows / zoom - r0
    cols = np.arange(width)
    c0 = cols // zoom
    ct = cols / zoom - c0
    h, w = prob.shape[:2]
    if r0[-1] >= h or c0[-1] >= w:
        raise ValueError(
            f"interp_map: a {h}x{w} map zoomed by {zoom} covers at most "
            f"{h * zoom}x{w * zoom} pixels, asked for {height}x{width}."
        )
    r1 = np.minimum(r0 + 1, h - 1)
    c1 = np.minimum(c0 + 1, w - 1)
    source = prob.astype(np.float64)
    out = np.empty((height, width, prob.shape[2]), dtype=np.float32)
    ct = ct[None, :, None]
    for start in range(0, height, chunk_rows):
        sl = slice(start, start + chunk_rows)
        t = rt[sl, None, None]
        # v0 / v1 of util.py: the two source columns, each interpolated along rows.
        v = t * source[r1[sl]] + (1 - t) * source[r0[sl]]
        out[sl] = (1 - ct) * v[:, c0] + ct * v[:, c1]
    return out
