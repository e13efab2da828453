"""Input normalisation: uint8 RGB images to what each model family was trained on."""

from __future__ import annotations

import numpy as np
from keras import ops

from keras_drn.meta.normalization import DILATION_MEAN_BGR
from keras_drn.meta.normalization import NORMALIZATION
from keras_drn.meta.normalization import Normalization
from keras_drn.meta.normalization import dilation_normalization

MODELS = ("drn", "dilation")


def get_normalization(dataset: str = "imagenet", model: str = "drn") -> Normalization:
    """The (mean, std, scale) that `preprocess_input` applies, in RGB order."""
    if model not in MODELS:
        raise ValueError(f"Invalid model={model!r}. Expected one of: {', '.join(MODELS)}.")
    table = NORMALIZATION if model == "drn" else DILATION_MEAN_BGR
    if dataset not in table:
        raise ValueError(
            f"Invalid dataset={dataset!r} for model={model!r}. Expected one of: "
            f"{', '.join(sorted(table))}."
        )
    return NORMALIZATION[dataset] if model == "drn" else dilation_normalization(dataset)


def preprocess_input(images, dataset: str = "imagenet", model: str = "drn"):
    """Maps RGB images with values in [0, 255] (uint8 or float, channels last) to a
    model's input.

    model="drn": (x / 255 - mean) / std with the dataset's statistics, as fyu/drn's
      `ToTensor` + `Normalize` ("imagenet": classify.py; "cityscapes": info.json).
    model="dilation": x - mean, on 0..255, as fyu/dilation (its BGR mean, applied to
      RGB channels since keras_drn's Dilation models take RGB).

    Numpy in, float32 numpy out; tensors in, float32 tensors out.
    """
    norm = get_normalization(dataset, model)
    mean = np.asarray(norm.mean, dtype=np.float32)
    inv_std = 1.0 / np.asarray(norm.std, dtype=np.float32)
    if isinstance(images, np.ndarray) or np.isscalar(images) or isinstance(images, list):
        x = np.asarray(images, dtype=np.float32)
        if x.shape[-1:] != (3,):
            raise ValueError(
                f"preprocess_input expects channels-last RGB images (last axis 3), "
                f"received shape {x.shape}."
            )
        return (x * np.float32(norm.scale) - mean) * inv_std
    x = ops.cast(images, "float32")
    return (x * norm.scale - mean) * inv_std
