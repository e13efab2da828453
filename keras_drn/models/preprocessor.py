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
    """ImageConverter's `x * scale + offset` for `(x * norm.scale - mean) / std`.

    Args:
        norm: the statistics.

    Returns:
        `(scale, offset)`, one value per channel each.
    """
    scale = [norm.scale / s for s in norm.std]
    offset = [-m / s for m, s in zip(norm.mean, norm.std)]
    return scale, offset


class _DatasetImageConverter(keras_hub.layers.ImageConverter):
    """An `ImageConverter` whose scale and offset come from a dataset's statistics.

    Subclasses say which statistics (`normalization`); `get_config` records the
    dataset, so a saved converter is rebuilt with the same name.
    """

    def __init__(self, dataset="cityscapes", image_size=None, scale=None, offset=None,
                 **kwargs):
        if scale is None and offset is None:
            scale, offset = scale_and_offset(self.normalization(dataset))
        super().__init__(image_size=image_size, scale=scale, offset=offset, **kwargs)
        self.dataset = dataset

    @classmethod
    def normalization(cls, dataset) -> Normalization:
        """The statistics of `dataset` this converter applies."""
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config["dataset"] = self.dataset
        return config


@keras.saving.register_keras_serializable(package="keras_drn")
class DRNImageConverter(_DatasetImageConverter):
    """Normalises RGB images (0..255, channels last) for a DRN:
    `(x / 255 - mean) / std` with the dataset's mean and std.

    Args:
        dataset: whose statistics to apply ("cityscapes", "imagenet", "camvid", ...;
            `keras_drn.meta.NORMALIZATION`); ignored when `scale` and `offset` are
            given.
        image_size: optional (height, width) to resize to; None keeps every size.
        scale, offset: explicit per-channel `x * scale + offset` instead.
        **kwargs: the other `keras_hub.layers.ImageConverter` arguments.

    Raises:
        ValueError: an unknown dataset (without `scale` and `offset`).

    Example:
    ```python
    converter = keras_drn.DRNImageConverter("cityscapes")
    x = converter(uint8_images)  # float32, normalised
    ```
    """

    backbone_cls = DRNBackbone

    @classmethod
    def normalization(cls, dataset) -> Normalization:
        """`keras_drn.meta.NORMALIZATION[dataset]`."""
        if dataset not in NORMALIZATION:
            raise ValueError(
                f"Invalid dataset={dataset!r} for DRNImageConverter. Expected one "
                f"of: {', '.join(sorted(NORMALIZATION))}, or pass scale and offset."
            )
        return NORMALIZATION[dataset]


@keras.saving.register_keras_serializable(package="keras_drn")
class DilationImageConverter(_DatasetImageConverter):
    """Subtracts a Dilation model's mean (fyu/dilation datasets/*.json, applied to RGB)
    from images on 0..255.

    Args:
        dataset: "pascal_voc", "camvid", "kitti" or "cityscapes"; ignored when `scale`
            and `offset` are given.
        image_size: optional (height, width) to resize to; None keeps every size.
        scale, offset: explicit per-channel `x * scale + offset` instead.
        **kwargs: the other `keras_hub.layers.ImageConverter` arguments.
    """

    backbone_cls = DilationBackbone

    @classmethod
    def normalization(cls, dataset) -> Normalization:
        """`keras_drn.meta.dilation_normalization(dataset)`."""
        return dilation_normalization(dataset)


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
