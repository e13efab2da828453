"""The public constructors, with the keras.applications keywords.

Each combines an architecture builder (`keras_drn.models`) with the weights machinery
(`keras_drn.weights`): arguments are checked first, then the model is built, then the
weights are loaded all-or-nothing.
"""

from __future__ import annotations

import inspect

import keras

from keras_drn.models import DRN_CONFIGS
from keras_drn.models import build_dilation
from keras_drn.models import build_drn
from keras_drn.models import build_drnseg
from keras_drn.models.drn import arch_config
from keras_drn.models.drn import normalize_arch
from keras_drn.weights import registry
from keras_drn.weights.resolve import load_resolved
from keras_drn.weights.resolve import resolve_weights


def _check_named_weights(weights, model_key: str, classes: int | None, *,
                         classes_matter: bool, what: str, argument: str = "weights"):
    """Resolves `weights` (`keras_drn.weights.resolve`) and checks that named weights
    fit `classes`."""
    resolved = resolve_weights(weights, model_key, what=what, argument=argument)
    entry = resolved.entry
    if entry is not None and classes_matter and classes is not None and (
            classes != entry.classes):
        raise ValueError(
            f"Invalid classes={classes} for {what} with {argument}={weights!r}: those "
            f"weights have {entry.classes} classes. Pass classes={entry.classes}, or "
            f"weights=None to train a new classifier."
        )
    return resolved


def _load(model, resolved, *, arch, kind, model_key):
    load_resolved(model, resolved, arch=arch, kind=kind, model_key=model_key)


def DRN(
    arch: str,
    include_top: bool = True,
    weights=None,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
    name: str | None = None,
) -> keras.Model:
    """Instantiates any DRN classifier or backbone by name ("drn_c_26", "drn_d_105", ...).

    Args:
        arch: one of `keras_drn.models.DRN_CONFIGS`.
        include_top: whether to include global average pooling and the `fc` classifier.
            Without it the model returns the stride-8 feature map (ceil(H / 8)).
        weights: None (random initialisation as the reference), "imagenet", or a path
            to a reference checkpoint (`.pth`, `.pth.tar`) or Keras weights file.
        input_tensor: optional Keras tensor to use as the model's input.
        input_shape: optional (height, width, 3); None sizes accept any size.
        pooling: with include_top=False, None (4D map), "avg" or "max".
        classes: number of classes of the classifier (1000 for the ImageNet weights).
        classifier_activation: activation of the top layer ("softmax" or None for logits).
        name: the model's name.

    Inputs are RGB, channels last, normalised by `keras_drn.preprocess_input`.

    Returns:
        A `keras.Model`.

    Raises:
        ValueError: an unknown arch, an invalid keyword, or named weights that do not
            fit `classes`.

    Example:
    ```python
    model = keras_drn.DRN("drn_c_26", weights="imagenet")
    probs = model(keras_drn.preprocess_input(images))
    ```
    """
    key = normalize_arch(arch)
    arch_config(key)
    resolved = _check_named_weights(weights, key, classes, classes_matter=include_top,
                                    what=f"{key}(include_top={include_top})")
    model = build_drn(
        key, include_top=include_top, input_tensor=input_tensor, input_shape=input_shape,
        pooling=pooling, classes=classes, classifier_activation=classifier_activation,
        name=name,
    )
    _load(model, resolved, arch=key, kind="classifier", model_key=key)
    return model


def _make_constructor(arch: str):
    """`DRN` with `arch` fixed: the keras.applications-style constructor of one row,
    whose signature is `DRN`'s without `arch`."""
    def constructor(*args, **kwargs) -> keras.Model:
        return DRN(arch, *args, **kwargs)

    signature = inspect.signature(DRN)
    constructor.__signature__ = signature.replace(
        parameters=list(signature.parameters.values())[1:])
    title = arch.upper()
    config = DRN_CONFIGS[arch]
    constructor.__name__ = constructor.__qualname__ = title
    constructor.__doc__ = (
        f"Instantiates {title.replace('_', '-')} ({config.block} blocks, levels "
        f"{list(config.layers)}). See `keras_drn.DRN` for the arguments; named "
        f"weights: {registry.names_for(arch) or 'none released'}."
    )
    return constructor


