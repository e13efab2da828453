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
