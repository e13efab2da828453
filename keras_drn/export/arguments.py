"""Command-line arguments shared by the export scripts (`export/*.py`), and building the
segmenter they describe.

`--weights` is read by `keras_drn.weights.resolve` (a released name, a keras-hub preset,
or a file), as everywhere in keras_drn. What the weights know about themselves (the
registry row of a released name; the segmenter saved in a preset or a `.keras` file)
gives the classes, dataset and class names unless `--classes` / `--dataset` say
otherwise; the exporters then read them from the segmenter.
"""

from __future__ import annotations

import argparse
import sys

from keras_drn.export.serving import HEADS


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument("--arch", required=True,
                       help="DRN backbone, e.g. drn_d_22, drn_c_26, drn_d_105.")
    group.add_argument("-c", "--classes", type=int, default=None,
                       help="number of classes (default: the weights' own, else 19, "
                            "Cityscapes).")
    group.add_argument("--weights", default=None,
                       help="'cityscapes' (the authors' model), a keras-hub preset (a "
                            "directory or a kaggle:// / hf:// handle), or a path: a "
                            "DRNSeg checkpoint (.pth/.pth.tar from segment.py) or Keras "
                            "weights (.weights.h5/.keras, e.g. from train/cityscapes.py). "
                            "Without it the weights are random (for trying the pipeline "
                            "only).")
    group.add_argument("--head", choices=HEADS, default="reference",
                       help="upsampling head: 'reference' (segment.py's frozen x8 "
                            "transposed convolution; default), 'bilinear' (one resize, "
                            "any input size) or 'none' (stride-8 logits).")
    group.add_argument("--dataset", default=None,
                       help="whose mean/std normalise the input inside the model, and "
                            "whose class names and palette describe the output "
                            "(cityscapes, camvid, pascal_voc, synthetic, imagenet; "
                            "default: the weights' own dataset, else cityscapes for 19 "
                            "classes, else ImageNet's statistics and no class names).")


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("calibration and validation data")
    group.add_argument("--data-dir", default=None,
                       help="real images for int8 calibration and parity: a folder of "
                            "PNG/JPEG files, or a Cityscapes root (leftImg8bit/train for "
                            "calibration, leftImg8bit/val for parity). Default: "
                            "synthetic street scenes.")
    group.add_argument("--calibration-images", type=int, default=64,
                       help="images for int8 calibration.")
    group.add_argument("--validation-images", type=int, default=8,
                       help="images for the parity report.")


def weights_metadata(resolved) -> dict:
    """What resolved weights say about the model they belong to: "classes",
    "dataset" and "class_names" where known (a registry row; the segmenter stored in
    a preset or a `.keras` file), else an empty dict."""
    if resolved.entry is not None:
        entry = resolved.entry
        return {"classes": entry.classes, "dataset": entry.dataset,
                "class_names": entry.class_names}
    stored = None
    if resolved.kind == "preset":
        from keras_drn.presets import load_preset_model

        stored = load_preset_model(resolved.location)
    elif resolved.kind == "file" and resolved.location.endswith(".keras"):
        import keras

        try:
            stored = keras.saving.load_model(resolved.location, compile=False)
        except Exception:  # noqa: BLE001  (a weights-only use of the file still works)
            stored = None
    from keras_drn.models import DRNImageSegmenter

    if not isinstance(stored, DRNImageSegmenter):
        return {}
    return {"classes": stored.num_classes, "dataset": stored.dataset,
            "class_names": stored.get_config().get("class_names")}


def build_model(args, input_shape=(None, None, 3)):
    """The `keras_drn.DRNImageSegmenter` that `args` describe (random weights without
    --weights), with the dataset and class names the exporters will record."""
    from keras_drn.meta.normalization import NORMALIZATION
    from keras_drn.models import build_drnseg
    from keras_drn.models.configs import DRN_CONFIGS
    from keras_drn.models.drn import normalize_arch
    from keras_drn.weights.resolve import load_resolved
    from keras_drn.weights.resolve import resolve_weights

    arch = normalize_arch(str(args.arch))
    if arch.startswith("dilation"):
        fail(f"--arch {args.arch}: the export scripts take DRN segmentation models "
             f"(DRNSeg). The ICLR 2016 Dilation models (valid padding, Caffe-style "
             f"reflection padding and tiling) are run through keras_drn.inference in "
             f"Python and are not exported. Choose one of: {', '.join(DRN_CONFIGS)}.")
    if arch not in DRN_CONFIGS:
        fail(f"--arch {args.arch!r} is not a DRN architecture. Choose one of: "
             f"{', '.join(DRN_CONFIGS)}.")
    if args.dataset is not None and args.dataset not in NORMALIZATION:
        fail(f"--dataset {args.dataset!r} has no DRN input statistics. Choose one of: "
             f"{', '.join(sorted(NORMALIZATION))}.")
    try:
        resolved = resolve_weights(args.weights, f"drnseg_{arch}",
                                   what=f"DRNSeg({arch!r})", argument="--weights")
        known = weights_metadata(resolved)
    except (ValueError, OSError) as error:
        fail(str(error))
    classes = args.classes or known.get("classes") or 19
    if known.get("classes") and classes != known["classes"]:
        fail(f"--classes {classes}, but --weights {args.weights!r} has "
             f"{known['classes']} classes. Pass --classes {known['classes']} or leave "
             f"it out.")
    dataset = args.dataset or known.get("dataset") or (
        "cityscapes" if classes == 19 else None)
    class_names = known.get("class_names") if dataset == known.get("dataset") else None
    if resolved.is_none:
        print("warning: no --weights given; exporting randomly initialised weights.",
              file=sys.stderr)
    model = build_drnseg(arch, classes, input_shape=input_shape, head=args.head,
                         dataset=dataset, class_names=class_names)
    try:
        load_resolved(model, resolved, arch=arch, kind="segmentation",
                      model_key=f"drnseg_{arch}")
    except (ValueError, OSError) as error:
        fail(str(error))
    return model


def fail(message: str) -> None:
    """Exits with status 2 and `message` on stderr, as argparse does for bad usage."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)
