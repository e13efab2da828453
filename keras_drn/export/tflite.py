"""TFLite (LiteRT) conversion: a fixed `[1, H, W, 3]` uint8 input, normalised inside,
builtin ops only, every dilated convolution a native dilated CONV_2D.

Why a fixed size: Keras' dilated Conv2D lowers (TensorFlow backend, CPU) to
SpaceToBatchND -> Conv2D -> BatchToSpaceND, and the converter folds that triple back
into one CONV_2D with dilation factors only when the batch and spatial sizes are static.
`convert_to_tflite` therefore traces the graph at one size, and checks the result
(`keras_drn.export.graph.check_graph`) before returning it.

Quantisation modes:
- "none": float32 weights and activations.
- "float16": float16 weights (dequantised to float32 on CPU; GPU delegates run fp16).
- "dynamic": int8 weights, activations quantised on the fly (no calibration data).
- "int8": full integer, calibrated on representative images; builtin int8 kernels
  only. The uint8 input is the raw pixel (scale 1, zero point 0), requantised to int8
  by the first op; logits come out as float32, or as int8 with `integer_io=True`
  (for accelerators that take integer tensors only).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from collections.abc import Iterable

import keras
import numpy as np
import tensorflow as tf

from keras_drn.export import edge_metadata
from keras_drn.export import graph as graph_lib
from keras_drn.export import metadata as metadata_lib
from keras_drn.export.logits_range import fit_logits_range
from keras_drn.export.options import OUTPUTS
from keras_drn.export.options import QUANTIZE_MODES
from keras_drn.export.options import as_pair
from keras_drn.export.options import check_input_size
from keras_drn.export.options import parse_input_size  # noqa: F401  (re-exported)
from keras_drn.export.serving import SegmentationGraph
from keras_drn.files import write_bytes_atomic
from keras_drn.models import validation

__all__ = ["OUTPUTS", "QUANTIZE_MODES", "check_options", "convert_to_tflite",
           "describe", "parse_input_size", "write_tflite"]


def check_options(quantize: str, outputs: str, integer_io: bool, head: str) -> None:
    """Validates the conversion options together, before any work is done.

    Args:
        quantize: one of `QUANTIZE_MODES`.
        outputs: one of `OUTPUTS`.
        integer_io: whether the int8 model exposes int8 logits.
        head: the segmenter's head.

    Raises:
        ValueError: an unknown choice, labels without an upsampling head, or
            `integer_io` without full-integer quantisation.
    """
    validation.check_choice("quantize", quantize, QUANTIZE_MODES)
    validation.check_choice("outputs", outputs, OUTPUTS)
    if outputs == "labels" and head == "none":
        raise ValueError(
            "outputs='labels' needs an upsampling head: the model's head is 'none' "
            "(stride-8 logits). Build the model with head='reference' or 'bilinear'."
        )
    if integer_io and quantize != "int8":
        raise ValueError(
            f"integer_io=True needs quantize='int8' (received quantize={quantize!r}): "
            f"only the full-integer model has integer tensors to expose."
        )


def _check_calibration_images(images, size) -> list[np.ndarray]:
    height, width = size
    images = [np.asarray(image) for image in images]
    if not images:
        raise ValueError("The calibration set is empty: int8 needs representative images.")
    for i, image in enumerate(images):
        if image.shape != (height, width, 3) or image.dtype != np.uint8:
            raise ValueError(
                f"Calibration image {i} has shape {image.shape} and dtype {image.dtype}; "
                f"expected uint8 ({height}, {width}, 3). keras_drn.export.calibration "
                f"resizes images to the export size."
            )
    return images


def _calibration_samples(images: list[np.ndarray]):
    """Yields float32 [1, H, W, 3] batches for the converter's calibration.

    The first batch carries one black and one white pixel, so that the calibrated
    input range is exactly [0, 255] and the uint8 input is the raw pixel value
    (scale 1, zero point 0), whatever the images' own range.
    """
    for i, image in enumerate(images):
        batch = image[None].astype(np.float32)
        if i == 0:
            batch[0, 0, 0] = 0.0
            batch[0, 0, 1] = 255.0
        yield [batch]


def convert_to_tflite(
    model: keras.Model,
    input_size,
    *,
    quantize: str = "none",
    outputs: str = "logits",
    dataset: str | None = None,
    representative_images: Iterable[np.ndarray] | Callable | None = None,
    integer_io: bool = False,
    int8_logits_range="argmax",
    check: bool = True,
    extra_metadata: dict | None = None,
    standard_metadata: bool = True,
    lean_stem: bool = True,
) -> bytes:
    """Converts a DRNSeg segmenter to a TFLite flatbuffer.

    Args:
        model: a `keras_drn.DRNImageSegmenter`; its head ("reference", "bilinear",
            "none") is the exported head, and its classes, class names, dataset and
            normalisation go into the metadata.
        input_size: (height, width) of the fixed input `[1, H, W, 3]` (uint8 RGB).
        quantize: "none", "float16", "dynamic" or "int8".
        outputs: "logits" (float32 `[1, H, W, C]`; stride 8 for the "none" head) or
            "labels" (argmax and upsampling inside: uint8 `[1, H, W]`).
        dataset: None (default) for the segmenter's own normalisation; a dataset
            name overrides it (and the recorded dataset and class names).
        representative_images: for "int8", uint8 (H, W, 3) images of the export size
            (an iterable, or a callable returning one); see
            `keras_drn.export.calibration.representative_images`.
        integer_io: with "int8", logits come out as int8 (scale and zero point in the
            output details) instead of float32.
        int8_logits_range: with "int8", the int8 range of the classifier's logits:
            "argmax" (default: fitted on the calibration images to keep the most argmax
            decisions, `keras_drn.export.logits_range`), "minmax" (the converter's
            calibration) or an explicit (low, high). Logits outside the range
            saturate; the range is stored in the metadata ("logits_range").
        check: verify the op list (`keras_drn.export.graph.check_graph`) and raise
            `ExportGraphError` if it is not clean.
        extra_metadata: merged into the JSON metadata stored in the flatbuffer.
        standard_metadata: also write the standard TFLite metadata (MediaPipe's
            image segmenter schema: image input, segmentation output, the class names
            as an associated label file; `keras_drn.export.edge_metadata`), where the
            `mediapipe` package is installed.

        lean_stem: compute the full-resolution convolutions (DRN's 7x7 stem and
            the 3x3 layers at input resolution) in space-to-depth form, with their
            batch norm and ReLU folded in (`keras_drn.export.stem`): the same
            function, and XNNPACK needs no per-pixel indirection buffer for a 7x7
            kernel at full resolution (784 MiB at 1024x2048).

    Returns:
        The `.tflite` bytes, with keras_drn metadata (`read_metadata`) and, with
        mediapipe installed, the standard metadata and its label file.
    """
    serving = SegmentationGraph(model, dataset=dataset)
    check_options(quantize, outputs, integer_io, serving.head)
    height, width = check_input_size(input_size, serving.head)
    if lean_stem:
        from keras_drn.export.stem import lean_features

        serving.features = lean_features(serving.model, (height, width))
    logits_range = fitted = None
    if quantize == "int8":
        if representative_images is None:
            raise ValueError(
                "quantize='int8' needs representative_images (uint8 images of the "
                "export size); keras_drn.export.calibration.representative_images "
                "makes them from synthetic scenes or a data directory."
            )
        source = representative_images
        images = _check_calibration_images(
            source() if callable(source) else source, (height, width)
        )
        logits_range, fitted = _int8_logits_range(
            serving, images, (height, width), int8_logits_range
        )

    # int8 takes float pixels so that the converter can give the input a quantised
    # uint8 type (value = pixel); the others take uint8 and cast inside.
    input_dtype = tf.float32 if quantize == "int8" else tf.uint8
    spec = tf.TensorSpec([1, height, width, 3], input_dtype, name="image")
    label_dtype = tf.uint8 if serving.classes <= 256 else tf.int32

    def serve(image):
        if outputs == "labels":
            return {"labels": serving.labels(image, label_dtype, logits_range)}
        return {"logits": serving.logits(image, logits_range)}

    with tempfile.TemporaryDirectory(prefix="keras_drn_tflite_") as workdir:
        # The Keras route (keras.export.ExportArchive -> SavedModel -> converter),
        # which freezes the model's variables into constants.
        # (The endpoint captures the variables; see saved_model.py on `track`.)
        archive = keras.export.ExportArchive()
        archive.add_endpoint("serve", serve, input_signature=[spec])
        archive.write_out(workdir, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(
            workdir, signature_keys=["serving_default"]
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if quantize == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        elif quantize == "dynamic":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        elif quantize == "int8":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: _calibration_samples(images)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.uint8
            if integer_io and outputs == "logits":
                converter.inference_output_type = tf.int8
        content = converter.convert()

    info = graph_lib.inspect_tflite(content)
    if check:
        graph_lib.check_graph(info, expected_dilations=graph_lib.keras_dilations(model))
    if quantize == "int8":
        scale, zero_point = info.inputs[0]["quantization"]
        if (scale, zero_point) != (1.0, 0):
            raise graph_lib.ExportGraphError(
                f"The int8 model's input quantisation is scale={scale}, "
                f"zero_point={zero_point}; expected 1.0 and 0 (raw pixels). This is a "
                f"bug in keras_drn's calibration; please report it."
            )
    meta = serving.metadata(
        input_size=[height, width],
        input={"dtype": "uint8", "shape": [1, height, width, 3], "layout": "NHWC RGB"},
        outputs=outputs,
        quantize=quantize,
        integer_io=bool(integer_io),
        logits_range=None if logits_range is None else [float(v) for v in logits_range],
        **({} if fitted is None else {
            "logits_range_calibration_agreement": fitted.agreement,
            "minmax_calibration_agreement": fitted.minmax_agreement,
        }),
        **(extra_metadata or {}),
    )
    content = metadata_lib.add_metadata(content, meta, input_names=["image"],
                                        output_names=[outputs])
    if standard_metadata and edge_metadata.available():
        content = edge_metadata.add_standard_metadata(
            content, class_names=serving.class_names, outputs=outputs,
            name=f"{serving.model.arch} ({serving.head} head)",
            description=(
                f"{serving.model.arch} semantic segmentation, {serving.classes} "
                f"{serving.dataset or ''} classes; uint8 RGB in, normalised inside; "
                f"{'per-pixel logits' if outputs == 'logits' else 'class ids'} out."
            ),
            version=meta.get("keras_drn_version"),
        )
    return content


def _int8_logits_range(serving, images, size, choice):
    """(range for the graph or None, LogitsRange fitted or None)."""
    if choice == "minmax":
        return None, None
    if choice != "argmax":
        pair = as_pair(choice, float)
        if pair is None:
            raise ValueError(
                f"Invalid int8_logits_range={choice!r}: expected 'argmax', 'minmax' or "
                f"(low, high)."
            )
        low, high = pair
        if not low <= 0 <= high or low == high:
            raise ValueError(
                f"Invalid int8_logits_range={choice!r}: need low <= 0 <= high, low < "
                f"high (int8 represents zero exactly)."
            )
        return (low, high), None
    height, width = size
    # The search simulates the head on at most 16 images: enough for two quantiles.
    logits = [
        serving.stride8_logits(np.asarray(image)[None].astype(np.float32))[0].numpy()
        for image in images[:16]
    ]
    fitted = fit_logits_range(
        logits, lambda y: serving.upsample(y, height, width)
    )
    return (fitted.low, fitted.high), fitted


def write_tflite(content: bytes, path) -> None:
    """Writes a `.tflite` model atomically: a reader never sees half a model.

    Args:
        content: the flatbuffer, e.g. from `convert_to_tflite`.
        path: the file to write; its folder is created if needed.
    """
    write_bytes_atomic(path, content)


def describe(content: bytes) -> str:
    """A short summary of a `.tflite` model for people.

    Args:
        content: the flatbuffer.

    Returns:
        Lines with the op counts, the dilated convolutions and their factors, and
        every input and output tensor (dtype, shape, quantisation).
    """
    info = graph_lib.inspect_tflite(content)
    lines = [
        f"ops: {json.dumps(dict(sorted(info.op_counts.items())))}",
        f"dilated CONV_2D: {len(info.dilated_convs)} "
        f"(factors {sorted(set(info.dilated_convs))})",
    ]
    for kind, details in (("input", info.inputs), ("output", info.outputs)):
        for d in details:
            lines.append(
                f"{kind} {d['name']}: {d['dtype']} {list(d['shape'])} "
                f"quantization {d['quantization']}"
            )
    return "\n".join(lines)
