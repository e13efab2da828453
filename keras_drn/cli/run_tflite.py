"""Segment an image with an exported TFLite model on LiteRT and write the colourised
labels.

    keras-drn-run-tflite IMAGE --model F.tflite --output OUT.png

Runs on `ai_edge_litert` (the LiteRT interpreter, XNNPACK on CPU). The image must have
the model's input size and three channels (RGB); --resize scales it to the model's size
and the labels back to the image's (nearest neighbour), --convert-rgb turns grey or RGBA
images into RGB. Colours come from the model's dataset (stored in the .tflite: a
generic palette when the model names none) or --dataset.
"""

import argparse
import os
import sys
import time

# Colour images in another encoding (palette, CMYK, YCbCr) convert to RGB losslessly.
_COLOUR_MODES = ("P", "CMYK", "YCbCr")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("image", help="the input image (PNG, JPEG, ...).")
    parser.add_argument("--model", required=True, help="the .tflite file.")
    parser.add_argument("--output", required=True,
                        help="where to write the colourised label PNG.")
    parser.add_argument("--labels-output", default=None,
                        help="also write the raw class ids as a grey PNG here.")
    parser.add_argument("--resize", action="store_true",
                        help="resize the image to the model's input size (and the labels "
                             "back) instead of failing on a size mismatch.")
    parser.add_argument("--convert-rgb", action="store_true",
                        help="convert grey, grey+alpha or RGBA images to RGB instead of "
                             "failing.")
    parser.add_argument("--dataset", default=None,
                        help="palette to colour with (default: the model's dataset).")
    parser.add_argument("--threads", type=int, default=None,
                        help="interpreter threads (default: the cores available).")
    parser.add_argument("--low-memory", action="store_true",
                        help="run with XNNPACK's transient indirection buffers (LiteRT "
                             "CompiledModel): same labels, a lower peak on large images.")
    return parser.parse_args(argv)


def read_image(path: str, convert_rgb: bool):
    import numpy as np
    from PIL import Image

    if not os.path.isfile(path):
        raise FileNotFoundError(f"No image at {path!r}.")
    try:
        with Image.open(path) as image:
            mode = image.mode
            if mode in _COLOUR_MODES or (convert_rgb and mode != "RGB"):
                image = image.convert("RGB")
            return np.asarray(image)
    except OSError as error:
        raise ValueError(f"Cannot read image {path!r}: {error}") from error


def main(argv=None) -> int:
    args = parse_args(argv)
    import numpy as np
    from PIL import Image

    from keras_drn.export.runtime import LiteRTSegmenter
    from keras_drn.inference.outputs import label_palette

    try:
        segmenter = LiteRTSegmenter(args.model, num_threads=args.threads,
                                    low_memory=args.low_memory)
        image = read_image(args.image, args.convert_rgb)
        original = image.shape[:2]
        height, width = segmenter.input_size
        if args.resize and image.ndim == 3 and image.shape[:2] != (height, width):
            image = np.asarray(Image.fromarray(image).resize((width, height),
                                                             Image.BILINEAR))
        try:
            segmenter.check_image(image)
        except ValueError as error:
            hint = "" if image.ndim == 3 and image.shape[-1] == 3 else (
                " (or pass --convert-rgb)")
            raise ValueError(f"{args.image}: {error}{hint}") from None
        dataset = args.dataset
        if dataset is None:
            # A keras_drn export records its dataset (None: generic colours); a file
            # without keras_drn metadata gets Cityscapes' colours.
            dataset = segmenter.metadata.get("dataset", "cityscapes")
        colours = label_palette(dataset)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    start = time.perf_counter()
    out = segmenter(image)
    elapsed = time.perf_counter() - start
    labels = out if segmenter.outputs == "labels" else out.argmax(-1)
    if labels.shape != (height, width):
        raise SystemExit(
            f"error: the model returns {labels.shape} labels for a {height}x{width} "
            f"input (a head='none' export gives stride-8 logits); export it with an "
            f"upsampling head to get full-resolution labels."
        )
    labels = labels.astype(np.uint8)
    if labels.shape != original:
        labels = np.asarray(Image.fromarray(labels).resize(
            (original[1], original[0]), Image.NEAREST))
    _save_png(colours[labels], args.output)
    if args.labels_output:
        _save_png(labels, args.labels_output)
    counts = np.bincount(labels.ravel(), minlength=1)
    names = segmenter.class_names or []
    name = lambda c: names[c] if c < len(names) else str(c)  # noqa: E731
    top = ", ".join(f"{name(c)} {100 * n / labels.size:.1f}%"
                    for c, n in sorted(enumerate(counts), key=lambda t: -t[1])[:5] if n)
    print(f"{args.output}: {labels.shape[0]}x{labels.shape[1]} labels in "
          f"{1000 * elapsed:.0f} ms ({segmenter.num_threads} threads); "
          f"largest classes {top}")
    return 0


def _save_png(array, path: str) -> None:
    """Atomic write (temp file + rename)."""
    from PIL import Image

    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temp = os.path.join(directory, f".tmp_{os.getpid()}_{os.path.basename(path)}")
    try:
        Image.fromarray(array).save(temp, format="PNG")
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


if __name__ == "__main__":
    sys.exit(main())
