"""`tf.data` pipelines for segmentation: shuffling, augmentation, batching and
per-worker sharding, for every kind of source (`keras_drn.data.sources`; each example
is read and checked by `keras_drn.data.decoding`).

Training streams are a pure function of (seed, global example index): example g of the
run is the `g mod N`-th entry of a seeded permutation of the data for pass `g // N`
(`tf.random.experimental.index_shuffle`, no shuffle buffer), and its augmentation is
drawn from the seed (seed, g). The global batch of step t holds examples
[t * B, (t + 1) * B); input pipeline i of n (one per worker under
`MultiWorkerMirroredStrategy`) produces the slice [t * B + i * B / n, ...) of it, cut
into per-replica batches. Hence:
  - the examples of a step do not depend on how many replicas or workers share it, so
    two replicas see exactly what one replica with the same global batch sees;
  - resuming at step s starts at example s * B with nothing to replay: the checkpoint's
    step *is* the data position.

Evaluation streams go through the data once, padded to whole global batches with
examples whose labels are all 255 (ignored), so every replica runs every step.
"""

from __future__ import annotations

import math

import tensorflow as tf

from keras_drn.data import augment
from keras_drn.data.decoding import data_error_from  # noqa: F401  (re-exported)
from keras_drn.data.decoding import decode_tfds
from keras_drn.data.decoding import fail
from keras_drn.data.decoding import first_size
from keras_drn.data.decoding import load_file_pair
from keras_drn.data.decoding import render
from keras_drn.data.sources import _SCENE_BASES
from keras_drn.data.sources import IGNORE_LABEL
from keras_drn.data.sources import SyntheticSource
from keras_drn.data.sources import TfdsSource
from keras_drn.meta.normalization import Normalization

AUTOTUNE = tf.data.AUTOTUNE
# Examples permuted together when shuffling a sequentially read tfds split.
TFDS_SHUFFLE_BLOCK = 256
# Names that lived here before the sources and the decoding got modules of their own
# (`_SCENE_BASES` and `_decode_tfds` are still imported from here).
_decode_tfds = decode_tfds
__all__ = ["AUTOTUNE", "SyntheticSource", "TfdsSource", "data_error_from", "eval_dataset",
           "global_indices", "per_replica_batch", "placement", "tfds_stream",
           "train_dataset", "_SCENE_BASES"]


def per_replica_batch(global_batch: int, input_context=None) -> int:
    """Examples per replica and step: `global_batch`, split over the replicas of
    `input_context` (a `tf.distribute.InputContext`; None for one replica)."""
    if input_context is None:
        return global_batch
    return input_context.get_per_replica_batch_size(global_batch)


def placement(global_batch: int, input_context):
    """(number of input pipelines, this pipeline's id, examples per pipeline and step)."""
    n = 1 if input_context is None else input_context.num_input_pipelines
    i = 0 if input_context is None else input_context.input_pipeline_id
    if global_batch % n:
        raise ValueError(
            f"The global batch size {global_batch} must be a multiple of the number of "
            f"input pipelines (workers), {n}."
        )
    per_pipeline = global_batch // n
    per_replica_batch(global_batch, input_context)  # raises if not divisible
    return n, i, per_pipeline


def global_indices(global_batch: int, start_step: int = 0, input_context=None):
    """The global example indices this input pipeline produces, from `start_step` on."""
    n, i, per_pipeline = placement(global_batch, input_context)
    start = int(start_step) * per_pipeline

    def to_global(j):
        step, offset = j // per_pipeline, j % per_pipeline
        return step * global_batch + i * per_pipeline + offset

    return tf.data.Dataset.range(start, 2**62).map(to_global)


# -- training ------------------------------------------------------------------------


