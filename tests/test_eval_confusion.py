"""The confusion matrix and its scores against brute-force counts."""

import numpy as np
import pytest

from keras_drn.evaluation import ConfusionMatrix
from keras_drn.evaluation import confusion_matrix
from keras_drn.evaluation import group_classes
from keras_drn.evaluation import iou_per_class
from keras_drn.evaluation import mean_iou
from keras_drn.evaluation import pixel_accuracy


def brute_force(labels, predictions, n, void=None):
    """Explicit loops over pixels: the definition, no vectorisation."""
    columns = n + (void is not None)
    counts = np.zeros((n, columns), dtype=np.int64)
    for gt, pred in zip(labels.ravel().tolist(), predictions.ravel().tolist()):
        if not 0 <= gt < n:
            continue
        column = n if (void is not None and pred == void) else pred
        counts[gt, column] += 1
    return counts


def brute_iou(counts, n):
    ious = []
    for c in range(n):
        tp = counts[c, c]
        fn = sum(counts[c, j] for j in range(counts.shape[1]) if j != c)
        fp = sum(counts[r, c] for r in range(n) if r != c)
        ious.append(tp / (tp + fp + fn) if tp + fp + fn else float("nan"))
    return np.array(ious)


@pytest.mark.parametrize("n", [2, 7, 19])
def test_confusion_matrix_equals_brute_force(rng, n):
    labels = rng.integers(0, n, size=(37, 53))
    labels[rng.random(labels.shape) < 0.1] = 255  # ignored
    predictions = rng.integers(0, n, size=labels.shape)
    got = confusion_matrix(labels, predictions, n)
    np.testing.assert_array_equal(got, brute_force(labels, predictions, n))
    np.testing.assert_allclose(iou_per_class(got), brute_iou(got, n), equal_nan=True)
    valid = labels != 255
    assert pixel_accuracy(got) == pytest.approx(
        np.mean(labels[valid] == predictions[valid]))


def test_void_column_equals_brute_force(rng):
    n = 5
    labels = rng.integers(0, n, size=(40, 30)).astype(np.uint8)
    labels[:3] = 255
    predictions = rng.integers(0, n, size=labels.shape).astype(np.uint8)
    predictions[rng.random(labels.shape) < 0.2] = 255
    got = confusion_matrix(labels, predictions, n, void_label=255)
    expected = brute_force(labels, predictions, n, void=255)
    assert got.shape == (n, n + 1)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_allclose(iou_per_class(got), brute_iou(expected, n), equal_nan=True)
    # A void prediction is a miss: accuracy counts it wrong.
    valid = labels != 255
    correct = labels[valid] == predictions[valid]
    assert pixel_accuracy(got) == pytest.approx(np.mean(correct))


def test_accumulator_streams_and_nan_for_absent_classes(rng):
    acc = ConfusionMatrix(4)
    total = np.zeros((4, 4), dtype=np.int64)
    for _ in range(3):
        labels = rng.integers(0, 3, size=(8, 8))  # class 3 never occurs
        predictions = rng.integers(0, 3, size=(8, 8))
        acc.update(labels, predictions)
        total += brute_force(labels, predictions, 4)
    np.testing.assert_array_equal(acc.matrix, total)
    assert np.isnan(acc.iou()[3])
    assert acc.mean_iou() == pytest.approx(np.mean(brute_iou(total, 4)[:3]))
    assert mean_iou(total) == acc.mean_iou()


def test_group_classes_equals_brute_force(rng):
    n, groups = 6, [0, 0, 1, 2, 2, 2]
    counts = rng.integers(0, 50, size=(n, n + 1))
    grouped = group_classes(counts, groups, 3)
    expected = np.zeros((3, 4), dtype=np.int64)
    for i in range(n):
        for j in range(n + 1):
            expected[groups[i], 3 if j == n else groups[j]] += counts[i, j]
    np.testing.assert_array_equal(grouped, expected)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="class id 7, outside"):
        confusion_matrix(np.zeros(4, int), np.array([0, 1, 7, 2]), 3)
    with pytest.raises(ValueError, match="differ in size"):
        confusion_matrix(np.zeros(4, int), np.zeros(5, int), 3)
    with pytest.raises(ValueError, match="void_label=2 is one of the 3 classes"):
        confusion_matrix(np.zeros(4, int), np.zeros(4, int), 3, void_label=2)
    with pytest.raises(ValueError, match="shape"):
        iou_per_class(np.zeros((3, 5)))
