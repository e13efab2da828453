"""TensorBoard logging: scalars (loss, learning rate, throughput, validation mIoU,
pixel accuracy, per-class IoU) and images (input, ground truth and prediction in the
dataset's colours). Only the chief writes; elsewhere every call is a no-op."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_drn.meta import palette


def colorize(labels: np.ndarray, dataset: str) -> np.ndarray:
    """uint8 RGB rendering of a label map (255 and unknown ids in black)."""
    return palette(dataset if dataset != "synthetic" else "cityscapes")[
        np.asarray(labels, np.uint8)]


def denormalize(images: np.ndarray, normalization) -> np.ndarray:
    """Inverts `(x / 255 - mean) / std` for display, as uint8."""
    x = np.asarray(images, np.float32) * np.asarray(normalization.std, np.float32)
    x = (x + np.asarray(normalization.mean, np.float32)) / normalization.scale
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


class Summaries:
    def __init__(self, logdir: str | None, *, enabled: bool = True):
        self.enabled = bool(enabled and logdir)
        self.writers = {}
        self.logdir = logdir

    def _writer(self, name: str):
        if name not in self.writers:
            self.writers[name] = tf.summary.create_file_writer(f"{self.logdir}/{name}")
        return self.writers[name]

    def scalars(self, split: str, step: int, values: dict) -> None:
        if not self.enabled:
            return
        with self._writer(split).as_default(step=int(step)):
            for key, value in values.items():
                if value is not None and np.isfinite(value):
                    tf.summary.scalar(key, float(value))

    def class_ious(self, split: str, step: int, ious, names) -> None:
        if not self.enabled:
            return
        with self._writer(split).as_default(step=int(step)):
            for name, value in zip(names, ious):
                if np.isfinite(value):
                    tf.summary.scalar(f"iou/{name.replace(' ', '_')}", float(value))

    def images(self, split: str, step: int, images, labels, predictions, *,
               dataset: str, normalization, max_images: int = 3) -> None:
        if not self.enabled:
            return
        n = min(len(images), max_images)
        with self._writer(split).as_default(step=int(step)):
            tf.summary.image("input", denormalize(images[:n], normalization),
                             max_outputs=n)
            tf.summary.image("ground_truth", colorize(labels[:n], dataset), max_outputs=n)
            tf.summary.image("prediction", colorize(predictions[:n], dataset),
                             max_outputs=n)

    def flush(self) -> None:
        for writer in self.writers.values():
            writer.flush()

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
