"""Models for training: DRNSeg / DRN classifiers at any width, synchronised BN.

`width` scales every level's channels (fyu/drn's DRN_CHANNELS) for quick experiments
and tests; width 1 is exactly `keras_drn.models.build_drnseg`. The narrow models share
the layer names of the full ones and are not in `DRN_CONFIGS` (no released weights).
`build_segmenter` returns a `keras_drn.DRNImageSegmenter` (the backbone nested as one
layer), so the trained model saves to a keras-hub preset that records its width.
"""

from __future__ import annotations

import keras

from keras_drn.layers.sync import synchronized_batchnorm
from keras_drn.models import build_drn
from keras_drn.models import build_drnseg
from keras_drn.models.configs import MIN_LEVEL2_CHANNELS
from keras_drn.models.drn import arch_config
from keras_drn.models.drn import normalize_arch
from keras_drn.models.segmenter import is_segmenter
from keras_drn.models.walk import leaf_layers
from keras_drn.training.errors import ParameterError
from keras_drn.training.precision import mixed_precision_policy


def scaled_config(arch: str, width: float = 1.0):
    """The `DRN_CONFIGS` row of `arch` with every level's channels times `width`."""
    config = arch_config(arch).scaled(width)
    channels = config.channels
    if width != 1.0 and channels[1] < MIN_LEVEL2_CHANNELS:
        raise ParameterError(
            f"Invalid width={width}: it gives level 2 only {channels[1]} channels; use "
            f"a width of at least {MIN_LEVEL2_CHANNELS / arch_config(arch).channels[1]:g} "
            f"(TensorFlow's oneDNN kernels crash on narrower strided projections).",
            "width")
    return config


def segmenter_name(arch: str, width: float = 1.0) -> str:
    """The name `build_segmenter` gives: "drn_d_22_seg", "drn_d_22_w0.5_seg"."""
    key = normalize_arch(arch)
    return f"{key}_seg" if width == 1.0 else f"{key}_w{width:g}_seg"


def build_segmenter(arch: str, classes: int, *, width: float = 1.0,
                    head: str = "reference", input_shape=(None, None, 3),
                    dataset: str | None = None, class_names=None):
    """DRNSeg (segment.py:81-119) returning float32 logits at the input's size.

    Args:
        arch: a name of `keras_drn.models.DRN_CONFIGS`.
        classes: number of classes.
        width: channel multiplier of the backbone (1: the papers' models).
        head: "reference", "bilinear" or "none" (see `keras_drn.DRNImageSegmenter`).
        input_shape: (height, width, 3); None sizes accept any size.
        dataset: what the classes are ("cityscapes", "camvid", ...; None: Cityscapes
            for 19 classes), for the class names and statistics the model reports.
        class_names: one name per class, overriding the dataset's.

    Returns:
        A `keras_drn.DRNImageSegmenter`.
    """
    key = normalize_arch(arch)
    if width != 1.0:
        scaled_config(key, width)  # the width check, with this module's message
    return build_drnseg(key, classes, input_shape=input_shape, head=head, width=width,
                        dataset=dataset, class_names=class_names,
                        name=segmenter_name(key, width))


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


def rebuild_segmenter(model, *, synchronized: bool = False, dtype: str | None = None,
                      copy_weights: bool = True):
    """A new keras_drn segmenter from `model.get_config()`, with `model`'s weights.

    Args:
        model: a `DRNImageSegmenter` or `DilationImageSegmenter`.
        synchronized: build the BatchNormalization layers (the nested backbone's
            included) with `synchronized=True`.
        dtype: a dtype policy ("float32", "mixed_float16", ...) for the copy (the
            backbone and the head); None keeps `model`'s.
        copy_weights: whether to copy `model`'s weights into the copy.

    Raises:
        ValueError: `model` is not a keras_drn segmenter.
    """
    if not is_segmenter(model):
        raise ValueError(
            f"Invalid model={model.name!r}: rebuild_segmenter expects a "
            f"keras_drn.DRNImageSegmenter or DilationImageSegmenter, received "
            f"{type(model).__name__}."
        )
    config = model.get_config()
    if dtype is not None:
        backbone = dict(config["backbone"])
        backbone["config"] = dict(backbone["config"], dtype=dtype)
        config["backbone"] = backbone
    # The head's layers take the global policy.
    with mixed_precision_policy(dtype), synchronized_batchnorm(synchronized):
        copy = model.__class__.from_config(config)
    if copy_weights:
        copy.set_weights(model.get_weights())
    return copy


def with_synchronized_batchnorm(model: keras.Model) -> keras.Model:
    """A copy of `model` whose BatchNormalization layers compute their batch statistics
    over all replicas (the reference's `--bn-sync`, lib/modules/batchnormsync.py), with
    the same weights. Outside a distribution strategy it behaves as plain BN.

    keras_drn's segmenters are rebuilt from their config inside
    `keras_drn.layers.sync.synchronized_batchnorm()`, so the nested backbone's
    BatchNormalization layers are synchronised too; other functional models are
    cloned (nested models included) with `synchronized=True` set on each
    BatchNormalization.

    Raises:
        ValueError: a BatchNormalization layer of the copy is still unsynchronised
            (a model built by code that does not read the synchronisation scope).
    """
    if is_segmenter(model):
        synced = rebuild_segmenter(model, synchronized=True, copy_weights=False)
    else:
        def clone(layer):
            config = layer.get_config()
            if isinstance(layer, keras.layers.BatchNormalization):
                config["synchronized"] = True
            return layer.__class__.from_config(config)

        synced = keras.models.clone_model(model, clone_function=clone, recursive=True)
    plain = [layer.name for layer in leaf_layers(synced)
             if isinstance(layer, keras.layers.BatchNormalization)
             and not layer.synchronized]
    if plain:
        raise ValueError(
            f"with_synchronized_batchnorm({model.name}): {len(plain)} BatchNormalization "
            f"layers are not synchronised ({', '.join(plain[:5])}). Build the model's "
            f"BatchNormalization layers with keras_drn.layers.batch_norm, which reads "
            f"keras_drn.layers.sync.synchronized_batchnorm()."
        )
    synced.set_weights(model.get_weights())
    return synced


def final_logits_float32(model: keras.Model) -> bool:
    """Whether `model`'s output is float32 (the logits under mixed precision)."""
    return model.outputs[0].dtype == "float32"
