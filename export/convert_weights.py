"""Convert the authors' weights into a Keras weights file, and show parity with PyTorch.

    python export/convert_weights.py SRC --arch drn_d_22 [--classes 19] \
        --output F.weights.h5

SRC is a PyTorch checkpoint of fyu/drn (`.pth`, `.pth.tar`: a release, or a training
checkpoint of segment.py/classify.py), torchvision's ResNet-50 for drn_a_50, a
fyu/dilation `.caffemodel` (with --arch dilation8_camvid, dilation8_pascal_voc,
dilation7_kitti or dilation10_cityscapes), or a registry name ("imagenet",
"cityscapes", ...) to download; `keras_drn.weights.resolve` tells which, as for every
`weights=` argument. Whether a DRN checkpoint is a classifier or a DRNSeg model, and
its number of classes, are read from the file unless given.

When PyTorch is installed and the checkout's tests/torch_reference.py (an independent
implementation of the reference networks) is present, the same file is loaded into it
(by torch.load for .pth files) and the maximum difference of the logits is printed; a
difference above --atol is an error and nothing is written. No PyTorch is needed to
convert.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# This folder (sys.path[0] when run by path) must not shadow packages; the checkout root
# takes its place.
_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0]) == _HERE:
    sys.path[0] = os.path.dirname(_HERE)

DILATION_ARCHS = ("dilation7_kitti", "dilation8_camvid", "dilation8_pascal_voc",
                  "dilation10_cityscapes")
OUTPUT_SUFFIXES = (".weights.h5", ".keras")
REFERENCE = os.path.join(os.path.dirname(_HERE), "tests", "torch_reference.py")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("src", help="a .pth/.pth.tar/.caffemodel file, or a registry "
                        "weights name such as 'imagenet' or 'cityscapes'.")
    parser.add_argument("--arch", required=True,
                        help="drn_d_22, drn_c_26, drn_a_50, ... or one of "
                        f"{', '.join(DILATION_ARCHS)}.")
    parser.add_argument("--classes", type=int, default=None,
                        help="number of classes (default: read from the checkpoint).")
    parser.add_argument("--kind", choices=("auto", "classifier", "segmentation"),
                        default="auto", help="for DRN checkpoints: a classifier (drn.py) "
                        "or DRNSeg (segment.py) model; auto reads it from the keys.")
    parser.add_argument("--output", required=True,
                        help="the Keras file to write: *.weights.h5 or *.keras.")
    parser.add_argument("--no-parity", action="store_true",
                        help="skip the comparison with PyTorch.")
    parser.add_argument("--atol", type=float, default=1e-4,
                        help="largest accepted |keras - torch| of the logits.")
    parser.add_argument("--input-size", default=None,
                        help="HEIGHTxWIDTH of the parity input (default 64x96 for DRN, "
                        "381x389 for Dilation).")
    return parser.parse_args(argv)


class UsageError(ValueError):
    pass


def _size(text, default):
    if text is None:
        return default
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"Invalid --input-size={text!r}: expected HEIGHTxWIDTH, e.g. "
                         f"64x96.") from None
    return h, w


# --------------------------------------------------------------------------- Keras
def _detect(state, args):
    """(kind, classes) of a DRN checkpoint, checked against the arguments."""
    from keras_drn.weights import strip_wrappers

    flat = strip_wrappers(state)
    kind = args.kind
    if kind == "auto":
        kind = "segmentation" if any(k.startswith(("base.", "seg.")) for k in flat) \
            else "classifier"
    head = "seg.weight" if kind == "segmentation" else "fc.weight"
    found = flat[head].shape[0] if head in flat else None
    classes = args.classes if args.classes is not None else found
    if classes is None:
        raise UsageError(f"{args.src} has no {head}; pass --classes.")
    if found is not None and found != classes:
        raise UsageError(f"--classes={classes}, but {args.src} has {found} classes "
                         f"({head} is {tuple(flat[head].shape)}).")
    return kind, classes


def build_and_load(args):
    """Returns (model, info) with the weights loaded; info describes what was read."""
    import keras_drn
    from keras_drn.models import DILATION_CONFIGS
    from keras_drn.models.drn import normalize_arch
    from keras_drn.weights import named
    from keras_drn.weights import registry
    from keras_drn.weights.caffe_reader import read_caffemodel
    from keras_drn.weights.convert import assign_arrays
    from keras_drn.weights.convert import convert_caffe_blobs
    from keras_drn.weights.convert import convert_state_dict
    from keras_drn.weights.pth_reader import read_pth
    from keras_drn.weights.resolve import load_resolved

    arch = normalize_arch(args.arch)
    if arch in DILATION_ARCHS:
        family, dataset = arch.split("_", 1)
        config = DILATION_CONFIGS[dataset]
        resolved = _resolve(args, arch, f"{family}({dataset!r})")
        classes = args.classes or config.classes
        model = getattr(keras_drn, family.capitalize())(
            dataset, classes=classes, input_shape=(None, None, 3))
        info = {"arch": arch, "kind": "caffe", "classes": classes, "config": config}
        if resolved.kind == "file":
            info["blobs"] = read_caffemodel(resolved.location)
            assign_arrays(model, convert_caffe_blobs(model, info["blobs"],
                                                     source=args.src), kind="caffe")
        else:
            load_resolved(model, resolved, arch=arch, kind="caffe", model_key=arch)
            info["path"] = named.download.cached_path(resolved.entry)
        return model, info
    keras_drn.models.get_config(arch)
    segmentation_names = set(registry.names_for(f"drnseg_{arch}"))
    kind = args.kind
    if kind == "auto" and args.src in segmentation_names - set(registry.names_for(arch)):
        kind = "segmentation"
    key = f"drnseg_{arch}" if kind == "segmentation" else arch
    resolved = _resolve(args, key, f"{arch} ({'DRNSeg' if key != arch else 'DRN'})")
    if resolved.kind == "file":
        state = read_pth(resolved.location)
        kind, classes = _detect(state, args)
        path = resolved.location
    else:
        kind = "segmentation" if key != arch else "classifier"
        classes = args.classes or resolved.entry.classes
        state, path = None, None
    if kind == "segmentation":
        model = keras_drn.DRNSeg(arch, classes=classes)
    else:
        model = keras_drn.DRN(arch, classes=classes, classifier_activation=None,
                              input_shape=(None, None, 3))
    if state is not None:
        assign_arrays(model, convert_state_dict(model, state, arch=arch, kind=kind,
                                                source=args.src), kind=kind)
    else:
        load_resolved(model, resolved, arch=arch, kind=kind, model_key=key)
        path = named.download.cached_path(resolved.entry)
    return model, {"arch": arch, "kind": kind, "classes": classes, "state": state,
                   "path": path}


def _resolve(args, model_key: str, what: str):
    """SRC through `keras_drn.weights.resolve`: a registry name or a file; presets are
    Keras already and have nothing to convert."""
    from keras_drn.weights.resolve import resolve_weights

    resolved = resolve_weights(args.src, model_key, what=what, argument="SRC")
    if resolved.kind == "preset":
        raise UsageError(
            f"SRC {args.src!r} is a keras-hub preset, which holds Keras weights already; "
            f"pass a .pth/.pth.tar/.caffemodel file or a registry name to convert."
        )
    return resolved


def save(model, output):
    """Writes `output` atomically (keras_drn.weights.save_atomic)."""
    from keras_drn.weights.load import save_atomic

    save_atomic(model, output)


# --------------------------------------------------------------------------- parity
def load_reference():
    """tests/torch_reference.py of this checkout, or None (no torch, no checkout)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return None
    if not os.path.isfile(REFERENCE):
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location("keras_drn_torch_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _torch_state(path, numpy_state):
    """The checkpoint as torch.load reads it (safely); tar files, which torch refuses
    to read with weights_only=True, fall back to the arrays keras_drn read."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        how = "read by torch.load"
    except Exception:  # noqa: BLE001  (torch's own message is not needed here)
        from keras_drn.weights import read_pth

        state = read_pth(path) if numpy_state is None else numpy_state
        how = "read by keras_drn (torch.load cannot read this container safely)"
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        state = {k: torch.from_numpy(v) for k, v in state.items()
                 if hasattr(v, "shape")}
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    state = {k[len("module."):] if k.startswith("module.") else k: v
             for k, v in state.items()}
    return state, how


def parity(model, info, reference, size, atol):
    """Returns (max abs difference, max |logit|, description)."""
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    if info["kind"] == "caffe":
        config = info["config"]
        net = reference.TorchDilation(info["classes"], config.context_layers,
                                      large=config.context == "large",
                                      upsample=config.upsample).eval()
        from keras_drn.weights import read_caffemodel

        blobs = info.get("blobs") or read_caffemodel(info["path"])
        with torch.no_grad():
            for name, arrays in blobs.items():
                module = net.up if name == "ctx_upsample" else net.convs[
                    name.replace("-", "_")]
                module.weight.copy_(torch.from_numpy(arrays[0].reshape(
                    module.weight.shape)))
                if len(arrays) > 1:
                    module.bias.copy_(torch.from_numpy(arrays[1].reshape(-1)))
        how = "blobs read by keras_drn (no independent caffemodel reader)"
        x = rng.normal(0, 60, size=(1, *size, 3)).astype("float32")  # BGR, mean removed
        keras_in = x[..., ::-1].copy()
    else:
        if info["kind"] == "segmentation":
            net = reference.TorchDRNSeg(reference.build(info["arch"]), info["classes"])
        else:
            net = reference.build(info["arch"], classes=info["classes"])
        state, how = _torch_state(info["path"], info["state"])
        net.load_state_dict(state, strict=True)
        net.eval()
        x = rng.normal(size=(1, *size, 3)).astype("float32")
        keras_in = x
    with torch.no_grad():
        expected = net(torch.from_numpy(x.transpose(0, 3, 1, 2))).numpy()
    if expected.ndim == 4:
        expected = expected.transpose(0, 2, 3, 1)
    got = np.asarray(model(keras_in, training=False))
    if got.shape != expected.shape:
        raise RuntimeError(f"Output shapes differ: keras {got.shape}, torch "
                           f"{expected.shape}.")
    return float(np.abs(got - expected).max()), float(np.abs(expected).max()), how


# --------------------------------------------------------------------------- main
def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if not args.output.endswith(OUTPUT_SUFFIXES):
            raise UsageError(f"Invalid --output={args.output!r}: expected a file name "
                             f"ending in {' or '.join(OUTPUT_SUFFIXES)}.")
        dilation = args.arch.strip().lower() in DILATION_ARCHS
        size = _size(args.input_size, (381, 389) if dilation else (64, 96))
        model, info = build_and_load(args)
    except (ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"loaded {args.src}: {info['arch']} ({info['kind']}, {info['classes']} "
          f"classes), {model.count_params():,} parameters")
    if args.no_parity:
        print("parity: skipped (--no-parity)")
    else:
        reference = load_reference()
        if reference is None:
            print("parity: skipped (needs PyTorch and the checkout's "
                  "tests/torch_reference.py)")
        else:
            diff, scale, how = parity(model, info, reference, size, args.atol)
            verdict = "OK" if diff <= args.atol else "FAILED"
            print(f"parity vs PyTorch (tests/torch_reference.py; checkpoint {how}): "
                  f"max |keras - torch| = {diff:.3g} over logits up to {scale:.3g} "
                  f"(atol {args.atol:g}): {verdict}")
            if verdict != "OK":
                print(f"error: parity above --atol; {args.output} not written.",
                      file=sys.stderr)
                return 1
    save(model, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
