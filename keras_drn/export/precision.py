"""bfloat16 inference on CPUs that compute it natively (AVX512_BF16, AMX): a copy of a
segmenter under Keras' "mixed_bfloat16" policy, whose convolutions run in bfloat16
while the variables stay float32 and the output stays float32 (the segmenter's last
layer is float32 under any policy).

    fast = keras_drn.export.precision.bfloat16_segmenter(segmenter)
    fast.predict(images)                     # Keras
    export_saved_model(segmenter, path, precision="bfloat16")   # SavedModel

bfloat16 keeps float32's exponent and 8 bits of mantissa, so logits move by about 1%
of their range; argmax labels agree with float32 on >= 99.9% of pixels for a trained
model (tests/test_export_edge.py). Where the CPU lacks bfloat16 instructions, oneDNN
emulates them and this is slower than float32: `cpu_has_bfloat16()` says which.
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


# Layers kept in float32: the classifier (a 1x1 convolution, a fraction of a percent
# of the work, whose logits decide the argmax) and the upsampling head.
FLOAT32_LAYERS = ("seg", "up")


def bfloat16_segmenter(model: keras.Model, keep_float32=FLOAT32_LAYERS) -> keras.Model:
    """A copy of `model` (any Keras model built from its config, e.g. a
    `keras_drn.DRNImageSegmenter`) under "mixed_bfloat16", with the same weights; the
    layers named in `keep_float32` compute in float32 (their bfloat16 inputs are cast
    up). The original model is not changed."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        copy = model.__class__.from_config(model.get_config())
    finally:
        keras.config.set_dtype_policy(previous)
    copy.set_weights(model.get_weights())
    for layer in leaf_layers(copy):
        if layer.name in keep_float32:
            layer.dtype_policy = keras.DTypePolicy("float32")
    return copy


def with_precision(model: keras.Model, precision: str) -> keras.Model:
    """`model` itself for "float32", its bfloat16 copy for "bfloat16"."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"Invalid precision={precision!r}: expected one of {', '.join(PRECISIONS)}.")
    return model if precision == "float32" else bfloat16_segmenter(model)
