"""Parity of exported artifacts against the Keras model they came from.

For each artifact and a set of validation images: the largest absolute difference of
logits (artifacts that output logits), the share of pixels whose argmax agrees with
Keras', and the mean IoU of the artifact's labels scored against Keras' labels as if
they were ground truth (`keras_drn.evaluation`). The Keras side is the segmenter
itself on images normalised in numpy with its own statistics (`segmenter.normalization`,
or a dataset's), an independent path from the export graph (own normalisation, own
upsampling layers, chosen by `segmenter.head`).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import asdict
from dataclasses import dataclass

import keras
import numpy as np

from keras_drn.evaluation import ConfusionMatrix
from keras_drn.models.walk import find_layer

# Minimum share of pixels whose argmax agrees with Keras'. The issue's targets for
# float32, float16 and int8; dynamic-range models (int8 weights, activations quantised
# on the fly) are held to int8's.
AGREEMENT_TARGETS = {
    "saved_model": 0.9999,
    "none": 0.9999,
    "float16": 0.999,
    "dynamic": 0.98,
    "int8": 0.98,
}


@dataclass
class ParityResult:
    name: str
    kind: str  # "saved_model" or a quantize mode
    images: int
    pixels: int
    max_abs_logit_diff: float | None  # None for label outputs
    logit_range: float  # max |Keras logit|, to read the difference against
    agreement: float
    miou_vs_keras: float
    target: float

    @property
    def passed(self) -> bool:
        return self.agreement >= self.target

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def keras_logits(model, images: Iterable[np.ndarray], dataset: str | None = None,
                 logits_range=None) -> list[np.ndarray]:
    """The segmenter's float32 logits for each uint8 image (batch of one).

    Args:
        model: a `keras_drn.DRNImageSegmenter`.
        images: uint8 RGB (H, W, 3) images.
        dataset: None for the segmenter's own normalisation; a name overrides it (as
            the export's `dataset=` does).
        logits_range: (low, high) to clip the `seg` logits to before the segmenter's
            own head layers, as an int8 export with that range does
            (`keras_drn.export.logits_range`): the reference for its logit difference.
    """
    from keras_drn.export.serving import check_segmenter
    from keras_drn.inference.model_info import model_normalization
    from keras_drn.inference.model_info import normalize_images

    model = check_segmenter(model)
    norm = model_normalization(model, dataset, "drn")
    stride8 = None
    if logits_range is not None:
        stride8 = keras.Model(model.input, find_layer(model, "seg").output)
    out = []
    for image in images:
        x = normalize_images(np.asarray(image)[None], norm)
        if stride8 is None:
            y = model(x, training=False)
        else:
            y = np.clip(np.asarray(stride8(x, training=False), np.float32),
                        *logits_range)
            y = _keras_head(model, y, x)
        out.append(np.asarray(y, np.float32)[0])
    return out


def _keras_head(model, logits, x):
    """The segmenter's own upsampling layers for its `head` on `logits`: `up` and
    `crop` ("reference"), `resize` ("bilinear"), none ("none")."""
    if model.head == "reference":
        return find_layer(model, "crop")([find_layer(model, "up")(logits), x])
    if model.head == "bilinear":
        return find_layer(model, "resize")([logits, x])
    return logits


def measure(name: str, kind: str, run: Callable[[np.ndarray], np.ndarray],
            images: list[np.ndarray], reference: list[np.ndarray],
            target: float | None = None,
            diff_reference: list[np.ndarray] | None = None) -> ParityResult:
    """Runs `run(image)` (logits `(H, W, C)` or labels `(H, W)`) on every image and
    compares it with `reference` (Keras logits).

    `diff_reference`: what the logit difference is measured against, when not
    `reference`: for int8 exports that saturate their logits by design, Keras' logits
    saturated alike (`keras_logits(..., logits_range=...)`); the argmax agreement and
    mIoU are always against the unsaturated Keras model.
    """
    if target is None:
        target = AGREEMENT_TARGETS[kind]
    if diff_reference is None:
        diff_reference = reference
    classes = reference[0].shape[-1]
    confusion = ConfusionMatrix(classes)
    agree = total = 0
    max_diff, logit_range, has_logits = 0.0, 0.0, True
    for image, ref, compare in zip(images, reference, diff_reference):
        out = np.asarray(run(image))
        ref_labels = ref.argmax(-1)
        if out.ndim == ref.ndim:
            if out.shape != ref.shape:
                raise ValueError(
                    f"{name}: logits of shape {out.shape}, Keras' are {ref.shape}; the "
                    f"artifact and the Keras model must use the same head."
                )
            max_diff = max(max_diff, float(np.abs(out - compare).max()))
            labels = out.argmax(-1)
        else:
            has_logits = False
            labels = out.astype(np.int64)
        if labels.shape != ref_labels.shape:
            raise ValueError(
                f"{name}: labels of shape {labels.shape}, Keras' are {ref_labels.shape}."
            )
        logit_range = max(logit_range, float(np.abs(ref).max()))
        agree += int((labels == ref_labels).sum())
        total += labels.size
        confusion.update(ref_labels, labels)
    return ParityResult(
        name=name, kind=kind, images=len(images), pixels=total,
        max_abs_logit_diff=max_diff if has_logits else None,
        logit_range=logit_range, agreement=agree / total,
        miou_vs_keras=confusion.mean_iou(), target=target,
    )


def format_table(results: list[ParityResult]) -> str:
    """A Markdown table, one row per artifact."""
    rows = [
        "| artifact | max abs logit diff | argmax agreement | target | mIoU vs Keras "
        "| pass |",
        "|---|---:|---:|---:|---:|:---:|",
    ]
    for r in results:
        diff = "—" if r.max_abs_logit_diff is None else (
            f"{r.max_abs_logit_diff:.3g} (of {r.logit_range:.3g})"
        )
        rows.append(
            f"| {r.name} | {diff} | {100 * r.agreement:.4f}% | "
            f">= {100 * r.target:.2f}% | {100 * r.miou_vs_keras:.2f}% | "
            f"{'yes' if r.passed else 'NO'} |"
        )
    return "\n".join(rows)
