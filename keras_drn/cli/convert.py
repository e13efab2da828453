"""keras-drn-convert: the authors' weights as a Keras weights file, with the parity
with the PyTorch reference shown.

    keras-drn-convert SRC --arch drn_d_22 [--classes 19] --output F.weights.h5
    python export/convert_weights.py SRC --arch drn_d_22 --output F.weights.h5

SRC is a PyTorch checkpoint of fyu/drn (`.pth`, `.pth.tar`: a release, or a training
checkpoint of segment.py/classify.py), torchvision's ResNet-50 for drn_a_50, a
fyu/dilation `.caffemodel` (with --arch dilation8_camvid, dilation8_pascal_voc,
dilation7_kitti or dilation10_cityscapes), or a registry name ("imagenet",
"cityscapes", ...) to download; `keras_drn.weights.resolve` tells which, as for every
`weights=` argument. Whether a DRN checkpoint is a classifier or a DRNSeg model, and
its number of classes, are read from the file unless given.

When PyTorch is installed, the same file is loaded into `keras_drn.reference` (the
PyTorch port of the reference networks; by torch.load for .pth files) and the largest
difference of the outputs is printed (`keras_drn.reference.parity`); one above --atol
is an error and nothing is written. No PyTorch is needed to convert.

Exit status: 0 written, 1 parity above --atol, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys

from keras_drn.presets_build import DILATION_ARCHS
from keras_drn.presets_build import UsageError

OUTPUT_SUFFIXES = (".weights.h5", ".keras")
DEFAULT_ATOL = 1e-4


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; each help text states its default once."""
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("src", help="a .pth/.pth.tar/.caffemodel file, or a registry "
                        "weights name such as 'imagenet' or 'cityscapes'.")
    parser.add_argument("--arch", required=True,
                        help="drn_d_22, drn_c_26, drn_a_50, ... or one of "
                        f"{', '.join(DILATION_ARCHS)}.")
    parser.add_argument("--classes", type=int, default=None,
                        help="number of classes (default: read from the checkpoint).")
    parser.add_argument("--kind", choices=("auto", "classifier", "segmentation"),
                        default="auto", help="for DRN checkpoints: a classifier "
                        "(drn.py) or DRNSeg (segment.py) model (default: auto, read "
                        "from the keys).")
    parser.add_argument("--output", required=True,
                        help="the Keras file to write: *.weights.h5 or *.keras.")
    parser.add_argument("--no-parity", action="store_true",
                        help="skip the comparison with PyTorch.")
    parser.add_argument("--atol", type=float, default=DEFAULT_ATOL,
                        help="largest accepted |keras - torch| of the outputs "
                        f"(default: {DEFAULT_ATOL:g}).")
    parser.add_argument("--input-size", default=None,
                        help="HEIGHTxWIDTH of the parity input (default: 224x224 for a "
                        "classifier, where drn.py's AvgPool2d(28) applies; 64x96 for "
                        "DRNSeg; 381x389 for Dilation).")
    return parser


def parse_size(text: str | None):
    """(height, width) of "HEIGHTxWIDTH", or None for None."""
    if text is None:
        return None
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"Invalid --input-size={text!r}: expected HEIGHTxWIDTH, e.g. "
                         f"64x96.") from None
    return h, w


def _classes_of(state, src, kind, classes):
    """(kind, classes) of a DRN checkpoint, checked against --kind and --classes."""
    from keras_drn.presets_build import checkpoint_kind

    found_kind, found = checkpoint_kind(state)
    kind = found_kind if kind == "auto" else kind
    if found_kind != kind:
        found = None  # the other head: nothing to check against
    head = "seg.weight" if kind == "segmentation" else "fc.weight"
    if classes is None and found is None:
        raise UsageError(f"{src} has no {head}; pass --classes.")
    if found is not None and classes is not None and found != classes:
        raise UsageError(f"--classes={classes}, but {src} has {found} classes "
                         f"({head} has {found} outputs).")
    return kind, classes if classes is not None else found


def _resolve(src, model_key: str, what: str):
    """SRC through `keras_drn.weights.resolve`; presets are Keras already."""
    from keras_drn.weights.resolve import resolve_weights

    resolved = resolve_weights(src, model_key, what=what, argument="SRC")
    if resolved.kind == "preset":
        raise UsageError(
            f"SRC {src!r} is a keras-hub preset, which holds Keras weights already; "
            f"pass a .pth/.pth.tar/.caffemodel file or a registry name to convert.")
    return resolved


def _load_dilation(src, arch, classes):
    import keras_drn
    from keras_drn.models import DILATION_CONFIGS
    from keras_drn.weights import named
    from keras_drn.weights.caffe_reader import read_caffemodel
    from keras_drn.weights.convert import assign_arrays
    from keras_drn.weights.convert import convert_caffe_blobs
    from keras_drn.weights.resolve import load_resolved

    family, dataset = arch.split("_", 1)
    config = DILATION_CONFIGS[dataset]
    resolved = _resolve(src, arch, f"{family}({dataset!r})")
    classes = classes or config.classes
    model = getattr(keras_drn, family.capitalize())(dataset, classes=classes,
                                                    input_shape=(None, None, 3))
    info = {"arch": arch, "kind": "caffe", "classes": classes, "config": config}
    if resolved.kind == "file":
        info["blobs"] = read_caffemodel(resolved.location)
        assign_arrays(model, convert_caffe_blobs(model, info["blobs"], source=src),
                      kind="caffe")
    else:
        load_resolved(model, resolved, arch=arch, kind="caffe", model_key=arch)
        info["path"] = named.download.cached_path(resolved.entry)  # read for parity
    return model, info


