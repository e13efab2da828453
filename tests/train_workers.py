"""Subprocess side of tests/test_train_distributed.py (TensorFlow must be configured
before it starts, so each case runs in a fresh interpreter); the test also imports it
for the settings. The clusters are started by tests/train_helpers.py.

    python train_workers.py mirrored OUT_DIR   # 2 logical CPUs: 1 vs 2 replicas
    python train_workers.py worker OUT_DIR     # one MultiWorkerMirrored worker
                                               # (TF_CONFIG from the environment)
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

CONFIG = dict(arch="drn_d_22", width=0.5, crop_size=(32, 32), batch_size=4, epochs=1,
              lr=0.1, momentum=0.9, weight_decay=1e-4, eval_every=0, print_freq=100)

# Three steps with synchronised BN, to be compared with one process.
WORKER_CONFIG = dict(CONFIG, lr=0.02, steps_per_epoch=3, bn_sync=True)


def _train_source():
    from keras_drn.data.pipeline import SyntheticSource

    return SyntheticSource(image_size=(32, 64))


def expected_update(weights, *, replicas_without_sync: int, config):
    """One SGD step computed directly (no trainer, no strategy): the gradient of the
    mean cross-entropy over the global batch's valid pixels plus the L2 term; with
    unsynchronised BN and R replicas, each of the R slices of the batch is normalised
    with its own statistics (what MirroredStrategy does), else the whole batch."""
    from keras_drn.data.pipeline import train_dataset
    from keras_drn.training.models import build_segmenter

    model = build_segmenter(config["arch"], 19, width=config["width"])
    model.set_weights(weights)
    images, labels = next(iter(train_dataset(
        _train_source(), global_batch=config["batch_size"],
        crop_size=config["crop_size"], seed=0)))
    labels = tf.cast(labels, tf.int32)
    valid = tf.cast(labels != 255, tf.float32)
    total_valid = tf.reduce_sum(valid)
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = 0.0
        for x, y, v in zip(tf.split(images, replicas_without_sync),
                           tf.split(labels, replicas_without_sync),
                           tf.split(valid, replicas_without_sync)):
            logits = model(x, training=True)
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.where(y == 255, 0, y), logits=logits)
            loss += tf.reduce_sum(ce * v) / total_valid
        loss += 0.5 * config["weight_decay"] * tf.add_n(
            [tf.reduce_sum(tf.square(w)) for w in variables])
    grads = tape.gradient(loss, variables)
    # SGD with momentum from zero velocity: w - lr * g.
    return [w.numpy() - config["lr"] * g.numpy() for w, g in zip(variables, grads)]


def mirrored(out_dir):
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from keras_drn.training import SegmentationTrainer
    from keras_drn.training import TrainConfig

    # One strategy for both cases: a second MirroredStrategy in the same process reuses
    # collective keys of the first and its all-reduces collide.
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {}
    for bn_sync in (False, True):
        config = TrainConfig(**CONFIG, steps_per_epoch=1, bn_sync=bn_sync)
        one = SegmentationTrainer(
            config.replace(strategy="default", output_dir=f"{out_dir}/one{bn_sync}"),
            _train_source())
        two = SegmentationTrainer(
            config.replace(strategy="mirrored", output_dir=f"{out_dir}/two{bn_sync}"),
            _train_source(), strategy=strategy)
        assert two.replicas == 2, two.replicas
        start = one.model.get_weights()
        two.model.set_weights(start)
        trainable = [v.path for v in one.model.trainable_variables]
        start_trainable = [v.numpy() for v in one.model.trainable_variables]
        one.run()
        two.run()
        tag = "sync" if bn_sync else "nosync"
        results[f"{tag}_names"] = np.array(trainable)
        for name, trainer in (("one", one), ("two", two)):
            for i, v in enumerate(trainer.model.trainable_variables):
                results[f"{tag}_{name}_{i}"] = v.numpy()
        for i, w in enumerate(start_trainable):
            results[f"{tag}_start_{i}"] = w
        raw = dict(CONFIG)
        for name, split in (("full", 1), ("halves", 2)):
            for i, w in enumerate(expected_update(start, replicas_without_sync=split,
                                                  config=raw)):
                results[f"{tag}_{name}_{i}"] = w
        # The moving statistics of a synchronised BN: the global batch's.
        if bn_sync:
            for name, trainer in (("one", one), ("two", two)):
                bn = [v for v in trainer.model.non_trainable_variables
                      if "moving_mean" in v.path]
                results[f"moving_{name}"] = np.concatenate([v.numpy() for v in bn])
    np.savez(os.path.join(out_dir, "mirrored.npz"), **results)


def worker(out_dir):
    from keras_drn.training import SegmentationTrainer
    from keras_drn.training import TrainConfig

    config = TrainConfig(**WORKER_CONFIG, strategy="multi_worker",
                         output_dir=f"{out_dir}/run")
    trainer = SegmentationTrainer(config, _train_source())
    assert trainer.replicas == 2, trainer.replicas
    trainer.run()
    task = trainer.strategy.cluster_resolver.task_id
    np.savez(os.path.join(out_dir, f"worker{task}.npz"),
             *[v.numpy() for v in trainer.model.weights],
             losses=np.array([loss for _, loss in trainer.history["loss"]]))


if __name__ == "__main__":
    {"mirrored": mirrored, "worker": worker}[sys.argv[1]](sys.argv[2])
