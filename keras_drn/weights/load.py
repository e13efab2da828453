"""Loading a weights argument into a built model: all of it or none of it."""

from __future__ import annotations

import os
import uuid

import keras
import numpy as np

KERAS_SUFFIXES = (".weights.h5", ".keras")


def _snapshot(model):
    return [np.array(v) for v in model.weights]


def _restore(model, values):
    for variable, value in zip(model.weights, values):
        variable.assign(value)


def transfer_weights(source: keras.Model, target: keras.Model, *, strict=True) -> list[str]:
    """Copies weights layer by layer, matching layer names.

    With `strict=True` every weighted layer of `target` must be found in `source` with
    the same shapes; otherwise layers missing from `source` are skipped (a backbone
    into DRNSeg, say). Returns the names of the layers copied. Shapes are checked
    before anything is assigned.
    """
    by_name = {layer.name: layer for layer in source.layers if layer.weights}
    plan, missing, shapes = [], [], []
    for layer in target.layers:
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
    if shapes or (strict and missing):
        details = []
        if missing:
            details.append(f"layers not in the source: {', '.join(missing[:12])}")
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
    """Writes `model` to `path` (`.weights.h5`: the weights; `.keras`: the whole model)
    through a temporary file beside it and a rename, so that a crash never leaves a
    half-written file under the final name."""
    path = os.fspath(path)
    if not path.endswith(KERAS_SUFFIXES):
        raise ValueError(
            f"Invalid path {path!r}: expected a name ending in .weights.h5 or .keras."
        )
    suffix = ".keras" if path.endswith(".keras") else ".weights.h5"
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".tmp-{uuid.uuid4().hex}{suffix}")
    try:
        if suffix == ".keras":
            model.save(tmp)
        else:
            model.save_weights(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_keras_file(model: keras.Model, path: str) -> None:
    """Loads a Keras `.weights.h5` (same architecture) or `.keras` file (weights copied
    by layer name) into `model`, restoring the old weights if anything fails."""
    before = _snapshot(model)
    try:
        if path.endswith(".keras"):
            import keras_drn.layers  # noqa: F401  (registers the custom layers)
            import keras_drn.models  # noqa: F401

            source = keras.saving.load_model(path, compile=False)
            transfer_weights(source, model, strict=True)
        else:
            model.load_weights(path)
    except Exception as error:  # noqa: BLE001  (re-raised with context)
        _restore(model, before)
        raise ValueError(
            f"Could not load weights={path!r} into {model.name}: {error}\n"
            f"A Keras weights file must come from the same model (architecture, "
            f"include_top, classes, head); nothing was loaded."
        ) from error


def load_weights(model: keras.Model, weights, *, arch: str | None = None,
                 kind: str = "classifier") -> None:
    """Loads `weights` (a path) into `model`.

    Keras files (`.weights.h5`, `.keras`) are read by Keras; reference checkpoints
    (`.pth`, `.pth.tar`, `.caffemodel`) by `keras_drn.weights.checkpoints`.
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
    if path.endswith(KERAS_SUFFIXES):
        load_keras_file(model, path)
        return
    from keras_drn.weights import checkpoints

    checkpoints.load_checkpoint(model, path, arch=arch, kind=kind)
