"""The frozen bilinear transposed convolution of DRNSeg and Dilation10."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops


def bilinear_kernel(size: int) -> np.ndarray:
    """Caffe's bilinear filler (caffe filler.hpp; fyu/drn segment.py:69-78), size x size.

    f = ceil(size / 2), c = (2f - 1 - f % 2) / (2f),
    w[i, j] = (1 - |i/f - c|) (1 - |j/f - c|).
    """
    f = math.ceil(size / 2)
    c = (2 * f - 1 - f % 2) / (2.0 * f)
    ramp = 1 - np.abs(np.arange(size) / f - c)
    return np.outer(ramp, ramp).astype("float32")


@keras.saving.register_keras_serializable(package="keras_drn")
class BilinearUpsampling(keras.layers.Layer):
    """Per-channel transposed convolution: `ConvTranspose2d(C, C, 2f, stride=f,
    padding=ceil((f-1)/2), groups=C, bias=False)` with the bilinear filler.

    This is segment.py's `up` (f = 8: kernel 16, padding 4) and Dilation10's
    `ctx_upsample`. Keras has no grouped transposed convolution, so the channels are
    folded into the batch and one single-channel kernel is applied to each; the kernel
    is a non-trainable weight of shape (k, k, C) (frozen in the reference,
    `requires_grad=False`), so checkpoints that carry it load exactly.
    The output is exactly `factor` times the input size.
    """

    def __init__(self, factor=8, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.factor = int(factor)
        self.kernel_size = 2 * self.factor - self.factor % 2
        self.padding = math.ceil((self.factor - 1) / 2)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("BilinearUpsampling needs a known channel count.")
        kernel = np.repeat(
            bilinear_kernel(self.kernel_size)[:, :, None], channels, axis=2
        )
        self.kernel = self.add_weight(
            name="kernel",
            shape=kernel.shape,
            initializer=keras.initializers.Constant(kernel),
            trainable=False,
        )

    def call(self, inputs):
        # A stride-f transposed convolution with a 2f-tap kernel gives every output
        # pixel contributions from exactly 2x2 input pixels:
        #   y[f*i + a, f*j + b] = sum_{u,v in {0,1}} x[i-u, j-v] * w[a + f*u, b + f*v].
        # So it is a 2x2 depthwise convolution with f*f outputs per channel (one per
        # phase (a, b)) followed by depth-to-space: 4 multiply-adds per output pixel,
        # exactly the transposed convolution's sums, and only ops every runtime has.
        f = self.factor
        channels = inputs.shape[-1]
        kernel = ops.cast(self.kernel, inputs.dtype)
        if self.kernel_size < 2 * f:  # odd factors: kernel 2f-1, pad with a zero tap
            extra = 2 * f - self.kernel_size
            kernel = ops.pad(kernel, ((0, extra), (0, extra), (0, 0)))
        # (2f, 2f, C) -> [u', a, v', b, C] with row = f*u' + a; tap u' pairs with
        # x[i - u'], and the padded input below is read at x_pad[i + u] = x[i + u - 1],
        # so u = 1 - u': flip the block axes.
        kernel = ops.flip(ops.reshape(kernel, (2, f, 2, f, channels)), axis=(0, 2))
        kernel = ops.reshape(
            ops.transpose(kernel, (0, 2, 4, 1, 3)), (2, 2, channels, f * f)
        )
        x = ops.pad(inputs, ((0, 0), (1, 1), (1, 1), (0, 0)))
        y = ops.depthwise_conv(x, kernel, strides=1, padding="valid")
        # (N, H+1, W+1, C*f*f) with channel index c*f*f + a*f + b -> depth-to-space.
        shape = ops.shape(y)
        batch, rows, cols = shape[0], shape[1], shape[2]
        y = ops.reshape(y, (-1, cols, channels, f, f))  # (N*(H+1), W+1, C, a, b)
        y = ops.transpose(y, (0, 3, 1, 4, 2))  # (N*(H+1), a, W+1, b, C)
        y = ops.reshape(y, (batch, rows * f, cols * f, channels))
        p = self.padding
        height, width = rows - 1, cols - 1
        return y[:, p : p + f * height, p : p + f * width, :]

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        scale = lambda s: None if s is None else s * self.factor  # noqa: E731
        return (n, scale(h), scale(w), c)

    def get_config(self):
        config = super().get_config()
        config.update(factor=self.factor)
        return config


@keras.saving.register_keras_serializable(package="keras_drn")
class CropToReference(keras.layers.Layer):
    """Crops `inputs[0]` to the height and width of `inputs[1]` (top-left aligned).

    The x8 transposed convolution returns 8 * ceil(H / 8) rows; the reference only feeds
    sizes that are multiples of 8. For other sizes we keep the rows aligned with the
    input's (the upsampling grid starts at the origin) and drop the overhang.
    """

    def call(self, inputs):
        x, reference = inputs
        shape = ops.shape(reference)
        return x[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, input_shapes):
        x, reference = input_shapes
        return (x[0], reference[1], reference[2], x[3])


@keras.saving.register_keras_serializable(package="keras_drn")
class ResizeToReference(keras.layers.Layer):
    """Bilinear resize of `inputs[0]` to the height and width of `inputs[1]` (half-pixel
    centres, edges clamped, no antialiasing)."""

    def call(self, inputs):
        x, reference = inputs
        shape = ops.shape(reference)
        return ops.image.resize(
            x, (shape[1], shape[2]), interpolation="bilinear", antialias=False
        )

    def compute_output_shape(self, input_shapes):
        x, reference = input_shapes
        return (x[0], reference[1], reference[2], x[3])
