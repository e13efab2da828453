"""DRNSeg (fyu/drn segment.py:81-119): a DRN backbone, a 1x1 classifier and x8
upsampling, returning per-pixel logits at the input's resolution."""

from __future__ import annotations

import keras
from keras import ops

from keras_drn.layers import BilinearUpsampling
from keras_drn.layers import CropToReference
from keras_drn.layers import he_fan_out
from keras_drn.models import validation
from keras_drn.models.configs import DRNConfig
from keras_drn.models.drn import MIN_INPUT_SIZE
from keras_drn.models.drn import drn_features
from keras_drn.models.drn import resolve_arch

# "reference": segment.py's frozen bilinear ConvTranspose2d(16, stride 8, pad 4, one
#   kernel per class), whose border rows are attenuated by its zero padding.
# "bilinear": the deploy head, a plain bilinear resize (half-pixel centres, edges
#   clamped): cheaper, and a single RESIZE_BILINEAR op in TFLite.
# "none": logits at stride 8, for callers that upsample (or argmax) themselves.
HEADS = ("reference", "bilinear", "none")
ACTIVATIONS = (None, "softmax", "log_softmax")


@keras.saving.register_keras_serializable(package="keras_drn")
class ResizeToReference(keras.layers.Layer):
    """Bilinear resize of `inputs[0]` to the height and width of `inputs[1]`."""

    def call(self, inputs):
        x, reference = inputs
        shape = ops.shape(reference)
        return ops.image.resize(
            x, (shape[1], shape[2]), interpolation="bilinear", antialias=False
        )

    def compute_output_shape(self, input_shapes):
        x, reference = input_shapes
        return (x[0], reference[1], reference[2], x[3])


def build_drnseg(
    arch: str | DRNConfig,
    classes: int,
    *,
    input_tensor=None,
    input_shape=None,
    head: str = "reference",
    activation=None,
    name: str | None = None,
) -> keras.Model:
    """Builds DRNSeg with random weights. `arch` is a table name or a `DRNConfig` row.

    Layer names: the backbone's as in the classifier (so ImageNet weights transfer by
    name), `seg` for the classifier, `up` for the reference upsampling. The output is
    float32 even under a mixed-precision policy.
    """
    key, config = resolve_arch(arch)
    validation.check_classes(classes)
    validation.check_choice("head", head, HEADS)
    validation.check_choice("activation", activation, ACTIVATIONS)
    input_shape = validation.check_input_shape(
        input_shape, min_size=MIN_INPUT_SIZE, what=f"DRNSeg({key!r})"
    )
    img_input, input_tensor = validation.make_input(input_tensor, input_shape)
    x, _ = drn_features(img_input, config)
    # segment.py:92-98: N(0, sqrt(2 / classes)) (He fan-out of a 1x1 conv), bias 0.
    x = keras.layers.Conv2D(
        classes, 1, use_bias=True, kernel_initializer=he_fan_out(), name="seg"
    )(x)
    if head == "reference":
        x = BilinearUpsampling(8, name="up")(x)
        x = CropToReference(name="crop")([x, img_input])
    elif head == "bilinear":
        x = ResizeToReference(name="resize")([x, img_input])
    if activation == "softmax":
        x = keras.layers.Softmax(axis=-1, dtype="float32", name="probabilities")(x)
    elif activation == "log_softmax":
        x = keras.layers.Activation(
            "log_softmax", dtype="float32", name="log_probabilities"
        )(x)
    else:
        x = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
    inputs = validation.model_inputs(img_input, input_tensor)
    return keras.Model(inputs, x, name=name or f"{key}_seg")
