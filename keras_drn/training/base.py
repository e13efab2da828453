"""The trainer shared by every task: set-up, validation and the end of a run.

A `Trainer` puts the parts together: the strategy (`distribute`), the model and its
optimizer built under the run's dtype policy (`precision`), the run state on disk
(`run_state`: step, checkpoints, run.json, resume), the loop (`loop`) and the reports
(`reporters`). Subclasses say what the task is: `SegmentationTrainer` (trainer.py),
`DilationTrainer` (dilation.py), `ClassificationTrainer` (classification.py).
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np
import tensorflow as tf

from keras_drn.data.pipeline import SyntheticSource
from keras_drn.data.pipeline import data_error_from
from keras_drn.meta import class_names as dataset_class_names
from keras_drn.training import distribute
from keras_drn.training import loop
from keras_drn.training import preemption
from keras_drn.training.config import TrainConfig
from keras_drn.training.errors import ParameterError
from keras_drn.training.models import with_synchronized_batchnorm
from keras_drn.training.optimizers import TorchSGD
from keras_drn.training.precision import mixed_precision_policy
from keras_drn.training.precision import policy_name
from keras_drn.training.precision import with_loss_scaling
from keras_drn.training.reporters import Reporter
from keras_drn.training.run_state import RunState
from keras_drn.training.schedules import DRNSchedule


class Trainer:
    """Trains a model with one custom step through `strategy.run`, for every
    `tf.distribute` strategy, validating, checkpointing and reporting as configured.

    Subclasses define the task: `create_model`, `loss_sum`, `train_dataset_fn`,
    `eval_dataset_fn`, `eval_replica`, `eval_result`, `score`, `describe`, and
    optionally `report_validation`, `report_final`, `export_final`, `run_record`.

    Args:
        config: the run's `TrainConfig`.
        train_source: the training data (a source of `keras_drn.data.pipeline`).
        val_source: the validation data, or None.
        strategy: a `tf.distribute` strategy (default: from `config.strategy`).
        stream: where progress and tables are printed (default: standard output).
        dataset_name: the data's name for class names and colours (default: the
            source's).
        save_iter: epochs between kept copies of the checkpoint (0: none).
        workers: parallel decode calls of the input pipeline (0: autotune).
        command: the command line that started the run, to print resume commands
            with; None (a run from Python) names the `resume` setting instead.

    Raises:
        ParameterError: `batch_size` is no multiple of the replicas, or the data
            gives no full batch, or another setting is invalid.

    Example:
    ```python
    trainer = SegmentationTrainer(TrainConfig(steps_per_epoch=100), train, val)
    result = trainer.run()   # {"steps": ..., "mean_iou": ..., "weights": ...}
    ```
    """

    def __init__(self, config: TrainConfig, train_source, val_source=None, *,
                 strategy=None, stream=None, dataset_name: str | None = None,
                 save_iter: int = 0, workers: int = 0, command=None):
        self.save_iter = int(save_iter or 0)
        self.parallel_calls = int(workers) if workers else tf.data.AUTOTUNE
        self.train_source, self.val_source = train_source, val_source
        self.command = list(command) if command else None
        self.dataset_name = dataset_name or getattr(train_source, "dataset", "synthetic")
        self.policy = policy_name(config.mixed_precision)
        if config.deterministic:
            tf.config.experimental.enable_op_determinism()
        self.strategy = strategy or distribute.make_strategy(
            config.strategy, tpu=config.tpu, collective_timeout=config.collective_timeout)
        self.chief = distribute.is_chief(self.strategy)
        self.replicas = self.strategy.num_replicas_in_sync
        self.steps_per_epoch = self._steps_per_epoch(config, train_source)
        self.config = config = config.replace(steps_per_epoch=self.steps_per_epoch)
        self.class_names = self.default_class_names()
        self.reporter = Reporter(
            stream, logdir=config.logdir or os.path.join(config.output_dir, "logs"),
            enabled=self.chief, print_freq=config.print_freq)
        self.summaries = self.reporter.summaries
        self.stream = self.reporter.stream
        self._build()

    def _steps_per_epoch(self, config: TrainConfig, source) -> int:
        if config.batch_size % self.replicas:
            raise ParameterError(
                f"Invalid batch_size={config.batch_size}: the global batch must be a "
                f"multiple of the {self.replicas} replicas.", "batch_size")
        if isinstance(source, SyntheticSource) and not config.steps_per_epoch:
            raise ParameterError(
                "The synthetic data is unlimited: set steps_per_epoch=N.",
                "steps_per_epoch")
        steps = config.steps_per_epoch or len(source) // config.batch_size
        if steps < 1:
            raise ParameterError(
                f"{len(source)} training examples make no full batch of batch_size="
                f"{config.batch_size}; lower it or set steps_per_epoch=N.",
                "batch_size", "steps_per_epoch")
        return steps

    # -- set-up ----------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Prints `text` (chief only)."""
        self.reporter.say(text)

    def _build(self):
        config = self.config
        keras.utils.set_random_seed(config.seed)
        # The layers keep the policy they are built with; Keras' global one is left
        # as it was.
        with mixed_precision_policy(self.policy), self.strategy.scope():
            model = self.create_model()
            if config.bn_sync:
                model = with_synchronized_batchnorm(model)
            self.model = model
            self.schedule = DRNSchedule(
                config.lr, config.lr_mode, steps_per_epoch=self.steps_per_epoch,
                epochs=config.epochs, step=config.step,
                per_iteration=config.lr_per_iteration,
                warmup_epochs=config.warmup_epochs)
            # PyTorch's momentum rule (the schedule changes the rate every epoch, where
            # Keras' SGD would diverge from segment.py); weight decay is added to the
            # loss (coupled L2, as torch.optim.SGD's weight_decay).
            optimizer = with_loss_scaling(
                TorchSGD(learning_rate=self.schedule, momentum=config.momentum),
                config.mixed_precision)
            optimizer.build(model.trainable_variables)
            self.optimizer = optimizer
        self.state = RunState(config, model=model, optimizer=optimizer,
                              strategy=self.strategy)
        self.step, self.best_miou = self.state.step, self.state.best_score
        self.keeper = self.state.keeper
        self.history = {"loss": [], "val_miou": []}  # (step, value) pairs of this process
        self.resumed_from = self.state.resume()
        self.state.write_record(self.run_record())
        self._train_fn = self._make_train_fn()
        self._eval_fn = loop.make_eval_step(self.strategy, self.eval_replica)

    def _make_train_fn(self):
        return loop.make_train_step(
            model=self.model, optimizer=self.optimizer, strategy=self.strategy,
            step=self.step, loss_sum=self.loss_sum,
            weight_decay=self.config.weight_decay, jit_compile=self.config.jit_compile)

    def _train_iterator(self, start_step: int):
        return iter(self.strategy.distribute_datasets_from_function(
            lambda context: self.train_dataset_fn(context, start_step)))

    @property
    def multi_worker(self) -> bool:
        """Whether the run spans several worker processes (MultiWorkerMirroredStrategy)."""
        return isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)

    # -- hooks -----------------------------------------------------------------------

    def run_record(self) -> dict:
        """Entries for run.json besides the settings: what rebuilds the model."""
        return {"class_names": list(self.class_names)}

    def default_class_names(self) -> tuple[str, ...]:
        """The dataset's class names, or class_0 ... when they do not fit."""
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
        """The replica's training batches from `start_step` on."""
        raise NotImplementedError

    def eval_dataset_fn(self, context, global_batch: int):
        """(per-replica batches of one pass over the validation data, steps)."""
        raise NotImplementedError

    def eval_replica(self, images, labels):
        """(counts to sum over replicas and steps, extra per-replica outputs)."""
        raise NotImplementedError

    def eval_result(self, counts):
        """The task's result object from the summed counts."""
        raise NotImplementedError

    def score(self, result) -> float:
        """What "best" means (higher is better)."""
        raise NotImplementedError

    def describe(self, result) -> str:
        """One line summarising a validation result."""
        raise NotImplementedError

    def result_table(self, result, title: str) -> str:
        """The validation result as a table (default: its one-line summary)."""
        return f"{title}: {self.describe(result)}"

    def report_validation(self, result, step, sample) -> None:
        """Reports a validation (TensorBoard, pictures) beyond the console line."""

    def report_final(self, result, run: dict) -> dict:
        """Prints the final evaluation; returns entries for run()'s result."""
        return {}

    def export_final(self, step: int) -> dict:
        """Writes the final model in other forms than final.weights.h5 (chief only);
        returns entries for run()'s result."""
        return {}

    # -- validation ------------------------------------------------------------------

    def evaluate(self):
        """Scores the model on the validation source.

        Returns:
            (result, sample): the task's result object and, for pictures, the first
            replica's first batch (images, labels, extra outputs).
        """
        batch = self.config.eval_batch_size or self.config.batch_size
        batch = max(self.replicas, batch - batch % self.replicas)
        steps = {}

        def dataset_fn(context):
            ds, steps["count"] = self.eval_dataset_fn(context, batch)
            return ds

        iterator = iter(self.strategy.distribute_datasets_from_function(dataset_fn))
        total = sample = None
        try:
            for i in range(steps["count"]):
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
                raise loop.worker_lost(self, error) from error
            raise data_error_from(error, self.val_source) from error
        return self.eval_result(total), sample

    def validate(self, epoch: int, *, save_best: bool = True, table: bool = False):
        """Scores the model, reports (console, TensorBoard, pictures) and, with
        `save_best`, keeps the checkpoint as the best when its score is the highest
        so far. Returns the result."""
        result, sample = self.evaluate()
        step = self.state.current_step
        score = self.score(result)
        self.say(f"Validation after epoch {epoch} (step {step}): {self.describe(result)}")
        self.history["val_miou"].append((step, score))
        self.report_validation(result, step, sample)
        self.reporter.flush()
        if table:
            self.say(self.result_table(result, self.model.name))
        if save_best and math.isfinite(score) and score > float(self.best_miou.numpy()):
            self.best_miou.assign(score)
            self.keeper.save_best(score)
        return result

    # -- the run ---------------------------------------------------------------------

    def run(self) -> dict:
        """Trains to `config.epochs` (from the resumed step), validates, keeps
        checkpoints, and writes `final.weights.h5` (and the task's other forms).

        Returns:
            A summary: steps, seconds, output_dir, weights, and the task's entries.

        Raises:
            TrainingDiverged, preemption.Preempted, preemption.WorkerLost: see
            `loop.run_epochs`.
        """
        try:
            with preemption.StopSignals(self.stream) as signals:
                self._announce()
                last_eval, seconds = loop.run_epochs(self, signals)
        finally:
            self.reporter.close()
        steps = self.state.current_step
        result = {"steps": steps, "seconds": seconds,
                  "output_dir": self.config.output_dir,
                  "weights": self.state.save_final_weights(self.model)}
        result.update(self.export_final(steps))
        if last_eval is not None:
            result.update(self.report_final(last_eval, result))
        self.say(f"Weights: {result['weights']}")
        if "preset" in result:
            self.say(f"Preset: {result['preset']}")
        return result

    def _announce(self) -> None:
        config, spe, start = self.config, self.steps_per_epoch, self.state.current_step
        self.say(
            f"Training {self.model.name} ({self.model.count_params():,} weights) on "
            f"{self.train_source.description}: {config.epochs} epochs x {spe} steps, "
            f"global batch {config.batch_size} over {self.replicas} replica(s) "
            f"({distribute.strategy_name(self.strategy)}), crop "
            f"{config.crop_size[0]}x{config.crop_size[1]}, lr {config.lr} "
            f"({config.lr_mode}), output {config.output_dir}")
        if self.resumed_from:
            self.say(f"Resumed from {self.resumed_from} at step {start} "
                     f"(epoch {start // spe + 1}, step {start % spe} of {spe}).")
