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
from keras_drn.meta import labels as label_tables
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

# "reference": segment.py's frozen bilinear ConvTranspose2d(16, stride 8, pad 4, one
#   kernel per class), whose border rows are attenuated by its zero padding.
# "bilinear": the deploy head, a plain bilinear resize (half-pixel centres, edges
#   clamped): cheaper, and a single RESIZE_BILINEAR op in TFLite.
# "none": logits at stride 8, for callers that upsample (or argmax) themselves.
HEADS = ("reference", "bilinear", "none")
ACTIVATIONS = (None, "softmax", "log_softmax")
IGNORE_LABEL = 255


def default_class_names(dataset: str | None, classes: int) -> tuple[str, ...] | None:
    """The dataset's class names when it has `classes` of them, else None."""
    if dataset is None:
        return None
    try:
        names = label_tables.class_names(dataset)
    except ValueError:
        return None
    return names if len(names) == classes else None


def _output_activation(x, activation):
    if activation == "softmax":
        return keras.layers.Softmax(axis=-1, dtype="float32", name="probabilities")(x)
    if activation == "log_softmax":
        return keras.layers.Activation(
            "log_softmax", dtype="float32", name="log_probabilities"
        )(x)
    return keras.layers.Activation("linear", dtype="float32", name="logits")(x)


