"""Turning score maps into pictures: normalisation, colour maps, blending."""

from __future__ import annotations

import numpy as np
from PIL import Image


def normalize_map(values, *, low=None, high=None) -> np.ndarray:
    """Scales a 2-D map to [0, 1] (min and max by default); a constant map gives 0."""
    values = np.asarray(values, dtype=np.float64)
    low = np.nanmin(values) if low is None else low
    high = np.nanmax(values) if high is None else high
    if not np.isfinite(high - low) or high <= low:
        return np.zeros(values.shape, dtype=np.float32)
    return np.clip((values - low) / (high - low), 0, 1).astype(np.float32)


def apply_colormap(values01, name: str = "jet") -> np.ndarray:
    """(H, W) values in [0, 1] to (H, W, 3) uint8 with a matplotlib colour map."""
    try:
        from matplotlib import colormaps
    except ImportError:
        raise ImportError(
            "Colour maps need matplotlib: pip install matplotlib (or keras-drn[plots])."
        ) from None
    rgba = colormaps[name](np.asarray(values01, dtype=np.float64))
    return (rgba[..., :3] * 255 + 0.5).astype(np.uint8)


def resize_map(values, size, *, nearest: bool = False) -> np.ndarray:
    """Resizes a float (h, w) map to `size` = (height, width): bilinear (PIL), or
    nearest to show each cell as a block."""
    height, width = size
    image = Image.fromarray(np.asarray(values, dtype=np.float32))
    method = Image.NEAREST if nearest else Image.BILINEAR
    return np.asarray(image.resize((width, height), method))


def blend(image, colors, alpha: float = 0.5) -> np.ndarray:
    """(1 - alpha) * image + alpha * colors, both (H, W, 3), as uint8."""
    out = (1 - alpha) * np.asarray(image, np.float32) + alpha * np.asarray(colors,
                                                                           np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
