"""Checkpoints written by torch, read without torch, give the reference's outputs.

For each family the issue names (A-50 with torchvision's keys, C-26, C-58 with its unused
`layer7.0.downsample`, D-22, D-54, DRNSeg D-22 with 19 classes) the PyTorch port of the
reference (`keras_drn.reference`) is given random weights and BN statistics and its
classifier is scaled so that logits reach 10; the state dict is saved in every
container the releases use, read by keras_drn (no torch involved in reading) and the
Keras outputs are compared with torch's: max abs difference <= 1e-4. What is compared
is what the reference computes at this small size: a classifier's fc over the torch
mean of its stride-8 map (drn.py's AvgPool2d(28) needs 224x224; tests/
test_models_parity.py compares that head), and DRNSeg's two outputs (segment.py's
log-softmax of the upsampled logits, and the stride-8 logits).
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
from test_weights_writers import write_py2_legacy
from test_weights_writers import write_tar

import keras_drn
from keras_drn.weights import load_weights

pytestmark = pytest.mark.torch
ATOL = 1e-4
LOGIT_SCALE = 10.0
SHAPE = (1, 48, 64, 3)  # NHWC; tiny, so that the suite stays fast

# family -> (arch, kind, containers). "tar" is torchvision's 2017 container (DRN-A-50's
# resnet50-19c8e357.pth), "py2" the Python 2 / PyTorch 0.2 stream of the 2017 DRN
# releases, "training-*" segment.py's save_checkpoint output; "constructor" loads a
# legacy file through the public constructor (weights="path/to/file.pth").
FAMILIES = {
    "drn_a_50": ("drn_a_50", "classifier", ("zip", "legacy", "tar")),
    "drn_c_26": ("drn_c_26", "classifier", ("zip", "legacy", "constructor")),
    "drn_c_58": ("drn_c_58", "classifier", ("zip", "legacy")),
    "drn_d_22": ("drn_d_22", "classifier", ("zip", "legacy", "py2")),
    "drn_d_54": ("drn_d_54", "classifier", ("zip", "legacy")),
    "drnseg_drn_d_22": ("drn_d_22", "segmentation",
                        ("zip", "legacy", "training-zip", "training-legacy",
                         "constructor")),
}
CASES = [(family, fmt) for family, (_, _, fmts) in FAMILIES.items() for fmt in fmts]


class Family:
    """The torch model, its outputs and a Keras model of the same architecture."""

    def __init__(self, name):
        import torch

        from keras_drn import reference as torch_reference

        torch.manual_seed(0)
        torch.set_num_threads(2)
        self.arch, self.kind, _ = FAMILIES[name]
        self.x = np.random.default_rng(0).normal(size=SHAPE).astype("float32")
        if self.kind == "classifier":
            model = torch_reference.build(self.arch, classes=10)
            head = model.fc
        else:
            model = torch_reference.TorchDRNSeg(torch_reference.build(self.arch), 19)
            head = model.seg
        model = torch_reference.randomize_bn(model).eval()
        with torch.no_grad():
            scale = LOGIT_SCALE / np.abs(self._torch(model)[self.logits]).max()
            head.weight.mul_(scale)
            head.bias.mul_(scale)
        self.torch_model = model
        self.expected = self._torch(model)
        if self.kind == "classifier":
            self.model = keras_drn.DRN(self.arch, classes=10, classifier_activation=None,
                                       input_shape=(None, None, 3))
        else:
            self.model = keras_drn.DRNSeg(self.arch, classes=19)

    @property
    def logits(self):
        return "logits" if self.kind == "classifier" else "stride-8 logits"

    def _torch(self, model):
        import torch

        from keras_drn.reference.parity import global_pool_logits

        x = torch.from_numpy(self.x.transpose(0, 3, 1, 2))
        with torch.no_grad():
            if self.kind == "classifier":
                return {"logits": global_pool_logits(model, x).numpy()}
            log_probabilities, logits = (t.numpy().transpose(0, 2, 3, 1)
                                         for t in model(x))
        return {"log-probabilities": log_probabilities, "stride-8 logits": logits}

    def state_dict(self):
        return self.torch_model.state_dict()

    def numpy_state(self):
        """As a 2017 file holds it: numpy values, no num_batches_tracked."""
        return collections.OrderedDict(
            (k, v.numpy()) for k, v in self.state_dict().items()
            if not k.endswith("num_batches_tracked")
        )

    def write(self, fmt, path):
        import torch

        if fmt == "zip":
            torch.save(self.state_dict(), path)
        elif fmt == "legacy":
            torch.save(self.state_dict(), path, _use_new_zipfile_serialization=False)
        elif fmt == "tar":
            write_tar(self.numpy_state(), path)
        elif fmt == "py2":
            write_py2_legacy(self.numpy_state(), path)
        elif fmt.startswith("training-"):
            checkpoint = {
                "epoch": 250, "arch": self.arch, "best_prec1": 95.1,
                "state_dict": collections.OrderedDict(
                    ("module." + k, v) for k, v in self.state_dict().items()),
            }
            torch.save(checkpoint, path,
                       _use_new_zipfile_serialization=fmt == "training-zip")
        return path

    def keras_output(self, model=None):
        """The Keras model's outputs, keyed as `_torch`'s."""
        import keras

        from keras_drn.reference.parity import log_softmax

        model = model or self.model
        out = np.asarray(model(self.x, training=False))
        if self.kind == "classifier":
            return {"logits": out}
        stride8 = keras.Model(model.input, model.get_layer("seg").output)
        return {"log-probabilities": log_softmax(out),
                "stride-8 logits": np.asarray(stride8(self.x, training=False))}


_CURRENT: dict[str, Family] = {}


def _family(name: str) -> Family:
    """One family alive at a time (the cases are grouped by family)."""
    pytest.importorskip("torch")
    if name not in _CURRENT:
        _CURRENT.clear()
        _CURRENT[name] = Family(name)
    return _CURRENT[name]


def _scramble(model):
    for variable in model.weights:
        variable.assign(np.zeros(variable.shape, variable.dtype))


@pytest.mark.parametrize("name,fmt", CASES)
def test_keras_equals_torch(name, fmt, tmp_path):
    family = _family(name)
    if fmt == "constructor":
        path = str(family.write("legacy", tmp_path / "release.pth"))
        if family.kind == "classifier":
            model = keras_drn.DRN(family.arch, weights=path, classes=10,
                                  classifier_activation=None, input_shape=(None, None, 3))
        else:
            model = keras_drn.DRNSeg(family.arch, classes=19, weights=path)
    else:
        path = family.write(fmt, tmp_path / f"{family.arch}.pth")
        model = family.model
        _scramble(model)  # so that a load that does nothing cannot pass
        load_weights(model, str(path), arch=family.arch, kind=family.kind)
    outputs = family.keras_output(model)
    assert 5 < np.abs(family.expected[family.logits]).max() <= LOGIT_SCALE + 1e-3
    assert sorted(outputs) == sorted(family.expected)
    for key, got in outputs.items():
        assert got.shape == family.expected[key].shape, key
        diff = np.abs(got - family.expected[key]).max()
        assert diff <= ATOL, f"{name} {fmt}: max |keras - torch| of {key} = {diff:.2e}"
    if fmt == CASES[-1][1] and name == CASES[-1][0]:
        _CURRENT.clear()
