"""Convolution and batch normalisation with the reference's geometry and init."""

from __future__ import annotations

import keras

from keras_drn.layers import sync

# PyTorch BatchNorm2d defaults (drn.py:7 uses nn.BatchNorm2d): eps 1e-5 and momentum
# 0.1 of the new batch, which is Keras momentum 0.9 of the running value.
BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9


def he_fan_out():
    """drn.py:169-175: every conv weight ~ N(0, sqrt(2 / (k_h * k_w * out)))."""
    return keras.initializers.VarianceScaling(
        scale=2.0, mode="fan_out", distribution="untruncated_normal"
    )


def conv2d(
    x,
    filters,
    kernel_size,
    *,
    strides=1,
    dilation=1,
    padding=None,
    use_bias=False,
    name,
    kernel_initializer=None,
    bias_initializer="zeros",
):
    """A Conv2D with PyTorch-style symmetric padding.

    `padding=None` means the reference's choice for this layer: `dilation * (k - 1) // 2`
    on every side (pad = dilation for 3x3, 3 for the 7x7 stem, 0 for 1x1). At stride 1
    that is exactly Keras "same", which keeps the convolution a single op that converters
    can fuse. At stride 2 TensorFlow's "same" pads the bottom/right only, so we pad
    explicitly (`ZeroPadding2D`) and convolve "valid", as PyTorch does.
    An integer `padding` gives that many zeros on every side; "valid" gives none.

    Args:
        x: the input tensor (NHWC).
        filters: output channels.
        kernel_size: the square kernel's size.
        strides: the stride.
        dilation: the dilation rate.
        padding: None (the reference's), an int, or "valid".
        use_bias: whether the convolution has a bias (drn.py's have none).
        name: the layer's name (the padding layer, when there is one, is
            `<name>_pad`).
        kernel_initializer: default `he_fan_out()`.
        bias_initializer: the bias's initialiser.

    Returns:
        The output tensor.
    """
    if kernel_initializer is None:
        kernel_initializer = he_fan_out()
    if padding is None:
        padding = dilation * (kernel_size - 1) // 2
    if padding == "valid":
        padding = 0
    if strides == 1 and padding == dilation * (kernel_size - 1) // 2 and padding > 0:
        keras_padding = "same"
    else:
        keras_padding = "valid"
        if padding:
            x = keras.layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=keras_padding,
        dilation_rate=dilation,
        use_bias=use_bias,
        kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer,
        name=name,
    )(x)


def batch_norm(x, name):
    """A BatchNormalization with PyTorch's defaults (eps 1e-5, momentum 0.1 of the new
    batch), synchronised across replicas inside `keras_drn.layers.sync.synchronized()`.

    Args:
        x: the input tensor.
        name: the layer's name.

    Returns:
        The output tensor.
    """
    return keras.layers.BatchNormalization(
        epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name,
        synchronized=sync.synchronized(),
    )(x)
