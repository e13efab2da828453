"""Feature maps of DRN backbones and a measure of their gridding artifacts.

- `demo_image`: a smooth synthetic scene, so that periodic patterns come from the
  network.
- `level_features`: every level's activations (fyu/drn `out_middle`), of a
  `DRNBackbone` or a DRNSeg segmenter (their `pyramid_outputs`) or of a plain DRN
  classifier or feature extractor (by layer name).
- `gridding_energy`: the share of a map's spectral energy at period-2 and period-4
  frequencies, the signature of dilation's gridding (DRN paper, Sec. 4).

The pictures are made by `python -m keras_drn.visualize.gridding`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from keras_drn.inference.model_info import normalize_images
from keras_drn.models.drn import level_output_names
from keras_drn.preprocessing import get_normalization


def demo_image(size: int = 224) -> np.ndarray:
    """A smooth synthetic scene (sky, ground, a disc, a block, a pole): no texture
    of its own, so periodic patterns in the features come from the network."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    sky = np.stack([0.45 + 0.2 * y, 0.6 + 0.2 * y, 0.95 - 0.1 * y], -1)
    ground = np.stack([0.35 + 0.1 * y, 0.3 + 0.1 * y, 0.25 + 0.05 * y], -1)
    horizon = 1 / (1 + np.exp(-(y - 0.6) * 60))
    image = (1 - horizon[..., None]) * sky + horizon[..., None] * ground

    def soft(distance):  # 1 inside, 0 outside, a 2-pixel ramp
        return np.clip(0.5 - distance * size / 2, 0, 1)[..., None]

    disc = np.hypot(x - 0.3, y - 0.55) - 0.16
    image = image * (1 - soft(disc)) + soft(disc) * np.array([0.8, 0.15, 0.1])
    block = np.maximum(np.abs(x - 0.7) - 0.12, np.abs(y - 0.62) - 0.1)
    image = image * (1 - soft(block)) + soft(block) * np.array([0.95, 0.9, 0.3])
    pole = np.maximum(np.abs(x - 0.52) - 0.015, np.abs(y - 0.45) - 0.3)
    image = image * (1 - soft(pole)) + soft(pole) * np.array([0.2, 0.2, 0.25])
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


def gridding_energy(feature_map, periods: Sequence[int] = (2, 4)) -> float:
    """Share of the spectral energy of an (h, w[, C]) map, mean removed per channel,
    at the frequencies of patterns repeating every `periods` cells (the DC term
    excluded). 0 for a map without such patterns; larger with gridding."""
    values = np.asarray(feature_map, dtype=np.float64)
    if values.ndim == 2:
        values = values[..., None]
    values = values - values.mean(axis=(0, 1), keepdims=True)
    power = (np.abs(np.fft.fft2(values, axes=(0, 1))) ** 2).sum(-1)
    h, w = power.shape
    total = power.sum() - power[0, 0]
    if total <= 0:
        return 0.0
    rows = {round(k * h / p) % h for p in periods for k in range(p)}
    cols = {round(k * w / p) % w for p in periods for k in range(p)}
    mask = np.zeros_like(power, dtype=bool)
    mask[np.ix_(sorted(rows), sorted(cols))] = True
    mask[0, 0] = False
    return float(power[mask].sum() / total)


def _levels_model(model, arch: str | None) -> keras.Model:
    """image -> [level1, level2, ...] of a DRN."""
    from keras_drn.models import DRNBackbone
    from keras_drn.models import DRNImageSegmenter

    backbone = model.backbone if isinstance(model, DRNImageSegmenter) else model
    if isinstance(backbone, DRNBackbone):
        levels = backbone.pyramid_outputs
        return keras.Model(backbone.input, [levels[k] for k in sorted(
            levels, key=lambda name: int(name[len("level"):]))])
    if arch is None:
        raise ValueError(
            f"{model.name} is a plain Keras model: pass arch= (e.g. 'drn_c_26') to find "
            f"its level outputs by layer name, or pass a keras_drn.DRNBackbone or a "
            f"DRNSeg segmenter, which know their levels."
        )
    from keras_drn.models.walk import find_layer

    outputs = [find_layer(model, name).output for name in level_output_names(arch)]
    return keras.Model(model.inputs, outputs)


def level_features(model, arch: str | None, image, *, dataset: str | None = None
                   ) -> dict[str, np.ndarray]:
    """{"level<k>": (h, w, C) activations} of every level of a DRN.

    Args:
        model: a `keras_drn.DRNBackbone`, a DRNSeg segmenter (its backbone's levels),
            or a plain DRN classifier or feature extractor (`keras_drn.DRN`).
        arch: the DRN architecture of a plain model (its level layers' names); None
            for a backbone or a segmenter.
        image: (H, W, 3) RGB on 0..255.
        dataset: None for the model's own normalisation (a segmenter's dataset;
            ImageNet's for backbones and classifiers, what the released DRNs were
            trained on); a name overrides it.
    """
    from keras_drn.models import DRNImageSegmenter

    extractor = _levels_model(model, arch)
    if dataset is None and isinstance(model, DRNImageSegmenter):
        norm = model.normalization
    else:
        norm = get_normalization(dataset or "imagenet", "drn")
    x = normalize_images(image, norm)[None]
    maps = extractor.predict_on_batch(x)
    return {
        f"level{i}": keras.ops.convert_to_numpy(m)[0] for i, m in enumerate(maps, 1)
    }


def stride8_levels(features: dict[str, np.ndarray], image_size: int) -> list[str]:
    size = -(-image_size // 8)
    return [k for k, v in features.items() if v.shape[0] == size]
