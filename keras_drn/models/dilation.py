"""The ICLR 2016 networks (fyu/dilation): the dilated VGG-16 front end and the context
module, faithful to the deploy prototxts (valid padding, ceil-mode pooling) so that the
released caffemodels load.

One deliberate difference: Caffe's models read BGR (cv2.imread); ours take RGB like the
rest of keras_drn, and the weight converter flips conv1_1's input channels.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_drn.models import validation
from keras_drn.models.configs import DILATION_CONFIGS
from keras_drn.models.configs import DilationConfig

# network.py build_frontend_vgg: (channels, convs) per block; pool4/pool5 removed.
VGG_BLOCKS = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
CONTEXT_TYPES = ("basic", "large")
# dilation8_pascal_voc_deploy.prototxt ct_*: outputs as multiples of the classes.
LARGE_MULTIPLIERS = (2, 2, 4, 8, 16, 32, 32, 1)
LARGE_PAD = 33  # on ct_conv1_1 only; every later layer is valid


@keras.saving.register_keras_serializable(package="keras_drn")
class CaffeIdentity(keras.initializers.Initializer):
    """caffe-dilation's "identity" filler (include/caffe/filler.hpp:267-305).

    Fills N(0, std), then for output j and input k in the same group (of `num_groups`
    equal groups on each side) sets the kernel centre to num_groups / out_channels. With
    C -> C and C groups this is the identity plus small noise (paper Sec. 3).
    Keras kernel layout: (kh, kw, in, out).
    """

    def __init__(self, num_groups, std=0.01, seed=None):
        self.num_groups = int(num_groups)
        self.std = float(std)
        self.seed = seed

    def __call__(self, shape, dtype=None):
        kh, kw, fan_in, fan_out = shape
        g = self.num_groups
        if fan_out % g or fan_in % g:
            raise ValueError(
                f"CaffeIdentity: channels ({fan_in} in, {fan_out} out) must be "
                f"multiples of num_groups={g}."
            )
        rng = np.random.default_rng(self.seed)
        w = rng.normal(0.0, self.std, size=shape)
        out_group, in_group = fan_out // g, fan_in // g
        group_of_out = np.arange(fan_out) // out_group
        group_of_in = np.arange(fan_in) // in_group
        same = group_of_in[:, None] == group_of_out[None, :]
        w[kh // 2, kw // 2][same] = g / fan_out
        return keras.ops.convert_to_tensor(w, dtype=dtype or "float32")

    def get_config(self):
        return {"num_groups": self.num_groups, "std": self.std, "seed": self.seed}


def _conv(x, filters, kernel, *, dilation=1, padding="valid", name, init=None):
    kwargs = {}
    if init is not None:
        kwargs["kernel_initializer"] = init
    return keras.layers.Conv2D(
        filters, kernel, dilation_rate=dilation, padding=padding, name=name, **kwargs
    )(x)


def frontend_features(x, *, dropout=0.5, width=1.0):
    """The front end (network.py:73-128) up to fc7: VGG-16 convolutions with no
    padding, 2x2 ceil-mode max pooling after blocks 1-3, conv5 dilated by 2, fc6 a 7x7
    conv dilated by 4, fc7 1x1.

    Args:
        x: the input tensor (RGB, mean subtracted, on 0..255).
        dropout: the rate of the dropout after fc6 and fc7.
        width: multiplies every layer's channels (rounded, at least 1); only 1.0 is
            the published network and has released weights.

    Returns:
        `(features, levels)`: the stride-8 map (4096 channels at width 1) and each
        block's output by name ("block1" ... "block5", "fc6", "fc7").
    """
    def channels(count: int) -> int:
        return max(1, round(count * width))

    levels = {}
    for block, (planes, convs) in enumerate(VGG_BLOCKS, start=1):
        for i in range(1, convs + 1):
            x = _conv(x, channels(planes), 3, dilation=2 if block == 5 else 1,
                      name=f"conv{block}_{i}")
            x = keras.layers.ReLU(name=f"relu{block}_{i}")(x)
        levels[f"block{block}"] = x
        if block <= 3:
            # Caffe rounds pooled sizes up. For a 2x2/2 window that is TF's "same": an
            # odd size gets one padded (ignored) column at the end.
            x = keras.layers.MaxPooling2D(2, 2, padding="same", name=f"pool{block}")(x)
    x = _conv(x, channels(4096), 7, dilation=4, name="fc6")
    x = keras.layers.ReLU(name="relu6")(x)
    levels["fc6"] = x
    x = keras.layers.Dropout(dropout, name="drop6")(x)
    x = _conv(x, channels(4096), 1, name="fc7")
    x = keras.layers.ReLU(name="relu7")(x)
    levels["fc7"] = x
    x = keras.layers.Dropout(dropout, name="drop7")(x)
    return x, levels


def frontend_classifier(x, classes):
    """The front end's 1x1 classifier `final` (named `fc-final` in VOC's prototxt).

    Args:
        x: the fc7 features.
        classes: the number of classes.

    Returns:
        The stride-8 logits.
    """
    return _conv(x, classes, 1, name="final",
                 init=keras.initializers.RandomNormal(stddev=0.001))


def frontend(x, classes, *, dropout=0.5):
    """The whole front end: `frontend_features` and the classifier `final`. Output
    stride 8, and 186 pixels of context lost on each side.

    Args:
        x: the input tensor.
        classes: the number of classes.
        dropout: the rate of the dropout after fc6 and fc7.

    Returns:
        The stride-8 logits.
    """
    x, _ = frontend_features(x, dropout=dropout)
    return frontend_classifier(x, classes)


def context_dilations(layers: int) -> list[int]:
    """Dilations of the basic module's 3x3 layers (network.py:131-192): two at 1, then
    2**(i-1) for i = 2..layers-3, then ctx_fc1 at 1; ctx_final is 1x1."""
    return [1, 1] + [2 ** (i - 1) for i in range(2, layers - 2)] + [1]


def context_module(x, classes, *, layers=8, kind="basic", std=0.01):
    """The context module. Basic: every layer C -> C with padding = dilation, identity
    initialised. Large: the VOC model's widths (multipliers 2,2,4,8,16,32,32,1), one
    33-pixel zero pad before the first layer and no padding afterwards.

    Args:
        x: the front end's logits.
        classes: the number of classes (the basic module's width).
        layers: 7, 8 or 10 (the module's depth).
        kind: "basic" or "large" (8 layers only).
        std: the noise of the identity initialisation (`CaffeIdentity`).

    Returns:
        The context module's logits, at the input's resolution.

    Raises:
        ValueError: a large module of other than 8 layers.
    """
    dilations = context_dilations(layers)
    names = ["ctx_conv1_1", "ctx_conv1_2"] + [
        f"ctx_conv{i}_1" for i in range(2, layers - 2)
    ] + ["ctx_fc1"]
    if kind == "large":
        if layers != 8:
            raise ValueError(
                f"Invalid context layers={layers} for the large context module: "
                f"it is defined for 8 layers (dilation8_pascal_voc)."
            )
        names = [n.replace("ctx_", "ct_") for n in names]
        x = keras.layers.ZeroPadding2D(LARGE_PAD, name="ct_pad")(x)
    for i, (name, dilation) in enumerate(zip(names, dilations)):
        width = classes * (LARGE_MULTIPLIERS[i] if kind == "large" else 1)
        x = _conv(x, width, 3, dilation=dilation,
                  padding="valid" if kind == "large" else "same", name=name,
                  init=CaffeIdentity(classes, std))
        relu = name.replace("conv", "relu") if "conv" in name else f"{name}_relu"
        x = keras.layers.ReLU(name=relu)(x)
    final = "ct_final" if kind == "large" else "ctx_final"
    return _conv(x, classes, 1, name=final, init=CaffeIdentity(classes, std))


def frontend_output_size(size: int, *, context: str | None = "basic") -> int:
    """Output rows (or columns) of the front end for an input of `size` pixels:
    convolutions lose 4, 4, 6, 6, 12 and 24 pixels, pools round up. The basic and large
    context modules keep the size. Equals (size - 372) / 8 for the deploy tiles."""
    s = size - 4
    for loss in (4, 6):
        s = -(-s // 2) - loss
    s = -(-s // 2) - 6 - 12 - 24
    return s


def min_input_size() -> int:
    """The smallest input height (or width) that leaves one output pixel after the
    front end's unpadded convolutions."""
    size = 1
    while frontend_output_size(size) < 1:
        size += 1
    return size


def get_dilation_config(dataset: str, family: str | None = None) -> DilationConfig:
    """The `DILATION_CONFIGS` row of `dataset`.

    Args:
        dataset: "pascal_voc", "camvid", "kitti" or "cityscapes".
        family: "dilation7", "dilation8" or "dilation10" to restrict the choice, or
            None.

    Returns:
        The `DilationConfig` row.

    Raises:
        ValueError: a dataset without a model (of that family).
    """
    choices = [k for k, v in DILATION_CONFIGS.items() if family in (None, v.name)]
    validation.check_choice("dataset", dataset, choices)
    return DILATION_CONFIGS[dataset]


def build_dilation(
    dataset: str,
    *,
    family: str | None = None,
    input_tensor=None,
    input_shape=None,
    classes: int | None = None,
    context: str | None = None,
    include_context: bool = True,
    upsample: bool | None = None,
    classifier_activation=None,
    dropout: float = 0.5,
    width: float = 1.0,
    name: str | None = None,
):
    """Builds a Dilation model (random weights) as a `keras_drn.DilationImageSegmenter`:
    front end, context module, and for Dilation10 the in-network x8 upsampling.

    Args:
        dataset: "pascal_voc", "camvid", "kitti" or "cityscapes" (`DILATION_CONFIGS`).
        family: "dilation7", "dilation8" or "dilation10", checked against the dataset;
            None accepts the dataset's.
        input_tensor: optional Keras tensor to apply the model to.
        input_shape: (height, width, 3); None sizes accept any size of at least
            `min_input_size()`.
        classes: the number of classes.
        context: "basic" or "large".
        include_context: False gives the front end alone (stride-8 logits).
        upsample: the in-network x8 upsampling (Dilation10's).
        classifier_activation: None (logits) or "softmax".
        dropout: the front end's dropout rate (training only).
        width: multiplies the front end's channels (`frontend_features`); 1.0 is the
            published network.
        name: the model's name.

    Arguments left as None take the dataset's values from `DILATION_CONFIGS`.

    Returns:
        A `keras_drn.DilationImageSegmenter` (a plain functional model around it when
        `input_tensor` is given).
    """
    from keras_drn.models.backbone import DilationBackbone
    from keras_drn.models.segmentation import on_input_tensor
    from keras_drn.models.segmenter import DilationImageSegmenter

    config = get_dilation_config(dataset, family)
    classes = config.classes if classes is None else classes
    validation.check_classes(classes)
    context = config.context if context is None else context
    validation.check_choice("context", context, CONTEXT_TYPES)
    upsample = config.upsample if upsample is None else upsample
    validation.check_choice("classifier_activation", classifier_activation,
                            (None, "softmax"))
    input_shape = validation.check_input_shape(
        input_shape, min_size=min_input_size(), what=f"{config.name} (valid padding)"
    )
    if input_tensor is not None and getattr(input_tensor, "shape", None) is not None:
        input_shape = tuple(input_tensor.shape[1:])
    backbone = DilationBackbone(image_shape=input_shape, dropout=dropout, width=width)
    kwargs = {"name": name} if name else {}
    segmenter = DilationImageSegmenter(
        backbone, classes, context=context if include_context else None,
        context_layers=config.context_layers, upsample=upsample,
        activation=classifier_activation, dataset=dataset, **kwargs,
    )
    if input_tensor is not None:
        return on_input_tensor(segmenter, input_tensor)
    return segmenter
