"""keras-hub backbones: the DRN feature extractor and the ICLR 2016 front end.

`DRNBackbone` maps RGB images (normalised, channels last) to the stride-8 feature map of
a DRN; every level's output is in `pyramid_outputs`, as keras-hub backbones expose
their feature pyramids. `DilationBackbone` is the dilated VGG-16 front end up to fc7.
Both are `keras_hub.models.Backbone`s: they save to and load from presets, and
`get_config` rebuilds the same network.
"""

from __future__ import annotations

import dataclasses

import keras
import keras_hub

try:  # keras-hub's own (private) helper, as its models use it
    from keras_hub.src.utils.python_utils import classproperty
except ImportError:  # pragma: no cover  (a keras-hub that moved it)
    class classproperty(property):  # noqa: N801
        def __get__(self, _, owner_cls):
            return self.fget(owner_cls)

from keras_drn.models import validation
from keras_drn.models.configs import DRN_CONFIGS
from keras_drn.models.configs import MIN_LEVEL2_CHANNELS
from keras_drn.models.configs import DRNConfig
from keras_drn.models.dilation import frontend_features
from keras_drn.models.dilation import min_input_size
from keras_drn.models.drn import MIN_INPUT_SIZE
from keras_drn.models.drn import drn_features
from keras_drn.models.drn import normalize_arch


def _config_to_dict(config: DRNConfig) -> dict:
    row = dataclasses.asdict(config)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in row.items()}


def resolve_backbone_arch(arch, width: float = 1.0) -> tuple[str, DRNConfig]:
    """(name, row) for `arch`: a table name ("drn_d_22"), a `DRNConfig` row, or the
    row as a dict (what `get_config` stores for a custom row); scaled by `width`.

    Raises:
        ValueError: an unknown name, or a width that leaves level 2 too narrow.
    """
    if isinstance(arch, dict):
        arch = DRNConfig(**{k: tuple(v) if isinstance(v, list) else v
                            for k, v in arch.items()})
    if isinstance(arch, DRNConfig):
        key, config = "drn_custom", arch
    else:
        key = normalize_arch(arch)
        if key not in DRN_CONFIGS:
            raise ValueError(
                f"Unknown arch={arch!r}. Expected one of: {', '.join(DRN_CONFIGS)}, or "
                f"a keras_drn.models.DRNConfig row."
            )
        config = DRN_CONFIGS[key]
    if width != 1.0:
        scaled = config.scaled(width)
        if scaled.channels[1] < MIN_LEVEL2_CHANNELS:
            raise ValueError(
                f"Invalid width={width}: level 2 would have only {scaled.channels[1]} "
                f"channels; use a width of at least "
                f"{MIN_LEVEL2_CHANNELS / config.channels[1]:g} (TensorFlow's oneDNN "
                f"kernels crash on narrower strided projections)."
            )
        config = scaled
    return key, config


class _NamedPresets:
    """keras_drn's named presets ("drn_d_22_cityscapes", ...) for `from_preset`:
    built from the authors' files on first use (`keras_drn.presets`)."""

    @classproperty
    def presets(cls):
        from keras_drn.presets import presets_for

        return presets_for(cls.__name__)

    @classmethod
    def from_preset(cls, preset, load_weights=True, **kwargs):
        """Instantiates the model from a preset: one of `cls.presets` (built from the
        authors' weights on first use), a preset directory, or a kaggle:// / hf://
        handle. See `keras_hub.models.Backbone.from_preset` and
        `keras_hub.models.Task.from_preset` for the other arguments."""
        from keras_drn.presets import local_preset

        return super().from_preset(local_preset(preset), load_weights=load_weights,
                                   **kwargs)


