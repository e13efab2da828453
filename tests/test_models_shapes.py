"""Output geometry: ceil(size / 8) at every level, input resolution for DRNSeg, and
the Dilation prototxts' sizes."""

import numpy as np
import pytest

from keras_drn.models import build_dilation
from keras_drn.models import build_drn
from keras_drn.models import build_drnseg


def ceil8(n):
    return -(-n // 8)


def test_d22_500x700_gives_63x88x512():
    model = build_drn("drn_d_22", include_top=False, input_shape=(None, None, 3))
    y = model(np.zeros((1, 500, 700, 3), "float32"))
    assert tuple(y.shape) == (1, 63, 88, 512)


@pytest.mark.parametrize("arch", ["drn_a_18", "drn_b_26", "drn_c_26", "drn_d_22",
                                  "drn_d_54", "drn_a_50"])
@pytest.mark.parametrize("size", [(17, 23), (33, 41), (500, 700), (9, 1031)])
def test_stride_8_feature_map_is_ceil_of_size_over_8(arch, size):
    model = build_drn(arch, include_top=False, input_shape=(*size, 3))
    channels = 2048 if arch == "drn_a_50" else 512
    assert tuple(model.output.shape) == (None, ceil8(size[0]), ceil8(size[1]), channels)


def test_odd_size_runs_with_the_symbolic_shape():
    model = build_drn("drn_c_26", include_top=False)
    y = model(np.zeros((2, 37, 53, 3), "float32"))
    assert tuple(y.shape) == (2, 5, 7, 512)


@pytest.mark.parametrize("size", [(64, 96), (37, 53), (8, 8)])
def test_drnseg_returns_input_resolution(size):
    model = build_drnseg("drn_d_22", 5)
    y = model(np.zeros((1, *size, 3), "float32"))
    assert tuple(y.shape) == (1, *size, 5)


@pytest.mark.parametrize("head", ["bilinear", "none"])
def test_drnseg_other_heads(head):
    model = build_drnseg("drn_d_22", 3, head=head)
    y = model(np.zeros((1, 40, 56, 3), "float32"))
    expected = (1, 40, 56, 3) if head == "bilinear" else (1, 5, 7, 3)
    assert tuple(y.shape) == expected


@pytest.mark.parametrize("include_top,pooling,shape", [
    (True, None, (None, 1000)),
    (False, "avg", (None, 512)),
    (False, "max", (None, 512)),
    (False, None, (None, None, None, 512)),
])
def test_classifier_heads(include_top, pooling, shape):
    model = build_drn("drn_d_22", include_top=include_top, pooling=pooling)
    assert tuple(model.output.shape) == shape


# fyu/dilation: output = (H - 372) / 8 for the deploy tiles (drn-facts §5.1); pool3's
# ceil gives 159 columns for KITTI's 1640; Dilation10 upsamples its 128x128 by 8.
@pytest.mark.parametrize("dataset,tile,expected", [
    ("camvid", (900, 1100), (66, 91, 11)),
    ("kitti", (852, 1640), (60, 159, 11)),
    ("pascal_voc", (900, 900), (66, 66, 21)),
    ("cityscapes", (1396, 1396), (1024, 1024, 19)),
])
def test_dilation_deploy_tile_sizes(dataset, tile, expected):
    model = build_dilation(dataset, input_shape=(*tile, 3))
    assert tuple(model.output.shape) == (None, *expected)
