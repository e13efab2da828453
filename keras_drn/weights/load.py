"""Loading a weights argument into a built model: all of it or none of it."""

from __future__ import annotations

import os

import keras
import numpy as np

from keras_drn.files import atomic_path
from keras_drn.models.walk import leaf_layers

KERAS_SUFFIXES = (".weights.h5", ".keras")


def _snapshot(model):
    return [np.array(v) for v in model.weights]


def _restore(model, values):
    for variable, value in zip(model.weights, values):
        variable.assign(value)


def transfer_weights(source: keras.Model, target: keras.Model, *, strict=True) -> list[str]:
    """Copies weights layer by layer, matching layer names (nested models included).

    With `strict=True` every weighted layer of `target` must be found in `source` with
    the same shapes, and `source` may have no weighted layer that `target` lacks;
    otherwise layers missing from `source` are skipped (a backbone into DRNSeg, say).
    Returns the names of the layers copied. Shapes are checked before anything is
    assigned.
    """
    by_name = {layer.name: layer for layer in leaf_layers(source) if layer.weights}
    plan, missing, shapes = [], [], []
    target_names = set()
    for layer in leaf_layers(target):
        target_names.add(layer.name)
        if not layer.weights:
            continue
        other = by_name.get(layer.name)
        if other is None:
            missing.append(layer.name)
            continue
        a = [tuple(w.shape) for w in layer.weights]
        b = [tuple(w.shape) for w in other.weights]
        if a != b:
            shapes.append(f"{layer.name}: source {b} vs target {a}")
            continue
        plan.append((layer, other))
    unexpected = [n for n in by_name if n not in target_names] if strict else []
    if shapes or (strict and (missing or unexpected)):
        first = (shapes[0].split(":")[0] if shapes else None) or (
            missing[0] if missing else unexpected[0])
        details = [f"the first layer that differs is {first!r}"]
        if missing:
            details.append(f"layers not in the source: {', '.join(missing[:12])}")
        if unexpected:
            details.append(f"layers only in the source: {', '.join(unexpected[:12])}")
        if shapes:
            details.append("shape mismatches: " + "; ".join(shapes[:8]))
        raise ValueError(
            f"Cannot copy weights from {source.name} into {target.name}: "
            + " | ".join(details)
            + ". Check the architecture, head and number of classes; nothing was copied."
        )
    for layer, other in plan:
        layer.set_weights(other.get_weights())
    return [layer.name for layer, _ in plan]


def save_atomic(model: keras.Model, path: str) -> None:
    """Writes `model` to `path` atomically (`keras_drn.files.atomic_path`), so that a
    crash never leaves a half-written file under the final name.

    Args:
        model: the model to save.
        path: a `.weights.h5` (the weights) or `.keras` (the whole model) file.

    Raises:
        ValueError: `path` has neither suffix.
    """
    path = os.fspath(path)
    if not path.endswith(KERAS_SUFFIXES):
        raise ValueError(
            f"Invalid path {path!r}: expected a name ending in .weights.h5 or .keras."
        )
    with atomic_path(path) as tmp:
        if path.endswith(".keras"):
            model.save(tmp)
        else:
            model.save_weights(tmp)


def load_keras_file(model: keras.Model, path: str) -> None:
    """Loads a Keras `.weights.h5` or `.keras` file into `model`, matching layers by
    name and shape (`keras_drn.weights.strict`); a file of another architecture is
    refused with the first layer that differs and the model is left untouched."""
    from keras_drn.weights import strict

    before = _snapshot(model)
    try:
        if path.endswith(".keras") or _is_zip(path):
            strict.load_keras_archive_strict(model, path)
        else:
            strict.load_h5_strict(model, path)
    except strict.WeightsMismatchError:
        _restore(model, before)
        raise
    except Exception as error:  # noqa: BLE001  (re-raised with context)
        _restore(model, before)
        raise ValueError(
            f"Could not load weights={path!r} into {model.name}: {error}\n"
            f"A Keras weights file must come from the same model (architecture, "
            f"include_top, classes, head); nothing was loaded."
        ) from error


def _is_zip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def load_preset_weights(model: keras.Model, preset: str) -> None:
    """Loads the weights of a keras-hub preset (a directory or a kaggle:// / hf://
    handle) into `model`, by layer name and shape, all or nothing.

    The preset's model is built from its config (keras_drn's classes are registered)
    and its weights copied layer by layer; a preset of another architecture, head or
    number of classes is refused with the layers that differ.
    """
    from keras_drn.presets import load_preset_model

    source = load_preset_model(preset)
    before = _snapshot(model)
    try:
        transfer_weights(source, model, strict=True)
    except ValueError as error:
        _restore(model, before)
        raise ValueError(f"Preset {preset} does not fit {model.name}: {error}") from None


def load_weights(model: keras.Model, weights, *, arch: str | None = None,
                 kind: str = "classifier") -> None:
    """Loads `weights` (a path) into `model`, matched by layer name and shape.

    Keras files (`.weights.h5`, `.keras`) are read by `keras_drn.weights.strict`;
    reference checkpoints (`.pth`, `.pth.tar`, `.caffemodel`) by
    `keras_drn.weights.checkpoints`; a preset directory by keras-hub.
    """
    if not isinstance(weights, (str, os.PathLike)):
        raise ValueError(
            f"Invalid weights={weights!r}: expected None, a weights name, or a path."
        )
    path = os.fspath(weights)
    if not os.path.exists(path):
        raise ValueError(
            f"weights={path!r} is neither a known weights name nor an existing file."
        )
    from keras_drn.weights.resolve import is_preset_dir

    if is_preset_dir(path):
        load_preset_weights(model, path)
        return
    from keras_drn.weights import checkpoints

    keras_file = checkpoints.detect_format(path) == "keras"
    if path.endswith((*KERAS_SUFFIXES, ".h5")) or keras_file:
        load_keras_file(model, path)
        return

    checkpoints.load_checkpoint(model, path, arch=arch, kind=kind)
