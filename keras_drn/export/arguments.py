"""Command-line arguments shared by the export scripts (`export/*.py`), and building the
Keras model they describe."""

from __future__ import annotations

import argparse
import sys

from keras_drn.export.serving import HEADS


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--arch", required=True,
                       help="DRN backbone, e.g. drn_d_22, drn_c_26, drn_d_105.")
    group.add_argument("-c", "--classes", type=int, default=19,
                       help="number of classes (default: 19, Cityscapes).")
    group.add_argument("--weights", default=None,
                       help="'cityscapes' (the authors' model), or a path: a DRNSeg "
                            "checkpoint (.pth/.pth.tar from segment.py) or Keras weights "
                            "(.weights.h5/.keras, e.g. from train/cityscapes.py). Without "
                            "it the weights are random (for trying the pipeline only).")
    group.add_argument("--head", choices=HEADS, default="reference",
                       help="upsampling head: 'reference' (segment.py's frozen x8 "
                            "transposed convolution; default), 'bilinear' (one resize, "
                            "any input size) or 'none' (stride-8 logits).")
    group.add_argument("--dataset", default="cityscapes",
                       help="whose mean/std normalise the input inside the model, and "
                            "whose class names and palette describe the output "
                            "(cityscapes, camvid, pascal_voc, synthetic; default: "
                            "cityscapes).")


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("calibration and validation data")
    group.add_argument("--data-dir", default=None,
                       help="real images for int8 calibration and parity: a folder of "
                            "PNG/JPEG files, or a Cityscapes root (leftImg8bit/train for "
                            "calibration, leftImg8bit/val for parity). Default: "
                            "synthetic street scenes.")
    group.add_argument("--calibration-images", type=int, default=64,
                       help="images for int8 calibration (default: 64).")
    group.add_argument("--validation-images", type=int, default=8,
                       help="images for the parity report (default: 8).")


def build_model(args, input_shape=(None, None, 3)):
    """The Keras DRNSeg that `args` describe (random weights without --weights)."""
    import keras_drn
    from keras_drn.models.configs import DRN_CONFIGS
    from keras_drn.models.drn import normalize_arch

    arch = normalize_arch(str(args.arch))
    if arch.startswith("dilation"):
        fail(f"--arch {args.arch}: the export scripts take DRN segmentation models "
             f"(DRNSeg). The ICLR 2016 Dilation models (valid padding, Caffe-style "
             f"reflection padding and tiling) are run through keras_drn.inference in "
             f"Python and are not exported. Choose one of: {', '.join(DRN_CONFIGS)}.")
    if arch not in DRN_CONFIGS:
        fail(f"--arch {args.arch!r} is not a DRN architecture. Choose one of: "
             f"{', '.join(DRN_CONFIGS)}.")
    if args.weights is None:
        print("warning: no --weights given; exporting randomly initialised weights.",
              file=sys.stderr)
    return keras_drn.DRNSeg(args.arch, classes=args.classes, weights=args.weights,
                            head=args.head, input_shape=input_shape)


def fail(message: str) -> None:
    """Exits with status 2 and `message` on stderr, as argparse does for bad usage."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)
