"""Augmentation against independent references (numpy padding, Pillow rotation)."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_drn.data import augment


def _reference_reflect(array, before, after):
    """numpy's "reflect" (edge not repeated), applied repeatedly for large pads as
    fyu/drn data_transforms.py pad_reflection does."""
    out = array
    while before > 0 or after > 0:
        n = out.shape[0]
        b, a = min(before, n - 1), min(after, n - 1)
        out = np.pad(out, [(b, a)] + [(0, 0)] * (out.ndim - 1), mode="reflect")
        before, after = before - b, after - a
    return out


@pytest.mark.parametrize("length,before,after", [(5, 2, 3), (4, 7, 9), (2, 3, 1),
                                                 (6, 0, 0)])
def test_reflect_indices_match_repeated_numpy_reflection(length, before, after):
    x = np.arange(length) * 10
    got = tf.gather(x, augment.reflect_indices(length, before, after)).numpy()
    np.testing.assert_array_equal(got, _reference_reflect(x, before, after))


def test_pad_to_at_least_centres_and_fills_labels_with_255(rng):
    image = rng.uniform(0, 255, (5, 7, 3)).astype(np.float32)
    label = rng.integers(0, 19, (5, 7)).astype(np.uint8)
    out_image, out_label = augment.pad_to_at_least(image, label, 9, 10)
    out_image, out_label = out_image.numpy(), out_label.numpy()
    assert out_image.shape == (9, 10, 3) and out_label.shape == (9, 10)
    # top = 4 // 2, left = 3 // 2 (data_transforms.py RandomCrop)
    np.testing.assert_array_equal(out_label[2:7, 1:8], label)
    assert (out_label[:2] == 255).all() and (out_label[:, :1] == 255).all()
    expected = _reference_reflect(_reference_reflect(image, 2, 2).swapaxes(0, 1), 1, 2)
    np.testing.assert_allclose(out_image, expected.swapaxes(0, 1))


def test_rotation_matches_pillow_for_labels(rng):
    # Blocky labels so that nearest sampling is not sensitive to half-pixel details.
    label = np.kron(rng.integers(0, 19, (6, 8)), np.ones((6, 6))).astype(np.uint8)
    image = np.repeat(label[..., None], 3, axis=2).astype(np.float32)
    seed = tf.constant([3, 1], tf.int64)
    _, rotated = augment.random_rotate(image, label, 10, seed)
    rotated = rotated.numpy()
    # Find the angle the op drew and rotate with Pillow (counter-clockwise, NEAREST),
    # as the reference does after padding the label with 255.
    best = None
    for angle in range(-10, 11):
        h, w = label.shape
        padded = np.pad(label, ((h, h), (w, w)), constant_values=255)
        ref = np.asarray(Image.fromarray(padded).rotate(angle, resample=Image.NEAREST))
        ref = ref[h:2 * h, w:2 * w]
        agreement = (ref == rotated).mean()
        if best is None or agreement > best[0]:
            best = (agreement, angle)
    assert best[1] != 0, "the seed should give a non-zero angle"
    assert best[0] > 0.97, best


def test_scale_and_crop_shapes_and_label_values(rng):
    image = rng.uniform(0, 255, (40, 60, 3)).astype(np.float32)
    label = rng.integers(0, 5, (40, 60)).astype(np.uint8)
    for i in range(5):
        seed = tf.constant([i, 7], tf.int64)
        out_image, out_label = augment.train_augment(
            image, label, seed, crop_size=(48, 32), random_scale_factor=2.0,
            random_rotate_degrees=10)
        assert out_image.shape == (48, 32, 3) and out_label.shape == (48, 32)
        assert set(np.unique(out_label.numpy())) <= set(range(5)) | {255}
        assert 0 <= out_image.numpy().min() and out_image.numpy().max() <= 255
    # Same seed, same result; another seed, another crop.
    a = augment.train_augment(image, label, tf.constant([1, 2], tf.int64),
                              crop_size=(16, 16), random_scale_factor=2.0)
    b = augment.train_augment(image, label, tf.constant([1, 2], tf.int64),
                              crop_size=(16, 16), random_scale_factor=2.0)
    c = augment.train_augment(image, label, tf.constant([1, 3], tf.int64),
                              crop_size=(16, 16), random_scale_factor=2.0)
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    assert not np.array_equal(a[0].numpy(), c[0].numpy())


def test_scale_range_follows_the_reference():
    image = np.zeros((100, 100, 3), np.float32)
    label = np.zeros((100, 100), np.uint8)
    sizes = [augment.random_scale(image, label, 2.0, tf.constant([i, 0], tf.int64))[1]
             .shape[0] for i in range(40)]
    assert min(sizes) >= 50 and max(sizes) <= 200
    assert min(sizes) < 80 and max(sizes) > 140  # ratio uniform in [1/2, 2]


def test_flip_flips_image_and_label_together():
    image = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    label = np.arange(6, dtype=np.uint8).reshape(2, 3)
    flipped = [augment.random_flip(image, label, tf.constant([i, 0], tf.int64))
               for i in range(20)]
    kinds = set()
    for out_image, out_label in flipped:
        same = np.array_equal(out_label.numpy(), label)
        kinds.add(same)
        ref_image = image if same else image[:, ::-1]
        np.testing.assert_array_equal(out_image.numpy(), ref_image)
    assert kinds == {True, False}


def test_normalize():
    x = np.full((1, 1, 3), 255, np.uint8)
    out = augment.normalize(x, (0.5, 0.5, 0.5), (0.25, 0.5, 1.0)).numpy()
    np.testing.assert_allclose(out[0, 0], [2.0, 1.0, 0.5])
