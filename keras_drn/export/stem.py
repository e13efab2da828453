"""Full-resolution convolutions lowered for edge runtimes: space-to-depth form.

DRN's first layers run at the input's full resolution (DRN-C/D: a 7x7 convolution with
16 filters, then 3x3 ones). XNNPACK, the CPU engine of TFLite/LiteRT, computes a
convolution through an indirection buffer of one pointer per kernel tap and output
pixel: for the 7x7 stem at 1024x2048 that is 2 M pixels x 49 taps x 8 bytes = 784 MiB,
more than all of the model's activations together.

The same convolution, computed on the 2x2 space-to-depth rearrangement of its padded
input, has four times fewer output pixels and a ceil((k + 1) / 2)-tap kernel (4x4 for
7x7, 2x2 for 3x3) whose 4 * filters outputs are the 2x2 output phases; DEPTH_TO_SPACE
puts them back in place. Every output is the same sum of the same products (the added
kernel taps are zeros), so the result equals the original convolution up to float
rounding, and in int8 the per-channel weight scales are unchanged (each phase holds
all of the original taps). The batch normalisation and ReLU that follow are folded in
before DEPTH_TO_SPACE, so the converter fuses them into the one CONV_2D.

`lower_full_resolution(features)` returns a model computing the same function as the
`features` model with each eligible layer (a stride-1, undilated, ungrouped Conv2D with
a kernel larger than 1 that reads a full-resolution tensor; with the BatchNormalization
and ReLU that only it feeds) replaced by this form. The layers' variables are read at
lowering time: the result is for export (a frozen graph), not for training.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

BLOCK = 2


def space_to_depth_kernel(kernel: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """The (K, K, block^2 * Cin, block^2 * Cout) kernel that applies the (k, k, Cin,
    Cout) `kernel` to a `block` space-to-depth input, one output channel group per
    output phase (row-major phase order, matching `tf.nn.depth_to_space`).

    Args:
        kernel: an HWIO convolution kernel with odd, square spatial size.
        block: the space-to-depth block size.

    Returns:
        The rearranged kernel, K = ceil((k + block - 1) / block).
    """
    k, k2, cin, cout = kernel.shape
    if k != k2:
        raise ValueError(f"Expected a square kernel, received shape {kernel.shape}.")
    taps = -(-(k + block - 1) // block)
    out = np.zeros((taps, taps, block, block, cin, block, block, cout), kernel.dtype)
    for a in range(block):
        for b in range(block):
            for u in range(k):
                for v in range(k):
                    p, q = u + a, v + b
                    out[p // block, q // block, p % block, q % block, :, a, b, :] = \
                        kernel[u, v]
    return out.reshape(taps, taps, block * block * cin, block * block * cout)


class SpaceToDepthConv(keras.layers.Layer):
    """A frozen stride-1 convolution (+ folded affine, optional ReLU) computed in
    space-to-depth form; see the module's docstring. Export-only: not serialisable,
    no trainable variables.

    Args:
        kernel: the original (k, k, Cin, Cout) kernel, k odd.
        bias: (Cout,) added after the convolution (a folded batch norm's offset).
        padding: "same" (pad (k - 1) / 2 on each side) or "valid".
        relu: whether a ReLU follows.
    """

    def __init__(self, kernel, bias, padding: str, relu: bool, **kwargs):
        super().__init__(trainable=False, **kwargs)
        kernel = np.asarray(kernel, np.float32)
        self.k = int(kernel.shape[0])
        self.cout = int(kernel.shape[-1])
        self.pad = (self.k - 1) // 2 if padding == "same" else 0
        self.relu = bool(relu)
        self.kernel = space_to_depth_kernel(kernel)
        self.bias = np.tile(np.asarray(bias, np.float32), BLOCK * BLOCK)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        grow = 2 * self.pad - self.k + 1
        return (n, None if h is None else h + grow, None if w is None else w + grow,
                self.cout)

    def call(self, x):
        p = self.pad
        taps = self.kernel.shape[0]
        height, width = x.shape[1] + 2 * p, x.shape[2] + 2 * p
        # Pad so that the padded size is BLOCK * (output / BLOCK + taps - 1).
        out_h, out_w = height - self.k + 1, width - self.k + 1
        need_h = BLOCK * (-(-out_h // BLOCK) + taps - 1)
        need_w = BLOCK * (-(-out_w // BLOCK) + taps - 1)
        x = tf.pad(x, [[0, 0], [p, p + need_h - height], [p, p + need_w - width], [0, 0]])
        y = tf.nn.space_to_depth(x, BLOCK)
        y = tf.nn.conv2d(y, tf.constant(self.kernel), 1, "VALID")
        y = tf.nn.bias_add(y, tf.constant(self.bias))
        if self.relu:
            y = tf.nn.relu(y)
        y = tf.nn.depth_to_space(y, BLOCK)
        if y.shape[1] != out_h or y.shape[2] != out_w:
            y = y[:, :out_h, :out_w, :]
        return y


def _eligible(layer, inputs, full_size) -> bool:
    if type(layer) is not keras.layers.Conv2D:
        return False
    shape = tuple(inputs.shape[1:3])
    return (shape == full_size and None not in shape
            and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
            and layer.groups == 1 and layer.kernel_size[0] == layer.kernel_size[1] > 1
            and layer.kernel_size[0] % 2 == 1 and layer.padding in ("same", "valid")
            and layer.activation in (keras.activations.linear, None)
            and shape[0] % BLOCK == 0 and shape[1] % BLOCK == 0)


def _consumers(layer) -> int:
    """How many calls in the original graph read `layer`'s output."""
    return len(layer._outbound_nodes)


def _folded_batch_norm(layer, kernel, bias):
    gamma = (keras.ops.convert_to_numpy(layer.gamma) if layer.scale
             else np.ones_like(bias))
    beta = (keras.ops.convert_to_numpy(layer.beta) if layer.center
            else np.zeros_like(bias))
    mean = keras.ops.convert_to_numpy(layer.moving_mean)
    var = keras.ops.convert_to_numpy(layer.moving_variance)
    scale = gamma / np.sqrt(var + layer.epsilon)
    return kernel * scale, (bias - mean) * scale + beta


def _plain_relu(layer) -> bool:
    return (isinstance(layer, keras.layers.ReLU) and layer.max_value is None
            and not layer.negative_slope and not layer.threshold)


def lower_full_resolution(features: keras.Model, input_size=None) -> keras.Model:
    """`features` with its full-resolution convolutions in space-to-depth form.

    Args:
        features: a functional Keras model (nested functional models allowed).
        input_size: (height, width) of the lowered model's batch-1 input; None keeps
            `features`' input, whose size must then be static.

    Returns:
        A model of the same inputs and outputs computing the same function (up to
        float rounding), whose eligible convolutions (see the module's docstring) are
        `SpaceToDepthConv` layers, with their lowered layer names in
        `lowered_layers`; `features` itself when none is eligible.
    """
    shape = tuple(features.inputs[0].shape)
    inputs = None
    if input_size is not None:
        inputs = keras.Input(batch_shape=(1, *(int(s) for s in input_size), shape[-1]),
                             dtype=features.inputs[0].dtype)
        shape = tuple(inputs.shape)
    full_size = tuple(shape[1:3])
    if None in full_size:
        return features
    # id(output of a lowered layer) -> (its input, kernel, bias, padding, the last
    # original layer it stands for, whether a ReLU is folded in).
    pending = {}
    replaced = []

    def lowered_call(name, source, kernel, bias, relu, last):
        inp, _, _, padding, _, _ = source
        out = SpaceToDepthConv(kernel, bias, padding, relu, name=f"{name}_s2d")(inp)
        pending[id(out)] = (inp, kernel, bias, padding, last, relu)
        return out

    def call_function(layer, *args, **kwargs):
        x = args[0] if args else None
        if x is not None and _eligible(layer, x, full_size):
            kernel = keras.ops.convert_to_numpy(layer.kernel)
            bias = (keras.ops.convert_to_numpy(layer.bias) if layer.use_bias
                    else np.zeros(kernel.shape[-1], np.float32))
            replaced.append(layer.name)
            return lowered_call(layer.name, (x, None, None, layer.padding, None, None),
                                kernel, bias, False, layer)
        source = pending.get(id(x)) if x is not None else None
        if source is not None and not kwargs.get("training") and len(args) == 1:
            _, kernel, bias, _, last, relu = source
            if _consumers(last) == 1 and not relu:
                if (isinstance(layer, keras.layers.BatchNormalization)
                        and isinstance(last, keras.layers.Conv2D)
                        and layer.axis in (-1, 3)):
                    kernel, bias = _folded_batch_norm(layer, kernel, bias)
                    return lowered_call(layer.name, source, kernel, bias, False, layer)
                if _plain_relu(layer):
                    return lowered_call(layer.name, source, kernel, bias, True, layer)
        return layer(*args, **kwargs)

    lowered = keras.models.clone_model(features, input_tensors=inputs,
                                       clone_function=lambda layer: layer,
                                       call_function=call_function, recursive=True)
    if not replaced:
        return features
    lowered.lowered_layers = tuple(replaced)
    return lowered


def static_features(segmenter, input_size) -> keras.Model:
    """The segmenter's stride-8 logits (backbone, then `seg`) as a model of a static
    batch-1 `input_size` input: a copy of the backbone built at that size, holding the
    same weights, so that every layer sees static shapes.

    Args:
        segmenter: a `keras_drn.DRNImageSegmenter`.
        input_size: (height, width).

    Returns:
        A functional model, image (normalised, float) to stride-8 logits.
    """
    from keras_drn.models.walk import find_layer

    backbone = segmenter.backbone
    height, width = (int(s) for s in input_size)
    config = dict(backbone.get_config(), image_shape=(height, width, 3))
    copy = type(backbone).from_config(config)
    copy.set_weights(backbone.get_weights())
    image = keras.Input(batch_shape=(1, height, width, 3), name="image")
    return keras.Model(image, find_layer(segmenter, "seg")(copy(image)),
                       name=f"{segmenter.name}_seg_static")


def lean_features(segmenter, input_size) -> keras.Model:
    """`static_features` with its full-resolution convolutions lowered
    (`lower_full_resolution`): what the TFLite export traces."""
    return lower_full_resolution(static_features(segmenter, input_size))
