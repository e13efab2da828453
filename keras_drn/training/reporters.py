"""What a training run reports: console lines and progress, TensorBoard, the per-class
IoU tables and the picture of a few predictions.

Only the chief reports (every worker computes the same numbers); on the others every
method is a no-op. Progress is a redrawn line on a terminal and plain lines without
escape codes in a log file (`keras_drn.training.progress`).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from keras_drn.files import atomic_path
from keras_drn.training.progress import Progress
from keras_drn.training.summaries import Summaries
from keras_drn.training.summaries import colorize_batch
from keras_drn.training.summaries import denormalize


class Reporter:
    """The console and TensorBoard of a run.

    Args:
        stream: where lines and progress go (default: standard output).
        logdir: TensorBoard's folder (None: no TensorBoard).
        enabled: False on the workers other than the chief.
        print_freq: steps between progress lines off a terminal.

    Attributes:
        summaries: the `Summaries` (TensorBoard) writer.
    """

    def __init__(self, stream=None, *, logdir: str | None, enabled: bool = True,
                 print_freq: int = 10):
        self.stream = stream or sys.stdout
        self.enabled = enabled
        self.print_freq = print_freq
        self.summaries = Summaries(logdir, enabled=enabled)

    def say(self, text: str) -> None:
        """Prints one or more lines (chief only)."""
        if self.enabled:
            self.stream.write(text + "\n")
            self.stream.flush()

    def progress(self, steps: int, *, epoch: int, epochs: int) -> Progress:
        """The progress line of one epoch (`epoch` counted from 1)."""
        return Progress(steps, epoch=epoch, epochs=epochs, stream=self.stream,
                        every=self.print_freq, enabled=self.enabled)

    def train_step(self, step: int, *, loss: float, lr: float,
                   images_per_second: float) -> None:
        """Logs a training call's loss, learning rate and throughput."""
        self.summaries.scalars("train", step, {
            "loss": loss, "learning_rate": lr, "images_per_second": images_per_second})

    def flush(self) -> None:
        """Writes TensorBoard's pending events."""
        self.summaries.flush()

    def close(self) -> None:
        """Closes TensorBoard's files."""
        self.summaries.close()


def format_class_table(scores, title: str = "model") -> str:
    """The per-class IoU table of `scores` (a `SegmentationScores`), in percent, in
    the layout of `keras_drn.evaluation.report.format_iou_table`."""
    from keras_drn.evaluation.report import format_iou_table

    return format_iou_table({title: scores.per_class_iou}, scores.class_names)


def write_class_tables(scores, title: str, path_stem: str) -> None:
    """Writes the per-class IoU table as `<path_stem>.csv` and `<path_stem>.md`."""
    from keras_drn.evaluation.report import write_iou_table

    write_iou_table({title: scores.per_class_iou}, scores.class_names, path_stem)


def write_prediction_png(path: str, images, labels, predictions, *, normalization,
                         dataset: str, rows: int = 3) -> str:
    """Writes input | ground truth | prediction, one row per image (at most `rows`),
    the label maps in `dataset`'s colours, to `path` (atomically).

    Args:
        path: the PNG file.
        images: (N, H, W, 3) normalised inputs (`normalization` undoes it).
        labels, predictions: (N, H, W) class ids (255: ignored).
        normalization: the inputs' `keras_drn.meta.normalization` statistics.
        dataset: whose colours to use.
        rows: how many images to show.

    Returns:
        `path`.
    """
    from PIL import Image

    n = min(len(images), rows)
    picture = np.concatenate([
        denormalize(images[:n], normalization),
        colorize_batch(labels[:n], dataset),
        colorize_batch(np.asarray(predictions[:n]).astype(np.uint8), dataset),
    ], axis=2)  # side by side
    picture = picture.reshape(-1, *picture.shape[2:])  # the images stacked
    with atomic_path(path) as tmp:
        Image.fromarray(picture).save(tmp, format="PNG")
    return os.fspath(path)
