"""Training DRN classifiers on ImageNet, with the recipe of fyu/drn classify.py: SGD
lr 0.1, momentum 0.9, weight decay 1e-4, batch 256, x0.1 every 30 epochs (90 epochs by
default; the README trains 120), RandomSizedCrop(224) + flip, validation on the centre
224 crop of the image resized to 256; top-1 / top-5 error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from keras_drn.data import imagenet
from keras_drn.training.base import Trainer
from keras_drn.training.config import RECIPES
from keras_drn.training.errors import ParameterError
from keras_drn.training.losses import classification_loss_sum
from keras_drn.training.models import build_classifier
from keras_drn.training.weights import resolve_training_weights
from keras_drn.weights.resolve import load_resolved

RECIPE = RECIPES["imagenet"]


@dataclass
class ClassificationResult:
    """Top-1 and top-5 accuracy of a validation pass.

    Attributes:
        counts: [top-1 correct, top-5 correct, examples].
    """

    counts: np.ndarray

    @property
    def top1(self) -> float:
        """The fraction of images whose label is the top prediction."""
        return float(self.counts[0] / max(self.counts[2], 1))

    @property
    def top5(self) -> float:
        """The fraction of images whose label is among the top 5 predictions."""
        return float(self.counts[1] / max(self.counts[2], 1))

    def summary(self) -> str:
        """One line: top-1 and top-5 error over the images."""
        return (f"top-1 error {100 * (1 - self.top1):.2f}%, top-5 error "
                f"{100 * (1 - self.top5):.2f}% over {int(self.counts[2])} images")


class ClassificationTrainer(Trainer):
    """Trains a DRN classifier on a ClassificationSource or tfds imagenet2012,
    validating by top-1 accuracy (classify.py's recipe, `RECIPE`).

    Args: see `keras_drn.training.base.Trainer`.
    """

    def default_class_names(self):
        return imagenet.class_names_of(self.train_source)

    def create_model(self):
        config = self.config
        model = build_classifier(config.arch, config.classes, width=config.width)
        if config.pretrained:
            self._load_pretrained(model, config.pretrained)
        return model

    def _load_pretrained(self, model, weights):
        """`config.pretrained` (a released name such as "imagenet", a preset or a
        file) into the classifier."""
        from keras_drn.models.drn import normalize_arch

        key = normalize_arch(self.config.arch)
        resolved = resolve_training_weights(weights, key, what=model.name,
                                            field="pretrained")
        if resolved.kind == "named" and self.config.width != 1.0:
            raise ParameterError(
                f"Invalid pretrained={weights!r} with width={self.config.width:g}: "
                f"the released weights are of width 1. Use width=1, or pass a file of "
                f"a width-{self.config.width:g} run.", "pretrained", "width")
        load_resolved(model, resolved, arch=key, kind="classifier", model_key=key)

    def loss_sum(self, labels, outputs):
        return classification_loss_sum(labels, outputs)

    def train_dataset_fn(self, context, start_step: int):
        config = self.config
        return imagenet.train_dataset(
            self.train_source, global_batch=config.batch_size,
            crop_size=config.crop_size[0], seed=config.seed, start_step=start_step,
            input_context=context, flip=config.flip,
            num_parallel_calls=self.parallel_calls)

    def eval_dataset_fn(self, context, global_batch: int):
        crop = self.config.crop_size[0]
        return imagenet.eval_dataset(self.val_source, global_batch=global_batch,
                                     input_context=context, crop_size=crop,
                                     resize=int(round(crop * 256 / 224)))

    def eval_replica(self, images, labels):
        logits = tf.cast(self.model(images, training=False), tf.float32)
        labels = tf.cast(labels, tf.int32)
        valid = labels >= 0
        safe = tf.where(valid, labels, 0)
        k = min(5, self.config.classes)
        top1 = tf.nn.in_top_k(safe, logits, 1) & valid
        top5 = tf.nn.in_top_k(safe, logits, k) & valid
        counts = tf.stack([tf.reduce_sum(tf.cast(top1, tf.int64)),
                           tf.reduce_sum(tf.cast(top5, tf.int64)),
                           tf.reduce_sum(tf.cast(valid, tf.int64))])
        return counts, tf.argmax(logits, axis=-1, output_type=tf.int32)

    def eval_result(self, counts):
        return ClassificationResult(counts)

    def score(self, result) -> float:
        return result.top1

    def describe(self, result) -> str:
        return result.summary()

    def report_validation(self, result, step, sample) -> None:
        self.summaries.scalars("validation", step, {
            "top1_error": 1 - result.top1, "top5_error": 1 - result.top5})

    def report_final(self, result, run) -> dict:
        self.say(f"\nValidation on {self.val_source.description} after {run['steps']} "
                  f"steps: {result.summary()}")
        return {"top1_error": 1 - result.top1, "top5_error": 1 - result.top5}