DRN_A_18 = _make_constructor("drn_a_18")
DRN_A_34 = _make_constructor("drn_a_34")
DRN_A_50 = _make_constructor("drn_a_50")
DRN_B_26 = _make_constructor("drn_b_26")
DRN_C_26 = _make_constructor("drn_c_26")
DRN_C_42 = _make_constructor("drn_c_42")
DRN_C_58 = _make_constructor("drn_c_58")
DRN_D_22 = _make_constructor("drn_d_22")
DRN_D_24 = _make_constructor("drn_d_24")
DRN_D_38 = _make_constructor("drn_d_38")
DRN_D_40 = _make_constructor("drn_d_40")
DRN_D_54 = _make_constructor("drn_d_54")
DRN_D_56 = _make_constructor("drn_d_56")
DRN_D_105 = _make_constructor("drn_d_105")
DRN_D_107 = _make_constructor("drn_d_107")


def DRNSeg(
    arch: str,
    classes: int = 19,
    weights=None,
    backbone_weights=None,
    input_tensor=None,
    input_shape=(None, None, 3),
    head: str = "reference",
    activation=None,
    name: str | None = None,
    dataset: str | None = None,
    class_names=None,
):
    """Instantiates DRNSeg: a DRN backbone, a 1x1 classifier `seg` and x8 upsampling,
    returning per-pixel logits (float32) at the input's height and width.

    Returns a `keras_drn.DRNImageSegmenter` (a keras-hub `ImageSegmenter`) that knows
    its architecture, classes, head and class names, saves to `.keras` files and
    presets, and trains with `compile()` / `fit()`.

    Args:
        arch: the backbone, one of `keras_drn.models.DRN_CONFIGS`.
        classes: number of classes (19 for Cityscapes, 11 for CamVid).
        weights: None, "cityscapes" (the authors' models), a keras-hub preset (a
            directory or a kaggle:// / hf:// handle), or a path to a DRNSeg checkpoint
            (`.pth`/`.pth.tar`, plain or from segment.py's training with its `module.`
            prefix) or a Keras `.weights.h5` / `.keras` file. Files are matched by
            layer name and shape: one of another architecture is refused.
        backbone_weights: for training, None, "imagenet", a classifier checkpoint path
            or a `DRNBackbone` preset, loaded into the backbone (segment.py builds
            DRNSeg on the ImageNet model).
        input_tensor: optional Keras tensor to apply the model to (then a plain
            functional model around the segmenter is returned).
        input_shape: (height, width, 3); None sizes accept any size.
        head: "reference" (frozen bilinear transposed convolution, as segment.py),
            "bilinear" (a plain bilinear resize, the lighter deploy head) or "none"
            (stride-8 logits).
        activation: None (logits), "softmax" or "log_softmax" (the reference's output).
        name: the model's name.
        dataset: what the classes are ("cityscapes", "camvid", ...): the class names
            and input statistics the model reports. Default: the named weights' or the
            preset's dataset, else "cityscapes" for 19 classes.
        class_names: one name per class, overriding the dataset's.

    Example:
    ```python
    segmenter = keras_drn.DRNSeg("drn_d_22", classes=19)
    logits = segmenter(keras_drn.preprocess_input(images, dataset="cityscapes"))
    ```
    """
    key = normalize_arch(arch)
    arch_config(key)
    what = f"DRNSeg({key!r})"
    resolved = _check_named_weights(weights, f"drnseg_{key}", classes,
                                    classes_matter=True, what=what)
    backbone = _check_named_weights(backbone_weights, key, None, classes_matter=False,
                                    what=f"the backbone of {what}",
                                    argument="backbone_weights")
    if not resolved.is_none and not backbone.is_none:
        raise ValueError(
            f"Pass either weights={weights!r} or backbone_weights="
            f"{backbone_weights!r}, not both: weights= loads the whole model."
        )
    source = None
    if resolved.entry is not None and dataset is None:
        dataset = resolved.entry.dataset
    if resolved.kind == "preset":
        # The preset's own model says what its classes are; its weights are copied
        # below by name and shape.
        from keras_drn.presets import load_preset_model

        source = load_preset_model(resolved.location)
        if dataset is None:
            dataset = getattr(source, "dataset", None)
        if class_names is None:
            class_names = getattr(source, "_explicit_class_names", None)
    model = build_drnseg(key, classes, input_shape=input_shape, head=head,
                         activation=activation, dataset=dataset,
                         class_names=class_names, name=name)
    if not backbone.is_none:
        _load_backbone(model, backbone, key)
    if source is not None:
        from keras_drn.weights import transfer_weights

        try:
            transfer_weights(source, model, strict=True)
        except ValueError as error:
            raise ValueError(
                f"Preset {resolved.location} does not fit {what}: {error}") from None
    else:
        _load(model, resolved, arch=key, kind="segmentation",
              model_key=f"drnseg_{key}")
    if input_tensor is not None:
        from keras_drn.models.segmentation import on_input_tensor

        return on_input_tensor(model, input_tensor)
    return model


