"""Losses: per-pixel cross-entropy ignoring 255, averaged over the valid pixels of the
global batch (segment.py: NLLLoss2d(ignore_index=255) on log-softmax outputs), and the
classification cross-entropy of classify.py; plus the in-graph confusion matrix."""

from __future__ import annotations

import tensorflow as tf

IGNORE_LABEL = 255


def segmentation_loss_sum(labels, logits):
    """(sum of per-pixel cross-entropy over valid pixels, number of valid pixels) for
    one replica's batch. `logits` (N, H, W, C) are cast to float32, so the softmax runs
    in float32 under mixed precision; `labels` (N, H, W) hold 0..C-1 or 255."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.int32)
    classes = tf.shape(logits)[-1]
    valid = (labels >= 0) & (labels < classes)
    safe = tf.where(valid, labels, tf.zeros_like(labels))
    per_pixel = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=safe, logits=logits)
    per_pixel = tf.where(valid, per_pixel, tf.zeros_like(per_pixel))
    return tf.reduce_sum(per_pixel), tf.reduce_sum(tf.cast(valid, tf.float32))


def global_mean(local_sum, local_count):
    """This replica's share of the mean over the whole global batch: local_sum divided
    by the count summed over all replicas. The optimizer sums gradients over replicas,
    so the shares add up to the gradient of the global mean, whatever the number of
    replicas (one replica with the global batch gives the same update)."""
    context = tf.distribute.get_replica_context()
    total = local_count
    if context is not None and context.num_replicas_in_sync > 1:
        total = context.all_reduce(tf.distribute.ReduceOp.SUM, local_count)
    return local_sum / tf.maximum(total, 1.0)


def classification_loss_sum(labels, logits):
    """(sum of the cross-entropies, number of examples) for one replica's batch."""
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.int32)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_sum(losses), tf.cast(tf.size(labels), tf.float32)


def confusion_matrix(labels, logits, classes: int):
    """(classes, classes) int32 counts, rows ground truth, columns predictions
    (segment.py fast_hist); labels outside [0, classes) are skipped."""
    labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
    predictions = tf.reshape(tf.argmax(logits, axis=-1, output_type=tf.int32), [-1])
    valid = (labels >= 0) & (labels < classes)
    return tf.math.confusion_matrix(
        tf.where(valid, labels, 0), predictions, num_classes=classes,
        weights=tf.cast(valid, tf.int32), dtype=tf.int32)
