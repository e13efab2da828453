"""Numerical parity with the PyTorch port of the reference (`keras_drn.reference`),
weights copied through the checkpoint name map.

The port is faithful to fyu/drn, so each comparison is with what the reference
computes: classifiers at 224x224 through drn.py's AvgPool2d(28) head; at other sizes
keras_drn's global average pooling against the reference's `fc` over the torch mean of
its stride-8 map; DRNSeg against both outputs of segment.py's forward. Outputs grow
with depth under drn.py's He initialisation and random BN statistics, so tolerances
are relative to the largest output."""

import keras
import numpy as np
import pytest

from keras_drn.models import build_dilation
from keras_drn.models import build_drn
from keras_drn.models import build_drnseg
from keras_drn.models import level_output_names
from keras_drn.reference.parity import log_softmax
from keras_drn.weights import assign_caffe_blobs
from keras_drn.weights import assign_state_dict

pytestmark = pytest.mark.torch
RTOL = 2e-5  # of the largest |output|; measured: ~2e-6 for every architecture


def state_dict(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def nchw(x):
    import torch

    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def nhwc(t):
    return t.detach().numpy().transpose(0, 2, 3, 1)


def assert_close(got, expected, rtol=RTOL):
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(got, expected, atol=rtol * scale, rtol=0)


def _classifier_pair(torch_reference, arch, classes=7):
    ref = torch_reference.randomize_bn(torch_reference.build(arch, classes=classes))
    model = build_drn(arch, classes=classes, classifier_activation=None)
    assign_state_dict(model, state_dict(ref), arch=arch, kind="classifier")
    return ref.eval(), model


# One of each head: DRN_A's AvgPool2d(28, stride=1) + Linear, DRN's AvgPool2d(28) + 1x1
# conv after C's and D's levels 7-8.
@pytest.mark.parametrize("arch", ["drn_a_18", "drn_c_26", "drn_d_22"])
def test_classifier_matches_reference_at_224(arch, torch_reference, rng):
    import torch

    ref, model = _classifier_pair(torch_reference, arch)
    x = rng.standard_normal((1, 224, 224, 3)).astype("float32")
    with torch.no_grad():
        expected = ref(nchw(x)).numpy()  # drn.py's head: the 28x28 map pooled to 1x1
        with pytest.raises(RuntimeError):  # elsewhere the reference's head fails
            ref(nchw(x[:, :45, :67]))
    assert expected.shape == (1, 7) and np.abs(expected).max() > 0.05
    assert_close(np.asarray(model(x)), expected)


@pytest.mark.parametrize("arch", ["drn_a_18", "drn_a_50", "drn_b_26", "drn_c_26",
                                  "drn_c_58", "drn_d_22", "drn_d_24", "drn_d_40",
                                  "drn_d_54", "drn_d_56"])
def test_global_pooling_at_other_sizes_matches_the_torch_mean(arch, torch_reference,
                                                              rng):
    """keras_drn pools globally at any size, where drn.py's AvgPool2d(28) needs 224:
    compared with the reference's fc over the torch mean of its stride-8 map."""
    import torch

    from keras_drn.reference.parity import global_pool_logits

    ref, model = _classifier_pair(torch_reference, arch)
    x = rng.standard_normal((2, 45, 67, 3)).astype("float32")  # odd sizes on purpose
    with torch.no_grad():
        expected = global_pool_logits(ref, nchw(x)).numpy()
    assert np.abs(expected).max() > 0.05
    assert_close(np.asarray(model(x)), expected)


def test_level_outputs_match_reference_levels(torch_reference, rng):
    """The 8 level outputs against drn.py's `out_middle` list (with `out_map`, so that
    no 28x28 pooling is needed)."""
    import torch

    arch = "drn_c_26"
    ref = torch_reference.randomize_bn(
        torch_reference.build(arch, out_map=True, out_middle=True)).eval()
    full = build_drn(arch)
    assign_state_dict(full, state_dict(ref), arch=arch, kind="classifier")
    names = level_output_names(arch)
    assert len(names) == 8
    levels = keras.Model(full.input, [full.get_layer(n).output for n in names])
    x = rng.standard_normal((1, 40, 48, 3)).astype("float32")
    with torch.no_grad():
        _, expected = ref(nchw(x))
    assert len(expected) == 8
    for got, want in zip(levels(x), expected):
        assert_close(np.asarray(got), nhwc(want))


@pytest.mark.parametrize("arch", ["drn_d_22", "drn_c_26", "drn_a_18"])
def test_drnseg_matches_reference(arch, torch_reference, rng):
    """segment.py's forward returns (log-softmax of the x8 upsampled logits, the
    stride-8 logits): the log-softmax of ours against the first, our `seg` layer's
    output against the second."""
    import torch

    ref = torch_reference.TorchDRNSeg(
        torch_reference.randomize_bn(torch_reference.build(arch)), 19
    ).eval()
    model = build_drnseg(arch, 19)
    assign_state_dict(model, state_dict(ref), arch=arch, kind="segmentation")
    x = rng.standard_normal((1, 48, 72, 3)).astype("float32")
    with torch.no_grad():
        log_probabilities, logits = (nhwc(t) for t in ref(nchw(x)))
    assert log_probabilities.shape == (1, 48, 72, 19) and logits.shape == (1, 6, 9, 19)
    stride8 = keras.Model(model.input, model.get_layer("seg").output)
    assert_close(np.asarray(stride8(x)), logits)
    ours = np.asarray(model(x))
    assert_close(log_softmax(ours), log_probabilities, rtol=RTOL * 2)


def test_batchnorm_training_mode_matches_reference(torch_reference, rng):
    """In training mode both normalise with the batch statistics (at 32x32, where
    keras_drn's global pooling is compared with the torch mean of the stride-8 map)."""
    import torch

    from keras_drn.reference.parity import global_pool_logits

    arch = "drn_d_22"
    ref = torch_reference.randomize_bn(torch_reference.build(arch, classes=5)).train()
    model = build_drn(arch, classes=5, classifier_activation=None)
    assign_state_dict(model, state_dict(ref), arch=arch, kind="classifier")
    x = rng.standard_normal((4, 32, 32, 3)).astype("float32")
    with torch.no_grad():
        expected = global_pool_logits(ref, nchw(x)).numpy()
    got = np.asarray(model(x, training=True))
    assert_close(got, expected, rtol=1e-4)


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
        expected = nhwc(ref(nchw(bgr)))
    got = np.asarray(model(x))
    # 413 -> 409 -> 205 -> 201 -> 101 -> 95 -> 48 -> 6: three odd sizes round up.
    assert got.shape == expected.shape == (1, 3, 6, 11)
    assert np.abs(expected).max() > 1e-3
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
