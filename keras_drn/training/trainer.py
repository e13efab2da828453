"""The segmentation trainer: DRNSeg on a segmentation source, validated by mean IoU.

    trainer = SegmentationTrainer(config, train_source, val_source)
    result = trainer.run()          # train, validate, checkpoint, export

The loss is the cross-entropy over valid pixels divided by the valid-pixel count of the
*global* batch (`losses.global_mean`), plus the reference's L2 weight decay on every
trainable weight (BN's gamma and beta included, segment.py:384-387; the frozen `up`
kernel is not trainable), with SGD and momentum; BatchNormalization is synchronised
across replicas with `bn_sync`. The Dilation networks have their own trainer,
`keras_drn.training.dilation.DilationTrainer`.
"""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from keras_drn.data.pipeline import eval_dataset
from keras_drn.data.pipeline import train_dataset
from keras_drn.evaluation.scores import SegmentationScores
from keras_drn.training.base import Trainer
from keras_drn.training.errors import ParameterError
from keras_drn.training.errors import TrainingDiverged
from keras_drn.training.losses import confusion_matrix
from keras_drn.training.losses import segmentation_loss_sum
from keras_drn.training.models import build_segmenter
from keras_drn.training.models import rebuild_segmenter
from keras_drn.training.progress import format_duration
from keras_drn.training.reporters import format_class_table
from keras_drn.training.reporters import write_class_tables
from keras_drn.training.reporters import write_prediction_png
from keras_drn.training.weights import load_segmenter_weights

__all__ = ["PRESET_DIR", "SegmentationTrainer", "Trainer", "TrainingDiverged"]

PRESET_DIR = "preset"  # <output_dir>/preset: the final model as a keras-hub preset


