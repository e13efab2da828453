"""The segmentation trainer: one custom step through `strategy.run` for every strategy.

    trainer = SegmentationTrainer(config, train_source, val_source)
    result = trainer.run()          # train, validate, checkpoint, export

Each step: the replica's forward pass (float32 logits and softmax under mixed
precision), cross-entropy over valid pixels divided by the valid-pixel count of the
*global* batch (`losses.global_mean`), the reference's L2 weight decay on every
trainable weight (BN's gamma and beta included, segment.py:384-387; the frozen `up`
kernel is not trainable), loss scaling for float16, and SGD with momentum; the optimizer
sums the replicas' gradients. BatchNormalization is synchronised across replicas with
`bn_sync`.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import asdict
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from keras_drn.data.pipeline import SyntheticSource
from keras_drn.data.pipeline import data_error_from
from keras_drn.data.pipeline import eval_dataset
from keras_drn.data.pipeline import train_dataset
from keras_drn.evaluation.confusion import iou_per_class
from keras_drn.evaluation.confusion import pixel_accuracy
from keras_drn.meta import class_names as dataset_class_names
from keras_drn.training import checkpoints as ckpt
from keras_drn.training import distribute
from keras_drn.training import preemption
from keras_drn.training.config import TrainConfig
from keras_drn.training.losses import confusion_matrix
from keras_drn.training.losses import global_mean
from keras_drn.training.losses import segmentation_loss_sum
from keras_drn.training.models import build_segmenter
from keras_drn.training.models import rebuild_segmenter
from keras_drn.training.models import with_synchronized_batchnorm
from keras_drn.training.optimizers import TorchSGD
from keras_drn.training.progress import Progress
from keras_drn.training.progress import format_duration
from keras_drn.training.schedules import DRNSchedule
from keras_drn.training.summaries import Summaries
from keras_drn.training.summaries import colorize
from keras_drn.training.summaries import denormalize
from keras_drn.training.weights import load_segmenter_weights
from keras_drn.training.weights import resolve_training_weights
from keras_drn.weights.resolve import load_resolved

POLICIES = {None: "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
PRESET_DIR = "preset"  # <output_dir>/preset: the final model as a keras-hub preset
# float16's starting loss scale. Keras' default, 2**15, overflows the first step's
# float16 gradients of DRN-D-22 (measured): that step is skipped and the run trails
# float32's by one step. From 2**10 the first steps apply, and the dynamic scale still
# halves on overflow and doubles after 2000 finite steps.
INITIAL_LOSS_SCALE = 2.0 ** 10


class TrainingDiverged(RuntimeError):
    """The loss became NaN or Inf; the last good checkpoint was kept."""


@dataclass
class EvalResult:
    matrix: np.ndarray
    class_names: tuple[str, ...]

    @property
    def per_class_iou(self) -> np.ndarray:
        return iou_per_class(self.matrix)

    @property
    def mean_iou(self) -> float:
        ious = self.per_class_iou
        return float(np.nanmean(ious)) if np.any(~np.isnan(ious)) else float("nan")

    @property
    def pixel_accuracy(self) -> float:
        return pixel_accuracy(self.matrix)

    @property
    def score(self) -> float:
        """What "best" means: the mean IoU."""
        return self.mean_iou

    def summary(self) -> str:
        return (f"mIoU {100 * self.mean_iou:.2f}, pixel accuracy "
                f"{100 * self.pixel_accuracy:.2f}")

    def table(self, title: str) -> str:
        return format_class_table(self, title)


def format_class_table(result: EvalResult, title: str = "model") -> str:
    """The per-class IoU table (the evaluation report's layout when available)."""
    try:
        from keras_drn.evaluation.report import format_iou_table
    except ImportError:  # pragma: no cover - the report module ships with keras_drn
        format_iou_table = None
    if format_iou_table is not None:
        return format_iou_table({title: result.per_class_iou}, result.class_names)
    lines = [f"{name:>16s} {100 * iou:6.2f}" for name, iou in
             zip(result.class_names, result.per_class_iou)]
    return "\n".join(lines + [f"{'mean IoU':>16s} {100 * result.mean_iou:6.2f}"])


def set_precision_policy(mixed_precision: str | None) -> str:
    """Sets Keras' global dtype policy; returns the previous one's name."""
    if mixed_precision not in POLICIES:
        raise ValueError(
            f"Invalid --mixed-precision {mixed_precision!r}; expected float16, bfloat16 "
            f"or nothing (float32)."
        )
    previous = keras.config.dtype_policy().name
    keras.config.set_dtype_policy(POLICIES[mixed_precision])
    return previous


class Trainer:
    """The training loop shared by every task: strategy, optimizer, schedule, loss
    scaling, checkpoints, progress, TensorBoard, NaN guard, validation.

    Subclasses say what differs (`SegmentationTrainer`, `ClassificationTrainer`):
    `create_model`, `loss_sum`, `train_dataset_fn`, `eval_dataset_fn`,
    `eval_replica` / `eval_result`, and what to report.

    Args:
        config: a TrainConfig.
        train_source, val_source: sources of `keras_drn.data.pipeline`.
        strategy: a tf.distribute strategy (default: from config.strategy).
        stream: where progress and tables are printed.
    """

    def __init__(self, config: TrainConfig, train_source, val_source=None, *,
                 strategy=None, stream=None, dataset_name: str | None = None,
                 save_iter: int = 0, workers: int = 0):
        self.config = config
        self.save_iter = int(save_iter or 0)
        self.parallel_calls = int(workers) if workers else tf.data.AUTOTUNE
        self.train_source = train_source
        self.val_source = val_source
        self.stream = stream or sys.stdout
        self.dataset_name = dataset_name or getattr(train_source, "dataset", "synthetic")
        self._previous_policy = set_precision_policy(config.mixed_precision)
        if config.deterministic:
            tf.config.experimental.enable_op_determinism()
        self.strategy = strategy or distribute.make_strategy(
            config.strategy, tpu=config.tpu,
            collective_timeout=config.collective_timeout)
        self.chief = distribute.is_chief(self.strategy)
        self.replicas = self.strategy.num_replicas_in_sync
        if config.batch_size % self.replicas:
            raise ValueError(
                f"--batch-size {config.batch_size} (the global batch) must be a multiple "
                f"of the {self.replicas} replicas."
            )
        self.steps_per_epoch = config.steps_per_epoch or (
            len(train_source) // config.batch_size)
        if isinstance(train_source, SyntheticSource) and not config.steps_per_epoch:
            raise ValueError("The synthetic data is unlimited: set --steps-per-epoch.")
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"{len(train_source)} training examples make no full batch of "
                f"{config.batch_size}; lower --batch-size or set --steps-per-epoch."
            )
        self.config = config = config.replace(steps_per_epoch=self.steps_per_epoch)
        self.class_names = self.default_class_names()
        self.summaries = Summaries(config.logdir or os.path.join(config.output_dir, "logs"),
                                   enabled=self.chief)
        self._build()

    # -- set-up ----------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.chief:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _build(self):
        config = self.config
        keras.utils.set_random_seed(config.seed)
        with self.strategy.scope():
            model = self.create_model()
            if config.bn_sync:
                model = with_synchronized_batchnorm(model)
            self.model = model
            self.schedule = DRNSchedule(
                config.lr, config.lr_mode, steps_per_epoch=self.steps_per_epoch,
                epochs=config.epochs, step=config.step,
                per_iteration=config.lr_per_iteration,
                warmup_epochs=config.warmup_epochs)
            # PyTorch's momentum rule (the schedule changes the rate every epoch,
            # where Keras' SGD would diverge from segment.py); weight decay is added
            # to the loss (coupled L2, as torch.optim.SGD's weight_decay).
            optimizer = TorchSGD(learning_rate=self.schedule, momentum=config.momentum)
            if config.mixed_precision == "float16":
                optimizer = keras.optimizers.LossScaleOptimizer(
                    optimizer, initial_scale=INITIAL_LOSS_SCALE)
            optimizer.build(model.trainable_variables)
            self.optimizer = optimizer
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.best_miou = tf.Variable(-1.0, dtype=tf.float32, trainable=False,
                                         name="best_miou")
        self.keeper = ckpt.CheckpointKeeper(
            config.output_dir, model=self.model, optimizer=self.optimizer,
            step=self.step, best_miou=self.best_miou, keep=config.keep_checkpoints,
            chief=self.chief, worker=distribute.worker_id(self.strategy))
        self.history = {"loss": [], "val_miou": []}  # (step, value) pairs of this process
        self.resumed_from = None
        if config.resume:
            ckpt.check_resume_settings(config.output_dir, config.resume_settings(),
                                       config.resume)
            self.resumed_from = self.keeper.restore(config.resume)
        if self.chief:
            settings = config.resume_settings()
            settings.update(config=_jsonable(asdict(config)), **self.run_record())
            ckpt.write_json_atomic(os.path.join(config.output_dir, ckpt.RUN_FILE),
                                   settings)
        self._train_fn = self._make_train_fn()
        self._eval_fn = self._make_eval_fn()

    # -- hooks -----------------------------------------------------------------------

    def run_record(self) -> dict:
        """Entries for run.json besides the settings: what rebuilds the model."""
        return {"class_names": list(self.class_names)}

    def export_final(self, step: int) -> dict:
        """Writes the final model in other forms than final.weights.h5 (chief only);
        returns entries for run()'s result."""
        return {}

    def default_class_names(self) -> tuple[str, ...]:
        try:
            names = tuple(dataset_class_names(self.dataset_name))
        except ValueError:
            names = ()
        if len(names) != self.config.classes:
            names = tuple(f"class_{i}" for i in range(self.config.classes))
        return names

    def create_model(self) -> keras.Model:
        """The model to train, with its initial weights (under the strategy's scope)."""
        raise NotImplementedError

    def loss_sum(self, labels, outputs):
        """(sum of per-example or per-pixel losses, their count) for one replica."""
        raise NotImplementedError

    def train_dataset_fn(self, context, start_step: int):
        raise NotImplementedError

    def eval_dataset_fn(self, context, global_batch: int):
        """(per-replica batches of one pass over the validation data, steps)."""
        raise NotImplementedError

    def eval_replica(self, images, labels):
        """(counts to sum over replicas and steps, extra per-replica outputs)."""
        raise NotImplementedError

    def eval_result(self, counts):
        """A result object with `score` (higher is better) from the summed counts."""
        raise NotImplementedError

    def report_validation(self, result, step, sample) -> None:
        pass

    def report_final(self, result, run: dict) -> dict:
        """Prints the final evaluation; returns entries for run()'s result."""
        return {}

    # -- compiled functions ----------------------------------------------------------

    def _make_train_fn(self):
        model, optimizer, strategy = self.model, self.optimizer, self.strategy
        decay = float(self.config.weight_decay)
        replicas = float(self.replicas)
        scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        variables = model.trainable_variables

        def replica_step(images, labels):
            with tf.GradientTape() as tape:
                logits = model(images, training=True)
                loss_sum, count = self.loss_sum(labels, logits)
                loss = global_mean(loss_sum, count)
                total = loss
                if decay:
                    # Each replica adds 1/replicas of the L2 term: the optimizer sums.
                    l2 = tf.add_n([tf.reduce_sum(tf.square(tf.cast(v, tf.float32)))
                                   for v in variables])
                    total = total + 0.5 * decay * l2 / replicas
                if scaled:
                    total = optimizer.scale_loss(total)
            grads = tape.gradient(total, variables)
            optimizer.apply(grads, variables)
            # A finite loss can still come with an overflowing update: check the
            # updated weights too (on the replica, which also suits TPUs), so that no
            # checkpoint is ever written from broken weights.
            broken = tf.add_n([tf.reduce_sum(tf.cast(~tf.math.is_finite(v), tf.float32))
                               for v in variables])
            return loss, broken

        if self.config.jit_compile:
            replica_step = tf.function(replica_step, jit_compile=True,
                                       reduce_retracing=True)

        def identity(value):
            return tf.identity(value)

        @tf.function
        def compiled_steps(iterator, steps: int, requests):
            # A Python loop (unrolled; `steps` is a Python int, one trace per value)
            # rather than a tf.while_loop, whose body would give the collectives of
            # sync BN no guaranteed order across replicas.
            total = tf.constant(0.0, tf.float32)
            broken = tf.constant(0.0, tf.float32)
            for _ in range(steps):
                images, labels = next(iterator)
                loss, bad = strategy.run(replica_step, args=(images, labels))
                total += strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
                broken += strategy.reduce(tf.distribute.ReduceOp.SUM, bad, axis=None)
            self.step.assign_add(steps)
            # The workers' stop and checkpoint requests, summed over every replica:
            # all of them see the same sum after the same step (preemption.py).
            asked = strategy.reduce(tf.distribute.ReduceOp.SUM,
                                    strategy.run(identity, args=(requests,)), axis=None)
            return total / steps, broken == 0, asked

        def train_steps(iterator, steps: int, requests=None):
            """(mean loss, weights finite, summed requests) after `steps` steps."""
            if requests is None:
                requests = np.zeros([preemption.REQUESTS], np.float32)
            return compiled_steps(iterator, steps, tf.constant(requests, tf.float32))

        return train_steps

    def _make_eval_fn(self):
        strategy = self.strategy

        @tf.function
        def eval_step(images, labels):
            counts, extra = strategy.run(self.eval_replica, args=(images, labels))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, counts, axis=None), extra

        return eval_step

    # -- data ------------------------------------------------------------------------

    def _train_iterator(self, start_step: int):
        return iter(self.strategy.distribute_datasets_from_function(
            lambda context: self.train_dataset_fn(context, start_step)))

    # -- the loop --------------------------------------------------------------------

    def run(self) -> dict:
        """Trains to the configured number of epochs (from the resumed step), validates,
        keeps checkpoints, and exports `final.weights.h5`. Returns a summary dict."""
        try:
            with preemption.StopSignals(self.stream) as signals:
                self._signals = signals
                return self._run()
        finally:
            self.summaries.close()
            keras.config.set_dtype_policy(self._previous_policy)

    def _run(self) -> dict:
        config = self.config
        spe, epochs = self.steps_per_epoch, config.epochs
        total_steps = spe * epochs
        start = int(self.step.numpy())
        self._say(
            f"Training {self.model.name} ({self.model.count_params():,} weights) on "
            f"{self.train_source.description}: {epochs} epochs x {spe} steps, global "
            f"batch {config.batch_size} over {self.replicas} replica(s) "
            f"({distribute.strategy_name(self.strategy)}), crop "
            f"{config.crop_size[0]}x{config.crop_size[1]}, lr {config.lr} "
            f"({config.lr_mode}), output {config.output_dir}")
        if self.resumed_from:
            self._say(f"Resumed from {self.resumed_from} at step {start} "
                      f"(epoch {start // spe + 1}, step {start % spe} of {spe}).")
        iterator = self._train_iterator(start)
        control = preemption.StopControl(getattr(self, "_signals", None) or
                                         preemption.StopSignals(),
                                         config.checkpoint_minutes)
        began = time.monotonic()
        last_eval = None
        evaluated_at = None
        while int(self.step.numpy()) < total_steps:
            epoch = int(self.step.numpy()) // spe
            done = int(self.step.numpy()) - epoch * spe
            progress = Progress(spe, epoch=epoch + 1, epochs=epochs, stream=self.stream,
                                every=config.print_freq, enabled=self.chief)
            loss = float("nan")
            while done < spe:
                n = min(config.steps_per_execution, spe - done)
                if config.checkpoint_steps:
                    to_ckpt = config.checkpoint_steps - int(self.step.numpy()) % \
                        config.checkpoint_steps
                    n = min(n, to_ckpt)
                t0 = time.monotonic()
                try:
                    loss, finite, asked = self._train_fn(iterator, int(n),
                                                         control.requests())
                    loss, finite, asked = float(loss), bool(finite), asked.numpy()
                except tf.errors.OpError as error:
                    if self.multi_worker and preemption.is_collective_failure(error):
                        raise self._worker_lost(error) from error
                    raise data_error_from(error, self.train_source) from error
                elapsed = time.monotonic() - t0
                step = int(self.step.numpy())
                if not math.isfinite(loss) or not finite:
                    self._diverged(step, loss, finite)
                done += n
                self.history["loss"].append((step, loss))
                lr = float(self.schedule(self.optimizer.iterations))
                ips = n * config.batch_size / max(elapsed, 1e-9)
                progress.update(done, loss=loss, lr=lr, images_per_sec=ips,
                                final=done == spe)
                self.summaries.scalars("train", step, {
                    "loss": loss, "learning_rate": lr, "images_per_second": ips})
                if asked[preemption.STOP] > 0:
                    self._preempted(step)
                if done < spe and (asked[preemption.SAVE] > 0 or (
                        config.checkpoint_steps and step % config.checkpoint_steps == 0)):
                    self.keeper.save()
                    control.saved()
            self.keeper.save()
            control.saved()
            epoch_done = epoch + 1
            if self.save_iter and epoch_done % self.save_iter == 0:
                self.keeper.save_history(epoch_done)
            if self.val_source is not None and config.eval_every and (
                epoch_done % config.eval_every == 0 or epoch_done == epochs
            ):
                last_eval = self.validate(epoch_done)
                evaluated_at = int(self.step.numpy())
        if self.val_source is not None and evaluated_at != int(self.step.numpy()):
            last_eval = self.validate(epochs)
        result = {"steps": int(self.step.numpy()),
                  "seconds": time.monotonic() - began, "output_dir": config.output_dir}
        final = os.path.join(config.output_dir, "final.weights.h5")
        if self.chief:
            ckpt.save_weights_atomic(self.model, final)
        result["weights"] = final
        result.update(self.export_final(result["steps"]))
        if last_eval is not None:
            result.update(self.report_final(last_eval, result))
        self._say(f"Weights: {final}")
        if "preset" in result:
            self._say(f"Preset: {result['preset']}")
        return result

    @property
    def multi_worker(self) -> bool:
        return isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)

    def _preempted(self, step: int):
        """Checkpoints at `step` (every worker: the save is collective) and raises
        Preempted with the resume instructions printed."""
        path = self.keeper.save()
        received = getattr(getattr(self, "_signals", None), "received", None)
        why = received or "a stop request from another worker"
        spe = self.steps_per_epoch
        command = preemption.resume_command(sys.argv, self.config.output_dir)
        self._say(
            f"\nStopped at step {step} (epoch {step // spe + 1}, step {step % spe} of "
            f"{spe}) on {why}; checkpoint {path}. Resume with --resume "
            f"{self.config.output_dir}:\n  {command}")
        if not self.chief:
            sys.stderr.write(f"Stopped at step {step} on {why} (worker "
                             f"{distribute.worker_id(self.strategy)}).\n")
        raise preemption.Preempted(step, path, why)

    def _worker_lost(self, error) -> preemption.WorkerLost:
        """The WorkerLost to raise for a failed collective: names the lost worker and
        the resume command; the traceback goes to <output_dir>/logs."""
        worker = distribute.worker_id(self.strategy)
        log = preemption.write_traceback(self.config.output_dir, worker, error)
        resolver = getattr(self.strategy, "cluster_resolver", None)
        cluster = resolver.cluster_spec().as_dict() if resolver is not None else {}
        lost = preemption.lost_worker_name(error, cluster)
        latest = tf.train.latest_checkpoint(os.path.join(self.config.output_dir,
                                                         "checkpoints"))
        if latest:
            command = preemption.resume_command(sys.argv, self.config.output_dir)
            where = f"The last checkpoint is {latest}. Resume"
        else:
            command = preemption.resume_command(sys.argv, None)
            where = "No checkpoint had been written yet. Start again"
        step = int(self.step.numpy())
        message = (
            f"Worker {worker}: lost contact with {lost} during training near step "
            f"{step} ({type(error).__name__}: {preemption.error_summary(error)}). "
            f"{where} on every worker (the same TF_CONFIG, the chief's --output-dir on "
            f"shared storage) with:\n  {command}\nThe full traceback is in {log}.")
        return preemption.WorkerLost(message, step, log)

    def _diverged(self, step: int, loss: float, weights_finite: bool = True):
        latest = tf.train.latest_checkpoint(os.path.join(self.config.output_dir,
                                                         "checkpoints"))
        kept = (f"The last good checkpoint, {latest}, is kept; resume from it with a "
                f"lower --lr (or a warm-up)." if latest else
                "No checkpoint had been written yet.")
        what = (f"the training loss became {loss}" if not math.isfinite(loss) else
                f"the weights became NaN or Inf (loss {loss:.4g})")
        message = (f"At step {step} {what}: the run diverged and was stopped without "
                   f"saving. {kept}")
        self._say("\n" + message)
        raise TrainingDiverged(message)

    # -- validation ------------------------------------------------------------------

    def evaluate(self):
        """Scores the model on the validation source. Returns (result, sample): the
        task's result object and, for pictures, the first replica's first batch
        (images, labels, extra outputs)."""
        config = self.config
        batch = config.eval_batch_size or config.batch_size
        batch = max(self.replicas, batch - batch % self.replicas)
        steps_holder = {}

        def dataset_fn(context):
            ds, steps = self.eval_dataset_fn(context, batch)
            steps_holder["steps"] = steps
            return ds

        dist = self.strategy.distribute_datasets_from_function(dataset_fn)
        total = None
        sample = None
        iterator = iter(dist)
        try:
            for i in range(steps_holder["steps"]):
                images, labels = next(iterator)
                counts, extra = self._eval_fn(images, labels)
                counts = counts.numpy().astype(np.int64)
                total = counts if total is None else total + counts
                if i == 0:
                    local = self.strategy.experimental_local_results
                    sample = (local(images)[0].numpy(), local(labels)[0].numpy(),
                              local(extra)[0].numpy())
        except tf.errors.OpError as error:
            if self.multi_worker and preemption.is_collective_failure(error):
                raise self._worker_lost(error) from error
            raise data_error_from(error, self.val_source) from error
        return self.eval_result(total), sample

    def validate(self, epoch: int, *, save_best: bool = True, table: bool = False):
        """Scores the model, reports (console, TensorBoard, pictures), and keeps the
        checkpoint as the best when its score is the highest so far (`save_best`)."""
        result, sample = self.evaluate()
        step = int(self.step.numpy())
        score = result.score
        self._say(f"Validation after epoch {epoch} (step {step}): {result.summary()}")
        self.history["val_miou"].append((step, score))
        self.report_validation(result, step, sample)
        self.summaries.flush()
        if table:
            self._say(result.table(self.model.name))
        if save_best and math.isfinite(score) and score > float(self.best_miou.numpy()):
            self.best_miou.assign(score)
            self.keeper.save_best(score)
        return result

