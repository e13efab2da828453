"""How closely a keras_drn model reproduces the reference: the same weights in the
PyTorch port (`keras_drn.reference`) and in Keras, run on the same input.

What is compared is what the reference computes:

- a DRN classifier: the logits of drn.py's head, `AvgPool2d(28)` and the 1x1 `fc`,
  which needs a 224x224 input (`CLASSIFIER_SIZE`). At other sizes the reference's
  pooling does not apply, and the comparison is with the reference's `fc` over the
  global mean of its stride-8 map (keras_drn's global pooling), which it says so;
- DRNSeg: both outputs of segment.py's `forward`: the log-softmax of the x8 upsampled
  logits (against the log-softmax of the Keras model's logits) and the stride-8
  logits (against the Keras model's `seg` layer);
- a Dilation network: the logits (BGR input for the port, RGB for Keras).

Example:

```python
model = keras_drn.DRNSeg("drn_d_22", classes=19, weights="drn_d_22_cityscapes.pth")
result = drn_parity(model, arch="drn_d_22", kind="segmentation", classes=19,
                    path="drn_d_22_cityscapes.pth")
assert result.max_abs_diff <= 1e-4, result.describe()
```
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

import numpy as np

CLASSIFIER_SIZE = (224, 224)  # drn.py's AvgPool2d(28) at stride 8
SEGMENTATION_SIZE = (64, 96)
DILATION_SIZE = (381, 389)  # odd sizes, so that the ceil-mode pools round up


@dataclass(frozen=True)
class ParityResult:
    """The differences between a Keras model and the reference on one input.

    Attributes:
        diffs: {compared output: max |keras - torch|}.
        max_abs_logit: the largest |logit| of the reference (the scale of the diffs).
        checkpoint: how the reference's weights were read.
        compared: what was compared, in words.
        input_size: (height, width) of the input.
    """

    diffs: dict = field(default_factory=dict)
    max_abs_logit: float = 0.0
    checkpoint: str = ""
    compared: str = ""
    input_size: tuple = ()

    @property
    def max_abs_diff(self) -> float:
        """The largest difference over the compared outputs."""
        return max(self.diffs.values())

    def passed(self, atol: float) -> bool:
        """Whether every compared output is within `atol`.

        Args:
            atol: the largest accepted absolute difference.

        Returns:
            True when `max_abs_diff <= atol`.
        """
        return self.max_abs_diff <= atol

    def describe(self) -> str:
        """One line: the maximum difference, per output when there are several."""
        text = (f"max |keras - torch| = {self.max_abs_diff:.3g} over logits up to "
                f"{self.max_abs_logit:.3g}")
        if len(self.diffs) > 1:
            text += " (" + ", ".join(f"{k} {v:.3g}" for k, v in self.diffs.items()) + ")"
        return text


def log_softmax(x, axis=-1):
    """The log-softmax of numpy logits, in float64 then cast back.

    Args:
        x: logits.
        axis: the class axis.

    Returns:
        log-probabilities of x's shape and dtype.
    """
    x = np.asarray(x)
    y = x.astype("float64")
    y = y - y.max(axis=axis, keepdims=True)
    y = y - np.log(np.exp(y).sum(axis=axis, keepdims=True))
    return y.astype(x.dtype)


def _nchw(x):
    from keras_drn.reference._torch import require_torch

    return require_torch().from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def _nhwc(t):
    out = t.detach().numpy()
    return out.transpose(0, 2, 3, 1) if out.ndim == 4 else out


# ------------------------------------------------------------------ the reference side
def torch_state_dict(path, numpy_state=None):
    """A checkpoint as `torch.load` reads it, unwrapped to a flat state dict.

    Training checkpoints (`{"state_dict": ...}`) are unwrapped and their `module.`
    prefixes removed. torch.load refuses the legacy tar container with
    `weights_only=True`; then the arrays keras_drn read are used (and `how` says so).

    Args:
        path: a `.pth` / `.pth.tar` file.
        numpy_state: the state keras_drn read from `path` (numpy arrays), if at hand.

    Returns:
        `(state, how)`: {key: tensor} and how it was read, in words.
    """
    from keras_drn.reference._torch import require_torch

    torch = require_torch()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        how = "read by torch.load"
    except Exception:  # noqa: BLE001  (any refusal: fall back to keras_drn's reader)
        from keras_drn.weights import read_pth

        state = read_pth(path) if numpy_state is None else numpy_state
        how = "read by keras_drn (torch.load cannot read this container safely)"
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        state = {k: torch.from_numpy(np.asarray(v)) for k, v in state.items()
                 if hasattr(v, "shape")}
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    state = {k[len("module."):] if k.startswith("module.") else k: v
             for k, v in state.items()}
    return state, how


def reference_drn(arch, kind, classes, state=None):
    """The reference network of a DRN checkpoint, in eval mode.

    Args:
        arch: "drn_d_22", ...
        kind: "classifier" (drn.py) or "segmentation" (segment.py's DRNSeg).
        classes: the number of classes.
        state: a state dict to load strictly, or None for drn.py's initialisation.

    Returns:
        A `TorchDRN`, `TorchDRNA` or `TorchDRNSeg`.

    Raises:
        ValueError: unknown `kind`.
        RuntimeError: `state` does not fit (torch's `load_state_dict`).
    """
    from keras_drn.reference import torch_drn
    from keras_drn.reference.torch_segment import TorchDRNSeg

    if kind == "segmentation":
        net = TorchDRNSeg(torch_drn.build(arch), classes)
    elif kind == "classifier":
        net = torch_drn.build(arch, classes=classes)
    else:
        raise ValueError(f"Invalid kind={kind!r}: expected 'classifier' or "
                         f"'segmentation'.")
    if state is not None:
        net.load_state_dict(state, strict=True)
    return net.eval()


def global_pool_logits(net, x):
    """The reference classifier's `fc` over the global mean of its stride-8 map: what
    keras_drn's global pooling computes, at any input size.

    Args:
        net: a `TorchDRN` or `TorchDRNA`.
        x: input [N, 3, H, W] (torch).

    Returns:
        logits [N, classes] (torch).
    """
    from keras_drn.reference.torch_drn import TorchDRNA

    features = net.features(x).mean(dim=(2, 3), keepdim=True)
    if isinstance(net, TorchDRNA):
        return net.fc(features.flatten(1))
    return net.fc(features).flatten(1)


def _pools_to_one(size):
    return all(-(-s // 8) == 28 for s in size)


# --------------------------------------------------------------------------- parity
def drn_parity(model, *, arch, kind, classes, path=None, state=None, size=None,
               seed=0, net=None):
    """Runs a keras_drn DRN model and the reference with the same weights.

    Args:
        model: the Keras model, weights loaded: a classifier with logits
            (`classifier_activation=None`), or DRNSeg with the reference head and
            logits.
        arch: its architecture ("drn_d_22", ...).
        kind: "classifier" or "segmentation".
        classes: the number of classes.
        path: the checkpoint to load into the reference (read by torch.load).
        state: keras_drn's reading of `path` (numpy), the fallback for containers
            torch.load refuses.
        size: (height, width) of the random input; default 224x224 for a classifier,
            64x96 for DRNSeg.
        seed: seed of the input.
        net: a reference network to use instead of loading `path`.

    Returns:
        A `ParityResult`.

    Raises:
        ImportError: PyTorch is not installed.
        RuntimeError: the outputs' shapes differ.
    """
    from keras_drn.reference._torch import require_torch

    torch = require_torch()
    if net is None:
        loaded, how = torch_state_dict(path, state)
        net = reference_drn(arch, kind, classes, loaded)
    else:
        how = "given"
    size = tuple(size or (SEGMENTATION_SIZE if kind == "segmentation"
                          else CLASSIFIER_SIZE))
    x = np.random.default_rng(seed).normal(size=(1, *size, 3)).astype("float32")
    with torch.no_grad():
        if kind == "segmentation":
            log_probabilities, logits = (_nhwc(t) for t in net(_nchw(x)))
            log_probabilities = log_probabilities[:, :size[0], :size[1]]
        elif _pools_to_one(size):
            logits = _nhwc(net(_nchw(x)))
        else:
            logits = _nhwc(global_pool_logits(net, _nchw(x)))
    if kind == "segmentation":
        import keras

        stride8 = keras.Model(model.input, model.get_layer("seg").output)
        got8 = np.asarray(stride8(x, training=False))
        got = log_softmax(np.asarray(model(x, training=False)))
        _same_shape(got, log_probabilities)
        _same_shape(got8, logits)
        diffs = {"log-probabilities": _max_diff(got, log_probabilities),
                 "stride-8 logits": _max_diff(got8, logits)}
        compared = "DRNSeg: segment.py's (log-softmax, stride-8 logits)"
    else:
        got = np.asarray(model(x, training=False))
        _same_shape(got, logits)
        diffs = {"logits": _max_diff(got, logits)}
        compared = ("classifier: drn.py's AvgPool2d(28) head" if _pools_to_one(size)
                    else "classifier: the reference's fc over the global mean of its "
                         "stride-8 map (AvgPool2d(28) needs a 224x224 input)")
    return ParityResult(diffs, float(np.abs(logits).max()), how, compared, size)


def dilation_parity(model, *, config, classes, blobs, size=DILATION_SIZE, seed=0):
    """Runs a keras_drn Dilation model and the reference with the same Caffe blobs.

    Args:
        model: the Keras model (RGB input), weights loaded.
        config: its `keras_drn.models.DilationConfig`.
        classes: the number of classes.
        blobs: {Caffe layer name: arrays}, e.g. `keras_drn.weights.read_caffemodel`'s.
        size: (height, width) of the random input (at least 373).
        seed: seed of the input.

    Returns:
        A `ParityResult` (the reference reads the blobs keras_drn read: there is no
        independent caffemodel reader).

    Raises:
        ImportError: PyTorch is not installed.
        RuntimeError: the outputs' shapes differ.
    """
    from keras_drn.reference._torch import require_torch
    from keras_drn.reference.torch_dilation import TorchDilation

    torch = require_torch()
    net = TorchDilation(classes, config.context_layers, large=config.context == "large",
                        upsample=config.upsample).load_blobs(blobs).eval()
    x_bgr = np.random.default_rng(seed).normal(0, 60, (1, *size, 3)).astype("float32")
    with torch.no_grad():
        expected = _nhwc(net(_nchw(x_bgr)))
    got = np.asarray(model(x_bgr[..., ::-1].copy(), training=False))
    _same_shape(got, expected)
    return ParityResult({"logits": _max_diff(got, expected)},
                        float(np.abs(expected).max()),
                        "blobs read by keras_drn (no independent caffemodel reader)",
                        "Dilation: the logits", tuple(size))


def _max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a, "float64") - np.asarray(b, "float64")).max())


def _same_shape(got, expected):
    if got.shape != expected.shape:
        raise RuntimeError(f"Output shapes differ: keras {got.shape}, torch "
                           f"{expected.shape}.")
