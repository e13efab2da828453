"""Counting multiply-adds from a built model, for effective GFLOP/s in benchmarks."""

from __future__ import annotations

import keras
import numpy as np

from keras_drn.layers import BilinearUpsampling
from keras_drn.models.walk import leaf_layers


def _out_pixels(shape) -> int:
    return int(np.prod([d for d in shape[1:-1]]))


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates of one forward pass of `model` for one image.

    The model needs static spatial sizes (build it with `input_shape=(H, W, 3)`).
    Counted: convolutions (dilation changes nothing), depthwise convolutions, dense
    layers, and the x8 bilinear upsampling as the transposed convolution it is (one
    kernel of k x k per input pixel and channel: 4 per output pixel for k = 2f).
    Batch norm, ReLU, pooling and additions are not counted (they are memory-bound and
    well under 1% of the work).
    """
    total = 0
    for layer in leaf_layers(model):
        if not hasattr(layer, "output") or layer.output is None:
            continue
        out_shape = layer.output.shape
        if any(d is None for d in out_shape[1:]):
            raise ValueError(
                f"count_macs needs static shapes; layer {layer.name!r} has output "
                f"shape {out_shape}. Build the model with input_shape=(H, W, 3)."
            )
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            kh, kw = layer.kernel_size
            total += _out_pixels(out_shape) * kh * kw * out_shape[-1]
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            cin = layer.input.shape[-1] // layer.groups
            total += _out_pixels(out_shape) * kh * kw * cin * out_shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += int(np.prod(layer.kernel.shape))
        elif isinstance(layer, BilinearUpsampling):
            in_shape = layer.input.shape
            total += _out_pixels(in_shape) * in_shape[-1] * layer.kernel_size ** 2
    return total


def count_flops(model: keras.Model) -> int:
    """2 x `count_macs`: the convention of most papers and profilers."""
    return 2 * count_macs(model)
