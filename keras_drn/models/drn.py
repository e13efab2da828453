"""The DRN builder: one function reads a row of `DRN_CONFIGS` and builds the network.

Geometry and names follow fyu/drn drn.py (see the comments on each level); Keras layer
names are the reference's module paths with "." replaced by "_".
"""

from __future__ import annotations

import math

import keras

from keras_drn.layers import basic_block
from keras_drn.layers import batch_norm
from keras_drn.layers import bottleneck_block
from keras_drn.layers import conv2d
from keras_drn.layers import conv_bn_relu
from keras_drn.layers import he_fan_out
from keras_drn.models import validation
from keras_drn.models.configs import DRN_CONFIGS
from keras_drn.models.configs import DRNConfig

# The network downsamples by 8; a smaller input has no complete output cell.
MIN_INPUT_SIZE = 8


def arch_config(arch: str) -> DRNConfig:
    """The `DRN_CONFIGS` row of a DRN architecture.

    Args:
        arch: its name: "drn_c_26", also "DRN-C-26" or "drn-c-26".

    Returns:
        The `DRNConfig` row.

    Raises:
        ValueError: an unknown name; the message lists the known ones.

    Example:
    ```python
    arch_config("drn_d_22").channels  # (16, 32, 64, 128, 256, 512, 512, 512)
    ```
    """
    key = normalize_arch(arch)
    if key not in DRN_CONFIGS:
        raise ValueError(
            f"Unknown arch={arch!r}. Expected one of: {', '.join(DRN_CONFIGS)}."
        )
    return DRN_CONFIGS[key]


def resolve_arch(arch) -> tuple[str, DRNConfig]:
    """(name, row) for a table name such as "drn_d_22", or for a `DRNConfig` row
    (named "drn_custom").

    Raises:
        ValueError: an unknown name.
    """
    if isinstance(arch, DRNConfig):
        return "drn_custom", arch
    key = normalize_arch(arch)
    return key, arch_config(key)


def normalize_arch(arch) -> str:
    """An architecture name in the table's spelling ("DRN-C-26" -> "drn_c_26").

    Raises:
        ValueError: `arch` is not a string.
    """
    if not isinstance(arch, str):
        raise ValueError(
            f"Invalid arch={arch!r}: expected a name such as 'drn_d_22'. "
            f"Known: {', '.join(DRN_CONFIGS)}."
        )
    return arch.strip().lower().replace("-", "_")


def _block_fn(block: str):
    return bottleneck_block if block == "bottleneck" else basic_block


def _make_layer(
    x, config, block, planes, blocks, *, stride=1, dilation=1, new_level=True,
    residual=True, name,
):
    """drn.py `DRN._make_layer` (177-199).

    The first block gets (1, 1) when undilated, otherwise (dilation // 2 if new_level
    else dilation, dilation); every call with dilation > 1 passes new_level=False.
    """
    expansion = 4 if block == "bottleneck" else 1
    project = stride != 1 or x.shape[-1] != planes * expansion
    first = (1, 1) if dilation == 1 else (
        dilation // 2 if new_level else dilation, dilation
    )
    fn = _block_fn(block)
    x = fn(x, planes, strides=stride, dilation=first, residual=residual,
           project=project, name=f"{name}_0")
    for i in range(1, blocks):
        x = fn(x, planes, dilation=(dilation, dilation), residual=residual,
               name=f"{name}_{i}")
    return x


def _make_layer_a(x, block, planes, blocks, *, stride=1, dilation=1, name):
    """drn.py `DRN_A._make_layer` (297-313): the first block is never dilated."""
    expansion = 4 if block == "bottleneck" else 1
    project = stride != 1 or x.shape[-1] != planes * expansion
    fn = _block_fn(block)
    x = fn(x, planes, strides=stride, project=project, name=f"{name}_0")
    for i in range(1, blocks):
        x = fn(x, planes, dilation=(dilation, dilation), name=f"{name}_{i}")
    return x


