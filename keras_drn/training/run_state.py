"""The state of a training run that outlives its process: the step, the best score,
the checkpoints, `run.json` and the final weights, all under `config.output_dir`.

    state = RunState(config, model=model, optimizer=optimizer, strategy=strategy)
    state.resume()                    # when config.resume is set
    state.write_record({...})         # run.json: the settings and what rebuilds the model
    state.keeper.save()               # a checkpoint at the current step
"""

from __future__ import annotations

import os
from dataclasses import asdict

import numpy as np
import tensorflow as tf

from keras_drn.training import checkpoints as ckpt
from keras_drn.training import distribute

FINAL_WEIGHTS = "final.weights.h5"


class RunState:
    """The step counter, the best validation score and their checkpoints.

    The variables are created under `strategy.scope()`, so every replica sees them;
    only the chief writes `run.json` and the final weights (`distribute.is_chief`).

    Args:
        config: the run's `TrainConfig`.
        model: the model being trained.
        optimizer: its optimizer (its slots are checkpointed).
        strategy: the `tf.distribute` strategy of the run.

    Attributes:
        step: a `tf.Variable` (int64), optimizer steps taken.
        best_score: a `tf.Variable` (float32), the best validation score so far
            (-1 before the first validation); checkpointed as `best_miou`.
        keeper: the `checkpoints.CheckpointKeeper` that saves and restores them.
        resumed_from: the checkpoint prefix `resume()` restored, or None.
    """

    def __init__(self, config, *, model, optimizer, strategy):
        self.config = config
        self.chief = distribute.is_chief(strategy)
        with strategy.scope():
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.best_score = tf.Variable(-1.0, dtype=tf.float32, trainable=False,
                                          name="best_miou")
        self.keeper = ckpt.CheckpointKeeper(
            config.output_dir, model=model, optimizer=optimizer, step=self.step,
            best_miou=self.best_score, keep=config.keep_checkpoints, chief=self.chief,
            worker=distribute.worker_id(strategy))
        self.resumed_from = None

    @property
    def current_step(self) -> int:
        """The step as a Python int."""
        return int(self.step.numpy())

    def resume(self) -> str | None:
        """Restores `config.resume` (a run directory or a checkpoint) after checking
        that the settings the step depends on are those of the run that wrote it.

        Returns:
            The checkpoint prefix restored, or None when `config.resume` is unset.

        Raises:
            ParameterError: no checkpoint at `config.resume`, or changed settings.
        """
        if not self.config.resume:
            return None
        ckpt.check_resume_settings(self.config.output_dir,
                                   self.config.resume_settings(), self.config.resume)
        self.resumed_from = self.keeper.restore(self.config.resume)
        return self.resumed_from

    def write_record(self, record: dict) -> None:
        """Writes `<output_dir>/run.json` (chief only): the resume settings, the whole
        configuration and `record` (what rebuilds the model)."""
        if not self.chief:
            return
        settings = self.config.resume_settings()
        settings.update(config=jsonable(asdict(self.config)), **record)
        ckpt.write_json_atomic(os.path.join(self.config.output_dir, ckpt.RUN_FILE),
                               settings)

    def latest_checkpoint(self) -> str | None:
        """The newest checkpoint of the run (the chief's, on shared storage)."""
        return ckpt.latest_checkpoint(self.config.output_dir)

    def save_final_weights(self, model) -> str:
        """Writes `<output_dir>/final.weights.h5` (chief only); returns its path."""
        path = os.path.join(self.config.output_dir, FINAL_WEIGHTS)
        if self.chief:
            ckpt.save_weights_atomic(model, path)
        return path


def jsonable(value):
    """`value` with tuples as lists and numpy scalars as Python numbers, for JSON."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value
