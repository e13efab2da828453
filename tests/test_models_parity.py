"""Numerical parity with an independent PyTorch implementation of the reference
(tests/torch_reference.py), weights copied through the checkpoint name map."""

import numpy as np
import pytest

from keras_drn.models import build_dilation
from keras_drn.models import build_drn
from keras_drn.models import build_drnseg
from keras_drn.models import level_output_names
from keras_drn.weights import assign_caffe_blobs
from keras_drn.weights import assign_state_dict

pytestmark = pytest.mark.torch


def state_dict(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def nchw(x):
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


@pytest.mark.parametrize("arch", ["drn_a_18", "drn_a_50", "drn_b_26", "drn_c_26",
                                  "drn_c_58", "drn_d_22", "drn_d_24", "drn_d_54"])
def test_classifier_matches_reference(arch, torch_reference, rng):
    import torch

    ref = torch_reference.randomize_bn(torch_reference.build(arch, classes=7)).eval()
    model = build_drn(arch, classes=7, classifier_activation=None)
    assign_state_dict(model, state_dict(ref), arch=arch, kind="classifier")
    x = rng.standard_normal((2, 45, 67, 3)).astype("float32")  # odd sizes on purpose
    with torch.no_grad():
        expected = ref(torch.from_numpy(nchw(x))).numpy()
    got = np.asarray(model(x))
    assert np.abs(expected).max() > 0.05
    np.testing.assert_allclose(got, expected, atol=2e-5, rtol=0)


def test_level_outputs_match_reference_levels(torch_reference, rng):
    import keras
    import torch

    arch = "drn_c_26"
    ref = torch_reference.randomize_bn(torch_reference.build(arch)).eval()
    full = build_drn(arch)
    assign_state_dict(full, state_dict(ref), arch=arch, kind="classifier")
    names = level_output_names(arch)
    assert len(names) == 8
    levels = keras.Model(full.input, [full.get_layer(n).output for n in names])
    x = rng.standard_normal((1, 40, 48, 3)).astype("float32")
    outs = levels(x)
    t = torch.from_numpy(nchw(x))
    with torch.no_grad():
        t = ref.relu(ref.bn1(ref.conv1(t)))
        for i, got in enumerate(outs, start=1):
            t = getattr(ref, f"layer{i}")(t)
            np.testing.assert_allclose(np.asarray(got), t.numpy().transpose(0, 2, 3, 1),
                                       atol=2e-5, rtol=0)


@pytest.mark.parametrize("arch", ["drn_d_22", "drn_c_26", "drn_a_18"])
def test_drnseg_matches_reference(arch, torch_reference, rng):
    import torch

    ref = torch_reference.TorchDRNSeg(
        torch_reference.randomize_bn(torch_reference.build(arch)), 19
    ).eval()
    model = build_drnseg(arch, 19)
    assign_state_dict(model, state_dict(ref), arch=arch, kind="segmentation")
    x = rng.standard_normal((1, 48, 72, 3)).astype("float32")
    with torch.no_grad():
        expected = ref(torch.from_numpy(nchw(x))).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(np.asarray(model(x)), expected, atol=2e-5, rtol=0)


def test_batchnorm_training_mode_matches_reference(torch_reference, rng):
    """In training mode both normalise with the batch statistics."""
    import torch

    arch = "drn_d_22"
    ref = torch_reference.randomize_bn(torch_reference.build(arch, classes=5)).train()
    model = build_drn(arch, classes=5, classifier_activation=None)
    assign_state_dict(model, state_dict(ref), arch=arch, kind="classifier")
    x = rng.standard_normal((4, 32, 32, 3)).astype("float32")
    with torch.no_grad():
        expected = ref(torch.from_numpy(nchw(x))).numpy()
    got = np.asarray(model(x, training=True))
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


def test_dilation7_matches_caffe_semantics(torch_reference, rng):
    """KITTI's Dilation7: valid convolutions, ceil-mode pooling at odd sizes, the
    7-layer context module, BGR weights flipped to RGB."""
    import torch

    ref = torch_reference.TorchDilation(11, 7).eval()
    with torch.no_grad():
        for m in ref.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.mul_(0.7)
    model = build_dilation("kitti")
    assign_caffe_blobs(model, ref.blobs())
    x = (rng.random((1, 395, 413, 3)) * 60).astype("float32")  # odd: pools round up
    bgr = x[..., ::-1]
    with torch.no_grad():
        expected = ref(torch.from_numpy(nchw(bgr))).numpy().transpose(0, 2, 3, 1)
    got = np.asarray(model(x))
    # 413 -> 409 -> 205 -> 201 -> 101 -> 95 -> 48 -> 6: three odd sizes round up.
    assert got.shape == expected.shape == (1, 3, 6, 11)
    assert np.abs(expected).max() > 1e-3
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