class SegmentationTrainer(Trainer):
    """Trains DRNSeg (or a Dilation network with `config.family == "dilation"`) on a
    segmentation source, validating by mean IoU."""

    @property
    def normalization(self):
        """The source's statistics for DRN; fyu/dilation's mean (0..255) for Dilation."""
        if self.config.family == "dilation":
            from keras_drn.meta.normalization import dilation_normalization

            return dilation_normalization(self.dataset_name)
        return self.train_source.normalization

    def create_model(self) -> keras.Model:
        config = self.config
        if config.family == "dilation":
            from keras_drn.training.dilation import create_dilation_model

            return create_dilation_model(config)
        model = build_segmenter(config.arch, config.classes, width=config.width,
                                head=config.head, dataset=self.dataset_name,
                                class_names=self.class_names)
        if config.backbone_weights:
            self._load_backbone(model, config.backbone_weights)
        if config.pretrained:
            self._load_pretrained(model, config.pretrained)
        return model

    def _load_backbone(self, model, weights):
        """`config.backbone_weights` (an ImageNet name, a classifier file or a
        `DRNBackbone` preset) into the segmenter's backbone."""
        from keras_drn.models import build_drn
        from keras_drn.models.drn import normalize_arch
        from keras_drn.weights import transfer_weights
        from keras_drn.weights.load import load_preset_weights

        key = normalize_arch(self.config.arch)
        resolved = resolve_training_weights(
            weights, key, what=f"the backbone of {model.name}", field="backbone_weights")
        if resolved.kind == "preset":
            load_preset_weights(model.backbone, resolved.location)
            return
        if self.config.width != 1.0:
            raise ValueError(
                f"Invalid backbone_weights={weights!r} with width={self.config.width:g}: "
                f"classifier weights exist for width 1 only. Pass --width 1, or a "
                f"DRNBackbone preset of width {self.config.width:g}."
            )
        classifier = build_drn(key, classes=1000, input_shape=(None, None, 3))
        load_resolved(classifier, resolved, arch=key, kind="classifier", model_key=key)
        transfer_weights(classifier, model.backbone, strict=False)

    def _load_pretrained(self, model, weights):
        """`config.pretrained` (a released name, a preset or a file of the whole
        DRNSeg) into `model`."""
        load_segmenter_weights(model, weights, arch=self.config.arch,
                               width=self.config.width, field="pretrained")

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
            self._attach_preprocessor(model)
            info = {"source": {"run_dir": os.path.abspath(self.config.output_dir),
                               "step": int(step)},
                    "parity": None}
            save_preset_atomic(attach_preprocessor(model), directory, info)
        return {"preset": directory}

    def _attach_preprocessor(self, model) -> None:
        """The training data's statistics as the preset's preprocessor, where they are
        not the dataset's defaults (a source with its own info.json)."""
        from keras_drn.meta.normalization import NORMALIZATION

        if self.config.family == "dilation":
            return  # attach_preprocessor: the dataset's mean, as in training
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
            dilation_geometry=config.family == "dilation",
            normalization=self.normalization)

    def eval_dataset_fn(self, context, global_batch: int):
        return eval_dataset(self.val_source, global_batch=global_batch,
                            input_context=context, eval_size=self.config.eval_size,
                            dilation_geometry=self.config.family == "dilation",
                            normalization=self.normalization)

    def eval_replica(self, images, labels):
        logits = self.model(images, training=False)
        return (confusion_matrix(labels, logits, self.config.classes),
                tf.argmax(logits, axis=-1, output_type=tf.int32))

    def eval_result(self, counts):
        return EvalResult(counts, self.class_names)

    def report_validation(self, result, step, sample) -> None:
        self.summaries.scalars("validation", step, {
            "mean_iou": result.mean_iou, "pixel_accuracy": result.pixel_accuracy})
        self.summaries.class_ious("validation", step, result.per_class_iou,
                                  self.class_names)
        if sample is None:
            return
        images, labels, predictions = sample
        norm = self.normalization
        if self.config.family == "dilation":
            images = images[:, 186:-186, 186:-186]  # the context padding
            labels = np.repeat(np.repeat(labels, 8, axis=1), 8, axis=2)
            predictions = np.repeat(np.repeat(predictions, 8, axis=1), 8, axis=2)
            images = images[:, :labels.shape[1], :labels.shape[2]]
        self.summaries.images("validation", step, images, labels, predictions,
                              dataset=self.dataset_name, normalization=norm,
                              max_images=self.config.log_images)
        if self.chief:
            self._write_prediction_png(images, labels, predictions, norm)

    def report_final(self, result, run) -> dict:
        self._say(f"\nPer-class IoU (%) on {self.val_source.description} after "
                  f"{run['steps']} steps:")
        self._say(format_class_table(result, self.model.name))
        self._say(f"mIoU {100 * result.mean_iou:.2f}  pixel accuracy "
                  f"{100 * result.pixel_accuracy:.2f}  "
                  f"({format_duration(run['seconds'])} of training)")
        if self.chief:
            self._write_tables(result)
        return {"mean_iou": result.mean_iou, "pixel_accuracy": result.pixel_accuracy,
                "per_class_iou": result.per_class_iou.tolist(),
                "class_names": list(self.class_names)}

    def _write_prediction_png(self, images, labels, predictions, norm):
        """input | ground truth | prediction, one row per image, in the dataset's
        colours: `<output_dir>/prediction.png`."""
        from PIL import Image

        rows = []
        for image, label, pred in list(zip(images, labels, predictions))[:3]:
            rows.append(np.concatenate([
                denormalize(image[None], norm)[0], colorize(label, self.dataset_name),
                colorize(pred.astype(np.uint8), self.dataset_name)], axis=1))
        picture = np.concatenate(rows, axis=0)
        path = os.path.join(self.config.output_dir, "prediction.png")
        tmp = os.path.join(self.config.output_dir, ".tmp-prediction.png")
        Image.fromarray(picture).save(tmp)
        os.replace(tmp, path)

    def _write_tables(self, result: EvalResult):
        try:
            from keras_drn.evaluation.report import write_iou_table
        except ImportError:  # pragma: no cover
            return
        write_iou_table({self.model.name: result.per_class_iou}, result.class_names,
                        os.path.join(self.config.output_dir, "val_iou"))



def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value