def drn_features(x, config: DRNConfig):
    """Applies the backbone of `config` to `x`.

    Args:
        x: the input tensor (normalised RGB, NHWC).
        config: the `DRNConfig` row.

    Returns:
        `(features, levels)`: the stride-8 map and the output of each level present,
        from level 1 on.
    """
    if config.arch == "A":
        return _drn_a_features(x, config)
    ch, layers, levels = config.channels, config.layers, []
    if config.arch in ("B", "C"):
        # drn.py:121-129: stride-1 7x7 stem, then BasicBlock levels 1-2 (whatever the
        # block type of the deeper levels).
        x = conv2d(x, ch[0], 7, name="conv1")
        x = batch_norm(x, "bn1")
        x = keras.layers.ReLU(name="relu")(x)
        x = _make_layer(x, config, "basic", ch[0], layers[0], name="layer1")
        levels.append(x)
        x = _make_layer(x, config, "basic", ch[1], layers[1], stride=2, name="layer2")
        levels.append(x)
    else:
        # drn.py:131-141: `layer0` = Sequential(conv 7x7, BN, ReLU); levels 1-2 plain
        # conv-BN-ReLU.
        x = conv2d(x, ch[0], 7, name="layer0_0")
        x = batch_norm(x, "layer0_1")
        x = keras.layers.ReLU(name="layer0_2")(x)
        x = conv_bn_relu(x, ch[0], layers[0], name="layer1")
        levels.append(x)
        x = conv_bn_relu(x, ch[1], layers[1], strides=2, name="layer2")
        levels.append(x)
    block = config.block
    x = _make_layer(x, config, block, ch[2], layers[2], stride=2, name="layer3")
    levels.append(x)
    x = _make_layer(x, config, block, ch[3], layers[3], stride=2, name="layer4")
    levels.append(x)
    x = _make_layer(x, config, block, ch[4], layers[4], dilation=2, new_level=False,
                    name="layer5")
    levels.append(x)
    if layers[5]:
        x = _make_layer(x, config, block, ch[5], layers[5], dilation=4,
                        new_level=False, name="layer6")
        levels.append(x)
    # Levels 7-8 remove gridding (paper Sec. 4.2): dilation 2 then 1. C drops their
    # residual connections (drn.py:153-158); B, the paper's intermediate, keeps them;
    # D uses plain conv-BN-ReLU (drn.py:160-162).
    for level, dilation in ((7, 2), (8, 1)):
        count = layers[level - 1]
        if not count:
            continue
        if config.arch == "D":
            x = conv_bn_relu(x, ch[level - 1], count, dilation=dilation,
                             name=f"layer{level}")
        else:
            x = _make_layer(x, config, "basic", ch[level - 1], count,
                            dilation=dilation, new_level=False,
                            residual=config.arch == "B", name=f"layer{level}")
        levels.append(x)
    return x, levels


def _drn_a_features(x, config):
    """drn.py DRN_A (262-330): a ResNet whose levels 3-4 dilate by 2 and 4."""
    x = conv2d(x, 64, 7, strides=2, name="conv1")
    x = batch_norm(x, "bn1")
    x = keras.layers.ReLU(name="relu")(x)
    # MaxPool2d(3, 2, padding=1) pads with -inf; after the ReLU every value is >= 0, so
    # zero padding selects the same maxima.
    x = keras.layers.ZeroPadding2D(1, name="maxpool_pad")(x)
    x = keras.layers.MaxPooling2D(3, strides=2, name="maxpool")(x)
    levels = []
    block, layers = config.block, config.layers
    x = _make_layer_a(x, block, 64, layers[0], name="layer1")
    levels.append(x)
    x = _make_layer_a(x, block, 128, layers[1], stride=2, name="layer2")
    levels.append(x)
    x = _make_layer_a(x, block, 256, layers[2], dilation=2, name="layer3")
    levels.append(x)
    x = _make_layer_a(x, block, 512, layers[3], dilation=4, name="layer4")
    levels.append(x)
    return x, levels


