"""Choosing the `tf.distribute` strategy: one code path from a laptop to a TPU pod.

    default       the default strategy (no distribution): the laptop.
    one_device    OneDeviceStrategy on the first GPU, else the CPU.
    mirrored      MirroredStrategy over the local GPUs (or the logical CPUs).
    multi_worker  MultiWorkerMirroredStrategy; workers from TF_CONFIG (or a cluster
                  resolver such as Slurm's).
    tpu           TPUStrategy from TPUClusterResolver (untested here: no TPU).
    auto          tpu if a TPU is configured, multi_worker if TF_CONFIG names more than
                  one worker, mirrored with several GPUs, else default.

Training never uses `model.fit` (Keras 3's fit fails under MultiWorkerMirroredStrategy,
keras-team/keras#20585): the trainer runs its own step through `strategy.run`.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from keras_drn.training.errors import ParameterError

STRATEGIES = ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu")


def _tf_config_workers() -> int:
    try:
        config = json.loads(os.environ.get("TF_CONFIG", "") or "{}")
    except ValueError:
        raise ValueError(
            "TF_CONFIG is not valid JSON; expected e.g. "
            '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
            '"task": {"type": "worker", "index": 0}}.'
        ) from None
    return len(config.get("cluster", {}).get("worker", []))


def _tpu_configured(tpu: str | None) -> bool:
    return bool(tpu or os.environ.get("TPU_NAME") or os.environ.get("TPU_ACCELERATOR_TYPE"))


def make_strategy(name: str = "auto", *, tpu: str | None = None,
                  collective_timeout: float | None = None):
    """The `tf.distribute` strategy `name` (see the module docstring).

    Args:
        name: one of `STRATEGIES`.
        tpu: the TPU's name or address (for "tpu", or "auto" on a TPU VM).
        collective_timeout: seconds after which a multi-worker all-reduce that a peer
            never joins fails (a lost worker), rather than waiting forever; None or 0:
            no limit.

    Raises:
        ParameterError: an unknown `name`, or "multi_worker" without TF_CONFIG.
    """
    if name not in STRATEGIES:
        raise ParameterError(f"Invalid strategy={name!r}; expected one of {STRATEGIES}.",
                             "strategy")
    if name == "auto":
        if _tpu_configured(tpu):
            name = "tpu"
        elif _tf_config_workers() > 1:
            name = "multi_worker"
        elif len(tf.config.list_logical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy()
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=cpus)
    if name == "multi_worker":
        if "TF_CONFIG" not in os.environ:
            raise ParameterError(
                "strategy='multi_worker' needs TF_CONFIG (the cluster's workers and this "
                "process's index) in the environment of every worker.", "strategy")
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.AUTO,
            timeout_seconds=float(collective_timeout) if collective_timeout else None)
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    # TPU: connect, initialise, then every shape must be static (the trainer batches
    # with drop_remainder and pads evaluation images to one size).
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def strategy_name(strategy) -> str:
    """The public name of a strategy (MultiWorkerMirroredStrategy's class is
    CollectiveAllReduceStrategy; the default one's is private)."""
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "MultiWorkerMirroredStrategy"
    for cls in (tf.distribute.MirroredStrategy, tf.distribute.OneDeviceStrategy,
                tf.distribute.TPUStrategy):
        if isinstance(strategy, cls):
            return cls.__name__
    return "default strategy"


def is_chief(strategy) -> bool:
    """True on the worker that writes checkpoints and logs (task 0, or the only one)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (task_type == "worker" and task_id == 0 and
                                    "chief" not in resolver.cluster_spec().as_dict())


def worker_id(strategy) -> int:
    """This worker's index in the cluster (0 without one)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return int(getattr(resolver, "task_id", 0) or 0) if resolver is not None else 0


def is_tpu(strategy) -> bool:
    """Whether `strategy` runs on TPUs."""
    return isinstance(strategy, (tf.distribute.TPUStrategy,))