def _load_backbone(segmenter, resolved, key: str) -> None:
    """ImageNet (or any classifier) weights into the segmenter's backbone."""
    from keras_drn.weights import transfer_weights

    if resolved.kind == "preset":
        from keras_drn.weights.load import load_preset_weights

        load_preset_weights(segmenter.backbone, resolved.location)
        return
    classifier = DRN(key, include_top=True, weights=resolved.argument,
                     input_shape=(None, None, 3))
    transfer_weights(classifier, segmenter.backbone, strict=False)


def _dilation(family: str, dataset: str, weights, input_tensor, input_shape, classes,
              include_context, classifier_activation, name):
    model_key = f"{family}_{dataset}"
    what = f"{family}({dataset!r})"
    resolved = _check_named_weights(weights, model_key, classes, classes_matter=True,
                                    what=what)
    if resolved.kind == "named" and not include_context:
        raise ValueError(
            f"weights={weights!r} holds the front end and the context module; pass "
            f"include_context=True."
        )
    model = build_dilation(
        dataset, family=family, input_shape=input_shape,
        classes=classes, include_context=include_context,
        classifier_activation=classifier_activation, name=name,
    )
    _load(model, resolved, arch=model_key, kind="caffe", model_key=model_key)
    if input_tensor is not None:
        from keras_drn.models.segmentation import on_input_tensor

        return on_input_tensor(model, input_tensor)
    return model


_DILATION_ARGUMENTS = """
    Args:
        dataset: whose model: {datasets}. It sets the classes, the mean
            and the context module.
        weights: None (Caffe's initialisation), {named}, or a path to a
            `.caffemodel` (converted on load) or Keras weights file.
        input_tensor: optional Keras tensor to apply the model to (then a plain
            functional model around the segmenter is returned).
        input_shape: (height, width, 3); None sizes accept any size of at least
            `keras_drn.models.dilation.min_input_size()` (the convolutions are
            unpadded: 186 pixels of context are lost on each side).
        classes: the number of classes; None for the dataset's.
        include_context: False gives the front end alone (its stride-8 logits).
        classifier_activation: None (logits) or "softmax".
        name: the model's name.

    Returns:
        A `keras_drn.DilationImageSegmenter`.

    Example:
    ```python
    model = keras_drn.{function}({dataset}, weights={dataset})
    x = keras_drn.preprocess_input(images, dataset={dataset}, model="dilation")
    ```
"""


def _dilation_arguments(datasets: str, named: str):
    """Appends the arguments the three Dilation constructors share to a docstring."""
    def decorate(function):
        dataset = f'"{function.__defaults__[0]}"'
        function.__doc__ = (function.__doc__ or "").rstrip() + "\n" + (
            _DILATION_ARGUMENTS.format(datasets=datasets, named=named,
                                       function=function.__name__, dataset=dataset)
            + "    ")
        return function
    return decorate


@_dilation_arguments('"kitti"', '"kitti"')
def Dilation7(dataset="kitti", weights=None, input_tensor=None, input_shape=None,
              classes=None, include_context=True, classifier_activation=None, name=None):
    """The KITTI model of Yu & Koltun (ICLR 2016): the dilated VGG-16 front end and a
    7-layer basic context module (dilations 1,1,2,4,8,1,1). Output at stride 8
    (predict.py zooms by 8). Inputs: RGB,
    `preprocess_input(x, dataset="kitti", model="dilation")`."""
    return _dilation("dilation7", dataset, weights, input_tensor, input_shape, classes,
                     include_context, classifier_activation, name)


@_dilation_arguments('"camvid" or "pascal_voc"', "the dataset's name")
def Dilation8(dataset="camvid", weights=None, input_tensor=None, input_shape=None,
              classes=None, include_context=True, classifier_activation=None, name=None):
    """The CamVid and PASCAL VOC models: the front end and an 8-layer context module
    (dilations 1,1,2,4,8,16,1,1), basic for "camvid", large for "pascal_voc". Output
    at stride 8."""
    return _dilation("dilation8", dataset, weights, input_tensor, input_shape, classes,
                     include_context, classifier_activation, name)


@_dilation_arguments('"cityscapes"', '"cityscapes"')
def Dilation10(dataset="cityscapes", weights=None, input_tensor=None, input_shape=None,
               classes=None, include_context=True, classifier_activation=None,
               name=None):
    """The Cityscapes model: the front end, a 10-layer context module (dilations
    1,1,2,4,8,16,32,64,1,1) and the in-network x8 bilinear upsampling `ctx_upsample`.
    """
    return _dilation("dilation10", dataset, weights, input_tensor, input_shape, classes,
                     include_context, classifier_activation, name)
