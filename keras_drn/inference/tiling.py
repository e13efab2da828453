"""Inference on images too large for one pass: sliding windows (DRN) and the Dilation
models' reflection-padded tiles.

Both take a `forward` callable, (N, h, w, 3) float32 preprocessed images to (N, h', w',
C) float32 scores, and return the (H, W, C) map of the whole image.

Sliding windows (`sliding_window`). Windows of `window` pixels overlap by 2 * `margin`;
every output pixel is taken from exactly one window, the one in which it lies farthest
from a window edge that is not an image edge (the overlaps are split in the middle).
Window starts are multiples of `align` (the output stride, 8), and the last window ends
at the image's edge. So when `margin` is at least the network's receptive-field radius,
each kept pixel sees exactly what it sees in the whole image, and the result equals
whole-image inference (tests/test_inference_window.py checks this on a DRN whose
receptive field is computed). With a smaller margin the seams are approximations.

Dilation tiles (`dilation_tiles`), as fyu/dilation predict.py:52-101 and test.py:93-206:
the image is padded by `margin` = 186 pixels on every side with BORDER_REFLECT_101
(reflection without repeating the edge pixel: numpy's "reflect"), cut into tiles of the
deploy input size at strides of the output size (input - 372), short tiles padded at the
bottom/right the same way; the networks' valid convolutions eat the margin, so the tile
outputs are concatenated. Stride-8 outputs are zoomed by `interp_map` (util.py), a
full-resolution output (Dilation10) cropped to the image.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from keras_drn.inference.resize import interp_map

Forward = Callable[[np.ndarray], np.ndarray]
LABEL_MARGIN = 186  # fyu/dilation predict.py:55, test.py:97


def _pair(value, name: str) -> tuple[int, int]:
    if np.isscalar(value):
        value = (value, value)
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(
            f"Invalid {name}={value!r}: expected an int or (height, width)."
        ) from None
    return a, b


def window_starts(size: int, window: int, margin: int, align: int = 8) -> list[int]:
    """Start offsets of the windows along one axis of `size` pixels.

    Each start is a multiple of `align`; consecutive windows overlap by at least
    2 * margin; the last one ends at `size` (it may be shorter than `window`).

    Args:
        size: the axis's length.
        window: the window's length.
        margin: the context dropped at each inner window edge.
        align: what every start is a multiple of (the network's stride).

    Returns:
        The start offsets, ascending.

    Raises:
        ValueError: the window keeps fewer than `align` pixels inside its margins.
    """
    if window >= size:
        return [0]
    if window - 2 * margin < align:
        raise ValueError(
            f"A window of {window} pixels with a margin of {margin} keeps fewer than "
            f"{align} pixels: use a window larger than 2 * margin + {align} "
            f"(= {2 * margin + align})."
        )
    last = -(-(size - window) // align) * align  # the first aligned start reaching the end
    starts = [0]
    while starts[-1] + window < size:
        step = (starts[-1] + window - 2 * margin) // align * align
        starts.append(min(step, last))
    return starts


def _spans(size: int, starts: list[int], window: int) -> list[tuple[int, int, int, int]]:
    """(start, end, keep_from, keep_to) per window: the overlaps are split midway."""
    ends = [min(s + window, size) for s in starts]
    cuts = [0] + [(starts[k + 1] + ends[k]) // 2 for k in range(len(starts) - 1)] + [size]
    return [(s, e, cuts[k], cuts[k + 1]) for k, (s, e) in enumerate(zip(starts, ends))]


def sliding_window(forward: Forward, image: np.ndarray, window, margin, *,
                   align: int = 8, batch_size: int = 1) -> np.ndarray:
    """Scores of a large (H, W, 3) preprocessed image from overlapping windows.

    Args:
        forward: (N, h, w, 3) -> (N, h, w, C), the model at full resolution.
        window: window size, int or (height, width); a multiple of `align` is best.
        margin: context kept around each window's kept part, int or (height, width);
            equality with whole-image inference needs the receptive-field radius.
        align: window starts are multiples of it (the network's output stride).
        batch_size: windows of equal size per forward call.

    Returns:
        (H, W, C) float32.
    """
    image = np.asarray(image, dtype=np.float32)
    height, width = image.shape[:2]
    (win_h, win_w), (m_h, m_w) = _pair(window, "window"), _pair(margin, "margin")
    rows = _spans(height, window_starts(height, win_h, m_h, align), win_h)
    cols = _spans(width, window_starts(width, win_w, m_w, align), win_w)
    crops = [(r, c) for r in rows for c in cols]
    out = None
    by_shape: dict[tuple[int, int], list] = {}
    for r, c in crops:
        by_shape.setdefault((r[1] - r[0], c[1] - c[0]), []).append((r, c))
    for group in by_shape.values():
        for i in range(0, len(group), batch_size):
            chunk = group[i:i + batch_size]
            batch = np.stack([image[r[0]:r[1], c[0]:c[1]] for r, c in chunk])
            scores = np.asarray(forward(batch), dtype=np.float32)
            if scores.shape[1:3] != batch.shape[1:3]:
                raise ValueError(
                    f"sliding_window needs a model whose output has the input's size; "
                    f"a {batch.shape[1]}x{batch.shape[2]} window gave "
                    f"{scores.shape[1]}x{scores.shape[2]}."
                )
            if out is None:
                out = np.empty((height, width, scores.shape[-1]), dtype=np.float32)
            for (r, c), score in zip(chunk, scores):
                out[r[2]:r[3], c[2]:c[3]] = score[r[2] - r[0]:r[3] - r[0],
                                                  c[2] - c[0]:c[3] - c[0]]
    return out


def reflect_101(image: np.ndarray, top: int, bottom: int, left: int, right: int
                ) -> np.ndarray:
    """cv2.copyMakeBorder(..., BORDER_REFLECT_101) on (H, W, ...): numpy's "reflect",
    which keeps reflecting when the border is wider than the image.

    Args:
        image: an array with rows and columns first.
        top, bottom, left, right: the border widths.

    Returns:
        The padded array.
    """
    if min(image.shape[:2]) < 2 and max(top, bottom, left, right) > 0:
        raise ValueError(
            f"Cannot reflect-pad an image of {image.shape[0]}x{image.shape[1]} pixels; "
            f"it needs at least 2 pixels on each side."
        )
    pad = [(top, bottom), (left, right)] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, pad, mode="reflect")


def dilation_tiles(forward: Forward, image: np.ndarray, tile_size, *,
                   margin: int = LABEL_MARGIN, zoom: int = 8,
                   batch_size: int = 1) -> np.ndarray:
    """Scores of an (H, W, 3) preprocessed image by fyu/dilation's tiling.

    Args:
        forward: (N, th, tw, 3) -> (N, (th - 2 margin) / zoom, (tw - 2 margin) / zoom,
            C): a Dilation network on its deploy tile (valid convolutions).
        tile_size: (th, tw), the deploy prototxt's input (e.g. 900x1100 for CamVid).
        margin: the context the network consumes on each side (186).
        zoom: 8 for the stride-8 models (zoomed by `interp_map`), 1 for Dilation10
            (its output is already at full resolution and is cropped).

    Returns:
        (H, W, C) float32, the network's output (probabilities for softmax models).
    """
    image = np.asarray(image, dtype=np.float32)
    height, width = image.shape[:2]
    tile_h, tile_w = _pair(tile_size, "tile_size")
    out_h, out_w = tile_h - 2 * margin, tile_w - 2 * margin
    if out_h < zoom or out_w < zoom or out_h % zoom or out_w % zoom:
        raise ValueError(
            f"tile_size={tile_size!r} with margin {margin}: the output part "
            f"{out_h}x{out_w} must be a positive multiple of zoom={zoom}."
        )
    padded = reflect_101(image, margin, margin, margin, margin)
    tiles_h, tiles_w = -(-height // out_h), -(-width // out_w)
    tiles = []
    for i in range(tiles_h):
        for j in range(tiles_w):
            tile = padded[i * out_h:i * out_h + tile_h, j * out_w:j * out_w + tile_w]
            tiles.append(reflect_101(tile, 0, tile_h - tile.shape[0], 0,
                                     tile_w - tile.shape[1]))
    cell_h, cell_w = out_h // zoom, out_w // zoom
    result = None
    for start in range(0, len(tiles), batch_size):
        scores = np.asarray(forward(np.stack(tiles[start:start + batch_size])),
                            dtype=np.float32)
        if scores.shape[1:3] != (cell_h, cell_w):
            raise ValueError(
                f"A {tile_h}x{tile_w} tile gave a {scores.shape[1]}x{scores.shape[2]} "
                f"output; the Dilation geometry (margin {margin}, zoom {zoom}) expects "
                f"{cell_h}x{cell_w}. Check tile_size and zoom for this model."
            )
        if result is None:
            result = np.empty((tiles_h * cell_h, tiles_w * cell_w, scores.shape[-1]),
                              dtype=np.float32)
        for k, score in enumerate(scores, start=start):
            i, j = divmod(k, tiles_w)
            result[i * cell_h:(i + 1) * cell_h, j * cell_w:(j + 1) * cell_w] = score
    if zoom > 1:
        return interp_map(result, zoom, height, width)
    return result[:height, :width]