def classifier_head(x, config: DRNConfig, classes: int, activation):
    """Global average pooling and the `fc` classifier.

    The reference averages a 28x28 window at 224 (AvgPool2d(28)), which at 224 is the
    global average; global pooling also accepts other sizes. C/D use a 1x1 conv `fc`
    (He fan-out init, drn.py:169-175), A a Linear (PyTorch's default init); after the
    pooling both are the same affine map, so both are a Dense here.

    Args:
        x: the stride-8 feature map.
        config: the `DRNConfig` row (its `arch` picks the initialisation).
        classes: the number of classes.
        activation: the last layer's activation ("softmax"), or None for logits.

    Returns:
        The (batch, classes) output tensor.
    """
    x = keras.layers.GlobalAveragePooling2D(name="avgpool")(x)
    fan_in = x.shape[-1]
    bound = 1.0 / math.sqrt(fan_in)  # PyTorch's default bias (and Linear) init
    uniform = keras.initializers.RandomUniform(-bound, bound)
    kernel_init = uniform if config.arch == "A" else he_fan_out()
    x = keras.layers.Dense(
        classes, kernel_initializer=kernel_init, bias_initializer=uniform, name="fc"
    )(x)
    if activation is not None:
        x = keras.layers.Activation(activation, dtype="float32", name="predictions")(x)
    return x


def build_drn(
    arch: str | DRNConfig,
    *,
    include_top: bool = True,
    input_tensor=None,
    input_shape=None,
    pooling=None,
    classes: int = 1000,
    classifier_activation="softmax",
    name: str | None = None,
) -> keras.Model:
    """Builds a DRN classifier or backbone (random weights) with the keras.applications
    keywords. `include_top=False` returns the stride-8 map (or its pooled vector).

    Args:
        arch: a name of `DRN_CONFIGS` or a `DRNConfig` row.
        include_top: whether to add global average pooling and the classifier `fc`.
        input_tensor: optional Keras tensor to build the model on.
        input_shape: (height, width, 3); None sizes accept any size.
        pooling: with include_top=False: None (the map), "avg" or "max".
        classes: the classifier's classes.
        classifier_activation: the classifier's activation, None for logits.
        name: the model's name (default: the architecture's).

    Returns:
        A `keras.Model`. Weights are `keras_drn.DRN`'s business.

    Raises:
        ValueError: an invalid argument, named.
    """
    key, config = resolve_arch(arch)
    if not isinstance(include_top, bool):
        raise ValueError(f"Invalid include_top={include_top!r}: expected True or False.")
    validation.check_classes(classes)
    validation.check_pooling(pooling)
    input_shape = validation.check_input_shape(
        input_shape, min_size=MIN_INPUT_SIZE, what=key
    )
    img_input, input_tensor = validation.make_input(input_tensor, input_shape)
    x, _ = drn_features(img_input, config)
    if include_top:
        x = classifier_head(x, config, classes, classifier_activation)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    inputs = validation.model_inputs(img_input, input_tensor)
    return keras.Model(inputs, x, name=name or key)


def level_output_names(arch: str) -> list[str]:
    """Names of the layers whose outputs are the levels' outputs (the reference's
    `out_middle` list `y`), from level 1 to the last. Useful with
    `keras.Model(model.input, [model.get_layer(n).output for n in names])`.

    Args:
        arch: a name of `DRN_CONFIGS`.

    Returns:
        The layer names, one per level present.
    """
    config = arch_config(arch)
    names = []
    if config.arch == "A":
        for i, n in enumerate(config.layers, start=1):
            names.append(f"layer{i}_{n - 1}_relu")
        return names
    for level, count in enumerate(config.layers, start=1):
        if not count:
            continue
        plain = config.arch == "D" and level in (1, 2, 7, 8)
        names.append(
            f"layer{level}_{3 * count - 1}" if plain else f"layer{level}_{count - 1}_relu"
        )
    return names
