"""Parameter counts against the reference's published figures (drn-facts.md)."""

import numpy as np
import pytest

from keras_drn.models import DRN_CONFIGS
from keras_drn.models import build_drn
from keras_drn.models import build_drnseg

# PyTorch `parameters()` of fyu/drn's models with 1000 classes (drn-facts.md, header):
# conv/fc weights and biases plus BN gamma/beta = Keras trainable weights.
REFERENCE_PARAMS = {
    "drn_a_50": 25_557_032,
    "drn_c_26": 21_126_584,
    "drn_c_42": 31_234_744,
    "drn_c_58": 41_591_608,
    "drn_d_22": 16_393_752,
    "drn_d_24": 21_114_392,
    "drn_d_38": 26_501_912,
    "drn_d_40": 31_222_552,
    "drn_d_54": 35_809_176,
    "drn_d_56": 40_529_816,
    "drn_d_105": 54_801_304,
    "drn_d_107": 59_521_944,
}
# Not in the code, implied by the paper's construction: DRN-A-18/34 are ResNet-18/34
# with dilation, which adds no parameter (torchvision's counts: 11,689,512 and
# 21,797,672); DRN-B-26 only keeps residual connections that C-26 drops, and its levels
# 7-8 need no projection (512 -> 512), so it has C-26's count.
PAPER_PARAMS = {
    "drn_a_18": 11_689_512,
    "drn_a_34": 21_797_672,
    "drn_b_26": 21_126_584,
}
# DRNSeg with 19 classes, keys/params including the frozen up.weight (drn-facts §2.3).
SEG_PARAMS = {
    "drn_d_22": (128, 15_895_363),
    "drn_c_26": (153, 20_628_195),
}


def count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def test_every_configured_model_has_an_expected_count():
    assert set(DRN_CONFIGS) == set(REFERENCE_PARAMS) | set(PAPER_PARAMS)


@pytest.mark.parametrize("arch", sorted({**REFERENCE_PARAMS, **PAPER_PARAMS}))
def test_trainable_parameters(arch):
    expected = {**REFERENCE_PARAMS, **PAPER_PARAMS}[arch]
    model = build_drn(arch)
    assert count(model.trainable_weights) == expected


@pytest.mark.parametrize("arch", sorted(SEG_PARAMS))
def test_drnseg_parameters_and_state_dict_size(arch):
    keys, params = SEG_PARAMS[arch]
    model = build_drnseg(arch, 19)
    up = model.get_layer("up")
    assert count(model.trainable_weights) + count(up.weights) == params
    # Reference state-dict entries: conv weights (1), conv biases, BN (4 each), up (1).
    entries = 0
    for layer in model.layers:
        entries += len(layer.weights)
    assert entries == keys


def test_a18_and_a34_match_the_independent_torch_implementation(torch_reference):
    for arch in ("drn_a_18", "drn_a_34", "drn_b_26"):
        torch_model = torch_reference.build(arch)
        expected = sum(p.numel() for p in torch_model.parameters())
        assert count(build_drn(arch).trainable_weights) == expected


# State-dict entries of the authors' files (drn-facts §2.1: without / with BN's
# num_batches_tracked, which arrived after the 2017 releases).
REFERENCE_KEYS = {
    "drn_a_50": (267, 320), "drn_c_26": (152, 182), "drn_c_42": (232, 278),
    "drn_c_58": (317, 380), "drn_d_22": (127, 152), "drn_d_38": (207, 248),
    "drn_d_54": (287, 344), "drn_d_105": (542, 650),
}


def _meta(torch_reference, build):
    """A port model on PyTorch's meta device: shapes without memory or arithmetic."""
    import torch

    with torch.device("meta"):
        return build(torch_reference)


def _torch_count(net, buffers=False):
    return sum(p.numel() for p in net.parameters()), sum(
        1 for k in net.state_dict() if buffers or not k.endswith("num_batches_tracked"))


def test_the_port_has_every_row_of_drn_py(torch_reference):
    assert set(torch_reference.LAYERS) - set(torch_reference.PAPER_ONLY) == set(
        REFERENCE_PARAMS)
    assert set(torch_reference.PAPER_ONLY) == set(PAPER_PARAMS)


@pytest.mark.parametrize("arch", sorted({**REFERENCE_PARAMS, **PAPER_PARAMS}))
def test_the_port_has_the_published_parameter_counts(arch, torch_reference):
    """drn.py's figures (and the paper's for A-18/34, B-26), and the release files' key
    counts: C-58's 380 include the unused level-7 projection."""
    net = _meta(torch_reference, lambda r: r.build(arch))
    params, keys = _torch_count(net)
    assert params == {**REFERENCE_PARAMS, **PAPER_PARAMS}[arch]
    if arch in REFERENCE_KEYS:
        assert (keys, len(net.state_dict())) == REFERENCE_KEYS[arch]


@pytest.mark.parametrize("arch", sorted(SEG_PARAMS))
def test_the_port_drnseg_has_the_published_counts(arch, torch_reference):
    net = _meta(torch_reference, lambda r: r.TorchDRNSeg(r.build(arch), 19))
    params, keys = _torch_count(net)
    assert (keys, params) == SEG_PARAMS[arch]


def test_c58_keeps_the_unused_level7_projection():
    model = build_drn("drn_c_58")
    carrier = model.get_layer("layer7_0_downsample")
    # 1x1 conv 2048 -> 512 and its BN: part of the count and of the checkpoint.
    assert carrier.conv.kernel.shape == (1, 1, 2048, 512)
    assert count(carrier.trainable_weights) == 2048 * 512 + 2 * 512


def conv_params(k, cin, cout):
    return k * k * cin * cout + cout


# The VGG-16 convolutions hold 14,714,688 parameters (keras.applications.VGG16 with
# include_top=False); the front end adds fc6 (7x7, 512 -> 4096), fc7 and the
# classifier, the context module its layers (prototxt shapes, drn-facts §5.2).
VGG16_CONV_PARAMS = 14_714_688


def dilation_expected(classes, widths, threes):
    front = (VGG16_CONV_PARAMS + conv_params(7, 512, 4096) + conv_params(1, 4096, 4096)
             + conv_params(1, 4096, classes))
    chans = [classes, *widths]
    context = sum(conv_params(3, a, b) for a, b in zip(chans[:threes], chans[1:threes + 1]))
    return front + context + conv_params(1, chans[threes], classes)


@pytest.mark.parametrize("dataset,expected", [
    ("camvid", dilation_expected(11, [11] * 7, 7)),
    ("kitti", dilation_expected(11, [11] * 6, 6)),
    ("pascal_voc", dilation_expected(21, [42, 42, 84, 168, 336, 672, 672], 7)),
])
def test_dilation_parameters(dataset, expected):
    from keras_drn.models import build_dilation

    assert count(build_dilation(dataset).trainable_weights) == expected


def test_the_reference_imports_without_torch():
    """`keras_drn.reference` imports where torch is absent (imports of torch blocked
    here) and says `pip install torch` when a network is asked for."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import keras_drn.reference as r, keras_drn.reference.parity\n"
        "assert not r.torch_available()\n"
        "try:\n    r.build('drn_d_22')\nexcept ImportError as e:\n    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "pip install torch" in result.stdout
