"""TensorBoard logging: scalars (loss, learning rate, throughput, validation mIoU,
pixel accuracy, per-class IoU) and images (input, ground truth and prediction in the
dataset's colours). Only the chief writes; elsewhere every call is a no-op."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_drn.meta import colorize


def colorize_batch(labels, dataset: str) -> np.ndarray:
    """(N, H, W) class ids to (N, H, W, 3) uint8 pictures in `dataset`'s colours
    (`keras_drn.meta.colorize`, image by image; 255 in black)."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        return colorize(labels, dataset)
    return np.stack([colorize(label, dataset) for label in labels])


def denormalize(images: np.ndarray, normalization) -> np.ndarray:
    """Inverts `(x / 255 - mean) / std` for display, as uint8."""
    x = np.asarray(images, np.float32) * np.asarray(normalization.std, np.float32)
    x = (x + np.asarray(normalization.mean, np.float32)) / normalization.scale
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


class Summaries:
    """TensorBoard event files under `logdir`, one writer per split ("train",
    "validation").

    Args:
        logdir: the folder; None disables logging.
        enabled: False on the workers other than the chief.
    """

    def __init__(self, logdir: str | None, *, enabled: bool = True):
        self.enabled = bool(enabled and logdir)
        self.writers = {}
        self.logdir = logdir

    def _writer(self, name: str):
        if name not in self.writers:
            self.writers[name] = tf.summary.create_file_writer(f"{self.logdir}/{name}")
        return self.writers[name]

    def scalars(self, split: str, step: int, values: dict) -> None:
        """Logs each finite value of `values` (name -> number) at `step`."""
        if not self.enabled:
            return
        with self._writer(split).as_default(step=int(step)):
            for key, value in values.items():
                if value is not None and np.isfinite(value):
                    tf.summary.scalar(key, float(value))

    def class_ious(self, split: str, step: int, ious, names) -> None:
        """Logs each class's IoU as `iou/<name>`."""
        if not self.enabled:
            return
        with self._writer(split).as_default(step=int(step)):
            for name, value in zip(names, ious):
                if np.isfinite(value):
                    tf.summary.scalar(f"iou/{name.replace(' ', '_')}", float(value))

    def images(self, split: str, step: int, images, labels, predictions, *,
               dataset: str, normalization, max_images: int = 3) -> None:
        """Logs up to `max_images` inputs (denormalised), ground truths and
        predictions, the label maps in `dataset`'s colours."""
        if not self.enabled:
            return
        n = min(len(images), max_images)
        with self._writer(split).as_default(step=int(step)):
            tf.summary.image("input", denormalize(images[:n], normalization),
                             max_outputs=n)
            tf.summary.image("ground_truth", colorize_batch(labels[:n], dataset),
                             max_outputs=n)
            tf.summary.image("prediction", colorize_batch(predictions[:n], dataset),
                             max_outputs=n)

    def flush(self) -> None:
        """Writes the pending events."""
        for writer in self.writers.values():
            writer.flush()

    def close(self) -> None:
        """Closes the event files."""
        for writer in self.writers.values():
            writer.close()
