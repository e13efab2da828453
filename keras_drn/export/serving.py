"""The serving graph: a DRNSeg segmenter with its input normalisation inside.

`SegmentationGraph` wraps a `keras_drn.DRNImageSegmenter` (what `keras_drn.DRNSeg`
returns, any head) into functions that take uint8 RGB `[N, H, W, 3]` exactly as it
comes from an image decoder and return logits, probabilities or labels at the input's
resolution. Both the SavedModel and the TFLite exports trace these functions, so the
two artifacts compute the same graph.

The graph starts from the segmenter's `seg` classifier (stride-8 logits) and applies
its head (`segmenter.head`) again with edge-friendly ops (`keras_drn.export.heads`);
the segmenter's `activation` is not used, since every output is derived from the
logits. Classes, class names, dataset and normalisation come from the segmenter too,
and go into the artifact's metadata.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_drn.export import heads
from keras_drn.export.logits_range import fake_quant
from keras_drn.export.options import check_input_size
from keras_drn.export.options import nearest_multiples  # noqa: F401  (re-exported)
from keras_drn.meta.normalization import Normalization
from keras_drn.models.segmenter import HEADS
from keras_drn.models.segmenter import DRNImageSegmenter
from keras_drn.models.segmenter import default_class_names
from keras_drn.models.walk import find_layer
from keras_drn.preprocessing import get_normalization
from keras_drn.version import __version__

__all__ = ["HEADS", "SegmentationGraph", "check_input_size", "check_segmenter"]

METADATA_FORMAT = "keras_drn.export/1"


def check_backend() -> None:
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"Exporting needs the TensorFlow backend; KERAS_BACKEND is "
            f"{keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow before "
            f"importing keras (the weights load unchanged)."
        )


def check_segmenter(model) -> DRNImageSegmenter:
    """`model` if it is an exportable DRNSeg segmenter, else a ValueError that says
    what to do."""
    from keras_drn.models.segmenter import is_segmenter

    if isinstance(model, DRNImageSegmenter):
        return model
    if is_segmenter(model):
        raise ValueError(
            f"Cannot export {model.name!r}: the ICLR 2016 Dilation models (valid "
            f"padding, reflection-padded tiles) run through keras_drn.inference in "
            f"Python and are not exported. Export a DRNSeg model (keras_drn.DRNSeg)."
        )
    raise ValueError(
        f"Cannot export model {model.name!r}: expected a keras_drn.DRNImageSegmenter "
        f"(what keras_drn.DRNSeg and keras_drn.models.build_drnseg return), which "
        f"records its head, classes, dataset and normalisation; received a "
        f"{type(model).__name__}. For a plain Keras DRNSeg model (e.g. a .keras file "
        f"saved before keras_drn had segmenters), rebuild it and load its weights by "
        f"layer name: keras_drn.DRNSeg(arch, classes, head=..., weights='model.keras')."
    )


def detect_head(model) -> str:
    """The head of a DRNSeg segmenter: "reference", "bilinear" or "none" (its `head`
    attribute; kept for callers of the earlier interface)."""
    return check_segmenter(model).head


class SegmentationGraph:
    """uint8 RGB in, normalised inside, DRNSeg outputs at the input's resolution.

    Args:
        model: a `keras_drn.DRNImageSegmenter` (any head, any activation).
        dataset: None (default) for the segmenter's own dataset and normalisation
            (`model.dataset`, `model.normalization`); a name ("cityscapes", "camvid",
            "pascal_voc", "synthetic", "imagenet") overrides both, and the class
            names when that dataset has `model.num_classes` of them.
        normalization: explicit statistics, overriding both.

    Call `logits`, `probabilities` or `labels` inside a `tf.function` (the exporters
    do) or eagerly.
    """

    def __init__(self, model: keras.Model, *, dataset: str | None = None,
                 normalization: Normalization | None = None):
        check_backend()
        model = check_segmenter(model)
        self.model = model
        self.head = model.head
        self.classes = int(model.num_classes)
        if dataset is None or dataset == model.dataset:
            self.dataset = model.dataset
            self.class_names = tuple(model.class_names)
            default = model.normalization
        else:
            self.dataset = dataset
            self.class_names = default_class_names(dataset, self.classes) or tuple(
                model.class_names)
            default = get_normalization(dataset, "drn")
        self.normalization = normalization or default
        seg = find_layer(model, "seg")
        # The stride-8 logits, sharing the model's layers (and variables).
        self.features = keras.Model(model.input, seg.output, name=f"{model.name}_seg")
        self.kernel = None
        if self.head == "reference":
            self.kernel = keras.ops.convert_to_numpy(find_layer(model, "up").kernel)

    @property
    def input_shape(self) -> tuple:
        """The model's (height, width) input sizes; None where any size is taken."""
        return tuple(self.model.inputs[0].shape[1:3])

    def stride8_logits(self, images):
        """float32 logits of the `seg` classifier, `[N, ceil(H/8), ceil(W/8), C]`."""
        x = heads.normalize(images, self.normalization)
        return tf.cast(self.features(x, training=False), tf.float32)

    def upsample(self, logits, height, width):
        """The model's head applied to stride-8 `logits` (identity for "none")."""
        if self.head == "reference":
            return heads.reference_upsample(logits, height, width, self.kernel)
        if self.head == "bilinear":
            return heads.bilinear_upsample(logits, height, width)
        return logits

    def logits(self, images, logits_range=None):
        """float32 `[N, H, W, classes]` logits (`[N, ceil(H/8), ceil(W/8), classes]`
        for the "none" head).

        `logits_range`: (low, high) for int8 exports: the stride-8 logits pass an 8-bit
        fake-quantisation op, which fixes their int8 range in the converted model
        (`keras_drn.export.logits_range`).
        """
        y = self.stride8_logits(images)
        if logits_range is not None:
            y = fake_quant(y, *logits_range)
        height, width = _spatial_size(images)
        return self.upsample(y, height, width)

    def probabilities(self, images):
        return tf.nn.softmax(self.logits(images), axis=-1)

    def labels(self, images, dtype=tf.int32, logits_range=None):
        """Per-pixel class ids, `[N, H, W]`."""
        return heads.labels_from_logits(self.logits(images, logits_range), dtype)

    def metadata(self, **extra) -> dict:
        """What a consumer of the artifact needs to know, as JSON-ready values: the
        segmenter's architecture, classes and their names, dataset, head, output
        stride and the normalisation applied inside."""
        norm = self.normalization
        data = {
            "format": METADATA_FORMAT,
            "keras_drn_version": __version__,
            "model": self.model.name,
            "family": self.model.family,
            "arch": self.model.arch,
            "width": float(self.model.backbone.width),
            "classes": self.classes,
            "class_names": list(self.class_names),
            "dataset": self.dataset,
            "head": self.head,
            "output_stride": int(self.model.output_stride),
            "normalization": {
                "mean": list(norm.mean), "std": list(norm.std), "scale": norm.scale,
                "formula": "(uint8 * scale - mean) / std, RGB, applied inside the model",
            },
        }
        data.update(extra)
        return data


def _spatial_size(images):
    """Static (height, width) where known (TFLite needs them), else dynamic."""
    static = images.shape[1:3]
    dynamic = tf.shape(images)
    return tuple(
        static[i] if static[i] is not None else dynamic[i + 1] for i in range(2)
    )
