"""SavedModel export for TensorFlow Serving and `tf.saved_model.load`.

Signatures (TensorFlow Serving finds them by name; `saved_model_cli show --dir D --all`
lists them):

- `serving_default`: `images` uint8 `[N, H, W, 3]` RGB, any N, H, W ->
  `labels` int32 `[N, H, W]` and `probabilities` float32 `[N, H, W, C]`.
- `serving_bytes`: `image_bytes` string `[N]` (encoded PNG, JPEG, GIF or BMP; every image
  of a request the same size) -> the same outputs. The `_bytes` suffix is the REST
  API's convention for base64 payloads (`{"b64": ...}`).
- `serving_logits`: `images` -> `logits` float32 `[N, H, W, C]`, for parity checks and
  callers that merge scales themselves.

The normalisation (the segmenter's mean and std) happens inside; `assets.extra/
keras_drn.json` describes the segmenter: architecture, classes and class names,
dataset, head and normalisation, all read from it.
"""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf

from keras_drn.export.serving import SegmentationGraph
from keras_drn.export.serving import check_segmenter
from keras_drn.files import atomic_path
from keras_drn.files import write_json_atomic

METADATA_FILE = "keras_drn.json"


def _decode(image_bytes):
    image = tf.io.decode_image(image_bytes, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def export_saved_model(model: keras.Model, path: str, *, dataset: str | None = None,
                       overwrite: bool = False, extra_metadata: dict | None = None,
                       precision: str = "float32") -> str:
    """Writes a SavedModel of a DRNSeg segmenter, for TensorFlow Serving.

    The input's height and width are the model's (`None` in a model built with the
    default `input_shape=(None, None, 3)`: any size). The directory is written next to
    `path` and renamed into place, so a failed export leaves no half-written model
    (and an old one at `path` stays until the new one is complete).

    Args:
        model: a `keras_drn.DRNImageSegmenter`; its head, classes, class names and
            normalisation are exported.
        path: the SavedModel directory.
        dataset: None (default) for the segmenter's own dataset and normalisation; a
            name overrides them (see `SegmentationGraph`).
        overwrite: replace an existing `path`.
        extra_metadata: merged into `assets.extra/keras_drn.json`.
        precision: "float32" (default) or "bfloat16": the graph's convolutions in
            bfloat16 (float32 variables and outputs; `keras_drn.export.precision`),
            for CPUs with native bfloat16 (AVX512_BF16, AMX).

    Returns:
        `path`.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
        ValueError: `model` is not an exportable segmenter.

    Example:
    ```python
    segmenter = keras_drn.DRNSeg("drn_d_22", classes=19, weights="cityscapes")
    export_saved_model(segmenter, "drn_d_22_sm")
    # saved_model_cli show --dir drn_d_22_sm --all
    ```
    """
    from keras_drn.export.precision import with_precision

    check_segmenter(model)
    serving = SegmentationGraph(with_precision(model, precision), dataset=dataset)
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(
            f"{path!r} exists; pass overwrite=True to replace it, or "
            f"choose another output directory."
        )
    height, width = serving.input_shape
    image_spec = tf.TensorSpec([None, height, width, 3], tf.uint8, name="images")
    bytes_spec = tf.TensorSpec([None], tf.string, name="image_bytes")

    def serve(images):
        logits = serving.logits(images)
        return {
            "labels": tf.argmax(logits, axis=-1, output_type=tf.int32),
            "probabilities": tf.nn.softmax(logits, axis=-1),
        }

    def serve_bytes(image_bytes):
        size = tf.shape(_decode(image_bytes[0]))

        def decode(encoded):
            image = _decode(encoded)
            check = tf.debugging.assert_equal(
                tf.shape(image), size, message=(
                    "serving_bytes: every image of a request must have the same height "
                    "and width (they form one batch); send images of other sizes in "
                    "separate requests."))
            with tf.control_dependencies([check]):
                return tf.identity(image)

        images = tf.map_fn(
            decode, image_bytes,
            fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
        )
        return serve(images)

    def serve_logits(images):
        return {"logits": serving.logits(images)}

    # The endpoints capture (and so save) every variable they use. We do not also
    # `track(model)`: Keras 3.15 then saves each weight twice (its own object and the
    # captured tf.Variable), doubling the SavedModel (`model.export` does the same).
    archive = keras.export.ExportArchive()
    archive.add_endpoint("serving_default", serve, input_signature=[image_spec])
    archive.add_endpoint("serving_bytes", serve_bytes, input_signature=[bytes_spec])
    archive.add_endpoint("serving_logits", serve_logits, input_signature=[image_spec])

    meta = serving.metadata(
        precision=precision,
        signatures={
            "serving_default": "images uint8 [N,H,W,3] -> labels int32 [N,H,W], "
                               "probabilities float32 [N,H,W,C]",
            "serving_bytes": "image_bytes string [N] (PNG/JPEG) -> same as "
                             "serving_default",
            "serving_logits": "images uint8 [N,H,W,3] -> logits float32 [N,H,W,C]",
        },
        **(extra_metadata or {}),
    )
    # Written beside `path` and renamed into place (an old model stays until then).
    with atomic_path(path, directory=True) as temp:
        archive.write_out(temp, verbose=False)
        write_json_atomic(os.path.join(temp, "assets.extra", METADATA_FILE), meta)
    return path


def read_saved_model_metadata(path: str) -> dict | None:
    """The keras_drn description stored with a SavedModel.

    Args:
        path: the SavedModel directory.

    Returns:
        `assets.extra/keras_drn.json` as a dict, or None if it is not there.
    """
    file = os.path.join(os.fspath(path), "assets.extra", METADATA_FILE)
    if not os.path.isfile(file):
        return None
    with open(file) as f:
        return json.load(f)