class _SegmenterMixin:
    """What both segmenters share: metadata, compile defaults, label prediction."""

    def _set_metadata(self, num_classes, activation, dataset, class_names):
        self.num_classes = num_classes
        self.activation = activation
        self.dataset = dataset
        if class_names is not None:
            class_names = tuple(str(n) for n in class_names)
            if len(class_names) != num_classes:
                raise ValueError(
                    f"Invalid class_names: {len(class_names)} names for "
                    f"num_classes={num_classes}. Pass one name per class."
                )
        self._explicit_class_names = class_names

    @property
    def classes(self) -> int:
        """The number of classes (an alias of `num_classes`)."""
        return self.num_classes

    @property
    def class_names(self) -> tuple[str, ...]:
        """One name per class: given, the dataset's, or "class_0", "class_1", ..."""
        names = self._explicit_class_names or default_class_names(
            self.dataset, self.num_classes)
        return names or tuple(f"class_{i}" for i in range(self.num_classes))

    def _metadata_config(self) -> dict:
        return {
            "num_classes": self.num_classes,
            "activation": self.activation,
            "dataset": self.dataset,
            "class_names": None if self._explicit_class_names is None
            else list(self._explicit_class_names),
        }

    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """Configures the segmenter for `fit` with defaults for segmentation.

        Args:
            optimizer: "auto" gives SGD with momentum 0.9, learning rate 0.01 and
                weight decay 1e-4 (segment.py's recipe), or any Keras optimizer.
            loss: "auto" gives a sparse categorical cross-entropy on the model's output
                (logits, log-probabilities or probabilities) that ignores label 255,
                as segment.py's `NLLLoss2d(ignore_index=255)`.
            metrics: "auto" gives the mean IoU over the classes (label 255 ignored)
                and the pixel accuracy on labelled pixels.
            **kwargs: see `keras.Model.compile`.

        Labels are integer maps (batch, height, width) or (batch, height, width, 1) of
        train ids at the output's resolution, 255 where unlabelled.
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.SGD(0.01, momentum=0.9, weight_decay=1e-4)
        if loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(
                from_logits=self.activation != "softmax", ignore_class=IGNORE_LABEL
            )
        if metrics == "auto":
            metrics = [
                keras.metrics.MeanIoU(self.num_classes, name="mean_iou",
                                      ignore_class=IGNORE_LABEL, sparse_y_pred=False),
                MaskedAccuracy(name="pixel_accuracy"),
            ]
        keras.Model.compile(self, optimizer=optimizer, loss=loss, metrics=metrics,
                            **kwargs)

    def fit(self, x=None, y=None, batch_size=None, shuffle=True, **kwargs):
        """`keras.Model.fit`, with numpy images and labels shuffled each epoch.

        keras-hub's `Task.fit` turns numpy inputs into an unshuffled dataset (it warns
        that `shuffle=True` is ignored); here numpy `x` and `y` (without
        `sample_weight` or `validation_split`) become a `tf.data.Dataset` shuffled
        anew every epoch and batched by `batch_size` (32 by default). Datasets and
        generators are passed through: shuffle them yourself.
        """
        import numpy as np

        arrays = isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
        plain = not any(kwargs.get(k) is not None
                        for k in ("sample_weight", "validation_split"))
        if shuffle and arrays and plain:
            import tensorflow as tf

            x = (tf.data.Dataset.from_tensor_slices((x, y))
                 .shuffle(len(x), reshuffle_each_iteration=True)
                 .batch(batch_size or 32))
            return super().fit(x, **kwargs)
        return super().fit(x, y, batch_size=batch_size, shuffle=shuffle, **kwargs)

    def get_layer(self, name=None, index=None):
        """A layer of the segmenter or, by name, of its backbone ("layer5_1_conv2")."""
        try:
            return super().get_layer(name, index)
        except ValueError:
            if name is None:
                raise
            return self.backbone.get_layer(name)

    def compile_from_config(self, config):
        """Restores the compiled state of a saved model (Keras calls this on load)."""
        self.compile(**keras.saving.deserialize_keras_object(config))

    def predict_labels(self, images, batch_size=None, **kwargs):
        """Per-pixel class ids (uint8 numpy) for `images` (run through the
        preprocessor when there is one, as `predict` does)."""
        import numpy as np

        outputs = self.predict(images, batch_size=batch_size, **kwargs)
        return np.argmax(outputs, axis=-1).astype(np.uint8)


@keras.saving.register_keras_serializable(package="keras_drn")
class MaskedAccuracy(keras.metrics.Mean):
    """Pixel accuracy over the pixels whose label is not 255."""

    def __init__(self, name="pixel_accuracy", ignore_class=IGNORE_LABEL, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.ignore_class = ignore_class

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = keras.ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):
            y_true = keras.ops.squeeze(y_true, -1)
        predicted = keras.ops.cast(keras.ops.argmax(y_pred, axis=-1), "int32")
        valid = keras.ops.cast(keras.ops.not_equal(y_true, self.ignore_class), "float32")
        correct = keras.ops.cast(keras.ops.equal(predicted, y_true), "float32") * valid
        return super().update_state(correct, sample_weight=valid)

    def get_config(self):
        return {**super().get_config(), "ignore_class": self.ignore_class}


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
        outputs = _output_activation(x, activation)
        kwargs.setdefault("name", f"{backbone.name}_seg")
        # Set before the Task's __init__, which compiles with the defaults.
        self._set_metadata(num_classes, activation, dataset, class_names)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        # === Config ===
        self.backbone = backbone
        self.head = head
        self.preprocessor = preprocessor

    @property
    def arch(self) -> str:
        """The backbone's architecture name ("drn_d_22"; "drn_custom" for a row)."""
        return self.backbone.arch_name

    @property
    def family(self) -> str:
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
        if activation == "softmax":
            outputs = keras.layers.Softmax(axis=-1, dtype="float32", name="prob")(x)
        else:
            outputs = keras.layers.Activation("linear", dtype="float32", name="logits")(x)
        kwargs.setdefault("name", f"dilation{context_layers}_{dataset}")
        self._set_metadata(num_classes, activation, dataset, class_names)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        self.context = context
        self.context_layers = context_layers
        self.upsample = bool(upsample)
        self.preprocessor = preprocessor

    @property
    def arch(self) -> str:
        """"dilation7", "dilation8" or "dilation10"."""
        return f"dilation{self.context_layers}"

    @property
    def family(self) -> str:
        return "dilation"

    @property
    def head(self) -> str:
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
        return self.context is not None

    @property
    def normalization(self) -> Normalization:
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
