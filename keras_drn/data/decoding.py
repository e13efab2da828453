"""Reading one example inside a `tf.data` graph: decoding, checks, label maps, and the
errors that name the file.

TensorFlow's decoders fail without saying which file was bad, so every check here
raises (inside the graph) a message marked with `ERROR_MARK`; `data_error_from` turns
the TensorFlow error back into a `DataError` with that text, or reads the source's
files with Pillow to find the culprit when the decoder itself failed.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_drn.data.sources import IGNORE_LABEL
from keras_drn.data.sources import DataError
from keras_drn.data.sources import SegmentationSource
from keras_drn.data.sources import SyntheticSource
from keras_drn.data.sources import TfdsSource
from keras_drn.data.sources import read_label_file
from keras_drn.data.synthetic import render_scene
from keras_drn.files import read_image

# Prefix of every data error raised inside the graph; `data_error_from` turns the
# TensorFlow error back into a DataError with this text.
ERROR_MARK = "keras_drn.DataError: "
ERROR_END = " (end of message)"


def fail(message_parts):
    """The graph-side message of a data error: `message_parts` (strings or string
    tensors) joined between `ERROR_MARK` and `ERROR_END`, for `tf.debugging.Assert`."""
    return tf.strings.join([ERROR_MARK] + list(message_parts) + [ERROR_END])


def data_error_from(error: Exception, source=None) -> Exception:
    """Turns an error raised while iterating a pipeline into a DataError naming the file.

    Errors from TensorFlow's own decoders do not say which file failed; then the
    source's files are read with Pillow until the culprit is found (this can take a
    while on a large data set, and only happens when something is wrong).

    Args:
        error: what iterating the dataset raised.
        source: the source the dataset reads (a SegmentationSource is searched for the
            bad file; a TfdsSource is named).

    Returns:
        A `DataError`, or `error` itself when it is not about the data.
    """
    message = getattr(error, "message", None) or str(error)
    if ERROR_MARK in message:
        text = message.split(ERROR_MARK, 1)[1].split(ERROR_END, 1)[0]
        return DataError(text)
    if "DataError: " in message:  # raised by Python code inside numpy_function
        text = message.split("DataError: ", 1)[1].split("\n", 1)[0]
        return DataError(text.rstrip())
    if not isinstance(error, tf.errors.OpError):
        return error
    if isinstance(source, SegmentationSource):
        import sys

        from keras_drn.data.sources import diagnose

        print(f"TensorFlow failed while reading {source.description} "
              f"({message.splitlines()[0][:200]}); checking its {len(source)} files with "
              f"Pillow to name the culprit...", file=sys.stderr, flush=True)
        diagnose(source)  # raises DataError naming the file when it finds one
    if isinstance(source, TfdsSource):
        return DataError(
            f"Reading {source.description} failed: {message.splitlines()[0]}. The "
            f"prepared tfds files may be damaged: delete them and prepare them again."
        )
    return error


def decode_image(contents, name):
    """An encoded image (any format TensorFlow reads) to (H, W, 3) uint8 RGB."""
    image = tf.io.decode_image(contents, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def decode_label(contents_or_path, name, source, encoding):
    """Raw label values (uint8, (H, W)) from encoded bytes (train_ids, label_ids) or,
    for formats TensorFlow cannot read as indices, from the file path via Pillow."""
    if encoding in ("palette", "sbd_mat"):
        def read(path):
            path = path.decode()
            try:
                return read_label_file(path, encoding).astype(np.uint8)
            except DataError:
                raise
            except Exception as e:  # noqa: BLE001 - any reader failure names the file
                raise DataError(f"Cannot decode the label {path}: {e}.") from None

        label = tf.numpy_function(read, [contents_or_path], tf.uint8, stateful=False)
        label.set_shape([None, None])
        return label
    raw = tf.io.decode_png(contents_or_path, channels=0)
    channels = tf.shape(raw)[2]
    check = tf.debugging.Assert(channels == 1, [fail([
        "The label ", name, " is not a single-channel image (it has ",
        tf.strings.as_string(channels), " channels); expected a gray PNG of class ids, "
        "not a colour rendering or a palette image."])])
    with tf.control_dependencies([check]):
        label = tf.identity(raw[:, :, 0])
    label.set_shape([None, None])
    return label


def check_and_map(image, label, image_name, label_name, source):
    """Asserts equal sizes and valid label values (naming the files), then maps label
    ids to train ids when the source says so."""
    ishape, lshape = tf.shape(image), tf.shape(label)
    same = tf.reduce_all(ishape[:2] == lshape[:2])
    size_check = tf.debugging.Assert(same, [fail([
        "The image ", image_name, " (", tf.strings.as_string(ishape[0]), "x",
        tf.strings.as_string(ishape[1]), ") and its label ", label_name, " (",
        tf.strings.as_string(lshape[0]), "x", tf.strings.as_string(lshape[1]),
        ") differ in size (HxW); an image and its label must have the same size."])])
    limit = (source.max_label_value + 1 if source.max_label_value is not None
             else source.classes)
    values = tf.cast(label, tf.int32)
    bad = (values >= limit) & (values != IGNORE_LABEL)
    first_bad = tf.reduce_max(tf.where(bad, values, -1))
    expected = (f"[0, {source.max_label_value}] (label ids)"
                if source.max_label_value is not None else f"[0, {source.classes})")
    range_check = tf.debugging.Assert(tf.logical_not(tf.reduce_any(bad)), [fail([
        "The label ", label_name, " holds the value ", tf.strings.as_string(first_bad),
        f", outside {expected} and {IGNORE_LABEL} (ignore). Check --classes "
        f"({source.classes}) and that the file holds "
        f"{'label ids' if source.label_map is not None else 'train ids'}."])])
    with tf.control_dependencies([size_check, range_check]):
        image = tf.identity(image)
        if source.label_map is not None:
            label = tf.gather(tf.constant(source.label_map, tf.uint8),
                              tf.cast(label, tf.int32))
        else:
            label = tf.identity(label)
    return image, label


def load_file_pair(source: SegmentationSource, index):
    """Example `index` of a file source: (image uint8 (H, W, 3), label uint8 (H, W)
    in train ids; all 255 when the source has no labels)."""
    images = tf.constant(source.images)
    image_path = images[index]
    image = decode_image(tf.io.read_file(image_path), image_path)
    if source.labels is None:
        return image, tf.fill(tf.shape(image)[:2], tf.constant(IGNORE_LABEL, tf.uint8))
    label_path = tf.constant(source.labels)[index]
    if source.label_encoding in ("palette", "sbd_mat"):
        label = decode_label(label_path, label_path, source, source.label_encoding)
    else:
        label = decode_label(tf.io.read_file(label_path), label_path, source,
                             source.label_encoding)
    return check_and_map(image, label, image_path, label_path, source)


def render(source: SyntheticSource, scene_seed):
    """The synthetic scene of `scene_seed` (a scalar int64 tensor) at the source's
    size: (image uint8 (h, w, 3), label uint8 (h, w))."""
    h, w = source.image_size

    def draw(seed):
        return render_scene(int(seed), h, w)

    image, label = tf.numpy_function(draw, [scene_seed], (tf.uint8, tf.uint8),
                                     stateful=False)
    image.set_shape([h, w, 3])
    label.set_shape([h, w])
    return image, label


def decode_tfds(source: TfdsSource, example):
    """A tfds example (images still encoded) to a checked (image, label) pair."""
    name = tf.strings.join(["tfds:", source.description, "/", example[source.id_key]])
    image = decode_image(example[source.image_key], name)
    label = decode_label(example[source.label_key], name, source, "train_ids")
    return check_and_map(image, label, name, name, source)


def first_size(source: SegmentationSource) -> tuple[int, int]:
    """(height, width) of the source's first image.

    Raises:
        DataError: the image cannot be read; the message names it.
    """
    try:
        height, width = read_image(source.images[0]).shape[:2]
    except ValueError as e:  # read_image names the file
        raise DataError(f"{e}.") from None
    return height, width
