"""Segments images from the command line.

    python -m keras_drn.predict INPUT [INPUT ...] -o OUT
        (--arch drn_d_22 [--weights cityscapes|FILE|PRESET] | --model FILE.keras|PRESET)
        [--dataset cityscapes] [--ms | --scales 0.5,1,1.5] [--flip] [--merge log_prob|prob]
        [--window 1024 --margin 256] [--outputs train_ids,label_ids,color,overlay]

INPUT is a folder (searched recursively), a glob pattern ("imgs/*.jpg"), an image or a
.txt list of images. OUT gets `train_ids/`, `label_ids/` (Cityscapes label ids, ready
for the benchmark server), `color/` and `overlay/`, keeping the sub-folders of an
input folder. `--ms` is fyu/drn's multi-scale test (scales 0.5 .. 1.75).

The model says what it was trained on: its dataset gives the normalisation, the palette
and the class ids (`--dataset` overrides it). `--weights` is read by
`keras_drn.weights.resolve` (a released name, a preset, or a file), as everywhere in
keras_drn; `--model` is a `.keras` file or a keras-hub preset (a named preset such as
"drn_d_22_cityscapes", a directory, or a kaggle:// / hf:// handle).

The library function behind it is `keras_drn.inference.predict_images`.
"""

from __future__ import annotations

from keras_drn.cli.quiet import import_tensorflow

# This command imports TensorFlow (through keras_drn.inference and friends);
# import it first with its start-up lines kept off the terminal.
import_tensorflow()

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
    source.add_argument("--model", help="a saved Keras model (.keras) or a keras-hub "
                                        "preset (name, directory or handle)")
    parser.add_argument("--weights", help="with --arch: named weights (cityscapes), a "
                                          "preset, or a checkpoint file (.pth, "
                                          ".caffemodel, .weights.h5, .keras)")
    parser.add_argument("--classes", type=int,
                        help="with --arch: classes (default: the weights', else the "
                             "dataset's, else 19)")
    parser.add_argument("--dataset", default=None,
                        help="normalisation, palette and ids (default: the model's own "
                             "dataset)")
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
    """The model named on the command line: a keras_drn segmenter (or, from a `.keras`
    file saved without one, the plain Keras model it holds)."""
    import keras

    import keras_drn
    from keras_drn.meta.labels import class_names

    if args.model:
        if args.weights or args.classes:
            raise ValueError("--weights and --classes go with --arch; a --model file or "
                             "preset holds its weights and classes.")
        if str(args.model).endswith(".keras"):
            return keras.saving.load_model(args.model, compile=False)
        return _preset_segmenter(args.model, "--model")
    arch = args.arch.strip().lower().replace("-", "_")
    if arch in DILATION_ARCHS:
        constructor = getattr(keras_drn, arch.capitalize())  # Dilation7, 8, 10
        kwargs = {"dataset": args.dataset} if args.dataset else {}
        if args.classes:
            kwargs["classes"] = args.classes
        return constructor(weights=args.weights, **kwargs)
    from keras_drn.models.drn import normalize_arch
    from keras_drn.weights.resolve import resolve_weights

    key = normalize_arch(arch)
    resolved = resolve_weights(args.weights, f"drnseg_{key}", what=f"DRNSeg({key!r})",
                               argument="--weights")
    if resolved.kind == "preset":  # the preset knows its classes and dataset
        model = _preset_segmenter(resolved.location, "--weights")
        if model.family != "drn" or model.arch != key or (
                args.classes and args.classes != model.num_classes):
            raise ValueError(
                f"--weights {args.weights!r} is a preset of {model.arch} with "
                f"{model.num_classes} classes, not of --arch {args.arch} with "
                f"{args.classes or 'any number of'} classes. Pass the preset as --model."
            )
        return model
    classes = args.classes
    if classes is None and resolved.entry is not None:
        classes = resolved.entry.classes
    if classes is None and args.dataset:
        classes = len(class_names(args.dataset))
    return keras_drn.DRNSeg(arch, classes=classes or 19, weights=args.weights)


def _preset_segmenter(preset, argument: str):
    import keras_drn
    from keras_drn.presets import load_preset_model

    model = load_preset_model(preset)
    if not keras_drn.models.is_segmenter(model):
        raise ValueError(
            f"{argument} {preset!r} is a backbone preset; pass a segmenter preset (one "
            f"with task.json), e.g. drn_d_22_cityscapes."
        )
    return model


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
