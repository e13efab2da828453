"""On-the-fly augmentation in TensorFlow, as fyu/drn data_transforms.py.

Training applies, in segment.py's order (360-368): RandomRotate, RandomScale,
RandomCrop (with padding), RandomHorizontalFlip, then ToTensor + Normalize. Every random
draw is *stateless*, from a per-example seed, so an example's augmentation depends only
on (run seed, example index): parallel decoding cannot change it, and a resumed run
repeats exactly what an uninterrupted one would have done.

Images are float32 RGB on [0, 255] until `normalize`; labels are uint8 train ids with
255 = ignore, shape (H, W).
"""

from __future__ import annotations

import math

import tensorflow as tf

IGNORE_LABEL = 255

# Sub-seeds: each transform folds its own constant into the example seed.
_ROTATE, _SCALE, _CROP_Y, _CROP_X, _FLIP = 1, 2, 3, 4, 5


def _sub_seed(seed, which: int):
    return tf.random.experimental.stateless_fold_in(seed, which)


def random_rotate(image, label, max_degrees: float, seed):
    """data_transforms.py RandomRotate (69-93): an integer angle uniform in
    [-max_degrees, max_degrees], counter-clockwise about the image centre; the image
    bilinear with reflected borders, the label nearest with 255 outside.

    The reference pads by (h, h, w, w) before rotating and crops back, which for the
    image is a reflection of the border; TensorFlow's "REFLECT" repeats the edge pixel
    (d c b a | a b c d), the reference's does not (d c b | a b c d): a one-pixel
    difference in the filled corners only.
    """
    limit = int(max_degrees)
    angle = tf.random.stateless_uniform(
        [], _sub_seed(seed, _ROTATE), minval=-limit, maxval=limit + 1, dtype=tf.int32)
    theta = tf.cast(angle, tf.float32) * (math.pi / 180.0)
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    c, s = tf.cos(theta), tf.sin(theta)
    # Output pixel (x, y) samples input (x', y'): the inverse of a counter-clockwise
    # rotation on screen (y down), i.e. x' = c dx - s dy + cx, y' = s dx + c dy + cy.
    transform = tf.stack([c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy,
                          0.0, 0.0])[None]
    size = shape[:2]

    def apply(x, interpolation, fill_mode, fill_value):
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=x[None], transforms=transform, output_shape=size,
            fill_value=fill_value, interpolation=interpolation, fill_mode=fill_mode,
        )[0]

    image = apply(image, "BILINEAR", "REFLECT", 0.0)
    label = apply(tf.cast(label[..., None], tf.float32), "NEAREST", "CONSTANT",
                  float(IGNORE_LABEL))
    return image, tf.cast(label[..., 0], tf.uint8)


def random_scale(image, label, scale: float, seed):
    """data_transforms.py RandomScale (48-66): ratio uniform in [1/scale, scale], new
    size int(ratio * w) x int(ratio * h); the image antialiased when shrinking (PIL's
    ANTIALIAS, a Lanczos filter) and bicubic when enlarging, the label nearest."""
    ratio = tf.random.stateless_uniform(
        [], _sub_seed(seed, _SCALE), minval=1.0 / scale, maxval=float(scale))
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    size = tf.maximum(tf.cast(tf.floor(ratio * shape), tf.int32), 1)
    image = tf.cond(
        ratio < 1.0,
        lambda: tf.image.resize(image, size, method="lanczos3", antialias=True),
        lambda: tf.image.resize(image, size, method="bicubic"),
    )
    image = tf.clip_by_value(image, 0.0, 255.0)
    label = tf.image.resize(label[..., None], size, method="nearest")[..., 0]
    return image, label


def reflect_indices(length, before, after):
    """Indices into an axis of `length` that pad it by reflection without repeating the
    edge (numpy "reflect"), for any pad size: the reference's `pad_reflection` applied
    repeatedly, which is the periodic reflection of period 2 * (length - 1)."""
    positions = tf.range(-before, length + after)
    period = tf.maximum(2 * (length - 1), 1)
    q = tf.math.floormod(positions, period)
    return tf.where(q < length, q, period - q)


def pad_to_at_least(image, label, height: int, width: int):
    """data_transforms.py RandomCrop's padding (9-45): when smaller than the crop,
    centre the image, reflect it into the border and fill the label with 255."""
    shape = tf.shape(image)
    h, w = shape[0], shape[1]
    pad_h, pad_w = tf.maximum(height - h, 0), tf.maximum(width - w, 0)
    top, left = pad_h // 2, pad_w // 2
    rows = reflect_indices(h, top, pad_h - top)
    cols = reflect_indices(w, left, pad_w - left)
    image = tf.gather(tf.gather(image, rows, axis=0), cols, axis=1)
    label = tf.pad(label, [[top, pad_h - top], [left, pad_w - left]],
                   constant_values=IGNORE_LABEL)
    return image, label