def train_dataset(
    source,
    *,
    global_batch: int,
    crop_size,
    seed: int = 0,
    start_step: int = 0,
    input_context=None,
    random_scale: float = 0.0,
    random_rotate: float = 0.0,
    flip: bool = True,
    num_parallel_calls=AUTOTUNE,
    prefetch=AUTOTUNE,
    dilation_geometry: bool = False,
    normalization: Normalization | None = None,
) -> tf.data.Dataset:
    """An endless stream of (image float32 (b, h, w, 3) normalised, label uint8
    (b, h, w)) per-replica batches for this input pipeline (see the module docstring).

    Args:
        source: a SegmentationSource, SyntheticSource or TfdsSource.
        global_batch: examples per step over all replicas.
        crop_size: int or (height, width) of the training crops.
        seed: the run's seed (shuffle order, augmentation, synthetic scenes).
        start_step: the first step to produce (resuming).
        input_context: a `tf.distribute.InputContext` (None: one pipeline, one replica).
        random_scale, random_rotate, flip: segment.py's augmentation flags.
        dilation_geometry: fyu/dilation's crops (186 pixels of context, labels at
            stride 8) for the Dilation networks.
        normalization: overrides the source's statistics.
    """
    crop = _pair(crop_size)
    batch = per_replica_batch(global_batch, input_context)
    norm = normalization or source.normalization
    seed = int(seed)

    def augment_one(g, image, label):
        example_seed = tf.stack([tf.constant(seed, tf.int64), g])
        image, label = augment.train_augment(
            image, label, example_seed, crop_size=crop, random_scale_factor=random_scale,
            random_rotate_degrees=random_rotate, flip=flip,
            dilation_geometry=dilation_geometry)
        return augment.normalize(image, norm.mean, norm.std, norm.scale), label

    if isinstance(source, TfdsSource):
        ds = tfds_stream(source, global_batch, seed, start_step, input_context)
        ds = ds.map(lambda g, ex: (g, *decode_tfds(source, ex)),
                    num_parallel_calls=num_parallel_calls)
    else:
        ds = global_indices(global_batch, start_step, input_context)
        if isinstance(source, SyntheticSource):
            if source.split != "train":
                raise ValueError("train_dataset needs SyntheticSource(split='train').")
            ds = ds.map(lambda g: (g, *render(source, seed * 2**32 + g)),
                        num_parallel_calls=num_parallel_calls)
        else:
            count = len(source)

            def load(g):
                passes, position = g // count, g % count
                shuffle_seed = tf.stack([tf.constant(seed, tf.int64), passes])
                index = tf.random.experimental.index_shuffle(
                    position, shuffle_seed, tf.constant(count - 1, tf.int64))
                return (g, *load_file_pair(source, index))

            ds = ds.map(load, num_parallel_calls=num_parallel_calls)
    ds = ds.map(augment_one, num_parallel_calls=num_parallel_calls)
    ds = ds.batch(batch, drop_remainder=True)
    return ds.prefetch(prefetch)


def tfds_stream(source: TfdsSource, global_batch, seed, start_step, input_context):
    """(g, example) for this pipeline; position g of the concatenated passes is global
    example g.

    A tfds split is read sequentially, so pass p is shuffled locally, statelessly and
    resumably: the split is rotated by a seeded offset, cut into blocks of
    `TFDS_SHUFFLE_BLOCK` examples, and each block permuted with `index_shuffle` seeded
    by (seed, p, block). Like a shuffle buffer of that size, but a pure function of
    (seed, p), so a resumed run skips straight to its position in its pass (on encoded
    bytes, without decoding)."""
    n, i, per_pipeline = placement(global_batch, input_context)
    start = int(start_step) * global_batch
    count = source.count
    first_pass, skip = divmod(start, count)
    block = min(count, TFDS_SHUFFLE_BLOCK)

    def one_pass(p):
        base = source.dataset_fn()
        offset = tf.random.stateless_uniform(
            [], tf.stack([tf.constant(seed, tf.int64), p]), minval=0, maxval=count,
            dtype=tf.int64)
        rotated = base.skip(offset).concatenate(base.take(offset))
        blocks = rotated.batch(block).enumerate()

        def permute(b, examples):
            size = tf.shape(examples[source.id_key], out_type=tf.int64)[0]
            order = tf.random.experimental.index_shuffle(
                tf.range(size), tf.stack([tf.constant(seed, tf.int64), p * 1_000_003 + b]),
                size - 1)
            return tf.data.Dataset.from_tensor_slices(
                tf.nest.map_structure(lambda x: tf.gather(x, order), examples))

        return blocks.flat_map(permute)

    ds = tf.data.Dataset.range(first_pass, 2**62).flat_map(one_pass).skip(skip)
    ds = tf.data.Dataset.zip(tf.data.Dataset.range(start, 2**62), ds)
    if n > 1:
        ds = ds.batch(per_pipeline, drop_remainder=True).shard(n, i).unbatch()
    return ds


# -- evaluation ----------------------------------------------------------------------