class SegmentationTrainer(Trainer):
    """Trains DRNSeg (`keras_drn.DRNImageSegmenter`) on a segmentation source,
    validating by mean IoU; the final model is also saved as a keras-hub preset.

    Args: see `keras_drn.training.base.Trainer`.

    Raises:
        ParameterError: `config.family` is not "drn" (the Dilation networks train with
            `DilationTrainer`), or another setting is invalid.

    Example:
    ```python
    from keras_drn.data.pipeline import SyntheticSource
    config = TrainConfig(width=0.5, crop_size=(64, 64), batch_size=4, epochs=1,
                         steps_per_epoch=10, output_dir="runs/tiny")
    result = SegmentationTrainer(
        config, SyntheticSource(), SyntheticSource(split="val", eval_count=8)).run()
    result["mean_iou"]
    ```
    """

    family = "drn"  # the TrainConfig.family this trainer trains
    dilation_geometry = False  # the Dilation networks' context padding and stride 8

    def __init__(self, config, train_source, val_source=None, **kwargs):
        if config.family != self.family:
            other = "DilationTrainer (keras_drn.training.dilation)" if \
                config.family == "dilation" else "SegmentationTrainer"
            raise ParameterError(
                f"Invalid family={config.family!r} for {type(self).__name__}, which "
                f"trains family={self.family!r}; use {other}.", "family")
        super().__init__(config, train_source, val_source, **kwargs)

    @property
    def normalization(self):
        """The statistics the inputs are normalised with: the source's."""
        return self.train_source.normalization

    # -- the model -------------------------------------------------------------------

    def create_model(self) -> keras.Model:
        config = self.config
        model = build_segmenter(config.arch, config.classes, width=config.width,
                                head=config.head, dataset=self.dataset_name,
                                class_names=self.class_names)
        if config.backbone_weights:
            self._load_backbone(model, config.backbone_weights)
        if config.pretrained:
            load_segmenter_weights(model, config.pretrained, arch=config.arch,
                                   width=config.width, field="pretrained")
        return model

    def _load_backbone(self, model, weights):
        """`config.backbone_weights` (an ImageNet name, a classifier file or a
        `DRNBackbone` preset) into the segmenter's backbone."""
        from keras_drn.models import build_drn
        from keras_drn.models.drn import normalize_arch
        from keras_drn.training.weights import resolve_training_weights
        from keras_drn.weights import transfer_weights
        from keras_drn.weights.load import load_preset_weights
        from keras_drn.weights.resolve import load_resolved

        key = normalize_arch(self.config.arch)
        resolved = resolve_training_weights(
            weights, key, what=f"the backbone of {model.name}", field="backbone_weights")
        if resolved.kind == "preset":
            load_preset_weights(model.backbone, resolved.location)
            return
        width = self.config.width
        if width != 1.0:
            raise ParameterError(
                f"Invalid backbone_weights={weights!r} with width={width:g}: classifier "
                f"weights exist for width 1 only. Use width=1, or a DRNBackbone preset "
                f"of width {width:g}.", "backbone_weights", "width")
        classifier = build_drn(key, classes=1000, input_shape=(None, None, 3))
        load_resolved(classifier, resolved, arch=key, kind="classifier", model_key=key)
        transfer_weights(classifier, model.backbone, strict=False)

    def run_record(self) -> dict:
        model = self.model
        return {
            **super().run_record(),
            "model": {"class": type(model).__name__, "name": model.name,
                      "arch": model.arch, "family": model.family,
                      "num_classes": model.num_classes, "head": model.head,
                      "dataset": model.dataset, "class_names": list(model.class_names),
                      "width": getattr(model.backbone, "width", 1.0),
                      "preset": PRESET_DIR},
        }

    def export_final(self, step: int) -> dict:
        """Saves the final model as a keras-hub preset, `<output_dir>/preset/`
        (float32, plain BatchNormalization, the data's preprocessor attached), which
        `keras_hub.models.ImageSegmenter.from_preset` loads once keras_drn is
        imported. Written by the chief only, atomically."""
        directory = os.path.join(self.config.output_dir, PRESET_DIR)
        if self.chief:
            from keras_drn.presets import attach_preprocessor
            from keras_drn.presets import save_preset_atomic

            model = rebuild_segmenter(self.model, dtype="float32")
            self.attach_preprocessor(model)
            info = {"source": {"run_dir": os.path.abspath(self.config.output_dir),
                               "step": int(step)},
                    "parity": None}
            save_preset_atomic(attach_preprocessor(model), directory, info)
        return {"preset": directory}

    def attach_preprocessor(self, model) -> None:
        """Attaches the training data's statistics as the preset's preprocessor, where
        they are not the dataset's defaults (a source with its own info.json)."""
        from keras_drn.meta.normalization import NORMALIZATION

        norm = self.normalization
        default = NORMALIZATION.get(model.dataset)
        if default is not None and tuple(default.mean) == tuple(norm.mean) and \
                tuple(default.std) == tuple(norm.std) and default.scale == norm.scale:
            return
        from keras_drn.models import DRNImageConverter
        from keras_drn.models import DRNImageSegmenterPreprocessor
        from keras_drn.models.preprocessor import scale_and_offset

        scale, offset = scale_and_offset(norm)
        model.preprocessor = DRNImageSegmenterPreprocessor(DRNImageConverter(
            model.dataset, scale=scale, offset=offset))

    # -- data, loss and scores -------------------------------------------------------

    def loss_sum(self, labels, outputs):
        return segmentation_loss_sum(labels, outputs)

    def train_dataset_fn(self, context, start_step: int):
        config = self.config
        return train_dataset(
            self.train_source, global_batch=config.batch_size,
            crop_size=config.crop_size, seed=config.seed, start_step=start_step,
            input_context=context, random_scale=config.random_scale,
            random_rotate=config.random_rotate, flip=config.flip,
            num_parallel_calls=self.parallel_calls,
            dilation_geometry=self.dilation_geometry, normalization=self.normalization)

    def eval_dataset_fn(self, context, global_batch: int):
        return eval_dataset(self.val_source, global_batch=global_batch,
                            input_context=context, eval_size=self.config.eval_size,
                            dilation_geometry=self.dilation_geometry,
                            normalization=self.normalization)

    def eval_replica(self, images, labels):
        logits = self.model(images, training=False)
        return (confusion_matrix(labels, logits, self.config.classes),
                tf.argmax(logits, axis=-1, output_type=tf.int32))

    def eval_result(self, counts) -> SegmentationScores:
        return SegmentationScores(class_names=self.class_names, matrix=counts,
                                  dataset=self.dataset_name)

    def score(self, result) -> float:
        return result.mean_iou

    def describe(self, result) -> str:
        return (f"mIoU {100 * result.mean_iou:.2f}, pixel accuracy "
                f"{100 * result.pixel_accuracy:.2f}")

    def result_table(self, result, title: str) -> str:
        return format_class_table(result, title)

    # -- reports ---------------------------------------------------------------------

    def display_batch(self, images, labels, predictions):
        """(images, labels, predictions) of a validation batch as pictures of the same
        size (the Dilation trainer removes the context padding and upsamples)."""
        return images, labels, predictions

    def report_validation(self, result, step, sample) -> None:
        summaries = self.reporter.summaries
        summaries.scalars("validation", step, {
            "mean_iou": result.mean_iou, "pixel_accuracy": result.pixel_accuracy})
        summaries.class_ious("validation", step, result.per_class_iou, self.class_names)
        if sample is None:
            return
        images, labels, predictions = self.display_batch(*sample)
        summaries.images("validation", step, images, labels, predictions,
                         dataset=self.dataset_name, normalization=self.normalization,
                         max_images=self.config.log_images)
        if self.chief:
            write_prediction_png(
                os.path.join(self.config.output_dir, "prediction.png"), images, labels,
                np.asarray(predictions), normalization=self.normalization,
                dataset=self.dataset_name)

    def report_final(self, result, run) -> dict:
        self.say(f"\nPer-class IoU (%) on {self.val_source.description} after "
                 f"{run['steps']} steps:")
        self.say(format_class_table(result, self.model.name))
        self.say(f"mIoU {100 * result.mean_iou:.2f}  pixel accuracy "
                 f"{100 * result.pixel_accuracy:.2f}  "
                 f"({format_duration(run['seconds'])} of training)")
        if self.chief:
            write_class_tables(result, self.model.name,
                               os.path.join(self.config.output_dir, "val_iou"))
        return {"mean_iou": result.mean_iou, "pixel_accuracy": result.pixel_accuracy,
                "per_class_iou": result.per_class_iou.tolist(),
                "class_names": list(self.class_names)}
