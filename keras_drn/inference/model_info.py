"""What a model says about itself, for the code that runs it.

keras_drn's segmenters (`keras_drn.DRNImageSegmenter`, `keras_drn.DilationImageSegmenter`)
record their family, head, output activation, dataset, class names, input
normalisation and output stride; inference, export and the pictures read those
attributes here instead of guessing from layer names.

Plain Keras models are still accepted where that makes sense (a model saved before
the segmenters existed, a model wrapped by `renormalizing_model`, a test network):
they carry no such record, so the functions below fall back to what their layers show
(documented per function), and to `PLAIN_MODEL_DATASET` for the normalisation.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_drn.meta.normalization import Normalization
from keras_drn.models.walk import has_layer
from keras_drn.models.walk import leaf_layers
from keras_drn.preprocessing import get_normalization

# The normalisation of a plain model when no dataset is given: it records none, and
# Cityscapes is what keras_drn's plain DRNSeg models were trained and tested with.
PLAIN_MODEL_DATASET = "cityscapes"
FAMILIES = ("drn", "dilation")
OUTPUT_KINDS = ("logits", "probabilities", "log_probabilities")
_ACTIVATION_KINDS = {None: "logits", "softmax": "probabilities",
                     "log_softmax": "log_probabilities"}


def segmenter_of(model):
    """`model` if it is one of keras_drn's segmenters, else None."""
    from keras_drn.models.segmenter import is_segmenter

    return model if is_segmenter(model) else None


def model_family(model) -> str:
    """"drn" or "dilation": the segmenter's `family`.

    A plain model is "dilation" when it has the VGG front end's `conv1_1` and `fc6`
    layers (anywhere, nested models included), else "drn".
    """
    segmenter = segmenter_of(model)
    if segmenter is not None:
        return segmenter.family
    names = {layer.name for layer in leaf_layers(model)}
    return "dilation" if {"conv1_1", "fc6"} <= names else "drn"


def output_kind(model) -> str:
    """What the model returns: "logits", "probabilities" or "log_probabilities" (the
    segmenter's `activation`; for a plain model, its last layer's activation)."""
    segmenter = segmenter_of(model)
    if segmenter is not None:
        return _ACTIVATION_KINDS[segmenter.activation]
    last = model.layers[-1]
    if isinstance(last, keras.layers.Softmax):
        return "probabilities"
    activation = getattr(last, "activation", None)
    name = getattr(activation, "__name__", str(activation))
    if name == "softmax":
        return "probabilities"
    if name == "log_softmax":
        return "log_probabilities"
    return "logits"


def dilation_zoom(model) -> int:
    """How much a Dilation model's output is interpolated: the segmenter's `zoom` (1
    with Dilation10's in-network upsampling, else 8). For a plain model: 1 when it has
    a `ctx_upsample` layer, else 8."""
    segmenter = segmenter_of(model)
    if segmenter is not None and segmenter.family == "dilation":
        return int(segmenter.zoom)
    return 1 if has_layer(model, "ctx_upsample") else 8


def model_dataset(model, dataset: str | None = None) -> str | None:
    """The dataset a model's predictions are for.

    Args:
        model: a keras_drn segmenter or a plain Keras model.
        dataset: an explicit dataset name, which wins.

    Returns:
        `dataset` when given; else the segmenter's `dataset` (may be None); for a
        plain model `PLAIN_MODEL_DATASET`.
    """
    if dataset is not None:
        return dataset
    segmenter = segmenter_of(model)
    if segmenter is not None:
        return segmenter.dataset
    return PLAIN_MODEL_DATASET


def model_normalization(model, dataset: str | None = None,
                        family: str | None = None) -> Normalization:
    """The input statistics to feed `model` with.

    Args:
        model: a keras_drn segmenter or a plain Keras model.
        dataset: whose statistics to use instead of the model's own.
        family: "drn" or "dilation" (default: `model_family(model)`), which decides how
            an explicit `dataset` is read (DRN mean/std on 0..1, or the Dilation
            models' mean on 0..255).

    Returns:
        The segmenter's `normalization` when `dataset` is None; else the dataset's.
        A plain model without `dataset` gets `PLAIN_MODEL_DATASET`'s.

    Raises:
        ValueError: an unknown `dataset` for the family.
    """
    family = family or model_family(model)
    segmenter = segmenter_of(model)
    if dataset is None and segmenter is not None:
        return segmenter.normalization
    return get_normalization(dataset or PLAIN_MODEL_DATASET, family)


def model_class_names(model, dataset: str | None = None) -> tuple[str, ...] | None:
    """One name per class of `model`.

    Args:
        model: a keras_drn segmenter or a plain Keras model.
        dataset: another dataset whose names to use (when it has as many classes as
            the model).

    Returns:
        The segmenter's `class_names` unless another `dataset` is given, then that
        dataset's names; None for a plain model without a dataset whose class count
        matches.
    """
    from keras_drn.models.segmenter import default_class_names

    segmenter = segmenter_of(model)
    if segmenter is not None:
        if dataset is None or dataset == segmenter.dataset:
            return tuple(segmenter.class_names)
        return default_class_names(dataset, segmenter.num_classes) or tuple(
            segmenter.class_names)
    classes = int(model.outputs[0].shape[-1])
    return default_class_names(model_dataset(model, dataset), classes)


def normalize_images(images, norm: Normalization) -> np.ndarray:
    """`(x * scale - mean) / std` of RGB images on 0..255 (numpy, float32), the same
    arithmetic as `keras_drn.preprocess_input`.

    Args:
        images: an array of RGB images (channels last), any leading axes.
        norm: the statistics.

    Returns:
        A float32 array of the same shape.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.shape[-1:] != (3,):
        raise ValueError(
            f"Expected channels-last RGB images (last axis 3), received shape {x.shape}."
        )
    mean = np.asarray(norm.mean, dtype=np.float32)
    inv_std = 1.0 / np.asarray(norm.std, dtype=np.float32)
    return (x * np.float32(norm.scale) - mean) * inv_std
