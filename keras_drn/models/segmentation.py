"""DRNSeg (fyu/drn segment.py:81-119) and the Dilation models as builders that return
keras_drn's keras-hub segmenters (`keras_drn.models.segmenter`)."""

from __future__ import annotations

import keras

from keras_drn.layers import ResizeToReference  # noqa: F401  (re-exported)
from keras_drn.models import validation
from keras_drn.models.backbone import DRNBackbone
from keras_drn.models.backbone import resolve_backbone_arch
from keras_drn.models.configs import DRNConfig
from keras_drn.models.drn import MIN_INPUT_SIZE
from keras_drn.models.segmenter import ACTIVATIONS
from keras_drn.models.segmenter import HEADS
from keras_drn.models.segmenter import DRNImageSegmenter

__all__ = ["ACTIVATIONS", "HEADS", "build_drnseg", "on_input_tensor"]


def on_input_tensor(model: keras.Model, input_tensor) -> keras.Model:
    """`model` applied to `input_tensor` (keras.applications' `input_tensor=`), as a
    functional model from that tensor's sources.

    Args:
        model: the built model.
        input_tensor: a Keras tensor (or a backend tensor, wrapped in an Input).

    Returns:
        A `keras.Model` named as `model`.
    """
    tensor, source = validation.make_input(input_tensor, model.input.shape[1:])
    outputs = model(tensor)
    return keras.Model(validation.model_inputs(tensor, source), outputs,
                       name=model.name)


def build_drnseg(
    arch: str | DRNConfig,
    classes: int,
    *,
    input_tensor=None,
    input_shape=None,
    head: str = "reference",
    activation=None,
    width: float = 1.0,
    dataset: str | None = None,
    class_names=None,
    name: str | None = None,
) -> DRNImageSegmenter:
    """Builds DRNSeg with random weights as a `keras_drn.DRNImageSegmenter`.

    `arch` is a table name or a `DRNConfig` row. Layer names: the backbone's as in the
    classifier (so ImageNet weights transfer by name), `seg` for the classifier, `up`
    for the reference upsampling. `dataset` defaults to "cityscapes" for 19 classes
    (the class names and statistics the model then reports). The output is float32
    even under a mixed-precision policy. With `input_tensor`, the segmenter is applied
    to it and a plain functional model is returned.

    Args:
        arch: the backbone, a name of `DRN_CONFIGS` or a `DRNConfig` row.
        classes: the number of classes.
        input_tensor: optional Keras tensor to apply the segmenter to.
        input_shape: (height, width, 3); None sizes accept any size.
        head: one of `HEADS`.
        activation: one of `ACTIVATIONS`.
        width: multiplies the backbone's channels (`DRNBackbone`).
        dataset: what the classes are; see above.
        class_names: one name per class, overriding the dataset's.
        name: the model's name.

    Returns:
        A `keras_drn.DRNImageSegmenter`, or a functional model with `input_tensor`.

    Raises:
        ValueError: an invalid argument, named.

    Example:
    ```python
    segmenter = build_drnseg("drn_d_22", 19, head="bilinear")
    logits = segmenter(np.zeros((1, 64, 96, 3), "float32"))  # (1, 64, 96, 19)
    ```
    """
    key, _ = resolve_backbone_arch(arch, width)
    validation.check_classes(classes)
    validation.check_choice("head", head, HEADS)
    validation.check_choice("activation", activation, ACTIVATIONS)
    shape = validation.check_input_shape(
        input_shape, min_size=MIN_INPUT_SIZE, what=f"DRNSeg({key!r})"
    )
    if input_tensor is not None and getattr(input_tensor, "shape", None) is not None:
        shape = tuple(input_tensor.shape[1:])
    if dataset is None:
        dataset = "cityscapes" if classes == 19 else None
    backbone = DRNBackbone(arch, width=width, image_shape=shape)
    kwargs = {"name": name} if name else {}
    segmenter = DRNImageSegmenter(backbone, classes, head=head, activation=activation,
                                  dataset=dataset, class_names=class_names, **kwargs)
    if input_tensor is not None:
        return on_input_tensor(segmenter, input_tensor)
    return segmenter