def build_and_load(src, arch, *, classes=None, kind="auto"):
    """The Keras model of `arch` with the weights of `src` loaded.

    Args:
        src: a checkpoint file or a registry weights name.
        arch: "drn_d_22", ... or one of `DILATION_ARCHS` (any case, "-" or "_").
        classes: the number of classes (default: the checkpoint's).
        kind: "auto", "classifier" or "segmentation" (DRN checkpoints).

    Returns:
        (model, info): info has "arch", "kind", "classes", and what parity needs.

    Raises:
        UsageError, ValueError, OSError: bad input (the message names it).
    """
    import keras_drn
    from keras_drn.models.configs import DRN_CONFIGS
    from keras_drn.weights import named
    from keras_drn.weights import registry
    from keras_drn.weights.convert import assign_arrays
    from keras_drn.weights.convert import convert_state_dict
    from keras_drn.weights.pth_reader import read_pth
    from keras_drn.weights.resolve import load_resolved

    arch = arch.strip().lower().replace("-", "_")
    if arch in DILATION_ARCHS:
        return _load_dilation(src, arch, classes)
    if arch not in DRN_CONFIGS:
        raise UsageError(f"Unknown arch {arch!r} (--arch): expected one of "
                         f"{', '.join([*DRN_CONFIGS, *DILATION_ARCHS])}.")
    segmentation_names = set(registry.names_for(f"drnseg_{arch}"))
    if kind == "auto" and src in segmentation_names - set(registry.names_for(arch)):
        kind = "segmentation"
    key = f"drnseg_{arch}" if kind == "segmentation" else arch
    resolved = _resolve(src, key, f"{arch} ({'DRNSeg' if key != arch else 'DRN'})")
    state = path = None
    if resolved.kind == "file":
        state, path = read_pth(resolved.location), resolved.location
        kind, classes = _classes_of(state, src, kind, classes)
    else:
        kind = "segmentation" if key != arch else "classifier"
        classes = classes or resolved.entry.classes
    if kind == "segmentation":
        model = keras_drn.DRNSeg(arch, classes=classes)
    else:
        model = keras_drn.DRN(arch, classes=classes, classifier_activation=None,
                              input_shape=(None, None, 3))
    if state is not None:
        assign_arrays(model, convert_state_dict(model, state, arch=arch, kind=kind,
                                                source=src), kind=kind)
    else:
        load_resolved(model, resolved, arch=arch, kind=kind, model_key=key)
        path = named.download.cached_path(resolved.entry)
    return model, {"arch": arch, "kind": kind, "classes": classes, "state": state,
                   "path": path}


def measure(model, info, size):
    """The parity of the converted model with `keras_drn.reference`.

    Args:
        model: from `build_and_load`.
        info: from `build_and_load`.
        size: (height, width) of the input, or None for the default of the kind.

    Returns:
        A `keras_drn.reference.parity.ParityResult`.
    """
    from keras_drn.reference import parity

    if info["kind"] == "caffe":
        from keras_drn.weights.caffe_reader import read_caffemodel

        blobs = info.get("blobs") or read_caffemodel(info["path"])
        return parity.dilation_parity(model, config=info["config"],
                                      classes=info["classes"], blobs=blobs,
                                      size=size or parity.DILATION_SIZE)
    return parity.drn_parity(model, arch=info["arch"], kind=info["kind"],
                             classes=info["classes"], path=info["path"],
                             state=info["state"], size=size)


def main(argv=None, *, prog: str | None = None) -> int:
    """Runs keras-drn-convert.

    Args:
        argv: the arguments (default: `sys.argv[1:]`).
        prog: the program name in the help (default: the script's).

    Returns:
        The exit status: 0 written, 1 parity above --atol, 2 bad input.
    """
    args = build_parser(prog).parse_args(argv)
    try:
        if not args.output.endswith(OUTPUT_SUFFIXES):
            raise UsageError(f"Invalid --output={args.output!r}: expected a file name "
                             f"ending in {' or '.join(OUTPUT_SUFFIXES)}.")
        size = parse_size(args.input_size)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    from keras_drn.cli.quiet import import_tensorflow

    import_tensorflow()
    try:
        model, info = build_and_load(args.src, args.arch, classes=args.classes,
                                     kind=args.kind)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"loaded {args.src}: {info['arch']} ({info['kind']}, {info['classes']} "
          f"classes), {model.count_params():,} parameters")
    from keras_drn.reference import torch_available

    if args.no_parity:
        print("parity: skipped (--no-parity)")
    elif not torch_available():
        print("parity: skipped (needs PyTorch: pip install torch)")
    else:
        result = measure(model, info, size)
        verdict = "OK" if result.passed(args.atol) else "FAILED"
        print(f"parity vs PyTorch (keras_drn.reference; {result.compared}; checkpoint "
              f"{result.checkpoint}; input {result.input_size[0]}x"
              f"{result.input_size[1]}): {result.describe()} (atol {args.atol:g}): "
              f"{verdict}")
        if verdict != "OK":
            print(f"error: parity above --atol; {args.output} not written.",
                  file=sys.stderr)
            return 1
    from keras_drn.weights.load import save_atomic

    save_atomic(model, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
