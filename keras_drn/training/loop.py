"""The training loop: the compiled steps, and the epochs around them.

Each step runs the replica's forward pass, the loss (summed over valid pixels or
examples, divided by the count of the *global* batch, `losses.global_mean`), the
reference's coupled L2 weight decay on every trainable weight, loss scaling for
float16, and the optimizer, whose update sums the replicas' gradients. Every compiled
call also all-reduces the workers' stop and checkpoint requests (`preemption`), so
that all of them stop or checkpoint after the same step.
"""

from __future__ import annotations

import math
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from keras_drn.data.pipeline import data_error_from
from keras_drn.training import distribute
from keras_drn.training import preemption
from keras_drn.training.errors import TrainingDiverged
from keras_drn.training.losses import global_mean


def make_train_step(*, model, optimizer, strategy, step, loss_sum,
                    weight_decay: float = 0.0, jit_compile: bool = False):
    """The compiled training call.

    Args:
        model: the model (built under `strategy.scope()`).
        optimizer: its optimizer (a `LossScaleOptimizer` scales the loss).
        strategy: the `tf.distribute` strategy.
        step: the int64 step variable, advanced by each call.
        loss_sum: `(labels, outputs) -> (sum of losses, their count)` on a replica.
        weight_decay: the coupled L2 factor (segment.py's weight_decay).
        jit_compile: compile the replica's step with XLA.

    Returns:
        `train_steps(iterator, steps, requests=None)`, which runs `steps` steps from
        the distributed `iterator` and returns (mean loss, whether every weight is
        finite, the requests summed over all replicas).
    """
    decay = float(weight_decay)
    replicas = float(strategy.num_replicas_in_sync)
    scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    variables = model.trainable_variables

    def replica_step(images, labels):
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)
            local_sum, count = loss_sum(labels, outputs)
            loss = global_mean(local_sum, count)
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
        # A finite loss can still come with an overflowing update: check the updated
        # weights too (on the replica, which also suits TPUs), so that no checkpoint
        # is ever written from broken weights.
        broken = tf.add_n([tf.reduce_sum(tf.cast(~tf.math.is_finite(v), tf.float32))
                           for v in variables])
        return loss, broken

    if jit_compile:
        replica_step = tf.function(replica_step, jit_compile=True, reduce_retracing=True)

    @tf.function
    def compiled_steps(iterator, steps: int, requests):
        # A Python loop (unrolled; `steps` is a Python int, one trace per value) rather
        # than a tf.while_loop, whose body would give the collectives of sync BN no
        # guaranteed order across replicas.
        total = tf.constant(0.0, tf.float32)
        broken = tf.constant(0.0, tf.float32)
        for _ in range(steps):
            images, labels = next(iterator)
            loss, bad = strategy.run(replica_step, args=(images, labels))
            total += strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None)
            broken += strategy.reduce(tf.distribute.ReduceOp.SUM, bad, axis=None)
        step.assign_add(steps)
        asked = strategy.reduce(tf.distribute.ReduceOp.SUM,
                                strategy.run(tf.identity, args=(requests,)), axis=None)
        return total / steps, broken == 0, asked

    def train_steps(iterator, steps: int, requests=None):
        if requests is None:
            requests = np.zeros([preemption.REQUESTS], np.float32)
        return compiled_steps(iterator, steps, tf.constant(requests, tf.float32))

    return train_steps


def make_eval_step(strategy, eval_replica):
    """The compiled validation call: `eval_replica(images, labels) -> (counts, extra)`
    on each replica; returns (counts summed over replicas, per-replica extra)."""

    @tf.function
    def eval_step(images, labels):
        counts, extra = strategy.run(eval_replica, args=(images, labels))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, counts, axis=None), extra

    return eval_step


