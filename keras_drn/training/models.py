"""Models for training: DRNSeg / DRN classifiers at any width, synchronised BN.

`width` scales every level's channels (fyu/drn's DRN_CHANNELS) for quick experiments
and tests; width 1 is exactly `keras_drn.models.build_drnseg`. The narrow models share
the layer names of the full ones and are not in `DRN_CONFIGS` (no released weights).
"""

from __future__ import annotations

import keras

from keras_drn.models import build_drn
from keras_drn.models import build_drnseg
from keras_drn.models.configs import MIN_LEVEL2_CHANNELS
from keras_drn.models.drn import get_config
from keras_drn.models.drn import normalize_arch


def scaled_config(arch: str, width: float = 1.0):
    """The `DRN_CONFIGS` row of `arch` with every level's channels times `width`."""
    config = get_config(arch).scaled(width)
    channels = config.channels
    if width != 1.0 and channels[1] < MIN_LEVEL2_CHANNELS:
        raise ValueError(
            f"width={width} gives level 2 only {channels[1]} channels; use a width of "
            f"at least {MIN_LEVEL2_CHANNELS / config.channels[1]:g} (TensorFlow's oneDNN "
            f"kernels crash on narrower strided projections)."
        )
    return config


def build_segmenter(arch: str, classes: int, *, width: float = 1.0,
                    head: str = "reference", input_shape=(None, None, 3)) -> keras.Model:
    """DRNSeg (segment.py:81-119) returning float32 logits at the input's size."""
    key = normalize_arch(arch)
    if width == 1.0:
        return build_drnseg(key, classes, input_shape=input_shape, head=head)
    return build_drnseg(scaled_config(key, width), classes, input_shape=input_shape,
                        head=head, name=f"{key}_w{width:g}_seg")


def build_classifier(arch: str, classes: int = 1000, *, width: float = 1.0,
                     input_shape=(None, None, 3)) -> keras.Model:
    """A DRN classifier (drn.py) returning float32 logits (also under a mixed
    precision policy, so the loss and softmax run in float32)."""
    key = normalize_arch(arch)
    config = key if width == 1.0 else scaled_config(key, width)
    model = build_drn(config, classes=classes, input_shape=input_shape,
                      classifier_activation=None)
    outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(
        model.output)
    name = key if width == 1.0 else f"{key}_w{width:g}"
    return keras.Model(model.input, outputs, name=name)


def with_synchronized_batchnorm(model: keras.Model) -> keras.Model:
    """A copy of `model` whose BatchNormalization layers compute their batch statistics
    over all replicas (the reference's `--bn-sync`, lib/modules/batchnormsync.py), with
    the same weights. Outside a distribution strategy it behaves as plain BN."""

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, keras.layers.BatchNormalization):
            config["synchronized"] = True
        return layer.__class__.from_config(config)

    synced = keras.models.clone_model(model, clone_function=clone)
    synced.set_weights(model.get_weights())
    return synced


def final_logits_float32(model: keras.Model) -> bool:
    return model.outputs[0].dtype == "float32"
