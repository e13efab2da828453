"""bfloat16 inference on CPUs that compute it natively (AVX512_BF16, AMX): a copy of a
segmenter under Keras' "mixed_bfloat16" policy, whose convolutions run in bfloat16
while the variables stay float32 and the output stays float32 (the segmenter's last
layer is float32 under any policy).

    fast = keras_drn.export.precision.bfloat16_segmenter(segmenter)
    fast.predict(images)                     # Keras
    export_saved_model(segmenter, path, precision="bfloat16")   # SavedModel

Only the convolutions of the dilated stages at the output stride 8 (DRN's layer5 to
layer8, the Dilation front end's conv5, fc6 and fc7), where most of the multiply-adds
are, compute in bfloat16. Everything else computes in float32: the convolutions
before them (at strides 1 to 8, with fewer channels, where bfloat16 gains little while
their rounding errors travel through the whole network), batch norm, ReLU, the
residual additions, the classifier and the upsampling head. bfloat16 keeps float32's
exponent and 8 bits of mantissa. On the main job's trained DRN-D-22 this split moved
the logits by a median 0.0034 and gave the float32 labels on 99.92% of pixels (99.91%
on held-out scenes), at 1.7-1.9x float32's speed with AVX512_BF16; every convolution
in bfloat16 gave 99.74-99.78% at about the same speed
(benchmarks/bf16_agreement.py, benchmarks/results/bf16_agreement.md). Where the CPU
lacks bfloat16 instructions, oneDNN emulates them and this is slower than float32:
`cpu_has_bfloat16()` says which.
"""

from __future__ import annotations

import keras

from keras_drn.models.walk import leaf_layers

PRECISIONS = ("float32", "bfloat16")


def cpu_has_bfloat16() -> bool:
    """Whether this CPU lists native bfloat16 instructions (Linux /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return False
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16"))


# Layers always kept in float32 by name: the classifier (a 1x1 convolution, a fraction
# of a percent of the work, whose logits decide the argmax) and the upsampling head.
FLOAT32_LAYERS = ("seg", "up")
# Convolutions whose output is finer than this stride (relative to the input) stay
# float32.
BFLOAT16_STRIDE = 8
_PROBE_SIZE = 256  # the input side used to find each convolution's stride


def bfloat16_layer_names(model: keras.Model, stride: int = BFLOAT16_STRIDE) -> list[str]:
    """The convolutions of `model` (its backbone where it has one) that
    `bfloat16_segmenter` computes in bfloat16: from the first dilated convolution on,
    those whose output has at most 1/`stride` of the input's height (found by tracing
    shapes symbolically, no arithmetic, at the model's own input size or 256x256 where
    that is open). In DRN these are layer5 to layer8, in the Dilation front end conv5,
    fc6 and fc7. `stride=1` names every convolution."""
    net = getattr(model, "backbone", model)
    convs = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    if stride == 1 or not convs:
        return [layer.name for layer in convs]
    shape = tuple(net.inputs[0].shape)
    height = shape[1] or _PROBE_SIZE
    width = shape[2] or _PROBE_SIZE
    probe = keras.Model(net.inputs[0], [layer.output for layer in convs])
    specs = probe.compute_output_spec(keras.KerasTensor((1, height, width, shape[3])))
    dilated = [i for i, layer in enumerate(convs) if max(layer.dilation_rate) > 1]
    first = dilated[0] if dilated else 0
    # Output heights of "valid" convolutions fall a little short of height / stride:
    # the 1.5 margin separates stride 8 from stride 4 all the same.
    return [layer.name for i, (layer, spec) in enumerate(zip(convs, specs))
            if i >= first and spec.shape[1] * stride <= 1.5 * height]


def bfloat16_segmenter(model: keras.Model, keep_float32=FLOAT32_LAYERS,
                       stride: int = BFLOAT16_STRIDE) -> keras.Model:
    """A copy of `model` (any Keras model built from its config, e.g. a
    `keras_drn.DRNImageSegmenter`) with the same weights, whose dilated stages'
    convolutions (`bfloat16_layer_names`) compute in bfloat16 under the
    "mixed_bfloat16" policy (float32 variables); every other layer, and those named in
    `keep_float32`, compute in float32 (their bfloat16 inputs are cast up). `stride=1`
    puts every layer but `keep_float32` in bfloat16. The original model is not
    changed."""
    fast = set(bfloat16_layer_names(model, stride)) - set(keep_float32)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        copy = model.__class__.from_config(model.get_config())
    finally:
        keras.config.set_dtype_policy(previous)
    copy.set_weights(model.get_weights())
    for layer in leaf_layers(copy):
        if layer.name in keep_float32 or (stride > 1 and layer.name not in fast):
            layer.dtype_policy = keras.DTypePolicy("float32")
    return copy


def with_precision(model: keras.Model, precision: str) -> keras.Model:
    """`model` itself for "float32", its bfloat16 copy for "bfloat16"."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"Invalid precision={precision!r}: expected one of {', '.join(PRECISIONS)}.")
    return model if precision == "float32" else bfloat16_segmenter(model)
