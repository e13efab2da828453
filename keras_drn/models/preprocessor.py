"""keras-hub preprocessing for the segmenters: uint8 RGB images in, normalised floats out.

`DRNImageConverter` is a `keras_hub.layers.ImageConverter` whose per-channel scale and
offset apply the dataset's mean and std (`keras_drn.meta.NORMALIZATION`), so that
`x_model = (x / 255 - mean) / std`; `DilationImageConverter` subtracts the ICLR 2016
models' mean on 0..255. The preprocessors pair them with the segmenters, as keras-hub's
`from_preset` expects.
"""

from __future__ import annotations

import keras
import keras_hub

from keras_drn.meta.normalization import NORMALIZATION
from keras_drn.meta.normalization import Normalization
from keras_drn.meta.normalization import dilation_normalization
from keras_drn.models.backbone import DilationBackbone
from keras_drn.models.backbone import DRNBackbone


def scale_and_offset(norm: Normalization) -> tuple[list[float], list[float]]:
    """ImageConverter's `x * scale + offset` for `(x * norm.scale - mean) / std`."""
    scale = [norm.scale / s for s in norm.std]
    offset = [-m / s for m, s in zip(norm.mean, norm.std)]
    return scale, offset


@keras.saving.register_keras_serializable(package="keras_drn")
class DRNImageConverter(keras_hub.layers.ImageConverter):
    """Normalises RGB images (0..255, channels last) for a DRN.

    Args:
        dataset: whose statistics to apply ("cityscapes", "imagenet", "camvid", ...);
            ignored when `scale` and `offset` are given.
        image_size: optional (height, width) to resize to; None keeps every size.
        **kwargs: the other `keras_hub.layers.ImageConverter` arguments.
    """

    backbone_cls = DRNBackbone

    def __init__(self, dataset="cityscapes", image_size=None, scale=None, offset=None,
                 **kwargs):
        if scale is None and offset is None:
            if dataset not in NORMALIZATION:
                raise ValueError(
                    f"Invalid dataset={dataset!r} for DRNImageConverter. Expected one "
                    f"of: {', '.join(sorted(NORMALIZATION))}, or pass scale and offset."
                )
            scale, offset = scale_and_offset(NORMALIZATION[dataset])
        super().__init__(image_size=image_size, scale=scale, offset=offset, **kwargs)
        self.dataset = dataset

    def get_config(self):
        config = super().get_config()
        config["dataset"] = self.dataset
        return config


@keras.saving.register_keras_serializable(package="keras_drn")
class DilationImageConverter(keras_hub.layers.ImageConverter):
    """Subtracts a Dilation model's mean (fyu/dilation datasets/*.json, applied to RGB)
    from images on 0..255."""

    backbone_cls = DilationBackbone

    def __init__(self, dataset="cityscapes", image_size=None, scale=None, offset=None,
                 **kwargs):
        if scale is None and offset is None:
            scale, offset = scale_and_offset(dilation_normalization(dataset))
        super().__init__(image_size=image_size, scale=scale, offset=offset, **kwargs)
        self.dataset = dataset

    def get_config(self):
        config = super().get_config()
        config["dataset"] = self.dataset
        return config


@keras.saving.register_keras_serializable(package="keras_drn")
class DRNImageSegmenterPreprocessor(keras_hub.models.ImageSegmenterPreprocessor):
    """Images (uint8 or float on 0..255) to a DRN segmenter's input; masks pass through
    unchanged (they are never resized unless `resize_output_mask=True`)."""

    backbone_cls = DRNBackbone
    image_converter_cls = DRNImageConverter


@keras.saving.register_keras_serializable(package="keras_drn")
class DilationImageSegmenterPreprocessor(keras_hub.models.ImageSegmenterPreprocessor):
    """Images on 0..255 to a Dilation segmenter's input (mean subtracted)."""

    backbone_cls = DilationBackbone
    image_converter_cls = DilationImageConverter
