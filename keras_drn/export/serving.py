"""The serving graph: a DRNSeg model with its input normalisation inside.

`SegmentationGraph` wraps a Keras DRNSeg model (`keras_drn.DRNSeg`, any head) into
functions that take uint8 RGB `[N, H, W, 3]` exactly as it comes from an image decoder
and return logits, probabilities or labels at the input's resolution. Both the
SavedModel and the TFLite exports trace these functions, so the two artifacts compute
the same graph.

The graph starts from the model's `seg` classifier (stride-8 logits) and applies the
model's head again with edge-friendly ops (`keras_drn.export.heads`); the model's
`activation` is not used, since every output is derived from the logits.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_drn.export import heads
from keras_drn.export.logits_range import fake_quant
from keras_drn.meta.labels import class_names
from keras_drn.meta.normalization import Normalization
from keras_drn.preprocessing import get_normalization
from keras_drn.version import __version__

HEADS = ("reference", "bilinear", "none")
METADATA_FORMAT = "keras_drn.export/1"


def check_backend() -> None:
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"Exporting needs the TensorFlow backend; KERAS_BACKEND is "
            f"{keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow before "
            f"importing keras (the weights load unchanged)."
        )


def detect_head(model: keras.Model) -> str:
    """The DRNSeg head of `model`: "reference" (layer `up`), "bilinear" (`resize`) or
    "none" (stride-8 logits)."""
    names = {layer.name for layer in model.layers}
    if "seg" not in names:
        raise ValueError(
            f"Cannot export model {model.name!r}: expected a DRNSeg model (built by "
            f"keras_drn.DRNSeg or keras_drn.models.build_drnseg) with its 1x1 "
            f"classifier layer named 'seg'; no layer of that name was found."
        )
    if "up" in names:
        return "reference"
    if "resize" in names:
        return "bilinear"
    return "none"


def nearest_multiples(size: int, multiple: int = heads.FACTOR) -> tuple[int, int]:
    below = max(multiple, size // multiple * multiple)
    above = -(-size // multiple) * multiple
    return below, above


def check_input_size(input_size, head: str) -> tuple[int, int]:
    """Validates a static (height, width) for an export with `head`.

    The reference head reproduces segment.py, whose x8 transposed convolution returns
    8 * ceil(H / 8) rows: the reference model only maps an H x W image to an H x W
    label map when 8 divides H and W (Cityscapes' 1024 x 2048 and every crop the
    reference trains on). An exported model stays within that geometry; the bilinear
    and "none" heads take any size of at least 8.
    """
    try:
        height, width = (int(s) for s in input_size)
    except (TypeError, ValueError):
        raise ValueError(
            f"Invalid input_size={input_size!r}: expected (height, width), e.g. "
            f"(512, 1024)."
        ) from None
    for axis, size in (("height", height), ("width", width)):
        if size < heads.FACTOR:
            raise ValueError(
                f"Invalid input_size={input_size!r}: the {axis} must be at least "
                f"{heads.FACTOR} pixels (DRN downsamples by 8), received {size}."
            )
        if head == "reference" and size % heads.FACTOR:
            below, above = nearest_multiples(size)
            raise ValueError(
                f"Invalid input_size={input_size!r}: the reference head needs a "
                f"{axis} that is a multiple of {heads.FACTOR} (its x8 transposed "
                f"convolution tiles the output in 8x8 cells), received {size}. Use "
                f"{below} or {above}, or the 'bilinear' head, which takes any size."
            )
    return height, width


class SegmentationGraph:
    """uint8 RGB in, normalised inside, DRNSeg outputs at the input's resolution.

    Args:
        model: a Keras DRNSeg model (any head, any activation).
        dataset: whose statistics normalise the input and whose class names and
            palette describe the output ("cityscapes", "camvid", "pascal_voc",
            "synthetic", "imagenet").
        normalization: explicit statistics, overriding `dataset`'s.

    Call `logits`, `probabilities` or `labels` inside a `tf.function` (the exporters
    do) or eagerly.
    """

    def __init__(self, model: keras.Model, *, dataset: str = "cityscapes",
                 normalization: Normalization | None = None):
        check_backend()
        self.model = model
        self.head = detect_head(model)
        self.dataset = dataset
        self.normalization = normalization or get_normalization(dataset, "drn")
        seg = model.get_layer("seg")
        self.classes = int(seg.output.shape[-1])
        # The stride-8 logits, sharing the model's layers (and variables).
        self.features = keras.Model(model.input, seg.output, name=f"{model.name}_seg")
        self.kernel = None
        if self.head == "reference":
            self.kernel = keras.ops.convert_to_numpy(model.get_layer("up").kernel)

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
        """What a consumer of the artifact needs to know, as JSON-ready values."""
        try:
            names = list(class_names(self.dataset))
        except ValueError:
            names = None
        if names is not None and len(names) != self.classes:
            names = None
        norm = self.normalization
        data = {
            "format": METADATA_FORMAT,
            "keras_drn_version": __version__,
            "model": self.model.name,
            "classes": self.classes,
            "class_names": names,
            "dataset": self.dataset,
            "head": self.head,
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
