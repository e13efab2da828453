"""Residual blocks of drn.py, as functional builders.

Layer names mirror the reference's module paths with "." replaced by "_"
(`layer3.0.conv1` -> `layer3_0_conv1`), so weight conversion is a readable name map.
"""

from __future__ import annotations

import keras

from keras_drn.layers.conv import batch_norm
from keras_drn.layers.conv import conv2d
from keras_drn.layers.unused import UnusedProjection


def _shortcut(x, filters, strides, name, use):
    """The 1x1 projection (drn.py:181-186): conv stride s, no bias, then BN.

    When the block does not add its residual (`use=False`, DRN-C levels 7-8), the
    reference still builds the projection (its weights are in the checkpoint) and
    discards its output; we keep the weights in a pass-through carrier.
    """
    if not use:
        return UnusedProjection(filters, strides=strides, name=name)(x), None
    y = conv2d(x, filters, 1, strides=strides, name=f"{name}_0")
    return x, batch_norm(y, f"{name}_1")


def basic_block(
    x, filters, *, strides=1, dilation=(1, 1), residual=True, project=False, name
):
    """BasicBlock (drn.py:32-65): 3x3 conv-BN-ReLU, 3x3 conv-BN, (+ shortcut), ReLU.

    `project` builds the downsample branch (stride != 1 or a change of width); with
    `residual=False` the shortcut is not added, as in DRN-C levels 7 and 8.

    Args:
        x: the input tensor.
        filters: the block's channels.
        strides: the first convolution's stride.
        dilation: the dilations of the two convolutions.
        residual: whether the shortcut is added.
        project: whether the shortcut is a 1x1 projection (`<name>_downsample`).
        name: the block's prefix (`layer3_0` for the reference's `layer3.0`).

    Returns:
        The output tensor.
    """
    shortcut = x
    if project:
        x, projected = _shortcut(x, filters, strides, f"{name}_downsample", residual)
        shortcut = projected
    y = conv2d(x, filters, 3, strides=strides, dilation=dilation[0], name=f"{name}_conv1")
    y = batch_norm(y, f"{name}_bn1")
    y = keras.layers.ReLU(name=f"{name}_relu1")(y)
    y = conv2d(y, filters, 3, dilation=dilation[1], name=f"{name}_conv2")
    y = batch_norm(y, f"{name}_bn2")
    if residual:
        y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_relu")(y)


def bottleneck_block(
    x, planes, *, strides=1, dilation=(1, 1), residual=True, project=False, name
):
    """Bottleneck (drn.py:68-106), expansion 4: 1x1, 3x3 (stride, dilation[1]), 1x1.

    The reference ignores `residual` here (the shortcut is always added) and uses only
    dilation[1]; we follow it.

    Args:
        x: the input tensor.
        planes: the inner channels; the block outputs `4 * planes`.
        strides: the 3x3 convolution's stride.
        dilation: the 3x3 convolution uses `dilation[1]`.
        residual: ignored, as in the reference.
        project: whether the shortcut is a 1x1 projection (`<name>_downsample`).
        name: the block's prefix.

    Returns:
        The output tensor.
    """
    del residual  # drn.py:101: always added.
    shortcut = x
    if project:
        _, shortcut = _shortcut(x, planes * 4, strides, f"{name}_downsample", True)
    y = conv2d(x, planes, 1, name=f"{name}_conv1")
    y = batch_norm(y, f"{name}_bn1")
    y = keras.layers.ReLU(name=f"{name}_relu1")(y)
    y = conv2d(y, planes, 3, strides=strides, dilation=dilation[1], name=f"{name}_conv2")
    y = batch_norm(y, f"{name}_bn2")
    y = keras.layers.ReLU(name=f"{name}_relu2")(y)
    y = conv2d(y, planes * 4, 1, name=f"{name}_conv3")
    y = batch_norm(y, f"{name}_bn3")
    y = keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return keras.layers.ReLU(name=f"{name}_relu")(y)


def conv_bn_relu(x, filters, convs, *, strides=1, dilation=1, name, first_index=0):
    """DRN-D's plain levels (drn.py:201-211): `convs` x [3x3 conv, BN, ReLU].

    The reference builds them as one flat Sequential, so the conv/BN/ReLU of the i-th
    repetition are children 3i, 3i+1, 3i+2: `layer7.3.weight` is the second conv.

    Args:
        x: the input tensor.
        filters: output channels of every convolution.
        convs: how many conv-BN-ReLU repetitions.
        strides: the first convolution's stride.
        dilation: every convolution's dilation.
        name: the level's prefix ("layer7").
        first_index: the Sequential index of the first convolution.

    Returns:
        The output tensor.
    """
    for i in range(convs):
        base = first_index + 3 * i
        x = conv2d(
            x,
            filters,
            3,
            strides=strides if i == 0 else 1,
            dilation=dilation,
            name=f"{name}_{base}",
        )
        x = batch_norm(x, f"{name}_{base + 1}")
        x = keras.layers.ReLU(name=f"{name}_{base + 2}")(x)
    return x