def random_crop(image, label, height: int, width: int, seed):
    """Pads when needed, then crops (height, width) at a uniformly random position."""
    image, label = pad_to_at_least(image, label, height, width)
    shape = tf.shape(image)
    y = tf.random.stateless_uniform([], _sub_seed(seed, _CROP_Y), minval=0,
                                    maxval=shape[0] - height + 1, dtype=tf.int32)
    x = tf.random.stateless_uniform([], _sub_seed(seed, _CROP_X), minval=0,
                                    maxval=shape[1] - width + 1, dtype=tf.int32)
    image = image[y:y + height, x:x + width]
    label = label[y:y + height, x:x + width]
    image.set_shape([height, width, 3])
    label.set_shape([height, width])
    return image, label


def random_flip(image, label, seed):
    """RandomHorizontalFlip with probability 0.5."""
    image, label = tf.convert_to_tensor(image), tf.convert_to_tensor(label)
    flip = tf.random.stateless_uniform([], _sub_seed(seed, _FLIP)) < 0.5
    image = tf.cond(flip, lambda: image[:, ::-1], lambda: image)
    label = tf.cond(flip, lambda: label[:, ::-1], lambda: label)
    return image, label


def normalize(image, mean, std, scale: float = 1 / 255):
    """ToTensor + Normalize: (x * scale - mean) / std, channel by channel (RGB); scale
    1/255 for DRN (fyu/drn), 1 with std 1 for Dilation (mean subtraction on 0..255)."""
    mean = tf.constant(mean, tf.float32)
    std = tf.constant(std, tf.float32)
    return (tf.cast(image, tf.float32) * scale - mean) / std


# fyu/dilation: 186 pixels of context on each side, labels at the output stride 8.
DILATION_MARGIN = 186
DILATION_STRIDE = 8


def dilation_label_size(crop: int) -> int:
    if (crop - 2 * DILATION_MARGIN) % DILATION_STRIDE or crop <= 2 * DILATION_MARGIN:
        raise ValueError(
            f"Invalid crop size {crop} for a Dilation network: (crop - 372) must be a "
            f"positive multiple of 8 (fyu/dilation train.py:121-122), e.g. 500 or 380."
        )
    return (crop - 2 * DILATION_MARGIN) // DILATION_STRIDE


def dilation_crop(image, label, crop_size, seed):
    """fyu/dilation's training crop (caffe-dilation image_label_data_layer.cpp:334-347,
    network.py:15-30): the image reflect-padded by 186 on every side, the label padded
    with 255; a random (crop, crop) window of both; the label then sampled from offset
    186 at stride 8, giving the (crop - 372) / 8 labels the network outputs."""
    crop_h, crop_w = crop_size
    out_h, out_w = dilation_label_size(crop_h), dilation_label_size(crop_w)
    m = DILATION_MARGIN
    shape = tf.shape(image)
    rows = reflect_indices(shape[0], m, m)
    cols = reflect_indices(shape[1], m, m)
    image = tf.gather(tf.gather(image, rows, axis=0), cols, axis=1)
    label = tf.pad(label, [[m, m], [m, m]], constant_values=IGNORE_LABEL)
    image, label = random_crop(image, label, crop_h, crop_w, seed)
    label = label[m:m + DILATION_STRIDE * out_h:DILATION_STRIDE,
                  m:m + DILATION_STRIDE * out_w:DILATION_STRIDE]
    label.set_shape([out_h, out_w])
    return image, label


def train_augment(image, label, seed, *, crop_size, random_scale_factor=0.0,
                  random_rotate_degrees=0, flip=True, dilation_geometry=False):
    """The training transform of segment.py: image float32 [0, 255] (H, W, 3), label
    uint8 (H, W); returns a (crop_h, crop_w) pair, not yet normalised. With
    `dilation_geometry`, the crop is fyu/dilation's (`dilation_crop`) and the label
    comes out at stride 8 (flipped before cropping, which is the same)."""
    crop_h, crop_w = crop_size
    image = tf.cast(image, tf.float32)
    if random_rotate_degrees and random_rotate_degrees > 0:
        image, label = random_rotate(image, label, random_rotate_degrees, seed)
    if random_scale_factor and random_scale_factor > 0:
        image, label = random_scale(image, label, random_scale_factor, seed)
    if dilation_geometry:
        if flip:
            image, label = random_flip(image, label, seed)
        return dilation_crop(image, label, crop_size, seed)
    image, label = random_crop(image, label, crop_h, crop_w, seed)
    if flip:
        image, label = random_flip(image, label, seed)
    return image, label
