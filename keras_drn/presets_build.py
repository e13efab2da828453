"""Making a keras-hub preset directory from weights, with where they came from and how
faithful the conversion is (the library behind `keras-drn-preset`).

The source is an authors' PyTorch checkpoint (a DRNSeg model of segment.py gives a
`keras_drn.DRNImageSegmenter` preset, an ImageNet classifier of drn.py a
`keras_drn.DRNBackbone` one), an authors' `.caffemodel` (a
`keras_drn.DilationImageSegmenter`), a Keras `.weights.h5` / `.keras` file, or a
training run directory (`run.json` and `final.weights.h5`). The weights are loaded
through the same resolver as `weights=` (by name and shape), the dataset's
preprocessor is attached, and the preset is written atomically with `keras_drn.json`:
the source's name, size and SHA-256, the settings, the parity with the PyTorch
reference (`keras_drn.reference`, for PyTorch checkpoints when torch is installed) and
a round-trip check.

Example:

```python
from keras_drn import presets_build

model, plan, info = presets_build.make_preset("drn_d_22_cityscapes.pth",
                                              "./drn_d_22_mine", arch="drn_d_22")
print(info["parity"]["max_abs_logit_diff"])
```
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from dataclasses import field

DILATION_ARCHS = ("dilation7_kitti", "dilation8_camvid", "dilation8_pascal_voc",
                  "dilation10_cityscapes")
HEADS = ("reference", "bilinear", "none")
TORCH_SUFFIXES = (".pth", ".pth.tar", ".tar", ".pt")
KERAS_SUFFIXES = (".weights.h5", ".keras")
RUN_FILE = "run.json"
RUN_WEIGHTS = "final.weights.h5"
ROUND_TRIP_SIZE = (64, 96)
ROUND_TRIP_RTOL = 1e-5


class UsageError(ValueError):
    """Bad input. The message names the file, or the parameter as `name=value`.

    Args:
        message: what is wrong, what was expected and what to do.
        *parameters: the parameters the message names ("arch", "classes", ...), which
            a command line may rewrite as its flags.
    """

    def __init__(self, message: str, *parameters: str):
        super().__init__(message)
        self.parameters = tuple(parameters)


class CheckFailed(RuntimeError):
    """The parity or the round-trip check failed; nothing was kept."""


@dataclass
class Plan:
    """What the source is and what to build from it: the weights file (final.weights.h5
    for a run), its kind ("pth", "caffemodel", "keras" or "run"), the architecture, the
    model kind ("segmentation", "classifier" for a DRNBackbone preset, or "caffe"),
    classes (None: a Dilation dataset's own), head, width, dataset and run.json."""

    src: str
    source_kind: str
    arch: str
    kind: str
    classes: int | None
    head: str = "reference"
    width: float = 1.0
    dataset: str | None = None
    run: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- planning
def normalize_arch(arch: str | None, src: str) -> str:
    """The table name of `arch` ("DRN-D-22" -> "drn_d_22"), a name of
    `keras_drn.models.DRN_CONFIGS` or `DILATION_ARCHS`; a UsageError (naming `src`)
    when `arch` is None or unknown."""
    from keras_drn.models.configs import DRN_CONFIGS

    if arch is None:
        raise UsageError(f"{src}: the architecture is not known; pass arch=NAME "
                         f"(drn_d_22, ..., or one of {', '.join(DILATION_ARCHS)}).",
                         "arch")
    key = arch.strip().lower().replace("-", "_")
    if key not in DRN_CONFIGS and key not in DILATION_ARCHS:
        raise UsageError(f"Invalid arch={arch!r}: expected one of "
                         f"{', '.join([*DRN_CONFIGS, *DILATION_ARCHS])}.", "arch")
    return key


def checkpoint_kind(state) -> tuple[str, int | None]:
    """("segmentation" or "classifier", classes or None) of a fyu/drn or torchvision
    state dict as `keras_drn.weights.read_pth` returns it (wrappers and `module.`
    prefixes are removed here); classes are None without `seg.weight`/`fc.weight`."""
    from keras_drn.weights import strip_wrappers

    flat = strip_wrappers(state)
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


def _plan_run(src, arch, classes, dataset, head, width) -> Plan:
    run = _read_run(src)
    if run.get("family", "drn") != "drn":
        raise UsageError(f"{src}: run.json records family={run.get('family')!r}; "
                         f"presets are made from DRNSeg runs (pass the Dilation run's "
                         f"{RUN_WEIGHTS} with arch= instead).", "arch")
    recorded_arch = normalize_arch(run.get("arch"), os.path.join(src, RUN_FILE))
    for name, value, recorded in (("arch", arch, recorded_arch),
                                  ("classes", classes, run.get("classes")),
                                  ("width", width, run.get("width")),
                                  ("head", head, run.get("head"))):
        given = normalize_arch(value, src) if name == "arch" and value else value
        if value is not None and recorded is not None and given != recorded:
            raise UsageError(f"{name}={value!r}, but {os.path.join(src, RUN_FILE)} "
                             f"records {recorded!r}.", name)
    return Plan(os.path.join(src, RUN_WEIGHTS), "run", recorded_arch, "segmentation",
                int(run["classes"]), head=run.get("head") or "reference",
                width=float(run.get("width") or 1.0),
                dataset=(dataset or run.get("dataset")) or None, run=run)


def plan_preset(src: str, *, arch=None, classes=None, dataset=None, head=None,
                width=None) -> Plan:
    """Reads what `src` is, checks it against the parameters, and says what to build.

    Args:
        src: a checkpoint, a Keras weights file or a training run directory.
        arch: the architecture (required except for a run directory).
        classes: the number of classes (default: the file's or run's).
        dataset: what the classes are ("cityscapes", "camvid", ...).
        head: DRNSeg's head (default "reference", or the run's).
        width: the channel multiplier of a Keras file of a narrow DRN.

    Returns:
        A `Plan`.

    Raises:
        UsageError: the source is missing or does not fit the parameters.
    """
    if head is not None and head not in HEADS:
        raise UsageError(f"Invalid head={head!r}: expected one of {', '.join(HEADS)}.",
                         "head")
    if not os.path.exists(src):
        raise UsageError(f"{src}: no such file or directory.")
    if os.path.isdir(src):
        return _plan_run(src, arch, classes, dataset, head, width)
    arch = normalize_arch(arch, src)
    dataset = dataset or None
    lower = src.lower()
    if lower.endswith(".caffemodel"):
        if arch not in DILATION_ARCHS:
            raise UsageError(f"{src} is a Caffe model: expected arch= one of "
                             f"{', '.join(DILATION_ARCHS)}, not arch={arch!r}.", "arch")
        return Plan(src, "caffemodel", arch, "caffe", classes,
                    dataset=arch.split("_", 1)[1])
    if arch in DILATION_ARCHS and not lower.endswith(KERAS_SUFFIXES):
        raise UsageError(f"arch={arch!r} takes a .caffemodel or a Keras file, not "
                         f"{src}.", "arch")
    if lower.endswith(KERAS_SUFFIXES):
        if arch in DILATION_ARCHS:
            return Plan(src, "keras", arch, "caffe", classes,
                        dataset=arch.split("_", 1)[1])
        if classes is None:
            raise UsageError(f"{src}: a Keras file does not say its number of classes; "
                             f"pass classes=N.", "classes")
        return Plan(src, "keras", arch, "segmentation", classes,
                    head=head or "reference", width=width or 1.0, dataset=dataset)
    if not lower.endswith(TORCH_SUFFIXES):
        raise UsageError(f"{src}: expected a .pth/.pth.tar/.caffemodel/.weights.h5/"
                         f".keras file or a training run directory.")
    if width not in (None, 1.0):
        raise UsageError(f"width={width}: the authors' checkpoints are width 1.",
                         "width")
    from keras_drn.weights import read_pth

    kind, found = checkpoint_kind(read_pth(src))
    if found is None and classes is None:
        raise UsageError(f"{src} has no classifier weights; pass classes=N.", "classes")
    if found is not None and classes is not None and found != classes:
        raise UsageError(f"classes={classes}, but {src} has {found} classes.",
                         "classes")
    if kind == "classifier" and head is not None:
        raise UsageError(f"head={head!r}: {src} is an ImageNet classifier (a "
                         f"DRNBackbone preset has no head).", "head")
    return Plan(src, "pth", arch, kind, found if found is not None else classes,
                head=head or "reference", dataset=dataset)


# --------------------------------------------------------------------------- building
def build(plan: Plan):
    """Builds the model of `plan` with its weights, loaded through
    `keras_drn.weights.resolve` (strict: matched by layer name and shape).

    Args:
        plan: from `plan_preset`.

    Returns:
        (the model to save, the model to compare with PyTorch or None): a classifier
        for a DRNBackbone preset, the reference-head DRNSeg for a DRNSeg one.

    Raises:
        UsageError: the weights do not fit.
    """
    import keras_drn
    from keras_drn.models import build_drnseg
    from keras_drn.weights.resolve import load_resolved
    from keras_drn.weights.resolve import resolve_weights

    if plan.kind == "caffe":
        family, dataset = plan.arch.split("_", 1)
        constructor = getattr(keras_drn, family.capitalize())
        return constructor(dataset, weights=plan.src, classes=plan.classes,
                           input_shape=(None, None, 3)), None
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
    # The reference's outputs are those of the transposed-convolution head.
    return model, model if plan.head == "reference" else load("reference")


# ----------------------------------------------------------------------------- checks
def measure_parity(plan: Plan, parity_model, *, atol: float = 1e-4,
                   enabled: bool = True) -> dict:
    """The difference from the PyTorch reference on a fixed random input, or why it
    was not measured.

    Args:
        plan: from `plan_preset`.
        parity_model: the second model `build` returns.
        atol: the largest accepted difference.
        enabled: False to skip the measurement.

    Returns:
        A dict for keras_drn.json: `max_abs_logit_diff` (the largest over the
        compared outputs), `max_abs_diffs` per output, `max_abs_logit`, `passed`, ...
        or {"skipped": reason}.
    """
    if not enabled:
        return {"skipped": "parity disabled"}
    if plan.source_kind != "pth" or parity_model is None:
        return {"skipped": f"the source is a {plan.source_kind} file, not a PyTorch "
                           f"checkpoint"}
    from keras_drn.reference import torch_available

    if not torch_available():
        return {"skipped": "PyTorch is not installed (pip install torch)"}
    from keras_drn.reference.parity import drn_parity

    result = drn_parity(parity_model, arch=plan.arch, kind=plan.kind,
                        classes=plan.classes, path=plan.src)
    return {"max_abs_logit_diff": result.max_abs_diff, "max_abs_diffs": result.diffs,
            "max_abs_logit": result.max_abs_logit, "atol": atol,
            "passed": result.passed(atol), "input_size": list(result.input_size),
            "reference": "keras_drn.reference (PyTorch port of fyu/drn)",
            "checkpoint": result.checkpoint, "compared": result.compared,
            "model": "classifier" if plan.kind == "classifier" else "DRNSeg, reference "
                     "head"}


def _round_trip_input(model):
    import numpy as np

    from keras_drn.models import DilationImageSegmenter

    rng = np.random.default_rng(0)
    if isinstance(model, DilationImageSegmenter):
        from keras_drn.models.dilation import min_input_size

        size = min_input_size() + 8
        return rng.normal(0, 60, (1, size, size, 3)).astype("float32")
    return rng.normal(size=(1, *ROUND_TRIP_SIZE, 3)).astype("float32")


def round_trip(model, directory: str) -> dict:
    """The preset in `directory` reloaded by keras-hub, against `model` (in memory):
    {"max_abs_diff", "max_abs_output", "input_shape", "class"}; CheckFailed when it
    reloads as another class."""
    import numpy as np

    from keras_drn.presets import load_preset_model

    reloaded = load_preset_model(directory)
    if type(reloaded) is not type(model):
        raise CheckFailed(f"round trip: {directory} reloads as "
                          f"{type(reloaded).__name__}, not {type(model).__name__}.")
    x = _round_trip_input(model)
    expected = np.asarray(model(x, training=False))
    got = np.asarray(reloaded(x, training=False))
    return {"max_abs_diff": float(np.abs(got - expected).max()),
            "max_abs_output": float(np.abs(expected).max()),
            "input_shape": list(x.shape), "class": type(reloaded).__name__}


def describe_source(path: str) -> dict:
    """{"file_name", "size", "sha256"} of the source file."""
    from keras_drn.weights.download import sha256_of

    return {"file_name": os.path.basename(path), "size": os.path.getsize(path),
            "sha256": sha256_of(path)}


def make_preset(src: str, output: str, *, arch=None, classes=None, dataset=None,
                head=None, width=None, name=None, parity: bool = True,
                atol: float = 1e-4, made_by: str = "keras_drn.presets_build",
                arguments=None):
    """Makes a preset directory from `src`, checked against PyTorch and reloaded.

    Args:
        src: a checkpoint, a Keras weights file or a training run directory.
        output: the preset directory to write (atomically).
        arch, classes, dataset, head, width: as `plan_preset`.
        name: the preset's name in the upload commands (default: `output`'s name).
        parity: whether to compare with the PyTorch reference.
        atol: the largest accepted difference from PyTorch.
        made_by: the program recorded in keras_drn.json.
        arguments: the arguments recorded in keras_drn.json.

    Returns:
        (model, plan, info): info is what keras_drn.json holds.

    Raises:
        UsageError: bad input (nothing is written).
        CheckFailed: the parity or the round trip failed (nothing is kept).
    """
    from keras_drn.presets import attach_preprocessor
    from keras_drn.presets import save_preset_atomic
    from keras_drn.presets import write_metadata

    output = os.path.abspath(output)
    plan = plan_preset(src, arch=arch, classes=classes, dataset=dataset, head=head,
                       width=width)
    source = describe_source(plan.src)
    model, parity_model = build(plan)
    attach_preprocessor(model)
    measured = measure_parity(plan, parity_model, atol=atol, enabled=parity)
    if measured.get("passed") is False:
        raise CheckFailed(f"parity with PyTorch above atol={atol:g} "
                          f"({measured['max_abs_logit_diff']:.3g}); {output} not "
                          f"written.")
    info = {
        "preset": name or os.path.basename(output.rstrip(os.sep)),
        "class": type(model).__name__, "arch": plan.arch, "kind": plan.kind,
        "classes": plan.classes if plan.kind != "caffe" else model.num_classes,
        "head": getattr(model, "head", None), "width": plan.width,
        "dataset": getattr(model, "dataset", None),
        "source": {**source, "kind": plan.source_kind,
                   **({"run": plan.run} if plan.run else {})},
        "parity": measured, "round_trip": None, "made_by": made_by,
        "arguments": list(arguments or []),
    }
    save_preset_atomic(model, output, info)
    try:
        info["round_trip"] = check = round_trip(model, output)
        if check["max_abs_diff"] > ROUND_TRIP_RTOL * max(1.0, check["max_abs_output"]):
            raise CheckFailed(f"round trip: the reloaded preset differs by "
                              f"{check['max_abs_diff']:.3g}; {output} removed.")
    except CheckFailed:
        shutil.rmtree(output, ignore_errors=True)
        raise
    write_metadata(output, info)
    return model, plan, info
