"""Name maps from the reference checkpoints to keras_drn layers, and all-or-nothing
assignment.

Every Keras weight is filled from exactly one checkpoint entry, every entry is used
exactly once, and every shape is checked before anything is assigned: a mismatch raises
with the missing and unexpected keys by name and leaves the model untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

import keras
import numpy as np

from keras_drn.layers import BilinearUpsampling
from keras_drn.layers import UnusedProjection
from keras_drn.models.drn import get_config

# BN buffers added by PyTorch 0.4.1, absent from the 2017 releases, never needed here.
IGNORED_SUFFIXES = (".num_batches_tracked",)


class CheckpointMismatchError(ValueError):
    """The checkpoint does not fit the model; the message lists the keys."""


@dataclass
class _Slot:
    variable: keras.Variable
    key: str
    transform: Callable[[np.ndarray], np.ndarray]


def _conv_kernel(w):  # torch [out, in, kh, kw] -> keras [kh, kw, in, out]
    return np.transpose(w, (2, 3, 1, 0))


def _dense_kernel(w):  # torch [out, in] or [out, in, 1, 1] -> keras [in, out]
    return np.transpose(w.reshape(w.shape[0], -1))


def _up_kernel(w):  # torch [C, 1, k, k] -> keras [k, k, C]
    return np.transpose(w[:, 0], (1, 2, 0))


def _same(w):
    return w


def _torch_prefix_classifier(name: str) -> str:
    return name.replace("_", ".")


def _seg_base_offset(arch: str) -> Callable[[str], str]:
    """DRNSeg's `base` is Sequential(children of the classifier minus avgpool and fc),
    so its keys number the children (segment.py:89): D `layer0..8` -> base.0..8;
    B/C conv1, bn1, relu, layer1..8 -> base.0, 1, (2), 3..10; A conv1, bn1, relu,
    maxpool, layer1..4 -> base.0, 1, (2), (3), 4..7."""
    config = get_config(arch)
    offset = {"D": 0, "C": 2, "B": 2, "A": 3}[config.arch]

    def prefix(name: str) -> str:
        path = name.replace("_", ".")
        head, _, rest = path.partition(".")
        if head == "conv1":
            index = 0
        elif head == "bn1":
            index = 1
        elif head.startswith("layer"):
            index = int(head[5:]) + offset
        else:  # seg, up
            return path
        return f"base.{index}" + (f".{rest}" if rest else "")

    return prefix


def _slots(model: keras.Model, prefix_of: Callable[[str], str]) -> list[_Slot]:
    slots = []
    for layer in model.layers:
        if not layer.weights:
            continue
        p = prefix_of(layer.name)
        if isinstance(layer, UnusedProjection):
            slots.append(_Slot(layer.conv.kernel, f"{p}.0.weight", _conv_kernel))
            slots.extend(_bn_slots(layer.bn, f"{p}.1"))
        elif isinstance(layer, BilinearUpsampling):
            slots.append(_Slot(layer.kernel, f"{p}.weight", _up_kernel))
        elif isinstance(layer, keras.layers.BatchNormalization):
            slots.extend(_bn_slots(layer, p))
        elif isinstance(layer, keras.layers.Conv2D):
            slots.append(_Slot(layer.kernel, f"{p}.weight", _conv_kernel))
            if layer.use_bias:
                slots.append(_Slot(layer.bias, f"{p}.bias", _same))
        elif isinstance(layer, keras.layers.Dense):
            slots.append(_Slot(layer.kernel, f"{p}.weight", _dense_kernel))
            slots.append(_Slot(layer.bias, f"{p}.bias", _same))
        else:
            raise TypeError(f"No checkpoint mapping for layer {layer.name!r} "
                            f"({type(layer).__name__}).")
    return slots


def _bn_slots(layer, p):
    return [
        _Slot(layer.gamma, f"{p}.weight", _same),
        _Slot(layer.beta, f"{p}.bias", _same),
        _Slot(layer.moving_mean, f"{p}.running_mean", _same),
        _Slot(layer.moving_variance, f"{p}.running_var", _same),
    ]


def strip_wrappers(state: Mapping) -> dict:
    """Unwraps `{"state_dict": ...}` (the reference's training checkpoints) and the
    `module.` prefix of nn.DataParallel, and drops `num_batches_tracked` buffers."""
    if "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    out = {}
    for key, value in state.items():
        if not isinstance(key, str):
            raise CheckpointMismatchError(
                f"Checkpoint key {key!r} is not a string; expected a PyTorch state dict."
            )
        if key.startswith("module."):
            key = key[len("module."):]
        if key.endswith(IGNORED_SUFFIXES):
            continue
        out[key] = value
    return out


def torch_key_map(model: keras.Model, arch: str, kind: str) -> list[_Slot]:
    """The slots of `model` for a reference checkpoint of `kind` "classifier" (drn.py
    models, torchvision's ResNet-50 for DRN-A-50) or "segmentation" (DRNSeg)."""
    if kind == "classifier":
        return _slots(model, _torch_prefix_classifier)
    if kind == "segmentation":
        return _slots(model, _seg_base_offset(arch))
    raise ValueError(f"Invalid kind={kind!r}; expected 'classifier' or 'segmentation'.")


def assign_state_dict(
    model: keras.Model, state: Mapping, *, arch: str, kind: str, source: str = "checkpoint"
) -> None:
    """Fills every weight of `model` from the PyTorch state dict `state` (numpy arrays
    or anything `np.asarray` accepts), or raises `CheckpointMismatchError` without
    changing the model."""
    state = strip_wrappers(state)
    slots = torch_key_map(model, arch, kind)
    _assign(model, slots, state, source)


def _assign(model, slots, state, source):
    wanted = {s.key for s in slots}
    missing = sorted(wanted - set(state))
    unexpected = sorted(set(state) - wanted)
    if missing or unexpected:
        raise CheckpointMismatchError(_mismatch_message(model, source, missing, unexpected))
    values, bad_shapes = [], []
    for slot in slots:
        array = slot.transform(np.asarray(state[slot.key], dtype=np.float32))
        if tuple(array.shape) != tuple(slot.variable.shape):
            bad_shapes.append(
                f"{slot.key}: checkpoint {tuple(array.shape)} vs model "
                f"{tuple(slot.variable.shape)} ({slot.variable.path})"
            )
        values.append(array)
    if bad_shapes:
        raise CheckpointMismatchError(
            f"{source} does not fit {model.name}: {len(bad_shapes)} shape mismatch(es):\n  "
            + "\n  ".join(bad_shapes[:20])
            + ("\n  ..." if len(bad_shapes) > 20 else "")
            + "\nCheck the architecture and the number of classes."
        )
    for slot, value in zip(slots, values):
        slot.variable.assign(value)


def _mismatch_message(model, source, missing, unexpected):
    def show(keys):
        head = ", ".join(keys[:12])
        return head + (f", ... ({len(keys)} in all)" if len(keys) > 12 else "")

    lines = [f"{source} does not fit {model.name}:"]
    if missing:
        lines.append(f"  missing from the checkpoint: {show(missing)}")
    if unexpected:
        lines.append(f"  unexpected in the checkpoint: {show(unexpected)}")
    hint = "Check that the checkpoint is for this architecture"
    if any(k.startswith(("base.", "seg.", "up.")) for k in unexpected):
        hint = ("This looks like a DRNSeg (segmentation) checkpoint: load it with "
                "keras_drn.DRNSeg(arch, classes, weights=...)")
    elif any(k.startswith(("base.", "seg.", "up.")) for k in missing) and any(
        k.startswith(("layer", "conv1", "fc.")) for k in unexpected
    ):
        hint = ("This looks like a classifier checkpoint: load it with the classifier "
                "constructor, or as DRNSeg's backbone_weights")
    lines.append(f"  {hint}; nothing was loaded.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- Caffe
def caffe_key_map(model: keras.Model) -> list[_Slot]:
    """Slots of a Dilation model for a caffemodel's blobs, named "<layer>/<index>":
    blob 0 is the weight [out, in, kh, kw], blob 1 the bias. `final` is `fc-final` in
    the VOC model. conv1_1 is flipped from Caffe's BGR input to our RGB."""
    slots = []
    for layer in model.layers:
        if not layer.weights:
            continue
        name = layer.name
        if isinstance(layer, BilinearUpsampling):
            slots.append(_Slot(layer.kernel, f"{name}/0", _up_kernel))
            continue
        if not isinstance(layer, keras.layers.Conv2D):
            raise TypeError(f"No caffemodel mapping for layer {name!r}.")
        transform = _conv_kernel
        if name == "conv1_1":
            transform = lambda w: _conv_kernel(w)[:, :, ::-1, :]  # noqa: E731  BGR->RGB
        slots.append(_Slot(layer.kernel, f"{name}/0", transform))
        slots.append(_Slot(layer.bias, f"{name}/1", _same))
    return slots


def assign_caffe_blobs(model: keras.Model, blobs: Mapping, *, source="caffemodel") -> None:
    """Fills a Dilation model from `{layer_name: [weight, bias]}` (a parsed caffemodel).
    Layers without parameters are ignored; the VOC name `fc-final` maps to `final`."""
    flat = {}
    for name, arrays in blobs.items():
        if not arrays:
            continue
        if name == "fc-final":
            name = "final"
        for i, array in enumerate(arrays):
            flat[f"{name}/{i}"] = array
    _assign(model, caffe_key_map(model), flat, source)
