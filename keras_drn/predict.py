"""Segments images from the command line.

    python -m keras_drn.predict INPUT [INPUT ...] -o OUT
        (--arch drn_d_22 [--weights cityscapes|FILE] | --model FILE.keras)
        [--dataset cityscapes] [--ms | --scales 0.5,1,1.5] [--flip] [--merge log_prob|prob]
        [--window 1024 --margin 256] [--outputs train_ids,label_ids,color,overlay]

INPUT is a folder (searched recursively), a glob pattern ("imgs/*.jpg"), an image or a
.txt list of images. OUT gets `train_ids/`, `label_ids/` (Cityscapes label ids, ready
for the benchmark server), `color/` and `overlay/`, keeping the sub-folders of an
input folder. `--ms` is fyu/drn's multi-scale test (scales 0.5 .. 1.75).

The library function behind it is `keras_drn.inference.predict_images`.
"""

from __future__ import annotations

import argparse
import sys

from keras_drn.inference.multiscale import MERGES
from keras_drn.inference.multiscale import MS_SCALES
from keras_drn.inference.predictor import OUTPUTS

DILATION_ARCHS = ("dilation7", "dilation8", "dilation10")


def _floats(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers, e.g. 0.5,1,1.5; received {text!r}"
        ) from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"scales must be positive, received {text!r}")
    return values


def _size(text: str):
    try:
        values = [int(v) for v in text.lower().replace("x", ",").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected N or HxW, e.g. 1024 or 1024x2048; received {text!r}"
        ) from None
    if len(values) == 1:
        return values[0]
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"expected N or HxW, received {text!r}")
    return tuple(values)


def _outputs(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in OUTPUTS]
    if bad or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown output {bad[0] if bad else text!r}; choose from {','.join(OUTPUTS)}"
        )
    return kinds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m keras_drn.predict",
        description="Segment images with a DRN or Dilation model.",
    )
    parser.add_argument("inputs", nargs="+", help="folders, images, globs or .txt lists")
    parser.add_argument("-o", "--output", required=True, help="output folder")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--arch", help="drn_d_22, drn_c_26, ..., or dilation7/8/10")
    source.add_argument("--model", help="a saved Keras model (.keras)")
    parser.add_argument("--weights", help="with --arch: named weights (cityscapes) or a "
                                          "checkpoint file (.pth, .caffemodel, "
                                          ".weights.h5)")
    parser.add_argument("--classes", type=int,
                        help="with --arch: classes (default: the dataset's)")
    parser.add_argument("--dataset", default="cityscapes",
                        help="normalisation, palette and ids (default cityscapes)")
    scales = parser.add_mutually_exclusive_group()
    scales.add_argument("--ms", action="store_true",
                        help=f"multi-scale testing, scales {','.join(map(str, MS_SCALES))}")
    scales.add_argument("--scales", type=_floats, help="comma-separated scales")
    parser.add_argument("--flip", action="store_true", help="add mirrored predictions")
    parser.add_argument("--merge", default="log_prob", choices=MERGES,
                        help="combine scales by log-probabilities (the reference) or "
                             "probabilities")
    parser.add_argument("--window", type=_size, help="DRN: sliding-window size, N or HxW")
    parser.add_argument("--margin", type=_size, help="DRN: window context margin "
                                                     "(default window/4)")
    parser.add_argument("--tile", type=_size, help="Dilation: tile size (default: the "
                                                   "dataset's deploy input)")
    parser.add_argument("--batch-size", type=int, default=1, help="windows/tiles per step")
    parser.add_argument("--outputs", type=_outputs,
                        help=f"comma-separated, from {','.join(OUTPUTS)} (default all; "
                             f"label_ids for Cityscapes only)")
    parser.add_argument("--alpha", type=float, default=0.5, help="overlay colour weight")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def load_model(args):
    """The model named on the command line."""
    import keras

    import keras_drn
    from keras_drn.meta.labels import class_names

    if args.model:
        return keras.saving.load_model(args.model, compile=False)
    arch = args.arch.strip().lower().replace("-", "_")
    classes = args.classes or len(class_names(args.dataset))
    if arch in DILATION_ARCHS:
        constructor = getattr(keras_drn, arch.capitalize())  # Dilation7, 8, 10
        return constructor(dataset=args.dataset, weights=args.weights)
    return keras_drn.DRNSeg(arch, classes=classes, weights=args.weights)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from keras_drn.inference.predictor import Predictor
    from keras_drn.inference.predictor import predict_images

    try:
        model = load_model(args)
        predictor = Predictor(
            model, dataset=args.dataset, scales=MS_SCALES if args.ms else
            (args.scales or (1.0,)), flip=args.flip, merge=args.merge,
            window=args.window, margin=args.margin, tile_size=args.tile,
            batch_size=args.batch_size,
        )
        records = predict_images(predictor, args.inputs, args.output,
                                 outputs=args.outputs, alpha=args.alpha,
                                 progress=not args.quiet)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not args.quiet:
        kinds = sorted({k for r in records for k in r["outputs"]})
        print(f"segmented {len(records)} images into {args.output} ({', '.join(kinds)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