def run_epochs(trainer, signals) -> tuple[object, float]:
    """Trains `trainer` from its current step to the last of `config.epochs`,
    checkpointing and validating as configured.

    Args:
        trainer: a `keras_drn.training.base.Trainer`.
        signals: the `preemption.StopSignals` in force.

    Returns:
        (the last validation result or None, seconds of training).

    Raises:
        TrainingDiverged: the loss or the weights became NaN or Inf.
        preemption.Preempted: a stop was requested; the step was checkpointed.
        preemption.WorkerLost: a multi-worker peer stopped answering.
        keras_drn.data.sources.DataError: a data file is unreadable (named).
    """
    config, state, report = trainer.config, trainer.state, trainer.reporter
    spe, epochs = trainer.steps_per_epoch, config.epochs
    iterator = trainer._train_iterator(state.current_step)
    control = preemption.StopControl(signals, config.checkpoint_minutes)
    began = time.monotonic()
    last_eval = evaluated_at = None
    while state.current_step < spe * epochs:
        epoch = state.current_step // spe
        done = state.current_step - epoch * spe
        progress = report.progress(spe, epoch=epoch + 1, epochs=epochs)
        while done < spe:
            n = min(config.steps_per_execution, spe - done)
            if config.checkpoint_steps:
                n = min(n, config.checkpoint_steps -
                        state.current_step % config.checkpoint_steps)
            t0 = time.monotonic()
            try:
                loss, finite, asked = trainer._train_fn(iterator, int(n),
                                                        control.requests())
                loss, finite, asked = float(loss), bool(finite), asked.numpy()
            except tf.errors.OpError as error:
                if trainer.multi_worker and preemption.is_collective_failure(error):
                    raise worker_lost(trainer, error) from error
                raise data_error_from(error, trainer.train_source) from error
            elapsed = time.monotonic() - t0
            step = state.current_step
            if not math.isfinite(loss) or not finite:
                diverged(trainer, step, loss)
            done += n
            trainer.history["loss"].append((step, loss))
            lr = float(trainer.schedule(trainer.optimizer.iterations))
            ips = n * config.batch_size / max(elapsed, 1e-9)
            progress.update(done, loss=loss, lr=lr, images_per_sec=ips, final=done == spe)
            report.train_step(step, loss=loss, lr=lr, images_per_second=ips)
            if asked[preemption.STOP] > 0:
                preempted(trainer, step, signals)
            if done < spe and (asked[preemption.SAVE] > 0 or (
                    config.checkpoint_steps and step % config.checkpoint_steps == 0)):
                state.keeper.save()
                control.saved()
        state.keeper.save()
        control.saved()
        epoch_done = epoch + 1
        if trainer.save_iter and epoch_done % trainer.save_iter == 0:
            state.keeper.save_history(epoch_done)
        if trainer.val_source is not None and config.eval_every and (
                epoch_done % config.eval_every == 0 or epoch_done == epochs):
            last_eval = trainer.validate(epoch_done)
            evaluated_at = state.current_step
    if trainer.val_source is not None and evaluated_at != state.current_step:
        last_eval = trainer.validate(epochs)
    return last_eval, time.monotonic() - began


def _resume_hint(trainer, run_dir: str | None) -> str:
    """The command that resumes (or restarts) the run: the trainer's command line with
    --resume, or, for a run started from Python, the `resume` setting."""
    if trainer.command:
        return preemption.resume_command(list(trainer.command), run_dir)
    return f"resume={run_dir!r}" if run_dir else "the same settings"


def preempted(trainer, step: int, signals) -> None:
    """Checkpoints at `step` (every worker: the save is collective), prints how to
    resume and raises `preemption.Preempted`."""
    path = trainer.state.keeper.save()
    why = signals.received or "a stop request from another worker"
    spe = trainer.steps_per_epoch
    trainer.say(
        f"\nStopped at step {step} (epoch {step // spe + 1}, step {step % spe} of "
        f"{spe}) on {why}; checkpoint {path}. Resume from {trainer.config.output_dir} "
        f"with:\n  {_resume_hint(trainer, trainer.config.output_dir)}")
    if not trainer.chief:
        sys.stderr.write(f"Stopped at step {step} on {why} (worker "
                         f"{distribute.worker_id(trainer.strategy)}).\n")
    raise preemption.Preempted(step, path, why)


def worker_lost(trainer, error) -> preemption.WorkerLost:
    """The `WorkerLost` for a failed collective: it names the lost worker and how to
    resume; the traceback goes to <output_dir>/logs."""
    worker = distribute.worker_id(trainer.strategy)
    log = preemption.write_traceback(trainer.config.output_dir, worker, error)
    resolver = getattr(trainer.strategy, "cluster_resolver", None)
    cluster = resolver.cluster_spec().as_dict() if resolver is not None else {}
    lost = preemption.lost_worker_name(error, cluster)
    latest = trainer.state.latest_checkpoint()
    if latest:
        where = f"The last checkpoint is {latest}. Resume"
        how = _resume_hint(trainer, trainer.config.output_dir)
    else:
        where = "No checkpoint had been written yet. Start again"
        how = _resume_hint(trainer, None)
    step = trainer.state.current_step
    message = (
        f"Worker {worker}: lost contact with {lost} during training near step {step} "
        f"({type(error).__name__}: {preemption.error_summary(error)}). {where} on "
        f"every worker (the same TF_CONFIG, the chief's output directory on shared "
        f"storage) with:\n  {how}\nThe full traceback is in {log}.")
    return preemption.WorkerLost(message, step, log)


def diverged(trainer, step: int, loss: float) -> None:
    """Prints and raises `TrainingDiverged`, naming the last good checkpoint."""
    latest = trainer.state.latest_checkpoint()
    kept = (f"The last good checkpoint, {latest}, is kept; resume from it with a "
            f"lower learning rate (or a warm-up)." if latest else
            "No checkpoint had been written yet.")
    what = (f"the training loss became {loss}" if not math.isfinite(loss) else
            f"the weights became NaN or Inf (loss {loss:.4g})")
    message = (f"At step {step} {what}: the run diverged and was stopped without "
               f"saving. {kept}")
    trainer.say("\n" + message)
    raise TrainingDiverged(message)
