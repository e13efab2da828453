"""Argument checks shared by the builders: errors name the argument, the value
received, and the valid choices."""

from __future__ import annotations

import keras


def check_choice(argument: str, value, choices) -> None:
    """Raises ValueError naming `argument` unless `value` is one of `choices`."""
    if value not in choices:
        shown = ", ".join(repr(c) for c in choices)
        raise ValueError(
            f"Invalid {argument}={value!r}. Expected one of: {shown}."
        )


def check_input_shape(input_shape, *, min_size: int, what: str):
    """Validates an NHWC `input_shape` (without batch) and returns it as a tuple.

    Spatial sizes may be None (any size). The last axis must be 3 (RGB).

    Args:
        input_shape: (height, width, 3), or None for (None, None, 3).
        min_size: the smallest height and width the network accepts.
        what: the network's name in messages.

    Returns:
        The shape as a tuple.

    Raises:
        ValueError: not three entries, not RGB, or a size below `min_size`.
    """
    if input_shape is None:
        return (None, None, 3)
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise ValueError(
            f"Invalid input_shape={input_shape!r}: expected a tuple (height, width, 3)."
        ) from None
    if len(shape) != 3:
        raise ValueError(
            f"Invalid input_shape={input_shape!r}: expected 3 entries (height, width, "
            f"channels) in channels-last order, without the batch axis."
        )
    if shape[-1] != 3:
        raise ValueError(
            f"Invalid input_shape={input_shape!r}: {what} takes RGB images with 3 "
            f"channels on the last axis, received {shape[-1]}. Convert the images to "
            f"RGB (channels last)."
        )
    for axis, size in zip(("height", "width"), shape[:2]):
        if size is None:
            continue
        if not isinstance(size, int) or size < min_size:
            raise ValueError(
                f"Invalid input_shape={input_shape!r}: {what} needs a {axis} of at "
                f"least {min_size} pixels (or None for any size), received {size!r}."
            )
    return shape


def check_pooling(pooling) -> None:
    """Raises ValueError unless `pooling` is None, "avg" or "max"."""
    check_choice("pooling", pooling, (None, "avg", "max"))


def check_classes(classes) -> None:
    """Raises ValueError unless `classes` is a positive integer."""
    if not isinstance(classes, int) or isinstance(classes, bool) or classes < 1:
        raise ValueError(f"Invalid classes={classes!r}: expected a positive integer.")


def make_input(input_tensor, input_shape):
    """keras.applications' input handling: a shape, or a tensor to build on.

    Args:
        input_tensor: None, a Keras tensor, or a backend tensor to wrap.
        input_shape: the input's shape without the batch axis.

    Returns:
        `(image input, input tensor or None)`: what the network is built on, and what
        `model_inputs` turns into the model's inputs.
    """
    if input_tensor is None:
        return keras.Input(shape=input_shape, name="image"), None
    if not keras.backend.is_keras_tensor(input_tensor):
        tensor = keras.Input(tensor=input_tensor, shape=input_shape, name="image")
        return tensor, tensor
    return input_tensor, input_tensor


def model_inputs(img_input, input_tensor):
    """The inputs of the model built on `make_input`'s result: the input itself, or
    the sources of a given tensor."""
    if input_tensor is None:
        return img_input
    return keras.utils.get_source_inputs(input_tensor)
