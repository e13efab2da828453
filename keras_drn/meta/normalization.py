"""Input statistics: what each model family subtracts and divides by."""

from __future__ import annotations

from typing import NamedTuple


class Normalization(NamedTuple):
    """x_model = (x_uint8 * scale - mean) / std, channel by channel in RGB order."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    scale: float


# DRN (fyu/drn): RGB on [0, 1], then (x - mean) / std.
#  - imagenet: classify.py's torchvision statistics.
#  - cityscapes: datasets/cityscapes/info.json (500 random training images).
NORMALIZATION: dict[str, Normalization] = {
    "imagenet": Normalization(
        mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), scale=1 / 255
    ),
    "cityscapes": Normalization(
        mean=(0.29010095242892997, 0.32808144844279574, 0.28696394422942517),
        std=(0.1829540508368939, 0.18656561047509476, 0.18447508988480435),
        scale=1 / 255,
    ),
}
# The synthetic street scenes imitate Cityscapes; CamVid and VOC have no info.json in
# the reference, whose loader would then need one: we default them to ImageNet's.
NORMALIZATION["synthetic"] = NORMALIZATION["cityscapes"]
NORMALIZATION["camvid"] = NORMALIZATION["imagenet"]
NORMALIZATION["pascal_voc"] = NORMALIZATION["imagenet"]

# Dilation (fyu/dilation datasets/*.json): 0..255 pixels, mean subtracted, no std, in
# the BGR order of cv2.imread. keras_drn's Dilation models take RGB (the converter
# flips conv1_1's input channels), so preprocessing subtracts the mean reversed.
DILATION_MEAN_BGR: dict[str, tuple[float, float, float]] = {
    "pascal_voc": (102.93, 111.36, 116.52),
    "camvid": (110.70313206, 108.77808759, 105.41212523),
    "kitti": (96.19429688, 95.55136972, 91.34692262),
    "cityscapes": (72.39, 82.91, 73.16),
}


def dilation_normalization(dataset: str) -> Normalization:
    """The input statistics of a Dilation model of `dataset`: its BGR mean
    (`DILATION_MEAN_BGR`, fyu/dilation datasets/*.json) in RGB order, on 0..255, no
    scaling.

    Args:
        dataset: "pascal_voc", "camvid", "kitti" or "cityscapes".

    Returns:
        A `Normalization`.

    Raises:
        KeyError: a dataset without a Dilation model.
    """
    b, g, r = DILATION_MEAN_BGR[dataset]
    return Normalization(mean=(r, g, b), std=(1.0, 1.0, 1.0), scale=1.0)
