"""Make a keras-hub preset directory from weights, with where they came from and how
faithful the conversion is.

    python export/make_preset.py SRC --arch ARCH [--classes N] [--dataset D] \
        [--head H] [--width W] --output DIR [--no-parity]

SRC is one of:

- an authors' PyTorch checkpoint (`.pth`, `.pth.tar`): a DRNSeg model of fyu/drn
  segment.py (then a `keras_drn.DRNImageSegmenter` preset) or an ImageNet classifier of
  drn.py (then a `keras_drn.DRNBackbone` preset); which one, and the number of classes,
  are read from the file;
- an authors' Caffe model (`.caffemodel`) with --arch dilation7_kitti, dilation8_camvid,
  dilation8_pascal_voc or dilation10_cityscapes (a `keras_drn.DilationImageSegmenter`);
- a Keras `.weights.h5` / `.keras` file of a DRNSeg or Dilation model (--arch, --classes
  and, for narrow models, --width say which);
- a training run directory (`run.json` and `final.weights.h5`, as `train/*.py` write
  them): the architecture, width, classes, head and dataset are read from `run.json`.

The model is built by keras_drn and the weights are loaded through the same resolver as
`weights=` (matched by name and shape: a file of another architecture is refused), the
dataset's preprocessor is attached (so the preset takes uint8 images), and the preset
is written atomically with `keras_drn.json`: the source file's name, size and SHA-256,
the settings, the parity with the PyTorch reference (for PyTorch checkpoints, when torch
and the checkout's tests/torch_reference.py are available; measured as
export/convert_weights.py does) and a round-trip check (the saved preset, reloaded,
against the model in memory).

Exit status: 0 when written, 1 when the parity or the round trip fails (nothing is
kept), 2 for bad input (the message names the file or argument).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from dataclasses import field

DILATION_ARCHS = ("dilation7_kitti", "dilation8_camvid", "dilation8_pascal_voc",
                  "dilation10_cityscapes")
HEADS = ("reference", "bilinear", "none")
TORCH_SUFFIXES = (".pth", ".pth.tar", ".tar", ".pt")
KERAS_SUFFIXES = (".weights.h5", ".keras")
RUN_FILE = "run.json"
RUN_WEIGHTS = "final.weights.h5"
DRN_PARITY_SIZE = (64, 96)
# The checkout this module sits in (keras_drn/export/ -> the repository root), where
# export/convert_weights.py measures parity against tests/torch_reference.py.
_CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONVERT_SCRIPT = os.path.join(_CHECKOUT, "export", "convert_weights.py")


class UsageError(ValueError):
    """Bad input: the message names the file or argument."""


class CheckFailed(RuntimeError):
    """The parity or the round-trip check failed."""


@dataclass
class Plan:
    """What SRC is and what to build from it."""

    src: str  # the weights file itself (final.weights.h5 for a run)
    source_kind: str  # "pth", "caffemodel", "keras" or "run"
    arch: str
    kind: str  # "segmentation", "classifier" (-> DRNBackbone) or "caffe"
    classes: int | None
    head: str = "reference"
    width: float = 1.0
    dataset: str | None = None
    run: dict = field(default_factory=dict)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="make_preset.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("src", help="a .pth/.pth.tar/.caffemodel checkpoint, a Keras "
                        ".weights.h5/.keras file, or a training run directory.")
    parser.add_argument("--arch", default=None,
                        help="drn_d_22, drn_c_26, ... or one of "
                        f"{', '.join(DILATION_ARCHS)} (default: a run's run.json).")
    parser.add_argument("--classes", type=int, default=None,
                        help="number of classes (default: read from the checkpoint or "
                        "run.json; the Dilation dataset's).")
    parser.add_argument("--dataset", default=None,
                        help="what the classes are (cityscapes, camvid, pascal_voc, "
                        "...): class names and input statistics.")
    parser.add_argument("--head", choices=HEADS, default=None,
                        help="DRNSeg's upsampling head (default reference, or the run's).")
    parser.add_argument("--width", type=float, default=None,
                        help="channel multiplier of a narrow DRN (Keras files; runs "
                        "record theirs).")
    parser.add_argument("--output", required=True, help="the preset directory to write.")
    parser.add_argument("--name", default=None,
                        help="the preset's name in the upload commands (default: the "
                        "output directory's name).")
    parser.add_argument("--no-parity", action="store_true",
                        help="skip the comparison with PyTorch.")
    parser.add_argument("--atol", type=float, default=1e-4,
                        help="largest accepted |keras - torch| of the logits "
                        "(default 1e-4).")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- planning
def _normalize_arch(arch: str | None, src: str) -> str:
    from keras_drn.models import DRN_CONFIGS

    if arch is None:
        raise UsageError(f"{src}: pass --arch (drn_d_22, ..., or one of "
                         f"{', '.join(DILATION_ARCHS)}).")
    key = arch.strip().lower().replace("-", "_")
    if key not in DRN_CONFIGS and key not in DILATION_ARCHS:
        raise UsageError(f"Invalid --arch={arch!r}: expected one of "
                         f"{', '.join([*DRN_CONFIGS, *DILATION_ARCHS])}.")
    return key


def _checkpoint_kind(path: str) -> tuple[str, int | None]:
    """("segmentation" or "classifier", classes) of a fyu/drn or torchvision file."""
    from keras_drn.weights import read_pth
    from keras_drn.weights import strip_wrappers

    flat = strip_wrappers(read_pth(path))
    segmentation = any(k.startswith(("base.", "seg.")) for k in flat)
    head = "seg.weight" if segmentation else "fc.weight"
    classes = int(flat[head].shape[0]) if head in flat else None
    return ("segmentation" if segmentation else "classifier"), classes


def _read_run(directory: str) -> dict:
    path = os.path.join(directory, RUN_FILE)
    if not os.path.isfile(path):
        raise UsageError(f"{directory} is a directory without {RUN_FILE}: pass a "
                         f"training run directory or a weights file.")
    with open(path, encoding="utf-8") as f:
        run = json.load(f)
    if not os.path.isfile(os.path.join(directory, RUN_WEIGHTS)):
        hint = ("; its preset/ directory is already a preset" if os.path.isdir(
            os.path.join(directory, "preset")) else "")
        raise UsageError(f"{directory} has {RUN_FILE} but no {RUN_WEIGHTS} (the run "
                         f"has not finished){hint}.")
    return run


def plan_from_args(args) -> Plan:
    """Reads what SRC is, checks it against the arguments, and says what to build."""
    src = args.src
    if not os.path.exists(src):
        raise UsageError(f"{src}: no such file or directory.")
    if os.path.isdir(src):
        run = _read_run(src)
        if run.get("family", "drn") != "drn":
            raise UsageError(f"{src}: run.json records family={run.get('family')!r}; "
                             f"make_preset reads DRNSeg runs (pass the Dilation run's "
                             f"{RUN_WEIGHTS} with --arch instead).")
        arch = _normalize_arch(run.get("arch"), os.path.join(src, RUN_FILE))
        for flag, value, recorded in (("--arch", args.arch, arch),
                                      ("--classes", args.classes, run.get("classes")),
                                      ("--width", args.width, run.get("width")),
                                      ("--head", args.head, run.get("head"))):
            if value is not None and recorded is not None and (
                    (_normalize_arch(value, src) if flag == "--arch" else value)
                    != recorded):
                raise UsageError(f"{flag}={value!r}, but {os.path.join(src, RUN_FILE)} "
                                 f"records {recorded!r}.")
        dataset = args.dataset or run.get("dataset")
        return Plan(os.path.join(src, RUN_WEIGHTS), "run", arch, "segmentation",
                    int(run["classes"]), head=run.get("head") or "reference",
                    width=float(run.get("width") or 1.0),
                    dataset=_segmenter_dataset(dataset), run=run)
    arch = _normalize_arch(args.arch, src)
    lower = src.lower()
    if lower.endswith(".caffemodel"):
        if arch not in DILATION_ARCHS:
            raise UsageError(f"{src} is a Caffe model: pass --arch one of "
                             f"{', '.join(DILATION_ARCHS)}, not {args.arch!r}.")
        return Plan(src, "caffemodel", arch, "caffe", args.classes,
                    dataset=arch.split("_", 1)[1])
    if arch in DILATION_ARCHS and not lower.endswith(KERAS_SUFFIXES):
        raise UsageError(f"--arch {arch} takes a .caffemodel or a Keras file, not {src}.")
    if lower.endswith(KERAS_SUFFIXES):
        if arch in DILATION_ARCHS:
            return Plan(src, "keras", arch, "caffe", args.classes,
                        dataset=arch.split("_", 1)[1])
        if args.classes is None:
            raise UsageError(f"{src}: pass --classes (a Keras file does not say).")
        return Plan(src, "keras", arch, "segmentation", args.classes,
                    head=args.head or "reference", width=args.width or 1.0,
                    dataset=_segmenter_dataset(args.dataset))
    if not lower.endswith(TORCH_SUFFIXES):
        raise UsageError(f"{src}: expected a .pth/.pth.tar/.caffemodel/.weights.h5/"
                         f".keras file or a training run directory.")
    if args.width not in (None, 1.0):
        raise UsageError(f"--width={args.width}: the authors' checkpoints are width 1.")
    kind, found = _checkpoint_kind(src)
    if found is None and args.classes is None:
        raise UsageError(f"{src} has no classifier weights; pass --classes.")
    if found is not None and args.classes is not None and found != args.classes:
        raise UsageError(f"--classes={args.classes}, but {src} has {found} classes.")
    classes = found if found is not None else args.classes
    if kind == "classifier" and args.head is not None:
        raise UsageError(f"--head: {src} is an ImageNet classifier (a DRNBackbone "
                         f"preset has no head).")
    return Plan(src, "pth", arch, kind, classes, head=args.head or "reference",
                dataset=_segmenter_dataset(args.dataset))


def _segmenter_dataset(dataset):
    return None if dataset in (None, "") else dataset


# --------------------------------------------------------------------------- building
def build(plan: Plan):
    """(the model to save, the model to compare with PyTorch or None), the weights
    loaded through `keras_drn.weights.resolve` (strict)."""
    import keras_drn
    from keras_drn.models import build_drnseg
    from keras_drn.weights.resolve import load_resolved
    from keras_drn.weights.resolve import resolve_weights

    if plan.kind == "caffe":
        family, dataset = plan.arch.split("_", 1)
        constructor = getattr(keras_drn, family.capitalize())
        model = constructor(dataset, weights=plan.src, classes=plan.classes,
                            input_shape=(None, None, 3))
        return model, None
    if plan.kind == "classifier":
        from keras_drn.models import DRNBackbone
        from keras_drn.models.walk import leaf_layers
        from keras_drn.weights import transfer_weights

        classifier = keras_drn.DRN(plan.arch, weights=plan.src, classes=plan.classes,
                                   classifier_activation=None,
                                   input_shape=(None, None, 3))
        backbone = DRNBackbone(plan.arch)
        copied = set(transfer_weights(classifier, backbone, strict=False))
        wanted = {layer.name for layer in leaf_layers(backbone) if layer.weights}
        if copied != wanted:
            raise UsageError(f"{plan.src}: the classifier lacks backbone layers "
                             f"{sorted(wanted - copied)[:6]}.")
        return backbone, classifier
    key = f"drnseg_{plan.arch}"

    def load(head):
        model = build_drnseg(plan.arch, plan.classes, head=head, width=plan.width,
                             dataset=plan.dataset)
        resolved = resolve_weights(plan.src, key, what=f"DRNSeg({plan.arch!r})")
        load_resolved(model, resolved, arch=plan.arch, kind="segmentation",
                      model_key=key)
        return model

    model = load(plan.head)
    if plan.source_kind != "pth":
        return model, None
    # The reference's output is the transposed-convolution head's.
    return model, model if plan.head == "reference" else load("reference")


# ----------------------------------------------------------------------------- checks
def _load_convert_script():
    """export/convert_weights.py of this checkout (its parity functions), or None."""
    if not os.path.isfile(CONVERT_SCRIPT):
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location("keras_drn_convert_weights",
                                                  CONVERT_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure_parity(plan: Plan, parity_model, args) -> dict:
    """Max |keras - torch| of the logits on a fixed random input, or why not."""
    if args.no_parity:
        return {"skipped": "--no-parity"}
    if plan.source_kind != "pth" or parity_model is None:
        return {"skipped": f"the source is a {plan.source_kind} file, not a PyTorch "
                           f"checkpoint"}
    try:
        import torch  # noqa: F401
    except ImportError:
        return {"skipped": "PyTorch is not installed"}
    script = _load_convert_script()
    reference = script.load_reference() if script is not None else None
    if reference is None:
        return {"skipped": "needs the checkout's export/convert_weights.py and "
                           "tests/torch_reference.py"}
    info = {"arch": plan.arch, "kind": plan.kind, "classes": plan.classes,
            "state": None, "path": plan.src}
    diff, scale, how = script.parity(parity_model, info, reference, DRN_PARITY_SIZE,
                                     args.atol)
    return {"max_abs_logit_diff": diff, "max_abs_logit": scale, "atol": args.atol,
            "passed": diff <= args.atol, "input_size": list(DRN_PARITY_SIZE),
            "reference": "tests/torch_reference.py", "checkpoint": how,
            "model": "classifier" if plan.kind == "classifier" else "DRNSeg, reference "
                     "head"}


def round_trip_input(model):
    import numpy as np

    from keras_drn.models import DilationImageSegmenter

    rng = np.random.default_rng(0)
    if isinstance(model, DilationImageSegmenter):
        from keras_drn.models.dilation import min_input_size

        size = min_input_size() + 8
        return rng.normal(0, 60, (1, size, size, 3)).astype("float32")
    return rng.normal(size=(1, *DRN_PARITY_SIZE, 3)).astype("float32")


def round_trip(model, directory: str) -> dict:
    """The preset reloaded by keras-hub against the model in memory."""
    import numpy as np

    from keras_drn.presets import load_preset_model

    reloaded = load_preset_model(directory)
    if type(reloaded) is not type(model):
        raise CheckFailed(f"{directory} reloads as {type(reloaded).__name__}, not "
                          f"{type(model).__name__}.")
    x = round_trip_input(model)
    expected = np.asarray(model(x, training=False))
    got = np.asarray(reloaded(x, training=False))
    diff = float(np.abs(got - expected).max())
    return {"max_abs_diff": diff, "max_abs_output": float(np.abs(expected).max()),
            "input_shape": list(x.shape), "class": type(reloaded).__name__}


def describe_source(path: str) -> dict:
    from keras_drn.weights.download import sha256_of

    return {"file_name": os.path.basename(path), "size": os.path.getsize(path),
            "sha256": sha256_of(path)}


# ------------------------------------------------------------------------------- main
def _fail(message: str, status: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def _upload_commands(name: str, directory: str) -> list[str]:
    return [
        f'python -c "import keras_hub; keras_hub.upload_preset('
        f"'kaggle://<user>/drn/keras/{name}', '{directory}')\"",
        f'python -c "import keras_hub; keras_hub.upload_preset('
        f"'hf://<user>/{name}', '{directory}')\"",
    ]


def main(argv=None) -> int:
    args = parse_args(argv)
    output = os.path.abspath(args.output)
    name = args.name or os.path.basename(output.rstrip(os.sep))
    try:
        plan = plan_from_args(args)
        source = describe_source(plan.src)
        model, parity_model = build(plan)
    except (ValueError, OSError) as error:
        return _fail(str(error))
    from keras_drn.presets import attach_preprocessor
    from keras_drn.presets import save_preset_atomic
    from keras_drn.presets import write_metadata

    attach_preprocessor(model)
    parity = measure_parity(plan, parity_model, args)
    if parity.get("passed") is False:
        return _fail(f"parity with PyTorch above --atol={args.atol:g} "
                     f"({parity['max_abs_logit_diff']:.3g}); {output} not written.", 1)
    head = getattr(model, "head", None)
    info = {
        "preset": name, "class": type(model).__name__, "arch": plan.arch,
        "kind": plan.kind, "classes": plan.classes if plan.kind != "caffe" else
        model.num_classes, "head": head, "width": plan.width,
        "dataset": getattr(model, "dataset", None),
        "source": {**source, "kind": plan.source_kind,
                   **({"run": plan.run} if plan.run else {})},
        "parity": parity, "round_trip": None,
        "made_by": "export/make_preset.py", "arguments": sys.argv[1:] if argv is None
        else list(argv),
    }
    save_preset_atomic(model, output, info)
    try:
        info["round_trip"] = round_trip(model, output)
    except CheckFailed as error:
        shutil.rmtree(output, ignore_errors=True)
        return _fail(f"round trip: {error}", 1)
    check = info["round_trip"]
    if check["max_abs_diff"] > 1e-5 * max(1.0, check["max_abs_output"]):
        shutil.rmtree(output, ignore_errors=True)
        return _fail(f"round trip: the reloaded preset differs by "
                     f"{check['max_abs_diff']:.3g}; {output} removed.", 1)
    write_metadata(output, info)
    _summary(model, plan, info, output, name)
    return 0


def _summary(model, plan, info, output, name):
    source, parity, check = info["source"], info["parity"], info["round_trip"]
    what = f"{info['class']} {plan.arch}"
    if plan.kind != "classifier":
        what += f", {info['classes']} classes"
    if info["head"] and plan.kind == "segmentation":
        what += f", head {info['head']}"
    print(f"wrote {output}: {what}, {model.count_params():,} parameters")
    print(f"source: {source['file_name']} ({source['size']:,} bytes, SHA-256 "
          f"{source['sha256']})")
    if "skipped" in parity:
        print(f"parity vs PyTorch: skipped ({parity['skipped']})")
    else:
        print(f"parity vs PyTorch ({parity['model']}, {parity['checkpoint']}): max "
              f"|keras - torch| = {parity['max_abs_logit_diff']:.3g} over logits up to "
              f"{parity['max_abs_logit']:.3g} (atol {parity['atol']:g}): OK")
    print(f"round trip: max |reloaded - saved| = {check['max_abs_diff']:.3g}")
    loader = ("keras_drn.DRNBackbone" if plan.kind == "classifier"
              else f"keras_drn.{info['class']}")
    print(f"load it: {loader}.from_preset({output!r})")
    print("re-host it (Kaggle Models or Hugging Face):")
    for command in _upload_commands(name, output):
        print(f"  {command}")


if __name__ == "__main__":
    sys.exit(main())
