"""One place that turns a `weights=` argument into something to load, and loads it.

Every consumer (the constructors, the trainer, export, predict, the visualisations)
calls `resolve_weights` and `load_resolved`, so a name, a preset and a file mean the
same thing everywhere:

- None: nothing to load (the builders' initialisation).
- a name of the registry for this model ("imagenet", "cityscapes", "camvid", ...):
  the authors' file, downloaded, hash-checked, converted once and cached. A name is
  always a name: a file called `imagenet` in the working directory is not read (pass
  "./imagenet" for that).
- a keras-hub preset: a directory with `config.json`, or a handle ("kaggle://...",
  "hf://...", "modelscope://...").
- a file: `.weights.h5` / `.keras` (matched by layer name and shape), `.pth` /
  `.pth.tar` (fyu/drn, torchvision) or `.caffemodel` (fyu/dilation), through the name
  maps of `keras_drn.weights.convert`.

Whatever the source, a file of another architecture is refused with the first layer
that differs, and the model is left as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from keras_drn.weights import registry

PRESET_SCHEMES = ("kaggle://", "hf://", "modelscope://", "gs://", "file://")
KERAS_SUFFIXES = (".weights.h5", ".keras", ".h5")
CHECKPOINT_SUFFIXES = (".pth", ".pth.tar", ".tar", ".pt", ".caffemodel")
KINDS = ("none", "named", "preset", "file")


@dataclass(frozen=True)
class ResolvedWeights:
    """What a `weights=` argument designates.

    kind: "none", "named" (a registry entry), "preset" (a keras-hub preset directory
      or handle) or "file" (a weights file on disk).
    entry: the registry row for "named".
    location: the path or handle for "preset" and "file".
    """

    kind: str
    argument: object = None
    entry: registry.WeightsEntry | None = None
    location: str | None = None

    @property
    def is_none(self) -> bool:
        return self.kind == "none"

    def describe(self) -> str:
        if self.kind == "named":
            return f"weights={self.argument!r} ({self.entry.file_name})"
        if self.kind in ("preset", "file"):
            return f"{self.kind} {self.location}"
        return "no weights"


def is_preset_dir(path: str) -> bool:
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, "config.json"))


def _choices(model_key: str) -> str:
    names = registry.names_for(model_key)
    shown = ", ".join(repr(n) for n in [None, *names])
    return (f"{shown}, a keras-hub preset (a directory or a kaggle:// or hf:// handle), "
            f"or a path to a .weights.h5/.keras/.pth/.pth.tar/.caffemodel file")


def resolve_weights(weights, model_key: str, *, what: str | None = None,
                    argument: str = "weights") -> ResolvedWeights:
    """Resolves `weights` for the registry key `model_key` ("drn_d_22",
    "drnseg_drn_d_22", "dilation8_camvid", ...).

    Args:
        weights: None, a registry name, a preset directory or handle, or a file path
            (str or os.PathLike).
        model_key: the registry key of the model being loaded.
        what: the model, for messages ("DRNSeg('drn_d_22')").
        argument: the argument's name, for messages ("weights", "backbone_weights").

    Raises:
        ValueError: the value is none of these, or names a file that does not exist;
            the message lists what is accepted.
    """
    what = what or model_key
    if weights is None:
        return ResolvedWeights("none")
    if isinstance(weights, os.PathLike):
        weights = os.fspath(weights)
    if not isinstance(weights, str):
        raise ValueError(
            f"Invalid {argument}={weights!r} for {what}: expected {_choices(model_key)}."
        )
    if weights in registry.names_for(model_key):
        return ResolvedWeights("named", weights, entry=registry.get_entry(model_key,
                                                                           weights))
    if weights.startswith(PRESET_SCHEMES):
        location = weights[len("file://"):] if weights.startswith("file://") else weights
        return ResolvedWeights("preset", weights, location=location)
    path = os.path.expanduser(weights)
    if os.path.isdir(path):
        if not is_preset_dir(path):
            raise ValueError(
                f"Invalid {argument}={weights!r} for {what}: the directory has no "
                f"config.json, so it is not a keras-hub preset. Pass a preset "
                f"directory (segmenter.save_to_preset(dir)) or a weights file."
            )
        return ResolvedWeights("preset", weights, location=path)
    if os.path.isfile(path):
        return ResolvedWeights("file", weights, location=path)
    looks_like_path = (os.sep in weights or "/" in weights
                       or weights.endswith(KERAS_SUFFIXES + CHECKPOINT_SUFFIXES))
    if looks_like_path:
        raise ValueError(
            f"Invalid {argument}={weights!r} for {what}: no such file or directory. "
            f"Check the path, or pass one of: {_choices(model_key)}."
        )
    raise ValueError(
        f"Invalid {argument}={weights!r} for {what}. Expected one of: "
        f"{_choices(model_key)}."
    )


def load_resolved(model, resolved: ResolvedWeights, *, arch: str | None = None,
                  kind: str = "classifier", model_key: str | None = None) -> None:
    """Loads `resolved` into `model`, all or nothing, matched by name and shape.

    Args:
        model: the built keras_drn model.
        resolved: from `resolve_weights`.
        arch: the DRN architecture (for the reference checkpoints' key numbering).
        kind: "classifier", "segmentation" or "caffe": how reference checkpoints map.
        model_key: the registry key (for named weights).
    """
    if resolved.kind == "none":
        return
    if resolved.kind == "named":
        from keras_drn.weights import named

        named.load_named_weights(model, resolved.entry.model, resolved.argument,
                                 arch=arch)
        return
    if resolved.kind == "preset":
        from keras_drn.weights.load import load_preset_weights

        load_preset_weights(model, resolved.location)
        return
    from keras_drn.weights.load import load_weights

    load_weights(model, resolved.location, arch=arch, kind=kind)
