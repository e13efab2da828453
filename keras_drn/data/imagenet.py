"""ImageNet (ILSVRC 2012) classification data for DRN, as fyu/drn classify.py reads it.

Sources: a class-per-folder directory (`<dir>/train/<wnid>/*.JPEG`, `<dir>/val/<wnid>/
*.JPEG`, torchvision's ImageFolder layout, classes sorted by folder name), or the
tensorflow-datasets builder `imagenet2012` prepared from the ILSVRC tars in a
`manual_dir`.

Transforms (classify.py): training RandomSizedCrop(224) (area 8%-100%, aspect ratio
3/4-4/3, up to 10 tries, else a centre crop) and a horizontal flip; validation resizes
the shorter side to 256 and takes the centre 224 x 224; both normalised with ImageNet's
mean and std.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import tensorflow as tf

from keras_drn.data import augment
from keras_drn.data.decoding import fail
from keras_drn.data.pipeline import AUTOTUNE
from keras_drn.data.pipeline import global_indices
from keras_drn.data.pipeline import per_replica_batch
from keras_drn.data.pipeline import placement
from keras_drn.data.pipeline import tfds_stream
from keras_drn.data.sources import DataError
from keras_drn.data.sources import TfdsSource
from keras_drn.files import list_image_files
from keras_drn.meta.normalization import NORMALIZATION
from keras_drn.meta.normalization import Normalization

# Image files (`keras_drn.files.IMAGE_SUFFIXES`) that `tf.io.decode_image` cannot read,
# left out of a folder source.
NOT_DECODABLE = (".ppm", ".tif", ".tiff")
HELP = (
    "Accepted ImageNet layouts:\n"
    "  1. a class-per-folder directory: <dir>/train/<class>/*.JPEG and "
    "<dir>/val/<class>/*.JPEG (torchvision ImageFolder, as fyu/drn classify.py);\n"
    "  2. --dataset imagenet_tfds with --manual-dir holding ILSVRC2012_img_train.tar "
    "and ILSVRC2012_img_val.tar.\n"
    "ImageNet is downloaded from https://image-net.org after registering."
)


@dataclass(frozen=True)
class ClassificationSource:
    images: tuple[str, ...]
    labels: tuple[int, ...]
    class_names: tuple[str, ...]
    description: str
    normalization: Normalization = NORMALIZATION["imagenet"]
    dataset: str = "imagenet"

    def __len__(self) -> int:
        return len(self.images)

    @property
    def classes(self) -> int:
        return len(self.class_names)

    def check_files_exist(self) -> None:
        for path in self.images:
            if not os.path.isfile(path):
                raise DataError(f"The image {path} listed in {self.description} does "
                                f"not exist.")


def folder_source(data_dir: str | None, split: str = "train") -> ClassificationSource:
    """Images of `<data_dir>/<split>/<class>/`, labels by sorted class folder."""
    root = os.path.join(data_dir or "", split)
    if not data_dir or not os.path.isdir(root):
        raise DataError(f"No ImageNet {split} folder at {root!r}.\n" + HELP)
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    images, labels = [], []
    for index, name in enumerate(classes):
        for path in list_image_files(os.path.join(root, name), recursive=False):
            if not path.lower().endswith(NOT_DECODABLE):
                images.append(path)
                labels.append(index)
    if not images:
        raise DataError(f"{root} holds no images in class folders.\n" + HELP)
    return ClassificationSource(tuple(images), tuple(labels), tuple(classes),
                                f"the image folders in {root}")


def tfds_source(split: str = "train", *, manual_dir=None, data_dir=None) -> TfdsSource:
    import tensorflow_datasets as tfds

    tfds_split = {"train": "train", "val": "validation"}[split]
    builder = tfds.builder("imagenet2012", data_dir=data_dir)
    if not builder.is_prepared():
        if not manual_dir:
            raise DataError("The tfds imagenet2012 builder is not prepared; pass "
                            "--manual-dir.\n" + HELP)
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))

    def dataset_fn():
        return builder.as_dataset(split=tfds_split, shuffle_files=False,
                                  decoders={"image": tfds.decode.SkipDecoding()})

    return TfdsSource(
        dataset_fn=dataset_fn, count=builder.info.splits[tfds_split].num_examples,
        image_key="image", label_key="label", id_key="file_name", classes=1000,
        normalization=NORMALIZATION["imagenet"], label_map=None, max_label_value=None,
        dataset="imagenet", description=f"tfds imagenet2012 ({tfds_split})")


def random_resized_crop(image, size: int, seed, *, scale=(0.08, 1.0),
                        ratio=(3 / 4, 4 / 3), attempts: int = 10):
    """torchvision RandomResizedCrop (RandomSizedCrop in classify.py): a window of
    random area and aspect ratio, resized (bilinear) to size x size. After `attempts`
    failed draws, the largest centred window within the ratio bounds."""
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    area = h * w
    draws = tf.random.stateless_uniform([attempts, 4], seed)
    target = area * (scale[0] + (scale[1] - scale[0]) * draws[:, 0])
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = tf.exp(log_lo + (log_hi - log_lo) * draws[:, 1])
    cw = tf.round(tf.sqrt(target * aspect))
    ch = tf.round(tf.sqrt(target / aspect))
    ok = (cw <= w) & (ch <= h) & (cw > 0) & (ch > 0)
    first = tf.argmax(tf.cast(ok, tf.int32))
    any_ok = tf.reduce_any(ok)
    in_ratio = tf.clip_by_value(w / h, ratio[0], ratio[1])
    fallback_w = tf.where(w / h > ratio[1], tf.round(h * in_ratio), w)
    fallback_h = tf.where(w / h < ratio[0], tf.round(w / in_ratio), h)
    cw = tf.where(any_ok, cw[first], fallback_w)
    ch = tf.where(any_ok, ch[first], fallback_h)
    y = tf.where(any_ok, tf.floor((h - ch + 1) * draws[first, 2]), tf.floor((h - ch) / 2))
    x = tf.where(any_ok, tf.floor((w - cw + 1) * draws[first, 3]), tf.floor((w - cw) / 2))
    y = tf.cast(tf.minimum(y, h - ch), tf.int32)
    x = tf.cast(tf.minimum(x, w - cw), tf.int32)
    crop = image[y:y + tf.cast(ch, tf.int32), x:x + tf.cast(cw, tf.int32)]
    resized = tf.image.resize(tf.cast(crop, tf.float32), (size, size), method="bilinear",
                              antialias=True)
    resized.set_shape([size, size, 3])
    return resized


def resize_center_crop(image, resize: int = 256, crop: int = 224):
    """transforms.Scale(256) + CenterCrop(224): the shorter side to `resize`."""
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    factor = resize / tf.reduce_min(shape)
    size = tf.cast(tf.round(shape * factor), tf.int32)
    image = tf.image.resize(tf.cast(image, tf.float32), size, method="bilinear",
                            antialias=True)
    top = (size[0] - crop) // 2
    left = (size[1] - crop) // 2
    image = image[top:top + crop, left:left + crop]
    image.set_shape([crop, crop, 3])
    return image


def _decode(contents, name):
    image = tf.io.decode_image(contents, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    check = tf.debugging.Assert(tf.reduce_all(tf.shape(image)[:2] > 0),
                                [fail(["The image ", name, " is empty."])])
    with tf.control_dependencies([check]):
        return tf.identity(image)


def _load(source: ClassificationSource, index):
    path = tf.constant(source.images)[index]
    label = tf.constant(source.labels, tf.int32)[index]
    return _decode(tf.io.read_file(path), path), label


def train_dataset(source, *, global_batch: int, crop_size: int = 224, seed: int = 0,
                  start_step: int = 0, input_context=None, flip: bool = True,
                  num_parallel_calls=AUTOTUNE) -> tf.data.Dataset:
    """Endless per-replica batches of (image float32 normalised, label int32), the
    same deterministic, resumable, shardable stream as segmentation's."""
    batch = per_replica_batch(global_batch, input_context)
    norm = source.normalization
    seed = int(seed)

    def transform(g, image, label):
        example_seed = tf.stack([tf.constant(seed, tf.int64), g])
        image = random_resized_crop(image, crop_size, example_seed)
        if flip:
            image, _ = augment.random_flip(image, tf.zeros(tf.shape(image)[:2]),
                                           example_seed)
        return augment.normalize(image, norm.mean, norm.std, norm.scale), label

    if isinstance(source, TfdsSource):
        ds = tfds_stream(source, global_batch, seed, start_step, input_context)
        ds = ds.map(lambda g, ex: (g, _decode(ex[source.image_key], ex[source.id_key]),
                                   tf.cast(ex[source.label_key], tf.int32)),
                    num_parallel_calls=num_parallel_calls)
    else:
        count = len(source)

        def load(g):
            shuffle_seed = tf.stack([tf.constant(seed, tf.int64), g // count])
            index = tf.random.experimental.index_shuffle(
                g % count, shuffle_seed, tf.constant(count - 1, tf.int64))
            return (g, *_load(source, index))

        ds = global_indices(global_batch, start_step, input_context).map(
            load, num_parallel_calls=num_parallel_calls)
    ds = ds.map(transform, num_parallel_calls=num_parallel_calls)
    return ds.batch(batch, drop_remainder=True).prefetch(AUTOTUNE)


def eval_dataset(source, *, global_batch: int, input_context=None, resize: int = 256,
                 crop_size: int = 224, num_parallel_calls=AUTOTUNE):
    """One pass, padded to whole global batches with label -1 (not counted)."""
    n, i, per_pipeline = placement(global_batch, input_context)
    batch = per_replica_batch(global_batch, input_context)
    count = len(source)
    steps = max(1, math.ceil(count / global_batch))
    norm = source.normalization

    def finish(image, label):
        image = resize_center_crop(image, resize, crop_size)
        return augment.normalize(image, norm.mean, norm.std, norm.scale), label

    if isinstance(source, TfdsSource):
        examples = source.dataset_fn()
        if n > 1:
            examples = examples.shard(n, i)
        ds = examples.map(lambda ex: finish(_decode(ex[source.image_key],
                                                    ex[source.id_key]),
                                            tf.cast(ex[source.label_key], tf.int32)),
                          num_parallel_calls=num_parallel_calls)
        dummy = tf.data.Dataset.from_tensors(
            (tf.zeros([crop_size, crop_size, 3]), tf.constant(-1, tf.int32))).repeat()
        ds = ds.concatenate(dummy).take(steps * per_pipeline)
        return ds.batch(batch, drop_remainder=True).prefetch(AUTOTUNE), steps

    def load(g):
        image, label = _load(source, tf.minimum(g, count - 1))
        image, label = finish(image, label)
        return image, tf.where(g < count, label, -1)

    ds = global_indices(global_batch, 0, input_context).take(steps * per_pipeline).map(
        load, num_parallel_calls=num_parallel_calls)
    return ds.batch(batch, drop_remainder=True).prefetch(AUTOTUNE), steps


def class_names_of(source) -> tuple[str, ...]:
    names = getattr(source, "class_names", None)
    return tuple(names) if names else tuple(f"class_{i}" for i in range(source.classes))


__all__ = ["ClassificationSource", "folder_source", "tfds_source", "train_dataset",
           "eval_dataset", "random_resized_crop", "resize_center_crop"]
