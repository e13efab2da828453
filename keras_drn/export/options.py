"""The choices an export takes, and its input size, checked without TensorFlow.

The command lines (`keras_drn.cli.export_tflite`, `export_saved_model`, `report`) build
their `--help` and check `--input-size` from this module before TensorFlow is
imported; `keras_drn.export.tflite` and `keras_drn.export.serving` use the same names.
"""

from __future__ import annotations

# The heads of a DRNSeg segmenter (`keras_drn.models.segmenter.HEADS`, which imports
# Keras; tests/test_cli.py checks that the two agree).
HEADS = ("reference", "bilinear", "none")
QUANTIZE_MODES = ("none", "float16", "dynamic", "int8")
OUTPUTS = ("logits", "labels")
# DRN's output stride, and the reference head's upsampling factor.
OUTPUT_STRIDE = 8


def as_pair(values, cast=int) -> tuple | None:
    """Two values converted by `cast`, or None when `values` is not two of them.

    Args:
        values: a sequence (or iterable) that should hold exactly two items.
        cast: the conversion of each item (`int`, `float`).

    Returns:
        `(first, second)`, or None for a sequence of another length, or items that
        `cast` refuses.

    Example:
    ```python
    as_pair(["512", "1024"])  # (512, 1024)
    as_pair("512")  # None: three characters
    ```
    """
    try:
        first, second = (cast(v) for v in values)
    except (TypeError, ValueError):
        return None
    return first, second


def parse_input_size(text: str) -> tuple[int, int]:
    """Reads "HEIGHTxWIDTH".

    Args:
        text: e.g. "512x1024" ("*" works as the separator too).

    Returns:
        `(height, width)`, e.g. `(512, 1024)`.

    Raises:
        ValueError: `text` is not two integers joined by "x".
    """
    pair = as_pair(str(text).lower().replace("*", "x").split("x"))
    if pair is None:
        raise ValueError(
            f"Invalid input size {text!r}: expected HEIGHTxWIDTH, e.g. 512x1024."
        )
    return pair


def nearest_multiples(size: int, multiple: int = OUTPUT_STRIDE) -> tuple[int, int]:
    """The multiples of `multiple` just below and just above `size`.

    Args:
        size: a length in pixels.
        multiple: the step (DRN's output stride by default).

    Returns:
        `(below, above)`; `below` is at least `multiple`, and both equal `size` when
        it is a multiple already.
    """
    below = max(multiple, size // multiple * multiple)
    above = -(-size // multiple) * multiple
    return below, above


def check_input_size(input_size, head: str) -> tuple[int, int]:
    """Validates a static (height, width) for an export with `head`.

    The reference head reproduces segment.py, whose x8 transposed convolution returns
    8 * ceil(H / 8) rows: the reference model only maps an H x W image to an H x W
    label map when 8 divides H and W (Cityscapes' 1024 x 2048 and every crop the
    reference trains on). An exported model stays within that geometry; the bilinear
    and "none" heads take any size of at least 8.

    Args:
        input_size: `(height, width)`.
        head: the segmenter's head, one of `HEADS`.

    Returns:
        `(height, width)` as integers.

    Raises:
        ValueError: not two integers, smaller than 8, or (reference head) not
            multiples of 8; the message suggests the nearest valid sizes.
    """
    pair = as_pair(input_size)
    if pair is None:
        raise ValueError(
            f"Invalid input_size={input_size!r}: expected (height, width), e.g. "
            f"(512, 1024)."
        )
    for axis, size in zip(("height", "width"), pair):
        if size < OUTPUT_STRIDE:
            raise ValueError(
                f"Invalid input_size={input_size!r}: the {axis} must be at least "
                f"{OUTPUT_STRIDE} pixels (DRN downsamples by 8), received {size}."
            )
        if head == "reference" and size % OUTPUT_STRIDE:
            below, above = nearest_multiples(size)
            raise ValueError(
                f"Invalid input_size={input_size!r}: the reference head needs a "
                f"{axis} that is a multiple of {OUTPUT_STRIDE} (its x8 transposed "
                f"convolution tiles the output in 8x8 cells), received {size}. Use "
                f"{below} or {above}, or the 'bilinear' head, which takes any size."
            )
    return pair
