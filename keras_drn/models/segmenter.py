"""keras-hub image segmenters: DRNSeg (CVPR 2017) and the ICLR 2016 Dilation models.

`DRNImageSegmenter` is a DRN backbone, the 1x1 classifier `seg` and an upsampling head
(fyu/drn segment.py:81-119). `DilationImageSegmenter` is the dilated VGG-16 front end,
its classifier `final`, the context module and, for Dilation10, the in-network x8
upsampling (fyu/dilation network.py). Both know what they are: `get_config` holds the
backbone, classes, head, output activation, dataset and class names, and the consumers
(export, serving, multi-scale inference, parity reports) read those instead of guessing
from layer names. Both save to `.keras` files and keras-hub presets.
"""

from __future__ import annotations

import keras
import keras_hub

from keras_drn.layers import BilinearUpsampling
from keras_drn.layers import CropToReference
from keras_drn.layers import ResizeToReference
from keras_drn.layers import he_fan_out
from keras_drn.meta.normalization import NORMALIZATION
from keras_drn.meta.normalization import Normalization
from keras_drn.meta.normalization import dilation_normalization
from keras_drn.models import validation
from keras_drn.models.backbone import DilationBackbone
from keras_drn.models.backbone import DRNBackbone
from keras_drn.models.backbone import _NamedPresets
from keras_drn.models.configs import DILATION_CONFIGS
from keras_drn.models.dilation import CONTEXT_TYPES
from keras_drn.models.dilation import context_module
from keras_drn.models.dilation import frontend_classifier
from keras_drn.models.preprocessor import DilationImageSegmenterPreprocessor
from keras_drn.models.preprocessor import DRNImageSegmenterPreprocessor
from keras_drn.models.segmenter_base import ACTIVATIONS
from keras_drn.models.segmenter_base import IGNORE_LABEL  # noqa: F401  (re-exported)
from keras_drn.models.segmenter_base import MaskedAccuracy  # noqa: F401  (re-exported)
from keras_drn.models.segmenter_base import _SegmenterMixin
from keras_drn.models.segmenter_base import default_class_names  # noqa: F401  (re-exported)

# "reference": segment.py's frozen bilinear ConvTranspose2d(16, stride 8, pad 4, one
#   kernel per class), whose border rows are attenuated by its zero padding.
# "bilinear": the deploy head, a plain bilinear resize (half-pixel centres, edges
#   clamped): cheaper, and a single RESIZE_BILINEAR op in TFLite.
# "none": logits at stride 8, for callers that upsample (or argmax) themselves.
HEADS = ("reference", "bilinear", "none")


@keras.saving.register_keras_serializable(package="keras_drn")
class DRNImageSegmenter(_SegmenterMixin, _NamedPresets, keras_hub.models.ImageSegmenter):
    """DRNSeg (fyu/drn segment.py:81-119): a DRN backbone, a 1x1 classifier `seg` and
    x8 upsampling to the input's size.

    Args:
        backbone: a `keras_drn.DRNBackbone`.
        num_classes: number of classes (19 for Cityscapes).
        head: "reference" (segment.py's frozen bilinear transposed convolution, kernel
            16, stride 8, padding 4, one kernel per class), "bilinear" (one bilinear
            resize, the lighter deploy head) or "none" (logits at stride 8).
        activation: None (logits), "softmax", or "log_softmax" (the reference's output).
        dataset: what the classes are ("cityscapes", "camvid", "pascal_voc", ...):
            gives the class names, the input normalisation and the palette.
        class_names: one name per class, overriding the dataset's.
        preprocessor: a `DRNImageSegmenterPreprocessor` (uint8 images in) or None
            (normalised float images in).

    The output is float32 even under a mixed-precision policy.

    Example:
    ```python
    segmenter = keras_drn.DRNSeg("drn_d_22", classes=19)      # or, equivalently:
    segmenter = keras_drn.DRNImageSegmenter(keras_drn.DRNBackbone("drn_d_22"), 19,
                                            dataset="cityscapes")
    segmenter.compile()
    segmenter.fit(dataset_of_images_and_train_ids, epochs=1)
    segmenter.save_to_preset("./drn_d_22_mine")
    ```
    """

    backbone_cls = DRNBackbone
    preprocessor_cls = DRNImageSegmenterPreprocessor

    def __init__(self, backbone, num_classes=19, head="reference", activation=None,
                 dataset="cityscapes", class_names=None, preprocessor=None, **kwargs):
        validation.check_classes(num_classes)
        validation.check_choice("head", head, HEADS)
        validation.check_choice("activation", activation, ACTIVATIONS)
        if not isinstance(backbone, DRNBackbone):
            raise ValueError(
                f"Invalid backbone={backbone!r}: expected a keras_drn.DRNBackbone."
            )
        # === Functional model ===
        inputs = backbone.input
        x = backbone(inputs)
        # segment.py:92-98: N(0, sqrt(2 / classes)) (He fan-out of a 1x1 conv), bias 0.
        x = keras.layers.Conv2D(num_classes, 1, use_bias=True,
                                kernel_initializer=he_fan_out(), name="seg")(x)
        if head == "reference":
            x = BilinearUpsampling(8, name="up")(x)
            x = CropToReference(name="crop")([x, inputs])
        elif head == "bilinear":
            x = ResizeToReference(name="resize")([x, inputs])
        kwargs.setdefault("name", f"{backbone.name}_seg")
        self._init_segmenter(backbone, inputs, x, num_classes=num_classes,
                             activation=activation, dataset=dataset,
                             class_names=class_names, preprocessor=preprocessor,
                             **kwargs)
        # === Config ===
        self.head = head

    @property
    def arch(self) -> str:
        """The backbone's architecture name ("drn_d_22"; "drn_custom" for a row)."""
        return self.backbone.arch_name

    @property
    def family(self) -> str:
        """"drn": what the consumers (inference, export) branch on."""
        return "drn"

    @property
    def output_stride(self) -> int:
        """8 for head="none" (stride-8 logits), else 1."""
        return 8 if self.head == "none" else 1

    @property
    def normalization(self) -> Normalization:
        """The input statistics this model expects (of `dataset`; ImageNet's where the
        dataset has none)."""
        converter = getattr(self.preprocessor, "image_converter", None)
        dataset = getattr(converter, "dataset", None) or self.dataset
        return NORMALIZATION.get(dataset, NORMALIZATION["imagenet"])

    def get_config(self):
        config = super().get_config()
        config.update({"head": self.head, **self._metadata_config()})
        return config


