"""Keras weights back to the reference's layout: the PyTorch port of the reference
(`keras_drn.reference`) loads them strictly and computes the same outputs (at 40x56:
classifiers through the reference's fc over the torch mean of its stride-8 map, as
drn.py's AvgPool2d(28) needs 224x224; DRNSeg through both outputs of segment.py's
forward)."""

import keras
import numpy as np
import pytest

from keras_drn.models import build_drn
from keras_drn.models import build_drnseg
from keras_drn.reference.parity import global_pool_logits
from keras_drn.reference.parity import log_softmax
from keras_drn.weights import assign_state_dict
from keras_drn.weights import export_state_dict

pytestmark = pytest.mark.torch


def _randomize(model, rng):
    for w in model.weights:
        shape = tuple(w.shape)
        if "variance" in w.path:
            w.assign(0.5 + rng.random(shape).astype("float32"))
        elif "up/kernel" not in w.path:
            w.assign((0.05 * rng.standard_normal(shape)).astype("float32"))


@pytest.mark.parametrize("arch,kind", [("drn_a_18", "classifier"),
                                       ("drn_c_58", "classifier"),
                                       ("drn_d_22", "segmentation")])
def test_reference_loads_exported_weights_strictly(arch, kind, torch_reference, rng):
    import torch

    if kind == "classifier":
        model = build_drn(arch, classes=6, classifier_activation=None)
        ref = torch_reference.build(arch, classes=6).eval()
    else:
        model = build_drnseg(arch, 6)
        ref = torch_reference.TorchDRNSeg(torch_reference.build(arch), 6).eval()
    _randomize(model, rng)
    state = export_state_dict(model, arch=arch, kind=kind)
    ref.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=True)
    x = rng.standard_normal((1, 40, 56, 3)).astype("float32")
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    with torch.no_grad():
        if kind == "classifier":
            pairs = [(np.asarray(model(x)), global_pool_logits(ref, t).numpy())]
        else:
            log_probabilities, logits = (
                v.numpy().transpose(0, 2, 3, 1) for v in ref(t))
            stride8 = keras.Model(model.input, model.get_layer("seg").output)
            pairs = [(log_softmax(np.asarray(model(x))), log_probabilities),
                     (np.asarray(stride8(x)), logits)]
    for got, expected in pairs:
        np.testing.assert_allclose(got, expected, rtol=0,
                                   atol=1e-5 * max(1, np.abs(expected).max()))
    # And back again: the round trip is exact.
    again = build_drn(arch, classes=6, classifier_activation=None) if kind == "classifier" \
        else build_drnseg(arch, 6)
    assign_state_dict(again, state, arch=arch, kind=kind)
    for a, b in zip(model.weights, again.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