def eval_dataset(source, *, global_batch: int, input_context=None,
                 eval_size=None, num_parallel_calls=AUTOTUNE,
                 dilation_geometry: bool = False,
                 normalization: Normalization | None = None):
    """One pass over an evaluation split, padded to whole global batches.

    Returns (dataset of per-replica (image, label) batches, steps). Images are padded
    at the bottom and right to `eval_size` (or the source's) with the dataset mean
    (0 after normalisation) and labels with 255, so that every batch has one shape.
    With `dilation_geometry` the image is then reflect-padded by 186 on every side and
    the labels taken at stride 8, the Dilation networks' output grid.
    """
    n, i, per_pipeline = placement(global_batch, input_context)
    batch = per_replica_batch(global_batch, input_context)
    count = len(source)
    steps = max(1, math.ceil(count / global_batch))
    size = eval_size or getattr(source, "eval_size", None)
    if isinstance(source, SyntheticSource):
        size = source.image_size
    norm = normalization or source.normalization
    indices = global_indices(global_batch, 0, input_context).take(steps * per_pipeline)

    def finish(image, label):
        image = augment.normalize(image, norm.mean, norm.std, norm.scale)
        if size is None:
            return image, label
        h, w = size
        shape = tf.shape(image)
        fits = tf.debugging.Assert(
            (shape[0] <= h) & (shape[1] <= w),
            [fail(["An evaluation image is larger (", tf.strings.as_string(shape[0]),
                    "x", tf.strings.as_string(shape[1]), f") than the evaluation size "
                    f"{h}x{w}; pass a larger --eval-size."])])
        with tf.control_dependencies([fits]):
            image = tf.pad(image, [[0, h - shape[0]], [0, w - shape[1]], [0, 0]])
            label = tf.pad(label, [[0, h - shape[0]], [0, w - shape[1]]],
                           constant_values=IGNORE_LABEL)
        image.set_shape([h, w, 3])
        label.set_shape([h, w])
        if dilation_geometry:
            return _dilation_eval(image, label)
        return image, label

    if isinstance(source, TfdsSource):
        examples = source.dataset_fn()
        if n > 1:
            examples = examples.shard(n, i)
        ds = examples.map(lambda ex: finish(*decode_tfds(source, ex)),
                          num_parallel_calls=num_parallel_calls)
        if size is None:
            raise ValueError("Evaluating a tfds source needs eval_size.")
        ds = ds.concatenate(_dummies(size, norm, dilation_geometry)).take(
            steps * per_pipeline)
        return ds.batch(batch, drop_remainder=True).prefetch(AUTOTUNE), steps
    if size is None:
        size = first_size(source)

    def load(g):
        real = g < count
        index = tf.minimum(g, count - 1)
        if isinstance(source, SyntheticSource):
            base = _SCENE_BASES[source.split]
            image, label = render(source, tf.constant(base, tf.int64) + index)
        else:
            image, label = load_file_pair(source, index)
        image, label = finish(image, label)
        label = tf.where(real, label, tf.constant(IGNORE_LABEL, tf.uint8))
        return image, label

    ds = indices.map(load, num_parallel_calls=num_parallel_calls)
    return ds.batch(batch, drop_remainder=True).prefetch(AUTOTUNE), steps


def _dilation_eval(image, label):
    """Whole (padded) image with 186 pixels of reflected context on every side; labels
    at the stride-8 output positions (fyu/dilation test.py, predict.py:65-67)."""
    m, stride = augment.DILATION_MARGIN, augment.DILATION_STRIDE
    shape = tf.shape(image)
    rows = augment.reflect_indices(shape[0], m, m)
    cols = augment.reflect_indices(shape[1], m, m)
    h, w = image.shape[0], image.shape[1]
    image = tf.gather(tf.gather(image, rows, axis=0), cols, axis=1)
    image.set_shape([h + 2 * m, w + 2 * m, 3])
    label = label[::stride, ::stride][: h // stride, : w // stride]
    label.set_shape([h // stride, w // stride])
    return image, label


def _dummies(size, norm, dilation_geometry=False):
    h, w = size
    image = tf.zeros([h, w, 3], tf.float32)
    label = tf.fill([h, w], tf.constant(IGNORE_LABEL, tf.uint8))
    if dilation_geometry:
        image, label = _dilation_eval(image, label)
    return tf.data.Dataset.from_tensors((image, label)).repeat()


def _pair(size):
    if isinstance(size, (tuple, list)):
        h, w = (int(v) for v in size)
    else:
        h = w = int(size)
    if h < 8 or w < 8:
        raise ValueError(f"Invalid crop size {size!r}: expected at least 8 pixels.")
    return h, w