@keras.saving.register_keras_serializable(package="keras_drn")
class DRNBackbone(_NamedPresets, keras_hub.models.Backbone):
    """A Dilated Residual Network without its classifier (Yu, Koltun & Funkhouser,
    CVPR 2017; fyu/drn drn.py).

    The output is the stride-8 feature map, `ceil(H / 8) x ceil(W / 8)` with
    `config.out_channels` channels. `pyramid_outputs` maps "level1" ... "level8"
    ("level1" ... "level4" for DRN-A) to each level's output: strides 1, 2, 4 and then
    8 for every dilated level.

    Args:
        arch: a name of `keras_drn.models.DRN_CONFIGS` ("drn_d_22", "drn_c_26", ...) or a
            `keras_drn.models.DRNConfig` row for a variant of your own.
        width: multiplies every level's channels (B, C and D networks); only 1.0 has
            released weights.
        image_shape: (height, width, 3); None sizes accept any size.
        **kwargs: `name`, `dtype`, `trainable`, as for any keras-hub backbone.

    Example:
    ```python
    backbone = keras_drn.DRNBackbone("drn_d_22")
    features = backbone(np.zeros((1, 64, 96, 3), "float32"))  # (1, 8, 12, 512)
    levels = keras.Model(backbone.input, backbone.pyramid_outputs)
    ```
    """

    def __init__(self, arch="drn_d_22", width=1.0, image_shape=(None, None, 3),
                 **kwargs):
        key, config = resolve_backbone_arch(arch, width)
        shape = validation.check_input_shape(
            image_shape, min_size=MIN_INPUT_SIZE, what=f"DRNBackbone({key!r})"
        )
        # === Functional model ===
        inputs = keras.Input(shape=shape, name="image")
        x, levels = drn_features(inputs, config)
        kwargs.setdefault("name", key if width == 1.0 else f"{key}_w{width:g}")
        super().__init__(inputs=inputs, outputs=x, **kwargs)
        # === Config ===
        self.arch = arch if isinstance(arch, str) else resolve_backbone_arch(arch)[1]
        self.arch_name = key
        self.drn_config = config
        self.width = float(width)
        self.image_shape = shape
        self.pyramid_outputs = {f"level{i}": t for i, t in enumerate(levels, start=1)}

    @property
    def out_channels(self) -> int:
        """Channels of the stride-8 feature map."""
        return self.drn_config.out_channels

    def get_config(self):
        config = super().get_config()
        config.update({
            "arch": self.arch if isinstance(self.arch, str)
            else _config_to_dict(self.arch),
            "width": self.width,
            "image_shape": list(self.image_shape),
        })
        return config


@keras.saving.register_keras_serializable(package="keras_drn")
class DilationBackbone(_NamedPresets, keras_hub.models.Backbone):
    """The dilated VGG-16 front end of Yu & Koltun (ICLR 2016; fyu/dilation
    network.py build_frontend_vgg) up to fc7: valid padding, ceil-mode pooling after the
    first three blocks, conv5 dilated by 2, fc6 a 7x7 convolution dilated by 4.

    The output has 4096 channels (times `width`) at stride 8 and loses 186 pixels on
    each side
    (`keras_drn.models.dilation.frontend_output_size`). Inputs are RGB with the
    dataset's mean subtracted, on 0..255.

    Args:
        image_shape: (height, width, 3); None sizes accept any size of at least the
            front end's minimum.
        dropout: rate of the dropout after fc6 and fc7 (training only).
        width: multiplies every layer's channels (fc6 and fc7 have `4096 * width`);
            only 1.0 is the published network and has released weights.
        **kwargs: `name`, `dtype`, `trainable`.
    """

    def __init__(self, image_shape=(None, None, 3), dropout=0.5, width=1.0, **kwargs):
        if isinstance(width, bool) or not isinstance(width, (int, float)) or width <= 0:
            raise ValueError(f"Invalid width={width!r}: expected a positive number.")
        shape = validation.check_input_shape(
            image_shape, min_size=min_input_size(), what="DilationBackbone (valid padding)"
        )
        inputs = keras.Input(shape=shape, name="image")
        x, levels = frontend_features(inputs, dropout=dropout, width=width)
        kwargs.setdefault("name", "dilation_frontend")
        super().__init__(inputs=inputs, outputs=x, **kwargs)
        self.image_shape = shape
        self.dropout = float(dropout)
        self.width = float(width)
        self.pyramid_outputs = levels

    def get_config(self):
        config = super().get_config()
        config.update({"image_shape": list(self.image_shape), "dropout": self.dropout,
                       "width": self.width})
        return config
