"""Mixed precision for training: Keras' dtype policy, set for a block of code only,
and the float16 loss scale.

The policy matters while the model and its optimizer are built (each layer keeps the
policy it was built with); `mixed_precision_policy` sets Keras' global policy for that
time and puts the previous one back afterwards, also when building fails.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

from keras_drn.training.errors import ParameterError

# TrainConfig.mixed_precision -> Keras' dtype policy.
POLICIES = {None: "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}
# float16's starting loss scale. Keras' default, 2**15, overflows the first step's
# float16 gradients of DRN-D-22 (measured): that step is skipped and the run trails
# float32's by one step. From 2**10 the first steps apply, and the dynamic scale still
# halves on overflow and doubles after 2000 finite steps.
INITIAL_LOSS_SCALE = 2.0 ** 10


def policy_name(mixed_precision: str | None) -> str:
    """The Keras dtype policy of a `TrainConfig.mixed_precision` value.

    Args:
        mixed_precision: None (float32), "float16" or "bfloat16".

    Returns:
        "float32", "mixed_float16" or "mixed_bfloat16".

    Raises:
        ParameterError: any other value.
    """
    try:
        return POLICIES[mixed_precision]
    except (KeyError, TypeError):
        raise ParameterError(
            f"Invalid mixed_precision={mixed_precision!r}: expected 'float16', "
            f"'bfloat16' or None (float32).", "mixed_precision") from None


@contextlib.contextmanager
def mixed_precision_policy(policy) -> Iterator[keras.DTypePolicy]:
    """Sets Keras' global dtype policy inside a `with` block only.

    The previous policy comes back when the block ends, whether it ends normally or
    with an exception.

    Args:
        policy: a Keras dtype policy or its name ("float32", "mixed_float16",
            "mixed_bfloat16"); None leaves the current policy in place.

    Yields:
        The policy in force inside the block.

    Example:
    ```python
    with mixed_precision_policy("mixed_float16"):
        model = build_segmenter("drn_d_22", 19)   # float16 compute, float32 weights
    keras.config.dtype_policy().name              # the previous policy again
    ```
    """
    previous = keras.config.dtype_policy()
    if policy is not None:
        keras.config.set_dtype_policy(policy)
    try:
        yield keras.config.dtype_policy()
    finally:
        keras.config.set_dtype_policy(previous)


def with_loss_scaling(optimizer, mixed_precision: str | None):
    """`optimizer` wrapped in a `keras.optimizers.LossScaleOptimizer` (starting at
    `INITIAL_LOSS_SCALE`) for float16, where small gradients would underflow;
    `optimizer` itself otherwise."""
    if mixed_precision == "float16":
        return keras.optimizers.LossScaleOptimizer(optimizer,
                                                   initial_scale=INITIAL_LOSS_SCALE)
    return optimizer
