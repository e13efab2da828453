"""The int8 range of the classifier's logits, chosen for the argmax.

Full-integer models store the `seg` logits as int8: 256 levels over one range. The
converter's min/max calibration spans every logit it sees, most of them far below
each pixel's top two (a trained DRN-D-22's logits reach about +-70); the step (0.5 and
more) then flips the argmax wherever the two best classes are closer than that,
which costs a few percent of the pixels.

The argmax only needs the two best classes of each pixel told apart. Values above the
second-best (the winner saturating) or below the best (losers saturating) can be
clipped without changing it. `fit_logits_range` picks the range that keeps the most
argmax decisions of the upsampled logits on the calibration images, simulating the
int8 rounding exactly (`tf.quantization.fake_quant_with_min_max_args`, the op the
converter reads the range from); the graph then carries that op (see
`SegmentationGraph.logits`). The min/max range is one of the candidates, so the choice
is never worse than the converter's own on the calibration set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

# Candidate quantiles: the lower end from the per-pixel best logit, the upper end from
# the per-pixel second best (their extremes, then ever more of them saturated).
_LOW_QUANTILES = (0.0, 1e-3, 1e-2)
_HIGH_QUANTILES = (1.0, 0.9999, 0.999, 0.99, 0.95, 0.9, 0.8, 0.7)


@dataclass(frozen=True)
class LogitsRange:
    low: float
    high: float
    agreement: float  # argmax agreement of the int8 logits on the calibration set
    minmax_agreement: float  # the same with the min/max range


def fake_quant(logits, low: float, high: float):
    """int8 rounding of `logits` to [low, high] (zero included, as TFLite requires)."""
    return tf.quantization.fake_quant_with_min_max_args(
        logits, min=min(float(low), 0.0), max=max(float(high), 0.0), num_bits=8
    )


def _candidates(logits: list[np.ndarray]) -> list[tuple[float, float]]:
    flat = np.concatenate([x.reshape(-1, x.shape[-1]) for x in logits])
    ranked = np.sort(flat, axis=-1)
    best, second = ranked[:, -1], ranked[:, -2] if flat.shape[-1] > 1 else ranked[:, -1]
    lows = {min(0.0, float(np.quantile(best, q))) for q in _LOW_QUANTILES}
    highs = {max(0.0, float(np.quantile(second, q))) for q in _HIGH_QUANTILES}
    pairs = {(lo, hi) for lo in lows for hi in highs if hi > lo}
    minmax = (min(0.0, float(flat.min())), max(0.0, float(flat.max())))
    return [minmax, *sorted(pairs - {minmax})]


def fit_logits_range(logits: list[np.ndarray],
                     upsample: Callable[[tf.Tensor], tf.Tensor]) -> LogitsRange:
    """Chooses the int8 range of stride-8 `logits` (one (h, w, C) array per
    calibration image) that best keeps the argmax of `upsample(logits)`.

    `upsample` maps a [1, h, w, C] tensor to the model's output logits (the head).
    """
    if not logits:
        raise ValueError("fit_logits_range needs the logits of at least one image.")
    if logits[0].shape[-1] == 1:  # one class: the argmax is always 0
        high = float(max(x.max() for x in logits))
        low = float(min(x.min() for x in logits))
        return LogitsRange(low, high, 1.0, 1.0)
    references = [
        tf.argmax(upsample(tf.constant(x[None])), axis=-1) for x in logits
    ]
    candidates = _candidates(logits)
    scores = []
    for low, high in candidates:
        agree = total = 0
        for x, reference in zip(logits, references):
            quantised = upsample(fake_quant(tf.constant(x[None]), low, high))
            agree += int(tf.reduce_sum(tf.cast(
                tf.argmax(quantised, axis=-1) == reference, tf.int32)))
            total += int(tf.size(reference))
        scores.append(agree / total)
    # Best agreement; among equals the widest range (the least saturation).
    best = max(range(len(candidates)),
               key=lambda i: (scores[i], candidates[i][1] - candidates[i][0]))
    low, high = candidates[best]
    return LogitsRange(low, high, scores[best], scores[0])
