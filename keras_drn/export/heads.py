"""The export graph's input normalisation and upsampling heads, in TensorFlow ops chosen
for edge runtimes.

Every function here computes what the Keras model computes, with ops that convert to
the plainest TFLite builtins:

- `normalize`: uint8 (or float) RGB to the model's input, one MUL and one ADD.
- `reference_upsample`: segment.py's frozen x8 bilinear ConvTranspose2d (kernel 16,
  stride 8, padding 4, grouped) as a sub-pixel convolution: one 3x3 CONV_2D over the
  stride-8 map (64 phases per class) and DEPTH_TO_SPACE, with no TILE, no PAD and no
  crop. The Keras layer (`keras_drn.layers.BilinearUpsampling`) does the same sums
  through a 5-D reshape/transpose, which GPU delegates and NNAPI do not take.
- `bilinear_upsample`: the "bilinear" head, one RESIZE_BILINEAR (half-pixel centres),
  as `keras_drn.models.segmentation.ResizeToReference`.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from keras_drn.export.options import OUTPUT_STRIDE
from keras_drn.layers.upsampling import bilinear_kernel
from keras_drn.meta.normalization import Normalization

FACTOR = OUTPUT_STRIDE  # the reference head's upsampling factor


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


def _full_kernel(kernel: np.ndarray, factor: int) -> np.ndarray:
    """The (2f, 2f, C) transposed-convolution kernel (odd factors have 2f - 1 taps;
    the missing last one is zero)."""
    kernel = np.asarray(kernel, np.float32)
    size = kernel.shape[0]
    if size < 2 * factor:
        extra = 2 * factor - size
        kernel = np.pad(kernel, ((0, extra), (0, extra), (0, 0)))
    return kernel


def crop_offset(factor: int = FACTOR) -> int:
    """Rows (and columns) PyTorch's padding drops at the top of the transposed
    convolution's output: ConvTranspose2d(kernel 2f, stride f, padding ceil((f-1)/2))."""
    return math.ceil((factor - 1) / 2)


def subpixel_kernel(kernel: np.ndarray, factor: int = FACTOR) -> np.ndarray:
    """The grouped transposed convolution's (2f, 2f, C) kernel as a (3, 3, C, f*f*C)
    CONV_2D kernel over the stride-f map, whose output channel (a*f + b)*C + c is
    output phase (a, b) of class c (DEPTH_TO_SPACE's channel order).

    The transposed convolution (stride f, 2f taps, PyTorch padding p) gives output
    pixel (f*i + a, f*j + b), i.e. uncropped row R = f*i + a + p, the sum over u, v in
    {0, 1} of x[I - u, J - v] * w[A + f*u, B + f*v] with I = i + (a + p) // f and
    A = (a + p) % f (likewise for columns); BilinearUpsampling.call derives the
    uncropped form. Row I - u is row i + dy - 1 of a 3x3 window centred at i, with
    dy = (a + p) // f - u + 1 in {0, 1, 2}: every output pixel reads the 3x3
    neighbourhood of its stride-f cell, and the cropped output is exactly the
    DEPTH_TO_SPACE of one 3x3 "same" convolution. A class reads only its own input
    channel (the convolution is grouped), so the kernel is zero across classes.
    """
    full = _full_kernel(kernel, factor)
    channels = full.shape[-1]
    p = crop_offset(factor)
    out = np.zeros((3, 3, channels, factor * factor * channels), np.float32)
    classes = np.arange(channels)
    for a in range(factor):
        big_a, shift_a = (a + p) % factor, (a + p) // factor
        for b in range(factor):
            big_b, shift_b = (b + p) % factor, (b + p) // factor
            column = (a * factor + b) * channels + classes
            for u in (0, 1):
                for v in (0, 1):
                    dy, dx = shift_a - u + 1, shift_b - v + 1
                    out[dy, dx, classes, column] = full[
                        big_a + factor * u, big_b + factor * v, classes]
    return out


def reference_upsample(logits, height, width, kernel: np.ndarray | None = None,
                       factor: int = FACTOR):
    """segment.py's `up` (ConvTranspose2d(C, C, 16, stride=8, padding=4, groups=C),
    frozen bilinear weights; segment.py:100-107) followed by the crop to
    (height, width), as one 3x3 CONV_2D ("same" padding, no PAD op) and one
    DEPTH_TO_SPACE (`subpixel_kernel`): no TILE, no transpose, no reshape, and no
    crop when (height, width) is 8 times the stride-8 map (the only sizes the
    reference head exports; `check_input_size`).

    `kernel`: the (16, 16, C) weight of the Keras model's `up` layer; None means the
    bilinear filler it is initialised (and frozen) with.
    """
    channels = logits.shape[-1]
    if kernel is None:
        size = 2 * factor - factor % 2
        kernel = np.repeat(bilinear_kernel(size)[:, :, None], channels, axis=2)
    weights = tf.constant(subpixel_kernel(kernel, factor))
    y = tf.nn.conv2d(logits, weights, strides=1, padding="SAME")
    y = tf.nn.depth_to_space(y, factor)
    rows, columns = y.shape[1:3]
    if rows == height and columns == width:
        return y
    return y[:, :height, :width, :]


def bilinear_upsample(logits, height, width):
    """The "bilinear" head: `tf.image.resize` with half-pixel centres, no antialias."""
    return tf.image.resize(logits, (height, width), method="bilinear", antialias=False)


def labels_from_logits(logits, dtype=tf.int32):
    """Per-pixel argmax over the class axis."""
    labels = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return labels if dtype == tf.int32 else tf.cast(labels, dtype)
