"""The export graph's input normalisation and upsampling heads, in TensorFlow ops chosen
for edge runtimes.

Every function here computes what the Keras model computes, with ops that convert to
the plainest TFLite builtins:

- `normalize`: uint8 (or float) RGB to the model's input, one MUL and one ADD.
- `reference_upsample`: segment.py's frozen x8 bilinear ConvTranspose2d as TILE,
  DEPTHWISE_CONV_2D (2x2, multiplier 1) and DEPTH_TO_SPACE. The Keras layer
  (`keras_drn.layers.BilinearUpsampling`) does the same sums through a 5-D
  reshape/transpose, which GPU delegates and NNAPI do not take; this form has no
  transpose and no reshape at all.
- `bilinear_upsample`: the "bilinear" head, one RESIZE_BILINEAR (half-pixel centres),
  as `keras_drn.models.segmentation.ResizeToReference`.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from keras_drn.layers.upsampling import bilinear_kernel
from keras_drn.meta.normalization import Normalization

FACTOR = 8  # DRN's output stride, and the reference head's upsampling factor.


def affine_normalization(norm: Normalization) -> tuple[np.ndarray, np.ndarray]:
    """`(x * scale - mean) / std` written as `x * a + b`, per RGB channel."""
    std = np.asarray(norm.std, np.float64)
    a = norm.scale / std
    b = -np.asarray(norm.mean, np.float64) / std
    return a.astype(np.float32), b.astype(np.float32)


def normalize(images, norm: Normalization):
    """uint8 or float RGB in [0, 255] -> the model's float32 input."""
    a, b = affine_normalization(norm)
    return tf.cast(images, tf.float32) * a + b


def phase_kernel(kernel: np.ndarray, factor: int = FACTOR) -> np.ndarray:
    """The transposed convolution's (k, k, C) kernel as a (2, 2, f*f*C, 1) depthwise
    kernel whose output channel (a*f + b)*C + c is output phase (a, b) of class c.

    A stride-f transposed convolution with 2f taps gives output pixel (f*i + a, f*j + b)
    the sum over u, v in {0, 1} of x[i - u, j - v] * w[a + f*u, b + f*v]
    (BilinearUpsampling.call derives it). With the input padded by one and a valid 2x2
    window at (i, j), tap t reads x[i + t - 1], i.e. u = 1 - t: the kernel's 2x2 blocks
    are flipped. DEPTH_TO_SPACE puts channel (a*f + b)*C + c at phase (a, b), hence the
    (t, s, a, b, c) order.
    """
    kernel = np.asarray(kernel, np.float32)
    size, _, channels = kernel.shape
    if size < 2 * factor:  # odd factors: 2f - 1 taps, the last one zero
        extra = 2 * factor - size
        kernel = np.pad(kernel, ((0, extra), (0, extra), (0, 0)))
    blocks = kernel.reshape(2, factor, 2, factor, channels)[::-1, :, ::-1]
    return np.ascontiguousarray(blocks.transpose(0, 2, 1, 3, 4)).reshape(
        2, 2, factor * factor * channels, 1
    )


def reference_upsample(logits, height, width, kernel: np.ndarray | None = None,
                       factor: int = FACTOR):
    """segment.py's `up` (ConvTranspose2d(C, C, 16, stride=8, padding=4, groups=C),
    frozen bilinear weights; segment.py:100-107) followed by a crop to (height, width).

    `kernel`: the (16, 16, C) weight of the Keras model's `up` layer; None means the
    bilinear filler it is initialised (and frozen) with.
    """
    channels = logits.shape[-1]
    if kernel is None:
        size = 2 * factor - factor % 2
        kernel = np.repeat(bilinear_kernel(size)[:, :, None], channels, axis=2)
    depthwise = tf.constant(phase_kernel(kernel, factor))
    x = tf.tile(logits, [1, 1, 1, factor * factor])
    x = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
    y = tf.nn.depthwise_conv2d(x, depthwise, strides=[1, 1, 1, 1], padding="VALID")
    y = tf.nn.depth_to_space(y, factor)
    # The full transposed convolution is f*(h+1) rows; PyTorch's padding p drops p
    # rows at the top (and the model's crop keeps `height` of what follows).
    p = math.ceil((factor - 1) / 2)
    return y[:, p : p + height, p : p + width, :]


def bilinear_upsample(logits, height, width):
    """The "bilinear" head: `tf.image.resize` with half-pixel centres, no antialias."""
    return tf.image.resize(logits, (height, width), method="bilinear", antialias=False)


def labels_from_logits(logits, dtype=tf.int32):
    """Per-pixel argmax over the class axis."""
    labels = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return labels if dtype == tf.int32 else tf.cast(labels, dtype)
