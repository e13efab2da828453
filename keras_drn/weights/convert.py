"""Name maps from the reference checkpoints to keras_drn layers, and all-or-nothing
assignment.

Every Keras weight is filled from exactly one checkpoint entry, every entry is used
exactly once, and every shape is checked before anything is assigned: a mismatch raises
with the missing and unexpected keys by name and leaves the model untouched.

Two key spaces meet here: the reference's (state-dict keys such as
`layer3.0.conv1.weight`, caffemodel blobs `conv1_1/0`) and ours, "<layer>/<weight>" in
Keras layout (`layer3_0_conv1/kernel`, `conv1_1/kernel`). `convert_*` maps the first
to the second without touching a model; `assign_arrays` loads the second; the
converted-weights cache of `keras_drn.weights.named` stores the second.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

import keras
import numpy as np

from keras_drn.layers import BilinearUpsampling
from keras_drn.layers import UnusedProjection
from keras_drn.models.drn import arch_config
from keras_drn.models.walk import leaf_layers

# BN buffers added by PyTorch 0.4.1, absent from the 2017 releases, never needed here.
IGNORED_SUFFIXES = (".num_batches_tracked",)
KINDS = ("classifier", "segmentation", "caffe")


class CheckpointMismatchError(ValueError):
    """The checkpoint does not fit the model; the message lists the keys."""


@dataclass
class _Slot:
    variable: keras.Variable
    key: str  # the reference's name
    transform: Callable[[np.ndarray], np.ndarray]
    keras_key: str  # ours: "<layer>/<weight>"


def _conv_kernel(w):  # torch/caffe [out, in, kh, kw] -> keras [kh, kw, in, out]
    return np.transpose(w, (2, 3, 1, 0))


def _dense_kernel(w):  # torch [out, in] or [out, in, 1, 1] -> keras [in, out]
    return np.transpose(w.reshape(w.shape[0], -1))


def _up_kernel(w):  # torch [C, 1, k, k] -> keras [k, k, C]
    return np.transpose(w[:, 0], (1, 2, 0))


def _same(w):
    return w


def _flat(w):  # a caffe bias saved with the deprecated 4-D fields is (1, 1, 1, C)
    return w.reshape(-1)


def _bgr_conv_kernel(w):  # Caffe's first layer reads BGR (cv2.imread); ours RGB
    return _conv_kernel(w)[:, :, ::-1, :]


def _torch_prefix_classifier(name: str) -> str:
    return name.replace("_", ".")


def _seg_base_offset(arch: str) -> Callable[[str], str]:
    """DRNSeg's `base` is Sequential(children of the classifier minus avgpool and fc),
    so its keys number the children (segment.py:89): D `layer0..8` -> base.0..8;
    B/C conv1, bn1, relu, layer1..8 -> base.0, 1, (2), 3..10; A conv1, bn1, relu,
    maxpool, layer1..4 -> base.0, 1, (2), (3), 4..7."""
    config = arch_config(arch)
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


def _bn_slots(layer, p, k):
    return [
        _Slot(layer.gamma, f"{p}.weight", _same, f"{k}/gamma"),
        _Slot(layer.beta, f"{p}.bias", _same, f"{k}/beta"),
        _Slot(layer.moving_mean, f"{p}.running_mean", _same, f"{k}/moving_mean"),
        _Slot(layer.moving_variance, f"{p}.running_var", _same, f"{k}/moving_variance"),
    ]


def _slots(model: keras.Model, prefix_of: Callable[[str], str]) -> list[_Slot]:
    slots = []
    for layer in leaf_layers(model):
        if not layer.weights:
            continue
        p, k = prefix_of(layer.name), layer.name
        if isinstance(layer, UnusedProjection):
            slots.append(_Slot(layer.conv.kernel, f"{p}.0.weight", _conv_kernel,
                               f"{k}/conv/kernel"))
            slots.extend(_bn_slots(layer.bn, f"{p}.1", f"{k}/bn"))
        elif isinstance(layer, BilinearUpsampling):
            slots.append(_Slot(layer.kernel, f"{p}.weight", _up_kernel, f"{k}/kernel"))
        elif isinstance(layer, keras.layers.BatchNormalization):
            slots.extend(_bn_slots(layer, p, k))
        elif isinstance(layer, keras.layers.Conv2D):
            slots.append(_Slot(layer.kernel, f"{p}.weight", _conv_kernel, f"{k}/kernel"))
            if layer.use_bias:
                slots.append(_Slot(layer.bias, f"{p}.bias", _same, f"{k}/bias"))
        elif isinstance(layer, keras.layers.Dense):
            slots.append(_Slot(layer.kernel, f"{p}.weight", _dense_kernel, f"{k}/kernel"))
            slots.append(_Slot(layer.bias, f"{p}.bias", _same, f"{k}/bias"))
        else:
            raise TypeError(f"No checkpoint mapping for layer {layer.name!r} "
                            f"({type(layer).__name__}).")
    return slots


# Heads a model may be built without (include_top=False; DRNSeg head="bilinear" or
# "none"): their checkpoint entries are converted but not assigned, so the converted
# cache stays complete whichever variant first loaded it.
_OPTIONAL_TORCH_HEADS = {
    "classifier": {
        "fc.weight": ("fc/kernel", _dense_kernel),
        "fc.bias": ("fc/bias", _same),
    },
    "segmentation": {"up.weight": ("up/kernel", _up_kernel)},
}


def _optional_layer(kind: str, layer: str) -> bool:
    """Whether a model of `kind` may lack `layer` by design."""
    if kind == "classifier":
        return layer == "fc"
    if kind == "segmentation":
        return layer == "up"
    return layer.startswith(("ctx_", "ct_"))  # Dilation with include_context=False


def strip_wrappers(state: Mapping) -> dict:
    """Unwraps `{"state_dict": ...}` (the reference's training checkpoints) and the
    `module.` prefix of nn.DataParallel, and drops `num_batches_tracked` buffers."""
    if not isinstance(state, Mapping):
        raise CheckpointMismatchError(
            f"The checkpoint holds a {type(state).__name__}, not a state dict (a "
            f"mapping of parameter names to tensors)."
        )
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
        if value is None or isinstance(value, (Mapping, str, bytes, int, float)):
            raise CheckpointMismatchError(
                f"Checkpoint entry {key!r} is a {type(value).__name__}, not a tensor: "
                f"expected a state dict, or a dict with one under 'state_dict'. "
                f"Top-level keys: {', '.join(map(str, list(state)[:10]))}."
            )
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


def _convert(model, slots, flat, optional, source) -> dict[str, np.ndarray]:
    """Reference entries -> {keras key: array}, or CheckpointMismatchError."""
    wanted = {s.key for s in slots}
    missing = sorted(wanted - set(flat))
    extra = sorted(set(flat) - wanted)
    unexpected = [k for k in extra if optional(k) is None]
    if missing or unexpected:
        raise CheckpointMismatchError(_mismatch_message(model, source, missing, unexpected))
    arrays, bad_shapes = {}, []
    for slot in slots:
        array = slot.transform(np.asarray(flat[slot.key], dtype=np.float32))
        if tuple(array.shape) != tuple(slot.variable.shape):
            bad_shapes.append(
                f"{slot.key}: checkpoint {tuple(array.shape)} vs model "
                f"{tuple(slot.variable.shape)} ({slot.keras_key})"
            )
        arrays[slot.keras_key] = array
    if bad_shapes:
        raise CheckpointMismatchError(
            f"{source} does not fit {model.name}: {len(bad_shapes)} shape mismatch(es):\n  "
            + "\n  ".join(bad_shapes[:20])
            + ("\n  ..." if len(bad_shapes) > 20 else "")
            + "\nCheck the architecture and the number of classes; nothing was loaded."
        )
    for key in extra:
        keras_key, transform = optional(key)
        arrays[keras_key] = transform(np.asarray(flat[key], dtype=np.float32))
    return arrays


def convert_state_dict(model: keras.Model, state: Mapping, *, arch: str, kind: str,
                       source: str = "checkpoint") -> dict[str, np.ndarray]:
    """Maps a PyTorch state dict onto `model`'s weights without assigning them.

    Args:
        model: a keras_drn DRN classifier (kind "classifier") or DRNSeg model
            (kind "segmentation") whose layers say which entries are needed.
        state: the checkpoint as read (`{"state_dict": ...}` wrappers, `module.`
            prefixes and `num_batches_tracked` are handled).
        arch: the DRN architecture ("drn_d_22", ...), for DRNSeg's `base.N` numbering.
        kind: "classifier" or "segmentation".
        source: how to name the checkpoint in errors.

    Returns:
        `{"<layer>/<weight>": array}` in Keras layout, including the entries of heads
        the model was built without (`fc` for include_top=False, `up` for other heads).

    Raises:
        CheckpointMismatchError: keys missing or unexpected, or shapes differ.
    """
    flat = strip_wrappers(state)
    slots = torch_key_map(model, arch, kind)
    layers = {layer.name for layer in leaf_layers(model)}
    heads = _OPTIONAL_TORCH_HEADS.get(kind, {})

    def optional(key):
        entry = heads.get(key)
        return entry if entry and entry[0].split("/")[0] not in layers else None

    return _convert(model, slots, flat, optional, source)


def _inverse(transform, config_arch: str):
    """Keras layout back to the reference's, for `export_state_dict`."""
    if transform is _conv_kernel:
        return lambda w: np.transpose(w, (3, 2, 0, 1))
    if transform is _dense_kernel:
        if config_arch == "A":  # torchvision's Linear: [out, in]
            return lambda w: np.transpose(w)
        return lambda w: np.transpose(w)[:, :, None, None]  # drn.py's 1x1 conv fc
    if transform is _up_kernel:
        return lambda w: np.transpose(w, (2, 0, 1))[:, None]
    if transform is _same:
        return _same
    raise TypeError(f"No inverse for {transform!r}.")


def export_state_dict(model: keras.Model, *, arch: str, kind: str) -> dict[str, np.ndarray]:
    """The weights of `model` as a state dict of the reference (fyu/drn drn.py for
    kind "classifier", segment.py's DRNSeg for "segmentation"): the same keys and
    layouts as the authors' checkpoints, so that
    `torch_model.load_state_dict({k: torch.from_numpy(v) for k, v in ...})` loads it
    strictly (PyTorch adds `num_batches_tracked` itself). The inverse of
    `assign_state_dict`."""
    config = arch_config(arch)
    state = {}
    for slot in torch_key_map(model, arch, kind):
        value = np.asarray(keras.ops.convert_to_numpy(slot.variable), dtype=np.float32)
        state[slot.key] = np.ascontiguousarray(_inverse(slot.transform, config.arch)(value))
    return state


def assign_arrays(model: keras.Model, arrays: Mapping[str, np.ndarray], *, kind: str,
                  source: str = "weights") -> None:
    """Loads `{"<layer>/<weight>": array}` (Keras layout, as `convert_*` return) into
    `model`, all or nothing. Entries of heads the model lacks by design are skipped;
    anything else missing, unexpected or misshapen raises `CheckpointMismatchError`."""
    slots = _slots(model, lambda name: name)
    by_key = {slot.keras_key: slot for slot in slots}
    layers = {layer.name for layer in leaf_layers(model)}
    missing = sorted(set(by_key) - set(arrays))
    unexpected = sorted(
        k for k in arrays if k not in by_key and (
            k.split("/")[0] in layers or not _optional_layer(kind, k.split("/")[0])
        )
    )
    if missing or unexpected:
        raise CheckpointMismatchError(_mismatch_message(model, source, missing, unexpected))
    bad = [
        f"{key}: {tuple(np.shape(arrays[key]))} vs model {tuple(slot.variable.shape)}"
        for key, slot in by_key.items()
        if tuple(np.shape(arrays[key])) != tuple(slot.variable.shape)
    ]
    if bad:
        raise CheckpointMismatchError(
            f"{source} does not fit {model.name}: " + "; ".join(bad[:10])
            + ". Nothing was loaded."
        )
    for key, slot in by_key.items():
        slot.variable.assign(np.asarray(arrays[key], dtype=slot.variable.dtype))


def assign_state_dict(
    model: keras.Model, state: Mapping, *, arch: str, kind: str, source: str = "checkpoint"
) -> None:
    """Fills every weight of `model` from the PyTorch state dict `state` (numpy arrays
    or anything `np.asarray` accepts), or raises `CheckpointMismatchError` without
    changing the model."""
    arrays = convert_state_dict(model, state, arch=arch, kind=kind, source=source)
    assign_arrays(model, arrays, kind=kind, source=source)


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
    seg_keys = ("base.", "seg.", "up.")
    if any(k.startswith(seg_keys) for k in unexpected):
        hint = ("This looks like a DRNSeg (segmentation) checkpoint: load it with "
                "keras_drn.DRNSeg(arch, classes, weights=...)")
    elif any(k.startswith(seg_keys) for k in missing) and any(
        k.startswith(("layer", "conv1", "bn1", "fc.")) for k in unexpected
    ):
        hint = ("This looks like a classifier checkpoint: load it with the classifier "
                "constructor, or as DRNSeg's backbone_weights")
    elif any(k.startswith(("ctx_", "ct_")) for k in missing) and not any(
        k.startswith(("ctx_", "ct_")) for k in unexpected
    ):
        hint = ("The caffemodel has no context module (a front-end model?): build the "
                "model with include_context=False")
    lines.append(f"  {hint}; nothing was loaded.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- Caffe
def caffe_key_map(model: keras.Model) -> list[_Slot]:
    """Slots of a Dilation model for a caffemodel's blobs, named "<layer>/<index>":
    blob 0 is the weight [out, in, kh, kw], blob 1 the bias. `final` is `fc-final` in
    the VOC model. conv1_1 is flipped from Caffe's BGR input to our RGB."""
    slots = []
    for layer in leaf_layers(model):
        if not layer.weights:
            continue
        name = layer.name
        if isinstance(layer, BilinearUpsampling):
            slots.append(_Slot(layer.kernel, f"{name}/0", _up_kernel, f"{name}/kernel"))
            continue
        if not isinstance(layer, keras.layers.Conv2D):
            raise TypeError(f"No caffemodel mapping for layer {name!r}.")
        transform = _bgr_conv_kernel if name == "conv1_1" else _conv_kernel
        slots.append(_Slot(layer.kernel, f"{name}/0", transform, f"{name}/kernel"))
        slots.append(_Slot(layer.bias, f"{name}/1", _flat, f"{name}/bias"))
    return slots


def _flat_blobs(blobs: Mapping) -> dict:
    flat = {}
    for name, arrays in blobs.items():
        if not arrays:
            continue
        if name == "fc-final":  # dilation8_pascal_voc_deploy.prototxt's name for `final`
            name = "final"
        for i, array in enumerate(arrays):
            flat[f"{name}/{i}"] = array
    return flat


def convert_caffe_blobs(model: keras.Model, blobs: Mapping, *,
                        source: str = "caffemodel") -> dict[str, np.ndarray]:
    """Maps `{layer_name: [weight, bias]}` (a parsed caffemodel) onto a Dilation model
    without assigning: returns `{"<layer>/kernel" | "<layer>/bias": array}`. Blobs of
    context layers the model lacks (include_context=False) are converted, not
    required."""
    layers = {layer.name for layer in leaf_layers(model)}

    def optional(key):
        name, index = key.rsplit("/", 1)
        if name in layers or not _optional_layer("caffe", name) or index not in "01":
            return None
        if name == "ctx_upsample":
            return (f"{name}/kernel", _up_kernel)
        return (f"{name}/kernel", _conv_kernel) if index == "0" else (f"{name}/bias",
                                                                      _flat)

    return _convert(model, caffe_key_map(model), _flat_blobs(blobs), optional, source)


def assign_caffe_blobs(model: keras.Model, blobs: Mapping, *, source="caffemodel") -> None:
    """Fills a Dilation model from `{layer_name: [weight, bias]}` (a parsed caffemodel).
    Layers without parameters are ignored; the VOC name `fc-final` maps to `final`."""
    arrays = convert_caffe_blobs(model, blobs, source=source)
    assign_arrays(model, arrays, kind="caffe", source=source)