@keras.saving.register_keras_serializable(package="keras_drn")
class DilationImageSegmenter(_SegmenterMixin, _NamedPresets,
                             keras_hub.models.ImageSegmenter):
    """A model of Yu & Koltun (ICLR 2016): the dilated VGG-16 front end with its
    classifier `final`, the context module and, for Dilation10, the x8 bilinear
    upsampling `ctx_upsample`.

    Args:
        backbone: a `keras_drn.DilationBackbone`.
        num_classes: number of classes.
        context: "basic" or "large" (the VOC model's widths), or None for the front end
            alone (its logits at stride 8).
        context_layers: 7, 8 or 10 (Dilation7, Dilation8, Dilation10).
        upsample: Dilation10's in-network x8 upsampling; otherwise the output is at
            stride 8 and `zoom` says how much to interpolate it.
        activation: None (logits) or "softmax".
        dataset: "pascal_voc", "camvid", "kitti" or "cityscapes" (class names, mean).
        class_names: one name per class, overriding the dataset's.
        preprocessor: a `DilationImageSegmenterPreprocessor` or None.
    """

    backbone_cls = DilationBackbone
    preprocessor_cls = DilationImageSegmenterPreprocessor

    def __init__(self, backbone, num_classes=19, context="basic", context_layers=10,
                 upsample=True, activation=None, dataset="cityscapes", class_names=None,
                 preprocessor=None, **kwargs):
        validation.check_classes(num_classes)
        validation.check_choice("context", context, (*CONTEXT_TYPES, None))
        validation.check_choice("context_layers", context_layers, (7, 8, 10))
        validation.check_choice("activation", activation, (None, "softmax"))
        if not isinstance(backbone, DilationBackbone):
            raise ValueError(
                f"Invalid backbone={backbone!r}: expected a keras_drn.DilationBackbone."
            )
        inputs = backbone.input
        x = frontend_classifier(backbone(inputs), num_classes)
        if context is not None:
            x = context_module(x, num_classes, layers=context_layers, kind=context)
        if upsample:
            x = BilinearUpsampling(8, name="ctx_upsample")(x)
        kwargs.setdefault("name", f"dilation{context_layers}_{dataset}")
        # Caffe's deploy nets call their softmax "prob".
        self._init_segmenter(backbone, inputs, x, num_classes=num_classes,
                             activation=activation, dataset=dataset,
                             class_names=class_names, preprocessor=preprocessor,
                             softmax_name="prob", **kwargs)
        self.context = context
        self.context_layers = context_layers
        self.upsample = bool(upsample)

    @property
    def arch(self) -> str:
        """"dilation7", "dilation8" or "dilation10"."""
        return f"dilation{self.context_layers}"

    @property
    def family(self) -> str:
        """"dilation": what the consumers (inference, export) branch on."""
        return "dilation"

    @property
    def head(self) -> str:
        """"dilation": the context module (and Dilation10's upsampling) is the head."""
        return "dilation"

    @property
    def output_stride(self) -> int:
        """1 with the in-network upsampling (Dilation10), else 8."""
        return 1 if self.upsample else 8

    @property
    def zoom(self) -> int:
        """How much fyu/dilation's predict.py interpolates the output (8 or 1)."""
        return self.output_stride

    @property
    def include_context(self) -> bool:
        """Whether the context module follows the front end."""
        return self.context is not None

    @property
    def normalization(self) -> Normalization:
        """The input statistics this model expects (its dataset's mean; Cityscapes'
        for a dataset without a Dilation model)."""
        dataset = self.dataset if self.dataset in DILATION_CONFIGS else "cityscapes"
        return dilation_normalization(dataset)

    def get_config(self):
        config = super().get_config()
        config.update({
            "context": self.context,
            "context_layers": self.context_layers,
            "upsample": self.upsample,
            **self._metadata_config(),
        })
        return config


SEGMENTER_CLASSES = (DRNImageSegmenter, DilationImageSegmenter)


def is_segmenter(model) -> bool:
    """Whether `model` is one of keras_drn's segmenters."""
    return isinstance(model, SEGMENTER_CLASSES)
